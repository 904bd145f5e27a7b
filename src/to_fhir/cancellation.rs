//! Cancellation response (`PORX_IN050101UK31`) → prescription-order-response Bundle.

use super::xml::{El, Result};
use crate::error::IssueCode;
use serde_json::Value;

/// Translates a cancellation response.
pub fn bundle(root: &El<'_, '_>) -> Result<Value> {
    Err(root.error(
        IssueCode::NotSupported,
        "cancellation responses are not translated yet",
    ))
}
