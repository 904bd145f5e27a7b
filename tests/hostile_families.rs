//! Families of hostile input, each at a few sizes up to and past the limits, through every
//! entry point that reads it (convert, prepare, to-fhir, c14n in each mode, with a subtree and a
//! prefix list, and the signature XML a Bundle carries). Each input either completes or is
//! refused with an issue that names what was too much; none panics. How the cost grows with
//! size is measured by the benchmarks, not here. (No corpus needed.)

mod hostile;

use eps_translator::c14n::{canonicalize, Mode, Options};
use eps_translator::error::IssueCode;
use eps_translator::signing::{prepare, DigestAlgorithm};
use eps_translator::translate::convert;
use eps_translator::{Context, Rejection};
use hostile::{attributes, bundle_signed_with, dtd_defaults, namespaces, nested};

fn context() -> Context {
    Context::new(eps_translator::datetime::Instant::parse_rfc3339("2022-02-01T00:00:00Z").unwrap())
}

/// What one input gave: completed, or refused for its cost (with the limit named), or
/// refused as malformed.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Completed,
    TooCostly,
    Refused,
}

fn outcome_of(result: Result<(), Rejection>, label: &str) -> Outcome {
    match result {
        Ok(()) => Outcome::Completed,
        Err(r) => {
            let issue = &r.issues[0];
            assert!(
                !issue.diagnostics.is_empty(),
                "{label}: a refusal without a reason"
            );
            if issue.code == IssueCode::TooCostly {
                assert!(
                    issue.diagnostics.contains("limit")
                        || issue.diagnostics.contains("more than")
                        || issue.diagnostics.contains("exceed")
                        || issue.diagnostics.contains("deeper than"),
                    "{label}: a too-costly refusal that names no limit: {issue}"
                );
                Outcome::TooCostly
            } else {
                Outcome::Refused
            }
        }
    }
}

fn c14n(xml: &str, mode: Mode, subtree: Option<&str>, prefixes: &[String]) -> Outcome {
    let opts = Options {
        mode,
        inclusive_prefixes: prefixes.to_vec(),
        subtree,
        namespaces: Vec::new(),
    };
    let result = canonicalize(xml, &opts)
        .map(|_| ())
        .map_err(|e| Rejection::from(&e));
    outcome_of(result, &format!("c14n {mode:?} {subtree:?}"))
}

fn c14n_every_mode(xml: &str) -> Vec<Outcome> {
    Mode::ALL
        .iter()
        .map(|&mode| c14n(xml, mode, None, &[]))
        .collect()
}

fn to_fhir(xml: &str) -> Outcome {
    outcome_of(
        eps_translator::to_fhir::to_fhir(xml.as_bytes()).map(|_| ()),
        "to-fhir",
    )
}

fn convert_and_prepare(bundle: &[u8]) -> [Outcome; 2] {
    [
        outcome_of(convert(bundle, &context()).map(|_| ()), "convert"),
        outcome_of(
            prepare(bundle, DigestAlgorithm::Sha256, &context()).map(|_| ()),
            "prepare",
        ),
    ]
}

/// A signature-shaped document through c14n (every mode), to-fhir, and as the signature a
/// Bundle carries through convert and prepare.
fn every_entry_point(xml: &str) -> Vec<Outcome> {
    [
        c14n_every_mode(xml),
        vec![to_fhir(xml)],
        convert_and_prepare(&bundle_signed_with(xml)).into(),
    ]
    .concat()
}

