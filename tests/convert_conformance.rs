//! Convert conformance against the reference corpus: every Send and Cancel request in
//! `eps-examples` must give the golden XML byte for byte, and every variant in
//! `eps-oracle/variants` must give the reference's bytes or refusal — except the reference
//! defects listed in `DEVIATIONS` (see docs/deviations.md).

mod common;

use eps_translator::translate::convert;
use std::collections::BTreeMap;

const CONVERT_NOW: &str = "2022-02-01T00:00:00Z";

/// Variants where we deliberately differ from the reference, and why.
const DEVIATIONS: &[(&str, &str)] = &[
    ("send-repeat/note-002", "a literal '&amp;' in additional instructions is kept as written, not turned into '&'"),
    ("send-homecare/addl-instr-002", "a literal '&amp;' in additional instructions is kept as written, not turned into '&'"),
    ("send-homecare/addl-instr-003", "a literal '&amp;' in additional instructions is kept as written, not turned into '&'"),
    ("send-repeat/ctrl-chars-001", "a vertical tab / form feed in text is not XML 1.0: refused, not written raw"),
    ("send-repeat/ctrl-chars-003", "NUL is not XML 1.0: refused, not written raw"),
    ("send-multi/ctrl-chars-002", "U+FFFE is not XML 1.0: refused, not written raw"),
    ("send-multi/ctrl-chars-003", "U+001F is not XML 1.0: refused, not written raw"),
    ("send-homecare/ctrl-chars-001", "a lone surrogate is not a character: refused, not replaced"),
    ("send-repeat/datetime-005", "a leap second is refused, not written as 'Invalid date'"),
    ("send-repeat/dup-mr-002", "validation always runs: the reference's own validator rejects duplicate item ids"),
    ("send-repeat/drop-006", "validation always runs: the reference's own validator rejects a primary-care organisation without partOf"),
    ("send-multi/datetime-003", "validation always runs: the reference's own validator rejects disagreeing authoredOn"),
    ("cancel/dup-mr-001", "validation always runs: the reference's own validator rejects two MedicationRequests in a cancellation"),
];

fn corpus_send_and_cancel_goldens_are_reproduced_byte_for_byte() {
    let Some(shared) = common::shared_dir("corpus convert conformance") else {
        return;
    };
    let pairs = common::convert_pairs(&shared);
    let ctx = common::corpus_context(CONVERT_NOW);
    let (mut passed, mut failures) = (0, Vec::new());
    for (request, golden) in &pairs {
        let Ok(expected) = std::fs::read_to_string(golden) else {
            continue;
        };
        match convert(&std::fs::read(request).unwrap(), &ctx) {
            Ok(t) if t.xml == expected => passed += 1,
            Ok(t) => failures.push(format!(
                "{}: {}",
                golden.display(),
                common::first_difference(&t.xml, &expected)
            )),
            Err(e) => failures.push(format!("{}: refused: {e}", request.display())),
        }
    }
    println!("corpus convert: {passed} passed, {} failed", failures.len());
    assert!(
        passed >= 41,
        "expected the 41 corpus goldens, found {passed} passing"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn variants_match_the_reference_except_listed_defects() {
    let Some(shared) = common::shared_dir("variant convert conformance") else {
        return;
    };
    let dir = shared.join("eps-oracle/variants");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let deviations: BTreeMap<&str, &str> = DEVIATIONS.iter().copied().collect();
    let ctx = common::corpus_context(CONVERT_NOW);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut seen_deviations = Vec::new();
    for v in index["variants"].as_array().unwrap() {
        let key = format!(
            "{}/{}",
            v["base"].as_str().unwrap(),
            v["name"].as_str().unwrap()
        );
        let input = std::fs::read(dir.join(format!("{key}.json"))).unwrap();
        let expected = std::fs::read_to_string(dir.join(format!("{key}.xml"))).ok();
        let ours = convert(&input, &ctx);
        let same = match (&ours, &expected) {
            (Ok(t), Some(e)) => t.xml.strip_suffix('\n') == Some(e.as_str()),
            (Err(_), None) => true,
            _ => false,
        };
        if let Some(why) = deviations.get(key.as_str()) {
            assert!(!same, "{key} is listed as a deviation ({why}) but now matches the reference: remove it from the list");
            seen_deviations.push(key);
            *counts.entry("documented deviation").or_default() += 1;
        } else if same {
            *counts
                .entry(if expected.is_some() {
                    "identical bytes"
                } else {
                    "both refuse"
                })
                .or_default() += 1;
        } else {
            let what = match (&ours, &expected) {
                (Ok(t), Some(e)) => common::first_difference(&t.xml, e),
                (Ok(_), None) => "we convert, the reference refuses".to_string(),
                (Err(r), _) => format!("we refuse: {r}"),
            };
            failures.push(format!("{key}: {what}"));
        }
    }
    println!("variants: {counts:?}, {} failed", failures.len());
    assert_eq!(
        seen_deviations.len(),
        DEVIATIONS.len(),
        "a listed deviation names no variant"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn refused_variants_name_a_fhirpath() {
    let Some(shared) = common::shared_dir("variant refusals") else {
        return;
    };
    let dir = shared.join("eps-oracle/variants");
    for (key, _) in DEVIATIONS.iter().filter(|(_, why)| why.contains("refused")) {
        let input = std::fs::read(dir.join(format!("{key}.json"))).unwrap();
        let err = convert(&input, &common::corpus_context(CONVERT_NOW)).expect_err(key);
        let path = err.issues[0].expression.as_deref().unwrap_or("");
        assert!(
            path.starts_with("Bundle.entry["),
            "{key}: refusal names no FHIRPath: {err}"
        );
    }
}

fn main() -> std::process::ExitCode {
    use common::Needs;
    common::run_suite(
        "convert_conformance",
        &[
            (
                "corpus_send_and_cancel_goldens_are_reproduced_byte_for_byte",
                Needs::Corpus,
                corpus_send_and_cancel_goldens_are_reproduced_byte_for_byte,
            ),
            (
                "variants_match_the_reference_except_listed_defects",
                Needs::Corpus,
                variants_match_the_reference_except_listed_defects,
            ),
            (
                "refused_variants_name_a_fhirpath",
                Needs::Corpus,
                refused_variants_name_a_fhirpath,
            ),
        ],
    )
}
