//! Where CRLs come from besides the request: fetched from the certificates' distribution
//! points (`--fetch-crls`) from a CRL server on 127.0.0.1 started by the test, and the
//! server's `--crl-dir`. The test PKI's sub-CA and signer are reissued with distribution
//! points under `http://crl.test/`, rewritten to the test server (`--crl-url-rewrite`).
//!
//! What must hold: each distinct CRL is fetched once for a release of 20 prescriptions, and
//! again only after its nextUpdate; a point that answers 404 or 500, hangs past the timeout,
//! refuses the connection, or serves a truncated, garbage or oversized body gives the verdict
//! the policy says (and the next point is tried), never a panic or a hang. Over `https` (a
//! TLS server with a self-signed certificate made by the test), a point is fetched only when
//! its certificate is trusted; an untrusted one fails and the next point is tried.

mod common;
mod service_support;
#[path = "verify_support/mod.rs"]
mod verify_support;

use eps_translator::datetime::Instant;
use eps_translator::service::crls::{verify_fetching, TrustSource};
use eps_translator::service::fetch::{FetchConfig, Fetcher, Outcome};
use eps_translator::verify::{self, Check, Report, RevocationPolicy, Status, Trust};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::macros::datetime;
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use verify_support::*;

/// What the test server answers, by path.
#[derive(Clone)]
enum Answer {
    Crl(Arc<Vec<u8>>),
    Status(u16),
    Hang,
    /// 200 with no Content-Length and this many zero bytes, then close.
    Stream(usize),
}

/// A CRL server on 127.0.0.1:0, counting requests per path; over TLS when started with
/// [`CrlServer::start_tls`].
struct CrlServer {
    port: u16,
    scheme: &'static str,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

/// A self-signed TLS server certificate for `localhost` and 127.0.0.1 (PEM) and the TLS
/// acceptor presenting it.
fn tls_identity() -> (String, tokio_rustls::TlsAcceptor) {
    let key =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = key.cert.der().clone();
    let private = rustls::pki_types::PrivateKeyDer::Pkcs8(key.signing_key.serialize_der().into());
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], private)
        .unwrap();
    (
        key.cert.pem(),
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
    )
}

impl CrlServer {
    async fn start() -> CrlServer {
        Self::serve(None).await
    }

    /// The server over TLS, presenting `acceptor`'s certificate.
    async fn start_tls(acceptor: tokio_rustls::TlsAcceptor) -> CrlServer {
        Self::serve(Some(acceptor)).await
    }

    async fn serve(tls: Option<tokio_rustls::TlsAcceptor>) -> CrlServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let answers: Arc<Mutex<HashMap<String, Answer>>> = Default::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Default::default();
        let (a, h) = (answers.clone(), hits.clone());
        let scheme = if tls.is_some() { "https" } else { "http" };
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (a, h, tls) = (a.clone(), h.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        // A client that does not trust the certificate ends the handshake.
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(tcp).await {
                                Self::answer(stream, a, h).await;
                            }
                        }
                        None => Self::answer(tcp, a, h).await,
                    }
                });
            }
        });
        CrlServer {
            port,
            scheme,
            answers,
            hits,
        }
    }

    /// Reads one request from `tcp` and answers it as `a` says for its path.
    async fn answer<S>(
        mut tcp: S,
        a: Arc<Mutex<HashMap<String, Answer>>>,
        h: Arc<Mutex<HashMap<String, usize>>>,
    ) where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        let text = String::from_utf8_lossy(&request);
        let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
        *h.lock().unwrap().entry(path.clone()).or_default() += 1;
        let answer = a.lock().unwrap().get(&path).cloned();
        let _ = match answer {
            Some(Answer::Crl(body)) => {
                let head = format!(
                                "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                body.len()
                            );
                match tcp.write_all(head.as_bytes()).await {
                    Ok(()) => tcp.write_all(&body).await,
                    e => e,
                }
            }
            Some(Answer::Status(code)) => {
                let head =
                    format!("HTTP/1.1 {code} No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                tcp.write_all(head.as_bytes()).await
            }
            Some(Answer::Hang) => {
                std::future::pending::<()>().await;
                Ok(())
            }
            Some(Answer::Stream(n)) => {
                let _ = tcp
                    .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                    .await;
                let chunk = vec![0u8; 64 * 1024];
                let mut sent = 0;
                while sent < n {
                    if tcp.write_all(&chunk).await.is_err() {
                        break;
                    }
                    sent += chunk.len();
                }
                Ok(())
            }
            None => {
                tcp.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await
            }
        };
        let _ = tcp.shutdown().await;
    }

    fn set(&self, path: &str, answer: Answer) {
        self.answers
            .lock()
            .unwrap()
            .insert(path.to_string(), answer);
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    fn config(&self) -> FetchConfig {
        FetchConfig {
            // Long enough for a loaded machine; the hanging point waits this long.
            timeout: Duration::from_secs(2),
            max_bytes: 1024 * 1024,
            rewrites: vec![(
                "http://crl.test/".into(),
                format!("{}://127.0.0.1:{}/", self.scheme, self.port),
            )],
            ..Default::default()
        }
    }
}

