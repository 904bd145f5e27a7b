#![no_main]
//! `to_fhir` on the raw input (see fuzz/README.md).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    eps_translator_fuzz::timed(|| eps_translator_fuzz::to_fhir(data));
});
