//! Signature verification: one prescription (`release_success.xml`) and the 20 of
//! `full_successful_release.xml`, with the test sub-CA loaded once as the anchor; per stage
//! for the single prescription (parse, then the checks). Throughput is input bytes.
//!
//! Inputs come from `../shared` (or `$EPS_SHARED_DIR`); without it there is nothing to run.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eps_translator::datetime::Instant;
use eps_translator::verify::{self, Trust};
use std::hint::black_box;
use std::path::{Path, PathBuf};

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

criterion_group!(benches, verification);
criterion_main!(benches);
