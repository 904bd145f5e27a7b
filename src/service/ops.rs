//! The operations the service offers, from a request message to a response message: decode
//! the request's typed fields into the core's inputs, call the core, convert the result.
//! Plain synchronous functions, shared by the unary RPCs, the stream and the HTTP façade;
//! they run off the async reactor (see `admission`).

use super::crls::TrustSource;
use super::failure::Failure;
use super::pb::{self, v1};
use crate::context::Context;
use crate::datetime::Instant;
use crate::error::{IssueCode, Rejection};
use crate::to_fhir::Signatures;
use crate::verify::Trust;

/// FHIR Bundle → HL7 v3 (`Convert`).
pub fn convert(req: &v1::ConvertRequest, base: Context) -> Result<v1::ConvertResponse, Failure> {
    let ctx = pb::context(req.context.as_ref(), base)?;
    Ok(crate::translate::convert(&req.bundle_json, &ctx)?.into())
}

/// FHIR Bundle → the digest to sign (`Prepare`).
pub fn prepare(req: &v1::PrepareRequest, base: Context) -> Result<v1::PrepareResponse, Failure> {
    let mut ctx = pb::context(req.context.as_ref(), base)?;
    if let Some(t) = &req.signing_time {
        ctx.now = pb::instant(t, "signing_time")?;
    }
    let algorithm: v1::DigestAlgorithm = pb::enum_field(req.algorithm, "algorithm")?;
    Ok(crate::signing::prepare(&req.bundle_json, algorithm.into(), &ctx)?.into())
}

/// The time of checking: the request's, else the server's "now".
fn checked_at(at: Option<&prost_types::Timestamp>, now: Instant) -> Result<Instant, Rejection> {
    at.map_or(Ok(now), |t| pb::instant(t, "at"))
}

/// HL7 v3 → FHIR JSON (`ToFhir`); a release response's signatures verified against the
/// request's or the server's anchors, unless `no_verify`.
pub fn to_fhir(
    req: &v1::ToFhirRequest,
    now: Instant,
    server: &Trust,
) -> Result<v1::ToFhirResponse, Failure> {
    let trust;
    let signatures = if req.no_verify {
        if !req.trusted_ca_pem.is_empty() {
            return Err(Rejection::at(
                IssueCode::Invalid,
                "no_verify",
                "no_verify and trusted_ca_pem contradict each other",
            )
            .into());
        }
        Signatures::NotChecked
    } else {
        trust = pb::trust(&req.trusted_ca_pem, &[], server)?;
        Signatures::Verify {
            trust: &trust,
            at: checked_at(req.at.as_ref(), now)?,
        }
    };
    Ok(v1::ToFhirResponse {
        fhir_json: crate::to_fhir::to_fhir_with(req.hl7v3_xml.as_bytes(), &signatures)?
            .into_bytes(),
        issues: Vec::new(),
    })
}

/// Signature verification (`Verify`).
pub fn verify(
    req: &v1::VerifyRequest,
    now: Instant,
    source: &TrustSource,
) -> Result<v1::VerifyResponse, Failure> {
    let mut trust = pb::trust(
        &req.trusted_ca_pem,
        &req.intermediate_ca_pem,
        &source.current(),
    )?;
    for (i, crl) in req.crls.iter().enumerate() {
        let field = format!("crls[{i}]");
        trust
            .add_crls(crl, &format!("request {field}"))
            .map_err(|e| Rejection::at(IssueCode::Value, field, e))?;
    }
    if !req.revocation.is_empty() {
        trust.policy.revocation = crate::verify::RevocationPolicy::parse(&req.revocation)
            .map_err(|e| Rejection::at(IssueCode::Value, "revocation", e))?;
    }
    let at = checked_at(req.at.as_ref(), now)?;
    let hl7v3 = match (req.hl7v3_xml.is_empty(), req.bundle_json.is_empty()) {
        (false, true) => true,
        (true, false) => false,
        _ => {
            return Err(Rejection::at(
                IssueCode::Required,
                "hl7v3_xml",
                "give exactly one of hl7v3_xml and bundle_json",
            )
            .into())
        }
    };
    let report = source.verify_fetching(trust, now, |trust| {
        if hl7v3 {
            crate::verify::verify_hl7v3(&req.hl7v3_xml, trust, at)
        } else {
            crate::verify::verify_fhir(&req.bundle_json, trust, at)
        }
    })?;
    Ok(v1::VerifyResponse::from(&report))
}

/// XML → canonical bytes (`Canonicalize`).
pub fn canonicalize(req: &v1::CanonicalizeRequest) -> Result<v1::CanonicalizeResponse, Failure> {
    let mode: v1::C14nMode = pb::enum_field(req.mode, "mode")?;
    let text = std::str::from_utf8(&req.xml).map_err(|e| crate::fhir::not_utf8(&req.xml, e))?;
    let mut options = crate::c14n::Options::new(mode.into());
    options
        .inclusive_prefixes
        .clone_from(&req.inclusive_prefixes);
    options.subtree = req.subtree.as_deref();
    let mut namespaces: Vec<(String, String)> = req
        .namespaces
        .iter()
        .map(|(p, u)| (p.clone(), u.clone()))
        .collect();
    namespaces.sort();
    options.namespaces = namespaces;
    let canonical = crate::c14n::canonicalize(text, &options).map_err(|e| e.to_rejection(text))?;
    Ok(v1::CanonicalizeResponse { canonical })
}

/// One stream item → its result; a failure is the item's error, never the stream's.
/// One stream item; `base` is the server's context for requests that give none.
pub fn stream_item(item: v1::StreamItem, base: Context, source: &TrustSource) -> v1::StreamResult {
    let now = base.now;
    use v1::stream_item::Request;
    use v1::stream_result::Result as R;
    let result = match &item.request {
        Some(Request::Convert(r)) => convert(r, base).map(R::Convert),
        Some(Request::Prepare(r)) => prepare(r, base).map(R::Prepare),
        Some(Request::Canonicalize(r)) => canonicalize(r).map(R::Canonicalize),
        Some(Request::ToFhir(r)) => to_fhir(r, now, &source.snapshot(now)).map(R::ToFhir),
        Some(Request::Verify(r)) => verify(r, now, source).map(R::Verify),
        None => Err(Failure::Rejected(Rejection::at(
            IssueCode::Required,
            "request",
            "the stream item carries no request",
        ))),
    };
    v1::StreamResult {
        correlation_id: item.correlation_id,
        result: Some(result.unwrap_or_else(|f| R::Error(f.to_item_error()))),
    }
}
