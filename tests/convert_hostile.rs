//! Unusual FHIR input never crashes convert or prepare: every value of every golden Bundle (and
//! of three corpus Bundles, when the corpus is present) is in turn removed or replaced by a value
//! of another shape, and each result must be either a well-formed message or a refusal that says
//! what is wrong — never a panic, never partial output — and convert and prepare must agree on
//! whether the Bundle is acceptable.

mod common;

use common::Sweep;
use eps_translator::signing::{prepare, DigestAlgorithm};
use eps_translator::translate::convert;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Where a mutation applies: the steps (member names and indices) from the root.
#[derive(Clone, Debug)]
enum Step {
    Member(String),
    Index(usize),
}

/// Every value's place in `value`, the root excepted.
fn places(value: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::Object(members) => {
            for (name, child) in members {
                here.push(Step::Member(name.clone()));
                out.push(here.clone());
                places(child, here, out);
                here.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                here.push(Step::Index(i));
                out.push(here.clone());
                places(child, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

/// What a value is replaced by (`None`: removed), each with a name for failure messages.
fn replacements() -> Vec<(&'static str, Option<Value>)> {
    let mut deep = Value::Array(vec![]);
    for _ in 0..300 {
        deep = Value::Array(vec![deep]);
    }
    vec![
        ("removed", None),
        ("null", Some(Value::Null)),
        ("true", Some(Value::Bool(true))),
        ("0", Some(Value::from(0))),
        ("\"\"", Some(Value::String(String::new()))),
        (
            "control and markup characters",
            Some(Value::String("\u{1}<&\"'>\u{fffe}".into())),
        ),
        (
            "impossible date",
            Some(Value::String("2022-02-30T25:61:00+99:00".into())),
        ),
        ("-1e400", Some(serde_json::from_str("-1e400").unwrap())),
        ("{}", Some(Value::Object(Map::new()))),
        ("[]", Some(Value::Array(vec![]))),
        ("300-deep array", Some(deep)),
    ]
}

/// `root` with the value at `place` replaced (or removed).
fn mutated(root: &Value, place: &[Step], with: &Option<Value>) -> Value {
    let mut copy = root.clone();
    let (last, parents) = place.split_last().expect("not the root");
    let mut parent = &mut copy;
    for step in parents {
        parent = match step {
            Step::Member(name) => &mut parent[name.as_str()],
            Step::Index(i) => &mut parent[*i],
        };
    }
    match (last, with) {
        (Step::Member(name), None) => {
            parent.as_object_mut().unwrap().shift_remove(name);
        }
        (Step::Index(i), None) => {
            parent.as_array_mut().unwrap().remove(*i);
        }
        (Step::Member(name), Some(v)) => parent[name.as_str()] = v.clone(),
        (Step::Index(i), Some(v)) => parent[*i] = v.clone(),
    }
    copy
}

/// Convert and prepare on one input: whether each accepted it (a panic counts as neither,
/// and is recorded). Convert's XML must parse.
fn outcome(
    input: &[u8],
    ctx: &eps_translator::Context,
    what: &str,
    sweep: &mut Sweep,
) -> (bool, bool) {
    let converted = sweep.run(what, || convert(input, ctx));
    let prepared = sweep.run(what, || prepare(input, DigestAlgorithm::Sha256, ctx));
    if let Some(Ok(t)) = &converted {
        if let Err(e) = roxmltree::Document::parse(&t.xml) {
            sweep.failures.push(format!(
                "{what}: convert wrote XML that does not parse: {e}"
            ));
        }
    }
    (
        matches!(converted, Some(Ok(_))),
        matches!(prepared, Some(Ok(_))),
    )
}

fn is_cancellation(bundle: &Value) -> bool {
    bundle["entry"].as_array().is_some_and(|entries| {
        entries.iter().any(|e| {
            e["resource"]["eventCoding"]["code"].as_str() == Some("prescription-order-update")
        })
    })
}

fn bundles() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = common::find_files(&root.join("golden/convert"), &|name| {
        name.ends_with(".json") && !name.ends_with(".err.json") && !name.starts_with("err_")
    });
    if let Some(shared) = common::shared_dir("convert_hostile") {
        let examples = shared.join("eps-examples/primary-care");
        for name in [
            "acute/nominated-pharmacy/medical-prescriber/3-Process-Request-Multiple-DosageInstructions-Send_200_OK.json",
            "acute/nominated-pharmacy/medical-prescriber/1-Process-Request-Send-200_OK.json",
            "acute/nominated-pharmacy/medical-prescriber/cancellations/4-Process-Request-Cancel-200_OK.json",
        ] {
            let path = examples.join(name);
            assert!(path.is_file(), "corpus Bundle missing: {}", path.display());
            files.push(path);
        }
    }
    files
}

#[test]
fn mutated_bundles_are_translated_or_refused_never_crash() {
    let ctx = common::corpus_context("2022-02-01T00:00:00Z");
    let replacements = replacements();
    let mut sweep = Sweep::new();
    for path in bundles() {
        let text = std::fs::read_to_string(&path).unwrap();
        let bundle: Value = serde_json::from_str(&text).unwrap();
        let cancellation = is_cancellation(&bundle);
        let mut all = Vec::new();
        places(&bundle, &mut Vec::new(), &mut all);
        let name = path.file_name().unwrap().to_string_lossy();
        for place in &all {
            for (label, with) in &replacements {
                let input = serde_json::to_vec_pretty(&mutated(&bundle, place, with)).unwrap();
                let what = format!("{name} {place:?}: {label}");
                let (converted, prepared) = outcome(&input, &ctx, &what, &mut sweep);
                sweep.runs += 1;
                sweep.accepted += usize::from(converted);
                // prepare signs prescriptions only: it refuses a cancellation convert takes.
                if converted != prepared && !(cancellation && converted) {
                    sweep.failures.push(format!(
                        "{what}: convert {} but prepare {}",
                        if converted { "accepted" } else { "refused" },
                        if prepared { "accepted" } else { "refused" }
                    ));
                }
            }
        }
    }
    sweep.finish("convert_hostile");
}
