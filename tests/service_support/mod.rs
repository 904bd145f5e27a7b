//! Shared by the service tests: a real server on 127.0.0.1:0 and a client to it.
#![allow(dead_code)]

use eps_translator::datetime::Instant;
use eps_translator::service::pb::v1::translator_client::TranslatorClient;
use eps_translator::service::{self, Config, Running};
use tonic::transport::{Channel, Endpoint};

/// The clock the corpus' Convert goldens were made with.
pub const CONVERT_NOW: &str = "2022-02-01T00:00:00Z";
/// The clock the corpus' Prepare goldens were made with.
pub const PREPARE_NOW: &str = "2024-12-09T11:50:04+00:00";

/// Starts a server on free loopback ports (gRPC and HTTP) with `adjust` applied to the
/// default configuration.
pub async fn server(adjust: impl FnOnce(&mut Config)) -> Running {
    let mut config = Config::loopback();
    adjust(&mut config);
    service::start(config).await.expect("the server starts")
}

/// A channel to the server's gRPC address.
pub async fn channel(running: &Running) -> Channel {
    Endpoint::from_shared(format!("http://{}", running.grpc_addr))
        .unwrap()
        .connect()
        .await
        .expect("connects")
}

/// A Translator client over a bare HTTP/2 connection: unlike tonic's `Channel`, it does not
/// enforce a request's `grpc-timeout` itself, so the answer to an expired deadline is the
/// server's.
pub fn client_without_local_timeout(
    running: &Running,
) -> TranslatorClient<
    hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        tonic::body::Body,
    >,
> {
    let http = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let origin = format!("http://{}", running.grpc_addr).parse().unwrap();
    TranslatorClient::with_origin(http, origin)
}

/// A Translator client.
pub async fn client(running: &Running) -> TranslatorClient<Channel> {
    TranslatorClient::new(channel(running).await)
        .max_decoding_message_size(64 * 1024 * 1024)
        .max_encoding_message_size(64 * 1024 * 1024)
}

/// A Timestamp for an RFC 3339 time.
pub fn timestamp(rfc3339: &str) -> prost_types::Timestamp {
    let instant = Instant::parse_rfc3339(rfc3339).unwrap();
    prost_types::Timestamp {
        seconds: instant.0.unix_timestamp(),
        nanos: 0,
    }
}

/// The library context for a pinned clock.
pub fn context(now: &str) -> eps_translator::Context {
    eps_translator::Context::new(Instant::parse_rfc3339(now).unwrap())
}

/// The bundled example Bundle (also compiled into the binary for the demo).
pub fn example_bundle() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden/convert/acute_minimal.json"
    ))
    .unwrap()
}
