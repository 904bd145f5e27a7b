//! Shared helpers for the conformance tests: where the reference corpus is, and how to say
//! loudly that it is absent.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The shared corpus folder: `$EPS_SHARED_DIR`, else `../shared` beside the crate. `None`
/// (with a loud message) when it is absent outside CI; a panic when it is absent under CI.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = corpus_dir();
    if dir.join("eps-examples").is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: the EPS shared corpus is absent at {} and CI=true: conformance cannot be checked", dir.display());
    }
    eprintln!("==========================================================================");
    eprintln!(
        "{test}: EPS SHARED CORPUS ABSENT at {} — conformance NOT checked",
        dir.display()
    );
    eprintln!("set EPS_SHARED_DIR or place the corpus at ../shared to run it");
    eprintln!("==========================================================================");
    None
}

/// Every file below `dir` whose name satisfies `keep`, sorted.
pub fn find_files(dir: &Path, keep: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().and_then(|n| n.to_str()).is_some_and(keep) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The context the reference's corpus was produced with (clock pinned).
pub fn corpus_context(now: &str) -> eps_translator::Context {
    let now = eps_translator::datetime::Instant::parse_rfc3339(now).expect("valid pinned time");
    eps_translator::Context::new(now)
}

/// The first differing line of two texts, for a readable failure.
pub fn first_difference(actual: &str, expected: &str) -> String {
    for (i, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
        if a != e {
            return format!("line {}:\n  ours:      {a}\n  reference: {e}", i + 1);
        }
    }
    format!(
        "lengths differ: ours {} bytes, reference {} bytes",
        actual.len(),
        expected.len()
    )
}

/// The corpus' Send and Cancel requests that have a golden HL7 v3 response, with it:
/// `(request .json, response .xml)`.
pub fn convert_pairs(shared: &Path) -> Vec<(PathBuf, PathBuf)> {
    let requests = find_files(&shared.join("eps-examples"), &|n| {
        n.ends_with("-Process-Request-Send-200_OK.json")
            || n.ends_with("-Process-Request-Cancel-200_OK.json")
    });
    requests
        .into_iter()
        .filter_map(|request| {
            let name = request.file_name()?.to_str()?;
            let n = example_number(&request);
            let kind = if name.contains("-Send-") {
                "Send"
            } else {
                "Cancel"
            };
            let golden = request.with_file_name(format!("{n}-Convert-Response-{kind}-200_OK.xml"));
            golden.exists().then_some((request, golden))
        })
        .collect()
}

/// The corpus response beside a Prepare request (`…-Prepare-Response-200_OK.json`).
pub fn prepare_response(request: &Path) -> PathBuf {
    let name = request.file_name().unwrap().to_str().unwrap();
    request.with_file_name(name.replace("Request", "Response"))
}

/// The step number that starts a corpus file name (`3-Process-Request-….json` → `3`).
pub fn example_number(path: &Path) -> &str {
    let name = path.file_name().unwrap().to_str().unwrap();
    name.split('-').next().unwrap()
}

/// A mutation sweep's tally: how many inputs ran, how many were translated, and what went
/// wrong (a panic, output that does not parse, a refusal that gives no reason).
pub struct Sweep {
    pub runs: usize,
    pub accepted: usize,
    pub failures: Vec<String>,
}

impl Sweep {
    /// Starts a sweep. Until [`Sweep::finish`], panics are not printed as they happen: each is
    /// reported once, with the input that caused it.
    pub fn new() -> Sweep {
        std::panic::set_hook(Box::new(|_| {}));
        Sweep {
            runs: 0,
            accepted: 0,
            failures: Vec::new(),
        }
    }

    /// Runs `op` on one input called `what`, catching a panic (recorded with its message).
    pub fn run<T>(
        &mut self,
        what: &str,
        op: impl FnOnce() -> Result<T, eps_translator::Rejection>,
    ) -> Option<Result<T, eps_translator::Rejection>> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(op)) {
            Ok(result) => {
                if let Err(r) = &result {
                    if r.issues.is_empty()
                        || r.issues.iter().any(|i| i.diagnostics.trim().is_empty())
                    {
                        self.failures
                            .push(format!("{what}: refused without saying why: {r:?}"));
                    }
                }
                Some(result)
            }
            Err(payload) => {
                let message = payload
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| payload.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                self.failures.push(format!("{what}: panicked: {message}"));
                None
            }
        }
    }

    /// Prints the counts and fails on any failure, or on too few inputs to mean anything.
    pub fn finish(self, name: &str) {
        let _ = std::panic::take_hook();
        println!(
            "{name}: {} mutated inputs, {} translated, the rest refused; {} failures",
            self.runs,
            self.accepted,
            self.failures.len()
        );
        assert!(
            self.runs > 1000,
            "too few mutations to mean anything: {}",
            self.runs
        );
        assert!(
            self.failures.is_empty(),
            "{} failures, first ones:\n{}",
            self.failures.len(),
            self.failures
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// Whether a test of a suite reads the shared corpus.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Runs everywhere.
    Nothing,
    /// Reads `../shared`: reported as ignored, with the reason printed, when the corpus is
    /// absent (and failing under `CI=true`, where [`shared_dir`] panics).
    Corpus,
}

/// Runs a suite's tests with libtest-mimic (these test files are `harness = false`): unlike
/// the built-in harness it does not capture what the tests print, so every run shows the
/// counts each conformance test prints, and a test that could not run for want of the corpus
/// is counted as ignored in the summary instead of passing silently.
pub fn run_suite(suite: &str, tests: &[(&'static str, Needs, fn())]) -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let corpus_absent = !corpus_present() && std::env::var("CI").as_deref() != Ok("true");
    if corpus_absent && tests.iter().any(|(_, needs, _)| *needs == Needs::Corpus) {
        eprintln!(
            "{suite}: EPS SHARED CORPUS ABSENT — the tests that read it are IGNORED below \
             (set EPS_SHARED_DIR or place the corpus at ../shared)"
        );
    }
    let trials = tests
        .iter()
        .map(|&(name, needs, test)| {
            libtest_mimic::Trial::test(name, move || {
                test();
                Ok(())
            })
            .with_ignored_flag(needs == Needs::Corpus && corpus_absent)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}

/// Whether the shared corpus is where [`shared_dir`] looks for it.
pub fn corpus_present() -> bool {
    corpus_dir().join("eps-examples").is_dir()
}

/// `$EPS_SHARED_DIR`, else `../shared` beside the crate.
fn corpus_dir() -> PathBuf {
    match std::env::var_os("EPS_SHARED_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}
