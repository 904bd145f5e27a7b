//! The HTTP façade, for clients of the NHS reference implementation: `POST /FHIR/R4/$prepare`,
//! `POST /FHIR/R4/$convert` and `POST /FHIR/R4/$verify-signature` (the reference's withdrawn
//! endpoint: a prescription-order Bundle or a searchset of them in, a Parameters with a
//! `messageIdentifier` and a `result` OperationOutcome per prescription out; trust anchors
//! from `serve --trusted-ca`) with the reference's bodies, `nhsd-*` headers, content types
//! and status codes; `GET /_status`, `/_ping` and `/_healthcheck` (liveness), `GET /metrics`
//! (Prometheus text), and 501 with an OperationOutcome on the reference's routes that send to
//! Spine.

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

/// The header naming the calling application; `$prepare` digests with SHA-1 for the
/// applications `serve --sha1-application-id` lists, as the reference does.
pub const HEADER_APPLICATION_ID: &str = "nhsd-application-id";

/// The façade's routes over the shared state. Paths are matched after [`normalize_path`]:
/// `%24prepare` is `$prepare`, and a trailing slash is ignored.
pub fn router(shared: Arc<Shared>) -> Router {
    let spine_routes = SENDS_TO_SPINE.iter().fold(Router::new(), |routes, path| {
        routes.route(path, post(sends_to_spine).fallback(method_not_allowed))
    });
    let routes = spine_routes
        .route(
            "/FHIR/R4/$prepare",
            post(prepare).fallback(method_not_allowed),
        )
        .route(
            "/FHIR/R4/$convert",
            post(convert).fallback(method_not_allowed),
        )
        .route(
            "/FHIR/R4/$verify-signature",
            post(verify_signature).fallback(method_not_allowed),
        )
        .route("/_status", get(status))
        .route("/_ping", get(status))
        .route("/_healthcheck", get(status))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .with_state(shared);
    // A layer on a router runs after its routing: the paths are normalised by an outer
    // router whose only route is the fallback, before the inner one routes.
    Router::new()
        .fallback_service(routes)
        .layer(axum::middleware::map_request(normalize_path))
}

/// `%24` (an encoded `$`) decoded and a trailing slash removed, so clients that encode the
/// operation name or end paths with `/` reach the same route.
async fn normalize_path(mut request: axum::extract::Request) -> axum::extract::Request {
    let uri = request.uri();
    let path = uri.path();
    let decoded = path
        .replace("%24", "$")
        .replace("%24".to_ascii_lowercase().as_str(), "$");
    let trimmed = match decoded.strip_suffix('/') {
        Some(rest) if !rest.is_empty() => rest,
        _ => decoded.as_str(),
    };
    if trimmed != path {
        let path_and_query = match uri.query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_string(),
        };
        let mut parts = uri.clone().into_parts();
        if let Ok(pq) = path_and_query.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    request
}

