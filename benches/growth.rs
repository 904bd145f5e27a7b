//! How cost grows with size, per hostile input family (`tests/hostile/mod.rs`): each family
//! at sizes n, 2n and 4n (under the parsers' limits) through the entry points that read
//! it. `tools/growth-ratios.py` prints the cost ratio of each doubling from criterion's
//! results; linear cost shows as ratios near 2.
//!
//! `cargo bench --bench growth` (quick settings: 10 samples, 1 s per size).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use eps_translator::c14n::{canonicalize, Mode, Options};
use eps_translator::signing::{prepare, DigestAlgorithm};
use eps_translator::translate::convert;
use eps_translator::Context;
use std::hint::black_box;
use std::time::Duration;

#[path = "../tests/hostile/mod.rs"]
mod hostile;

fn context() -> Context {
    Context::new(eps_translator::datetime::Instant::parse_rfc3339("2022-02-01T00:00:00Z").unwrap())
}

fn c14n(xml: &str, mode: Mode, subtree: Option<&str>, prefixes: &[String]) {
    let opts = Options {
        mode,
        inclusive_prefixes: prefixes.to_vec(),
        subtree,
        namespaces: Vec::new(),
    };
    let _ = black_box(canonicalize(xml, &opts));
}

fn to_fhir(xml: &str) {
    let _ = black_box(eps_translator::to_fhir::to_fhir(xml.as_bytes()));
}

fn convert_bundle(bundle: &[u8]) {
    let _ = black_box(convert(bundle, &context()));
}

fn prepare_bundle(bundle: &[u8]) {
    let _ = black_box(prepare(bundle, DigestAlgorithm::Sha256, &context()));
}

/// One family through one entry point at sizes `n`, `2n`, `4n`: group `growth-FAMILY-ENTRY`.
fn family<T>(
    c: &mut Criterion,
    name: &str,
    entry: &str,
    n: usize,
    make: impl Fn(usize) -> T,
    run: impl Fn(&T),
) {
    let mut group = c.benchmark_group(format!("growth-{name}-{entry}"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for size in [n, 2 * n, 4 * n] {
        let input = make(size);
        group.bench_with_input(BenchmarkId::from_parameter(size), &input, |b, input| {
            b.iter(|| run(input))
        });
    }
    group.finish();
}

fn xml_families(c: &mut Criterion) {
    use hostile::*;
    let exc = |x: &String| c14n(x, Mode::Exclusive, None, &[]);
    let inc = |x: &String| c14n(x, Mode::Inclusive, None, &[]);
    family(c, "namespaces", "c14n-inclusive", 200, namespaces, inc);
    family(c, "namespaces", "to-fhir", 200, namespaces, |x| to_fhir(x));
    family(
        c,
        "namespaces",
        "convert",
        200,
        |n| bundle_signed_with(&namespaces(n)),
        |b| convert_bundle(b),
    );
    // 60 / 120 / 240 attributes and the namespace declaration: under the 256 per element.
    family(c, "attributes", "c14n-exclusive", 60, attributes, exc);
    family(c, "attributes", "to-fhir", 60, attributes, |x| to_fhir(x));
    family(
        c,
        "dtd-defaults",
        "c14n-inclusive",
        1_000,
        // Ten defaults on each element: the canonical form stays under its size limit.
        |n| dtd_defaults(10, n),
        inc,
    );
    family(c, "depth", "c14n-exclusive", 30, nested, exc);
    family(c, "depth", "to-fhir", 30, nested, |x| to_fhir(x));
    family(
        c,
        "long-strings",
        "c14n-exclusive",
        250_000,
        long_strings,
        exc,
    );
    family(c, "long-strings", "to-fhir", 250_000, long_strings, |x| {
        to_fhir(x)
    });
    family(c, "xpath-a-b", "c14n-exclusive", 1_000, chains, |x| {
        c14n(x, Mode::Exclusive, Some("//a//b"), &[])
    });
    family(c, "prefix-list", "c14n-exclusive", 5_000, prefixes, |p| {
        c14n(&hostile::namespaces(100), Mode::Exclusive, None, p)
    });
}

fn json_families(c: &mut Criterion) {
    use hostile::*;
    family(c, "wide-arrays", "convert", 25_000, wide_arrays, |b| {
        convert_bundle(b)
    });
    family(c, "wide-arrays", "prepare", 25_000, wide_arrays, |b| {
        prepare_bundle(b)
    });
    family(c, "deep-arrays", "convert", 30, deep_arrays, |b| {
        convert_bundle(b)
    });
    family(c, "many-entries", "convert", 2_500, many_entries, |b| {
        convert_bundle(b)
    });
    family(c, "many-entries", "prepare", 2_500, many_entries, |b| {
        prepare_bundle(b)
    });
    family(c, "line-items", "convert", 100, many_line_items, |b| {
        convert_bundle(b)
    });
    family(c, "line-items", "prepare", 100, many_line_items, |b| {
        prepare_bundle(b)
    });
}

criterion_group!(benches, xml_families, json_families);
criterion_main!(benches);
