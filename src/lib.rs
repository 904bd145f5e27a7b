//! eps-translator: NHS Electronic Prescription Service messages between FHIR R4 and HL7 v3.
//!
//! The flow (see `docs/` and DESIGN.md): FHIR Bundle JSON is parsed into the [`fhir`] model,
//! validated, translated into the [`hl7v3`] tree by [`translate`] (one module per message
//! part) and written in the reference implementation's exact formatting.
#![forbid(unsafe_code)]

pub mod c14n;
pub mod cli;
pub mod context;
pub mod datetime;
pub mod error;
pub mod fhir;
pub mod hl7v3;
pub mod json_skim;
pub mod mappings;
pub mod service;
pub mod signing;
pub mod to_fhir;
pub mod translate;
pub mod verify;

pub use context::Context;
pub use error::{Issue, IssueCode, Rejection};
