//! `$prepare` conformance: the corpus' Prepare request/response pairs (SHA-256 and the one
//! SHA-1 pair), the reference's SHA-1 outputs and canonical fragments in `eps-oracle`, and
//! the variants' digests and fragments — except listed reference defects.

mod common;

use eps_translator::signing::{prepare, DigestAlgorithm};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const SIGNING_TIME: &str = "2024-12-09T11:50:04+00:00";

/// Variants whose digest or fragments deliberately differ from the reference's.
const DEVIATIONS: &[(&str, &str)] = &[
    ("send-repeat/ctrl-chars-002", "U+2028/U+2029 are kept in the hashed fragments, as an XML 1.0 verifier keeps them"),
    ("send-multi/ctrl-chars-001", "U+0085 is kept in the hashed fragments, as an XML 1.0 verifier keeps it"),
    ("send-repeat/note-002", "a literal '&amp;' in additional instructions is kept as written (so it is hashed as written)"),
    ("send-homecare/addl-instr-002", "a literal '&amp;' in additional instructions is kept as written (so it is hashed as written)"),
    ("send-homecare/addl-instr-003", "a literal '&amp;' in additional instructions is kept as written (so it is hashed as written)"),
];

fn parameters(v: &Value) -> BTreeMap<String, String> {
    v["parameter"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or("").to_string(),
                        p["valueString"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn run(
    request: &Path,
    algorithm: DigestAlgorithm,
    now: &str,
) -> Result<eps_translator::signing::Prepared, String> {
    prepare(
        &std::fs::read(request).unwrap(),
        algorithm,
        &common::corpus_context(now),
    )
    .map_err(|e| e.to_string())
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn corpus_prepare_pairs_give_the_reference_parameters() {
    let Some(shared) = common::shared_dir("prepare conformance") else {
        return;
    };
    let requests = common::find_files(&shared.join("eps-examples"), &|n| {
        n.ends_with("-Prepare-Request-200_OK.json")
    });
    let mut failures = Vec::new();
    let mut passed = 0;
    for request in &requests {
        let response = common::prepare_response(request);
        match run(request, DigestAlgorithm::Sha256, SIGNING_TIME) {
            Ok(p) => {
                let ours: Value = serde_json::from_str(&p.parameters_json).unwrap();
                if parameters(&ours) == parameters(&read_json(&response))
                    && ours["resourceType"] == "Parameters"
                {
                    passed += 1;
                } else {
                    failures.push(format!("{}: parameters differ", request.display()));
                }
            }
            Err(e) => failures.push(format!("{}: refused: {e}", request.display())),
        }
    }
    // The one SHA-1 example, made by the reference with its own "now".
    let sha1_dir =
        shared.join("eps-examples/primary-care/acute/nominated-pharmacy/medical-prescriber");
    let p = run(
        &sha1_dir.join("Prepare-Request-Multiple-Dosages-200_OK.json"),
        DigestAlgorithm::Sha1,
        "2022-10-21T13:47:00+00:00",
    )
    .expect("SHA-1 multiple dosages example prepares");
    let ours: Value = serde_json::from_str(&p.parameters_json).unwrap();
    assert_eq!(
        parameters(&ours),
        parameters(&read_json(
            &sha1_dir.join("Prepare-Response-Multiple-Dosages-200_OK.json")
        ))
    );
    println!(
        "corpus prepare: {passed} SHA-256 pairs + 1 SHA-1 pair passed, {} failed",
        failures.len()
    );
    assert_eq!(passed, 29, "{}", failures.join("\n"));
}

fn oracle_sha1_outputs_and_fragments_match_byte_for_byte() {
    let Some(shared) = common::shared_dir("prepare oracle conformance") else {
        return;
    };
    let oracle = shared.join("eps-oracle");
    let mut checked = 0;
    let mut failures = Vec::new();
    for sha1 in common::find_files(&oracle.join("prepare-sha1"), &|n| {
        n.ends_with("-Prepare-Response-SHA1.json")
    }) {
        let rel = sha1.strip_prefix(oracle.join("prepare-sha1")).unwrap();
        let n = common::example_number(rel).to_string();
        let dir = rel.parent().unwrap();
        let request = shared
            .join("eps-examples")
            .join(dir)
            .join(format!("{n}-Prepare-Request-200_OK.json"));
        let fragments = oracle
            .join("fragments")
            .join(dir)
            .join(format!("{n}-Fragments.xml"));
        match run(&request, DigestAlgorithm::Sha1, SIGNING_TIME) {
            Ok(p) => {
                let ours: Value = serde_json::from_str(&p.parameters_json).unwrap();
                if parameters(&ours) != parameters(&read_json(&sha1)) {
                    failures.push(format!("{}: SHA-1 parameters differ", request.display()));
                }
                if p.fragments_c14n != std::fs::read(&fragments).unwrap() {
                    failures.push(format!("{}: fragments differ", fragments.display()));
                }
                checked += 1;
            }
            Err(e) => failures.push(format!("{}: refused: {e}", request.display())),
        }
    }
    println!(
        "oracle prepare: {checked} SHA-1 outputs and fragment files checked, {} failed",
        failures.len()
    );
    assert_eq!(checked, 29);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn variants_prepare_like_the_reference_except_listed_defects() {
    let Some(shared) = common::shared_dir("variant prepare conformance") else {
        return;
    };
    let dir = shared.join("eps-oracle/variants");
    let index = read_json(&dir.join("index.json"));
    let deviations: BTreeMap<&str, &str> = DEVIATIONS.iter().copied().collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for v in index["variants"].as_array().unwrap() {
        if v["kind"] != "order" {
            continue;
        }
        let key = format!(
            "{}/{}",
            v["base"].as_str().unwrap(),
            v["name"].as_str().unwrap()
        );
        let request = dir.join(format!("{key}.json"));
        let fragments = std::fs::read(dir.join(format!("{key}.fragments.xml"))).ok();
        let Some(expected_fragments) = fragments else {
            *counts.entry("reference refuses").or_default() += 1;
            continue;
        };
        let sha256 = run(&request, DigestAlgorithm::Sha256, SIGNING_TIME);
        let sha1 = run(&request, DigestAlgorithm::Sha1, SIGNING_TIME);
        let same = match (&sha256, &sha1) {
            (Ok(a), Ok(b)) => {
                let want256 =
                    parameters(&read_json(&dir.join(format!("{key}.prepare-sha256.json"))));
                let want1 = parameters(&read_json(&dir.join(format!("{key}.prepare-sha1.json"))));
                let got256 = parameters(&serde_json::from_str(&a.parameters_json).unwrap());
                let got1 = parameters(&serde_json::from_str(&b.parameters_json).unwrap());
                a.fragments_c14n == expected_fragments && got256 == want256 && got1 == want1
            }
            _ => false,
        };
        if let Some(why) = deviations.get(key.as_str()) {
            assert!(
                !same,
                "{key} is listed as a deviation ({why}) but matches the reference"
            );
            *counts.entry("documented deviation").or_default() += 1;
        } else if same {
            *counts.entry("identical").or_default() += 1;
        } else if sha256.is_err() && convert_refuses(&request) {
            // Refused on purpose (convert refuses it too, see convert_conformance's list).
            *counts.entry("refused with convert").or_default() += 1;
        } else {
            failures.push(format!("{key}: {:?}", sha256.err()));
        }
    }
    println!("variant prepare: {counts:?}, {} failed", failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn convert_refuses(request: &Path) -> bool {
    eps_translator::translate::convert(
        &std::fs::read(request).unwrap(),
        &common::corpus_context(SIGNING_TIME),
    )
    .is_err()
}

fn main() -> std::process::ExitCode {
    use common::Needs;
    common::run_suite(
        "prepare_conformance",
        &[
            (
                "corpus_prepare_pairs_give_the_reference_parameters",
                Needs::Corpus,
                corpus_prepare_pairs_give_the_reference_parameters,
            ),
            (
                "oracle_sha1_outputs_and_fragments_match_byte_for_byte",
                Needs::Corpus,
                oracle_sha1_outputs_and_fragments_match_byte_for_byte,
            ),
            (
                "variants_prepare_like_the_reference_except_listed_defects",
                Needs::Corpus,
                variants_prepare_like_the_reference_except_listed_defects,
            ),
        ],
    )
}
