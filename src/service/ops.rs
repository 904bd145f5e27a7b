//! The operations the service offers, from a request message to a response message: decode
//! the request's typed fields into the core's inputs, call the core, convert the result.
//! Plain synchronous functions, shared by the unary RPCs, the stream and the HTTP façade;
//! they run off the async reactor (see `admission`).

use super::failure::Failure;
use super::pb::{self, v1};
use crate::datetime::Instant;
use crate::error::{IssueCode, Rejection};

/// The message of the RPC whose core has not landed yet.
pub const VERIFY_UNIMPLEMENTED: &str =
    "Verify is not implemented yet: it lands with the signature verification core";

/// FHIR Bundle → HL7 v3 (`Convert`).
pub fn convert(req: &v1::ConvertRequest, now: Instant) -> Result<v1::ConvertResponse, Failure> {
    let ctx = pb::context(req.context.as_ref(), now)?;
    Ok(crate::translate::convert(&req.bundle_json, &ctx)?.into())
}

/// FHIR Bundle → the digest to sign (`Prepare`).
pub fn prepare(req: &v1::PrepareRequest, now: Instant) -> Result<v1::PrepareResponse, Failure> {
    let mut ctx = pb::context(req.context.as_ref(), now)?;
    if let Some(t) = &req.signing_time {
        ctx.now = pb::instant(t, "signing_time")?;
    }
    let algorithm: v1::DigestAlgorithm = pb::enum_field(req.algorithm, "algorithm")?;
    Ok(crate::signing::prepare(&req.bundle_json, algorithm.into(), &ctx)?.into())
}

/// HL7 v3 → FHIR JSON (`ToFhir`).
pub fn to_fhir(req: &v1::ToFhirRequest) -> Result<v1::ToFhirResponse, Failure> {
    Ok(v1::ToFhirResponse {
        fhir_json: crate::to_fhir::to_fhir(req.hl7v3_xml.as_bytes())?.into_bytes(),
        issues: Vec::new(),
    })
}

/// XML → canonical bytes (`Canonicalize`).
pub fn canonicalize(req: &v1::CanonicalizeRequest) -> Result<v1::CanonicalizeResponse, Failure> {
    let mode: v1::C14nMode = pb::enum_field(req.mode, "mode")?;
    let text = std::str::from_utf8(&req.xml).map_err(|e| {
        Rejection::at(
            IssueCode::Structure,
            "xml",
            format!(
                "input is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
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
    let canonical = crate::c14n::canonicalize(text, &options).map_err(|e| Rejection::from(&e))?;
    Ok(v1::CanonicalizeResponse { canonical })
}

/// One stream item → its result; a failure is the item's error, never the stream's.
pub fn stream_item(item: v1::StreamItem, now: Instant) -> v1::StreamResult {
    use v1::stream_item::Request;
    use v1::stream_result::Result as R;
    let result = match &item.request {
        Some(Request::Convert(r)) => convert(r, now).map(R::Convert),
        Some(Request::Prepare(r)) => prepare(r, now).map(R::Prepare),
        Some(Request::Canonicalize(r)) => canonicalize(r).map(R::Canonicalize),
        Some(Request::ToFhir(r)) => to_fhir(r).map(R::ToFhir),
        Some(Request::Verify(_)) => Err(Failure::Unimplemented(VERIFY_UNIMPLEMENTED)),
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
