//! The service under concurrent load, against a real server on 127.0.0.1:0: many callers
//! get byte-identical answers and no errors; at the concurrency limit requests are shed, not
//! queued; a shutdown under load answers every request it accepted. No timing assertions.

mod service_support;

use eps_translator::service::failure::Outcome;
use eps_translator::service::metrics::{Rpc, Transport};
use eps_translator::service::pb::v1;
use service_support::{example_bundle, server, timestamp, PREPARE_NOW};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tonic::Code;
use tonic_types::StatusExt;

fn prepare_request() -> v1::PrepareRequest {
    v1::PrepareRequest {
        bundle_json: example_bundle(),
        algorithm: v1::DigestAlgorithm::Sha256 as i32,
        signing_time: Some(timestamp(PREPARE_NOW)),
        context: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_callers_times_two_hundred_get_identical_answers_and_no_errors() {
    let running = server(|_| {}).await;
    let expected = eps_translator::signing::prepare(
        &example_bundle(),
        eps_translator::signing::DigestAlgorithm::Sha256,
        &service_support::context(PREPARE_NOW),
    )
    .unwrap();
    let expected_xml = eps_translator::translate::convert(
        &example_bundle(),
        &service_support::context(service_support::CONVERT_NOW),
    )
    .unwrap()
    .xml;
    // A few connections shared by the callers, as a real client pool would.
    let mut channels = Vec::new();
    for _ in 0..4 {
        channels.push(service_support::channel(&running).await);
    }
    let mut callers = Vec::new();
    for i in 0..64 {
        let mut client = v1::translator_client::TranslatorClient::new(channels[i % 4].clone());
        let (expected, expected_xml) = (expected.clone(), expected_xml.clone());
        callers.push(tokio::spawn(async move {
            for n in 0..200 {
                if (i + n) % 4 == 0 {
                    let answer = client
                        .convert(v1::ConvertRequest {
                            bundle_json: example_bundle(),
                            context: Some(v1::Context {
                                creation_time: Some(timestamp(service_support::CONVERT_NOW)),
                                ..Default::default()
                            }),
                        })
                        .await
                        .unwrap()
                        .into_inner();
                    assert_eq!(answer.hl7v3_xml, expected_xml);
                } else {
                    let answer = client
                        .prepare(prepare_request())
                        .await
                        .unwrap()
                        .into_inner();
                    assert_eq!(answer.parameters_json, expected.parameters_json.as_bytes());
                    assert_eq!(answer.fragments_c14n, expected.fragments_c14n);
                }
            }
        }));
    }
    for caller in callers {
        caller.await.unwrap();
    }
    let m = running.metrics();
    assert_eq!(
        m.count(Transport::Grpc, Rpc::Prepare, Outcome::Ok)
            + m.count(Transport::Grpc, Rpc::Convert, Outcome::Ok),
        64 * 200
    );
    assert_eq!(m.total(), 64 * 200, "every request counted, none failed");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_concurrency_limit_requests_are_shed_with_resource_exhausted() {
    let running = server(|c| c.max_in_flight = 1).await;
    let channel = service_support::channel(&running).await;
    let mut shed = 0;
    // Bounded: 20 rounds of 32 simultaneous calls; one slot makes shedding all but certain.
    for _round in 0..20 {
        let calls: Vec<_> = (0..32)
            .map(|_| {
                let mut client = v1::translator_client::TranslatorClient::new(channel.clone());
                tokio::spawn(async move { client.prepare(prepare_request()).await })
            })
            .collect();
        for call in calls {
            match call.await.unwrap() {
                Ok(answer) => assert!(!answer.into_inner().digest.is_empty()),
                Err(status) => {
                    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                    assert_eq!(
                        status.message(),
                        "server busy: at its concurrency limit, retry with backoff"
                    );
                    assert!(status.get_error_details().retry_info().is_some());
                    shed += 1;
                }
            }
        }
        if shed > 0 {
            break;
        }
    }
    assert!(
        shed > 0,
        "one slot and 32 simultaneous calls never shed one"
    );
    assert_eq!(
        running
            .metrics()
            .count(Transport::Grpc, Rpc::Prepare, Outcome::Shed),
        shed
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_under_load_answers_every_accepted_request() {
    let running = server(|_| {}).await;
    let shared = running.shared();
    let expected = eps_translator::signing::prepare(
        &example_bundle(),
        eps_translator::signing::DigestAlgorithm::Sha256,
        &service_support::context(PREPARE_NOW),
    )
    .unwrap()
    .parameters_json;
    let channel = service_support::channel(&running).await;
    let answered = Arc::new(AtomicUsize::new(0));
    let mut callers = Vec::new();
    for _ in 0..32 {
        let mut client = v1::translator_client::TranslatorClient::new(channel.clone());
        let (answered, expected) = (answered.clone(), expected.clone());
        // Each caller calls until the server refuses (bounded, in case it never does).
        callers.push(tokio::spawn(async move {
            for _ in 0..100_000 {
                match client.prepare(prepare_request()).await {
                    Ok(answer) => {
                        assert_eq!(answer.into_inner().parameters_json, expected.as_bytes());
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(status) => return Some(status),
                }
            }
            None
        }));
    }
    while answered.load(Ordering::Relaxed) < 500 {
        tokio::task::yield_now().await;
    }
    running
        .shutdown()
        .await
        .expect("in-flight requests finish within the grace period");
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    for caller in callers {
        let status = caller
            .await
            .unwrap()
            .expect("the server stops answering after shutdown");
        // A call the server did not accept ends in a transport error on the client, whose
        // kind depends on when it was made: refused at connect (UNAVAILABLE), still queued
        // in the client when the connection closed (CANCELLED), a stream opened after the
        // server's final GOAWAY (INTERNAL "h2 protocol error"), a write to the closed
        // socket (UNKNOWN "transport error"). Never a status the server sent: that would
        // be a request it accepted and did not answer.
        *refusals
            .entry(format!("{:?}: {}", status.code(), status.message()))
            .or_default() += 1;
        assert!(
            std::error::Error::source(&status).is_some() || status.code() == Code::Unavailable,
            "a status from the server after shutdown: {status:?}"
        );
    }
    // Every request the server accepted was answered, and the answer reached its caller.
    let m = &shared.metrics;
    assert_eq!(
        m.count(Transport::Grpc, Rpc::Prepare, Outcome::Cancelled),
        0,
        "refusals after shutdown: {refusals:?}"
    );
    assert_eq!(
        m.total(),
        m.count(Transport::Grpc, Rpc::Prepare, Outcome::Ok)
    );
    assert_eq!(
        m.count(Transport::Grpc, Rpc::Prepare, Outcome::Ok) as usize,
        answered.load(Ordering::Relaxed),
        "refusals after shutdown: {refusals:?}"
    );
    assert_eq!(m.in_flight(), 0);
}
