//! What the verifier answers: one [`CheckResult`] per check, in a fixed order, for each
//! prescription, and the JSON form the CLI and the services print.
//!
//! Each check carries the reference implementation's verdict string, so callers that parse
//! those strings keep working, plus a name of its own and a detail saying what was compared.

use serde_json::{json, Value};

/// The checks, in the order they are reported (the reference's order for the ones it has).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// One `Signature` with `SignedInfo`, `SignatureValue` and `KeyInfo/X509Data/X509Certificate`.
    Format,
    /// Exactly one certificate in `KeyInfo`.
    SingleCertificate,
    /// The certificate parses as X.509.
    Certificate,
    /// The pinned signature profile: algorithms, one `Reference` without `URI`, the transform,
    /// no comments or processing instructions, the key size.
    Profile,
    /// The RSA signature over the received, canonicalised `SignedInfo`.
    Signature,
    /// The `DigestValue` against the digest of the prescription's own fragments.
    Digest,
    /// The signer's certificate is not on its CA's revocation list.
    Revocation,
    /// The issuing CA is not on the authority revocation list.
    CaRevocation,
    /// The signer's certificate was valid at the signing time (`author/time`).
    Validity,
    /// The signer's certificate chains to a configured trust anchor.
    Trust,
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Check; 10] = [
        Check::Format,
        Check::SingleCertificate,
        Check::Certificate,
        Check::Profile,
        Check::Signature,
        Check::Digest,
        Check::Revocation,
        Check::CaRevocation,
        Check::Validity,
        Check::Trust,
    ];

    /// The check's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Check::Format => "format",
            Check::SingleCertificate => "single-certificate",
            Check::Certificate => "certificate",
            Check::Profile => "profile",
            Check::Signature => "signature",
            Check::Digest => "digest",
            Check::Revocation => "revocation",
            Check::CaRevocation => "ca-revocation",
            Check::Validity => "validity",
            Check::Trust => "trust",
        }
    }

    /// The reference implementation's verdict string when the check fails. A signature outside
    /// the pinned profile is, in the reference's vocabulary, a signature format it does not
    /// accept.
    pub fn verdict(self) -> &'static str {
        match self {
            Check::Format | Check::Profile => "Invalid signature format",
            Check::SingleCertificate => "Multiple certificates detected",
            Check::Certificate => "Invalid certificate",
            Check::Signature => "Signature is invalid",
            Check::Digest => "Signature doesn't match prescription",
            Check::Revocation => "Certificate is revoked",
            Check::CaRevocation => "CA certificate is revoked",
            Check::Validity => "Certificate expired when signed",
            Check::Trust => "Certificate not trusted",
        }
    }

    /// The Spine error code the `$verify-signature` answer gives with the verdict.
    pub fn spine_code(self) -> &'static str {
        match self {
            Check::Signature => "INVALID_VALUE",
            _ => "INVALID",
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed,
    /// Not established: a check it depends on failed, or (revocation) no data was given.
    NotChecked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::NotChecked => "not-checked",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub check: Check,
    pub status: Status,
    /// What was compared, or why the check could not run.
    pub detail: String,
}

impl CheckResult {
    pub fn passed(check: Check, detail: impl Into<String>) -> Self {
        CheckResult {
            check,
            status: Status::Passed,
            detail: detail.into(),
        }
    }

    pub fn failed(check: Check, detail: impl Into<String>) -> Self {
        CheckResult {
            check,
            status: Status::Failed,
            detail: detail.into(),
        }
    }

    pub fn not_checked(check: Check, detail: impl Into<String>) -> Self {
        CheckResult {
            check,
            status: Status::NotChecked,
            detail: detail.into(),
        }
    }

    /// From a check's `Ok(detail)` / `Err(detail)`.
    pub fn from_outcome(check: Check, outcome: Result<String, String>) -> Self {
        match outcome {
            Ok(detail) => CheckResult::passed(check, detail),
            Err(detail) => CheckResult::failed(check, detail),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "name": self.check.name(),
            "passed": self.status == Status::Passed,
            "status": self.status.as_str(),
            "verdict": self.check.verdict(),
            "detail": self.detail,
        })
    }
}

