//! Conformance of `eps_translator::c14n` with the external C14N vectors of the shared
//! corpus (`c14n-vectors/manifest.json`: libxml2, Santuario with the W3C/merlin interop
//! sets, xml-crypto, goxmldsig, .NET, ucarion/c14n, rust-libxml, W3C C14N 2.0).
//!
//! Every case in mode `c14n10`, `c14n10-with-comments`, `exc` or `exc-with-comments`
//! whose selection is the whole document or a subtree apex (including node-sets the
//! manifest marks as equivalent to a subtree) must produce the expected bytes exactly.
//! Cases flagged `relative_ns_uris` must be refused with the relative-namespace error, and
//! inputs flagged `input_not_well_formed` must be refused. Inputs referring to external
//! entities are refused by policy (never fetched) and counted as such. C14N 1.1, C14N 2.0
//! and general XPath node-sets are counted as unsupported, not failures.
//!
//! The shared folder is `$EPS_SHARED_DIR`, else `<crate>/../shared`. When it is absent the
//! test says so loudly and passes, except under `CI=true`, where it fails.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use eps_translator::c14n::{canonicalize, C14nError, Mode, Options};
use serde_json::Value;

fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EPS_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if dir.join("c14n-vectors/manifest.json").is_file() {
        return Some(dir);
    }
    let message = format!(
        "eps shared corpus absent at {}",
        dir.join("c14n-vectors").display()
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{message}; CI=true, so the c14n vectors must be checked"
    );
    eprintln!("\n!!!!!!!!!! {message}; skipping !!!!!!!!!!\n");
    None
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Passed,
    RefusedAsRequired,
    RefusedByPolicy,
    Unsupported,
    Failed,
}

const COLUMNS: [(Outcome, &str); 5] = [
    (Outcome::Passed, "passed"),
    (Outcome::RefusedAsRequired, "refused-as-required"),
    (Outcome::RefusedByPolicy, "refused-by-policy"),
    (Outcome::Unsupported, "unsupported"),
    (Outcome::Failed, "failed"),
];

/// A case's selection: apex selector (none for the whole document), prefix bindings, and
/// a label for the report.
struct Selection<'v> {
    subtree: Option<&'v str>,
    namespaces: Vec<(String, String)>,
    label: &'static str,
}

struct Case<'v> {
    json: &'v Value,
    dir: &'v Path,
}

impl Case<'_> {
    fn str(&self, key: &str) -> Option<&str> {
        self.json.get(key).and_then(Value::as_str)
    }

    fn flagged(&self, key: &str) -> bool {
        self.json
            .get(key)
            .is_some_and(|v| !v.is_null() && v != &Value::Bool(false))
    }

    fn strings(value: Option<&Value>) -> Vec<String> {
        value
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The selection, or `None` if unsupported.
    fn selection(&self) -> Option<Selection<'_>> {
        let selection = &self.json["selection"];
        let namespaces = selection
            .get("ns")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(p, u)| (p.clone(), u.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let (subtree, label) = match selection["type"].as_str()? {
            "document" => (None, "document"),
            "subtree" => (Some(selection["xpath"].as_str()?), "subtree"),
            "nodeset" => (
                Some(selection["equivalent_subtree"].as_str()?),
                "nodeset = subtree",
            ),
            _ => return None,
        };
        Some(Selection {
            subtree,
            namespaces,
            label,
        })
    }

    /// Runs the case; returns the outcome, the selection label and a failure explanation.
    fn run(&self) -> (Outcome, &'static str, String) {
        let Some(mode) = self.str("mode").and_then(Mode::from_cli) else {
            return (Outcome::Unsupported, "(mode unsupported)", String::new());
        };
        let Some(Selection {
            subtree,
            namespaces,
            label,
        }) = self.selection()
        else {
            return (Outcome::Unsupported, "nodeset", String::new());
        };
        let input_path = self.dir.join(self.str("input").unwrap_or_default());
        let input = match std::fs::read(&input_path).map(String::from_utf8) {
            Ok(Ok(text)) => text,
            other => {
                return (
                    Outcome::Failed,
                    label,
                    format!("cannot read input: {other:?}"),
                )
            }
        };
        let opts = Options {
            mode,
            inclusive_prefixes: Self::strings(self.json.get("prefixes")),
            subtree,
            namespaces,
        };
        let result = canonicalize(&input, &opts);
        let (outcome, why) = self.judge(result);
        (outcome, label, why)
    }

    fn judge(&self, result: Result<Vec<u8>, C14nError>) -> (Outcome, String) {
        if self.flagged("relative_ns_uris") {
            return match result {
                Err(C14nError::RelativeNamespaceUri { .. }) => {
                    (Outcome::RefusedAsRequired, String::new())
                }
                other => (
                    Outcome::Failed,
                    format!("relative namespace uri not refused: {other:?}"),
                ),
            };
        }
        if self.flagged("input_not_well_formed") {
            return match result {
                Err(_) => (Outcome::RefusedAsRequired, String::new()),
                Ok(_) => (
                    Outcome::Failed,
                    "not-well-formed input accepted".to_string(),
                ),
            };
        }
        let got = match result {
            Ok(got) => got,
            Err(C14nError::ExternalEntity { .. }) => {
                return (Outcome::RefusedByPolicy, String::new())
            }
            Err(e) => return (Outcome::Failed, format!("error: {e}")),
        };
        let mut expected =
            match std::fs::read(self.dir.join(self.str("expected").unwrap_or_default())) {
                Ok(bytes) => bytes,
                Err(e) => return (Outcome::Failed, format!("cannot read expected output: {e}")),
            };
        if self.str("compare") == Some("ignore-trailing-newline") && expected.ends_with(b"\n") {
            expected.pop();
        }
        if got == expected {
            (Outcome::Passed, String::new())
        } else {
            (Outcome::Failed, first_difference(&expected, &got))
        }
    }
}

