//! Acknowledgement (`MCCI_IN010000UK13`) → OperationOutcome.

use super::xml::{El, Result};
use crate::error::IssueCode;
use serde_json::Value;

/// Translates an acknowledgement.
pub fn operation_outcome(root: &El<'_, '_>) -> Result<Value> {
    Err(root.error(
        IssueCode::NotSupported,
        "acknowledgements are not translated yet",
    ))
}
