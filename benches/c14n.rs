//! Canonicalisation throughput (MB/s) over a large real document: the 20-prescription release
//! response from the shared corpus when present, else a bundled golden HL7 v3 message.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eps_translator::c14n::{canonicalize, Mode, Options};
use std::hint::black_box;
use std::path::{Path, PathBuf};

fn input() -> (String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = std::env::var_os("EPS_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"));
    let release = shared.join("eps-release-responses/full_successful_release.xml");
    match std::fs::read_to_string(&release) {
        Ok(text) => ("full_successful_release".into(), text),
        Err(_) => (
            "golden_repeat_dispensing".into(),
            std::fs::read_to_string(root.join("golden/convert/repeat_dispensing.xml")).unwrap(),
        ),
    }
}

fn bench(c: &mut Criterion) {
    let (name, text) = input();
    let mut group = c.benchmark_group("c14n");
    group.throughput(Throughput::Bytes(text.len() as u64));
    for mode in [Mode::Exclusive, Mode::Inclusive] {
        let options = Options::new(mode);
        group.bench_function(format!("{}/{name}", mode.cli_name()), |b| {
            b.iter(|| canonicalize(black_box(&text), &options).unwrap())
        });
    }
    // The canonicaliser alone, over an already parsed document.
    let normalized = eps_translator::c14n::normalize_line_ends(&text);
    let doc = eps_translator::c14n::parse_document(&normalized).unwrap();
    group.bench_function(format!("exc_of_parsed/{name}"), |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(text.len());
            eps_translator::c14n::canonicalize_node(doc.root(), Mode::Exclusive, &[], &mut out)
                .unwrap();
            out
        })
    });
    group.bench_function(format!("parse_only/{name}"), |b| {
        b.iter(|| {
            eps_translator::c14n::parse_document(black_box(&normalized))
                .unwrap()
                .root()
                .children()
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
