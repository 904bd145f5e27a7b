//! Golden tests of our own: every `golden/convert/NAME.json` is converted with a pinned
//! context and compared with `NAME.xml` plus `NAME.report.txt` (warnings and FHIRPaths not
//! carried over), or — for inputs that must be refused — with `NAME.err.json`, the
//! OperationOutcome. Inputs named `err_*` must be refused; all others must convert.
//!
//! Regenerate the expected files: `UPDATE_EXPECT=1 cargo test --test golden`, then review
//! the git diff. (Inputs come from `golden/make_inputs.py`.)

use eps_translator::datetime::Instant;
use eps_translator::translate::convert;
use eps_translator::Context;
use std::path::{Path, PathBuf};

fn context() -> Context {
    Context::new(Instant::parse_rfc3339("2022-02-01T00:00:00Z").unwrap())
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.ends_with(".json") && !name.ends_with(".err.json")
        })
        .collect();
    files.sort();
    files
}

fn check(path: &Path, actual: &str, update: bool, failures: &mut Vec<String>) {
    if update {
        std::fs::write(path, actual).unwrap();
        return;
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => {}
        Ok(expected) => {
            let diff = actual
                .lines()
                .zip(expected.lines())
                .enumerate()
                .find(|(_, (a, e))| a != e)
                .map(|(i, (a, e))| format!("line {}:\n  actual:   {a}\n  expected: {e}", i + 1))
                .unwrap_or_else(|| {
                    format!(
                        "lengths differ ({} vs {} bytes)",
                        actual.len(),
                        expected.len()
                    )
                });
            failures.push(format!("{}: {diff}", path.display()));
        }
        Err(_) => failures.push(format!(
            "{}: missing (run UPDATE_EXPECT=1 cargo test --test golden)",
            path.display()
        )),
    }
}

#[test]
fn golden_convert_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/convert");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut failures = Vec::new();
    let cases = inputs(&dir);
    assert!(
        cases.len() >= 20,
        "golden cases missing from {}",
        dir.display()
    );
    for input in &cases {
        let stem = input.file_stem().unwrap().to_str().unwrap();
        let must_fail = stem.starts_with("err_");
        match convert(&std::fs::read(input).unwrap(), &context()) {
            Ok(t) => {
                if must_fail {
                    failures.push(format!("{stem}: converted but must be refused"));
                    continue;
                }
                check(
                    &dir.join(format!("{stem}.xml")),
                    &t.xml,
                    update,
                    &mut failures,
                );
                let mut report = String::new();
                for issue in &t.issues {
                    report.push_str(&format!("issue: {issue}\n"));
                }
                for path in &t.not_carried {
                    report.push_str(&format!("not carried: {path}\n"));
                }
                check(
                    &dir.join(format!("{stem}.report.txt")),
                    &report,
                    update,
                    &mut failures,
                );
            }
            Err(rejection) => {
                if !must_fail {
                    failures.push(format!("{stem}: refused: {rejection}"));
                    continue;
                }
                let body =
                    serde_json::to_string_pretty(&rejection.to_operation_outcome()).unwrap() + "\n";
                check(
                    &dir.join(format!("{stem}.err.json")),
                    &body,
                    update,
                    &mut failures,
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
