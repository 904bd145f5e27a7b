//! Shared helpers for the conformance tests: where the reference corpus is, and how to say
//! loudly that it is absent.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The shared corpus folder: `$EPS_SHARED_DIR`, else `../shared` beside the crate. `None`
/// (with a loud message) when it is absent outside CI; a panic when it is absent under CI.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("EPS_SHARED_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    };
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
