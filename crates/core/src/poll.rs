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
    /// The poll saw everything: a target missing from it is gone. False for a listing
    /// known to be incomplete, which confirms nothing and flags nothing as reappeared.
    pub complete: bool,
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
    pub geoip: crate::geoip::SharedGeoIp,
    /// Whether a poll of this tenant was applied since start (shared by restarts).
    pub polled_once: Arc<std::sync::atomic::AtomicBool>,
}

/// Addresses located per tenant, kept between polls (a full listing repeats them).
const PLACE_CACHE: usize = 50_000;

fn add_locations(
    update: &mut PollUpdate,
    geoip: &crate::geoip::SharedGeoIp,
    cache: &mut std::collections::HashMap<String, Option<crate::model::Text>>,
) {
    let Some(geo) = geoip.read().ok().and_then(|g| g.clone()) else {
        cache.clear();
        return;
    };
    let sessions = match update {
        PollUpdate::Full(s) | PollUpdate::Partial { sessions: s, .. } => s,
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
                let label = geo.locate(ip).map(|p| p.label().into());
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
            // A change feed of "new" sessions every poll would grow the tenant past what a
            // full listing may hold: over the tenant's item limit, it starts over with a
            // (bounded) full listing instead.
            let outcome = outcome.map(|r| r.and_then(|u| self.within_limit(&tenant, u)));
            let retry_after = match outcome {
                Ok(Ok(update)) => match self.apply(&tenant, update, latency, &mut places) {
                    Ok((diff, complete)) => {
                        failures = 0;
                        let _ = self.diffs.send(TenantDiff {
                            tenant: Arc::clone(&tenant),
                            diff: Arc::new(diff),
                            // Kept across a restart after a panic: sign-ins during the
                            // outage are new, not "found at start".
                            initial: !self
                                .polled_once
                                .swap(true, std::sync::atomic::Ordering::SeqCst),
                            complete,
                        });
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

    /// Applies a poll to the store: the diff, and whether the poll saw everything.
    fn apply(
        &self,
        tenant: &str,
        mut update: PollUpdate,
        latency: Duration,
        places: &mut std::collections::HashMap<String, Option<crate::model::Text>>,
    ) -> crate::Result<(crate::store::Diff, bool)> {
        add_locations(&mut update, &self.geoip, places);
        // What a tenant can do may be learnt by polling it (Okta's pipeline).
        self.store
            .set_capabilities(tenant, self.connector.capabilities());
        let complete = !matches!(update, PollUpdate::Partial { .. });
        self.store
            .apply(tenant, update, latency)
            .map(|d| (d, complete))
    }

    fn within_limit(&self, tenant: &str, update: PollUpdate) -> crate::Result<PollUpdate> {
        let max = self.connector.limits().max_items;
        if let PollUpdate::Delta { upserted, .. }
        | PollUpdate::Partial {
            sessions: upserted, ..
        } = &update
        {
            let held = self.store.tenant_session_count(tenant) as u64;
            if held.saturating_add(upserted.len() as u64) > max {
                return Err(Error::new(
                    ErrorCode::LimitExceeded,
                    format!(
                        "the tenant's change feed grew it past {max} sessions (the tenant's max_listing_items); listing it again"
                    ),
                ));
            }
        }
        Ok(update)
    }

    async fn on_error(&self, tenant: &str, e: &Error, latency: Duration) {
        tracing::warn!(%tenant, code = e.code.as_str(), error = %e, "poll failed");
        self.store.record_error(tenant, e, latency);
        if matches!(
            e.code,
            ErrorCode::MalformedResponse | ErrorCode::Timeout | ErrorCode::LimitExceeded
        ) {
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

    /// A connector outside the guard that panics on its first polls: the poller itself
    /// must turn that into the tenant's error and go on polling.
    struct Panicky {
        tenant: Arc<str>,
        polls: std::sync::atomic::AtomicU32,
    }

    #[async_trait::async_trait]
    impl Connector for Panicky {
        fn tenant(&self) -> &Arc<str> {
            &self.tenant
        }
        fn kind(&self) -> crate::model::ConnectorKind {
            crate::model::ConnectorKind::Vigil
        }
        fn capabilities(&self) -> crate::model::Capabilities {
            crate::model::Capabilities::FULL_LISTING
        }
        async fn poll(&self) -> crate::Result<PollUpdate> {
            if self.polls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2 {
                panic!("index out of bounds in the tenant's answer");
            }
            Ok(PollUpdate::Full(Vec::new()))
        }
        async fn reset(&self) {}
        async fn end_session(&self, _: &str) -> crate::Result<crate::connector::EndOutcome> {
            Err(Error::internal("unused"))
        }
        async fn end_user_sessions(&self, _: &str) -> crate::Result<u64> {
            Err(Error::internal("unused"))
        }
        async fn set_disabled(&self, _: &str, _: bool) -> crate::Result<crate::model::User> {
            Err(Error::internal("unused"))
        }
        async fn find_user(&self, _: &str) -> crate::Result<Option<crate::model::User>> {
            Ok(None)
        }
        async fn check(&self) -> crate::model::TenantCheck {
            crate::model::TenantCheck::default()
        }
    }

    /// A change feed that brings 10 "new" sessions every poll, with a limit of 25 items.
    struct Growing {
        inner: Panicky,
    }

    #[async_trait::async_trait]
    impl Connector for Growing {
        fn tenant(&self) -> &Arc<str> {
            self.inner.tenant()
        }
        fn kind(&self) -> crate::model::ConnectorKind {
            self.inner.kind()
        }
        fn capabilities(&self) -> crate::model::Capabilities {
            self.inner.capabilities()
        }
        fn limits(&self) -> crate::model::Limits {
            crate::model::Limits {
                max_items: 25,
                max_bytes: u64::MAX,
            }
        }
        async fn poll(&self) -> crate::Result<PollUpdate> {
            let n = self
                .inner
                .polls
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let tenant = self.tenant();
            let sessions = (0..10)
                .map(|i| crate::model::Session::new(tenant, format!("s{n}-{i}"), "u", "u"))
                .collect();
            Ok(if n == 0 {
                PollUpdate::Full(sessions)
            } else {
                PollUpdate::Delta {
                    upserted: sessions,
                    ended: Vec::new(),
                    users: Vec::new(),
                }
            })
        }
        async fn reset(&self) {}
        async fn end_session(&self, id: &str) -> crate::Result<crate::connector::EndOutcome> {
            self.inner.end_session(id).await
        }
        async fn end_user_sessions(&self, id: &str) -> crate::Result<u64> {
            self.inner.end_user_sessions(id).await
        }
        async fn set_disabled(&self, id: &str, d: bool) -> crate::Result<crate::model::User> {
            self.inner.set_disabled(id, d).await
        }
        async fn find_user(&self, n: &str) -> crate::Result<Option<crate::model::User>> {
            self.inner.find_user(n).await
        }
        async fn check(&self) -> crate::model::TenantCheck {
            self.inner.check().await
        }
    }

    #[tokio::test]
    async fn a_change_feed_cannot_grow_a_tenant_past_its_item_limit() {
        let tenant: Arc<str> = Arc::from("g");
        let store = SessionStore::new();
        store.register_tenant(&tenant, crate::model::ConnectorKind::Vigil);
        let poller = Poller {
            connector: Arc::new(Growing {
                inner: Panicky {
                    tenant: Arc::clone(&tenant),
                    polls: std::sync::atomic::AtomicU32::new(0),
                },
            }),
            store: store.clone(),
            policy: PollPolicy {
                interval: Duration::from_millis(10),
                poll_timeout: Duration::from_secs(5),
            },
            refresh: Arc::new(Notify::new()),
            cancel: CancellationToken::new(),
            diffs: broadcast::channel(16).0,
            paused: tokio::sync::watch::channel(false).1,
            geoip: Arc::default(),
            polled_once: Arc::default(),
        };
        let cancel = poller.cancel.clone();
        let task = tokio::spawn(poller.supervise());
        let limited = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(e) = store.health("g").and_then(|h| h.error) {
                    return e;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        cancel.cancel();
        let _ = task.await;
        let e = limited.map_err(|_| "no error within 10 s");
        assert!(
            e.as_ref()
                .is_ok_and(|e| e.code == ErrorCode::LimitExceeded
                    && e.message.contains("max_listing_items")),
            "{e:?}"
        );
        assert!(store.tenant_session_count("g") <= 25);
    }

    #[tokio::test]
    async fn a_panic_in_the_poller_is_the_tenants_error_and_polling_goes_on() {
        let tenant: Arc<str> = Arc::from("p");
        let store = SessionStore::new();
        store.register_tenant(&tenant, crate::model::ConnectorKind::Vigil);
        let mut events = store.subscribe();
        let (diffs, mut diff_rx) = broadcast::channel(16);
        let poller = Poller {
            connector: Arc::new(Panicky {
                tenant: Arc::clone(&tenant),
                polls: Default::default(),
            }),
            store: store.clone(),
            policy: PollPolicy {
                interval: Duration::from_millis(20),
                poll_timeout: Duration::from_secs(5),
            },
            refresh: Arc::new(Notify::new()),
            cancel: CancellationToken::new(),
            diffs,
            paused: tokio::sync::watch::channel(false).1,
            geoip: Arc::default(),
            polled_once: Arc::default(),
        };
        let cancel = poller.cancel.clone();
        let task = tokio::spawn(poller.supervise());
        let mut saw_error = false;
        let first_diff = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                tokio::select! {
                    e = events.recv() => {
                        if e.is_ok() {
                            saw_error |= store
                                .health("p")
                                .and_then(|h| h.error)
                                .is_some_and(|e| e.code == ErrorCode::Internal && e.message.contains("index out of bounds"));
                        }
                    }
                    d = diff_rx.recv() => return d,
                }
            }
        })
        .await;
        assert!(saw_error, "the panic was not shown as the tenant's error");
        let diff = first_diff.ok().and_then(Result::ok);
        assert!(diff.is_some_and(|d| d.initial), "polling did not go on");
        assert!(store.health("p").is_some_and(|h| h.error.is_none()));
        cancel.cancel();
        let _ = task.await;
    }

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
