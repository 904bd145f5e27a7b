//! The service adapters: the gRPC `Translator` service (tonic), the HTTP façade (axum), and
//! what they share (admission, deadlines, metrics, the per-request log line). Requests are
//! turned into core calls and results and errors into their wire forms; no translation
//! logic lives here. Behaviour choices are recorded in `docs/service.md`.
//!
//! [`start`] binds the listeners and serves until [`Running::shutdown`]; [`serve`] is the
//! `eps-translator serve` command (signals, logs); [`Background`] runs a server on its own
//! runtime threads, for the demo, the load generator and tests.

/// `println!` for the demo's and the load generator's report lines, without the panic
/// `println!` raises when stdout is closed (`eps-translator demo | head`): the line is
/// dropped and the run goes on to its graceful shutdown and exit code.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

pub mod admission;
pub mod crls;
pub mod demo;
pub mod failure;
pub mod fetch;
pub mod grpc;
pub mod http;
pub mod http_client;
pub mod loadtest;
pub mod metrics;
pub mod ops;
pub mod pb;
pub mod request;
pub mod transport;

use self::admission::{Admission, Offload};
use self::failure::{too_large_message, Failure, Outcome};
use self::metrics::{Metrics, Rpc, Transport};
use self::pb::v1::translator_server::TranslatorServer;
pub use self::request::Identities;
use self::request::Shared;
use crate::datetime::Instant;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The gRPC address `serve` listens on by default.
pub const DEFAULT_GRPC_ADDR: &str = "127.0.0.1:50051";

/// How a server is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// gRPC listen address (port 0: any free port).
    pub grpc_addr: SocketAddr,
    /// HTTP façade listen address; `None`: no façade.
    pub http_addr: Option<SocketAddr>,
    /// Largest request (gRPC message or HTTP body) and response message, bytes.
    pub max_message_bytes: usize,
    /// Server-side timeout of every request (a caller's shorter deadline wins).
    pub timeout: Duration,
    /// Requests handled at once; more are shed with `RESOURCE_EXHAUSTED` / 503.
    pub max_in_flight: usize,
    /// Where the CPU work runs.
    pub offload: Offload,
    /// A pinned "now" for every request's default creation/signing time (to reproduce the
    /// reference corpus); `None` reads the clock.
    pub fixed_clock: Option<Instant>,
    /// How long shutdown waits for in-flight requests before cutting them off.
    pub shutdown_grace: Duration,
    /// Trust anchors, CRLs and the revocation policy used when a request gives none
    /// (`serve --trusted-ca`, `--revocation`).
    pub trust: crate::verify::Trust,
    /// The ids a request's context takes when the caller gives none (`serve --from-asid`...).
    pub identities: Identities,
    /// The `nhsd-application-id`s whose `$prepare` on the HTTP façade digests with SHA-1
    /// (the reference's `SHA1_ENABLED_APPLICATION_IDS`); every other caller gets SHA-256.
    pub sha1_application_ids: Vec<String>,
    /// How `serve` writes its log lines.
    pub log_format: LogFormat,
    /// Connection and stream bounds.
    pub limits: transport::Limits,
    /// A directory of CRLs, re-read when its files change and on SIGHUP (`--crl-dir`).
    pub crl_dir: Option<std::path::PathBuf>,
    /// How often the CRL directory is looked at for changes.
    pub crl_dir_poll: Duration,
    /// Fetching CRLs from distribution points (`--fetch-crls`); `None`: not fetched.
    pub fetch_crls: Option<fetch::FetchConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            grpc_addr: DEFAULT_GRPC_ADDR.parse().expect("a valid default address"),
            http_addr: None,
            max_message_bytes: 4 * 1024 * 1024,
            timeout: Duration::from_secs(10),
            max_in_flight: 256,
            offload: Offload::Blocking,
            fixed_clock: None,
            shutdown_grace: Duration::from_secs(30),
            trust: crate::verify::Trust::new(),
            identities: Identities::default(),
            sha1_application_ids: Vec::new(),
            log_format: LogFormat::Text,
            limits: transport::Limits::default(),
            crl_dir: None,
            crl_dir_poll: Duration::from_secs(5),
            fetch_crls: None,
        }
    }
}

impl Config {
    /// A configuration on free loopback ports (gRPC and HTTP), for tests, the demo and the
    /// load generator.
    pub fn loopback() -> Config {
        Config {
            grpc_addr: "127.0.0.1:0".parse().expect("a valid address"),
            http_addr: Some("127.0.0.1:0".parse().expect("a valid address")),
            ..Config::default()
        }
    }
}

/// A running server.
#[derive(Debug)]
pub struct Running {
    /// The bound gRPC address.
    pub grpc_addr: SocketAddr,
    /// The bound HTTP façade address.
    pub http_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    health: tonic_health::server::HealthReporter,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<io::Result<()>>>,
    grace: Duration,
}

