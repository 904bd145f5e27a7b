//! The translation core as a library: convert a prescription-order Bundle to HL7 v3, prepare
//! the digest its prescriber signs, and read the HL7 v3 back as FHIR.
//!
//! ```text
//! cargo run --example library [BUNDLE.json]
//! ```
//!
//! Without an argument it uses the bundled example `golden/convert/acute_minimal.json`. It
//! needs only the core (`default-features = false`).

use eps_translator::datetime::Instant;
use eps_translator::signing::{prepare, DigestAlgorithm};
use eps_translator::{to_fhir, translate, Context, Rejection};
use std::process::ExitCode;

fn main() -> ExitCode {
    let bundle = match std::env::args().nth(1) {
        Some(path) => match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("cannot read {path}: {e}");
                return ExitCode::from(2);
            }
        },
        None => include_bytes!("../golden/convert/acute_minimal.json").to_vec(),
    };
    // The core never reads the clock: the caller says what time it is.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let ctx = Context::new(Instant::from_unix(now).expect("the clock is in range"));

    match run(&bundle, &ctx) {
        Ok(()) => ExitCode::SUCCESS,
        Err(rejection) => {
            for issue in &rejection.issues {
                eprintln!("refused: {issue}");
            }
            ExitCode::from(1)
        }
    }
}

fn run(bundle: &[u8], ctx: &Context) -> Result<(), Rejection> {
    let translation = translate::convert(bundle, ctx)?;
    let head: String = translation
        .xml
        .lines()
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    println!("HL7 v3 ({} bytes):\n{head}\n...", translation.xml.len());
    for path in &translation.not_carried {
        println!("not carried: {path}");
    }

    let prepared = prepare(bundle, DigestAlgorithm::Sha256, ctx)?;
    println!("digest to sign (SHA-256): {}", prepared.digest_value);

    let fhir = to_fhir::to_fhir(translation.xml.as_bytes())?;
    println!("back to FHIR: {} bytes of JSON", fhir.len());
    Ok(())
}
