#![no_main]
//! `c14n`: a header line (mode, subtree selector, prefix list, selector bindings) and the
//! document (see `C14nRequest` in fuzz/src/lib.rs and fuzz/README.md).
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    match eps_translator_fuzz::timed(|| eps_translator_fuzz::c14n(data)) {
        Some(_) => Corpus::Keep,
        None => Corpus::Reject,
    }
});