/// Binds a listener; the error names the address ("127.0.0.1:50051 (gRPC): Address already in
/// use").
async fn bind(addr: SocketAddr, what: &str) -> io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("{addr} ({what}): {e}")))
}

/// Binds the listeners and starts serving (on the current tokio runtime).
pub async fn start(config: Config) -> io::Result<Running> {
    let grpc_listener = bind(config.grpc_addr, "gRPC").await?;
    let http_listener = match config.http_addr {
        Some(addr) => Some(bind(addr, "HTTP").await?),
        None => None,
    };
    let shared = Arc::new(Shared {
        admission: Admission::new(config.max_in_flight, config.timeout, config.offload),
        metrics: Metrics::new(),
        fixed_clock: config.fixed_clock,
        max_message_bytes: config.max_message_bytes,
        shutting_down: Default::default(),
        trust: Arc::new(crls::TrustSource::new(
            config.trust.clone(),
            config.crl_dir.clone(),
            config.fetch_crls.clone(),
        )),
        identities: config.identities.clone(),
        sha1_application_ids: config.sha1_application_ids.clone(),
    });
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<TranslatorServer<grpc::TranslatorService>>()
        .await;
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            // The error details refusals carry (BadRequest, ErrorInfo, RetryInfo in a
            // google.rpc.Status), so clients that know only reflection can decode them.
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
    };
    // Each version lists the other too (each registers its own descriptor itself).
    let reflection_v1 = reflection()
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(io::Error::other)?;
    let reflection_v1alpha = reflection()
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(io::Error::other)?;
    let translator = TranslatorServer::new(grpc::TranslatorService::new(shared.clone()))
        .max_decoding_message_size(config.max_message_bytes)
        .max_encoding_message_size(config.max_message_bytes);
    let grpc_router = tonic::service::Routes::new(health_service)
        .add_service(translator)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .into_axum_router()
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            oversize_status,
        ));

    let (stop, stop_rx) = watch::channel(false);
    let gate = transport::Gate::new(config.limits.clone(), shared.clone());
    tokio::spawn(
        shared
            .trust
            .clone()
            .watch(config.crl_dir_poll, stop_rx.clone()),
    );
    let grpc_addr = grpc_listener.local_addr()?;
    let mut tasks = vec![tokio::spawn(transport::serve(
        grpc_listener,
        Transport::Grpc,
        grpc_router,
        gate.clone(),
        stop_rx.clone(),
    ))];
    let mut http_addr = None;
    if let Some(listener) = http_listener {
        http_addr = Some(listener.local_addr()?);
        tasks.push(tokio::spawn(transport::serve(
            listener,
            Transport::Http,
            http::router(shared.clone()),
            gate,
            stop_rx,
        )));
    }
    Ok(Running {
        grpc_addr,
        http_addr,
        shared,
        health,
        stop,
        tasks,
        grace: config.shutdown_grace,
    })
}

/// tonic answers a request message over the size limit with `OUT_OF_RANGE` before the
/// handler runs; gRPC's status table says `RESOURCE_EXHAUSTED`. This rewrites that answer
/// (a trailers-only response: the status is in the headers) and counts it.
async fn oversize_status(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let rpc = match request.uri().path().rsplit('/').next() {
        Some("Convert") => Some(Rpc::Convert),
        Some("Prepare") => Some(Rpc::Prepare),
        Some("Canonicalize") => Some(Rpc::Canonicalize),
        Some("ToFhir") => Some(Rpc::ToFhir),
        Some("Verify") => Some(Rpc::Verify),
        _ => None,
    };
    let start = std::time::Instant::now();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if headers.get("grpc-status").is_some_and(|s| s == "11") {
        let message = headers
            .get("grpc-message")
            .and_then(|m| m.to_str().ok())
            .unwrap_or("")
            .replace("%20", " ");
        if message.contains("too large") {
            let failure = Failure::TooLarge(too_large_message(&message));
            headers.insert("grpc-status", axum::http::HeaderValue::from_static("8"));
            if let Ok(v) = axum::http::HeaderValue::from_str(&failure.message()) {
                headers.insert("grpc-message", v);
            }
            if let Some(rpc) = rpc {
                shared
                    .metrics
                    .record(Transport::Grpc, rpc, Outcome::TooLarge, start.elapsed());
                tracing::info!(
                    target: "eps_translator::request",
                    transport = "grpc",
                    rpc = rpc.as_str(),
                    outcome = Outcome::TooLarge.as_str(),
                );
            }
        }
    }
    response
}

