//! The generated protobuf and tonic code for `proto/eps/translator/v1/translator.proto`, and
//! the conversions between it and the core's types. Nothing outside `service` sees a proto
//! type, and nothing here decides anything about a translation.

/// `eps.translator.v1`: messages, the `Translator` server and client (generated).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    tonic::include_proto!("eps.translator.v1");
}

use crate::c14n::Mode;
use crate::datetime::Instant;
use crate::error::{Issue, IssueCode, Rejection, Severity};
use crate::signing::{DigestAlgorithm, Prepared};
use crate::translate::Translation;
use crate::verify;
use crate::Context;

/// The encoded FileDescriptorSet of the API (with its imports and comments), which server
/// reflection serves so that clients need no `.proto` file.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    tonic::include_file_descriptor_set!("eps_translator_descriptor");

/// The trust configuration of a request: its anchors (and intermediates) when it gives
/// any, else the server's.
pub fn trust(
    anchors: &[Vec<u8>],
    intermediates: &[Vec<u8>],
    server: &verify::Trust,
) -> Result<verify::Trust, Rejection> {
    let mut trust = if anchors.is_empty() {
        server.clone()
    } else {
        let mut own = verify::Trust::new();
        own.policy = server.policy.clone();
        own.extend_crls(server.crls().iter().cloned());
        add_certificates(
            &mut own,
            anchors,
            "trusted_ca_pem",
            verify::Trust::add_anchors,
        )?;
        own
    };
    add_certificates(
        &mut trust,
        intermediates,
        "intermediate_ca_pem",
        verify::Trust::add_intermediates,
    )?;
    Ok(trust)
}

fn add_certificates(
    trust: &mut verify::Trust,
    pems: &[Vec<u8>],
    field: &str,
    add: fn(&mut verify::Trust, &[u8]) -> Result<usize, String>,
) -> Result<(), Rejection> {
    for (i, pem) in pems.iter().enumerate() {
        add(trust, pem).map_err(|e| Rejection::at(IssueCode::Value, format!("{field}[{i}]"), e))?;
    }
    Ok(())
}

/// The fully qualified service name, as health and reflection report it.
pub const SERVICE_NAME: &str = "eps.translator.v1.Translator";

impl From<&Issue> for v1::Issue {
    fn from(issue: &Issue) -> v1::Issue {
        v1::Issue {
            severity: match issue.severity {
                Severity::Warning => v1::Severity::Warning,
                Severity::Error => v1::Severity::Error,
            } as i32,
            code: issue.code.as_str().to_string(),
            diagnostics: issue.diagnostics.clone(),
            expression: issue.expression.clone().unwrap_or_default(),
        }
    }
}

fn issues(issues: &[Issue]) -> Vec<v1::Issue> {
    issues.iter().map(v1::Issue::from).collect()
}

impl From<Translation> for v1::ConvertResponse {
    fn from(t: Translation) -> v1::ConvertResponse {
        v1::ConvertResponse {
            issues: issues(&t.issues),
            hl7v3_xml: t.xml,
            not_carried: t.not_carried,
        }
    }
}

impl From<Prepared> for v1::PrepareResponse {
    fn from(p: Prepared) -> v1::PrepareResponse {
        v1::PrepareResponse {
            issues: issues(&p.issues),
            parameters_json: p.parameters_json.into_bytes(),
            digest: p.digest,
            timestamp: p.timestamp,
            algorithm: p.algorithm.jws_name().to_string(),
            signed_info_xml: p.signed_info_xml,
            fragments_c14n: p.fragments_c14n,
            digest_value: p.digest_value,
        }
    }
}

impl From<&verify::CheckResult> for v1::Check {
    fn from(c: &verify::CheckResult) -> v1::Check {
        v1::Check {
            name: c.check.name().to_string(),
            passed: c.status == verify::Status::Passed,
            detail: c.detail.clone(),
            status: c.status.as_str().to_string(),
            verdict: c.verdict().to_string(),
        }
    }
}

