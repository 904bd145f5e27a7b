//! `eps-translator loadtest`: N concurrent callers call one RPC for a duration, against a
//! server at `--target` or one started in-process on a free loopback port; prints a progress
//! line each second and a report: requests/s, latency percentiles, errors (every answer is
//! checked against the first), and the process's RSS before and after (in-process only).

use super::admission::Offload;
use super::http_client::HttpClient;
use super::pb::v1::{self, translator_client::TranslatorClient};
use super::{Background, Config};
use crate::adapter::parse_duration;
use clap::Args;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::{Channel, Endpoint};

/// What each call sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Convert,
    Prepare,
    Canonicalize,
    ToFhir,
    /// Prepare requests as items of one long-lived `ConvertStream` per caller, each item
    /// sent when the previous result has arrived.
    Stream,
    HttpPrepare,
    HttpConvert,
}

impl Kind {
    fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "convert" => Kind::Convert,
            "prepare" => Kind::Prepare,
            "canonicalize" => Kind::Canonicalize,
            "to-fhir" => Kind::ToFhir,
            "stream" => Kind::Stream,
            "http-prepare" => Kind::HttpPrepare,
            "http-convert" => Kind::HttpConvert,
            _ => return None,
        })
    }

    fn is_http(self) -> bool {
        matches!(self, Kind::HttpPrepare | Kind::HttpConvert)
    }
}

/// `loadtest`'s flags.
#[derive(Args, Debug, Clone)]
pub struct LoadtestArgs {
    /// The RPC to call: convert, prepare, canonicalize, to-fhir, stream (prepare items on
    /// one ConvertStream per caller), http-prepare or http-convert
    #[arg(long, default_value = "prepare")]
    pub rpc: String,
    /// Concurrent callers
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// How long to run (e.g. 20s, 500ms, 1m)
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub duration: std::time::Duration,
    /// A running server's gRPC address (or HTTP address for http-*): HOST:PORT, or a URL such
    /// as http://localhost:8080; default: start one in-process on a free loopback port
    #[arg(long, value_name = "ADDR", value_parser = crate::adapter::parse_address)]
    pub target: Option<std::net::SocketAddr>,
    /// HTTP/2 connections the callers share (gRPC)
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Server options when the server is in-process: where translation runs
    #[arg(long, value_name = "blocking|inline", default_value = "blocking")]
    pub offload: Offload,
    /// Reactor threads of the in-process server (default: half the cores; its translation
    /// work runs on a blocking pool of one thread per core)
    #[arg(long, value_name = "N")]
    pub server_threads: Option<usize>,
    /// Reactor threads of the callers (default: half the cores)
    #[arg(long, value_name = "N")]
    pub client_threads: Option<usize>,
    /// The request body: a Bundle JSON (XML for canonicalize); default: the bundled example
    pub file: Option<String>,
}

/// Calls of one caller.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: BTreeMap<String, u64>,
}

/// The process's resident set size (`VmRSS`), KiB; `None` where /proc is absent.
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The default reactor threads of each side: server and callers share the machine, and the
/// server's translation work has its own pool (measured in docs/service.md).
fn half_the_cores() -> usize {
    (super::cores() / 2).max(1)
}

