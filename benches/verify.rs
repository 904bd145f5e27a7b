//! Signature verification: one prescription (`release_success.xml`) and the 20 of
//! `full_successful_release.xml`, with the test sub-CA loaded once as the anchor; per stage
//! for the single prescription (parse, then the checks). Throughput is input bytes.
//!
//! Revocation (`verify_revocation`): 20 prescriptions signed in the bench under the test PKI
//! (tests/verify_support), as a searchset Bundle and one of them as an HL7 v3 send message,
//! verified with revocation off, and under `require` with the CRLs cached — parsed once and
//! held as the fetcher's cache hands them over: the root's ARL and the sub-CA's CRL listing
//! 10,000 other serial numbers.
//!
//! Inputs come from `../shared` (or `$EPS_SHARED_DIR`); without it there is nothing to run.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eps_translator::datetime::Instant;
use eps_translator::verify::{self, Trust};
use std::hint::black_box;
use std::path::{Path, PathBuf};

#[path = "../tests/verify_support/mod.rs"]
mod verify_support;

fn shared() -> PathBuf {
    std::env::var_os("EPS_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

fn verification(c: &mut Criterion) {
    let shared = shared();
    let Ok(anchor) =
        std::fs::read(shared.join("eps-signatures/certificates/NHS_INT_Level1D_Base64_pem.cer"))
    else {
        eprintln!("verify bench: the shared corpus is absent; nothing to measure");
        return;
    };
    let mut trust = Trust::new();
    trust.add_anchors(&anchor).expect("the test sub-CA parses");
    let at = Instant::parse_rfc3339("2024-12-09T11:50:04Z").unwrap();
    let mut group = c.benchmark_group("verify");
    for name in ["release_success", "full_successful_release"] {
        let path = shared.join(format!("eps-release-responses/{name}.xml"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("end_to_end", name), &text, |b, t| {
            b.iter(|| verify::verify_hl7v3(black_box(t), &trust, at).unwrap())
        });
        let doc = eps_translator::to_fhir::xml::parse(&text).unwrap();
        let parents = verify::message::prescriptions(&doc).unwrap();
        group.bench_with_input(BenchmarkId::new("checks", name), &parents, |b, ps| {
            b.iter(|| {
                ps.iter()
                    .map(|p| verify::verify_prescription(*p, &trust, at))
                    .collect::<Vec<_>>()
            })
        });
    }
    group.finish();
}

fn revocation(c: &mut Criterion) {
    use verify::RevocationPolicy;
    use verify_support::*;
    let shared = shared();
    let Ok(bundle) = std::fs::read(shared.join(
        "eps-examples/primary-care/acute/nominated-pharmacy/medical-prescriber/1-Process-Request-Send-200_OK.json",
    )) else {
        eprintln!("verify bench: the shared corpus is absent; nothing to measure");
        return;
    };
    let pki = pki();
    let signed = sign_bundle(&bundle, &pki.signer_key, &pki.signer);
    let send = convert(&signed);
    let one: serde_json::Value = serde_json::from_slice(&signed).unwrap();
    let release = serde_json::to_vec(&serde_json::json!({
        "resourceType": "Bundle", "type": "searchset",
        "entry": (0..20).map(|_| serde_json::json!({"resource": one})).collect::<Vec<_>>(),
    }))
    .unwrap();
    let others: Vec<rcgen::RevokedCertParams> = (0..10_000u64)
        .map(|i| rcgen::RevokedCertParams {
            serial_number: rcgen::SerialNumber::from(1_000_000 + i),
            revocation_time: time::macros::datetime!(2025-01-01 0:00 UTC),
            reason_code: Some(rcgen::RevocationReason::KeyCompromise),
            invalidity_date: None,
        })
        .collect();
    let mut cached = pki.trust_without_crls();
    let [root_arl, _] = pki.good_crls();
    cached.add_crls(&root_arl.1, root_arl.0).unwrap();
    cached
        .add_crls(
            &crl(&pki.sub_ca, &pki.sub_key, others, CRL_WINDOW),
            "sub-CA CRL",
        )
        .unwrap();
    cached.policy.revocation = RevocationPolicy::Require;
    let mut off = pki.trust_without_crls();
    off.policy.revocation = RevocationPolicy::Off;
    let at = checked_at();
    assert!(verify::verify(&release, &cached, at).unwrap().is_valid());
    let mut group = c.benchmark_group("verify_revocation");
    for (label, trust) in [("off", &off), ("crls_cached", &cached)] {
        group.bench_function(BenchmarkId::new("send_message", label), |b| {
            b.iter(|| verify::verify_hl7v3(black_box(&send), trust, at).unwrap())
        });
        group.bench_function(BenchmarkId::new("release_of_20", label), |b| {
            b.iter(|| verify::verify(black_box(&release), trust, at).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, verification, revocation);
criterion_main!(benches);
