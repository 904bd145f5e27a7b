//! HL7 v3 → FHIR → HL7 v3 round trips over every `N-Convert-Response-Send-200_OK.xml` of
//! the corpus and every prescription of the release responses:
//!
//! * `prepare(to_fhir(xml))` gives the canonical signature fragments (and so the digest) of
//!   the original ParentPrescription, byte for byte — with the signing time left to the
//!   translation (the Provenance carries it), not supplied by the test;
//! * `convert(to_fhir(xml))` re-creates the original ParentPrescription; the elements that
//!   differ are listed, each with the reason it cannot survive (see `EXPECTED_DIFFERENCES`).

mod common;

use eps_translator::datetime::Instant;
use eps_translator::error::Severity;
use eps_translator::hl7v3::reader::read_element;
use eps_translator::hl7v3::{Content, Element};
use eps_translator::signing::fragments::{canonical_fragments, parent_prescription};
use eps_translator::signing::{prepare, DigestAlgorithm};
use eps_translator::Context;
use serde_json::Value;

/// Elements of a ParentPrescription that `convert(to_fhir(x))` does not give back, with why.
/// None of them is signed.
const EXPECTED_DIFFERENCES: &[(&str, &str)] = &[(
    "/ParentPrescription/effectiveTime/@",
    "the reference's FHIR has no home for the start of an acute prescription's validity \
     (HL7 v3 ParentPrescription/effectiveTime, unsigned): the forward translation writes the \
     author time there",
)];

/// The one refusal a round trip may meet, with why: the prescriber's professional code is a
/// GMP code (`G…`), which the FHIR names `gmp-number`, and a `gmp-number` prescriber is refused
/// by the reference's own validator (it refuses its own `to-fhir` output of these too).
const EXPECTED_REFUSAL: &str =
    "Bundle resource Practitioner.identifier expected exactly one professional code from GMC|NMC|GPhC|HCPC|professional-code.";

/// A context whose clock is far from any corpus time, so a time taken from the context
/// rather than from the message would show.
fn context() -> Context {
    Context::new(Instant::parse_rfc3339("2001-01-01T00:00:00Z").unwrap())
}

/// Element paths where two trees differ.
fn differences(a: &Element, b: &Element, path: &str, out: &mut Vec<String>) {
    let here = format!("{path}/{}", a.name);
    if a.name != b.name {
        out.push(format!("{here} (named {} in the original)", b.name));
        return;
    }
    if a.attrs != b.attrs {
        out.push(format!("{here}/@ ({:?} vs {:?})", a.attrs, b.attrs));
    }
    match (&a.content, &b.content) {
        (Content::Children(x), Content::Children(y)) => {
            let mut i = 0;
            while i < x.len().max(y.len()) {
                match (x.get(i), y.get(i)) {
                    (Some(c), Some(d)) => differences(c, d, &here, out),
                    (Some(c), None) => out.push(format!("{here}/{} (added)", c.name)),
                    (None, Some(d)) => out.push(format!("{here}/{} (missing)", d.name)),
                    (None, None) => {}
                }
                i += 1;
            }
        }
        (x, y) if x != y => out.push(format!("{here}/text() ({x:?} vs {y:?})")),
        _ => {}
    }
}

struct Outcome {
    /// Refused for the one reason listed in `EXPECTED_REFUSAL` (nothing else is checked).
    refused_as_the_reference_refuses: bool,
    fragments_equal: bool,
    /// Where the fragments first differ, for the failure message.
    fragments_difference: String,
    differences: Vec<String>,
}

