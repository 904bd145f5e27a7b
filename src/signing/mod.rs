//! Signatures: the fragments a prescriber signs, their digest, the `SignedInfo` and the
//! `$prepare` operation that returns it for signing.

pub mod fragments;
pub mod prepare;

pub use prepare::{prepare, DigestAlgorithm, Prepared};