impl From<&verify::PrescriptionVerdict> for v1::PrescriptionVerdict {
    fn from(p: &verify::PrescriptionVerdict) -> v1::PrescriptionVerdict {
        v1::PrescriptionVerdict {
            id: p.id.clone(),
            valid: p.is_valid(),
            errors: p.errors().into_iter().map(str::to_string).collect(),
            checks: p.checks.iter().map(v1::Check::from).collect(),
            message_identifier: verify::message::message_identifier(p),
            warnings: p.warnings(),
        }
    }
}

impl From<&verify::Report> for v1::VerifyResponse {
    fn from(r: &verify::Report) -> v1::VerifyResponse {
        let prescriptions: Vec<v1::PrescriptionVerdict> = r
            .prescriptions
            .iter()
            .map(v1::PrescriptionVerdict::from)
            .collect();
        v1::VerifyResponse {
            valid: r.is_valid(),
            checks: match prescriptions.as_slice() {
                [only] => only.checks.clone(),
                _ => Vec::new(),
            },
            prescriptions,
            checked_at: r.checked_at.clone(),
        }
    }
}

impl From<v1::DigestAlgorithm> for DigestAlgorithm {
    fn from(a: v1::DigestAlgorithm) -> DigestAlgorithm {
        match a {
            v1::DigestAlgorithm::Unspecified | v1::DigestAlgorithm::Sha256 => {
                DigestAlgorithm::Sha256
            }
            v1::DigestAlgorithm::Sha1 => DigestAlgorithm::Sha1,
        }
    }
}

impl From<v1::C14nMode> for Mode {
    fn from(m: v1::C14nMode) -> Mode {
        match m {
            v1::C14nMode::Unspecified | v1::C14nMode::Exclusive => Mode::Exclusive,
            v1::C14nMode::ExclusiveWithComments => Mode::ExclusiveWithComments,
            v1::C14nMode::Inclusive => Mode::Inclusive,
            v1::C14nMode::InclusiveWithComments => Mode::InclusiveWithComments,
        }
    }
}

/// A request field that is not a valid value, as a rejection naming the field.
fn bad_field(field: &str, diagnostics: String) -> Rejection {
    Rejection::single(Issue::error(
        IssueCode::Value,
        diagnostics,
        Some(field.to_string()),
    ))
}

/// A proto enum field's value, or a rejection naming the field.
pub fn enum_field<E: TryFrom<i32>>(value: i32, field: &str) -> Result<E, Rejection> {
    E::try_from(value).map_err(|_| bad_field(field, format!("unknown enum value {value}")))
}

/// A Timestamp as an [`Instant`] (to the second; nanoseconds are dropped).
pub fn instant(t: &prost_types::Timestamp, field: &str) -> Result<Instant, Rejection> {
    Instant::from_unix(t.seconds)
        .map_err(|e| bad_field(field, format!("timestamp out of range: {e}")))
}

/// The request context: what the request gives, over `base` (the server's clock as the default
/// creation time, and the server's default ids).
pub fn context(pb: Option<&v1::Context>, base: Context) -> Result<Context, Rejection> {
    let mut ctx = base;
    let Some(pb) = pb else {
        return Ok(ctx);
    };
    if let Some(t) = &pb.creation_time {
        ctx.now = instant(t, "context.creation_time")?;
    }
    ctx.message_id.clone_from(&pb.message_id);
    let set = |target: &mut String, value: &Option<String>| {
        if let Some(v) = value {
            target.clone_from(v);
        }
    };
    set(&mut ctx.from_asid, &pb.from_asid);
    set(&mut ctx.to_asid, &pb.to_asid);
    set(&mut ctx.sds_user_id, &pb.sds_user_id);
    set(&mut ctx.sds_role_profile_id, &pb.sds_role_profile_id);
    ctx.strict = pb.strict;
    Ok(ctx)
}
