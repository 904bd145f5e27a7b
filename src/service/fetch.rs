//! Fetching CRLs from certificates' distribution points (`--fetch-crls`), for the server and
//! the command line; the verifier's core never fetches.
//!
//! - Cached per URL (after `--crl-url-rewrite`) until the CRL's `nextUpdate`; within
//!   `refresh_before` of it a use starts one background refresh and is answered from the
//!   cache, and a failed refresh keeps the copy while it is current.
//! - One fetch per URL at a time: concurrent requests for a URL wait for that fetch and take
//!   its result (a release of twenty prescriptions fetches each distinct CRL once).
//! - Every fetch has a timeout (connect to last byte) and a size cap; the cache holds at
//!   most `max_entries` CRLs (least recently used dropped first). A failure is shared the
//!   same way: for `retry_after` the URL is not tried again, so requests queued behind a
//!   hanging point do not each wait for their own timeout.
//! - A certificate's distribution points are tried in order until one gives a CRL.
//! - `http` and `https` points are fetched (other schemes count as `unsupported` and the next
//!   point is tried). Over `https` the server's certificate must chain to the Mozilla roots of
//!   webpki-roots (compiled in: the same on every host, no dependency on the OS store) or to
//!   `FetchConfig::extra_tls_roots`; a handshake that fails, an untrusted certificate
//!   included, counts as `connect`. Timeout, size cap, status handling (no redirects) and
//!   outcomes are the same for both schemes.
//!
//! The HTTP exchange is hyper's client connection (no connection pool: CRL fetches are rare);
//! TLS is rustls with the ring provider, through tokio-rustls.

use crate::verify::revocation::Crl;
use crate::verify::Trust;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How CRLs are fetched.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Longest a fetch may take, connection to last byte.
    pub timeout: Duration,
    /// Largest CRL body accepted, bytes.
    pub max_bytes: usize,
    /// Most CRLs kept.
    pub max_entries: usize,
    /// How long before `nextUpdate` a cached CRL is refreshed in the background.
    pub refresh_before: Duration,
    /// URL prefixes rewritten before fetching (`FROM=TO`, the first match wins): a proxy.
    pub rewrites: Vec<(String, String)>,
    /// How long after a failed fetch of a URL it is not tried again: the requests that
    /// waited for that fetch, and those that come meanwhile, take the failure.
    pub retry_after: Duration,
    /// Certificates trusted for `https` points besides the webpki roots (a private CA or a
    /// proxy's), DER. Add them with [`FetchConfig::add_tls_roots_pem`], which checks them.
    pub extra_tls_roots: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl FetchConfig {
    /// Adds every certificate of PEM `pem` to the roots trusted for `https` points; an error
    /// (naming `name`) when there is none or one is not a usable trust anchor.
    pub fn add_tls_roots_pem(&mut self, pem: &[u8], name: &str) -> Result<(), String> {
        use rustls::pki_types::pem::PemObject;
        let mut found = Vec::new();
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("{name}: not PEM certificates: {e}"))?;
            rustls::RootCertStore::empty()
                .add(cert.clone())
                .map_err(|e| format!("{name}: not a usable trust anchor: {e}"))?;
            found.push(cert);
        }
        if found.is_empty() {
            return Err(format!("{name}: no CERTIFICATE in the PEM"));
        }
        self.extra_tls_roots.extend(found);
        Ok(())
    }
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            timeout: Duration::from_secs(5),
            max_bytes: 32 * 1024 * 1024,
            max_entries: 256,
            refresh_before: Duration::from_secs(15 * 60),
            rewrites: Vec::new(),
            retry_after: Duration::from_secs(10),
            extra_tls_roots: Vec::new(),
        }
    }
}

/// What a fetch came to, as counted in the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// An answer other than 200.
    HttpStatus,
    Timeout,
    /// The connection could not be made or broke.
    Connect,
    TooLarge,
    /// The body is not a CRL.
    Invalid,
    /// Neither an `http` nor an `https` URL.
    Unsupported,
}

impl Outcome {
    const ALL: [Outcome; 7] = [
        Outcome::Ok,
        Outcome::HttpStatus,
        Outcome::Timeout,
        Outcome::Connect,
        Outcome::TooLarge,
        Outcome::Invalid,
        Outcome::Unsupported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::HttpStatus => "http-status",
            Outcome::Timeout => "timeout",
            Outcome::Connect => "connect",
            Outcome::TooLarge => "too-large",
            Outcome::Invalid => "invalid",
            Outcome::Unsupported => "unsupported",
        }
    }
}

#[derive(Debug)]
struct Cached {
    crl: Arc<Crl>,
    last_used: u64,
}

