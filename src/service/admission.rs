//! Admission and execution: the concurrency limit (shed, never queue), deadlines (the
//! caller's `grpc-timeout` and the server's own timeout, whichever is sooner), and running
//! the CPU-bound core off the async reactor threads.

use super::failure::Failure;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Where the core's CPU work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offload {
    /// On tokio's blocking pool (`spawn_blocking`): the reactor threads only do I/O.
    Blocking,
    /// On the reactor thread that received the request (no thread hop). Measured in
    /// `docs/service.md`; kept for comparison.
    Inline,
}

impl Offload {
    pub fn from_name(name: &str) -> Option<Offload> {
        match name {
            "blocking" => Some(Offload::Blocking),
            "inline" => Some(Offload::Inline),
            _ => None,
        }
    }
}

/// `--offload blocking|inline`.
impl std::str::FromStr for Offload {
    type Err = String;

    fn from_str(text: &str) -> Result<Offload, String> {
        Offload::from_name(text).ok_or_else(|| format!("expected blocking or inline, got '{text}'"))
    }
}

/// Admits requests up to a limit and runs their work within their deadline.
#[derive(Debug)]
pub struct Admission {
    permits: Arc<Semaphore>,
    timeout: Duration,
    offload: Offload,
}

impl Admission {
    pub fn new(max_in_flight: usize, timeout: Duration, offload: Offload) -> Admission {
        Admission {
            permits: Arc::new(Semaphore::new(max_in_flight.max(1))),
            timeout,
            offload,
        }
    }

    /// A slot for one request, or [`Failure::Busy`] at the limit: the request is shed at
    /// once rather than queued behind the others.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, Failure> {
        self.permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| Failure::Busy)
    }

    /// A slot, waiting for one (a stream's items: the stream's own bounded parallelism is
    /// the queue).
    pub async fn admit_waiting(&self) -> Result<OwnedSemaphorePermit, Failure> {
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Failure::Internal)
    }

    /// The request's deadline: the sooner of the caller's (`grpc-timeout`, if any) and the
    /// server's timeout, counted from `start`.
    pub fn deadline(&self, start: Instant, caller: Option<Duration>) -> Instant {
        start + caller.map_or(self.timeout, |c| c.min(self.timeout))
    }

    /// Runs `work` (CPU-bound, synchronous) holding `permit`, within `deadline`. A deadline
    /// already passed does no work; a panic in the core is an internal error. When the
    /// deadline passes during the work, the caller gets `DEADLINE_EXCEEDED` at once and the
    /// work's result is dropped (the permit stays held until the work really ends, so the
    /// limit counts it).
    pub async fn run<T, F>(
        &self,
        permit: OwnedSemaphorePermit,
        deadline: Instant,
        work: F,
    ) -> Result<T, Failure>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, Failure> + Send + 'static,
    {
        if Instant::now() >= deadline {
            return Err(expired());
        }
        match self.offload {
            Offload::Inline => {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                    .unwrap_or(Err(Failure::Internal));
                drop(permit);
                result
            }
            Offload::Blocking => {
                let task = tokio::task::spawn_blocking(move || {
                    let result = work();
                    drop(permit);
                    result
                });
                match tokio::time::timeout_at(deadline, task).await {
                    Ok(Ok(result)) => result,
                    Ok(Err(_join_error)) => Err(Failure::Internal),
                    Err(_elapsed) => Err(expired()),
                }
            }
        }
    }
}

fn expired() -> Failure {
    Failure::DeadlineExceeded("deadline exceeded before the work finished".to_string())
}

/// Parses a `grpc-timeout` header value: at most 8 digits and a unit (`H`, `M`, `S`, `m`,
/// `u`, `n`). `None` when absent or malformed (then only the server's timeout applies).
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_values_parse_per_the_spec() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_grpc_timeout("1n"), Some(Duration::from_nanos(1)));
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("1x"), None);
        assert_eq!(parse_grpc_timeout("-1S"), None);
    }
}
