//! Unusual FHIR input never crashes convert or prepare: every value of every golden Bundle (and
//! of three corpus Bundles, when the corpus is present) is in turn removed or replaced by a value
//! of another shape, and each result must be either a well-formed message or a refusal that says
//! what is wrong — never a panic, never partial output — and convert and prepare must agree on
//! whether the Bundle is acceptable.

mod common;

use eps_translator::signing::{prepare, DigestAlgorithm};
use eps_translator::translate::convert;
use serde_json::{Map, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
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

/// What a value is replaced by (`None`: removed).
fn replacements() -> Vec<Option<Value>> {
    let mut deep = Value::Array(vec![]);
    for _ in 0..300 {
        deep = Value::Array(vec![deep]);
    }
    vec![
        None,
        Some(Value::Null),
        Some(Value::Bool(true)),
        Some(Value::from(0)),
        Some(Value::String(String::new())),
        Some(Value::String("\u{1}<&\"'>\u{fffe}".into())),
        Some(Value::String("2022-02-30T25:61:00+99:00".into())),
        Some(serde_json::from_str("-1e400").unwrap()),
        Some(Value::Object(Map::new())),
        Some(Value::Array(vec![])),
        Some(deep),
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

/// How one input fared; a panic is a failure, so it is not an outcome.
fn outcome(
    input: &[u8],
    ctx: &eps_translator::Context,
    what: &str,
    failures: &mut Vec<String>,
) -> (bool, bool) {
    let converted = catch_unwind(AssertUnwindSafe(|| convert(input, ctx)));
    let prepared = catch_unwind(AssertUnwindSafe(|| {
        prepare(input, DigestAlgorithm::Sha256, ctx)
    }));
    let (converted, prepared) = match (converted, prepared) {
        (Ok(c), Ok(p)) => (c, p),
        (Err(payload), _) | (_, Err(payload)) => {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            failures.push(format!("{what}: panicked: {message}"));
            return (false, false);
        }
    };
    match &converted {
        Ok(t) => {
            if let Err(e) = roxmltree::Document::parse(&t.xml) {
                failures.push(format!(
                    "{what}: convert wrote XML that does not parse: {e}"
                ));
            }
        }
        Err(r) => check_refusal(r, what, "convert", failures),
    }
    if let Err(r) = &prepared {
        check_refusal(r, what, "prepare", failures);
    }
    (converted.is_ok(), prepared.is_ok())
}

fn check_refusal(r: &eps_translator::Rejection, what: &str, op: &str, failures: &mut Vec<String>) {
    if r.issues.is_empty() || r.issues.iter().any(|i| i.diagnostics.trim().is_empty()) {
        failures.push(format!("{what}: {op} refused without saying why: {r:?}"));
    }
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
    // A panic is reported with the mutation that caused it, not printed once per case.
    std::panic::set_hook(Box::new(|_| {}));
    let (mut runs, mut accepted, mut failures) = (0, 0, Vec::new());
    for path in bundles() {
        let text = std::fs::read_to_string(&path).unwrap();
        let bundle: Value = serde_json::from_str(&text).unwrap();
        let cancellation = is_cancellation(&bundle);
        let mut all = Vec::new();
        places(&bundle, &mut Vec::new(), &mut all);
        let name = path.file_name().unwrap().to_string_lossy();
        for place in &all {
            for with in &replacements {
                let input = serde_json::to_vec_pretty(&mutated(&bundle, place, with)).unwrap();
                let what = format!("{name} {place:?} -> {with:.40?}");
                let (converted, prepared) = outcome(&input, &ctx, &what, &mut failures);
                runs += 1;
                accepted += usize::from(converted);
                // prepare signs prescriptions only: it refuses a cancellation convert takes.
                if converted != prepared && !(cancellation && converted) {
                    failures.push(format!(
                        "{what}: convert {} but prepare {}",
                        if converted { "accepted" } else { "refused" },
                        if prepared { "accepted" } else { "refused" }
                    ));
                }
            }
        }
    }
    println!("convert_hostile: {runs} mutated Bundles, {accepted} translated, the rest refused; {} failures", failures.len());
    assert!(runs > 1000, "too few mutations to mean anything: {runs}");
    assert!(
        failures.is_empty(),
        "{} failures, first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