fn round_trip(name: &str, parent: &Element, to_fhir_json: &[u8]) -> Result<Outcome, String> {
    let original_fragments =
        canonical_fragments(parent).map_err(|e| format!("{name}: original: {e}"))?;
    let ctx = context();
    let prepared = match prepare(to_fhir_json, DigestAlgorithm::Sha256, &ctx) {
        Ok(p) => p,
        Err(r)
            if r.issues
                .iter()
                .filter(|i| i.severity == Severity::Error)
                .all(|i| i.diagnostics == EXPECTED_REFUSAL) =>
        {
            return Ok(Outcome {
                refused_as_the_reference_refuses: true,
                fragments_equal: false,
                fragments_difference: String::new(),
                differences: Vec::new(),
            })
        }
        Err(e) => return Err(format!("{name}: prepare(to_fhir(xml)) refused: {e}")),
    };
    let converted = eps_translator::translate::convert(to_fhir_json, &ctx)
        .map_err(|e| format!("{name}: convert(to_fhir(xml)) refused: {e}"))?;
    let doc = roxmltree::Document::parse(&converted.xml).map_err(|e| e.to_string())?;
    let ours = read_element(doc.root_element());
    let ours = parent_prescription(&ours).map_err(|e| e.to_string())?;
    let mut diffs = Vec::new();
    differences(ours, parent, "", &mut diffs);
    let ours = String::from_utf8_lossy(&prepared.fragments_c14n);
    let theirs = String::from_utf8_lossy(&original_fragments);
    let at = ours
        .char_indices()
        .zip(theirs.chars())
        .find(|((_, a), b)| a != b)
        .map_or(ours.len().min(theirs.len()), |((i, _), _)| i);
    let window = |s: &str| {
        s.get(at.saturating_sub(80)..(at + 80).min(s.len()))
            .unwrap_or("")
            .to_string()
    };
    Ok(Outcome {
        refused_as_the_reference_refuses: false,
        fragments_difference: format!(
            "\n  ours:     …{}…\n  original: …{}…",
            window(&ours),
            window(&theirs)
        ),
        fragments_equal: prepared.fragments_c14n == original_fragments,
        differences: diffs,
    })
}

fn check(name: &str, outcome: Outcome, failures: &mut Vec<String>) {
    if outcome.refused_as_the_reference_refuses {
        return;
    }
    if !outcome.fragments_equal {
        failures.push(format!(
            "{name}: signature fragments differ{}",
            outcome.fragments_difference
        ));
    }
    for d in outcome.differences {
        let expected = EXPECTED_DIFFERENCES
            .iter()
            .any(|(pattern, _)| d.contains(pattern));
        if !expected {
            failures.push(format!("{name}: {d}"));
        }
    }
}

fn corpus_send_messages_survive_the_round_trip() {
    let Some(shared) = common::shared_dir("to-fhir round trip") else {
        return;
    };
    let files = common::find_files(&shared.join("eps-examples"), &|n| {
        n.ends_with("-Convert-Response-Send-200_OK.xml")
    });
    assert!(!files.is_empty(), "no Convert-Response-Send files found");
    let mut failures = Vec::new();
    let mut kept = 0;
    let mut refused = 0;
    for path in &files {
        let name = path.strip_prefix(&shared).unwrap().display().to_string();
        let bytes = std::fs::read(path).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let root = read_element(doc.root_element());
        let parent = parent_prescription(&root).unwrap();
        let json = match eps_translator::to_fhir::to_fhir(&bytes) {
            Ok(j) => j,
            Err(e) => {
                failures.push(format!("{name}: to-fhir refused: {e}"));
                continue;
            }
        };
        match round_trip(&name, parent, json.as_bytes()) {
            Ok(o) => {
                kept += usize::from(o.fragments_equal);
                refused += usize::from(o.refused_as_the_reference_refuses);
                check(&name, o, &mut failures);
            }
            Err(e) => failures.push(e),
        }
    }
    println!(
        "to-fhir round trip: {kept}/{} corpus prescriptions keep their signature fragments and digest; \
         {refused} refused as the reference refuses its own FHIR of them (a GMP prescriber)",
        files.len()
    );
    assert!(refused < files.len() / 2, "most round trips refused");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The `DigestValue` and digest algorithm of the XML-DSig signature in a ParentPrescription.
fn signed_digest(parent: &Element) -> Option<(String, DigestAlgorithm)> {
    fn find<'e>(el: &'e Element, name: &str) -> Option<&'e Element> {
        if el.name == name || el.name.ends_with(&format!(":{name}")) {
            return Some(el);
        }
        el.child_elements().iter().find_map(|c| find(c, name))
    }
    let value = find(parent, "DigestValue")?.text_content()?.to_string();
    let method = find(parent, "DigestMethod")?.get_attr("Algorithm")?;
    let algorithm = if method.ends_with("sha256") {
        DigestAlgorithm::Sha256
    } else {
        DigestAlgorithm::Sha1
    };
    Some((value, algorithm))
}