/// The PKI reissued with distribution points: the sub-CA's ARL at `/root.arl`, the signer's
/// CRL at each of `signer_points` in order.
struct Pointed {
    sub_ca: Cert,
    signer: Cert,
}

fn pointed(signer_points: &[&str]) -> Pointed {
    let pki = pki();
    let point = |paths: &[&str]| rcgen::CrlDistributionPoint {
        uris: paths
            .iter()
            .map(|p| format!("http://crl.test{p}"))
            .collect(),
    };
    let mut sub = pki.sub_ca.params.clone();
    sub.crl_distribution_points = vec![point(&["/root.arl"])];
    let sub_ca = issue(sub, &pki.sub_key, Some((&pki.root, &pki.root_key)));
    let mut signer = params("Test Prescriber", Role::Signer, VALID);
    signer.crl_distribution_points = vec![point(signer_points)];
    let signer = issue(signer, &pki.signer_key, Some((&sub_ca, &pki.sub_key)));
    Pointed { sub_ca, signer }
}

fn trust(p: &Pointed, policy: RevocationPolicy) -> Trust {
    let mut trust = Trust::new();
    trust.add_anchors(&pki().root.pem()).unwrap();
    trust.add_intermediates(&p.sub_ca.pem()).unwrap();
    trust.policy.revocation = policy;
    trust
}

const WINDOW: (OffsetDateTime, OffsetDateTime) = (
    datetime!(2025-01-01 0:00 UTC),
    datetime!(2025-07-01 0:00 UTC),
);

fn sub_crl(
    p: &Pointed,
    revoked: Vec<rcgen::RevokedCertParams>,
    window: (OffsetDateTime, OffsetDateTime),
) -> Vec<u8> {
    crl(&p.sub_ca, &pki().sub_key, revoked, window)
}

fn root_arl(window: (OffsetDateTime, OffsetDateTime)) -> Vec<u8> {
    crl(&pki().root, &pki().root_key, vec![], window)
}

fn instant(t: OffsetDateTime) -> Instant {
    Instant::parse_rfc3339(
        &t.format(&time::format_description::well_known::Rfc3339)
            .unwrap(),
    )
    .unwrap()
}

/// Verifies `input` at `at`, fetching with `fetcher`, off the test's reactor (as the server
/// runs it: on the blocking pool).
async fn check(
    fetcher: &Arc<Fetcher>,
    trust: &Trust,
    input: &Arc<Vec<u8>>,
    at: OffsetDateTime,
) -> Report {
    let (fetcher, trust, input) = (fetcher.clone(), trust.clone(), input.clone());
    tokio::task::spawn_blocking(move || {
        verify_fetching(Some(&fetcher), trust, instant(at), |t| {
            verify::verify(&input, t, instant(at))
        })
        .unwrap()
    })
    .await
    .unwrap()
}