/// The CRL fetcher and its cache.
#[derive(Debug)]
pub struct Fetcher {
    config: FetchConfig,
    tls: Arc<rustls::ClientConfig>,
    cache: Mutex<HashMap<String, Cached>>,
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// When a background refresh of a URL was last started (seconds since the epoch).
    refreshed: Mutex<HashMap<String, i64>>,
    /// When a fetch of a URL last failed.
    failed: Mutex<HashMap<String, std::time::Instant>>,
    tick: AtomicU64,
    outcomes: [AtomicU64; 7],
    hits: AtomicU64,
}

impl Fetcher {
    pub fn new(config: FetchConfig) -> Arc<Fetcher> {
        let tls = tls_config(&config.extra_tls_roots);
        Arc::new(Fetcher {
            config,
            tls,
            cache: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
            refreshed: Mutex::new(HashMap::new()),
            failed: Mutex::new(HashMap::new()),
            tick: AtomicU64::new(0),
            outcomes: Default::default(),
            hits: AtomicU64::new(0),
        })
    }

    /// Fetches counted with `outcome`.
    pub fn fetches(&self, outcome: Outcome) -> u64 {
        self.outcomes[outcome as usize].load(Ordering::Relaxed)
    }

    /// CRLs taken from the cache instead of fetched.
    pub fn cache_hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    fn rewrite(&self, url: &str) -> String {
        for (from, to) in &self.config.rewrites {
            if let Some(rest) = url.strip_prefix(from.as_str()) {
                return format!("{to}{rest}");
            }
        }
        url.to_string()
    }

    /// The cached CRLs current at `now` (seconds since the epoch), to verify with before
    /// anything is fetched; each counts as a cache hit. Those within `refresh_before` of
    /// their `nextUpdate` are refreshed in the background (on a runtime, when there is one).
    pub fn cached(self: &Arc<Self>, now: i64) -> Vec<Arc<Crl>> {
        let refresh_before =
            i64::try_from(self.config.refresh_before.as_secs()).unwrap_or(i64::MAX);
        let mut due = Vec::new();
        let current: Vec<Arc<Crl>> = {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            cache
                .iter()
                .filter(|(_, c)| c.crl.next_update().is_some_and(|n| now <= n))
                .map(|(url, c)| {
                    let next = c.crl.next_update().unwrap_or(i64::MAX);
                    if now >= next.saturating_sub(refresh_before) {
                        due.push(url.clone());
                    }
                    c.crl.clone()
                })
                .collect()
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            for url in due {
                self.refresh_in_background(url, now);
            }
        }
        self.hits.fetch_add(current.len() as u64, Ordering::Relaxed);
        current
    }

    /// `trust` with the cached CRLs current at `now` added.
    pub fn with_cached(self: &Arc<Self>, trust: &Trust, now: i64) -> Trust {
        let mut out = trust.clone();
        out.extend_crls(self.cached(now));
        out
    }

    /// For each list of distribution points (one certificate's), the first CRL one of them
    /// gives: from the cache while current, else fetched. Lists are worked concurrently.
    pub async fn crls_for(self: &Arc<Self>, lists: &[Vec<String>], now: i64) -> Vec<Arc<Crl>> {
        let jobs = lists.iter().map(|urls| {
            let this = self.clone();
            async move {
                for url in urls {
                    if let Some(crl) = this.get(url, now).await {
                        return Some(crl);
                    }
                }
                None
            }
        });
        futures_util::future::join_all(jobs)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    fn lookup(&self, url: &str, now: i64) -> Option<Arc<Crl>> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let entry = cache.get_mut(url)?;
        if entry.crl.next_update().is_none_or(|n| now > n) {
            return None;
        }
        entry.last_used = self.tick.fetch_add(1, Ordering::Relaxed);
        Some(entry.crl.clone())
    }