/// Released prescriptions are in Spine's release form (`PORX_MT122003UK32`: item status,
/// `type` attributes), not the form the prescriber signed, so their fragments are not
/// compared with the release XML's: the digest of `prepare(to_fhir(release))` is compared
/// with the `DigestValue` the prescriber actually signed.
fn released_prescriptions_give_back_the_signed_digest() {
    let Some(shared) = common::shared_dir("to-fhir round trip (release)") else {
        return;
    };
    let files = common::find_files(&shared.join("eps-release-responses"), &|n| {
        n.ends_with(".xml")
    });
    let mut failures = Vec::new();
    let (mut kept, mut total) = (0, 0);
    let mut differing: std::collections::BTreeSet<String> = Default::default();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(path).unwrap();
        let parameters: Value = match eps_translator::to_fhir::to_fhir(&bytes) {
            Ok(j) => serde_json::from_str(&j).unwrap(),
            Err(e) => {
                failures.push(format!("{name}: to-fhir refused: {e}"));
                continue;
            }
        };
        let text = String::from_utf8(bytes).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let parents: Vec<Element> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "ParentPrescription")
            .map(read_element)
            .collect();
        let bundles = parameters["parameter"][0]["resource"]["entry"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if bundles.len() != parents.len() {
            failures.push(format!(
                "{name}: {} bundles for {} prescriptions",
                bundles.len(),
                parents.len()
            ));
            continue;
        }
        for (i, (bundle, parent)) in bundles.iter().zip(&parents).enumerate() {
            total += 1;
            let label = format!("{name} prescription {i}");
            let Some((signed, algorithm)) = signed_digest(parent) else {
                failures.push(format!("{label}: the original has no DigestValue"));
                continue;
            };
            let json = serde_json::to_vec(&bundle["resource"]).unwrap();
            match prepare(&json, algorithm, &context()) {
                Ok(p) if p.digest_value == signed => kept += 1,
                Ok(p) => failures.push(format!(
                    "{label}: digest {} but the prescriber signed {signed}",
                    p.digest_value
                )),
                Err(e) => failures.push(format!("{label}: prepare(to_fhir(xml)) refused: {e}")),
            }
            if let Ok(converted) = eps_translator::translate::convert(&json, &context()) {
                let doc = roxmltree::Document::parse(&converted.xml).unwrap();
                let ours = read_element(doc.root_element());
                let mut diffs = Vec::new();
                differences(parent_prescription(&ours).unwrap(), parent, "", &mut diffs);
                differing.extend(
                    diffs
                        .into_iter()
                        .map(|d| d.split(" (").next().unwrap_or("").to_string()),
                );
            }
        }
    }
    println!("to-fhir round trip: {kept}/{total} released prescriptions give back the digest their prescriber signed");
    println!("released prescriptions: elements convert(to_fhir(x)) writes differently from Spine's release form (none signed):");
    for d in &differing {
        println!("  {d}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn main() -> std::process::ExitCode {
    use common::Needs;
    common::run_suite(
        "to_fhir_roundtrip",
        &[
            (
                "corpus_send_messages_survive_the_round_trip",
                Needs::Corpus,
                corpus_send_messages_survive_the_round_trip,
            ),
            (
                "released_prescriptions_give_back_the_signed_digest",
                Needs::Corpus,
                released_prescriptions_give_back_the_signed_digest,
            ),
        ],
    )
}
