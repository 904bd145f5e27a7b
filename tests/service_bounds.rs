//! The connection bounds of both ports, against a real server with small limits: a peer that
//! does not finish its header, sends nothing, or does not send its body is cut off and
//! counted; connections and streams over their caps are refused and counted; a peer that
//! opens more HTTP/2 streams than the connection allows gets them reset. Each test waits on
//! the server's behaviour (a closed socket, a frame, a status); none measures time.

mod service_support;

use eps_translator::service::metrics::{ConnEnd, Transport};
use eps_translator::service::pb::v1;
use eps_translator::service::Running;
use service_support::{client, example_bundle, server};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Upper bound on any wait here, so a regression fails instead of hanging. The limits under
/// test are a hundred times shorter.
const HANG: Duration = Duration::from_secs(60);

/// Reads until the server closes the connection (EOF or reset); returns what it sent.
async fn read_until_closed(tcp: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(HANG, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return got,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server did not close the connection"),
        }
    }
}

fn prepare_request() -> v1::PrepareRequest {
    v1::PrepareRequest {
        bundle_json: example_bundle(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_half_a_header_is_closed_after_the_header_timeout() {
    let running = server(|c| c.limits.header_timeout = Duration::from_millis(200)).await;
    for (transport, addr) in [
        (Transport::Http, running.http_addr.unwrap()),
        (Transport::Grpc, running.grpc_addr),
    ] {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"POST /FHIR/R4/$prepare HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .await
            .unwrap();
        read_until_closed(&mut tcp).await;
        assert_eq!(
            running
                .metrics()
                .connections_ended(transport, ConnEnd::HeaderTimeout),
            1,
            "{transport:?}"
        );
    }
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_larger_than_the_limit_is_refused_with_431_and_the_connection_closed() {
    let running = server(|c| c.limits.max_header_bytes = 8192).await;
    let mut tcp = TcpStream::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    let mut request = b"GET /_status HTTP/1.1\r\nHost: localhost\r\nX-Big: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 20_000));
    // The server may close before taking every byte.
    let _ = tcp.write_all(&request).await;
    let answer = read_until_closed(&mut tcp).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_with_no_request_open_is_closed_after_the_idle_timeout() {
    let running = server(|c| c.limits.idle_timeout = Duration::from_millis(200)).await;
    // Nothing sent: the server is still finding out which HTTP version the peer speaks.
    let mut silent = TcpStream::connect(running.grpc_addr).await.unwrap();
    read_until_closed(&mut silent).await;
    // An HTTP/2 connection that made a call and then went quiet.
    let mut grpc = client(&running).await;
    grpc.prepare(prepare_request()).await.unwrap();
    let metrics = running.shared();
    tokio::time::timeout(HANG, async {
        while metrics
            .metrics
            .connections_ended(Transport::Grpc, ConnEnd::Idle)
            < 2
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("both idle connections closed");
    running.shutdown().await.unwrap();
}

/// Opens a connection and makes sure the server holds it: an HTTP/1 `GET /_status` answered.
async fn held_connection(addr: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET /_status HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    tcp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_over_the_cap_is_closed_at_once_and_counted() {
    let running = server(|c| c.limits.max_connections = 2).await;
    let http = running.http_addr.unwrap();
    // The cap is shared: one connection on each port fills it.
    let first = held_connection(http).await;
    let _second = held_connection(running.grpc_addr).await;
    let mut third = TcpStream::connect(http).await.unwrap();
    let _ = third
        .write_all(b"GET /_status HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    assert!(read_until_closed(&mut third).await.is_empty());
    assert_eq!(
        running
            .metrics()
            .connections_ended(Transport::Http, ConnEnd::Refused),
        1
    );
    assert!(running
        .metrics()
        .render()
        .contains("eps_connections_closed_total{transport=\"http\",reason=\"refused\"} 1\n"));
    // A closed connection frees its place.
    drop(first);
    tokio::time::timeout(HANG, async {
        loop {
            let mut tcp = TcpStream::connect(http).await.unwrap();
            let _ = tcp
                .write_all(b"GET /_status HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .await;
            let mut buf = [0u8; 512];
            if let Ok(n) = tcp.read(&mut buf).await {
                if buf[..n].starts_with(b"HTTP/1.1 200") {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a new connection is served once one closed");
    running.shutdown().await.unwrap();
}

/// A ConvertStream call whose request stream stays open (nothing sent) until `hold` drops.
async fn held_stream(
    running: &Running,
) -> (
    tokio::sync::mpsc::Sender<v1::StreamItem>,
    tonic::Streaming<v1::StreamResult>,
) {
    let (hold, rx) = tokio::sync::mpsc::channel(1);
    let response = client(running)
        .await
        .convert_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("the stream is opened");
    (hold, response.into_inner())
}

/// An HTTP/1 request whose announced body is never sent: open until the body timeout.
async fn unfinished_request(addr: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        b"POST /FHIR/R4/$prepare HTTP/1.1\r\nHost: localhost\r\n\
          Content-Type: application/fhir+json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .unwrap();
    tcp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_the_total_stream_cap_are_refused_and_counted() {
    let running = server(|c| c.limits.max_streams = 2).await;
    let http = running.http_addr.unwrap();
    let a = unfinished_request(http).await;
    let b = unfinished_request(http).await;
    let metrics = running.shared();
    tokio::time::timeout(HANG, async {
        while !metrics.metrics.render().contains("eps_streams_open 2\n") {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("both requests open");
    let refused = client(&running)
        .await
        .prepare(prepare_request())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    assert!(refused.message().contains("limit of open requests"));
    let mut status = eps_translator::service::http_client::HttpClient::connect(http)
        .await
        .unwrap();
    assert_eq!(status.get("/_status").await.unwrap().status, 503);
    assert_eq!(running.metrics().streams_refused(Transport::Grpc), 1);
    assert_eq!(running.metrics().streams_refused(Transport::Http), 1);
    // Closing the unfinished requests gives their places back.
    drop((a, b));
    let mut grpc = client(&running).await;
    tokio::time::timeout(HANG, async {
        while grpc.prepare(prepare_request()).await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("requests are served once the others ended");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_open_streams_are_capped_apart_and_do_not_refuse_unary_requests() {
    let running = server(|c| {
        c.limits.max_client_streams = 2;
        c.limits.max_streams = 2;
    })
    .await;
    let _a = held_stream(&running).await;
    let _b = held_stream(&running).await;
    let (_hold, rx) = tokio::sync::mpsc::channel(1);
    let refused = client(&running)
        .await
        .convert_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    assert_eq!(running.metrics().streams_refused(Transport::Grpc), 1);
    // Unary calls have their own places.
    let mut grpc = client(&running).await;
    grpc.prepare(prepare_request()).await.unwrap();
    grpc.prepare(prepare_request()).await.unwrap();
    drop((_a, _b));
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_not_received_within_the_body_timeout_is_answered_and_counted() {
    let running = server(|c| c.limits.body_timeout = Duration::from_millis(200)).await;
    // HTTP: a body announced and never sent is a 408.
    let mut tcp = TcpStream::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    tcp.write_all(
        b"POST /FHIR/R4/$prepare HTTP/1.1\r\nHost: localhost\r\n\
          Content-Type: application/fhir+json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .unwrap();
    let answer = read_until_closed(&mut tcp).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(running.metrics().body_timeouts(Transport::Http), 1);
    // gRPC: a ConvertStream whose caller sends nothing ends with DEADLINE_EXCEEDED.
    let (_hold, mut results) = held_stream(&running).await;
    let status = tokio::time::timeout(HANG, results.message())
        .await
        .expect("the stream ends")
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("body timeout"), "{status:?}");
    assert_eq!(running.metrics().body_timeouts(Transport::Grpc), 1);
    running.shutdown().await.unwrap();
}

/// An HTTP/2 frame.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A HEADERS block of literal fields (HPACK "literal without indexing, new name"; every
/// name and value here is under 127 bytes).
fn header_block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in fields {
        block.push(0);
        block.push(name.len() as u8);
        block.extend_from_slice(name.as_bytes());
        block.push(value.len() as u8);
        block.extend_from_slice(value.as_bytes());
    }
    block
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_streams_over_the_per_connection_limit_are_refused() {
    let running = server(|c| c.limits.max_streams_per_connection = 2).await;
    let mut tcp = TcpStream::connect(running.grpc_addr).await.unwrap();
    // A client that ignores the server's SETTINGS_MAX_CONCURRENT_STREAMS: three ConvertStream
    // calls, none finished.
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(frame(0x4, 0, 0, &[]));
    let block = header_block(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/eps.translator.v1.Translator/ConvertStream"),
        (":authority", "localhost"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]);
    for stream in [1u32, 3, 5] {
        out.extend(frame(0x1, 0x4, stream, &block));
    }
    tcp.write_all(&out).await.unwrap();
    // Read frames until stream 5 is reset.
    let reset = tokio::time::timeout(HANG, async {
        loop {
            let mut head = [0u8; 9];
            tcp.read_exact(&mut head).await.expect("a frame");
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
            let mut payload = vec![0u8; len];
            tcp.read_exact(&mut payload).await.expect("its payload");
            if head[3] == 0x4 && head[4] & 1 == 0 {
                // The server's SETTINGS: acknowledge them.
                tcp.write_all(&frame(0x4, 1, 0, &[])).await.unwrap();
            }
            if head[3] == 0x3 {
                return (stream, u32::from_be_bytes(payload[..4].try_into().unwrap()));
            }
            assert_ne!(head[3], 0x7, "GOAWAY instead of a stream reset");
        }
    })
    .await
    .expect("a stream is reset");
    // REFUSED_STREAM (0x7): the client may retry it, nothing was processed.
    assert_eq!(reset, (5, 0x7));
    // Streams 1 and 3 are still open: a graceful shutdown would wait for them.
    drop(tcp);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn near_the_connection_cap_idle_connections_make_room() {
    let running = server(|c| {
        c.limits.max_connections = 10;
        c.limits.idle_timeout = Duration::from_secs(3600);
        c.limits.header_timeout = Duration::from_secs(3600);
    })
    .await;
    let http = running.http_addr.unwrap();
    // Kept-alive connections, each answered once and then quiet. Reaching 90% of the cap
    // (nine) closes quiet connections until the open ones are back under 90%; two quiet
    // connections whose shortened idle time ends together may both close.
    let mut quiet = Vec::new();
    for _round in 1..=2 {
        while running.metrics().connections_open(Transport::Http) < 9 {
            quiet.push(held_connection(http).await);
        }
        // The client holds every connection open: only the server can close them.
        tokio::time::timeout(HANG, async {
            while running.metrics().connections_open(Transport::Http) >= 9 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("quiet connections closed under the cap");
    }
    assert!(
        running
            .metrics()
            .connections_ended(Transport::Http, ConnEnd::Idle)
            >= 2
    );
    drop(quiet);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_far_larger_than_the_header_buffer_is_read_whole() {
    let running = server(|c| c.limits.max_header_bytes = 8192).await;
    let mut body = example_bundle();
    body.extend(std::iter::repeat_n(b' ', 1024 * 1024));
    let mut http =
        eps_translator::service::http_client::HttpClient::connect(running.http_addr.unwrap())
            .await
            .unwrap();
    let answer = http
        .post(
            "/FHIR/R4/$prepare",
            &[("content-type", "application/fhir+json")],
            body,
        )
        .await
        .unwrap();
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    running.shutdown().await.unwrap();
}