    /// One URL's CRL: cached while current (refreshed in the background near its
    /// `nextUpdate`), else fetched once however many ask at the same time.
    pub async fn get(self: &Arc<Self>, url: &str, now: i64) -> Option<Arc<Crl>> {
        let url = self.rewrite(url);
        if let Some(crl) = self.lookup(&url, now) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            let refresh_at = crl.next_update().unwrap_or(i64::MIN).saturating_sub(
                i64::try_from(self.config.refresh_before.as_secs()).unwrap_or(i64::MAX),
            );
            if now >= refresh_at {
                self.refresh_in_background(url, now);
            }
            return Some(crl);
        }
        if self.failed_recently(&url) {
            return None;
        }
        let flight = self.flight(&url);
        let _only = flight.lock().await;
        if let Some(crl) = self.lookup(&url, now) {
            // Fetched by the request this one waited for.
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Some(crl);
        }
        if self.failed_recently(&url) {
            // The fetch this one waited for failed.
            return None;
        }
        self.fetch_and_keep(&url).await
    }

    fn failed_recently(&self, url: &str) -> bool {
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed
            .get(url)
            .is_some_and(|t| t.elapsed() < self.config.retry_after)
    }

    fn flight(&self, url: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.flights
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(url.to_string())
            .or_default()
            .clone()
    }

    /// Starts one refresh of `url`, at most one a minute.
    fn refresh_in_background(self: &Arc<Self>, url: String, now: i64) {
        {
            let mut started = self.refreshed.lock().unwrap_or_else(|p| p.into_inner());
            if started.get(&url).is_some_and(|t| now < t + 60) {
                return;
            }
            started.insert(url.clone(), now);
        }
        let flight = self.flight(&url);
        let this = self.clone();
        tokio::spawn(async move {
            // Already being fetched: that fetch is the refresh.
            let Ok(_only) = flight.try_lock() else {
                return;
            };
            this.fetch_and_keep(&url).await;
        });
    }

    async fn fetch_and_keep(&self, url: &str) -> Option<Arc<Crl>> {
        let start = std::time::Instant::now();
        let (outcome, status, bytes, result) = match tokio::time::timeout(
            self.config.timeout,
            fetch(url, self.config.max_bytes, &self.tls),
        )
        .await
        {
            Ok(Ok((status, body))) => match read_crl(&body, url) {
                Ok(crl) => (Outcome::Ok, status, body.len(), Ok(crl)),
                Err(e) => (Outcome::Invalid, status, body.len(), Err(e)),
            },
            Ok(Err((outcome, status, e))) => (outcome, status, 0, Err(e)),
            Err(_) => (
                Outcome::Timeout,
                0,
                0,
                Err(format!("no answer within {:?}", self.config.timeout)),
            ),
        };
        self.outcomes[outcome as usize].fetch_add(1, Ordering::Relaxed);
        let duration_ms = start.elapsed().as_millis() as u64;
        match result {
            Ok(crl) => {
                let next_update = crl.next_update().map_or_else(|| "none".to_string(), iso);
                tracing::info!(
                    target: "eps_translator::crl",
                    url, status, bytes, duration_ms, next_update = %next_update,
                    outcome = outcome.as_str(), "CRL fetched"
                );
                let crl = Arc::new(crl);
                self.keep(url, crl.clone());
                Some(crl)
            }
            Err(error) => {
                self.failed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(url.to_string(), std::time::Instant::now());
                tracing::warn!(
                    target: "eps_translator::crl",
                    url, status, bytes, duration_ms, outcome = outcome.as_str(), %error,
                    "CRL fetch failed"
                );
                None
            }
        }
    }

    fn keep(&self, url: &str, crl: Arc<Crl>) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if !cache.contains_key(url) && cache.len() >= self.config.max_entries.max(1) {
            if let Some(oldest) = cache
                .iter()
                .min_by_key(|(_, c)| c.last_used)
                .map(|(u, _)| u.clone())
            {
                cache.remove(&oldest);
            }
        }
        let last_used = self.tick.fetch_add(1, Ordering::Relaxed);
        cache.insert(url.to_string(), Cached { crl, last_used });
    }

    /// Prometheus text: fetches by outcome, cache hits, and per cached CRL its age
    /// (`now - thisUpdate`) and the seconds to its `nextUpdate`.
    pub fn render(&self, now: i64, out: &mut String) {
        out.push_str(
            "# HELP eps_crl_fetches_total CRL fetches from distribution points, by outcome.\n",
        );
        out.push_str("# TYPE eps_crl_fetches_total counter\n");
        for outcome in Outcome::ALL {
            let _ = writeln!(
                out,
                "eps_crl_fetches_total{{outcome=\"{}\"}} {}",
                outcome.as_str(),
                self.fetches(outcome)
            );
        }
        out.push_str(
            "# HELP eps_crl_cache_hits_total CRLs taken from the cache instead of fetched.\n",
        );
        out.push_str("# TYPE eps_crl_cache_hits_total counter\n");
        let _ = writeln!(out, "eps_crl_cache_hits_total {}", self.cache_hits());
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let mut urls: Vec<&String> = cache.keys().collect();
        urls.sort();
        out.push_str("# HELP eps_crl_age_seconds Seconds since the cached CRL's thisUpdate.\n");
        out.push_str("# TYPE eps_crl_age_seconds gauge\n");
        for url in &urls {
            let crl = &cache[*url].crl;
            let _ = writeln!(
                out,
                "eps_crl_age_seconds{{url=\"{}\"}} {}",
                escape(url),
                now - crl.this_update()
            );
        }
        out.push_str(
            "# HELP eps_crl_next_update_seconds Seconds until the cached CRL's nextUpdate.\n",
        );
        out.push_str("# TYPE eps_crl_next_update_seconds gauge\n");
        for url in &urls {
            let crl = &cache[*url].crl;
            if let Some(next) = crl.next_update() {
                let _ = writeln!(
                    out,
                    "eps_crl_next_update_seconds{{url=\"{}\"}} {}",
                    escape(url),
                    next - now
                );
            }
        }
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn iso(seconds: i64) -> String {
    crate::datetime::Instant::from_unix(seconds)
        .map_or_else(|_| seconds.to_string(), |i| i.iso_utc())
}

/// The first CRL of a body, DER or PEM.
fn read_crl(body: &[u8], url: &str) -> Result<Crl, String> {
    let ders = crate::verify::revocation::read_crls(body)?;
    let der = ders.first().ok_or("the body holds no CRL")?;
    Crl::from_der(der, url)
}

type FetchError = (Outcome, u16, String);

/// The TLS client for `https` points: the webpki roots and `extra` (those rustls cannot use
/// are left out: fewer roots only means more fetches fail).
fn tls_config(extra: &[rustls::pki_types::CertificateDer<'static>]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    roots.add_parsable_certificates(extra.iter().cloned());
    // ring's provider has no post-quantum key exchange (hence rustls's deprecation): what is
    // fetched is a signed CRL, checked against its issuer whatever carried it, so TLS here
    // adds only the server's authentication; aws-lc-rs, which has it, needs a C build.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .expect("ring's provider supports rustls's default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// `GET url` over HTTP/1.1, on TLS for `https`: the status and body (at most `max_bytes`).
async fn fetch(
    url: &str,
    max_bytes: usize,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<(u16, Vec<u8>), FetchError> {
    let fail = |outcome, e: String| (outcome, 0, e);
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| fail(Outcome::Unsupported, format!("not a URL: {e}")))?;
    let secure = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => {
            return Err(fail(
                Outcome::Unsupported,
                "only http and https distribution points are fetched".into(),
            ))
        }
    };
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .ok_or_else(|| fail(Outcome::Unsupported, "the URL has no host".into()))?;
    // An IPv6 literal is bracketed in the URL, bare for the socket and the TLS name.
    let host = uri
        .host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| fail(Outcome::Connect, e.to_string()))?;
    if secure {
        let name = rustls::pki_types::ServerName::try_from(host)
            .map_err(|e| fail(Outcome::Unsupported, format!("not a TLS server name: {e}")))?;
        let stream = tokio_rustls::TlsConnector::from(tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| fail(Outcome::Connect, format!("TLS: {e}")))?;
        exchange(stream, &uri, authority, max_bytes).await
    } else {
        exchange(tcp, &uri, authority, max_bytes).await
    }
}

/// The HTTP/1.1 `GET` of `uri` on a connected `io`.
async fn exchange<S>(
    io: S,
    uri: &hyper::Uri,
    authority: String,
    max_bytes: usize,
) -> Result<(u16, Vec<u8>), FetchError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let fail = |outcome, e: String| (outcome, 0, e);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| fail(Outcome::Connect, e.to_string()))?;
    let connection = tokio::spawn(connection);
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::USER_AGENT, "eps-translator")
        .body(Empty::<Bytes>::new())
        .map_err(|e| fail(Outcome::Unsupported, e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| fail(Outcome::Connect, e.to_string()))?;
    let status = response.status().as_u16();
    if status != 200 {
        connection.abort();
        return Err((Outcome::HttpStatus, status, format!("HTTP {status}")));
    }
    let declared = response
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_bytes as u64) {
        connection.abort();
        return Err((
            Outcome::TooLarge,
            status,
            format!(
                "{} bytes declared; at most {max_bytes} are read",
                declared.unwrap_or(0)
            ),
        ));
    }
    let body = Limited::new(response.into_body(), max_bytes)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                (
                    Outcome::TooLarge,
                    status,
                    format!("more than {max_bytes} bytes"),
                )
            } else {
                (Outcome::Connect, status, e.to_string())
            }
        })?
        .to_bytes()
        .to_vec();
    connection.abort();
    Ok((status, body))
}

/// Waits for `future` from synchronous code on a runtime: on a blocking-pool thread
/// directly, on a multi-thread runtime's worker by handing the worker's other tasks away
/// first; without a runtime, on a small one made for it.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(future))
        }
        Ok(handle) => handle.block_on(future),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for fetching CRLs")
            .block_on(future),
    }
}
