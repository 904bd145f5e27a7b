//! The accept loop and every connection's bounds: how many connections and open requests
//! the server holds, how long a peer may take to send a request's header and body, how long
//! a connection may sit with no request open, and how much header a peer may make it buffer.
//! Each refusal or cut-off is counted (`metrics.rs`) and logged at most once a second per
//! kind (`warn`; every event at `debug`). See `docs/service.md`, "Connections".
//!
//! hyper-util's HTTP/1 + HTTP/2 connection builder serves each connection; what it does not
//! bound by itself (connections, open requests across connections, body read time, idle
//! connections, the protocol-detection phase) is done here by hand: a semaphore each, a
//! body wrapper with a timer, and a per-connection watchdog.

use super::metrics::{ConnEnd, Transport};
use super::request::Shared;
use axum::body::{Body, Bytes};
use axum::Router;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};

/// The connection and stream bounds (`serve` flags of the same names).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections served at once, both ports together; more are closed as soon as accepted.
    pub max_connections: usize,
    /// Requests (HTTP/1) and streams (HTTP/2) open at once, both ports together; more are
    /// answered at once with `RESOURCE_EXHAUSTED` / 503.
    pub max_streams: usize,
    /// Client-streaming calls (`ConvertStream`, reflection) open at once, both ports
    /// together, counted apart from `max_streams` so that held-open streams cannot refuse
    /// unary requests; more are answered at once with `RESOURCE_EXHAUSTED`.
    pub max_client_streams: usize,
    /// HTTP/2 streams a peer may open on one connection (the SETTINGS value; a stream over
    /// it is reset with `REFUSED_STREAM`).
    pub max_streams_per_connection: u32,
    /// HTTP/1: time allowed for a request's header, counted from when the connection is
    /// ready for it (so also the keep-alive wait between requests).
    pub header_timeout: Duration,
    /// Header bytes a connection may buffer: HTTP/1's read buffer (at least 8 KiB), HTTP/2's
    /// header list size.
    pub max_header_bytes: usize,
    /// Time allowed for a request's whole body; for a client stream (`ConvertStream`,
    /// reflection), the longest wait for its next piece.
    pub body_timeout: Duration,
    /// A connection with no request open for this long is closed (HTTP/2: GOAWAY, then
    /// closed a second later at most). Also bounds the protocol detection of a new
    /// connection.
    pub idle_timeout: Duration,
    /// HTTP/2 keep-alive: a PING after this long without a frame; no answer within the same
    /// time closes the connection.
    pub keepalive_interval: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 10_000,
            max_streams: 1024,
            max_client_streams: 256,
            max_streams_per_connection: 100,
            header_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            keepalive_interval: Duration::from_secs(30),
        }
    }
}

/// What the two listeners share: the caps and the server state.
#[derive(Debug)]
pub(super) struct Gate {
    limits: Limits,
    connections: Arc<Semaphore>,
    streams: Arc<Semaphore>,
    client_streams: Arc<Semaphore>,
    shared: Arc<Shared>,
    logs: RateLimit,
    /// True while the open connections are at 90% of the cap or more: then a connection
    /// with no request open is closed after [`PRESSED_IDLE`] instead of the idle timeout.
    pressure: watch::Sender<bool>,
}

/// The idle timeout while connections are near their cap.
const PRESSED_IDLE: Duration = Duration::from_secs(1);

impl Gate {
    pub(super) fn new(limits: Limits, shared: Arc<Shared>) -> Arc<Gate> {
        Arc::new(Gate {
            connections: Arc::new(Semaphore::new(limits.max_connections.max(1))),
            streams: Arc::new(Semaphore::new(limits.max_streams.max(1))),
            client_streams: Arc::new(Semaphore::new(limits.max_client_streams.max(1))),
            limits,
            shared,
            logs: RateLimit::default(),
            pressure: watch::Sender::new(false),
        })
    }

    /// Re-reads how full the connection cap is, after a connection opened or ended.
    fn update_pressure(&self) {
        let max = self.limits.max_connections.max(1);
        let open = max.saturating_sub(self.connections.available_permits());
        let pressed = open * 10 >= max * 9;
        self.pressure.send_if_modified(|p| {
            let changed = *p != pressed;
            *p = pressed;
            changed
        });
    }