async fn prepare(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    let application = headers
        .get(HEADER_APPLICATION_ID)
        .and_then(|v| v.to_str().ok());
    let algorithm = match application {
        Some(id) if shared.sha1_application_ids.iter().any(|a| a == id) => DigestAlgorithm::Sha1,
        _ => DigestAlgorithm::Sha256,
    };
    handle(shared, Rpc::Prepare, headers, body, move |bytes, ctx, _| {
        crate::signing::prepare(bytes, algorithm, ctx)
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

/// One façade call: observe, read the body within the size limit, admit, run off the
/// reactor within the server's timeout, answer the body or an OperationOutcome.
///
/// `work` gets the body, the request's context and the server's trust anchors.
async fn handle(
    shared: Arc<Shared>,
    rpc: Rpc,
    headers: HeaderMap,
    body: Body,
    work: impl FnOnce(
            &[u8],
            &Context,
            &super::crls::TrustSource,
        ) -> Result<(&'static str, Vec<u8>), crate::Rejection>
        + Send
        + 'static,
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
            .map_err(|e| {
                if super::transport::is_body_timeout(&e) {
                    Failure::RequestTimeout(e.to_string())
                } else {
                    Failure::TooLarge(format!(
                        "request body too large or unreadable: the server's maximum is {} bytes",
                        shared.max_message_bytes
                    ))
                }
            })?;
        observed.request_bytes = bytes.len();
        let encoding = ContentEncoding::read(header(header::CONTENT_ENCODING.as_str()))?;
        let mut ctx = shared.context();
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
        let max = shared.max_message_bytes;
        shared
            .admission
            .run(permit, deadline, move || {
                let body = encoding.decode(&bytes, max)?;
                work(&body, &ctx, &trust).map_err(Failure::Rejected)
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
            observed.fail(&f);
            let response = failure_response(&f);
            observed.response_bytes = body_len(&response);
            response
        }
    }
}

/// A request body's `Content-Encoding`: none (or `identity`) or gzip; others are refused
/// with 415.
#[derive(Debug, Clone, Copy)]
enum ContentEncoding {
    Identity,
    Gzip,
}

impl ContentEncoding {
    fn read(value: Option<&str>) -> Result<ContentEncoding, Failure> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "identity") => Ok(ContentEncoding::Identity),
            Some("gzip" | "x-gzip") => Ok(ContentEncoding::Gzip),
            Some(other) => Err(Failure::UnsupportedMediaType(format!(
                "unsupported content encoding '{other}': send gzip or no encoding"
            ))),
        }
    }

    /// The body as sent by the client, at most `max` bytes once decompressed (a small gzip
    /// body cannot expand past the server's limit).
    fn decode(self, bytes: &[u8], max: usize) -> Result<std::borrow::Cow<'_, [u8]>, Failure> {
        use std::io::Read;
        match self {
            ContentEncoding::Identity => Ok(std::borrow::Cow::Borrowed(bytes)),
            ContentEncoding::Gzip => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(bytes)
                    .take(max as u64 + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| {
                        Failure::Rejected(crate::Rejection::at(
                            crate::IssueCode::Invalid,
                            "Bundle",
                            format!("the gzip request body cannot be decompressed: {e}"),
                        ))
                    })?;
                if out.len() > max {
                    return Err(Failure::TooLarge(format!(
                        "request body too large once decompressed: the server's maximum is {max} bytes"
                    )));
                }
                Ok(std::borrow::Cow::Owned(out))
            }
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

/// Another method on an operation: 405 with `Allow: POST` and an OperationOutcome.
async fn method_not_allowed(
    State(shared): State<Arc<Shared>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> Response {
    let said = format!("method {method} is not allowed: this operation takes POST");
    let mut response = unrouted(&shared, StatusCode::METHOD_NOT_ALLOWED, &method, &uri, said);
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    response
}

/// The reference's routes that send a message to Spine. This service translates and sends
/// nothing: these answer 501 and name `$convert`, which translates the same body.
const SENDS_TO_SPINE: [&str; 4] = [
    "/FHIR/R4/$process-message",
    "/FHIR/R4/Task/$release",
    "/FHIR/R4/Task",
    "/FHIR/R4/Claim",
];

async fn sends_to_spine(
    State(shared): State<Arc<Shared>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> Response {
    let said = format!(
        "POST {} sends the message to Spine, which this service does not do: POST the same body to /FHIR/R4/$convert for its HL7 v3 translation",
        uri.path()
    );
    unrouted(&shared, StatusCode::NOT_IMPLEMENTED, &method, &uri, said)
}

async fn not_found(
    State(shared): State<Arc<Shared>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> Response {
    let said = "no such endpoint: the façade serves POST /FHIR/R4/$prepare, POST /FHIR/R4/$convert, POST /FHIR/R4/$verify-signature, GET /_status (/_ping, /_healthcheck) and GET /metrics";
    unrouted(&shared, StatusCode::NOT_FOUND, &method, &uri, said)
}

/// The length of a response body built from bytes in memory.
fn body_len(response: &Response) -> usize {
    use axum::body::HttpBody;
    response
        .body()
        .size_hint()
        .exact()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
}

/// Counts and logs a request that reached no operation (the path cut to 64 printable
/// characters, so it cannot forge log lines), and answers it: `status` with a
/// `not-supported` OperationOutcome that says `diagnostics`.
fn unrouted(
    shared: &Shared,
    status: StatusCode,
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    diagnostics: impl Into<String>,
) -> Response {
    shared.metrics.unrouted(status.as_u16());
    let path: String = uri
        .path()
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect();
    tracing::info!(
        target: "eps_translator::request",
        transport = "http",
        status = status.as_u16(),
        method = method.as_str(),
        path,
        "no such operation"
    );
    let outcome = crate::error::operation_outcome(&[crate::Issue::error(
        crate::IssueCode::NotSupported,
        diagnostics,
        None,
    )]);
    (
        status,
        [(header::CONTENT_TYPE, FHIR_JSON)],
        serde_json::to_vec_pretty(&outcome).unwrap_or_default(),
    )
        .into_response()
}
