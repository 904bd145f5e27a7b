//! The HTTP façade, for clients of the NHS reference implementation: `POST /FHIR/R4/$prepare`,
//! `POST /FHIR/R4/$convert` and `POST /FHIR/R4/$verify-signature` (the reference's withdrawn
//! endpoint: a prescription-order Bundle or a searchset of them in, a Parameters with a
//! `messageIdentifier` and a `result` OperationOutcome per prescription out; trust anchors
//! from `serve --trusted-ca`) with the reference's bodies, `nhsd-*` headers, content types
//! and status codes; `GET /_status` (liveness) and `GET /metrics` (Prometheus text).

use super::failure::{Failure, Outcome};
use super::metrics::{Rpc, Transport};
use super::request::{CallerIds, Observed, Shared};
use crate::signing::DigestAlgorithm;
use crate::Context;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// The content type of FHIR JSON answers (Parameters, OperationOutcome).
pub const FHIR_JSON: &str = "application/fhir+json; fhirVersion=4.0";
/// The content type of `$convert`'s HL7 v3 answer.
pub const XML: &str = "application/xml";

/// The `nhsd-*` headers the reference reads, and what they set in the context.
pub const HEADER_ASID: &str = "nhsd-asid";
/// SDS user id of the sender.
pub const HEADER_SDS_USER_ID: &str = "nhsd-identity-uuid";
/// SDS role profile id of the sender.
pub const HEADER_SDS_ROLE_PROFILE_ID: &str = "nhsd-session-urid";

/// The façade's routes over the shared state.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/FHIR/R4/$prepare", post(prepare))
        .route("/FHIR/R4/$convert", post(convert))
        .route("/FHIR/R4/$verify-signature", post(verify_signature))
        .route("/_status", get(status))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .with_state(shared)
}

async fn prepare(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    handle(shared, Rpc::Prepare, headers, body, |bytes, ctx, _| {
        crate::signing::prepare(bytes, DigestAlgorithm::Sha256, ctx)
            .map(|p| (FHIR_JSON, p.parameters_json.into_bytes()))
    })
    .await
}

async fn convert(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    handle(shared, Rpc::Convert, headers, body, |bytes, ctx, _| {
        crate::translate::convert(bytes, ctx).map(|t| (XML, t.xml.into_bytes()))
    })
    .await
}

async fn verify_signature(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(shared, Rpc::Verify, headers, body, |bytes, ctx, source| {
        let report = source.verify_fetching(source.current().as_ref().clone(), ctx.now, |t| {
            crate::verify::verify_fhir(bytes, t, ctx.now)
        })?;
        let parameters = report.to_verify_signature_parameters();
        let json = serde_json::to_vec_pretty(&parameters).unwrap_or_default();
        Ok((FHIR_JSON, json))
    })
    .await
}

/// A route's work: the body, the request's context, the server's trust anchors and CRLs.
type Work = fn(
    &[u8],
    &Context,
    &super::crls::TrustSource,
) -> Result<(&'static str, Vec<u8>), crate::Rejection>;

/// One façade call: observe, read the body within the size limit, admit, run off the
/// reactor within the server's timeout, answer the body or an OperationOutcome.
async fn handle(
    shared: Arc<Shared>,
    rpc: Rpc,
    headers: HeaderMap,
    body: Body,
    work: Work,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut observed = Observed::start(&shared, Transport::Http, rpc, CallerIds::read(header));
    let result = async {
        if let Some(ct) = header(header::CONTENT_TYPE.as_str()) {
            if !is_json(ct) {
                return Err(Failure::UnsupportedMediaType(format!(
                    "unsupported content type '{ct}': send application/fhir+json"
                )));
            }
        }
        let deadline = shared.admission.deadline(observed.started(), None);
        let bytes = axum::body::to_bytes(body, shared.max_message_bytes)
            .await
            .map_err(|_| {
                Failure::TooLarge(format!(
                    "request body too large or unreadable: the server's maximum is {} bytes",
                    shared.max_message_bytes
                ))
            })?;
        observed.request_bytes = bytes.len();
        let mut ctx = Context::new(shared.now());
        let set = |target: &mut String, name: &str| {
            if let Some(v) = header(name) {
                *target = v.to_string();
            }
        };
        set(&mut ctx.from_asid, HEADER_ASID);
        set(&mut ctx.sds_user_id, HEADER_SDS_USER_ID);
        set(&mut ctx.sds_role_profile_id, HEADER_SDS_ROLE_PROFILE_ID);
        let permit = shared.admission.admit()?;
        let trust = shared.trust.clone();
        shared
            .admission
            .run(permit, deadline, move || {
                work(&bytes, &ctx, &trust).map_err(Failure::Rejected)
            })
            .await
    }
    .await;
    match result {
        Ok((content_type, bytes)) => {
            observed.response_bytes = bytes.len();
            observed.finish(Outcome::Ok);
            ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
        }
        Err(f) => {
            observed.finish(f.outcome());
            failure_response(&f)
        }
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "application/fhir+json" | "application/json" | "application/json+fhir"
    )
}

/// A failure as its status code and OperationOutcome.
fn failure_response(f: &Failure) -> Response {
    let status = StatusCode::from_u16(f.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        [(header::CONTENT_TYPE, FHIR_JSON)],
        f.operation_outcome_json(),
    )
        .into_response();
    if matches!(f, Failure::Busy) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// Liveness: 200 while serving, 503 once shutdown has begun.
async fn status(State(shared): State<Arc<Shared>>) -> Response {
    if shared.is_shutting_down() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"status\":\"fail\",\"reason\":\"shutting down\"}",
        )
            .into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"status\":\"pass\"}",
        )
            .into_response()
    }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        Bytes::from({
            let mut text = shared.metrics.render();
            if let Some(fetcher) = shared.trust.fetcher() {
                fetcher.render(shared.now().0.unix_timestamp(), &mut text);
            }
            text
        }),
    )
        .into_response()
}

async fn not_found() -> Response {
    let outcome = crate::error::operation_outcome(&[crate::Issue::error(
        crate::IssueCode::NotSupported,
        "no such endpoint: the façade serves POST /FHIR/R4/$prepare, POST /FHIR/R4/$convert, GET /_status and GET /metrics",
        None,
    )]);
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, FHIR_JSON)],
        serde_json::to_vec_pretty(&outcome).unwrap_or_default(),
    )
        .into_response()
}
