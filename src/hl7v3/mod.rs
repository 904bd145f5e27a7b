//! The HL7 v3 side: the message tree and its renderings.

pub mod canonical;
pub mod element;
pub mod reader;
mod scan;
pub mod writer;

pub use element::{Content, Element};
