//! `eps-translator demo`: starts a server in-process on free loopback ports, calls every RPC
//! over real gRPC and the HTTP façade on a bundled example, and prints short results. Exits
//! 0 when every answer is the expected one (an unexpected answer is exit 1).

use super::http_client::HttpClient;
use super::pb::v1::{self, stream_item, stream_result, translator_client::TranslatorClient};
use super::{Background, Config};
use crate::datetime::Instant;
use std::fmt::Display;
use std::process::ExitCode;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

/// The bundled example: a one-item acute prescription-order Bundle (`golden/convert/`).
pub const EXAMPLE_BUNDLE: &[u8] = include_bytes!("../../golden/convert/acute_minimal.json");
/// The clock the demo pins, so its output is the same on every run.
pub const DEMO_NOW: &str = "2022-02-01T00:00:00Z";

/// Runs the demo.
pub fn run() -> ExitCode {
    super::init_logs("warn");
    let now = Instant::parse_rfc3339(DEMO_NOW).expect("a valid pinned time");
    let config = Config {
        fixed_clock: Some(now),
        ..Config::loopback()
    };
    let server = match Background::start(config, 2) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("eps-translator demo: cannot start the server: {e}");
            return ExitCode::from(2);
        }
    };
    let grpc = server.running().grpc_addr;
    let http = server.running().http_addr.expect("the demo serves HTTP");
    say!("eps-translator demo: server on grpc://{grpc} and http://{http} (clock pinned to {DEMO_NOW})");
    say!(
        "example: golden/convert/acute_minimal.json ({} bytes, compiled in)\n",
        EXAMPLE_BUNDLE.len()
    );
    let client = match super::runtime(1) {
        Ok(rt) => rt.block_on(calls(grpc, http)),
        Err(e) => Err(e.to_string()),
    };
    let served = server.running().metrics().total();
    let stopped = server.shutdown();
    match (client, stopped) {
        (Ok(()), Ok(())) => {
            say!("\nshutdown: graceful, {served} requests served. Try: eps-translator serve --http 127.0.0.1:8080");
            ExitCode::SUCCESS
        }
        (Err(e), _) => {
            eprintln!("eps-translator demo: unexpected answer: {e}");
            ExitCode::FAILURE
        }
        (_, Err(e)) => {
            eprintln!("eps-translator demo: shutdown: {e}");
            ExitCode::FAILURE
        }
    }
}

fn line(name: &str, took: Duration, what: impl Display) {
    say!("{name:<14} {:>7.2} ms  {what}", took.as_secs_f64() * 1e3);
}

fn indent(text: &str, lines: usize) -> String {
    let mut out: Vec<String> = text
        .lines()
        .take(lines)
        .map(|l| format!("    {l}"))
        .collect();
    out.push("    …".to_string());
    out.join("\n")
}

async fn timed<T>(f: impl std::future::Future<Output = T>) -> (T, Duration) {
    let start = std::time::Instant::now();
    let out = f.await;
    (out, start.elapsed())
}

fn fail(what: &str, e: impl Display) -> String {
    format!("{what}: {e}")
}