impl Running {
    /// The server's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// The state the servers share (its metrics outlive the server).
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Graceful shutdown: health turns NOT_SERVING and `/_status` 503, the listeners stop
    /// accepting, connections are told to go away (HTTP/2 GOAWAY), and requests already
    /// accepted run to their answers. After the grace period the rest are cut off and this
    /// returns an error saying so.
    pub async fn shutdown(self) -> io::Result<()> {
        self.shared.shutting_down.store(true, Ordering::Relaxed);
        self.health
            .set_service_status("", tonic_health::ServingStatus::NotServing)
            .await;
        self.health
            .set_not_serving::<TranslatorServer<grpc::TranslatorService>>()
            .await;
        let _ = self.stop.send(true);
        let aborts: Vec<_> = self.tasks.iter().map(|t| t.abort_handle()).collect();
        let all = futures_util::future::join_all(self.tasks);
        match tokio::time::timeout(self.grace, all).await {
            Ok(results) => {
                for r in results {
                    r.map_err(io::Error::other)??;
                }
                Ok(())
            }
            Err(_) => {
                for a in aborts {
                    a.abort();
                }
                Err(io::Error::other(format!(
                    "in-flight requests did not finish within {:?}; cut off",
                    self.grace
                )))
            }
        }
    }
}

/// A server on its own runtime threads (as if it were another process), for the demo, the
/// load generator and tests that drive it from another runtime.
#[derive(Debug)]
pub struct Background {
    runtime: tokio::runtime::Runtime,
    running: Option<Running>,
}

impl Background {
    /// Starts a server with `worker_threads` reactor threads.
    pub fn start(config: Config, worker_threads: usize) -> io::Result<Background> {
        let runtime = runtime(worker_threads)?;
        let running = runtime.block_on(start(config))?;
        Ok(Background {
            runtime,
            running: Some(running),
        })
    }

    pub fn running(&self) -> &Running {
        self.running.as_ref().expect("running until shut down")
    }

    /// Shuts the server down gracefully and stops its threads.
    pub fn shutdown(mut self) -> io::Result<()> {
        let running = self.running.take().expect("running until shut down");
        self.runtime.block_on(running.shutdown())
    }
}

/// A multi-thread runtime with `worker_threads` reactor threads and a blocking pool sized
/// for CPU work (one thread per core: more would only queue on the cores).
pub fn runtime(worker_threads: usize) -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads.max(1))
        .max_blocking_threads(cores())
        .enable_all()
        .build()
}

/// The machine's cores.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Logs to stderr: `RUST_LOG` if set, else `default`.
pub fn init_logs(default: &str) {
    init_logs_as(default, LogFormat::Text);
}

/// How log lines are written on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`...), for log collectors.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<LogFormat, String> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("expected text or json, got '{text}'")),
        }
    }
}

/// Starts logging on stderr in `format`, at `default` level unless `RUST_LOG` says otherwise.
pub fn init_logs_as(default: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}

/// `eps-translator serve`: serves until SIGINT or SIGTERM, then shuts down gracefully.
pub fn serve(config: Config) -> ExitCode {
    init_logs_as("info", config.log_format);
    let test_ids = config.identities.test_values_in_force();
    if !test_ids.is_empty() {
        tracing::warn!(
            ids = %test_ids.join(", "),
            "requests without a context carry the test-environment values of these ids: \
             set them with serve --from-asid, --to-asid, --sds-user-id, --sds-role-profile-id \
             (or EPS_FROM_ASID, EPS_TO_ASID, EPS_SDS_USER_ID, EPS_SDS_ROLE_PROFILE_ID)"
        );
    }
    let rt = match runtime(cores()) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("eps-translator: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(async {
        let running = match start(config).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("eps-translator: cannot listen: {e}");
                return ExitCode::from(2);
            }
        };
        let http = running
            .http_addr
            .map_or_else(|| "off".to_string(), |a| a.to_string());
        let signal = shutdown_signal();
        tracing::info!(grpc = %running.grpc_addr, http = %http, "serving");
        let signal = signal.await;
        tracing::info!(signal, "shutting down: finishing in-flight requests");
        match running.shutdown().await {
            Ok(()) => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!(error = %e, "shutdown");
                ExitCode::FAILURE
            }
        }
    })
}

/// Listens for SIGINT (Ctrl-C) or SIGTERM; the future resolves to the signal's name. On Unix
/// the handlers are installed by this call, not when the future is first polled: called
/// before the server says it is serving, a signal sent right after that line shuts it down
/// gracefully instead of ending the process with the signal's default action.
fn shutdown_signal() -> impl std::future::Future<Output = &'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let interrupt = signal(SignalKind::interrupt()).ok();
        async move {
            let term = async {
                match term {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let interrupt = async {
                match interrupt {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            };
            tokio::select! {
                () = interrupt => "SIGINT",
                () = term => "SIGTERM",
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}