/// Runs the load generator.
pub fn run(args: &LoadtestArgs) -> ExitCode {
    super::init_logs("warn");
    let Some(kind) = Kind::from_name(&args.rpc) else {
        eprintln!(
            "eps-translator: --rpc: expected convert, prepare, canonicalize, to-fhir, stream, http-prepare or http-convert, got '{}'",
            args.rpc
        );
        return ExitCode::from(2);
    };
    let body = match &args.file {
        Some(path) => match crate::adapter::read_input(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("eps-translator: {e}");
                return ExitCode::from(3);
            }
        },
        None if matches!(kind, Kind::Canonicalize | Kind::ToFhir) => {
            let ctx = crate::Context::new(crate::adapter::now());
            match crate::translate::convert(super::demo::EXAMPLE_BUNDLE, &ctx) {
                Ok(t) => t.xml.into_bytes(),
                Err(e) => {
                    eprintln!("eps-translator: the bundled example: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        None => super::demo::EXAMPLE_BUNDLE.to_vec(),
    };
    let concurrency = args.concurrency.max(1);
    let server = match args.target {
        Some(_) => None,
        None => {
            let config = Config {
                fixed_clock: crate::datetime::Instant::from_unix(1_643_673_600).ok(),
                max_in_flight: (concurrency * 2).max(256),
                offload: args.offload,
                ..Config::loopback()
            };
            match Background::start(config, args.server_threads.unwrap_or_else(half_the_cores)) {
                Ok(s) => Some(s),
                Err(e) => {
                    eprintln!("eps-translator: cannot start the server: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let target = match (&server, args.target) {
        (_, Some(t)) => t,
        (Some(s), None) if kind.is_http() => s.running().http_addr.expect("loopback serves HTTP"),
        (Some(s), None) => s.running().grpc_addr,
        (None, None) => unreachable!("a server is started when no target is given"),
    };
    let where_ = match &server {
        Some(_) => format!(
            "in-process server on {target} ({} cores shared by server and client, offload {})",
            super::cores(),
            match args.offload {
                Offload::Blocking => "blocking",
                Offload::Inline => "inline",
            }
        ),
        None => format!("server at {target}"),
    };
    say!(
        "loadtest: {} × {concurrency} callers for {:?}, {} HTTP/2 connections, {} bytes per request, {where_}",
        args.rpc,
        args.duration,
        if kind.is_http() { concurrency } else { args.connections.max(1) },
        body.len()
    );
    let rss_before = server.as_ref().and_then(|_| rss_kib());
    let report = match super::runtime(args.client_threads.unwrap_or_else(half_the_cores)) {
        Ok(rt) => rt.block_on(load(
            kind,
            body,
            target,
            concurrency,
            args.connections.max(1),
            args.duration,
        )),
        Err(e) => Err(e.to_string()),
    };
    let rss_after = server.as_ref().and_then(|_| rss_kib());
    let served = server.as_ref().map(|s| s.running().metrics().total());
    if let Some(s) = server {
        if let Err(e) = s.shutdown() {
            eprintln!("eps-translator: shutdown: {e}");
        }
    }
    let (calls, errors, elapsed) = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("eps-translator: loadtest: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut latencies: Vec<u32> = Vec::with_capacity(calls.iter().map(|t| t.len()).sum());
    for t in calls {
        latencies.extend(t);
    }
    latencies.sort_unstable();
    let n = latencies.len();
    let pct = |p: f64| -> f64 {
        if n == 0 {
            return 0.0;
        }
        let i = ((p / 100.0) * n as f64).ceil() as usize;
        f64::from(latencies[i.clamp(1, n) - 1]) / 1000.0
    };
    let error_count: u64 = errors.values().sum();
    say!(
        "requests: {n} ok, {error_count} errors in {:.1} s → {:.0} requests/s",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );
    say!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        pct(50.0),
        pct(90.0),
        pct(99.0),
        pct(100.0)
    );
    for (what, count) in &errors {
        say!("error ×{count}: {what}");
    }
    if let (Some(b), Some(a)) = (rss_before, rss_after) {
        say!(
            "process RSS (server + client): {:.1} MiB before, {:.1} MiB after",
            b as f64 / 1024.0,
            a as f64 / 1024.0
        );
    }
    if let Some(served) = served {
        say!("server counted {served} requests");
    }
    if error_count == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Every call's creation/signing time, so that every answer is the same bytes.
fn pinned_time() -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: 1_643_673_600, // 2022-02-01T00:00:00Z, the corpus' convert clock
        nanos: 0,
    }
}

/// One call's answer, reduced to what is compared between calls.
type Answer = Result<Vec<u8>, String>;

enum Caller {
    Grpc(TranslatorClient<Channel>),
    Stream {
        items: tokio::sync::mpsc::Sender<v1::StreamItem>,
        results: tonic::Streaming<v1::StreamResult>,
    },
    Http(HttpClient),
}

impl Caller {
    async fn call(&mut self, kind: Kind, body: &[u8]) -> Answer {
        match self {
            Caller::Grpc(client) => {
                let status = |s: tonic::Status| format!("{:?}: {}", s.code(), s.message());
                match kind {
                    Kind::Convert => client
                        .convert(v1::ConvertRequest {
                            bundle_json: body.to_vec(),
                            context: Some(v1::Context {
                                creation_time: Some(pinned_time()),
                                ..Default::default()
                            }),
                        })
                        .await
                        .map(|r| r.into_inner().hl7v3_xml.into_bytes())
                        .map_err(status),
                    Kind::Prepare => client
                        .prepare(v1::PrepareRequest {
                            bundle_json: body.to_vec(),
                            signing_time: Some(pinned_time()),
                            ..Default::default()
                        })
                        .await
                        .map(|r| r.into_inner().fragments_c14n)
                        .map_err(status),
                    Kind::ToFhir => client
                        .to_fhir(v1::ToFhirRequest {
                            hl7v3_xml: String::from_utf8_lossy(body).into_owned(),
                            ..Default::default()
                        })
                        .await
                        .map(|r| r.into_inner().fhir_json)
                        .map_err(status),
                    _ => client
                        .canonicalize(v1::CanonicalizeRequest {
                            xml: body.to_vec(),
                            ..Default::default()
                        })
                        .await
                        .map(|r| r.into_inner().canonical)
                        .map_err(status),
                }
            }
            Caller::Stream { items, results } => {
                let item = v1::StreamItem {
                    correlation_id: String::new(),
                    request: Some(v1::stream_item::Request::Prepare(v1::PrepareRequest {
                        bundle_json: body.to_vec(),
                        signing_time: Some(pinned_time()),
                        ..Default::default()
                    })),
                };
                items
                    .send(item)
                    .await
                    .map_err(|_| "the stream closed".to_string())?;
                match results.message().await {
                    Ok(Some(v1::StreamResult {
                        result: Some(v1::stream_result::Result::Prepare(p)),
                        ..
                    })) => Ok(p.fragments_c14n),
                    Ok(Some(other)) => Err(format!("stream item: {:?}", other.result)),
                    Ok(None) => Err("the stream ended".to_string()),
                    Err(s) => Err(format!("{:?}: {}", s.code(), s.message())),
                }
            }
            Caller::Http(client) => {
                let path = if kind == Kind::HttpPrepare {
                    "/FHIR/R4/$prepare"
                } else {
                    "/FHIR/R4/$convert"
                };
                match client
                    .post(
                        path,
                        &[("content-type", "application/fhir+json")],
                        body.to_vec(),
                    )
                    .await
                {
                    Ok(r) if r.status == 200 => {
                        // $prepare's timestamp follows the clock: compare the digest-free part.
                        Ok(if kind == Kind::HttpPrepare {
                            r.body.len().to_le_bytes().to_vec()
                        } else {
                            r.body
                        })
                    }
                    Ok(r) => Err(format!("HTTP {}", r.status)),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    }
}

async fn load(
    kind: Kind,
    body: Vec<u8>,
    target: SocketAddr,
    concurrency: usize,
    connections: usize,
    duration: Duration,
) -> Result<(Vec<Vec<u32>>, BTreeMap<String, u64>, Duration), String> {
    let mut channels = Vec::new();
    if !kind.is_http() {
        for _ in 0..connections {
            let channel = Endpoint::from_shared(format!("http://{target}"))
                .map_err(|e| e.to_string())?
                .tcp_nodelay(true)
                .connect()
                .await
                .map_err(|e| format!("cannot connect to {target}: {e}"))?;
            channels.push(channel);
        }
    }
    let body: Arc<[u8]> = body.into();
    // The reference answer, and a warm-up.
    let mut first = new_caller(kind, target, &channels, 0).await?;
    let expected = first
        .call(kind, &body)
        .await
        .map_err(|e| format!("first call: {e}"))?;
    for _ in 0..100 {
        first
            .call(kind, &body)
            .await
            .map_err(|e| format!("warm-up: {e}"))?;
    }
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..concurrency {
        let mut caller = new_caller(kind, target, &channels, i).await?;
        let (body, expected) = (body.clone(), expected.clone());
        let (done, failed, stop) = (done.clone(), failed.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                let answer = caller.call(kind, &body).await;
                let took = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
                match answer {
                    Ok(a) if a == expected => {
                        tally.latencies_us.push(took);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {
                        *tally
                            .errors
                            .entry("answer differs from the first".to_string())
                            .or_default() += 1;
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        *tally.errors.entry(e).or_default() += 1;
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            tally
        }));
    }
    // Progress, once a second, on stderr: rewritten in place on a terminal, a line each
    // otherwise (a log file gets no carriage returns).
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut last = 0;
    while start.elapsed() < duration {
        let left = duration.saturating_sub(start.elapsed());
        tokio::time::sleep(left.min(Duration::from_secs(1))).await;
        let now = done.load(Ordering::Relaxed);
        let rss = rss_kib().map_or(String::new(), |k| {
            format!("  RSS {:.1} MiB", k as f64 / 1024.0)
        });
        let line = format!(
            "  {:>4.0} s  {now:>9} ok  {:>7} req/s  {} errors{rss}",
            start.elapsed().as_secs_f64(),
            now - last,
            failed.load(Ordering::Relaxed)
        );
        if terminal {
            eprint!("\r{line}   ");
        } else {
            eprintln!("{line}");
        }
        last = now;
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed();
    if terminal {
        eprintln!();
    }
    let mut latencies = Vec::new();
    let mut errors = BTreeMap::new();
    for t in tasks {
        let tally = t.await.map_err(|e| e.to_string())?;
        latencies.push(tally.latencies_us);
        for (k, v) in tally.errors {
            *errors.entry(k).or_default() += v;
        }
    }
    Ok((latencies, errors, elapsed))
}

async fn new_caller(
    kind: Kind,
    target: SocketAddr,
    channels: &[Channel],
    i: usize,
) -> Result<Caller, String> {
    if kind.is_http() {
        HttpClient::connect(target)
            .await
            .map(Caller::Http)
            .map_err(|e| format!("cannot connect to {target}: {e}"))
    } else if kind == Kind::Stream {
        let mut client = TranslatorClient::new(channels[i % channels.len()].clone());
        let (items, rx) = tokio::sync::mpsc::channel(1);
        let results = client
            .convert_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .map_err(|s| format!("cannot open a stream: {:?}: {}", s.code(), s.message()))?
            .into_inner();
        Ok(Caller::Stream { items, results })
    } else {
        Ok(Caller::Grpc(TranslatorClient::new(
            channels[i % channels.len()].clone(),
        )))
    }
}
