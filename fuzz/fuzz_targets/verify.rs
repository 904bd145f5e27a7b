#![no_main]
//! `verify` on the raw input (HL7 v3 XML or FHIR JSON) against a fixed test anchor, made
//! before the first input so that no input is charged for it (see fuzz/README.md).
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: {
        eps_translator_fuzz::trust();
    },
    |data: &[u8]| {
        eps_translator_fuzz::timed(|| eps_translator_fuzz::verify(data));
    }
);
