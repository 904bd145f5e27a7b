#![no_main]
//! The signature XML a Bundle carries: the input, base64ed into the Provenance
//! `signature.data` of the minimal Bundle, through `convert` and `prepare`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    eps_translator_fuzz::timed(|| eps_translator_fuzz::bundle_signature(data));
});
