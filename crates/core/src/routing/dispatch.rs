//! The dispatcher: delivers the outbox, at least once, never on the polling path.
//!
//! Each round takes the due deliveries, groups them by route and sends each route's in
//! order (routes in parallel). A failure is recorded on the delivery with the cause and
//! retried with exponential backoff (30 s doubling to 15 min, or the receiver's
//! `Retry-After` if longer) until it succeeds or is three days old. Above a route's rate
//! limit the waiting alerts go as one digest, so a flood never loses an alert nor floods
//! a channel.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::RouteConfig;
use super::transport::{self, SendError};
use crate::alerts::{Alert, Rule, Severity};
use crate::audit::{AuditLog, Due};
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::secrets::SecretStore;

/// The routes in force and the tags of each tenant (for route scopes).
#[derive(Debug, Clone, Default)]
pub struct Routes {
    pub routes: Vec<RouteConfig>,
    pub tags: HashMap<String, Vec<String>>,
}

impl Routes {
    /// The names of the routes `alert` goes to (none for a suppressed alert).
    pub fn matching(&self, alert: &Alert) -> Vec<&str> {
        if alert.suppressed_by.is_some() {
            return Vec::new();
        }
        let tags = self
            .tags
            .get(&alert.tenant)
            .map(Vec::as_slice)
            .unwrap_or_default();
        self.routes
            .iter()
            .filter(|r| r.wants(alert, tags))
            .map(|r| r.name.as_str())
            .collect()
    }
}

pub type SharedRoutes = Arc<RwLock<Routes>>;

/// The first retry's delay in the app and the CLI.
pub const RETRY_BASE: Duration = Duration::from_secs(30);

/// Delays between attempts: `base` (30 s), doubling, at most 30 times `base` (15 min).
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    base.saturating_mul(1u32 << attempts.min(10))
        .min(base.saturating_mul(30))
}

/// Delivers the outbox of one audit database.
pub struct Dispatcher {
    pub audit: AuditLog,
    pub routes: SharedRoutes,
    pub secrets: Arc<dyn SecretStore>,
    pub wake: Arc<Notify>,
    /// When each route last sent, within the last minute (its rate limit).
    sent: HashMap<String, VecDeque<Instant>>,
    /// The first retry's delay (see [`backoff`]).
    pub retry_base: Duration,
}

impl Dispatcher {
    pub fn new(
        audit: AuditLog,
        routes: SharedRoutes,
        secrets: Arc<dyn SecretStore>,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            audit,
            routes,
            secrets,
            wake,
            sent: HashMap::new(),
            retry_base: RETRY_BASE,
        }
    }

    /// Delivers until cancelled; woken by new deliveries, else at the next due time.
    pub async fn run(mut self, cancel: CancellationToken) {
        loop {
            let wait = match self.round().await {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::error!(error = %e, "alert outbox could not be read");
                    Duration::from_secs(30)
                }
            };
            tokio::select! {
                () = cancel.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&AuditLog) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let audit = self.audit.clone();
        tokio::task::spawn_blocking(move || f(&audit))
            .await
            .map_err(|e| Error::internal(format!("outbox task failed: {e}")))?
    }

    /// One round: every due delivery tried once. Returns how long to wait for the next.
    pub async fn round(&mut self) -> Result<Duration> {
        let due = self
            .blocking(|a| a.due_deliveries(Utc::now(), 1_000))
            .await?;
        let mut by_route: BTreeMap<String, Vec<Due>> = BTreeMap::new();
        for d in due {
            by_route
                .entry(d.delivery.route.clone())
                .or_default()
                .push(d);
        }
        let routes = self
            .routes
            .read()
            .map(|r| r.routes.clone())
            .unwrap_or_default();
        let mut taken = Vec::new();
        for (name, list) in by_route {
            let route = routes.iter().find(|r| r.name == name).cloned();
            let sent = self.sent.remove(&name).unwrap_or_default();
            taken.push((name, route, list, sent));
        }
        let this = &*self;
        let work = taken
            .into_iter()
            .map(|(name, route, list, sent)| this.deliver_route(name, route, list, sent));
        let done = futures::future::join_all(work).await;
        for (name, sent) in done {
            self.sent.insert(name, sent);
        }
        let next = self.blocking(|a| a.next_delivery_at()).await?;
        Ok(match next {
            Some(at) => (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(50), Duration::from_secs(60)),
            None => Duration::from_secs(60),
        })
    }

    async fn secret(&self, name: &str) -> Result<Option<SecretString>> {
        let store = Arc::clone(&self.secrets);
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || store.get(&name))
            .await
            .map_err(|e| Error::internal(format!("keychain task failed: {e}")))?
    }

    /// Sends one route's due deliveries in order, within its rate limit.
    async fn deliver_route(
        &self,
        name: String,
        route: Option<RouteConfig>,
        list: Vec<Due>,
        mut sent: VecDeque<Instant>,
    ) -> (String, VecDeque<Instant>) {
        {
            let ids: Vec<i64> = list.iter().map(|d| d.delivery.id).collect();
            let Some(route) = route else {
                let note =
                    format!("route '{name}' is not configured any more; kept in case it returns");
                let _ = self
                    .blocking(move |a| {
                        a.delivery_wait(&ids, Some(&note), Utc::now() + chrono::Duration::hours(1))
                    })
                    .await;
                return (name, sent);
            };
            let secret = match self.secret(&name).await {
                Ok(s) => s,
                Err(e) => {
                    self.failed(&list, &e, None).await;
                    return (name, sent);
                }
            };
            while sent
                .front()
                .is_some_and(|t| t.elapsed() >= Duration::from_secs(60))
            {
                sent.pop_front();
            }
            let room = (route.max_per_minute as usize).saturating_sub(sent.len());
            if room == 0 {
                let until = sent
                    .front()
                    .map(|t| Duration::from_secs(60).saturating_sub(t.elapsed()))
                    .unwrap_or_default();
                let next = Utc::now() + chrono::Duration::from_std(until).unwrap_or_default();
                let _ = self
                    .blocking(move |a| a.delivery_wait(&ids, None, next))
                    .await;
                return (name, sent);
            }
            let (single, rest) = if list.len() <= room {
                (list, Vec::new())
            } else {
                let mut list = list;
                let rest = list.split_off(room - 1);
                (list, rest)
            };
            for d in single {
                sent.push_back(Instant::now());
                let key = format!("vigil-{}", d.delivery.id);
                match transport::send(&route, secret.as_ref(), &d.alert, &key).await {
                    Ok(()) => {
                        let id = d.delivery.id;
                        if let Err(e) = self.blocking(move |a| a.delivered(&[id], None)).await {
                            tracing::error!(error = %e, "a delivery could not be marked delivered; it may be sent again");
                        }
                    }
                    Err(SendError { error, retry_after }) => {
                        self.failed(std::slice::from_ref(&d), &error, retry_after)
                            .await;
                    }
                }
            }
            if !rest.is_empty() {
                sent.push_back(Instant::now());
                let digest = digest(&rest);
                let carrier = rest[0].delivery.id;
                let key = format!("vigil-{carrier}-digest");
                match transport::send(&route, secret.as_ref(), &digest, &key).await {
                    Ok(()) => {
                        let ids: Vec<i64> = rest.iter().map(|d| d.delivery.id).collect();
                        if let Err(e) = self
                            .blocking(move |a| a.delivered(&ids, Some(carrier)))
                            .await
                        {
                            tracing::error!(error = %e, "deliveries could not be marked delivered; they may be sent again");
                        }
                    }
                    Err(SendError { error, retry_after }) => {
                        self.failed(&rest, &error, retry_after).await;
                    }
                }
            }
            (name, sent)
        }
    }

    async fn failed(&self, list: &[Due], error: &Error, retry_after: Option<Duration>) {
        tracing::warn!(error = %error, deliveries = list.len(), "alert delivery failed; it will be retried");
        for d in list {
            let wait =
                backoff(self.retry_base, d.delivery.attempts).max(retry_after.unwrap_or_default());
            let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
            let id = d.delivery.id;
            let msg = error.message.clone();
            if let Err(e) = self
                .blocking(move |a| a.delivery_failed(&[id], &msg, next))
                .await
            {
                tracing::error!(error = %e, "a failed delivery could not be recorded");
            }
        }
    }
}