/// A searchset of `n` copies of the corpus Bundle signed by `signer`.
fn release(shared: &std::path::Path, signer: &Cert, n: usize) -> Arc<Vec<u8>> {
    let bundle: serde_json::Value = serde_json::from_slice(&sign_bundle(
        &corpus_bundle(shared),
        &pki().signer_key,
        signer,
    ))
    .unwrap();
    let entry: Vec<serde_json::Value> = (0..n)
        .map(|_| serde_json::json!({"resource": bundle}))
        .collect();
    Arc::new(
        serde_json::to_vec(&serde_json::json!({
            "resourceType": "Bundle", "type": "searchset", "entry": entry,
        }))
        .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_fetches_each_crl_once_and_again_only_after_next_update() {
    let Some(shared) = common::shared_dir("CRL fetching") else {
        return;
    };
    let server = CrlServer::start().await;
    let p = pointed(&["/sub.crl"]);
    server.set(
        "/sub.crl",
        Answer::Crl(Arc::new(sub_crl(&p, vec![], WINDOW))),
    );
    server.set("/root.arl", Answer::Crl(Arc::new(root_arl(WINDOW))));
    let fetcher = Fetcher::new(server.config());
    let input = release(&shared, &p.signer, 20);
    let trust = trust(&p, RevocationPolicy::Require);
    let at = datetime!(2025-06-01 0:00 UTC);
    let report = check(&fetcher, &trust, &input, at).await;
    assert_eq!(report.prescriptions.len(), 20);
    for v in &report.prescriptions {
        assert!(v.is_valid(), "{:#?}", v.checks);
        assert_eq!(v.result(Check::Revocation).unwrap().status, Status::Passed);
        assert_eq!(
            v.result(Check::CaRevocation).unwrap().status,
            Status::Passed
        );
    }
    assert_eq!((server.hits("/sub.crl"), server.hits("/root.arl")), (1, 1));
    // Ten releases at once: answered from the cache.
    let runs: Vec<_> = (0..10)
        .map(|_| check(&fetcher, &trust, &input, at))
        .collect();
    for report in futures_util::future::join_all(runs).await {
        assert!(report.is_valid());
    }
    assert_eq!((server.hits("/sub.crl"), server.hits("/root.arl")), (1, 1));
    // After nextUpdate (2025-07-01) the CRLs are fetched again: the CA has published new ones.
    let next = (
        datetime!(2025-07-01 0:00 UTC),
        datetime!(2026-01-01 0:00 UTC),
    );
    server.set("/sub.crl", Answer::Crl(Arc::new(sub_crl(&p, vec![], next))));
    server.set("/root.arl", Answer::Crl(Arc::new(root_arl(next))));
    let later = datetime!(2025-07-02 0:00 UTC);
    let report = check(&fetcher, &trust, &input, later).await;
    assert!(report.is_valid(), "{:#?}", report.prescriptions[0].checks);
    assert_eq!((server.hits("/sub.crl"), server.hits("/root.arl")), (2, 2));
    assert_eq!(fetcher.fetches(Outcome::Ok), 4);
    assert!(fetcher.cache_hits() > 0);
    println!(
        "CRL fetching: 20 prescriptions x 11 releases, {} fetches, {} cache hits",
        fetcher.fetches(Outcome::Ok),
        fetcher.cache_hits()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_signer_is_found_through_its_distribution_point() {
    let Some(shared) = common::shared_dir("CRL fetching (revoked)") else {
        return;
    };
    let server = CrlServer::start().await;
    let p = pointed(&["/sub.crl"]);
    let revoking = vec![revoked(
        &p.signer,
        datetime!(2025-03-01 0:00 UTC),
        Some(rcgen::RevocationReason::KeyCompromise),
    )];
    server.set(
        "/sub.crl",
        Answer::Crl(Arc::new(sub_crl(&p, revoking, WINDOW))),
    );
    server.set("/root.arl", Answer::Crl(Arc::new(root_arl(WINDOW))));
    let fetcher = Fetcher::new(server.config());
    let input = release(&shared, &p.signer, 1);
    let report = check(
        &fetcher,
        &trust(&p, RevocationPolicy::Prefer),
        &input,
        datetime!(2025-06-01 0:00 UTC),
    )
    .await;
    assert_eq!(report.prescriptions[0].errors(), ["Certificate is revoked"]);
}

/// A point that fails, then a good one: the second is used; alone, the failure gives the
/// policy's verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_distribution_points_give_the_policy_s_verdict_and_the_next_is_tried() {
    let Some(shared) = common::shared_dir("CRL fetching (failures)") else {
        return;
    };
    let server = CrlServer::start().await;
    let good = pointed(&["/sub.crl"]);
    let good_crl = sub_crl(&good, vec![], WINDOW);
    server.set("/sub.crl", Answer::Crl(Arc::new(good_crl.clone())));
    server.set("/root.arl", Answer::Crl(Arc::new(root_arl(WINDOW))));
    server.set("/404", Answer::Status(404));
    server.set("/500", Answer::Status(500));
    server.set("/hang", Answer::Hang);
    server.set(
        "/garbage",
        Answer::Crl(Arc::new(b"not a CRL at all".to_vec())),
    );
    server.set(
        "/truncated",
        Answer::Crl(Arc::new(good_crl[..good_crl.len() / 2].to_vec())),
    );
    server.set(
        "/declared-50mb",
        Answer::Crl(Arc::new(vec![0; 50 * 1024 * 1024])),
    );
    server.set("/streamed-50mb", Answer::Stream(50 * 1024 * 1024));
    // A port with nothing listening: the connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let at = datetime!(2025-06-01 0:00 UTC);
    let cases: [(&str, Outcome); 8] = [
        ("/404", Outcome::HttpStatus),
        ("/500", Outcome::HttpStatus),
        ("/hang", Outcome::Timeout),
        ("/refused", Outcome::Connect),
        ("/garbage", Outcome::Invalid),
        ("/truncated", Outcome::Invalid),
        ("/declared-50mb", Outcome::TooLarge),
        ("/streamed-50mb", Outcome::TooLarge),
    ];
    let mut checked = 0;
    for (path, outcome) in cases {
        let mut config = server.config();
        if path == "/refused" {
            config.rewrites.insert(
                0,
                (
                    "http://crl.test/refused".into(),
                    format!("http://127.0.0.1:{closed_port}/refused"),
                ),
            );
        }
        // Alone: unknown; require fails it, prefer warns, off does not fetch.
        let p = pointed(&[path]);
        let input = release(&shared, &p.signer, 1);
        for (policy, valid) in [
            (RevocationPolicy::Require, false),
            (RevocationPolicy::Prefer, true),
            (RevocationPolicy::Off, true),
        ] {
            let fetcher = Fetcher::new(config.clone());
            let report = check(&fetcher, &trust(&p, policy), &input, at).await;
            let v = &report.prescriptions[0];
            assert_eq!(v.is_valid(), valid, "{path} {policy:?}: {:#?}", v.checks);
            let expected = if policy == RevocationPolicy::Off {
                0
            } else {
                1
            };
            let all: Vec<(Outcome, u64)> = [
                Outcome::Ok,
                Outcome::HttpStatus,
                Outcome::Timeout,
                Outcome::Connect,
                Outcome::TooLarge,
                Outcome::Invalid,
            ]
            .into_iter()
            .map(|o| (o, fetcher.fetches(o)))
            .collect();
            assert_eq!(
                fetcher.fetches(outcome),
                expected,
                "{path} {policy:?}: {all:?}"
            );
            let status = v.result(Check::Revocation).unwrap().status;
            match policy {
                RevocationPolicy::Off => assert_eq!(status, Status::NotChecked),
                _ => assert_eq!(status, Status::Unknown, "{path} {policy:?}"),
            }
            if policy == RevocationPolicy::Require {
                assert!(v
                    .errors()
                    .contains(&"Certificate revocation status unknown"));
            }
        }
        // Followed by a good point: that one decides.
        let p = pointed(&[path, "/sub-for-next.crl"]);
        server.set(
            "/sub-for-next.crl",
            Answer::Crl(Arc::new(sub_crl(&p, vec![], WINDOW))),
        );
        let fetcher = Fetcher::new(config.clone());
        let input = release(&shared, &p.signer, 1);
        let report = check(&fetcher, &trust(&p, RevocationPolicy::Require), &input, at).await;
        assert!(
            report.is_valid(),
            "{path} then a good point: {:#?}",
            report.prescriptions[0].checks
        );
        assert_eq!(fetcher.fetches(outcome), 1, "{path}");
        checked += 1;
    }
    println!("CRL fetching: {checked} failing distribution points, each under require, prefer and off, and followed by a good one");
}

/// `https` points: fetched when the server's certificate chains to a root the fetcher trusts
/// (here the test server's self-signed certificate, given as an extra root); a server whose
/// certificate is not trusted fails the handshake (counted as `connect`, no request reaches
/// it) and the certificate's next point is tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_points_are_fetched_from_trusted_servers_only() {
    let Some(shared) = common::shared_dir("CRL fetching (https)") else {
        return;
    };
    let (trusted_pem, trusted_tls) = tls_identity();
    let (_, untrusted_tls) = tls_identity();
    let server = CrlServer::start_tls(trusted_tls).await;
    let untrusted = CrlServer::start_tls(untrusted_tls).await;
    let at = datetime!(2025-06-01 0:00 UTC);
    let mut config = server.config();
    assert!(config.rewrites[0].1.starts_with("https://127.0.0.1:"));
    config.rewrites.insert(
        0,
        (
            "http://crl.test/untrusted/".into(),
            format!("https://127.0.0.1:{}/", untrusted.port),
        ),
    );
    let webpki_only = config.clone();
    config
        .add_tls_roots_pem(trusted_pem.as_bytes(), "the test server's certificate")
        .unwrap();
    assert!(config.add_tls_roots_pem(b"no PEM here", "junk").is_err());
    server.set("/root.arl", Answer::Crl(Arc::new(root_arl(WINDOW))));
    untrusted.set("/root.arl", Answer::Crl(Arc::new(root_arl(WINDOW))));

    // A trusted server: the CRL and the ARL are fetched over TLS.
    let p = pointed(&["/sub.crl"]);
    server.set(
        "/sub.crl",
        Answer::Crl(Arc::new(sub_crl(&p, vec![], WINDOW))),
    );
    let input = release(&shared, &p.signer, 1);
    let fetcher = Fetcher::new(config.clone());
    let report = check(&fetcher, &trust(&p, RevocationPolicy::Require), &input, at).await;
    assert!(report.is_valid(), "{:#?}", report.prescriptions[0].checks);
    assert_eq!(
        (
            fetcher.fetches(Outcome::Ok),
            fetcher.fetches(Outcome::Connect)
        ),
        (2, 0)
    );
    assert_eq!((server.hits("/sub.crl"), server.hits("/root.arl")), (1, 1));

    // The same server with only the webpki roots trusted: no handshake, no request.
    let fetcher = Fetcher::new(webpki_only);
    let report = check(&fetcher, &trust(&p, RevocationPolicy::Require), &input, at).await;
    let v = &report.prescriptions[0];
    assert!(!v.is_valid());
    assert_eq!(
        v.result(Check::Revocation).unwrap().status,
        Status::Unknown,
        "{:#?}",
        v.checks
    );
    assert_eq!(
        (
            fetcher.fetches(Outcome::Ok),
            fetcher.fetches(Outcome::Connect)
        ),
        (0, 2)
    );
    assert_eq!((server.hits("/sub.crl"), server.hits("/root.arl")), (1, 1));

    // An untrusted server alone: the status is unknown and require fails it.
    let p = pointed(&["/untrusted/sub.crl"]);
    untrusted.set(
        "/sub.crl",
        Answer::Crl(Arc::new(sub_crl(&p, vec![], WINDOW))),
    );
    let input = release(&shared, &p.signer, 1);
    let fetcher = Fetcher::new(config.clone());
    let report = check(&fetcher, &trust(&p, RevocationPolicy::Require), &input, at).await;
    let v = &report.prescriptions[0];
    assert!(!v.is_valid());
    assert!(v
        .errors()
        .contains(&"Certificate revocation status unknown"));
    assert_eq!(fetcher.fetches(Outcome::Connect), 1);
    assert_eq!(untrusted.hits("/sub.crl"), 0);

    // Followed by a point on the trusted server: that one decides.
    let p = pointed(&["/untrusted/sub.crl", "/sub-next.crl"]);
    server.set(
        "/sub-next.crl",
        Answer::Crl(Arc::new(sub_crl(&p, vec![], WINDOW))),
    );
    let input = release(&shared, &p.signer, 1);
    let fetcher = Fetcher::new(config.clone());
    let report = check(&fetcher, &trust(&p, RevocationPolicy::Require), &input, at).await;
    assert!(report.is_valid(), "{:#?}", report.prescriptions[0].checks);
    assert_eq!(
        (
            fetcher.fetches(Outcome::Ok),
            fetcher.fetches(Outcome::Connect)
        ),
        (2, 1)
    );
    assert_eq!(
        (untrusted.hits("/sub.crl"), server.hits("/sub-next.crl")),
        (0, 1)
    );
    println!("CRL fetching over https: a trusted server fetched from, an untrusted one refused and the next point tried");
}

/// Ten releases at once behind a hanging point: one fetch times out, and every release takes
/// that failure instead of waiting for a timeout of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_queued_behind_a_hanging_point_share_its_failure() {
    let Some(shared) = common::shared_dir("CRL fetching (hang, concurrent)") else {
        return;
    };
    let server = CrlServer::start().await;
    server.set("/hang", Answer::Hang);
    server.set("/root.arl", Answer::Crl(Arc::new(root_arl(WINDOW))));
    let p = pointed(&["/hang"]);
    let fetcher = Fetcher::new(server.config());
    let input = release(&shared, &p.signer, 1);
    let trust = trust(&p, RevocationPolicy::Require);
    let at = datetime!(2025-06-01 0:00 UTC);
    let runs: Vec<_> = (0..10)
        .map(|_| check(&fetcher, &trust, &input, at))
        .collect();
    for report in futures_util::future::join_all(runs).await {
        let v = &report.prescriptions[0];
        assert!(!v.is_valid());
        assert_eq!(v.result(Check::Revocation).unwrap().status, Status::Unknown);
    }
    assert_eq!(fetcher.fetches(Outcome::Timeout), 1);
    assert_eq!(server.hits("/hang"), 1);
}

/// Within 15 minutes of its nextUpdate a cached CRL is answered from the cache and
/// refreshed in the background once; a failed refresh keeps the copy while it is current.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crl_near_its_next_update_is_refreshed_in_the_background() {
    let server = CrlServer::start().await;
    let p = pointed(&["/sub.crl"]);
    server.set(
        "/sub.crl",
        Answer::Crl(Arc::new(sub_crl(&p, vec![], WINDOW))),
    );
    let fetcher = Fetcher::new(server.config());
    let url = "http://crl.test/sub.crl";
    let early = datetime!(2025-06-01 0:00 UTC).unix_timestamp();
    assert!(fetcher.get(url, early).await.is_some());
    assert_eq!(server.hits("/sub.crl"), 1);
    // Ten minutes before nextUpdate (2025-07-01): served, and one refresh started.
    let near = datetime!(2025-06-30 23:50 UTC).unix_timestamp();
    server.set("/sub.crl", Answer::Status(500));
    for _ in 0..5 {
        assert!(fetcher.get(url, near).await.is_some());
    }
    let mut waited = 0;
    while fetcher.fetches(Outcome::HttpStatus) == 0 && waited < 500 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    assert_eq!(
        fetcher.fetches(Outcome::HttpStatus),
        1,
        "one refresh, which failed"
    );
    // The copy is still served while current; after nextUpdate it is not.
    assert!(fetcher.get(url, near).await.is_some());
    let after = datetime!(2025-07-01 0:01 UTC).unix_timestamp();
    assert!(fetcher.get(url, after).await.is_none());
    // The CRLs a verification takes from the cache are refreshed the same way: the new
    // one replaces the old.
    server.set(
        "/sub.crl",
        Answer::Crl(Arc::new(sub_crl(&p, vec![], WINDOW))),
    );
    let fetcher = Fetcher::new(server.config());
    assert!(fetcher.get(url, early).await.is_some());
    let next = (
        datetime!(2025-07-01 0:00 UTC),
        datetime!(2026-01-01 0:00 UTC),
    );
    server.set("/sub.crl", Answer::Crl(Arc::new(sub_crl(&p, vec![], next))));
    assert_eq!(fetcher.cached(near).len(), 1);
    let mut waited = 0;
    while fetcher.fetches(Outcome::Ok) < 2 && waited < 500 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    assert_eq!(fetcher.fetches(Outcome::Ok), 2);
    assert_eq!(
        fetcher.cached(after).len(),
        1,
        "the refreshed CRL is current after the old nextUpdate"
    );
}

