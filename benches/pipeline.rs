//! Per-stage benchmarks of the FHIR → HL7 v3 pipeline as convert and prepare run it: drop
//! the indentation, parse (the unindented text), not-carried report (likewise), translate,
//! write, canonical fragments, digest; and the end-to-end convert and prepare. Throughput is reported in input
//! bytes, so results read as MB/s.
//!
//! Inputs: the bundled golden Bundles, plus the largest corpus prescription when
//! `../shared` (or `$EPS_SHARED_DIR`) is present. The dispensing messages (release request,
//! return, withdrawal, dispense notification and its amendment, claim, its amendment and a
//! repeat dispensing claim) are measured end to end, one per kind, from `golden/rules`.

// The allocator the binary and the service run with (see src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eps_translator::datetime::Instant;
use eps_translator::fhir::Bundle;
use eps_translator::signing::{fragments, prepare, DigestAlgorithm};
use eps_translator::translate::{convert, translate_bundle};
use eps_translator::Context;
use std::hint::black_box;
use std::path::{Path, PathBuf};

fn inputs() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<(String, PathBuf)> = vec![
        (
            "acute_minimal".into(),
            root.join("golden/convert/acute_minimal.json"),
        ),
        (
            "repeat_dispensing".into(),
            root.join("golden/convert/repeat_dispensing.json"),
        ),
    ];
    let shared = std::env::var_os("EPS_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"));
    let corpus = [
        ("corpus_homecare_4_items", "eps-examples/secondary-care/homecare/acute/nominated-pharmacy/concurrent-dosage-instructions/1-Prepare-Request-200_OK.json"),
        // The largest Send Bundle of the corpus (34 KB): the benchmark target.
        ("corpus_largest_send", "eps-examples/primary-care/acute/nominated-pharmacy/medical-prescriber/3-Process-Request-Multiple-DosageInstructions-Send_200_OK.json"),
    ];
    for (name, rel) in corpus {
        let path = shared.join(rel);
        if path.exists() {
            files.push((name.into(), path));
        }
    }
    files
        .into_iter()
        .map(|(n, p)| (n, std::fs::read(p).expect("bench input")))
        .collect()
}

fn context() -> Context {
    Context::new(Instant::parse_rfc3339("2022-02-01T00:00:00Z").unwrap())
}

fn stages(c: &mut Criterion) {
    let ctx = context();
    for (name, bytes) in inputs() {
        let text = std::str::from_utf8(&bytes).unwrap();
        let mut group = c.benchmark_group("stage");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("drop_indentation", &name), text, |b, t| {
            b.iter(|| {
                let mut buffer = String::new();
                eps_translator::fhir::without_indentation(black_box(t), &mut buffer).len()
            })
        });
        let mut buffer = String::new();
        let compact = eps_translator::fhir::without_indentation(text, &mut buffer);
        group.bench_with_input(BenchmarkId::new("parse", &name), compact, |b, t| {
            b.iter(|| Bundle::parse(black_box(t)).unwrap())
        });
        let bundle = Bundle::parse(compact).unwrap();
        group.bench_with_input(
            BenchmarkId::new("not_carried_report", &name),
            compact,
            |b, t| b.iter(|| eps_translator::translate::report::not_carried(black_box(t))),
        );
        group.bench_function(BenchmarkId::new("translate", &name), |b| {
            b.iter(|| translate_bundle(&bundle, text, &ctx).unwrap())
        });
        let tree = translate_bundle(&bundle, text, &ctx).unwrap().root;
        group.bench_function(BenchmarkId::new("write_pretty", &name), |b| {
            b.iter(|| eps_translator::hl7v3::writer::write_document(black_box(&tree)))
        });
        let parent = fragments::parent_prescription(&tree).unwrap();
        group.bench_function(BenchmarkId::new("canonical_fragments", &name), |b| {
            b.iter(|| fragments::canonical_fragments(black_box(parent)).unwrap())
        });
        let canonical = fragments::canonical_fragments(parent).unwrap();
        group.bench_function(BenchmarkId::new("digest_sha256", &name), |b| {
            b.iter(|| DigestAlgorithm::Sha256.hash(black_box(&canonical)))
        });
        group.finish();

        let mut group = c.benchmark_group("end_to_end");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("convert", &name), &bytes, |b, input| {
            b.iter(|| convert(black_box(input), &ctx).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("prepare_sha256", &name),
            &bytes,
            |b, input| b.iter(|| prepare(black_box(input), DigestAlgorithm::Sha256, &ctx).unwrap()),
        );
        group.finish();
    }
}

/// End-to-end convert of each dispensing message kind.
fn dispensing(c: &mut Criterion) {
    let ctx = context();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/rules");
    let mut group = c.benchmark_group("dispensing_end_to_end");
    for (kind, file) in [
        ("release_nominated", "release_nominated.json"),
        ("release_patient", "release_patient.json"),
        ("return", "return_basic.json"),
        ("withdraw", "withdraw_basic.json"),
        ("dispense_notification", "dispense_two_line_items.json"),
        (
            "dispense_amendment",
            "dispense_amendment_replaces_message.json",
        ),
        ("claim", "claim_two_line_items.json"),
        (
            "claim_amendment",
            "claim_amendment_replaces_earlier_claim.json",
        ),
        (
            "claim_repeat_dispensing",
            "claim_repeat_information_on_item_and_line_items.json",
        ),
    ] {
        let bytes = std::fs::read(root.join(file)).expect("bench input");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("convert", kind), &bytes, |b, input| {
            b.iter(|| convert(black_box(input), &ctx).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, stages, dispensing);
criterion_main!(benches);
