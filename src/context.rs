//! The translation context: everything a translation needs that is not in the input.
//!
//! The core never reads the clock or invents ids: the CLI and the service fill a `Context`
//! from flags, request fields or defaults, and pass it in.

use crate::datetime::Instant;

/// Sender ASID the reference's corpus was produced with (a test-environment value).
pub const DEFAULT_FROM_ASID: &str = "200000001285";
/// Receiver (Spine) ASID the reference's corpus was produced with (a test-environment value).
pub const DEFAULT_TO_ASID: &str = "567456789789";
/// SDS user id the reference's corpus was produced with.
pub const DEFAULT_SDS_USER_ID: &str = "555254239107";
/// SDS role profile id the reference's corpus was produced with.
pub const DEFAULT_SDS_ROLE_PROFILE_ID: &str = "555254240100";
/// SDS job role code the reference writes when none is known.
pub const DEFAULT_SDS_JOB_ROLE: &str = "UNKNOWN";

/// Inputs of a translation that do not come from the message itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// The message id; `None` means the Bundle identifier, upper-cased (for a release
    /// request, which has none, a name-based id of the request and the time).
    pub message_id: Option<String>,
    /// The id of a message's payload where the input has none to give (a release request's
    /// own id); `None` means one name-based on the message id.
    pub payload_id: Option<String>,
    /// "Now": the message's `creationTime`, a cancellation's `effectiveTime`, and the signing
    /// time when the Bundle carries no Provenance signature.
    pub now: Instant,
    pub from_asid: String,
    pub to_asid: String,
    pub sds_user_id: String,
    pub sds_role_profile_id: String,
    pub sds_job_role: String,
    /// Treat a bad prescription id check character as an error rather than a warning.
    pub strict: bool,
}

impl Context {
    /// A context with the documented defaults and the given "now".
    pub fn new(now: Instant) -> Context {
        Context {
            message_id: None,
            payload_id: None,
            now,
            from_asid: DEFAULT_FROM_ASID.to_string(),
            to_asid: DEFAULT_TO_ASID.to_string(),
            sds_user_id: DEFAULT_SDS_USER_ID.to_string(),
            sds_role_profile_id: DEFAULT_SDS_ROLE_PROFILE_ID.to_string(),
            sds_job_role: DEFAULT_SDS_JOB_ROLE.to_string(),
            strict: false,
        }
    }
}
