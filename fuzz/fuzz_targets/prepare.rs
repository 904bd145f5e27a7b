#![no_main]
//! `prepare` on the raw input, SHA-256 or SHA-1 by the input's length (see fuzz/README.md).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    eps_translator_fuzz::timed(|| eps_translator_fuzz::prepare_one(data));
});
