//! eps-translator: NHS Electronic Prescription Service messages between FHIR R4 and HL7 v3.
//!
//! FHIR Bundle JSON is parsed into the [`fhir`] model, validated, translated into the
//! [`hl7v3`] tree by [`translate`] (one module per message part) and written in the reference
//! implementation's exact formatting; [`signing`] builds the fragments a prescriber signs and
//! their digest (`$prepare`); [`to_fhir`] reads HL7 v3 back into FHIR; [`c14n`] is a general
//! XML canonicaliser; [`verify`] checks prescribers' XML-DSig signatures. `docs/` in the
//! repository describes each in turn (mapping, validation, c14n, verify, service).
//!
//! The core never reads the clock, the network or random numbers: the time and the ids a
//! message carries come from the [`Context`] the caller builds. The command line, the gRPC
//! service and the HTTP façade ([`cli`], [`service`]) are behind the default `service`
//! feature; with `default-features = false` the crate is the translation core alone.
//!
//! ```
//! use eps_translator::datetime::Instant;
//! use eps_translator::signing::{prepare, DigestAlgorithm};
//! use eps_translator::{c14n, to_fhir, translate, Context};
//!
//! let bundle = include_bytes!("../golden/convert/acute_minimal.json");
//! let ctx = Context::new(Instant::parse_rfc3339("2026-01-01T12:00:00+00:00").unwrap());
//!
//! // FHIR prescription-order Bundle -> HL7 v3 ParentPrescription.
//! let translation = translate::convert(bundle, &ctx).unwrap();
//! assert!(translation.xml.contains("<ParentPrescription"));
//!
//! // $prepare: the digest a prescriber's smartcard signs, as the reference computes it.
//! let prepared = prepare(bundle, DigestAlgorithm::Sha256, &ctx).unwrap();
//! assert!(prepared.signed_info_xml.contains(&prepared.digest_value));
//!
//! // HL7 v3 -> FHIR.
//! let fhir = to_fhir::to_fhir(translation.xml.as_bytes()).unwrap();
//! assert!(fhir.contains("\"resourceType\""));
//!
//! // Exclusive XML canonicalisation.
//! let options = c14n::Options::new(c14n::Mode::Exclusive);
//! let canonical = c14n::canonicalize("<a  b='1'/>", &options).unwrap();
//! assert_eq!(canonical, b"<a b=\"1\"></a>");
//!
//! // Bad input is refused with the FHIRPath and the rule, never a panic.
//! let refusal = translate::convert(br#"{"resourceType": "Bundle"}"#, &ctx).unwrap_err();
//! assert!(!refusal.issues.is_empty());
//! ```
#![forbid(unsafe_code)]

#[cfg(feature = "service")]
pub mod adapter;
pub mod c14n;
#[cfg(feature = "service")]
pub mod cli;
pub mod context;
pub mod datetime;
pub mod error;
pub mod fhir;
pub mod hl7v3;
pub mod json_skim;
pub mod mappings;
#[cfg(feature = "service")]
pub mod service;
pub mod signing;
pub mod to_fhir;
pub mod translate;
pub mod verify;

pub use context::Context;
pub use error::{Issue, IssueCode, Rejection};
