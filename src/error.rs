//! The error model: every rejection is a list of [`Issue`]s, each with a FHIR
//! OperationOutcome issue code and, where it applies, the place (a FHIRPath into a Bundle or a
//! `line:column` element path into XML). Rejections render as an OperationOutcome.

use serde_json::{json, Value};
use std::fmt;

/// OperationOutcome `issue.code` values this crate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueCode {
    Invalid,
    Structure,
    Required,
    Value,
    Invariant,
    NotSupported,
    TooCostly,
    Processing,
    Informational,
}

impl IssueCode {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueCode::Invalid => "invalid",
            IssueCode::Structure => "structure",
            IssueCode::Required => "required",
            IssueCode::Value => "value",
            IssueCode::Invariant => "invariant",
            IssueCode::NotSupported => "not-supported",
            IssueCode::TooCostly => "too-costly",
            IssueCode::Processing => "processing",
            IssueCode::Informational => "informational",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub severity: Severity,
    pub code: IssueCode,
    /// What is wrong, lower-case, no trailing full stop (except where the reference's exact
    /// message text is kept for compatibility).
    pub diagnostics: String,
    /// Where: a FHIRPath or an XML position.
    pub expression: Option<String>,
}

impl Issue {
    pub fn error(
        code: IssueCode,
        diagnostics: impl Into<String>,
        expression: Option<String>,
    ) -> Issue {
        Issue {
            severity: Severity::Error,
            code,
            diagnostics: diagnostics.into(),
            expression,
        }
    }

    pub fn warning(
        code: IssueCode,
        diagnostics: impl Into<String>,
        expression: Option<String>,
    ) -> Issue {
        Issue {
            severity: Severity::Warning,
            code,
            diagnostics: diagnostics.into(),
            expression,
        }
    }

    /// The issue as an OperationOutcome `issue` element.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "severity": self.severity.as_str(),
            "code": self.code.as_str(),
            "diagnostics": self.diagnostics,
        });
        if let Some(e) = &self.expression {
            v["expression"] = json!([e]);
        }
        v
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.expression {
            Some(e) => write!(
                f,
                "{} ({}): {} at {}",
                self.severity.as_str(),
                self.code.as_str(),
                self.diagnostics,
                e
            ),
            None => write!(
                f,
                "{} ({}): {}",
                self.severity.as_str(),
                self.code.as_str(),
                self.diagnostics
            ),
        }
    }
}

/// Input refused: one or more error issues, nothing written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub issues: Vec<Issue>,
}

impl Rejection {
    pub fn single(issue: Issue) -> Rejection {
        Rejection {
            issues: vec![issue],
        }
    }

    /// A rejection for an error at a FHIRPath.
    pub fn at(
        code: IssueCode,
        path: impl Into<String>,
        diagnostics: impl Into<String>,
    ) -> Rejection {
        Rejection::single(Issue::error(code, diagnostics, Some(path.into())))
    }

    /// The rejection as a FHIR OperationOutcome.
    pub fn to_operation_outcome(&self) -> Value {
        operation_outcome(&self.issues)
    }
}

/// Builds an OperationOutcome from issues.
pub fn operation_outcome(issues: &[Issue]) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": issues.iter().map(Issue::to_json).collect::<Vec<_>>(),
    })
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.issues.as_slice() {
            [] => write!(f, "input rejected"),
            [one] => write!(f, "{one}"),
            [first, rest @ ..] => write!(f, "{first} (and {} more)", rest.len()),
        }
    }
}

impl std::error::Error for Rejection {}