async fn calls(grpc: std::net::SocketAddr, http: std::net::SocketAddr) -> Result<(), String> {
    let channel: Channel = Endpoint::from_shared(format!("http://{grpc}"))
        .map_err(|e| fail("endpoint", e))?
        .connect()
        .await
        .map_err(|e| fail("connect", e))?;
    let mut client = TranslatorClient::new(channel.clone());

    // Health and reflection: what any gRPC tool sees first.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let (answer, took) = timed(health.check(tonic_health::pb::HealthCheckRequest {
        service: super::pb::SERVICE_NAME.to_string(),
    }))
    .await;
    let status = answer.map_err(|e| fail("health", e))?.into_inner().status();
    line(
        "Health",
        took,
        format!("{} is {status:?} (grpc.health.v1)", super::pb::SERVICE_NAME),
    );
    let (services, took) = timed(list_services(channel.clone())).await;
    line(
        "Reflection",
        took,
        format!("services: {}", services?.join(", ")),
    );

    // Convert.
    let (answer, took) = timed(client.convert(v1::ConvertRequest {
        bundle_json: EXAMPLE_BUNDLE.to_vec(),
        context: None,
    }))
    .await;
    let converted = answer.map_err(|e| fail("Convert", e))?.into_inner();
    line(
        "Convert",
        took,
        format!(
            "FHIR Bundle → HL7 v3, {} bytes, {} warnings, {} FHIRPaths not carried over",
            converted.hl7v3_xml.len(),
            converted.issues.len(),
            converted.not_carried.len()
        ),
    );
    say!("{}", indent(&converted.hl7v3_xml, 4));

    // Prepare.
    let (answer, took) = timed(client.prepare(v1::PrepareRequest {
        bundle_json: EXAMPLE_BUNDLE.to_vec(),
        ..Default::default()
    }))
    .await;
    let prepared = answer.map_err(|e| fail("Prepare", e))?.into_inner();
    line(
        "Prepare",
        took,
        format!(
            "{} DigestValue {}  timestamp {}",
            prepared.algorithm, prepared.digest_value, prepared.timestamp
        ),
    );
    say!(
        "    digest (base64 SignedInfo, what the prescriber signs): {}…",
        &prepared.digest[..prepared.digest.len().min(60)]
    );

    // Canonicalize: the Convert XML's ParentPrescription, exclusive C14N.
    let (answer, took) = timed(client.canonicalize(v1::CanonicalizeRequest {
        xml: converted.hl7v3_xml.clone().into_bytes(),
        mode: v1::C14nMode::Exclusive as i32,
        subtree: Some("//hl7:ParentPrescription".to_string()),
        namespaces: [("hl7".to_string(), "urn:hl7-org:v3".to_string())].into(),
        ..Default::default()
    }))
    .await;
    let canonical = answer
        .map_err(|e| fail("Canonicalize", e))?
        .into_inner()
        .canonical;
    let head = String::from_utf8_lossy(&canonical[..canonical.len().min(72)]).into_owned();
    line(
        "Canonicalize",
        took,
        format!(
            "exclusive C14N of the ParentPrescription: {} bytes",
            canonical.len()
        ),
    );
    say!("    {head}…");

    // ToFhir: the Convert XML back to FHIR.
    let (answer, took) = timed(client.to_fhir(v1::ToFhirRequest {
        hl7v3_xml: converted.hl7v3_xml.clone(),
        ..Default::default()
    }))
    .await;
    let fhir = answer
        .map_err(|e| fail("ToFhir", e))?
        .into_inner()
        .fhir_json;
    line(
        "ToFhir",
        took,
        format!("HL7 v3 → FHIR, {} bytes of Bundle JSON", fhir.len()),
    );
    say!("{}", indent(&String::from_utf8_lossy(&fhir), 3));

    // Verify: the Convert XML's signature, a verdict per check. The example's signature
    // is the corpus's (its certificate under no anchor this demo trusts), so the verdict
    // is "not valid", with each check saying why.
    let (answer, took) = timed(client.verify(v1::VerifyRequest {
        hl7v3_xml: converted.hl7v3_xml.clone(),
        ..Default::default()
    }))
    .await;
    let verdict = answer.map_err(|e| fail("Verify", e))?.into_inner();
    let prescription = verdict
        .prescriptions
        .first()
        .ok_or("Verify answered no prescription")?;
    line(
        "Verify",
        took,
        format!(
            "prescription {}: valid = {}, errors {:?}",
            prescription.id, prescription.valid, prescription.errors
        ),
    );
    for check in &prescription.checks {
        say!(
            "    {:<18} {:<11} {}",
            check.name,
            check.status,
            check.detail
        );
    }

    // A refused Bundle: INVALID_ARGUMENT with the FHIRPath of the problem.
    let broken = String::from_utf8_lossy(EXAMPLE_BUNDLE).replacen(
        "\"prescription-order\"",
        "\"prescription-order-typo\"",
        1,
    );
    let (answer, took) = timed(client.convert(v1::ConvertRequest {
        bundle_json: broken.into_bytes(),
        context: None,
    }))
    .await;
    let status = answer.err().ok_or("a broken Bundle was accepted")?;
    use tonic_types::StatusExt;
    let field = status
        .get_error_details()
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default();
    line(
        "Convert (bad)",
        took,
        format!("{:?}: {} [field {field}]", status.code(), status.message()),
    );

    // ConvertStream: three items, the middle one broken; results in order, tagged.
    let items = vec![
        v1::StreamItem {
            correlation_id: "rx-1".to_string(),
            request: Some(stream_item::Request::Convert(v1::ConvertRequest {
                bundle_json: EXAMPLE_BUNDLE.to_vec(),
                context: None,
            })),
        },
        v1::StreamItem {
            correlation_id: "rx-2".to_string(),
            request: Some(stream_item::Request::Prepare(v1::PrepareRequest {
                bundle_json: b"{\"resourceType\": \"Patient\"}".to_vec(),
                ..Default::default()
            })),
        },
        v1::StreamItem {
            correlation_id: "rx-3".to_string(),
            request: Some(stream_item::Request::Prepare(v1::PrepareRequest {
                bundle_json: EXAMPLE_BUNDLE.to_vec(),
                algorithm: v1::DigestAlgorithm::Sha1 as i32,
                ..Default::default()
            })),
        },
    ];
    let (results, took) = timed(async {
        let mut stream = client
            .convert_stream(tokio_stream::iter(items))
            .await?
            .into_inner();
        let mut out = Vec::new();
        while let Some(r) = stream.message().await? {
            out.push(r);
        }
        Ok::<_, tonic::Status>(out)
    })
    .await;
    let results = results.map_err(|e| fail("ConvertStream", e))?;
    let summary: Vec<String> = results
        .iter()
        .map(|r| {
            let what = match &r.result {
                Some(stream_result::Result::Convert(c)) => {
                    format!("HL7 v3 {} bytes", c.hl7v3_xml.len())
                }
                Some(stream_result::Result::Prepare(p)) => {
                    format!("{} {}", p.algorithm, p.digest_value)
                }
                Some(stream_result::Result::Error(e)) => {
                    format!("{:?}: {}", tonic::Code::from_i32(e.code), e.message)
                }
                other => format!("{other:?}"),
            };
            format!("{}: {what}", r.correlation_id)
        })
        .collect();
    line(
        "ConvertStream",
        took,
        format!("{} results in order", results.len()),
    );
    for s in &summary {
        say!("    {s}");
    }
    if results.len() != 3 {
        return Err("ConvertStream: expected 3 results".to_string());
    }

    // The HTTP façade: the reference's endpoints, same answers.
    let mut web = HttpClient::connect(http)
        .await
        .map_err(|e| fail("HTTP connect", e))?;
    let headers = [
        ("content-type", "application/fhir+json"),
        ("nhsd-request-id", "demo-request"),
        ("nhsd-correlation-id", "demo-correlation"),
    ];
    let (answer, took) =
        timed(web.post("/FHIR/R4/$prepare", &headers, EXAMPLE_BUNDLE.to_vec())).await;
    let answer = answer.map_err(|e| fail("HTTP $prepare", e))?;
    let same = answer.body == prepared.parameters_json;
    line(
        "POST $prepare",
        took,
        format!(
            "HTTP {} {}, Parameters identical to gRPC Prepare: {same}",
            answer.status, answer.content_type
        ),
    );
    let (answer, took) =
        timed(web.post("/FHIR/R4/$convert", &headers, EXAMPLE_BUNDLE.to_vec())).await;
    let answer = answer.map_err(|e| fail("HTTP $convert", e))?;
    let same_xml = answer.body == converted.hl7v3_xml.as_bytes();
    line(
        "POST $convert",
        took,
        format!(
            "HTTP {} {}, XML identical to gRPC Convert: {same_xml}",
            answer.status, answer.content_type
        ),
    );
    let (answer, took) = timed(web.get("/_status")).await;
    let answer = answer.map_err(|e| fail("HTTP /_status", e))?;
    line(
        "GET /_status",
        took,
        format!(
            "HTTP {} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        ),
    );
    let (answer, took) = timed(web.get("/metrics")).await;
    let answer = answer.map_err(|e| fail("HTTP /metrics", e))?;
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    let counts: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("eps_requests_total"))
        .collect();
    line(
        "GET /metrics",
        took,
        format!("HTTP {}, {} request series:", answer.status, counts.len()),
    );
    for c in counts {
        say!("    {c}");
    }
    if !(same && same_xml) {
        return Err("the façade's answers differ from gRPC's".to_string());
    }
    Ok(())
}

/// The services a reflection client sees (grpc.reflection.v1).
async fn list_services(channel: Channel) -> Result<Vec<String>, String> {
    use tonic_reflection::pb::v1::{
        server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        ServerReflectionRequest,
    };
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .map_err(|e| fail("reflection", e))?
        .into_inner();
    match answers.message().await.map_err(|e| fail("reflection", e))? {
        Some(r) => match r.message_response {
            Some(MessageResponse::ListServicesResponse(list)) => {
                let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
                names.sort();
                Ok(names)
            }
            other => Err(format!("reflection: unexpected {other:?}")),
        },
        None => Err("reflection: no answer".to_string()),
    }
}
