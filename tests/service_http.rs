//! The HTTP façade against a real server on 127.0.0.1:0, with the corpus' request/response
//! pairs: `$prepare` returns the reference's Parameters, `$convert` the golden XML; refusals
//! are 400 with the OperationOutcome; `/_status` and `/metrics` answer.

mod common;
mod service_support;

use eps_translator::datetime::Instant;
use eps_translator::service::http_client::HttpClient;
use service_support::{server, CONVERT_NOW, PREPARE_NOW};

/// The `nhsd-*` headers with the values the corpus was produced with.
const NHSD: [(&str, &str); 5] = [
    ("nhsd-asid", "200000001285"),
    ("nhsd-identity-uuid", "555254239107"),
    ("nhsd-session-urid", "555254240100"),
    ("nhsd-request-id", "test-request"),
    ("nhsd-correlation-id", "test-correlation-id"),
];

fn headers() -> Vec<(&'static str, &'static str)> {
    let mut h = vec![("content-type", "application/fhir+json; fhirVersion=4.0")];
    h.extend(NHSD);
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_returns_the_reference_parameters_for_every_corpus_pair() {
    let Some(shared) = common::shared_dir("HTTP façade $prepare") else {
        return;
    };
    let running =
        server(|c| c.fixed_clock = Some(Instant::parse_rfc3339(PREPARE_NOW).unwrap())).await;
    let mut http = HttpClient::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    let requests = common::find_files(&shared.join("eps-examples"), &|n| {
        n.ends_with("-Prepare-Request-200_OK.json")
    });
    for request in &requests {
        let bundle = std::fs::read(request).unwrap();
        let answer = http
            .post("/FHIR/R4/$prepare", &headers(), bundle.clone())
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{}", request.display());
        assert_eq!(
            answer.content_type,
            "application/fhir+json; fhirVersion=4.0"
        );
        let response = common::prepare_response(request);
        let ours: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        let theirs: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&response).unwrap()).unwrap();
        assert_eq!(ours, theirs, "{}", response.display());
        let library = eps_translator::signing::prepare(
            &bundle,
            eps_translator::signing::DigestAlgorithm::Sha256,
            &service_support::context(PREPARE_NOW),
        )
        .unwrap();
        assert_eq!(answer.body, library.parameters_json.as_bytes());
    }
    assert!(requests.len() >= 29);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn convert_returns_the_golden_xml_and_reads_the_nhsd_headers() {
    let Some(shared) = common::shared_dir("HTTP façade $convert") else {
        return;
    };
    let running =
        server(|c| c.fixed_clock = Some(Instant::parse_rfc3339(CONVERT_NOW).unwrap())).await;
    let mut http = HttpClient::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    let pairs = common::convert_pairs(&shared);
    let mut checked = 0;
    for (request, golden) in &pairs {
        let Ok(expected) = std::fs::read(golden) else {
            continue;
        };
        let answer = http
            .post(
                "/FHIR/R4/$convert",
                &headers(),
                std::fs::read(request).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{}", request.display());
        assert_eq!(answer.content_type, "application/xml");
        assert_eq!(answer.body, expected, "{}", golden.display());
        checked += 1;
    }
    assert!(checked >= 41);
    // The headers set the context: another sender ASID and SDS ids appear in the message.
    let bundle = std::fs::read(&pairs[0].0).unwrap();
    let answer = http
        .post(
            "/FHIR/R4/$convert",
            &[
                ("nhsd-asid", "999000000001"),
                ("nhsd-identity-uuid", "999000000002"),
                ("nhsd-session-urid", "999000000003"),
            ],
            bundle,
        )
        .await
        .unwrap();
    let xml = String::from_utf8(answer.body).unwrap();
    for id in ["999000000001", "999000000002", "999000000003"] {
        assert!(xml.contains(id), "{id} not in the message");
    }
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_400_with_the_operation_outcome_and_other_errors_have_their_status() {
    let running = server(|c| c.max_message_bytes = 64 * 1024).await;
    let mut http = HttpClient::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/convert");
    for name in [
        "err_not_utf8",
        "err_dangling_reference",
        "err_invalid_json",
        "err_not_a_bundle",
    ] {
        let answer = http
            .post(
                "/FHIR/R4/$convert",
                &headers(),
                std::fs::read(dir.join(format!("{name}.json"))).unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 400, "{name}");
        assert_eq!(
            answer.content_type,
            "application/fhir+json; fhirVersion=4.0"
        );
        let ours: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.err.json"))).unwrap())
                .unwrap();
        assert_eq!(ours, expected, "{name}");
    }
    // $prepare refuses a cancellation (not a prescription-order) with 400.
    let answer = http
        .post(
            "/FHIR/R4/$prepare",
            &headers(),
            std::fs::read(dir.join("cancellation.json")).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 400);
    // A body that is not JSON by its content type: 415.
    let answer = http
        .post(
            "/FHIR/R4/$prepare",
            &[("content-type", "text/plain")],
            b"{}".to_vec(),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 415);
    let outcome: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(outcome["issue"][0]["code"], "not-supported");
    // Too large: 413 (the body was not read whole, so the next calls use a new connection).
    let answer = http
        .post("/FHIR/R4/$convert", &headers(), vec![b' '; 65 * 1024])
        .await
        .unwrap();
    assert_eq!(answer.status, 413);
    let mut http = HttpClient::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    // Unknown path: 404 with an OperationOutcome.
    let answer = http.get("/FHIR/R4/Patient").await.unwrap();
    assert_eq!(answer.status, 404);
    // Liveness and metrics.
    let answer = http.get("/_status").await.unwrap();
    assert_eq!(
        (answer.status, answer.body.as_slice()),
        (200, b"{\"status\":\"pass\"}".as_slice())
    );
    let answer = http.get("/metrics").await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "text/plain; version=0.0.4");
    let text = String::from_utf8(answer.body).unwrap();
    for line in [
        "eps_requests_total{transport=\"http\",rpc=\"Convert\",outcome=\"rejected\"} 4",
        "eps_requests_total{transport=\"http\",rpc=\"Convert\",outcome=\"too_large\"} 1",
        "eps_requests_total{transport=\"http\",rpc=\"Prepare\",outcome=\"rejected\"} 1",
        "eps_requests_total{transport=\"http\",rpc=\"Prepare\",outcome=\"unsupported_media_type\"} 1",
        "eps_http_unrouted_total{status=\"404\"} 1",
        "eps_request_duration_seconds_count{transport=\"http\",rpc=\"Convert\"} 5",
        "eps_requests_in_flight 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
    }
    running.shutdown().await.unwrap();
}
