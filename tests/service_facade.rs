//! What a deployment configures and what clients of the reference send: the server-wide
//! ids of requests that give none, SHA-1 for the configured application ids, encoded and
//! slash-ended operation paths, other methods on an operation, gzip bodies, the health
//! paths, and a listen address already in use.

mod service_support;

use eps_translator::datetime::Instant;
use eps_translator::service::http_client::HttpClient;
use eps_translator::service::pb::v1;
use eps_translator::service::{Config, Identities};
use service_support::{client, example_bundle, server, CONVERT_NOW};
use std::io::Write;

fn json() -> Vec<(&'static str, &'static str)> {
    vec![("content-type", "application/fhir+json")]
}

fn deployment_ids(config: &mut Config) {
    config.fixed_clock = Some(Instant::parse_rfc3339(CONVERT_NOW).unwrap());
    config.identities = Identities {
        from_asid: "999000000001".into(),
        to_asid: "999000000002".into(),
        sds_user_id: "999000000003".into(),
        sds_role_profile_id: "999000000004".into(),
    };
}

#[test]
fn the_test_environment_ids_are_named_until_each_is_configured() {
    let mut config = Config::loopback();
    assert_eq!(config.identities.test_values_in_force().len(), 4);
    deployment_ids(&mut config);
    assert!(config.identities.test_values_in_force().is_empty());
    config.identities.to_asid = Identities::default().to_asid;
    assert_eq!(config.identities.test_values_in_force(), ["to-asid"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_context_carry_the_servers_ids() {
    let running = server(deployment_ids).await;
    let xml = client(&running)
        .await
        .convert(v1::ConvertRequest {
            bundle_json: example_bundle(),
            context: None,
        })
        .await
        .unwrap()
        .into_inner()
        .hl7v3_xml;
    for id in [
        "999000000001",
        "999000000002",
        "999000000003",
        "999000000004",
    ] {
        assert!(xml.contains(&format!("extension=\"{id}\"")), "gRPC: {id}");
    }
    assert!(!xml.contains("200000001285"));

    let mut http = HttpClient::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    let answer = http
        .post("/FHIR/R4/$convert", &json(), example_bundle())
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let xml = String::from_utf8(answer.body).unwrap();
    assert!(xml.contains("extension=\"999000000002\""), "HTTP to-asid");
    assert!(xml.contains("extension=\"999000000001\""), "HTTP from-asid");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_digests_with_sha1_for_the_configured_application_ids_only() {
    let running = server(|c| c.sha1_application_ids = vec!["legacy-app".into()]).await;
    let mut http = HttpClient::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    let mut algorithm_for = async |app: &'static str| {
        let mut headers = json();
        headers.push(("nhsd-application-id", app));
        let answer = http
            .post("/FHIR/R4/$prepare", &headers, example_bundle())
            .await
            .unwrap();
        assert_eq!(answer.status, 200);
        let parameters: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        parameters["parameter"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "algorithm")
            .unwrap()["valueString"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(algorithm_for("legacy-app").await, "RS1");
    assert_eq!(algorithm_for("another-app").await, "RS256");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encoded_and_slash_ended_operation_paths_reach_the_operation() {
    let running = server(|_| {}).await;
    let mut http = HttpClient::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    for path in [
        "/FHIR/R4/$prepare",
        "/FHIR/R4/%24prepare",
        "/FHIR/R4/$prepare/",
        "/FHIR/R4/%24prepare/",
    ] {
        let answer = http.post(path, &json(), example_bundle()).await.unwrap();
        assert_eq!(answer.status, 200, "{path}");
        assert!(String::from_utf8_lossy(&answer.body).contains("\"digest\""));
    }
    for path in ["/_status", "/_ping", "/_healthcheck", "/_status/"] {
        let answer = http.get(path).await.unwrap();
        assert_eq!(answer.status, 200, "{path}");
        assert!(String::from_utf8_lossy(&answer.body).contains("\"pass\""));
    }
    let answer = http.get("/FHIR/R4/%24nothing").await.unwrap();
    assert_eq!(answer.status, 404);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_method_on_an_operation_is_405_with_an_operation_outcome() {
    let running = server(|_| {}).await;
    let mut http = HttpClient::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    for path in [
        "/FHIR/R4/$prepare",
        "/FHIR/R4/%24convert",
        "/FHIR/R4/$verify-signature",
    ] {
        let answer = http.get(path).await.unwrap();
        assert_eq!(answer.status, 405, "{path}");
        assert!(answer.content_type.starts_with("application/fhir+json"));
        let outcome: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{path}");
        assert!(outcome["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("POST"));
    }
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_routes_that_send_to_spine_answer_501_naming_convert() {
    let running = server(|_| {}).await;
    let mut http = HttpClient::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    for path in [
        "/FHIR/R4/$process-message",
        "/FHIR/R4/%24process-message",
        "/FHIR/R4/Task/$release",
        "/FHIR/R4/Task",
        "/FHIR/R4/Claim/",
    ] {
        let answer = http.post(path, &json(), example_bundle()).await.unwrap();
        assert_eq!(answer.status, 501, "{path}");
        assert!(answer.content_type.starts_with("application/fhir+json"));
        let outcome: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        assert_eq!(outcome["issue"][0]["code"], "not-supported", "{path}");
        let said = outcome["issue"][0]["diagnostics"].as_str().unwrap();
        assert!(
            said.contains("Spine") && said.contains("/FHIR/R4/$convert"),
            "{said}"
        );
        assert_eq!(http.get(path).await.unwrap().status, 405, "{path}");
    }
    running.shutdown().await.unwrap();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bodies_are_read_within_the_size_limit() {
    let running = server(|c| c.max_message_bytes = 256 * 1024).await;
    let mut http = HttpClient::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    let mut headers = json();
    headers.push(("content-encoding", "gzip"));
    let plain = http
        .post("/FHIR/R4/$prepare", &json(), example_bundle())
        .await
        .unwrap();
    let zipped = http
        .post("/FHIR/R4/$prepare", &headers, gzip(&example_bundle()))
        .await
        .unwrap();
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.body, plain.body, "the same answer as the plain body");

    // 16 MiB of spaces compress to a few KiB: refused once past the limit, not held.
    let bomb = gzip(&vec![b' '; 16 * 1024 * 1024]);
    assert!(bomb.len() < 256 * 1024);
    let answer = http
        .post("/FHIR/R4/$prepare", &headers, bomb)
        .await
        .unwrap();
    assert_eq!(answer.status, 413);

    let answer = http
        .post("/FHIR/R4/$prepare", &headers, b"not gzip".to_vec())
        .await
        .unwrap();
    assert_eq!(answer.status, 400);

    let mut brotli = json();
    brotli.push(("content-encoding", "br"));
    let answer = http
        .post("/FHIR/R4/$prepare", &brotli, example_bundle())
        .await
        .unwrap();
    assert_eq!(answer.status, 415);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_in_use_is_named_in_the_error() {
    let running = server(|_| {}).await;
    let mut config = Config::loopback();
    config.grpc_addr = running.grpc_addr;
    let Err(error) = eps_translator::service::start(config).await else {
        panic!("the address is taken");
    };
    assert!(
        error.to_string().contains(&running.grpc_addr.to_string()),
        "{error}"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_tell_refused_input_from_unsupported_media_and_count_unrouted_requests() {
    let running = server(|_| {}).await;
    let mut http = HttpClient::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    let refused = http
        .post("/FHIR/R4/$convert", &json(), b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(refused.status, 400);
    let xml = [("content-type", "application/xml")];
    let unsupported = http
        .post("/FHIR/R4/$convert", &xml, b"<a/>".to_vec())
        .await
        .unwrap();
    assert_eq!(unsupported.status, 415);
    assert_eq!(http.get("/nothing").await.unwrap().status, 404);
    assert_eq!(http.get("/FHIR/R4/$convert").await.unwrap().status, 405);
    assert_eq!(http.get("/FHIR/R4/$prepare").await.unwrap().status, 405);
    let spine = http
        .post("/FHIR/R4/Claim", &json(), b"{}".to_vec())
        .await
        .unwrap();
    assert_eq!(spine.status, 501);
    let metrics = String::from_utf8(http.get("/metrics").await.unwrap().body).unwrap();
    for line in [
        "eps_requests_total{transport=\"http\",rpc=\"Convert\",outcome=\"rejected\"} 1",
        "eps_requests_total{transport=\"http\",rpc=\"Convert\",outcome=\"unsupported_media_type\"} 1",
        "eps_http_unrouted_total{status=\"404\"} 1",
        "eps_http_unrouted_total{status=\"405\"} 2",
        "eps_http_unrouted_total{status=\"501\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
    running.shutdown().await.unwrap();
}
