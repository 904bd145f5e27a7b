//! The gRPC service against a real server on 127.0.0.1:0: every RPC equals the library on
//! corpus files; health and reflection (v1 and v1alpha) answer; malformed, non-UTF-8,
//! oversize and out-of-time requests get the right status and message; 64 concurrent
//! callers get identical bytes and no errors; shutdown under load loses no accepted request.

mod common;
mod service_support;

use eps_translator::service::pb::v1::{self, stream_item, stream_result};
use eps_translator::signing::DigestAlgorithm;
use service_support::{
    client, context, example_bundle, server, timestamp, CONVERT_NOW, PREPARE_NOW,
};
use std::time::Duration;
use tonic::Code;
use tonic_types::StatusExt;

fn convert_request(bundle: Vec<u8>, now: &str) -> v1::ConvertRequest {
    v1::ConvertRequest {
        bundle_json: bundle,
        context: Some(v1::Context {
            creation_time: Some(timestamp(now)),
            ..Default::default()
        }),
    }
}

fn prepare_request(
    bundle: Vec<u8>,
    algorithm: v1::DigestAlgorithm,
    now: &str,
) -> v1::PrepareRequest {
    v1::PrepareRequest {
        bundle_json: bundle,
        algorithm: algorithm as i32,
        signing_time: Some(timestamp(now)),
        context: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn convert_over_grpc_gives_the_corpus_golden_bytes() {
    let Some(shared) = common::shared_dir("service convert conformance") else {
        return;
    };
    let running = server(|_| {}).await;
    let mut client = client(&running).await;
    let pairs = common::convert_pairs(&shared);
    let mut checked = 0;
    for (request, golden) in &pairs {
        let Ok(expected) = std::fs::read_to_string(golden) else {
            continue;
        };
        let bundle = std::fs::read(request).unwrap();
        let library = eps_translator::translate::convert(&bundle, &context(CONVERT_NOW)).unwrap();
        let answer = client
            .convert(convert_request(bundle, CONVERT_NOW))
            .await
            .unwrap_or_else(|s| panic!("{}: {s:?}", request.display()))
            .into_inner();
        assert_eq!(answer.hl7v3_xml, expected, "{}", golden.display());
        assert_eq!(
            answer.not_carried,
            library.not_carried,
            "{}",
            request.display()
        );
        assert_eq!(
            answer.issues.len(),
            library.issues.len(),
            "{}",
            request.display()
        );
        checked += 1;
    }
    assert!(
        checked >= 41,
        "expected the 41 corpus goldens, checked {checked}"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepare_over_grpc_equals_the_library_and_the_corpus_parameters() {
    let Some(shared) = common::shared_dir("service prepare conformance") else {
        return;
    };
    let running = server(|_| {}).await;
    let mut client = client(&running).await;
    let requests = common::find_files(&shared.join("eps-examples"), &|n| {
        n.ends_with("-Prepare-Request-200_OK.json")
    });
    for request in &requests {
        let bundle = std::fs::read(request).unwrap();
        for (algorithm, domain) in [
            (v1::DigestAlgorithm::Sha256, DigestAlgorithm::Sha256),
            (v1::DigestAlgorithm::Sha1, DigestAlgorithm::Sha1),
        ] {
            let library =
                eps_translator::signing::prepare(&bundle, domain, &context(PREPARE_NOW)).unwrap();
            let answer = client
                .prepare(prepare_request(bundle.clone(), algorithm, PREPARE_NOW))
                .await
                .unwrap_or_else(|s| panic!("{}: {s:?}", request.display()))
                .into_inner();
            assert_eq!(answer.parameters_json, library.parameters_json.as_bytes());
            assert_eq!(answer.digest, library.digest);
            assert_eq!(answer.timestamp, library.timestamp);
            assert_eq!(answer.algorithm, domain.jws_name());
            assert_eq!(answer.signed_info_xml, library.signed_info_xml);
            assert_eq!(answer.fragments_c14n, library.fragments_c14n);
            assert_eq!(answer.digest_value, library.digest_value);
        }
        // The SHA-256 answer is the corpus' own response.
        let response = common::prepare_response(request);
        let answer = client
            .prepare(prepare_request(
                bundle,
                v1::DigestAlgorithm::Unspecified,
                PREPARE_NOW,
            ))
            .await
            .unwrap()
            .into_inner();
        let ours: serde_json::Value = serde_json::from_slice(&answer.parameters_json).unwrap();
        let theirs: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&response).unwrap()).unwrap();
        assert_eq!(
            ours["parameter"],
            theirs["parameter"],
            "{}",
            response.display()
        );
    }
    assert!(requests.len() >= 29);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canonicalize_over_grpc_equals_the_library() {
    let running = server(|_| {}).await;
    let mut client = client(&running).await;
    let xml = eps_translator::translate::convert(&example_bundle(), &context(CONVERT_NOW))
        .unwrap()
        .xml;
    for (mode, domain) in [
        (
            v1::C14nMode::Unspecified,
            eps_translator::c14n::Mode::Exclusive,
        ),
        (
            v1::C14nMode::Exclusive,
            eps_translator::c14n::Mode::Exclusive,
        ),
        (
            v1::C14nMode::ExclusiveWithComments,
            eps_translator::c14n::Mode::ExclusiveWithComments,
        ),
        (
            v1::C14nMode::Inclusive,
            eps_translator::c14n::Mode::Inclusive,
        ),
        (
            v1::C14nMode::InclusiveWithComments,
            eps_translator::c14n::Mode::InclusiveWithComments,
        ),
    ] {
        let expected =
            eps_translator::c14n::canonicalize(&xml, &eps_translator::c14n::Options::new(domain))
                .unwrap();
        let answer = client
            .canonicalize(v1::CanonicalizeRequest {
                xml: xml.clone().into_bytes(),
                mode: mode as i32,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.canonical, expected, "{mode:?}");
    }
    // A subtree with a prefix binding and an InclusiveNamespaces list.
    let mut options = eps_translator::c14n::Options::new(eps_translator::c14n::Mode::Exclusive);
    options.subtree = Some("//hl7:ParentPrescription");
    options.namespaces = vec![("hl7".to_string(), "urn:hl7-org:v3".to_string())];
    options.inclusive_prefixes = vec!["xsi".to_string()];
    let expected = eps_translator::c14n::canonicalize(&xml, &options).unwrap();
    let answer = client
        .canonicalize(v1::CanonicalizeRequest {
            xml: xml.into_bytes(),
            mode: v1::C14nMode::Exclusive as i32,
            inclusive_prefixes: vec!["xsi".to_string()],
            subtree: Some("//hl7:ParentPrescription".to_string()),
            namespaces: [("hl7".to_string(), "urn:hl7-org:v3".to_string())].into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.canonical, expected);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_bundles_are_invalid_argument_with_a_field_violation_per_issue_and_the_operation_outcome(
) {
    let running = server(|_| {}).await;
    let mut client = client(&running).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/convert");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !(name.starts_with("err_") && name.ends_with(".json") && !name.ends_with(".err.json")) {
            continue;
        }
        let expected: serde_json::Value = serde_json::from_slice(
            &std::fs::read(path.with_file_name(name.replace(".json", ".err.json"))).unwrap(),
        )
        .unwrap();
        let status = client
            .convert(convert_request(std::fs::read(&path).unwrap(), CONVERT_NOW))
            .await
            .expect_err(&name);
        assert_eq!(status.code(), Code::InvalidArgument, "{name}");
        assert!(
            status.message().starts_with("input rejected: error ("),
            "{name}: {}",
            status.message()
        );
        let details = status.get_error_details();
        let violations = &details
            .bad_request()
            .expect("a BadRequest")
            .field_violations;
        let issues = expected["issue"].as_array().unwrap();
        assert_eq!(violations.len(), issues.len(), "{name}");
        for (v, issue) in violations.iter().zip(issues) {
            let field = issue["expression"][0].as_str().unwrap_or("bundle_json");
            assert_eq!(v.field, field, "{name}");
            assert!(
                v.description
                    .starts_with(issue["diagnostics"].as_str().unwrap()),
                "{name}"
            );
        }
        let info = details.error_info().expect("an ErrorInfo");
        assert_eq!(info.reason, "INPUT_REJECTED");
        assert_eq!(info.domain, "eps-translator");
        let outcome: serde_json::Value =
            serde_json::from_str(&info.metadata["operation_outcome"]).unwrap();
        assert_eq!(outcome, expected, "{name}");
        checked += 1;
    }
    assert!(checked >= 14, "checked {checked} refusals");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_utf8_body_is_invalid_argument_naming_the_offset() {
    let running = server(|_| {}).await;
    let mut client = client(&running).await;
    let mut bundle = b"{\"resourceType\": \"Bundle\", \"id\": \"".to_vec();
    bundle.extend_from_slice(&[0xff, 0xfe]);
    bundle.extend_from_slice(b"\"}");
    let status = client
        .prepare(prepare_request(
            bundle,
            v1::DigestAlgorithm::Sha256,
            PREPARE_NOW,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with(
            "input rejected: error (structure): input is not valid UTF-8: invalid byte at line 1, column 35 (byte offset 34)"
        ),
        "{}",
        status.message()
    );
    let violations = status
        .get_error_details()
        .bad_request()
        .unwrap()
        .field_violations
        .clone();
    assert_eq!(violations[0].field, "1:35", "the place of the invalid byte");
    // The same for XML.
    let status = client
        .canonicalize(v1::CanonicalizeRequest {
            xml: vec![b'<', b'a', b'>', 0xc3, b'<', b'/', b'a', b'>'],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains("not valid UTF-8: invalid byte at line 1, column 4 (byte offset 3)"),
        "{}",
        status.message()
    );
    // Malformed XML.
    let status = client
        .canonicalize(v1::CanonicalizeRequest {
            xml: b"<a><b></a>".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversize_message_is_resource_exhausted_and_the_server_goes_on() {
    let running = server(|c| c.max_message_bytes = 64 * 1024).await;
    let mut client = client(&running).await;
    let mut bundle = example_bundle();
    bundle.extend(std::iter::repeat_n(b' ', 70 * 1024));
    let status = client
        .convert(convert_request(bundle, CONVERT_NOW))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().starts_with("message too large: ")
            && status
                .message()
                .ends_with("bytes, the server's maximum is 65536 bytes"),
        "{}",
        status.message()
    );
    // The next call on the same connection is served.
    client
        .convert(convert_request(example_bundle(), CONVERT_NOW))
        .await
        .unwrap();
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_deadline_is_deadline_exceeded_and_no_work_is_done() {
    let running = server(|_| {}).await;
    let mut client = service_support::client_without_local_timeout(&running);
    let mut request = tonic::Request::new(convert_request(example_bundle(), CONVERT_NOW));
    request.set_timeout(Duration::from_nanos(1));
    let status = client.convert(request).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert_eq!(
        status.message(),
        "deadline exceeded before the work finished"
    );
    // A server timeout shorter than the work has the same answer.
    let running_short = server(|c| c.timeout = Duration::from_nanos(1)).await;
    let status = service_support::client(&running_short)
        .await
        .prepare(prepare_request(
            example_bundle(),
            v1::DigestAlgorithm::Sha256,
            PREPARE_NOW,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded);
    running_short.shutdown().await.unwrap();
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_fhir_over_grpc_equals_the_library_on_corpus_messages() {
    let Some(shared) = common::shared_dir("service to-fhir") else {
        return;
    };
    let running = server(|_| {}).await;
    let mut client = client(&running).await;
    let mut messages = common::find_files(&shared.join("eps-examples"), &|n| {
        n.ends_with("-Convert-Response-Send-200_OK.xml")
    });
    messages.truncate(10);
    messages.extend(common::find_files(
        &shared.join("eps-release-responses"),
        &|n| n.ends_with(".xml"),
    ));
    for message in &messages {
        let xml = std::fs::read_to_string(message).unwrap();
        let library = eps_translator::to_fhir::to_fhir(xml.as_bytes());
        // Release responses: the unchecked translation, asked for explicitly (the library's
        // to_fhir); verification is tested in service_verify.
        let request = v1::ToFhirRequest {
            hl7v3_xml: xml,
            no_verify: true,
            ..Default::default()
        };
        match client.to_fhir(request).await {
            Ok(answer) => assert_eq!(
                answer.into_inner().fhir_json,
                library.unwrap().into_bytes(),
                "{}",
                message.display()
            ),
            Err(status) => {
                assert!(library.is_err(), "{}: {status:?}", message.display());
                assert_eq!(status.code(), Code::InvalidArgument);
            }
        }
    }
    assert!(messages.len() >= 10);
    // Not XML: INVALID_ARGUMENT.
    let status = client
        .to_fhir(v1::ToFhirRequest {
            hl7v3_xml: "not xml".to_string(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_answers_in_order_with_correlation_ids_and_survives_a_bad_item() {
    let running = server(|_| {}).await;
    let mut client = client(&running).await;
    let good = example_bundle();
    let expected_xml = eps_translator::translate::convert(&good, &context(CONVERT_NOW))
        .unwrap()
        .xml;
    let expected_fhir = eps_translator::to_fhir::to_fhir(expected_xml.as_bytes()).unwrap();
    let mut items = Vec::new();
    for i in 0..40 {
        let request = match i % 5 {
            0 => stream_item::Request::Convert(convert_request(b"{not json".to_vec(), CONVERT_NOW)),
            1 => stream_item::Request::Prepare(prepare_request(
                good.clone(),
                v1::DigestAlgorithm::Sha256,
                PREPARE_NOW,
            )),
            2 => stream_item::Request::ToFhir(v1::ToFhirRequest {
                hl7v3_xml: expected_xml.clone(),
                ..Default::default()
            }),
            3 => stream_item::Request::Canonicalize(v1::CanonicalizeRequest {
                xml: b"<a b='1'   a='2'/>".to_vec(),
                ..Default::default()
            }),
            _ => stream_item::Request::Convert(convert_request(good.clone(), CONVERT_NOW)),
        };
        items.push(v1::StreamItem {
            correlation_id: format!("item-{i}"),
            request: Some(request),
        });
    }
    let mut results = client
        .convert_stream(tokio_stream::iter(items))
        .await
        .unwrap()
        .into_inner();
    let mut i = 0;
    while let Some(result) = results.message().await.unwrap() {
        assert_eq!(result.correlation_id, format!("item-{i}"));
        match (i % 5, result.result.unwrap()) {
            (0, stream_result::Result::Error(e)) => {
                assert_eq!(e.code, Code::InvalidArgument as i32);
                assert_eq!(e.issues.len(), 1);
                let outcome: serde_json::Value =
                    serde_json::from_slice(&e.operation_outcome_json).unwrap();
                assert_eq!(outcome["resourceType"], "OperationOutcome");
            }
            (1, stream_result::Result::Prepare(p)) => assert!(!p.digest.is_empty()),
            (2, stream_result::Result::ToFhir(f)) => {
                assert_eq!(f.fhir_json, expected_fhir.as_bytes())
            }
            (3, stream_result::Result::Canonicalize(c)) => {
                assert_eq!(c.canonical, b"<a a=\"2\" b=\"1\"></a>")
            }
            (4, stream_result::Result::Convert(c)) => assert_eq!(c.hl7v3_xml, expected_xml),
            (k, other) => panic!("item {i} (kind {k}): unexpected {other:?}"),
        }
        i += 1;
    }
    assert_eq!(i, 40);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_serving_then_not_serving_on_shutdown() {
    use tonic_health::pb::{
        health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
    };
    let running = server(|_| {}).await;
    let mut health = HealthClient::new(service_support::channel(&running).await);
    for service in ["", "eps.translator.v1.Translator"] {
        let answer = health
            .check(HealthCheckRequest {
                service: service.to_string(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.status(), ServingStatus::Serving, "{service:?}");
    }
    let mut watch = health
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        watch.message().await.unwrap().unwrap().status(),
        ServingStatus::Serving
    );
    let shutdown = tokio::spawn(running.shutdown());
    assert_eq!(
        watch.message().await.unwrap().unwrap().status(),
        ServingStatus::NotServing
    );
    drop(watch);
    shutdown.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_v1_and_v1alpha_list_the_services_and_describe_the_api() {
    use tonic_reflection::pb::{v1 as r1, v1alpha as ra};
    let running = server(|_| {}).await;
    let channel = service_support::channel(&running).await;

    let mut c1 = r1::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let requests = vec![
        r1::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(r1::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            )),
        },
        r1::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(
                r1::server_reflection_request::MessageRequest::FileContainingSymbol(
                    "eps.translator.v1.Translator".to_string(),
                ),
            ),
        },
        r1::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(
                r1::server_reflection_request::MessageRequest::FileByFilename(
                    "google/protobuf/timestamp.proto".to_string(),
                ),
            ),
        },
    ];
    let mut answers = c1
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let Some(r1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        answers.message().await.unwrap().unwrap().message_response
    else {
        panic!("expected a service list");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "eps.translator.v1.Translator",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not in {names:?}"
        );
    }
    let Some(r1::server_reflection_response::MessageResponse::FileDescriptorResponse(files)) =
        answers.message().await.unwrap().unwrap().message_response
    else {
        panic!("expected file descriptors");
    };
    let descriptors: Vec<prost_types::FileDescriptorProto> = files
        .file_descriptor_proto
        .iter()
        .map(|b| prost::Message::decode(b.as_slice()).unwrap())
        .collect();
    let api = descriptors
        .iter()
        .find(|f| f.package() == "eps.translator.v1")
        .expect("the API's file");
    let methods: Vec<&str> = api.service[0].method.iter().map(|m| m.name()).collect();
    assert_eq!(
        methods,
        [
            "Convert",
            "Prepare",
            "ToFhir",
            "Canonicalize",
            "Verify",
            "ConvertStream"
        ]
    );
    assert_eq!(api.dependency, ["google/protobuf/timestamp.proto"]);
    // The import is served too, so a client can resolve every type.
    let Some(r1::server_reflection_response::MessageResponse::FileDescriptorResponse(files)) =
        answers.message().await.unwrap().unwrap().message_response
    else {
        panic!("expected the imported file");
    };
    let timestamp: prost_types::FileDescriptorProto =
        prost::Message::decode(files.file_descriptor_proto[0].as_slice()).unwrap();
    assert_eq!(timestamp.name(), "google/protobuf/timestamp.proto");

    let mut ca = ra::server_reflection_client::ServerReflectionClient::new(channel);
    let mut answers = ca
        .server_reflection_info(tokio_stream::iter(vec![ra::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(ra::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            )),
        }]))
        .await
        .unwrap()
        .into_inner();
    let Some(ra::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        answers.message().await.unwrap().unwrap().message_response
    else {
        panic!("expected a service list");
    };
    assert!(list
        .service
        .iter()
        .any(|s| s.name == "eps.translator.v1.Translator"));
    running.shutdown().await.unwrap();
}