/// `eps-translator verify --fetch-crls --crl-url-rewrite`: the command line fetches too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_fetches_with_fetch_crls() {
    let Some(shared) = common::shared_dir("CRL fetching (CLI)") else {
        return;
    };
    let server = CrlServer::start().await;
    let p = pointed(&["/sub.crl"]);
    server.set(
        "/sub.crl",
        Answer::Crl(Arc::new(sub_crl(&p, vec![], WINDOW))),
    );
    server.set("/root.arl", Answer::Crl(Arc::new(root_arl(WINDOW))));
    let dir = std::env::temp_dir().join(format!("eps-crl-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("root.pem"), pki().root.pem()).unwrap();
    std::fs::write(dir.join("sub.pem"), p.sub_ca.pem()).unwrap();
    std::fs::write(
        dir.join("in.json"),
        release(&shared, &p.signer, 3).as_slice(),
    )
    .unwrap();
    let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let rewrite = format!("http://crl.test/=http://127.0.0.1:{}/", server.port);
    let args = |fetch: bool| {
        let mut a = vec![
            "verify".to_string(),
            "--trusted-ca".into(),
            path("root.pem"),
            "--intermediate-ca".into(),
            path("sub.pem"),
            "--at".into(),
            "2025-06-01T00:00:00Z".into(),
        ];
        if fetch {
            a.extend([
                "--fetch-crls".into(),
                "--crl-url-rewrite".into(),
                rewrite.clone(),
            ]);
        }
        a.push(path("in.json"));
        a
    };
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_eps-translator"))
                .args(args)
                .output()
                .unwrap()
        })
    };
    let without = run(args(false)).await.unwrap();
    assert_eq!(without.status.code(), Some(1));
    let with = run(args(true)).await.unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        with.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&with.stderr)
    );
    assert!(String::from_utf8_lossy(&with.stderr).contains("CRL fetched"));
    assert_eq!((server.hits("/sub.crl"), server.hits("/root.arl")), (1, 1));
}