#[test]
fn xml_families_complete_or_are_refused_naming_the_limit() {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    let mut tally = |family: &str, outcomes: &[Outcome]| {
        for o in outcomes {
            *counts.entry(format!("{family}: {o:?}")).or_default() += 1;
        }
    };
    for n in [10, 100, 1_000, 2_000] {
        let outcomes = every_entry_point(&namespaces(n));
        if n >= 1_000 {
            assert!(
                outcomes.iter().all(|o| *o == Outcome::TooCostly),
                "{n} namespace declarations: {outcomes:?}"
            );
        }
        tally("namespaces", &outcomes);
    }
    for n in [10, 120, 1_000, 50_000] {
        let outcomes = every_entry_point(&attributes(n));
        if n >= eps_translator::c14n::MAX_ATTRIBUTES {
            assert!(
                outcomes.iter().all(|o| *o == Outcome::TooCostly),
                "{n} attributes: {outcomes:?}"
            );
        }
        tally("attributes", &outcomes);
    }
    for (defaults, elements) in [(10, 10), (100, 100), (1_500, 2_000)] {
        let xml = dtd_defaults(defaults, elements);
        let outcomes = c14n_every_mode(&xml);
        if defaults * elements > 1_000_000 {
            assert!(
                outcomes.iter().all(|o| *o == Outcome::TooCostly),
                "{defaults} defaults on {elements} elements: {outcomes:?}"
            );
        } else {
            assert!(outcomes.iter().all(|o| *o == Outcome::Completed));
        }
        tally("dtd defaults", &outcomes);
    }
    for depth in [10, 128, 129, 10_000] {
        let xml = nested(depth);
        let outcomes = [c14n_every_mode(&xml), vec![to_fhir(&xml)]].concat();
        tally("depth", &outcomes);
    }
    for copies in [10, 1_000, 5_000] {
        let chain = format!("{}<b/>{}", "<a>".repeat(100), "</a>".repeat(100));
        let xml = format!("<r>{}</r>", chain.repeat(copies));
        let o = c14n(&xml, Mode::Exclusive, Some("//a//b"), &[]);
        assert_eq!(o, Outcome::Completed, "//a//b over {copies} chains");
        tally("subtree //a//b", &[o]);
    }
    for n in [10, 1_000, 20_000] {
        let prefixes: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
        let o = c14n(&namespaces(100), Mode::Exclusive, None, &prefixes);
        assert_eq!(o, Outcome::Completed, "{n} prefixes");
        tally("prefix list", &[o]);
    }
    for len in [10, 1_000_000] {
        let xml = format!("<a b='{}'>{}</a>", "x".repeat(len), "y".repeat(len));
        let outcomes = [c14n_every_mode(&xml), vec![to_fhir(&xml)]].concat();
        tally("long strings", &outcomes);
    }
    println!("hostile XML families: {counts:?}");
}

#[test]
fn json_families_complete_or_are_refused() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden/convert/acute_minimal.json"
    );
    let base: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for n in [10, 1_000, 100_000] {
        // A wide array where a string list is expected, and one nobody reads.
        let mut b = base.clone();
        b["entry"][2]["resource"]["name"][0]["given"] =
            serde_json::Value::Array(vec!["X".into(); n]);
        b["x-wide"] = serde_json::Value::Array(vec![1.into(); n]);
        for o in convert_and_prepare(&serde_json::to_vec(&b).unwrap()) {
            *counts.entry(format!("wide arrays: {o:?}")).or_default() += 1;
        }
        // Many entries nothing refers to.
        let mut b = base.clone();
        let extra =
            serde_json::json!({"fullUrl": "urn:uuid:x", "resource": {"resourceType": "Basic"}});
        b["entry"]
            .as_array_mut()
            .unwrap()
            .extend(std::iter::repeat_n(extra, n.min(20_000)));
        for o in convert_and_prepare(&serde_json::to_vec(&b).unwrap()) {
            *counts.entry(format!("many entries: {o:?}")).or_default() += 1;
        }
    }
    for depth in [10, 100, 10_000] {
        let text = String::from_utf8(serde_json::to_vec(&base).unwrap()).unwrap();
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let text = text.replacen('{', &format!("{{\"x-deep\": {deep},"), 1);
        for o in convert_and_prepare(text.as_bytes()) {
            *counts.entry(format!("deep arrays: {o:?}")).or_default() += 1;
        }
    }
    println!("hostile JSON families: {counts:?}");
}

/// A chain of MedicationDispenses `depth` deep, each inside the one before's `contained`;
/// members of the wrong type on each, which would be refused if they were read.
fn nested_dispenses(depth: usize) -> serde_json::Value {
    let mut inner = serde_json::json!({"resourceType": "MedicationDispense", "id": "innermost"});
    for level in 0..depth {
        inner = serde_json::json!({
            "resourceType": "MedicationDispense",
            "id": format!("level-{level}"),
            "whenHandedOver": true,
            "contained": [inner],
        });
    }
    inner
}

/// FHIR forbids resources inside a contained resource, and the reference does not read them:
/// a dispense notification whose MedicationDispense holds a chain of MedicationDispenses
/// nested up to 40 deep translates to the same bytes as without them. (Reading them would
/// double the cost with each level: a refused resource is read again to place the error.)
#[test]
fn resources_nested_in_a_contained_resource_are_not_read_at_any_depth() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden/rules/dispense_basic.json"
    );
    let bytes = std::fs::read(path).unwrap();
    let expected = convert(&bytes, &context()).expect("the dispense notification converts");
    let base: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let dispense = base["entry"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["resource"]["resourceType"] == "MedicationDispense")
        .expect("a MedicationDispense entry");
    for depth in [1, 3, 40] {
        let mut b = base.clone();
        b["entry"][dispense]["resource"]["contained"]
            .as_array_mut()
            .unwrap()
            .push(nested_dispenses(depth));
        let got = convert(&serde_json::to_vec(&b).unwrap(), &context())
            .unwrap_or_else(|e| panic!("depth {depth}: refused: {e:?}"));
        assert_eq!(got.xml, expected.xml, "depth {depth}");
    }
}
