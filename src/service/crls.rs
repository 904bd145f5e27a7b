//! Where the server's CRLs come from, after a request's own: a configured directory
//! (`serve --crl-dir`), re-read when its files change (polled) or on SIGHUP. A file that
//! does not parse is logged and skipped; the directory vanishing leaves no CRL from it, and
//! never stops the server.
//!
//! The verifier's trust configuration is rebuilt on each reload and handed to requests as
//! one shared snapshot ([`TrustSource::current`]), so a request sees one consistent set.

use super::fetch::{FetchConfig, Fetcher};
use crate::datetime::Instant;
use crate::error::Rejection;
use crate::verify::revocation::Crl;
use crate::verify::{Report, Trust};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

/// The server's trust configuration: the one from the command line plus the directory's
/// CRLs as last read.
#[derive(Debug)]
pub struct TrustSource {
    base: Trust,
    dir: Option<PathBuf>,
    current: RwLock<Arc<Trust>>,
    /// What the directory looked like when last read: (name, length, modified) per file.
    seen: Mutex<Vec<(PathBuf, u64, Option<SystemTime>)>>,
    /// Reloads done (for tests and the log).
    pub reloads: AtomicU64,
    /// The CRL fetcher, when `--fetch-crls` is on.
    fetcher: Option<Arc<Fetcher>>,
}

impl TrustSource {
    /// From the command line's trust configuration, the CRL directory (read now) and the
    /// fetching configuration (`None`: nothing is fetched).
    pub fn new(base: Trust, dir: Option<PathBuf>, fetch: Option<FetchConfig>) -> TrustSource {
        let source = TrustSource {
            current: RwLock::new(Arc::new(base.clone())),
            base,
            dir,
            seen: Mutex::new(Vec::new()),
            reloads: AtomicU64::new(0),
            fetcher: fetch.map(Fetcher::new),
        };
        source.reload();
        source
    }

    /// The trust configuration requests use now.
    pub fn current(&self) -> Arc<Trust> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The CRL fetcher, when fetching is on.
    pub fn fetcher(&self) -> Option<&Arc<Fetcher>> {
        self.fetcher.as_ref()
    }

    /// The trust configuration with the fetched CRLs current at `now` added (nothing is
    /// fetched).
    pub fn snapshot(&self, now: Instant) -> Trust {
        let current = self.current();
        match &self.fetcher {
            Some(f) => f.with_cached(&current, now.0.unix_timestamp()),
            None => (*current).clone(),
        }
    }

    /// Verifies with `trust` and the fetched CRLs in the cache; when fetching is on and a
    /// revocation status is unknown, fetches the distribution points the verdicts name and
    /// verifies again with what came. `now` is the server's time (cache freshness).
    /// Blocks: call it off the reactor (it waits for the fetches on the runtime).
    pub fn verify_fetching(
        &self,
        trust: Trust,
        now: Instant,
        run: impl Fn(&Trust) -> Result<Report, Rejection>,
    ) -> Result<Report, Rejection> {
        verify_fetching(self.fetcher.as_ref(), trust, now, run)
    }

    /// Re-reads the directory when a file was added, removed or changed since the last
    /// read; returns whether it did.
    pub fn reload_if_changed(&self) -> bool {
        let Some(dir) = &self.dir else {
            return false;
        };
        let now = listing(dir);
        let changed = *self.seen.lock().unwrap_or_else(|p| p.into_inner()) != now;
        if changed {
            self.reload();
        }
        changed
    }

    /// Re-reads the directory: every regular file in it, DER or PEM; one that cannot be read
    /// is logged and skipped.
    pub fn reload(&self) {
        let Some(dir) = &self.dir else {
            return;
        };
        let listed = listing(dir);
        let mut crls: Vec<Arc<Crl>> = Vec::new();
        let mut skipped = 0;
        for (path, _, _) in &listed {
            let name = path.display().to_string();
            let read = std::fs::read(path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    let mut scratch = Trust::new();
                    scratch.add_crls(&bytes, &name)?;
                    Ok(scratch.crls().to_vec())
                });
            match read {
                Ok(found) => crls.extend(found),
                Err(e) => {
                    skipped += 1;
                    tracing::warn!(file = %name, error = %e, "CRL file skipped");
                }
            }
        }
        let mut trust = self.base.clone();
        let n = crls.len();
        trust.extend_crls(crls);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(trust);
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = listed;
        self.reloads.fetch_add(1, Ordering::Relaxed);
        tracing::info!(dir = %dir.display(), crls = n, skipped, "CRL directory read");
    }

    /// Watches the directory until the server stops: polls every `every`, and reloads on
    /// SIGHUP. The SIGHUP handler is installed by this call (not when the future first
    /// runs), so a SIGHUP right after start-up re-reads rather than ends the process.
    pub fn watch(
        self: Arc<Self>,
        every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        #[cfg(unix)]
        let mut hup = self.dir.as_ref().and_then(|_| {
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
        });
        async move {
            if self.dir.is_none() {
                return;
            }
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                #[cfg(unix)]
                let hangup = async {
                    match hup.as_mut() {
                        Some(h) => {
                            h.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                #[cfg(not(unix))]
                let hangup = std::future::pending::<()>();
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = tick.tick() => {
                        let source = self.clone();
                        let _ = tokio::task::spawn_blocking(move || source.reload_if_changed()).await;
                    }
                    () = hangup => {
                        tracing::info!("SIGHUP: re-reading the CRL directory");
                        let source = self.clone();
                        let _ = tokio::task::spawn_blocking(move || source.reload()).await;
                    }
                }
            }
        }
    }
}

/// The regular files of `dir`, sorted, with length and modification time; empty when the
/// directory cannot be read (logged).
fn listing(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "CRL directory cannot be read");
            return Vec::new();
        }
    };
    let mut out: Vec<_> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            meta.is_file()
                .then(|| (e.path(), meta.len(), meta.modified().ok()))
        })
        .collect();
    out.sort();
    out
}

/// The two passes of [`TrustSource::verify_fetching`], for the server and the command line.
pub fn verify_fetching(
    fetcher: Option<&Arc<Fetcher>>,
    mut trust: Trust,
    now: Instant,
    run: impl Fn(&Trust) -> Result<Report, Rejection>,
) -> Result<Report, Rejection> {
    let Some(fetcher) = fetcher else {
        return run(&trust);
    };
    let now = now.0.unix_timestamp();
    trust.extend_crls(fetcher.cached(now));
    let report = run(&trust)?;
    let mut lists: Vec<Vec<String>> = Vec::new();
    for p in &report.prescriptions {
        for list in &p.crl_urls {
            if !lists.contains(list) {
                lists.push(list.clone());
            }
        }
    }
    if lists.is_empty() {
        return Ok(report);
    }
    let fetched = super::fetch::block_on(fetcher.crls_for(&lists, now));
    let known: Vec<*const Crl> = trust.crls().iter().map(Arc::as_ptr).collect();
    let new: Vec<Arc<Crl>> = fetched
        .into_iter()
        .filter(|c| !known.contains(&Arc::as_ptr(c)))
        .collect();
    if new.is_empty() {
        return Ok(report);
    }
    trust.extend_crls(new);
    run(&trust)
}
