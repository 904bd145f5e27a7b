//! Per-stage benchmarks of HL7 v3 → FHIR: parse (bounded roxmltree), translate (the JSON
//! value), write (pretty JSON), and end to end, on `full_successful_release.xml` (314 KB,
//! 20 prescriptions) and one corpus send message. Throughput is input bytes.
//!
//! Inputs come from `../shared` (or `$EPS_SHARED_DIR`); without it there is nothing to run.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eps_translator::to_fhir;
use std::hint::black_box;
use std::path::{Path, PathBuf};

fn inputs() -> Vec<(&'static str, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = std::env::var_os("EPS_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"));
    let files = [
        ("full_successful_release", "eps-release-responses/full_successful_release.xml"),
        ("one_parent_prescription", "eps-examples/primary-care/acute/nominated-pharmacy/medical-prescriber/1-Convert-Response-Send-200_OK.xml"),
    ];
    files
        .iter()
        .filter_map(|(name, rel)| {
            std::fs::read_to_string(shared.join(rel))
                .ok()
                .map(|t| (*name, t))
        })
        .collect()
}

fn stages(c: &mut Criterion) {
    let inputs = inputs();
    if inputs.is_empty() {
        eprintln!("to_fhir bench: the shared corpus is absent; nothing to measure");
        return;
    }
    let mut group = c.benchmark_group("to_fhir");
    for (name, text) in &inputs {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("parse", name), text, |b, t| {
            b.iter(|| to_fhir::xml::parse(black_box(t)).unwrap())
        });
        let doc = to_fhir::xml::parse(text).unwrap();
        group.bench_with_input(BenchmarkId::new("translate", name), &doc, |b, d| {
            b.iter(|| to_fhir::translate(black_box(d)).unwrap())
        });
        let value = to_fhir::translate(&doc).unwrap();
        group.bench_with_input(BenchmarkId::new("write", name), &value, |b, v| {
            b.iter(|| to_fhir::write(black_box(v)))
        });
        group.bench_with_input(BenchmarkId::new("end_to_end", name), text, |b, t| {
            b.iter(|| to_fhir::to_fhir(black_box(t.as_bytes())).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