/// `verify --fetch-crls` over https: the server's certificate is trusted through
/// `--crl-fetch-ca`, without which the fetch fails; a file with no certificate is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_fetches_over_https_with_crl_fetch_ca() {
    let Some(shared) = common::shared_dir("CRL fetching over https (CLI)") else {
        return;
    };
    let (pem, tls) = tls_identity();
    let server = CrlServer::start_tls(tls).await;
    let p = pointed(&["/sub.crl"]);
    server.set(
        "/sub.crl",
        Answer::Crl(Arc::new(sub_crl(&p, vec![], WINDOW))),
    );
    server.set("/root.arl", Answer::Crl(Arc::new(root_arl(WINDOW))));
    let dir = std::env::temp_dir().join(format!("eps-crl-cli-https-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("root.pem"), pki().root.pem()).unwrap();
    std::fs::write(dir.join("sub.pem"), p.sub_ca.pem()).unwrap();
    std::fs::write(dir.join("tls.pem"), &pem).unwrap();
    std::fs::write(dir.join("junk.pem"), "not a certificate").unwrap();
    std::fs::write(
        dir.join("in.json"),
        release(&shared, &p.signer, 1).as_slice(),
    )
    .unwrap();
    let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let rewrite = format!("http://crl.test/=https://127.0.0.1:{}/", server.port);
    let args = |ca: Option<&str>| {
        let mut a = vec![
            "verify".to_string(),
            "--trusted-ca".into(),
            path("root.pem"),
            "--intermediate-ca".into(),
            path("sub.pem"),
            "--at".into(),
            "2025-06-01T00:00:00Z".into(),
            "--fetch-crls".into(),
            "--crl-url-rewrite".into(),
            rewrite.clone(),
        ];
        if let Some(ca) = ca {
            a.extend(["--crl-fetch-ca".into(), path(ca)]);
        }
        a.push(path("in.json"));
        a
    };
    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_eps-translator"))
                .args(args)
                .output()
                .unwrap()
        })
    };
    let untrusted = run(args(None)).await.unwrap();
    let junk = run(args(Some("junk.pem"))).await.unwrap();
    let trusted = run(args(Some("tls.pem"))).await.unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let stderr = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(untrusted.status.code(), Some(1), "{}", stderr(&untrusted));
    assert!(stderr(&untrusted).contains("CRL fetch failed"));
    assert_eq!(junk.status.code(), Some(2), "{}", stderr(&junk));
    assert!(
        stderr(&junk).contains("--crl-fetch-ca"),
        "{}",
        stderr(&junk)
    );
    assert_eq!(trusted.status.code(), Some(0), "{}", stderr(&trusted));
    assert!(stderr(&trusted).contains("CRL fetched"));
    assert_eq!((server.hits("/sub.crl"), server.hits("/root.arl")), (1, 1));
}

