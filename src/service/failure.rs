//! Why a request failed, and its wire forms: a gRPC status (with google.rpc error details), a
//! stream item's `ItemError`, an HTTP status with an OperationOutcome. One enum, so the three
//! transports cannot disagree.

use super::pb::v1;
use crate::error::{operation_outcome, Issue, IssueCode, Rejection};
use std::collections::HashMap;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// The `ErrorInfo.domain` of our errors.
pub const ERROR_DOMAIN: &str = "eps-translator";
/// The `ErrorInfo.reason` of an input rejection.
pub const REASON_REJECTED: &str = "INPUT_REJECTED";
/// The `ErrorInfo.metadata` key holding the OperationOutcome JSON.
pub const OPERATION_OUTCOME_KEY: &str = "operation_outcome";

/// Most BadRequest field violations put in one status; the rest are counted in the message.
/// Status details travel in an HTTP/2 trailer, and clients cap header lists (16 KiB is usual).
const MAX_VIOLATIONS: usize = 20;
/// Largest OperationOutcome JSON put in a status; a larger one is left out (the violations
/// still say what and where).
const MAX_OUTCOME_IN_STATUS: usize = 8 * 1024;

/// A failed request.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The input was refused: what and where. gRPC `INVALID_ARGUMENT`, HTTP 400.
    Rejected(Rejection),
    /// The caller's deadline or the server's timeout passed. `DEADLINE_EXCEEDED`, HTTP 504.
    DeadlineExceeded(String),
    /// The request body did not arrive within the server's body timeout (a slow or stalled
    /// sender). `DEADLINE_EXCEEDED`, HTTP 408.
    RequestTimeout(String),
    /// At the concurrency limit: shed, not queued. `RESOURCE_EXHAUSTED`, HTTP 503.
    Busy,
    /// A message larger than the server's maximum. `RESOURCE_EXHAUSTED`, HTTP 413.
    TooLarge(String),
    /// An RPC the server does not implement (no current RPC returns it). `UNIMPLEMENTED`,
    /// HTTP 501.
    Unimplemented(&'static str),
    /// A fault of ours (a panic in the core, a lost worker). `INTERNAL`, HTTP 500. The message
    /// is generic: it never carries input data or internals.
    Internal,
    /// An HTTP body in a content type the façade does not read. HTTP 415.
    UnsupportedMediaType(String),
    /// Any other status passed through from the transport (a broken stream, a cancelled call).
    Transport(Code, String),
}

/// The outcome label of a request, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Rejected,
    DeadlineExceeded,
    Shed,
    TooLarge,
    /// An HTTP body in a content type or encoding the façade does not read (415), counted
    /// apart from refused input (400).
    UnsupportedMediaType,
    Unimplemented,
    Internal,
    /// The caller went away, or the transport failed, before an answer.
    Cancelled,
}

impl Outcome {
    pub const ALL: [Outcome; 9] = [
        Outcome::Ok,
        Outcome::Rejected,
        Outcome::DeadlineExceeded,
        Outcome::Shed,
        Outcome::TooLarge,
        Outcome::UnsupportedMediaType,
        Outcome::Unimplemented,
        Outcome::Internal,
        Outcome::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Rejected => "rejected",
            Outcome::DeadlineExceeded => "deadline_exceeded",
            Outcome::Shed => "shed",
            Outcome::TooLarge => "too_large",
            Outcome::UnsupportedMediaType => "unsupported_media_type",
            Outcome::Unimplemented => "unimplemented",
            Outcome::Internal => "internal",
            Outcome::Cancelled => "cancelled",
        }
    }
}

impl Failure {
    pub fn outcome(&self) -> Outcome {
        match self {
            Failure::Rejected(_) => Outcome::Rejected,
            Failure::UnsupportedMediaType(_) => Outcome::UnsupportedMediaType,
            Failure::DeadlineExceeded(_) | Failure::RequestTimeout(_) => Outcome::DeadlineExceeded,
            Failure::Busy => Outcome::Shed,
            Failure::TooLarge(_) => Outcome::TooLarge,
            Failure::Unimplemented(_) => Outcome::Unimplemented,
            Failure::Internal => Outcome::Internal,
            Failure::Transport(..) => Outcome::Cancelled,
        }
    }

    pub fn code(&self) -> Code {
        match self {
            Failure::Rejected(_) | Failure::UnsupportedMediaType(_) => Code::InvalidArgument,
            Failure::DeadlineExceeded(_) | Failure::RequestTimeout(_) => Code::DeadlineExceeded,
            Failure::Busy | Failure::TooLarge(_) => Code::ResourceExhausted,
            Failure::Unimplemented(_) => Code::Unimplemented,
            Failure::Internal => Code::Internal,
            Failure::Transport(code, _) => *code,
        }
    }

    /// For the log line of a refused request: each issue's code and where (FHIRPath or XML
    /// position), never its diagnostics, which may quote the input. At most ten.
    pub fn problems(&self) -> Option<String> {
        let Failure::Rejected(rejection) = self else {
            return None;
        };
        let mut out: Vec<String> = rejection
            .issues
            .iter()
            .take(10)
            .map(|i| {
                let at: String = i
                    .expression
                    .as_deref()
                    .unwrap_or("-")
                    .chars()
                    .take(160)
                    .collect();
                format!("{}@{at}", i.code.as_str())
            })
            .collect();
        if rejection.issues.len() > 10 {
            out.push(format!("and {} more", rejection.issues.len() - 10));
        }
        Some(out.join(" "))
    }