fn first_difference(expected: &[u8], got: &[u8]) -> String {
    let at = expected.iter().zip(got).take_while(|(a, b)| a == b).count();
    let around = |b: &[u8]| {
        String::from_utf8_lossy(&b[at.saturating_sub(60)..(at + 60).min(b.len())]).into_owned()
    };
    format!(
        "differs at byte {at}:\n      expected …{:?}…\n      got      …{:?}…",
        around(expected),
        around(got)
    )
}

type Tally = BTreeMap<String, BTreeMap<Outcome, usize>>;

fn table(title: &str, tally: &Tally) -> String {
    let mut s = format!("\n{title:<32}");
    for (_, name) in COLUMNS {
        let _ = write!(s, " {name:>19}");
    }
    for (key, counts) in tally {
        let _ = write!(s, "\n{key:<32}");
        for (outcome, _) in COLUMNS {
            let _ = write!(s, " {:>19}", counts.get(&outcome).copied().unwrap_or(0));
        }
    }
    s
}

fn c14n_vectors_conform() {
    let Some(shared) = shared_dir() else { return };
    let dir = shared.join("c14n-vectors");
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(dir.join("manifest.json")).expect("read manifest.json"),
    )
    .expect("parse manifest.json");
    let cases = manifest["cases"].as_array().expect("manifest has cases[]");
    let (mut by_mode, mut by_suite, mut by_selection) = (Tally::new(), Tally::new(), Tally::new());
    let mut failures = Vec::new();
    for json in cases {
        let case = Case { json, dir: &dir };
        let (outcome, label, why) = case.run();
        let mode = case.str("mode").unwrap_or("?").to_string();
        let suite = case.str("suite").unwrap_or("?").to_string();
        *by_mode.entry(mode).or_default().entry(outcome).or_default() += 1;
        *by_suite
            .entry(suite)
            .or_default()
            .entry(outcome)
            .or_default() += 1;
        *by_selection
            .entry(label.to_string())
            .or_default()
            .entry(outcome)
            .or_default() += 1;
        if outcome == Outcome::Failed {
            failures.push(format!("  {}: {why}", case.str("id").unwrap_or("?")));
        }
    }
    println!("{}", table("mode", &by_mode));
    println!("{}", table("suite", &by_suite));
    println!("{}", table("selection", &by_selection));
    println!("\n{} cases, {} failed", cases.len(), failures.len());
    assert!(
        failures.is_empty(),
        "failing vectors:\n{}",
        failures.join("\n")
    );
}

fn main() -> std::process::ExitCode {
    use common::Needs;
    common::run_suite(
        "c14n_conformance",
        &[("c14n_vectors_conform", Needs::Corpus, c14n_vectors_conform)],
    )
}
