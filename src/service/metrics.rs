//! Request metrics: counts by transport, RPC and outcome, latency histograms, in-flight; and
//! their Prometheus text exposition (format 0.0.4), written by hand: a few counters do not
//! need a metrics crate. Lock-free: relaxed atomics, no per-request allocation.

use super::failure::Outcome;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Which server received the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Grpc,
    Http,
}

impl Transport {
    const ALL: [Transport; 2] = [Transport::Grpc, Transport::Http];

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Grpc => "grpc",
            Transport::Http => "http",
        }
    }
}

/// The operation, as named in the proto (a stream's items count under `ConvertStream`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rpc {
    Convert,
    Prepare,
    ToFhir,
    Canonicalize,
    Verify,
    ConvertStream,
}

impl Rpc {
    const ALL: [Rpc; 6] = [
        Rpc::Convert,
        Rpc::Prepare,
        Rpc::ToFhir,
        Rpc::Canonicalize,
        Rpc::Verify,
        Rpc::ConvertStream,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rpc::Convert => "Convert",
            Rpc::Prepare => "Prepare",
            Rpc::ToFhir => "ToFhir",
            Rpc::Canonicalize => "Canonicalize",
            Rpc::Verify => "Verify",
            Rpc::ConvertStream => "ConvertStream",
        }
    }
}

/// Histogram bucket upper bounds, seconds.
const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];
const SERIES: usize = Transport::ALL.len() * Rpc::ALL.len();

fn series(t: Transport, r: Rpc) -> usize {
    (t as usize) * Rpc::ALL.len() + r as usize
}

/// Why a connection ended, or why it never started (`refused`), for
/// `eps_connections_closed_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnEnd {
    /// The peer closed it, or it ended after the server's graceful shutdown.
    Closed,
    /// Over `--max-connections`: closed as soon as accepted.
    Refused,
    /// No request open for `--idle-timeout`.
    Idle,
    /// An HTTP/1 request header not received within `--header-timeout`.
    HeaderTimeout,
    /// A protocol or I/O error (a malformed request, a reset, a keep-alive ping unanswered).
    Error,
}

impl ConnEnd {
    const ALL: [ConnEnd; 5] = [
        ConnEnd::Closed,
        ConnEnd::Refused,
        ConnEnd::Idle,
        ConnEnd::HeaderTimeout,
        ConnEnd::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnEnd::Closed => "closed",
            ConnEnd::Refused => "refused",
            ConnEnd::Idle => "idle",
            ConnEnd::HeaderTimeout => "header_timeout",
            ConnEnd::Error => "error",
        }
    }
}

/// Connection and stream counters, per transport.
#[derive(Debug)]
struct Connections {
    open: [AtomicI64; 2],
    accepted: [AtomicU64; 2],
    ended: Vec<AtomicU64>,
    accept_errors: [AtomicU64; 2],
    streams_open: AtomicI64,
    streams_refused: [AtomicU64; 2],
    body_timeouts: [AtomicU64; 2],
}