    fn builder(&self) -> auto::Builder<TokioExecutor> {
        let l = &self.limits;
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(l.header_timeout)
            .max_buf_size(l.max_header_bytes.max(8192))
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(l.max_streams_per_connection)
            .max_header_list_size(u32::try_from(l.max_header_bytes).unwrap_or(u32::MAX))
            .keep_alive_interval(l.keepalive_interval)
            .keep_alive_timeout(l.keepalive_interval);
        builder
    }
}

/// Accepts connections on `listener` and serves each with `router` until `stop` turns
/// true; then stops accepting, tells every connection to finish (HTTP/2 GOAWAY, HTTP/1
/// closes once idle) and returns when all have ended.
pub(super) async fn serve(
    listener: TcpListener,
    transport: Transport,
    router: Router,
    gate: Arc<Gate>,
    stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let builder = Arc::new(gate.builder());
    let mut connections = JoinSet::new();
    let stopped = stopped(stop.clone());
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let Ok(permit) = gate.connections.clone().try_acquire_owned() else {
                        gate.update_pressure();
                        drop(tcp);
                        gate.shared.metrics.connection_ended(transport, ConnEnd::Refused);
                        tracing::debug!(transport = transport.as_str(), %peer, "connection refused: at --max-connections");
                        gate.logs.warn(Kind::Refused, transport, "connections refused: at --max-connections");
                        continue;
                    };
                    let _ = tcp.set_nodelay(true);
                    connections.spawn(connection(
                        tcp,
                        transport,
                        builder.clone(),
                        router.clone(),
                        gate.clone(),
                        stop.clone(),
                        permit,
                    ));
                    gate.update_pressure();
                }
                Err(e) => {
                    gate.shared.metrics.accept_error(transport);
                    tracing::debug!(transport = transport.as_str(), error = %e, "accept failed");
                    gate.logs.warn(Kind::AcceptError, transport, "accept failed (file descriptors exhausted?)");
                    // Out of descriptors or memory: let connections end before trying again.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Resolves when `stop` turns true (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// One connection's state the watchdog reads: requests open, and when the last one ended.
#[derive(Debug)]
struct ConnState {
    open: AtomicUsize,
    /// Milliseconds from `born` to the end of the last request (0: none yet).
    last_end_ms: AtomicU64,
    born: Instant,
}

impl ConnState {
    /// When the connection became idle, or `None` while a request is open.
    fn idle_since(&self) -> Option<Instant> {
        if self.open.load(Ordering::Acquire) > 0 {
            return None;
        }
        Some(self.born + Duration::from_millis(self.last_end_ms.load(Ordering::Acquire)))
    }
}

/// Held by a request from its arrival until its response body ends or is dropped.
#[derive(Debug)]
struct Open {
    conn: Arc<ConnState>,
    shared: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Open {
    fn drop(&mut self) {
        let ms = u64::try_from(self.conn.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.conn.last_end_ms.store(ms, Ordering::Release);
        self.conn.open.fetch_sub(1, Ordering::AcqRel);
        self.shared.metrics.stream_delta(-1);
    }
}

async fn connection(
    tcp: tokio::net::TcpStream,
    transport: Transport,
    builder: Arc<auto::Builder<TokioExecutor>>,
    router: Router,
    gate: Arc<Gate>,
    stop: watch::Receiver<bool>,
    permit: OwnedSemaphorePermit,
) {
    let metrics = &gate.shared.metrics;
    metrics.connection_opened(transport);
    let state = Arc::new(ConnState {
        open: AtomicUsize::new(0),
        last_end_ms: AtomicU64::new(0),
        born: Instant::now(),
    });
    let service = {
        let (gate, state) = (gate.clone(), state.clone());
        hyper::service::service_fn(move |request| {
            request_service(
                request,
                transport,
                router.clone(),
                gate.clone(),
                state.clone(),
            )
        })
    };
    let conn = builder.serve_connection(TokioIo::new(tcp), service);
    tokio::pin!(conn);
    let idle_timeout = gate.limits.idle_timeout;
    let mut stopping = false;
    let mut idle_close: Option<Pin<Box<Sleep>>> = None;
    let end = loop {
        tokio::select! {
            result = conn.as_mut() => break match result {
                Ok(()) => ConnEnd::Closed,
                Err(e) if is_header_timeout(&*e) => ConnEnd::HeaderTimeout,
                Err(e) => {
                    tracing::debug!(transport = transport.as_str(), error = %e, "connection error");
                    ConnEnd::Error
                }
            },
            () = stopped(stop.clone()), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            () = idle(&state, idle_timeout, gate.pressure.subscribe()), if !stopping && idle_close.is_none() => {
                conn.as_mut().graceful_shutdown();
                idle_close = Some(Box::pin(tokio::time::sleep(idle_timeout.min(Duration::from_secs(1)))));
            }
            () = async { idle_close.as_mut().expect("set").await }, if idle_close.is_some() => {
                break ConnEnd::Idle;
            }
        }
    };
    // However it ended after the idle GOAWAY (closed by the peer, reset), it was idle.
    let end = if idle_close.is_some() {
        ConnEnd::Idle
    } else {
        end
    };
    metrics.connection_ended(transport, end);
    drop(permit);
    gate.update_pressure();
    match end {
        ConnEnd::HeaderTimeout => gate.logs.warn(
            Kind::HeaderTimeout,
            transport,
            "connections closed: request header not received within --header-timeout",
        ),
        ConnEnd::Idle => tracing::debug!(transport = transport.as_str(), "idle connection closed"),
        _ => {}
    }
}

/// Resolves once the connection has had no request open for `timeout` (for
/// [`PRESSED_IDLE`] while `pressure` says connections are near their cap).
async fn idle(state: &ConnState, timeout: Duration, mut pressure: watch::Receiver<bool>) {
    loop {
        let timeout = if *pressure.borrow_and_update() {
            timeout.min(PRESSED_IDLE)
        } else {
            timeout
        };
        let wake = match state.idle_since() {
            Some(since) if since + timeout <= Instant::now() => return,
            Some(since) => since + timeout,
            None => Instant::now() + timeout,
        };
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {}
            changed = pressure.changed() => {
                if changed.is_err() {
                    // The server is going away; its shutdown ends this connection.
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}

fn is_header_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(e) = source {
        if e.downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_timeout())
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// One request: counted against `--max-streams` or `--max-client-streams` (refused at once
/// over it), its body under
/// the body timeout, then the router; the count is held until the response body ends.
async fn request_service(
    request: hyper::Request<Incoming>,
    transport: Transport,
    mut router: Router,
    gate: Arc<Gate>,
    conn: Arc<ConnState>,
) -> Result<axum::response::Response, Infallible> {
    let client_stream = transport == Transport::Grpc && is_client_stream(request.uri().path());
    let pool = if client_stream {
        &gate.client_streams
    } else {
        &gate.streams
    };
    let Ok(permit) = pool.clone().try_acquire_owned() else {
        gate.shared.metrics.stream_refused(transport);
        tracing::debug!(
            transport = transport.as_str(),
            "request refused: at --max-streams"
        );
        gate.logs.warn(
            Kind::StreamRefused,
            transport,
            "requests refused: at --max-streams",
        );
        return Ok(streams_exhausted(transport));
    };
    conn.open.fetch_add(1, Ordering::AcqRel);
    gate.shared.metrics.stream_delta(1);
    let open = Open {
        conn,
        shared: gate.shared.clone(),
        _permit: permit,
    };
    let request = request.map(|body| {
        Body::new(TimedBody {
            inner: body,
            timeout: gate.limits.body_timeout,
            per_piece: client_stream,
            timer: None,
            transport,
            shared: gate.shared.clone(),
        })
    });
    let response = tower_service::Service::call(&mut router, request)
        .await
        .unwrap_or_else(|never| match never {});
    Ok(response.map(|body| {
        Body::new(Held {
            inner: body,
            _open: open,
        })
    }))
}

/// gRPC methods whose request is a stream of messages: their body timeout is per message
/// gap, not for the whole body.
fn is_client_stream(path: &str) -> bool {
    path.ends_with("/ConvertStream") || path.ends_with("/ServerReflectionInfo")
}

/// The answer to a request over `--max-streams`.
fn streams_exhausted(transport: Transport) -> axum::response::Response {
    let message = "server busy: at its limit of open requests, retry with backoff";
    match transport {
        // A trailers-only gRPC response: the status in the headers.
        Transport::Grpc => {
            let mut r = axum::response::Response::new(Body::empty());
            let h = r.headers_mut();
            h.insert("content-type", "application/grpc".parse().expect("valid"));
            h.insert("grpc-status", "8".parse().expect("valid"));
            h.insert(
                "grpc-message",
                message.replace(' ', "%20").parse().expect("valid"),
            );
            r
        }
        Transport::Http => {
            let f = super::failure::Failure::Busy;
            let mut r = axum::response::Response::new(Body::from(f.operation_outcome_json()));
            *r.status_mut() = axum::http::StatusCode::SERVICE_UNAVAILABLE;
            let h = r.headers_mut();
            h.insert(
                "content-type",
                "application/fhir+json".parse().expect("valid"),
            );
            h.insert("retry-after", "1".parse().expect("valid"));
            r
        }
    }
}

/// The error a request body gives when it did not arrive in time.
#[derive(Debug)]
pub struct BodyTimeout(pub Duration);

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "request body not received within the server's body timeout ({:?})",
            self.0
        )
    }
}

impl std::error::Error for BodyTimeout {}

/// Whether `e` (or what caused it) is a [`BodyTimeout`].
pub fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(e) = source {
        if e.is::<BodyTimeout>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// A request body that fails with [`BodyTimeout`] when it is not received in time: the
/// whole body within `timeout`, or (`per_piece`) each frame within `timeout` of the last.
/// The timer starts at the first poll (when the handler begins reading).
struct TimedBody {
    inner: Incoming,
    timeout: Duration,
    per_piece: bool,
    timer: Option<Pin<Box<Sleep>>>,
    transport: Transport,
    shared: Arc<Shared>,
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if this.per_piece {
                    this.timer = None;
                }
                return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
            }
            Poll::Pending => {}
        }
        let timeout = this.timeout;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.shared.metrics.body_timeout(this.transport);
                this.timer = Some(Box::pin(tokio::time::sleep(Duration::MAX / 4)));
                let error: Self::Error = match this.transport {
                    // tonic turns a `Status` found in a body error into the call's status.
                    Transport::Grpc => Box::new(tonic::Status::deadline_exceeded(
                        BodyTimeout(timeout).to_string(),
                    )),
                    Transport::Http => Box::new(BodyTimeout(timeout)),
                };
                Poll::Ready(Some(Err(error)))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A response body that keeps its request counted (and its connection busy) until it ends.
struct Held {
    inner: Body,
    _open: Open,
}

impl HttpBody for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Which kind of event a rate-limited warning is about.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Refused,
    AcceptError,
    HeaderTimeout,
    StreamRefused,
}

/// At most one `warn` line per kind and second, saying how many events it stands for.
#[derive(Debug, Default)]
struct RateLimit {
    /// Per kind: the second (from `base`) of the last line, and events since it.
    last: [AtomicU64; 4],
    since: [AtomicU64; 4],
    base: std::sync::OnceLock<std::time::Instant>,
}

impl RateLimit {
    fn warn(&self, kind: Kind, transport: Transport, what: &str) {
        let k = kind as usize;
        let n = self.since[k].fetch_add(1, Ordering::Relaxed) + 1;
        let base = self.base.get_or_init(std::time::Instant::now);
        let now = base.elapsed().as_secs() + 1;
        let last = self.last[k].load(Ordering::Relaxed);
        if now > last
            && self.last[k]
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            let events = self.since[k].swap(0, Ordering::Relaxed).max(n);
            tracing::warn!(
                transport = transport.as_str(),
                events,
                "{what} (counted in /metrics; at most one line a second)"
            );
        }
    }
}
