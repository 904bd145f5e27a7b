//! Per-rule goldens whose expected answers are the reference implementation's: every
//! `golden/rules/NAME.json` (one rule of the reference's validator or request translation
//! each) is converted and, for a prescription-order, prepared with the reference's pinned
//! context (for a release request, with the two ids the oracle draws), and compared with what `golden/rules/regen.sh` recorded from the reference:
//!
//! - `NAME.oracle.xml`: our XML must equal it byte for byte;
//! - `NAME.oracle-prepare.json`: our digest, timestamp and algorithm must equal its;
//! - `NAME.oracle-refusal.json`: we must refuse, with the same error issues in the same order
//!   (issue code, and the diagnostics text or, where the reference gives a Spine coding
//!   instead, its display), and prepare must refuse too.
//!
//! Where we deliberately differ, `golden/rules/deviations.tsv` names the case and why (the
//! same reasons are in `docs/deviations.md`); such a case is compared with our own recorded
//! answer, `NAME.ours.xml` or `NAME.ours-refusal.json`, written by
//! `UPDATE_EXPECT=1 cargo test --profile release-quick --test golden_rules`. A reference crash
//! (`NAME.oracle-crash.json`) must be a deviation: we refuse with our own error.

mod common;

use eps_translator::signing::{prepare, DigestAlgorithm};
use eps_translator::translate::convert;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const CONVERT_TIME: &str = "2022-02-01T00:00:00Z";
const PREPARE_TIME: &str = "2024-12-09T11:50:04+00:00";
/// The ids the oracle draws for a release request (its message, then the request itself).
const ORACLE_RELEASE_MESSAGE_ID: &str = "00000000-0000-4000-8000-000000000002";
const ORACLE_RELEASE_REQUEST_ID: &str = "00000000-0000-4000-8000-000000000003";

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/rules")
}

fn deviations() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(dir().join("deviations.tsv")).expect("deviations.tsv");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, why) = l.split_once('\t').expect("NAME<TAB>reason");
            (name.to_string(), why.to_string())
        })
        .collect()
}

/// `(code, text)` of each error issue of an OperationOutcome, in order.
fn error_issues(outcome: &Value) -> Vec<(String, String)> {
    outcome["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| matches!(i["severity"].as_str(), Some("error" | "fatal")))
        .map(|i| {
            let text = i["diagnostics"]
                .as_str()
                .or_else(|| i["details"]["coding"][0]["display"].as_str())
                .unwrap_or("")
                .to_string();
            (i["code"].as_str().unwrap_or("").to_string(), text)
        })
        .collect()
}

fn parameters(v: &Value) -> BTreeMap<String, String> {
    v["parameter"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or("").to_string();
            (name, p["valueString"].as_str().unwrap_or("").to_string())
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap() + "\n"
}

/// Compares (or, updating, writes) our own recorded answer for a deviation.
fn check_ours(path: &Path, actual: &str, update: bool) -> Result<(), String> {
    if update {
        std::fs::write(path, actual).unwrap();
        return Ok(());
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => Ok(()),
        Ok(expected) => Err(common::first_difference(actual, &expected)),
        Err(_) => Err(format!("{} missing", path.display())),
    }
}

fn check_case(name: &str, deviation: bool, update: bool) -> Result<&'static str, String> {
    let dir = dir();
    let input = std::fs::read(dir.join(format!("{name}.json"))).unwrap();
    let mut ctx = common::corpus_context(CONVERT_TIME);
    if String::from_utf8_lossy(&input).contains("\"resourceType\": \"Parameters\"") {
        // A release request: the two ids the reference draws at random, as the oracle draws them.
        ctx.message_id = Some(ORACLE_RELEASE_MESSAGE_ID.to_string());
        ctx.payload_id = Some(ORACLE_RELEASE_REQUEST_ID.to_string());
    }
    let ours = convert(&input, &ctx);
    let oracle_xml = dir.join(format!("{name}.oracle.xml"));
    let oracle_refusal = dir.join(format!("{name}.oracle-refusal.json"));
    let oracle_crash = dir.join(format!("{name}.oracle-crash.json"));
    if oracle_crash.exists() && !deviation {
        return Err("the reference crashes here: list the case in deviations.tsv".into());
    }
    if deviation {
        return match &ours {
            Ok(t) => check_ours(&dir.join(format!("{name}.ours.xml")), &t.xml, update)
                .map(|_| "deviation"),
            Err(r) => check_ours(
                &dir.join(format!("{name}.ours-refusal.json")),
                &pretty(&r.to_operation_outcome()),
                update,
            )
            .map(|_| "deviation"),
        };
    }
    if oracle_xml.exists() {
        let expected = std::fs::read_to_string(&oracle_xml).unwrap();
        let t = ours.map_err(|r| format!("refused where the reference converts: {r}"))?;
        if t.xml != expected {
            return Err(common::first_difference(&t.xml, &expected));
        }
        let oracle_prepare = dir.join(format!("{name}.oracle-prepare.json"));
        if oracle_prepare.exists() {
            let expected = parameters(&read_json(&oracle_prepare));
            let p = prepare(
                &input,
                DigestAlgorithm::Sha256,
                &common::corpus_context(PREPARE_TIME),
            )
            .map_err(|r| format!("prepare refused where the reference prepares: {r}"))?;
            let actual = parameters(&serde_json::from_str(&p.parameters_json).unwrap());
            if actual != expected {
                return Err(format!(
                    "prepare differs:\n  ours:      {actual:?}\n  reference: {expected:?}"
                ));
            }
            return Ok("converted and prepared identically");
        }
        return Ok("converted identically");
    }
    if oracle_refusal.exists() {
        let expected = error_issues(&read_json(&oracle_refusal));
        let r = match ours {
            Ok(_) => return Err("converted where the reference refuses".into()),
            Err(r) => r,
        };
        let actual = error_issues(&r.to_operation_outcome());
        if actual != expected {
            return Err(format!(
                "refusal differs:\n  ours:      {actual:?}\n  reference: {expected:?}"
            ));
        }
        let text = String::from_utf8_lossy(&input);
        if text.contains("\"prescription-order\"")
            && prepare(
                &input,
                DigestAlgorithm::Sha256,
                &common::corpus_context(PREPARE_TIME),
            )
            .is_ok()
        {
            return Err("convert refuses but prepare accepts".into());
        }
        return Ok("refused identically");
    }
    Err("no recorded answer from the reference (run golden/rules/regen.sh)".into())
}

#[test]
fn every_rule_golden_matches_the_reference() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let deviations = deviations();
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter_map(|f| f.strip_suffix(".json").map(str::to_string))
        .filter(|stem| !stem.contains('.'))
        .collect();
    names.sort();
    assert!(names.len() >= 30, "rule goldens missing");
    for name in deviations.keys() {
        assert!(
            names.contains(name),
            "deviations.tsv names {name}, which has no input"
        );
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for name in &names {
        match check_case(name, deviations.contains_key(name), update) {
            Ok(outcome) => *counts.entry(outcome).or_default() += 1,
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    println!("rule goldens: {} cases, {counts:?}", names.len());
    assert!(
        failures.is_empty(),
        "{} of {} rule goldens differ from the reference:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