/// The server's request metrics.
#[derive(Debug)]
pub struct Metrics {
    counts: Vec<AtomicU64>,
    /// Per series: one count per bucket (not cumulative; summed on exposition), then +Inf.
    buckets: Vec<AtomicU64>,
    sum_nanos: Vec<AtomicU64>,
    in_flight: AtomicI64,
    /// HTTP requests that reached no operation: 404 (no such path), 405 (wrong method).
    not_found: AtomicU64,
    method_not_allowed: AtomicU64,
    not_implemented: AtomicU64,
    connections: Connections,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let zeros = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect();
        Metrics {
            counts: zeros(SERIES * Outcome::ALL.len()),
            buckets: zeros(SERIES * (BUCKETS.len() + 1)),
            sum_nanos: zeros(SERIES),
            in_flight: AtomicI64::new(0),
            not_found: AtomicU64::new(0),
            method_not_allowed: AtomicU64::new(0),
            not_implemented: AtomicU64::new(0),
            connections: Connections {
                open: Default::default(),
                accepted: Default::default(),
                ended: zeros(Transport::ALL.len() * ConnEnd::ALL.len()),
                accept_errors: Default::default(),
                streams_open: AtomicI64::new(0),
                streams_refused: Default::default(),
                body_timeouts: Default::default(),
            },
        }
    }

    pub fn enter(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    pub fn leave(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// A connection accepted and being served.
    pub fn connection_opened(&self, t: Transport) {
        let c = &self.connections;
        c.accepted[t as usize].fetch_add(1, Ordering::Relaxed);
        c.open[t as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A served connection ended (`why`), or one was refused at the cap.
    pub fn connection_ended(&self, t: Transport, why: ConnEnd) {
        let c = &self.connections;
        if why != ConnEnd::Refused {
            c.open[t as usize].fetch_sub(1, Ordering::Relaxed);
        }
        let e = ConnEnd::ALL.iter().position(|x| *x == why).unwrap_or(0);
        c.ended[t as usize * ConnEnd::ALL.len() + e].fetch_add(1, Ordering::Relaxed);
    }

    /// Connections that ended for `why` (refused ones included).
    pub fn connections_ended(&self, t: Transport, why: ConnEnd) -> u64 {
        let e = ConnEnd::ALL.iter().position(|x| *x == why).unwrap_or(0);
        self.connections.ended[t as usize * ConnEnd::ALL.len() + e].load(Ordering::Relaxed)
    }

    /// Connections open now.
    pub fn connections_open(&self, t: Transport) -> i64 {
        self.connections.open[t as usize].load(Ordering::Relaxed)
    }

    /// A failed `accept` (out of file descriptors, say).
    pub fn accept_error(&self, t: Transport) {
        self.connections.accept_errors[t as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A request or stream opened (`+1`) or ended (`-1`).
    pub fn stream_delta(&self, delta: i64) {
        self.connections
            .streams_open
            .fetch_add(delta, Ordering::Relaxed);
    }

    /// A request or stream refused at `--max-streams`.
    pub fn stream_refused(&self, t: Transport) {
        self.connections.streams_refused[t as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Requests and streams refused at `--max-streams`.
    pub fn streams_refused(&self, t: Transport) -> u64 {
        self.connections.streams_refused[t as usize].load(Ordering::Relaxed)
    }

    /// A request body not received within `--body-timeout`.
    pub fn body_timeout(&self, t: Transport) {
        self.connections.body_timeouts[t as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Request bodies not received within `--body-timeout`.
    pub fn body_timeouts(&self, t: Transport) -> u64 {
        self.connections.body_timeouts[t as usize].load(Ordering::Relaxed)
    }

    /// Records one finished request.
    pub fn record(&self, t: Transport, r: Rpc, outcome: Outcome, elapsed: Duration) {
        let s = series(t, r);
        let o = Outcome::ALL.iter().position(|x| *x == outcome).unwrap_or(0);
        self.counts[s * Outcome::ALL.len() + o].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        let b = BUCKETS
            .iter()
            .position(|&le| secs <= le)
            .unwrap_or(BUCKETS.len());
        self.buckets[s * (BUCKETS.len() + 1) + b].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos[s].fetch_add(nanos, Ordering::Relaxed);
    }

    /// Counts an HTTP request that reached no operation: 404, 405, or 501 for the
    /// reference's routes that send to Spine.
    pub fn unrouted(&self, status: u16) {
        let counter = match status {
            405 => &self.method_not_allowed,
            501 => &self.not_implemented,
            _ => &self.not_found,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests recorded with this transport, RPC and outcome.
    pub fn count(&self, t: Transport, r: Rpc, outcome: Outcome) -> u64 {
        let o = Outcome::ALL.iter().position(|x| *x == outcome).unwrap_or(0);
        self.counts[series(t, r) * Outcome::ALL.len() + o].load(Ordering::Relaxed)
    }

    /// Requests recorded, every label summed.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The Prometheus text exposition. Series that never saw a request are left out.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str(
            "# HELP eps_requests_total Requests handled, by transport, RPC and outcome.\n",
        );
        out.push_str("# TYPE eps_requests_total counter\n");
        for t in Transport::ALL {
            for r in Rpc::ALL {
                for (o, outcome) in Outcome::ALL.iter().enumerate() {
                    let n =
                        self.counts[series(t, r) * Outcome::ALL.len() + o].load(Ordering::Relaxed);
                    if n > 0 {
                        let _ = writeln!(
                            out,
                            "eps_requests_total{{transport=\"{}\",rpc=\"{}\",outcome=\"{}\"}} {n}",
                            t.as_str(),
                            r.as_str(),
                            outcome.as_str()
                        );
                    }
                }
            }
        }
        out.push_str(
            "# HELP eps_request_duration_seconds Time from a request's arrival to its answer.\n",
        );
        out.push_str("# TYPE eps_request_duration_seconds histogram\n");
        for t in Transport::ALL {
            for r in Rpc::ALL {
                let s = series(t, r);
                let base = s * (BUCKETS.len() + 1);
                let total: u64 = (0..=BUCKETS.len())
                    .map(|i| self.buckets[base + i].load(Ordering::Relaxed))
                    .sum();
                if total == 0 {
                    continue;
                }
                let labels = format!("transport=\"{}\",rpc=\"{}\"", t.as_str(), r.as_str());
                let mut cumulative = 0;
                for (i, le) in BUCKETS.iter().enumerate() {
                    cumulative += self.buckets[base + i].load(Ordering::Relaxed);
                    let _ = writeln!(
                        out,
                        "eps_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                    );
                }
                let _ = writeln!(
                    out,
                    "eps_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {total}"
                );
                let sum = self.sum_nanos[s].load(Ordering::Relaxed) as f64 / 1e9;
                let _ = writeln!(out, "eps_request_duration_seconds_sum{{{labels}}} {sum}");
                let _ = writeln!(
                    out,
                    "eps_request_duration_seconds_count{{{labels}}} {total}"
                );
            }
        }
        out.push_str(
            "# HELP eps_http_unrouted_total HTTP requests that reached no operation, by status.\n",
        );
        out.push_str("# TYPE eps_http_unrouted_total counter\n");
        for (status, counter) in [
            ("404", &self.not_found),
            ("405", &self.method_not_allowed),
            ("501", &self.not_implemented),
        ] {
            let n = counter.load(Ordering::Relaxed);
            let _ = writeln!(out, "eps_http_unrouted_total{{status=\"{status}\"}} {n}");
        }
        out.push_str("# HELP eps_requests_in_flight Requests being handled now.\n");
        out.push_str("# TYPE eps_requests_in_flight gauge\n");
        let _ = writeln!(out, "eps_requests_in_flight {}", self.in_flight());
        self.render_connections(&mut out);
        out
    }

    fn render_connections(&self, out: &mut String) {
        let c = &self.connections;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let per_transport =
            |out: &mut String, name: &str, help: &str, kind: &str, v: &dyn Fn(usize) -> String| {
                let _ = writeln!(out, "# HELP {name} {help}");
                let _ = writeln!(out, "# TYPE {name} {kind}");
                for t in Transport::ALL {
                    let _ = writeln!(
                        out,
                        "{name}{{transport=\"{}\"}} {}",
                        t.as_str(),
                        v(t as usize)
                    );
                }
            };
        per_transport(
            out,
            "eps_connections_open",
            "Connections being served now.",
            "gauge",
            &|t| c.open[t].load(Ordering::Relaxed).to_string(),
        );
        per_transport(
            out,
            "eps_connections_accepted_total",
            "Connections accepted and served (under --max-connections).",
            "counter",
            &|t| load(&c.accepted[t]).to_string(),
        );
        out.push_str(
            "# HELP eps_connections_closed_total Connections ended, by reason (refused: over --max-connections, closed at once).\n",
        );
        out.push_str("# TYPE eps_connections_closed_total counter\n");
        for t in Transport::ALL {
            for (e, why) in ConnEnd::ALL.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "eps_connections_closed_total{{transport=\"{}\",reason=\"{}\"}} {}",
                    t.as_str(),
                    why.as_str(),
                    load(&c.ended[t as usize * ConnEnd::ALL.len() + e])
                );
            }
        }
        per_transport(
            out,
            "eps_accept_errors_total",
            "Failed accepts (file descriptors exhausted, say).",
            "counter",
            &|t| load(&c.accept_errors[t]).to_string(),
        );
        per_transport(
            out,
            "eps_streams_refused_total",
            "Requests and HTTP/2 streams refused over --max-streams.",
            "counter",
            &|t| load(&c.streams_refused[t]).to_string(),
        );
        per_transport(
            out,
            "eps_request_body_timeouts_total",
            "Request bodies not received within --body-timeout.",
            "counter",
            &|t| load(&c.body_timeouts[t]).to_string(),
        );
        out.push_str("# HELP eps_streams_open Requests and HTTP/2 streams open now, both ports.\n");
        out.push_str("# TYPE eps_streams_open gauge\n");
        let _ = writeln!(
            out,
            "eps_streams_open {}",
            c.streams_open.load(Ordering::Relaxed)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_counts_cumulative_buckets_and_in_flight() {
        let m = Metrics::new();
        m.record(
            Transport::Grpc,
            Rpc::Prepare,
            Outcome::Ok,
            Duration::from_micros(200),
        );
        m.record(
            Transport::Grpc,
            Rpc::Prepare,
            Outcome::Rejected,
            Duration::from_millis(3),
        );
        m.enter();
        let text = m.render();
        assert!(text
            .contains("eps_requests_total{transport=\"grpc\",rpc=\"Prepare\",outcome=\"ok\"} 1\n"));
        assert!(text.contains(
            "eps_request_duration_seconds_bucket{transport=\"grpc\",rpc=\"Prepare\",le=\"0.00025\"} 1\n"
        ));
        assert!(text.contains(
            "eps_request_duration_seconds_bucket{transport=\"grpc\",rpc=\"Prepare\",le=\"0.005\"} 2\n"
        ));
        assert!(text.contains(
            "eps_request_duration_seconds_count{transport=\"grpc\",rpc=\"Prepare\"} 2\n"
        ));
        assert!(text.contains("eps_requests_in_flight 1\n"));
        assert!(!text.contains("rpc=\"Convert\""));
        assert_eq!(m.total(), 2);
    }
}