/// The server's CRL directory: read at start-up, a bad file skipped, re-read on change.
#[test]
fn the_crl_directory_is_read_a_bad_file_skipped_and_changes_picked_up() {
    let Some(shared) = common::shared_dir("CRL directory") else {
        return;
    };
    let pki = pki();
    let dir = std::env::temp_dir().join(format!("eps-crl-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let [root_arl, sub] = pki.good_crls();
    std::fs::write(dir.join("root.crl"), &root_arl.1).unwrap();
    std::fs::write(dir.join("garbage.crl"), b"garbage").unwrap();
    let mut base = pki.trust_without_crls();
    base.policy.revocation = RevocationPolicy::Require;
    let source = TrustSource::new(base, Some(dir.clone()), None);
    let xml = convert(&sign_bundle(
        &corpus_bundle(&shared),
        &pki.signer_key,
        &pki.signer,
    ));
    let status = |source: &TrustSource| {
        let report = verify::verify(xml.as_bytes(), &source.current(), checked_at()).unwrap();
        report.prescriptions[0]
            .result(Check::Revocation)
            .unwrap()
            .status
    };
    assert_eq!(
        source.current().crls().len(),
        1,
        "the garbage file is skipped"
    );
    assert_eq!(status(&source), Status::Unknown);
    assert!(!source.reload_if_changed(), "nothing changed");
    std::fs::write(dir.join("sub.crl"), &sub.1).unwrap();
    assert!(source.reload_if_changed());
    assert_eq!(status(&source), Status::Passed);
    // A revoking CRL replaces it.
    let revoking = crl(
        &pki.sub_ca,
        &pki.sub_key,
        vec![revoked(
            &pki.signer,
            datetime!(2025-01-01 0:00 UTC),
            Some(rcgen::RevocationReason::KeyCompromise),
        )],
        CRL_WINDOW,
    );
    std::fs::write(
        dir.join("sub.crl"),
        format!(
            "-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
            b64(&revoking)
        ),
    )
    .unwrap();
    assert!(source.reload_if_changed());
    assert_eq!(status(&source), Status::Failed);
    // The directory removed: no CRL from it, and no crash.
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(source.reload_if_changed());
    assert_eq!(source.current().crls().len(), 0);
    assert_eq!(status(&source), Status::Unknown);
    println!("CRL directory: read, a bad file skipped, three changes picked up");
}

/// The server with `--fetch-crls` and `--crl-dir`: gRPC `Verify` of a 20-prescription
/// release fetches the signer's CRL once (the ARL comes from the directory), `/metrics`
/// counts the fetch and the cache hits, and `$verify-signature` answers from the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_fetches_once_and_counts_it() {
    use eps_translator::service::http_client::HttpClient;
    use eps_translator::service::pb::v1;
    let Some(shared) = common::shared_dir("CRL fetching (server)") else {
        return;
    };
    let server = CrlServer::start().await;
    let p = pointed(&["/sub.crl"]);
    server.set(
        "/sub.crl",
        Answer::Crl(Arc::new(sub_crl(&p, vec![], WINDOW))),
    );
    let dir = std::env::temp_dir().join(format!("eps-crl-dir-server-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("root.arl"), root_arl(WINDOW)).unwrap();
    let config = server.config();
    let trust = trust(&p, RevocationPolicy::Require);
    let running = service_support::server(move |c| {
        c.trust = trust;
        c.crl_dir = Some(dir.clone());
        c.fetch_crls = Some(config);
        c.fixed_clock = Some(Instant::parse_rfc3339("2025-06-01T00:00:00Z").unwrap());
    })
    .await;
    let mut client = service_support::client(&running).await;
    let input = release(&shared, &p.signer, 20);
    for _ in 0..3 {
        let answer = client
            .verify(v1::VerifyRequest {
                bundle_json: input.to_vec(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.prescriptions.len(), 20);
        assert!(answer.valid, "{:#?}", answer.prescriptions[0]);
    }
    let single = sign_bundle(&corpus_bundle(&shared), &pki().signer_key, &p.signer);
    let mut http = HttpClient::connect(running.http_addr.unwrap())
        .await
        .unwrap();
    let answer = http
        .post(
            "/FHIR/R4/$verify-signature",
            &[("content-type", "application/fhir+json")],
            single,
        )
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let body = String::from_utf8_lossy(&answer.body);
    assert!(body.contains("revocation checked: not revoked"), "{body}");
    assert_eq!((server.hits("/sub.crl"), server.hits("/root.arl")), (1, 0));
    let metrics = http.get("/metrics").await.unwrap();
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains("eps_crl_fetches_total{outcome=\"ok\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("eps_crl_age_seconds{url=\"http://127.0.0.1:"),
        "{text}"
    );
    let hits: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("eps_crl_cache_hits_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(hits >= 3, "{hits}");
    running.shutdown().await.unwrap();
    println!("CRL fetching (server): 3 releases of 20 and one $verify-signature, 1 fetch, {hits} cache hits");
}
