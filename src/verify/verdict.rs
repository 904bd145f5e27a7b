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

    /// The verdict string when a revocation check's status is unknown and the policy
    /// requires it (not one of the reference's: it never reports an unknown status).
    pub fn unknown_verdict(self) -> &'static str {
        match self {
            Check::CaRevocation => "CA certificate revocation status unknown",
            _ => "Certificate revocation status unknown",
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
    /// Not run: a check it depends on failed, or (revocation) the policy is `off`.
    NotChecked,
    /// Revocation only: run, but no usable CRL established the status (the detail says why).
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::NotChecked => "not-checked",
            Status::Unknown => "unknown",
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

    pub fn unknown(check: Check, detail: impl Into<String>) -> Self {
        CheckResult {
            check,
            status: Status::Unknown,
            detail: detail.into(),
        }
    }

    /// The verdict string this result reports: the check's, or for an unknown revocation
    /// status [`Check::unknown_verdict`].
    pub fn verdict(&self) -> &'static str {
        match self.status {
            Status::Unknown => self.check.unknown_verdict(),
            _ => self.check.verdict(),
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
            "verdict": self.verdict(),
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
    /// The revocation policy the checks were made under: whether an unknown or unchecked
    /// revocation status counts against validity.
    pub revocation: super::RevocationPolicy,
    /// The CRL distribution points (http and https URLs) of each certificate whose
    /// revocation status is unknown, one list per certificate in its order: what an adapter
    /// may fetch (the next URL of a list when one fails).
    pub crl_urls: Vec<Vec<String>>,
}

impl PrescriptionVerdict {
    /// Whether `c` makes the prescription invalid: a failure; an unknown revocation status
    /// unless the policy is `prefer`; a check not run, unless it is revocation with the
    /// policy `off`.
    pub fn counts_against(&self, c: &CheckResult) -> bool {
        use super::RevocationPolicy as P;
        match c.status {
            Status::Passed => false,
            Status::Failed => true,
            Status::Unknown => self.revocation != P::Prefer,
            Status::NotChecked => {
                !(self.revocation == P::Off
                    && matches!(c.check, Check::Revocation | Check::CaRevocation))
            }
        }
    }

    /// Valid only when nothing counts against it ([`Self::counts_against`]). Anything not
    /// established is not valid, unless the policy says otherwise for revocation.
    pub fn is_valid(&self) -> bool {
        !self.checks.iter().any(|c| self.counts_against(c))
    }

    /// The result of one check.
    pub fn result(&self, check: Check) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.check == check)
    }

    /// The verdict strings of the failed checks (the reference's), and of an unknown
    /// revocation status that counts against validity, in order, each once.
    pub fn errors(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for c in &self.checks {
            let counts = c.status == Status::Failed
                || (c.status == Status::Unknown && self.counts_against(c));
            if counts && !out.contains(&c.verdict()) {
                out.push(c.verdict());
            }
        }
        out
    }

    /// The checks that failed, and unknown revocation statuses that count against validity.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| {
            c.status == Status::Failed || (c.status == Status::Unknown && self.counts_against(c))
        })
    }

    /// What is reported without making the prescription invalid: unknown revocation statuses
    /// under `prefer`, as `check: detail`.
    pub fn warnings(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Unknown && !self.counts_against(c))
            .map(|c| format!("{}: {}", c.check.name(), c.detail))
            .collect()
    }

    /// How revocation came out, in a few words, for the answers of valid prescriptions.
    pub fn revocation_summary(&self) -> &'static str {
        let statuses: Vec<Status> = self
            .checks
            .iter()
            .filter(|c| matches!(c.check, Check::Revocation | Check::CaRevocation))
            .map(|c| c.status)
            .collect();
        if statuses.iter().all(|s| *s == Status::Passed) {
            "revocation checked: not revoked"
        } else if statuses.contains(&Status::Unknown) {
            "revocation status unknown (policy prefer)"
        } else {
            "revocation not checked (policy off)"
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "valid": self.is_valid(),
            "errors": self.errors(),
            "warnings": self.warnings(),
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
                    let mut issues = vec![json!({
                        "severity": "information",
                        "code": "informational",
                        "diagnostics": format!("every check passed; {}", p.revocation_summary()),
                    })];
                    issues.extend(p.warnings().into_iter().map(|w| {
                        json!({"severity": "warning", "code": "informational", "diagnostics": w})
                    }));
                    issues
                } else {
                    p.failures()
                        .map(|c| {
                            json!({
                                "severity": "error",
                                "code": "invalid",
                                "details": {"coding": [{
                                    "system": "https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode",
                                    "code": c.check.spine_code(),
                                    "display": format!("{}.", c.verdict()),
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
