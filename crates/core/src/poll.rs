//! The poll supervisor: one task per tenant, each on its own interval with jitter,
//! exponential backoff on failure (honouring `Retry-After`), and a per-poll deadline, so
//! a slow or broken tenant never delays another.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use crate::connector::{Connector, PollUpdate};
use crate::error::{Error, ErrorCode};
use crate::store::{Diff, SessionStore};

/// Upper bound of the wait between polls after repeated failures.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// A poll's diff, for alert rules and history.
#[derive(Debug, Clone)]
pub struct TenantDiff {
    pub tenant: Arc<str>,
    pub diff: Arc<Diff>,
    /// The first successful poll of this tenant since start (everything is "started").
    pub initial: bool,
}

/// How one tenant is polled.
#[derive(Debug, Clone, Copy)]
pub struct PollPolicy {
    pub interval: Duration,
    /// Deadline for one whole poll (all its pages).
    pub poll_timeout: Duration,
}

#[derive(Clone)]
pub(crate) struct Poller {
    pub connector: Arc<dyn Connector>,
    pub store: SessionStore,
    pub policy: PollPolicy,
    pub refresh: Arc<Notify>,
    pub cancel: CancellationToken,
    pub diffs: broadcast::Sender<TenantDiff>,
    /// Polling is paused while this is true.
    pub paused: tokio::sync::watch::Receiver<bool>,
    /// Fills in the location of sessions the tenant gives none for.
    pub geoip: crate::engine::SharedGeoIp,
}

/// Addresses located per tenant, kept between polls (a full listing repeats them).
const PLACE_CACHE: usize = 50_000;

fn add_locations(
    update: &mut PollUpdate,
    geoip: &crate::engine::SharedGeoIp,
    cache: &mut std::collections::HashMap<String, Option<String>>,
) {
    let Some(geo) = geoip.read().ok().and_then(|g| g.clone()) else {
        cache.clear();
        return;
    };
    let sessions = match update {
        PollUpdate::Full(s) => s,
        PollUpdate::Delta { upserted, .. } => upserted,
    };
    if cache.len() > PLACE_CACHE {
        cache.clear();
    }
    for s in sessions.iter_mut().filter(|s| s.location.is_none()) {
        let Some(ip) = s.ip.as_deref() else { continue };
        s.location = match cache.get(ip) {
            Some(known) => known.clone(),
            None => {
                let label = geo.locate(ip).map(|p| p.label());
                cache.insert(ip.to_owned(), label.clone());
                label
            }
        };
    }
}

impl Poller {
    /// Polls until cancelled. A panic while handling a tenant's answer is that tenant's
    /// error (shown in its health, alerted as a tenant problem), and polling starts over
    /// after a backoff: never a silent stop with frozen rows.
    pub async fn supervise(self) {
        use futures::FutureExt as _;
        let tenant = Arc::clone(self.connector.tenant());
        let mut crashes: u32 = 0;
        loop {
            let run = std::panic::AssertUnwindSafe(self.clone().run()).catch_unwind();
            let Err(panic) = run.await else { return };
            crashes = crashes.saturating_add(1);
            let what = crate::connector::guard::panic_message(panic.as_ref());
            tracing::error!(%tenant, panic = %what, "polling failed unexpectedly; starting over");
            let e = Error::internal(format!(
                "polling failed unexpectedly on the tenant's answer ({what}); retrying"
            ));
            self.store.record_error(&tenant, &e, Duration::ZERO);
            self.connector.reset().await;
            let wait = next_wait(self.policy.interval, crashes, None);
            tokio::select! {
                () = self.cancel.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn run(mut self) {
        let tenant = Arc::clone(self.connector.tenant());
        let mut failures: u32 = 0;
        let mut initial = true;
        let mut places = std::collections::HashMap::new();
        loop {
            if *self.paused.borrow_and_update() {
                // Wait for a resume or an explicit refresh.
                tokio::select! {
                    () = self.cancel.cancelled() => return,
                    _ = self.paused.wait_for(|p| !*p) => {}
                    () = self.refresh.notified() => {}
                }
            }
            let started = Instant::now();
            let outcome = tokio::select! {
                () = self.cancel.cancelled() => return,
                r = tokio::time::timeout(self.policy.poll_timeout, self.connector.poll()) => r,
            };
            let latency = started.elapsed();
            let retry_after = match outcome {
                Ok(Ok(mut update)) => match self.store.apply(
                    &tenant,
                    {
                        add_locations(&mut update, &self.geoip, &mut places);
                        update
                    },
                    latency,
                ) {
                    Ok(diff) => {
                        failures = 0;
                        let _ = self.diffs.send(TenantDiff {
                            tenant: Arc::clone(&tenant),
                            diff: Arc::new(diff),
                            initial,
                        });
                        initial = false;
                        None
                    }
                    Err(e) => {
                        // The tenant was removed while we polled: stop.
                        tracing::debug!(%tenant, error = %e, "poller stopping");
                        return;
                    }
                },
                Ok(Err(e)) => {
                    failures = failures.saturating_add(1);
                    self.on_error(&tenant, &e, latency).await;
                    e.retry_after_secs
                }
                Err(_) => {
                    failures = failures.saturating_add(1);
                    let e = Error::new(
                        ErrorCode::Timeout,
                        format!(
                            "poll did not finish within {} s",
                            self.policy.poll_timeout.as_secs()
                        ),
                    );
                    self.on_error(&tenant, &e, latency).await;
                    None
                }
            };
            let wait = next_wait(self.policy.interval, failures, retry_after);
            tokio::select! {
                () = self.cancel.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
                () = self.refresh.notified() => {}
            }
        }
    }

    async fn on_error(&self, tenant: &str, e: &Error, latency: Duration) {
        tracing::warn!(%tenant, code = e.code.as_str(), error = %e, "poll failed");
        self.store.record_error(tenant, e, latency);
        if matches!(e.code, ErrorCode::MalformedResponse | ErrorCode::Timeout) {
            // Incremental state may be what is wrong; start over with a full listing.
            self.connector.reset().await;
        }
    }
}

/// The wait before the next poll: the interval with ±10 % jitter, or an exponential
/// backoff after failures, never shorter than the tenant's `Retry-After`.
pub fn next_wait(interval: Duration, failures: u32, retry_after_secs: Option<u64>) -> Duration {
    let mut rng = rand::rng();
    let base = if failures == 0 {
        interval
    } else {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
        interval.saturating_mul(factor).min(MAX_BACKOFF)
    };
    let jitter = rng.random_range(0.9..=1.1);
    let wait = base.mul_f64(jitter);
    match retry_after_secs {
        Some(s) => wait.max(Duration::from_secs(s.min(3_600))),
        None => wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        let i = Duration::from_secs(5);
        let w0 = next_wait(i, 0, None);
        assert!(w0 >= Duration::from_millis(4500) && w0 <= Duration::from_millis(5500));
        let w3 = next_wait(i, 3, None);
        assert!(w3 >= Duration::from_secs(18) && w3 <= Duration::from_secs(22));
        assert!(next_wait(i, 30, None) <= MAX_BACKOFF.mul_f64(1.1));
        assert!(next_wait(i, 1, Some(120)) >= Duration::from_secs(120));
    }
}
