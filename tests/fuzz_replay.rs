//! Replays every committed fuzz finding (`fuzz/regressions/<target>/`) through the same
//! function the fuzz target calls (`fuzz/src/lib.rs`, included here as a module), on the
//! stable toolchain, so a regression fails `cargo test` without a fuzzer. Each input must
//! complete or be refused clearly (the shared functions panic otherwise); a file named
//! `too-costly-*` must be refused with the too-costly issue, naming the limit. No corpus
//! needed: the regressions are our own inputs.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzzing;

use eps_translator::error::IssueCode;
use fuzzing::Outcome;
use std::path::Path;

/// What one input does at a fuzz target: the outcomes of the entry points it goes through.
type Run = fn(&[u8]) -> Vec<Outcome>;

/// The fuzz targets, by name.
const TARGETS: &[(&str, Run)] = &[
    ("convert", |d| vec![fuzzing::convert(d)]),
    ("prepare", |d| vec![fuzzing::prepare_one(d)]),
    ("to_fhir", |d| vec![fuzzing::to_fhir(d)]),
    ("c14n", |d| fuzzing::c14n(d).into_iter().collect()),
    ("verify", |d| vec![fuzzing::verify(d)]),
    ("bundle_signature", |d| fuzzing::bundle_signature(d).into()),
    ("bundle_json", |d| fuzzing::bundle_json(d).into()),
];

fn regressions() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions")
}

#[test]
fn every_committed_fuzz_finding_completes_or_is_refused_clearly() {
    let mut replayed = 0;
    for dir in std::fs::read_dir(regressions()).expect("fuzz/regressions exists") {
        let dir = dir.unwrap().path();
        let target = dir.file_name().unwrap().to_str().unwrap().to_string();
        let run = TARGETS
            .iter()
            .find(|(name, _)| *name == target)
            .unwrap_or_else(|| panic!("fuzz/regressions/{target}: no such fuzz target"))
            .1;
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|f| f.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let name = file.file_name().unwrap().to_str().unwrap().to_string();
            let data = std::fs::read(&file).unwrap();
            let outcomes = run(&data);
            assert!(
                !outcomes.is_empty(),
                "{target}/{name}: the input reached no entry point"
            );
            if name.starts_with("too-costly-") {
                assert!(
                    outcomes
                        .iter()
                        .all(|o| *o == Outcome::Refused(IssueCode::TooCostly)),
                    "{target}/{name}: expected a too-costly refusal, got {outcomes:?}"
                );
            }
            println!("{target}/{name}: {outcomes:?}");
            replayed += 1;
        }
    }
    // The known reproducers alone are nine; fewer means the directory was not found whole.
    assert!(replayed >= 9, "only {replayed} regressions replayed");
}

#[test]
fn the_c14n_header_gives_mode_selection_prefixes_and_bindings() {
    let r = fuzzing::C14nRequest::parse(b"1//ds:SignedInfo|#default p|ds=urn:x q\n<a/>").unwrap();
    assert_eq!(r.mode, eps_translator::c14n::Mode::ExclusiveWithComments);
    assert_eq!(r.subtree, Some("//ds:SignedInfo"));
    assert_eq!(r.prefixes, ["#default", "p"]);
    assert_eq!(
        r.namespaces,
        [
            ("ds".to_string(), "urn:x".to_string()),
            ("q".to_string(), String::new())
        ]
    );
    assert_eq!(r.document, "<a/>");
    let whole = fuzzing::C14nRequest::parse(b"2<a/>").unwrap();
    assert_eq!(whole.mode, eps_translator::c14n::Mode::Inclusive);
    assert_eq!((whole.subtree, whole.document), (None, "<a/>"));
    assert!(fuzzing::C14nRequest::parse(b"0\n\xff").is_none());
}

#[test]
fn a_signature_in_the_minimal_bundle_reaches_the_translation() {
    // The embedded-signature target's Bundle is a valid prescription: a well-formed
    // signature document lets it translate, so fuzzed signatures are judged by the
    // signature rules rather than refused for the Bundle around them.
    let signature = "<Signature xmlns='http://www.w3.org/2000/09/xmldsig#'><SignedInfo/>\
         <SignatureValue>AA==</SignatureValue></Signature>";
    let outcomes = fuzzing::bundle_signature(signature.as_bytes());
    assert_eq!(outcomes, [Outcome::Completed, Outcome::Completed]);
}