/// One alert standing for many that waited for a route's rate limit.
pub fn digest(list: &[Due]) -> Alert {
    let mut by: BTreeMap<(String, Rule), u32> = BTreeMap::new();
    for d in list {
        *by.entry((d.alert.tenant.clone(), d.alert.rule))
            .or_default() += d.alert.count.max(1);
    }
    let parts: Vec<String> = by
        .iter()
        .map(|((t, r), n)| format!("{n} {} in {t}", r.as_str().replace('_', "-")))
        .collect();
    let tenants: std::collections::BTreeSet<&str> =
        list.iter().map(|d| d.alert.tenant.as_str()).collect();
    let count = list
        .iter()
        .map(|d| d.alert.count.max(1))
        .fold(0u32, u32::saturating_add);
    let severity = list
        .iter()
        .map(|d| d.alert.severity)
        .max()
        .unwrap_or(Severity::Low);
    let rule = list
        .iter()
        .max_by_key(|d| d.alert.severity)
        .map_or(Rule::TenantProblem, |d| d.alert.rule);
    Alert {
        rule,
        rules: by
            .keys()
            .map(|(_, r)| *r)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
        severity,
        tenant: if tenants.len() == 1 {
            tenants
                .iter()
                .next()
                .map(|t| (*t).to_owned())
                .unwrap_or_default()
        } else {
            format!("{} tenants", tenants.len())
        },
        username: None,
        session_id: None,
        ip: None,
        user_agent: None,
        at: list
            .iter()
            .map(|d| d.alert.at)
            .max()
            .unwrap_or_else(Utc::now),
        message: format!(
            "{count} alerts held back by this route's rate limit: {}; each is in Vigil's alert centre",
            parts.join(", ")
        ),
        count,
        suppressed_by: None,
    }
}

/// Sends a test alert on a route now (not through the outbox) and says how it went.
pub async fn send_test(route: &RouteConfig, secrets: Arc<dyn SecretStore>) -> Result<()> {
    route.validate()?;
    let name = route.name.clone();
    let secret = tokio::task::spawn_blocking(move || secrets.get(&name))
        .await
        .map_err(|e| Error::internal(format!("keychain task failed: {e}")))??;
    let alert = Alert {
        rule: Rule::SuperuserSignIn,
        rules: vec![Rule::SuperuserSignIn],
        severity: Severity::Low,
        tenant: "vigil".into(),
        username: None,
        session_id: None,
        ip: None,
        user_agent: None,
        at: Utc::now(),
        message: format!(
            "Test alert from Vigil ({}) to route '{}': if you read this, the route works.",
            crate::audit::operator(),
            route.name
        ),
        count: 1,
        suppressed_by: None,
    };
    let key = format!("vigil-test-{}", Utc::now().timestamp_millis());
    transport::send(route, secret.as_ref(), &alert, &key)
        .await
        .map_err(|e| e.error)
}