    /// A one-line summary (the gRPC status message).
    pub fn message(&self) -> String {
        match self {
            Failure::Rejected(r) => format!("input rejected: {r}"),
            Failure::DeadlineExceeded(m)
            | Failure::RequestTimeout(m)
            | Failure::TooLarge(m)
            | Failure::UnsupportedMediaType(m)
            | Failure::Transport(_, m) => m.clone(),
            Failure::Busy => {
                "server busy: at its concurrency limit, retry with backoff".to_string()
            }
            Failure::Unimplemented(m) => (*m).to_string(),
            Failure::Internal => "internal error".to_string(),
        }
    }

    /// The issues an OperationOutcome carries for this failure.
    pub fn issues(&self) -> Vec<Issue> {
        match self {
            Failure::Rejected(r) => r.issues.clone(),
            other => {
                let code = match other {
                    Failure::DeadlineExceeded(_)
                    | Failure::RequestTimeout(_)
                    | Failure::Busy
                    | Failure::TooLarge(_) => IssueCode::TooCostly,
                    Failure::Unimplemented(_) | Failure::UnsupportedMediaType(_) => {
                        IssueCode::NotSupported
                    }
                    _ => IssueCode::Processing,
                };
                vec![Issue::error(code, other.message(), None)]
            }
        }
    }

    /// The FHIR OperationOutcome JSON for this failure.
    pub fn operation_outcome_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(&operation_outcome(&self.issues())).unwrap_or_default()
    }

    /// The gRPC status: for a rejection, `INVALID_ARGUMENT` with a BadRequest field violation
    /// per issue (field = its FHIRPath or XML position, else `input_field`) and an ErrorInfo
    /// carrying the OperationOutcome JSON.
    pub fn to_status(&self, input_field: &str) -> Status {
        match self {
            Failure::Rejected(r) => {
                let mut violations: Vec<FieldViolation> = r
                    .issues
                    .iter()
                    .take(MAX_VIOLATIONS)
                    .map(|i| {
                        FieldViolation::new(
                            i.expression.as_deref().unwrap_or(input_field),
                            format!("{} ({})", i.diagnostics, i.code.as_str()),
                        )
                    })
                    .collect();
                if r.issues.len() > MAX_VIOLATIONS {
                    violations.push(FieldViolation::new(
                        input_field,
                        format!("and {} more problems", r.issues.len() - MAX_VIOLATIONS),
                    ));
                }
                let mut details = ErrorDetails::with_bad_request(violations);
                let mut metadata = HashMap::new();
                let outcome = serde_json::to_string(&r.to_operation_outcome()).unwrap_or_default();
                if outcome.len() <= MAX_OUTCOME_IN_STATUS {
                    metadata.insert(OPERATION_OUTCOME_KEY.to_string(), outcome);
                }
                details.set_error_info(REASON_REJECTED, ERROR_DOMAIN, metadata);
                Status::with_error_details(Code::InvalidArgument, self.message(), details)
            }
            Failure::Busy => Status::with_error_details(
                Code::ResourceExhausted,
                self.message(),
                ErrorDetails::with_retry_info(Some(std::time::Duration::from_millis(50))),
            ),
            other => Status::new(other.code(), other.message()),
        }
    }

    /// The failure as one stream item's error.
    pub fn to_item_error(&self) -> v1::ItemError {
        v1::ItemError {
            code: self.code() as i32,
            message: self.message(),
            issues: self.issues().iter().map(v1::Issue::from).collect(),
            operation_outcome_json: match self {
                Failure::Rejected(_) => self.operation_outcome_json(),
                _ => Vec::new(),
            },
        }
    }

    /// The HTTP status of this failure on the façade.
    pub fn http_status(&self) -> u16 {
        match self {
            Failure::Rejected(_) => 400,
            Failure::DeadlineExceeded(_) => 504,
            Failure::RequestTimeout(_) => 408,
            Failure::Busy => 503,
            Failure::TooLarge(_) => 413,
            Failure::UnsupportedMediaType(_) => 415,
            Failure::Unimplemented(_) => 501,
            Failure::Internal | Failure::Transport(..) => 500,
        }
    }

    /// A status that arrived from the transport (a stream's inbound side), in our terms:
    /// tonic reports a message over the size limit as `OUT_OF_RANGE`; gRPC says
    /// `RESOURCE_EXHAUSTED`.
    pub fn from_transport(status: &Status) -> Failure {
        match status.code() {
            Code::OutOfRange if status.message().contains("too large") => {
                Failure::TooLarge(too_large_message(status.message()))
            }
            code => Failure::Transport(code, status.message().to_string()),
        }
    }
}

/// Our wording of tonic's "decoded message length too large" message.
pub fn too_large_message(tonic_message: &str) -> String {
    let numbers: Vec<&str> = tonic_message
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    match numbers.as_slice() {
        [found, limit, ..] => {
            format!("message too large: {found} bytes, the server's maximum is {limit} bytes")
        }
        _ => "message too large for the server's maximum".to_string(),
    }
}

impl From<Rejection> for Failure {
    fn from(r: Rejection) -> Failure {
        Failure::Rejected(r)
    }
}
