//! Differential test of `eps_translator::c14n` against libxml2, through the shared oracle
//! (`shared/tools/c14n_oracle.py`, lxml or the system libxml2).
//!
//! `tests/c14n_differential.py` generates seeded random documents and the oracle's output
//! for each in all four modes, for the whole document and one subtree apex, exclusive cases
//! sometimes with a PrefixList; this test canonicalises the same inputs and requires the
//! same bytes, or a refusal where the oracle refuses. Every output must also be a fixed
//! point: canonicalising it again (whole document, same mode) gives it back.
//!
//! Needs python3 with lxml and the shared folder (`$EPS_SHARED_DIR`, else
//! `<crate>/../shared`); without them it says so loudly and passes, except under
//! `CI=true`, where it fails. `C14N_DIFF_COUNT` and `C14N_DIFF_SEED` override the number of
//! documents (default 3000) and the seed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use eps_translator::c14n::{canonicalize, C14nError, Mode, Options};
use serde_json::Value;

fn skip(message: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{message}; CI=true, so the differential test must run"
    );
    eprintln!("\n!!!!!!!!!! {message}; skipping !!!!!!!!!!\n");
}

fn oracle_path() -> Option<PathBuf> {
    let shared = std::env::var_os("EPS_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let oracle = shared.join("tools/c14n_oracle.py");
    if oracle.is_file() {
        return Some(oracle);
    }
    skip(&format!("eps shared corpus absent at {}", shared.display()));
    None
}

fn python_with_lxml() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import lxml.etree"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip("python3 with lxml not available (pip install lxml) for the c14n differential test");
    }
    ok
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs the generator; returns the folder holding the documents and `cases.jsonl`.
fn generate(oracle: &Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("eps-c14n-differential-{}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c14n_differential.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(&dir)
        .args(["--count", &env_or("C14N_DIFF_COUNT", 3000).to_string()])
        .args(["--seed", &env_or("C14N_DIFF_SEED", 20_260_521).to_string()])
        .arg("--oracle")
        .arg(oracle)
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    print!("{}", String::from_utf8_lossy(&output.stdout));
    dir
}

struct Failure {
    doc: String,
    what: String,
}

/// Checks one case; `Err` explains a disagreement.
fn check(doc: &str, case: &Value, mode: Mode) -> Result<bool, String> {
    let prefixes: Vec<String> = case["prefixes"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let namespaces = case["ns"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(p, u)| (p.clone(), u.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let opts = Options {
        mode,
        inclusive_prefixes: prefixes.clone(),
        subtree: case["subtree"].as_str(),
        namespaces,
    };
    let ours = canonicalize(doc, &opts);
    let Some(expected) = case["expected"].as_str() else {
        return match ours {
            Err(_) => Ok(false),
            Ok(got) => Err(format!(
                "oracle refused ({}), we produced {:?}",
                case["error"],
                String::from_utf8_lossy(&got)
            )),
        };
    };
    let got =
        ours.map_err(|e: C14nError| format!("we refused ({e}), oracle produced {expected:?}"))?;
    if got != expected.as_bytes() {
        return Err(format!(
            "differs:\n      expected {expected:?}\n      got      {:?}",
            String::from_utf8_lossy(&got)
        ));
    }
    let text = String::from_utf8(got).map_err(|e| e.to_string())?;
    let again = Options {
        inclusive_prefixes: prefixes,
        ..Options::new(mode)
    };
    match canonicalize(&text, &again) {
        Ok(twice) if twice == text.as_bytes() => Ok(true),
        other => Err(format!("not a fixed point: c14n(c14n(x)) = {other:?}")),
    }
}

#[test]
fn c14n_agrees_with_libxml2_on_random_documents() {
    let Some(oracle) = oracle_path() else { return };
    if !python_with_lxml() {
        return;
    }
    let dir = generate(&oracle);
    let cases = std::fs::read_to_string(dir.join("cases.jsonl")).expect("read cases.jsonl");
    let mut docs: HashMap<String, String> = HashMap::new();
    let mut tally: BTreeMap<(String, &str), [usize; 3]> = BTreeMap::new();
    let mut failures: Vec<Failure> = Vec::new();
    for line in cases.lines() {
        let case: Value = serde_json::from_str(line).expect("case json");
        let name = case["doc"].as_str().expect("doc").to_string();
        let doc = docs.entry(name.clone()).or_insert_with(|| {
            std::fs::read_to_string(dir.join(&name)).expect("read generated document")
        });
        let mode_name = case["mode"].as_str().unwrap_or_default();
        let mode = Mode::from_cli(mode_name).expect("known mode");
        let selection = if case["subtree"].is_null() {
            "document"
        } else {
            "subtree"
        };
        let counts = tally.entry((mode_name.to_string(), selection)).or_default();
        match check(doc, &case, mode) {
            Ok(true) => counts[0] += 1,
            Ok(false) => counts[1] += 1,
            Err(what) => {
                counts[2] += 1;
                failures.push(Failure { doc: name, what });
            }
        }
    }
    println!(
        "\n{:<22} {:<9} {:>7} {:>8} {:>7}",
        "mode", "selection", "agreed", "refused", "failed"
    );
    for ((mode, selection), [agreed, refused, failed]) in &tally {
        println!("{mode:<22} {selection:<9} {agreed:>7} {refused:>8} {failed:>7}");
    }
    let total: usize = tally.values().map(|c| c.iter().sum::<usize>()).sum();
    println!(
        "{} documents, {total} cases, {} failed",
        docs.len(),
        failures.len()
    );
    if failures.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let report: Vec<String> = failures
        .iter()
        .take(10)
        .map(|f| format!("  {}/{}: {}", dir.display(), f.doc, f.what))
        .collect();
    assert!(
        failures.is_empty(),
        "{} disagreements, first ones:\n{}",
        failures.len(),
        report.join("\n")
    );
}