/// The verdict on one prescription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrescriptionVerdict {
    /// The ParentPrescription's `id/@root`.
    pub id: String,
    /// The prescription's short-form id (`pertinentPrescription/id/@extension`), when present.
    pub short_form_id: Option<String>,
    /// For a prescription read from FHIR, its Bundle's `identifier.value` (the
    /// `$verify-signature` answer's `messageIdentifier`).
    pub message_identifier: Option<String>,
    /// Every check, in [`Check::ALL`] order.
    pub checks: Vec<CheckResult>,
    /// Whether a revocation check that was not run may still count as valid (the policy's
    /// choice; see [`super::RevocationPolicy`]).
    pub revocation_optional: bool,
}

impl PrescriptionVerdict {
    /// Valid only when every check passed, except revocation checks the policy allows to be
    /// unchecked. Anything not established is not valid.
    pub fn is_valid(&self) -> bool {
        self.checks.iter().all(|c| match c.status {
            Status::Passed => true,
            Status::Failed => false,
            Status::NotChecked => {
                self.revocation_optional
                    && matches!(c.check, Check::Revocation | Check::CaRevocation)
            }
        })
    }

    /// The result of one check.
    pub fn result(&self, check: Check) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.check == check)
    }

    /// The reference's verdict strings of the failed checks, in order, each once.
    pub fn errors(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for c in &self.checks {
            if c.status == Status::Failed && !out.contains(&c.check.verdict()) {
                out.push(c.check.verdict());
            }
        }
        out
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| c.status == Status::Failed)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "valid": self.is_valid(),
            "errors": self.errors(),
            "checks": self.checks.iter().map(CheckResult::to_json).collect::<Vec<_>>(),
        })
    }
}

/// The verdicts on every prescription of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The time the checks were made at, `YYYY-MM-DDTHH:MM:SS+00:00`.
    pub checked_at: String,
    pub prescriptions: Vec<PrescriptionVerdict>,
}

impl Report {
    /// Valid when there is at least one prescription and every one is valid.
    pub fn is_valid(&self) -> bool {
        !self.prescriptions.is_empty() && self.prescriptions.iter().all(|p| p.is_valid())
    }

    pub fn to_json(&self) -> Value {
        json!({
            "valid": self.is_valid(),
            "checkedAt": self.checked_at,
            "prescriptions": self.prescriptions.iter().map(PrescriptionVerdict::to_json).collect::<Vec<_>>(),
        })
    }
}

impl Report {
    /// The `Parameters` the reference's `$verify-signature` answered: per prescription a
    /// part `messageIdentifier` and a part `result` holding an OperationOutcome —
    /// `informational` when valid, else one `invalid` issue per failed check, with the Spine
    /// error coding, the check's detail in `diagnostics`, and `Provenance.signature.data`.
    pub fn to_verify_signature_parameters(&self) -> Value {
        let parameter: Vec<Value> = self
            .prescriptions
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let issues: Vec<Value> = if p.is_valid() {
                    vec![json!({
                        "severity": "information",
                        "code": "informational",
                        "diagnostics": "every check passed; revocation not checked",
                    })]
                } else {
                    p.failures()
                        .map(|c| {
                            json!({
                                "severity": "error",
                                "code": "invalid",
                                "details": {"coding": [{
                                    "system": "https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode",
                                    "code": c.check.spine_code(),
                                    "display": format!("{}.", c.check.verdict()),
                                }]},
                                "diagnostics": format!("{}: {}", c.check.name(), c.detail),
                                "expression": ["Provenance.signature.data"],
                            })
                        })
                        .collect()
                };
                json!({
                    "name": i.to_string(),
                    "part": [
                        {
                            "name": "messageIdentifier",
                            "valueReference": {"identifier": {
                                "system": "https://tools.ietf.org/html/rfc4122",
                                "value": super::message::message_identifier(p),
                            }},
                        },
                        {
                            "name": "result",
                            "resource": {
                                "resourceType": "OperationOutcome",
                                "meta": {"lastUpdated": self.checked_at},
                                "issue": issues,
                            },
                        },
                    ],
                })
            })
            .collect();
        json!({"resourceType": "Parameters", "parameter": parameter})
    }
}
