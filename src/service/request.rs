//! What every request shares: the server's state, the caller's ids, and the guard that
//! writes the one log line and the metrics of a request however it ends (answered, failed,
//! or dropped because the caller went away).

use super::admission::Admission;
use super::failure::{Failure, Outcome};
use super::metrics::{Metrics, Rpc, Transport};
use crate::datetime::Instant;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// State shared by the gRPC and HTTP servers.
#[derive(Debug)]
pub struct Shared {
    pub admission: Admission,
    pub metrics: Metrics,
    /// A pinned "now" (for reproducing the reference corpus); `None` reads the clock.
    pub fixed_clock: Option<Instant>,
    /// Largest request message or body accepted, bytes.
    pub max_message_bytes: usize,
    /// Set when shutdown begins: `/_status` answers 503 from then on.
    pub shutting_down: AtomicBool,
    /// The trust anchors and CRLs Verify, ToFhir and `$verify-signature` use when a request
    /// gives none: anchors loaded once at start-up, CRLs re-read from `--crl-dir`.
    pub trust: Arc<super::crls::TrustSource>,
    /// The ids a request's context takes when the caller gives none.
    pub identities: Identities,
    /// The `nhsd-application-id`s whose `$prepare` digests with SHA-1.
    pub sha1_application_ids: Vec<String>,
}

impl Shared {
    /// The default creation / signing time of a request: read here, at the edge.
    pub fn now(&self) -> Instant {
        self.fixed_clock.unwrap_or_else(crate::adapter::now)
    }

    /// A request's context before the request's own fields: the server's "now" and ids.
    pub fn context(&self) -> crate::Context {
        self.identities.context(self.now())
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }
}

/// The sender and receiver ids a request's context takes when the caller gives none
/// (`serve --from-asid` and the others). The defaults are the test-environment values the
/// reference's corpus was produced with; `serve` warns when they are in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identities {
    pub from_asid: String,
    pub to_asid: String,
    pub sds_user_id: String,
    pub sds_role_profile_id: String,
}

impl Default for Identities {
    fn default() -> Self {
        use crate::context::*;
        Identities {
            from_asid: DEFAULT_FROM_ASID.to_string(),
            to_asid: DEFAULT_TO_ASID.to_string(),
            sds_user_id: DEFAULT_SDS_USER_ID.to_string(),
            sds_role_profile_id: DEFAULT_SDS_ROLE_PROFILE_ID.to_string(),
        }
    }
}

impl Identities {
    /// The names of the ids that still have their test-environment value.
    pub fn test_values_in_force(&self) -> Vec<&'static str> {
        let defaults = Identities::default();
        [
            ("from-asid", self.from_asid == defaults.from_asid),
            ("to-asid", self.to_asid == defaults.to_asid),
            ("sds-user-id", self.sds_user_id == defaults.sds_user_id),
            (
                "sds-role-profile-id",
                self.sds_role_profile_id == defaults.sds_role_profile_id,
            ),
        ]
        .into_iter()
        .filter_map(|(name, is_default)| is_default.then_some(name))
        .collect()
    }

    /// A context at `now` carrying these ids.
    pub fn context(&self, now: Instant) -> crate::Context {
        let mut ctx = crate::Context::new(now);
        ctx.from_asid.clone_from(&self.from_asid);
        ctx.to_asid.clone_from(&self.to_asid);
        ctx.sds_user_id.clone_from(&self.sds_user_id);
        ctx.sds_role_profile_id
            .clone_from(&self.sds_role_profile_id);
        ctx
    }
}

/// The caller's request and correlation ids (from `x-request-id` / `nhsd-request-id` and
/// `x-correlation-id` / `nhsd-correlation-id`), kept for the log line. Cleaned: at most 64
/// printable ASCII characters, so a header cannot forge log lines.
#[derive(Debug, Clone, Default)]
pub struct CallerIds {
    pub request_id: Option<String>,
    pub correlation_id: Option<String>,
}

impl CallerIds {
    /// Reads the ids with `get(header name)`.
    pub fn read<'a>(get: impl Fn(&str) -> Option<&'a str>) -> CallerIds {
        let first = |names: [&str; 2]| names.iter().find_map(|n| get(n)).map(clean);
        CallerIds {
            request_id: first(["x-request-id", "nhsd-request-id"]),
            correlation_id: first(["x-correlation-id", "nhsd-correlation-id"]),
        }
    }
}

fn clean(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect()
}

/// One request being handled. On drop it counts the request in the metrics and writes its
/// log line: RPC, outcome, duration, sizes and the caller's ids; never input data.
#[derive(Debug)]
pub struct Observed {
    shared: Arc<Shared>,
    transport: Transport,
    rpc: Rpc,
    start: std::time::Instant,
    ids: CallerIds,
    pub request_bytes: usize,
    pub response_bytes: usize,
    /// Stream items handled (for a stream's line).
    pub items: Option<u64>,
    outcome: Option<Outcome>,
    /// A refused request's issue codes and FHIRPaths ([`Failure::problems`]).
    problems: Option<String>,
}

impl Observed {
    pub fn start(shared: &Arc<Shared>, transport: Transport, rpc: Rpc, ids: CallerIds) -> Self {
        shared.metrics.enter();
        Observed {
            shared: shared.clone(),
            transport,
            rpc,
            start: std::time::Instant::now(),
            ids,
            request_bytes: 0,
            response_bytes: 0,
            items: None,
            outcome: None,
            problems: None,
        }
    }

    /// When the request arrived, for its deadline.
    pub fn started(&self) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.start)
    }

    pub fn finish(&mut self, outcome: Outcome) {
        self.outcome = Some(outcome);
    }

    /// Finishes with a failure, keeping what the log line may say of it.
    pub fn fail(&mut self, failure: &Failure) {
        self.outcome = Some(failure.outcome());
        self.problems = failure.problems();
    }

    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        let outcome = self.outcome.unwrap_or(Outcome::Cancelled);
        let elapsed = self.start.elapsed();
        let m = &self.shared.metrics;
        m.leave();
        if self.rpc != Rpc::ConvertStream || self.items.is_none() {
            m.record(self.transport, self.rpc, outcome, elapsed);
        }
        // A line per answered request would be most of the log under load: those are at
        // debug (`RUST_LOG=eps_translator::request=debug`); every other outcome at info.
        macro_rules! line {
            ($level:expr) => {
                tracing::event!(
                    target: "eps_translator::request",
                    $level,
                    transport = self.transport.as_str(),
                    rpc = self.rpc.as_str(),
                    outcome = outcome.as_str(),
                    duration_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
                    request_bytes = self.request_bytes,
                    response_bytes = self.response_bytes,
                    items = self.items,
                    problems = self.problems.as_deref(),
                    request_id = self.ids.request_id.as_deref(),
                    correlation_id = self.ids.correlation_id.as_deref(),
                )
            };
        }
        if outcome == Outcome::Ok {
            line!(tracing::Level::DEBUG);
        } else {
            line!(tracing::Level::INFO);
        }
    }
}
