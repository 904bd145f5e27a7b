//! Golden tests of `to-fhir` on our own messages (no corpus needed): every
//! `golden/convert/NAME.xml` (the HL7 v3 our `convert` writes for `NAME.json`) is translated
//! back and compared with `golden/to-fhir/NAME.json`, and its signature fragments must
//! survive `prepare(to_fhir(xml))`.
//!
//! Regenerate the expected files: `UPDATE_EXPECT=1 cargo test --profile release-quick --test to_fhir_golden`, then
//! review the git diff.

use eps_translator::datetime::Instant;
use eps_translator::hl7v3::reader::read_element;
use eps_translator::signing::fragments::{canonical_fragments, parent_prescription};
use eps_translator::signing::{prepare, DigestAlgorithm};
use eps_translator::Context;
use std::path::Path;

#[test]
fn golden_messages_translate_and_keep_their_fragments() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut inputs: Vec<_> = std::fs::read_dir(root.join("convert"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());
    let mut failures = Vec::new();
    let mut count = 0;
    for xml_path in &inputs {
        let name = xml_path.file_stem().unwrap().to_str().unwrap();
        let bytes = std::fs::read(xml_path).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        if doc.root_element().tag_name().name() != "PORX_IN020101SM31" {
            continue; // cancellations go the other way only
        }
        count += 1;
        let json = match eps_translator::to_fhir::to_fhir(&bytes) {
            Ok(j) => j,
            Err(e) => {
                failures.push(format!("{name}: refused: {e}"));
                continue;
            }
        };
        let expected_path = root.join("to-fhir").join(format!("{name}.json"));
        if update {
            std::fs::create_dir_all(root.join("to-fhir")).unwrap();
            std::fs::write(&expected_path, &json).unwrap();
        } else {
            match std::fs::read_to_string(&expected_path) {
                Ok(expected) if expected == json => {}
                Ok(_) => failures.push(format!(
                    "{name}: output differs from {} (UPDATE_EXPECT=1 to regenerate)",
                    expected_path.display()
                )),
                Err(e) => failures.push(format!("{name}: {}: {e}", expected_path.display())),
            }
        }
        let original = read_element(doc.root_element());
        let original = canonical_fragments(parent_prescription(&original).unwrap()).unwrap();
        let ctx = Context::new(Instant::parse_rfc3339("2001-01-01T00:00:00Z").unwrap());
        match prepare(json.as_bytes(), DigestAlgorithm::Sha256, &ctx) {
            Ok(p) if p.fragments_c14n == original => {}
            Ok(_) => failures.push(format!(
                "{name}: signature fragments differ after the round trip"
            )),
            Err(e) => failures.push(format!("{name}: prepare(to_fhir(xml)) refused: {e}")),
        }
    }
    println!("to-fhir goldens: {count} messages");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Spine responses the reference answers with an OperationOutcome (release rejections):
/// every `golden/to-fhir/responses/NAME.xml` translates to `NAME.json`. The expected
/// files follow the reference's handler for the message (its oracle does not read these
/// messages); the contained Organization's id is ours (name-based), the reference's random.
#[test]
fn golden_spine_responses_translate() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/to-fhir/responses");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());
    let mut failures = Vec::new();
    for xml_path in &inputs {
        let name = xml_path.file_stem().unwrap().to_str().unwrap();
        let json = match eps_translator::to_fhir::to_fhir(&std::fs::read(xml_path).unwrap()) {
            Ok(j) => j,
            Err(e) => {
                failures.push(format!("{name}: refused: {e}"));
                continue;
            }
        };
        let expected_path = dir.join(format!("{name}.json"));
        if update {
            std::fs::write(&expected_path, &json).unwrap();
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == json => {}
            Ok(_) => failures.push(format!(
                "{name}: output differs from {} (UPDATE_EXPECT=1 to regenerate)",
                expected_path.display()
            )),
            Err(e) => failures.push(format!("{name}: {}: {e}", expected_path.display())),
        }
    }
    println!("to-fhir spine response goldens: {} messages", inputs.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
