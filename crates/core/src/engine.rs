//! The engine both shells drive: tenants, their pollers, the store and actions.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use crate::actions::{self, ActionReport};
use crate::alerts::{self as rules, Alert, AlertSettings};
use crate::audit::{ActionKind, AuditLog, ItemState};
use crate::calendar::WorkingCalendar;
use crate::connector::Connector;
use crate::error::{Error, Result};
use crate::model::{ConnectorKind, SessionRef};
use crate::poll::{PollPolicy, Poller, TenantDiff};
use crate::store::SessionStore;

struct TenantHandle {
    connector: Arc<dyn Connector>,
    refresh: Arc<Notify>,
    cancel: CancellationToken,
}

/// An accepted action waiting for a poll to show its effect.
struct Pending {
    audit_id: i64,
    kind: ActionKind,
    /// Polls of the tenant since acceptance that still showed the target.
    polls_seen: u8,
}

/// Accepted actions awaiting confirmation, and sessions Vigil ended (for history).
#[derive(Default)]
struct Confirmations {
    pending: HashMap<(String, String), Pending>,
    ended_by_vigil: std::collections::HashSet<(String, String)>,
}

/// What the observer wrote for one poll, and what it could not write.
struct Observed {
    alerts: Vec<Alert>,
    /// Outcomes the audit database refused (kept to write again).
    unrecorded: Vec<(i64, ItemState)>,
    errors: Vec<Error>,
}

/// How often the long-session rule scans a tenant (it fires after days, not seconds).
const AGE_SCAN_EVERY: Duration = Duration::from_secs(60);

/// Owns the pollers. Dropping the engine (or [`Engine::shutdown`]) stops them.
pub struct Engine {
    runtime: tokio::runtime::Handle,
    store: SessionStore,
    tenants: RwLock<HashMap<String, TenantHandle>>,
    cancel: CancellationToken,
    diffs: broadcast::Sender<TenantDiff>,
    audit: Option<AuditLog>,
    actor: String,
    confirmations: Arc<std::sync::Mutex<Confirmations>>,
    alert_config: Arc<RwLock<HashMap<String, AlertConfig>>>,
    alerts: broadcast::Sender<Alert>,
    /// Rules snoozed per tenant, until a time.
    snoozes: Snoozes,
    /// While true, no tenant polls on its own (a Refresh still polls once).
    paused: tokio::sync::watch::Sender<bool>,
    /// The GeoIP city database, when one is configured: locations and impossible travel.
    geoip: crate::geoip::SharedGeoIp,
}

type Snoozes = Arc<std::sync::Mutex<HashMap<(String, rules::Rule), chrono::DateTime<chrono::Utc>>>>;

fn snoozed(snoozes: &Snoozes, tenant: &str, rule: rules::Rule) -> bool {
    snoozes
        .lock()
        .ok()
        .and_then(|m| m.get(&(tenant.to_owned(), rule)).copied())
        .is_some_and(|until| until > chrono::Utc::now())
}

/// How a tenant's sessions are judged.
#[derive(Debug, Clone, Default)]
pub struct AlertConfig {
    pub settings: AlertSettings,
    pub calendar: Option<WorkingCalendar>,
}

impl Engine {
    /// `runtime` runs the pollers (the shells own their runtime). No audit log: for tests
    /// and read-only use.
    pub fn new(runtime: tokio::runtime::Handle) -> Self {
        Self::with_audit(runtime, None, "vigil")
    }

    /// An engine whose actions are audited and whose polls feed the session history.
    /// `actor` names the operator (e.g. `alice@laptop`).
    pub fn with_audit(
        runtime: tokio::runtime::Handle,
        audit: Option<AuditLog>,
        actor: &str,
    ) -> Self {
        let (diffs, _) = broadcast::channel(1024);
        let (alerts, _) = broadcast::channel(1024);
        let engine = Self {
            runtime,
            store: SessionStore::new(),
            tenants: RwLock::new(HashMap::new()),
            cancel: CancellationToken::new(),
            diffs,
            audit,
            actor: actor.to_owned(),
            confirmations: Arc::new(std::sync::Mutex::new(Confirmations::default())),
            alert_config: Arc::new(RwLock::new(HashMap::new())),
            alerts,
            snoozes: Arc::new(std::sync::Mutex::new(HashMap::new())),
            paused: tokio::sync::watch::Sender::new(false),
            geoip: Arc::new(RwLock::new(None)),
        };
        if let Some(audit) = &engine.audit {
            match audit.snoozes(chrono::Utc::now()) {
                Ok(stored) => {
                    if let Ok(mut m) = engine.snoozes.lock() {
                        for (tenant, rule, until) in stored {
                            m.insert((tenant, rule), until);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "stored snoozes could not be read"),
            }
        }
        engine.spawn_observer();
        engine.spawn_problem_watch();
        engine
    }

    /// Follows every poll: confirms accepted actions (or flags them when the target is
    /// still there two polls later) and records session history.
    fn spawn_observer(&self) {
        let mut rx = self.diffs.subscribe();
        let store = self.store.clone();
        let audit = self.audit.clone();
        let confirmations = Arc::clone(&self.confirmations);
        let cancel = self.cancel.clone();
        let alert_config = Arc::clone(&self.alert_config);
        let alerts = self.alerts.clone();
        let snoozes = Arc::clone(&self.snoozes);
        let geoip = Arc::clone(&self.geoip);
        self.runtime.spawn(async move {
            let mut limiter = rules::RateLimiter::default();
            // Confirmations the audit database refused, written again with the next poll.
            let mut retry_outcomes: Vec<(i64, ItemState)> = Vec::new();
            let mut audit_failing = false;
            let mut last_age_scan: HashMap<String, std::time::Instant> = HashMap::new();
            loop {
                let diff = tokio::select! {
                    () = cancel.cancelled() => return,
                    d = rx.recv() => match d {
                        Ok(d) => d,
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(missed = n, "history missed some polls");
                            continue;
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                };
                let tenant = diff.tenant.to_string();
                let (outcomes, vigil_ended) = {
                    let mut c = confirmations
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let mut outcomes = std::mem::take(&mut retry_outcomes);
                    let complete = diff.complete;
                    c.pending.retain(|(t, target), p| {
                        // An incomplete listing neither confirms nor flags: what it did
                        // not see may or may not be there.
                        if t != &tenant || !complete {
                            return true;
                        }
                        let still_there = match p.kind {
                            ActionKind::EndSession => store.get(t, target).is_some(),
                            ActionKind::Logout | ActionKind::Disable => {
                                store.session_count_of(t, target) > 0
                            }
                            _ => false,
                        };
                        if !still_there {
                            outcomes.push((p.audit_id, ItemState::Confirmed));
                            return false;
                        }
                        p.polls_seen += 1;
                        if p.polls_seen >= 2 {
                            outcomes.push((p.audit_id, ItemState::Reappeared));
                            return false;
                        }
                        true
                    });
                    let ended: std::collections::HashSet<String> = diff
                        .diff
                        .ended
                        .iter()
                        .filter(|s| c.ended_by_vigil.remove(&(tenant.clone(), s.id.clone())))
                        .map(|s| s.id.clone())
                        .collect();
                    (outcomes, ended)
                };
                let Some(audit) = audit.clone() else { continue };
                let started = diff.diff.started.clone();
                let ended = diff.diff.ended.clone();
                let t = tenant.clone();
                let config = alert_config
                    .read()
                    .ok()
                    .and_then(|m| m.get(&tenant).cloned())
                    .unwrap_or_default();
                // Only what the rules look at: the sessions of users who just signed in and
                // those past the age limit (not a copy of the whole tenant every poll).
                let current = {
                    let users: std::collections::HashSet<&str> =
                        started.iter().map(|s| s.user_id.as_str()).collect();
                    let now = chrono::Utc::now();
                    // The age rule needs a scan of the tenant: at most once a minute.
                    let age_due = last_age_scan
                        .get(&tenant)
                        .is_none_or(|t: &std::time::Instant| t.elapsed() >= AGE_SCAN_EVERY);
                    if age_due {
                        last_age_scan.insert(tenant.clone(), std::time::Instant::now());
                    }
                    let too_old = config
                        .settings
                        .max_session_age_hours
                        .filter(|_| age_due)
                        .map(|h| now - chrono::Duration::hours(i64::from(h)));
                    store.rule_sessions(&tenant, &users, too_old)
                };
                let initial = diff.initial;
                let snoozes = Arc::clone(&snoozes);
                let geo = geoip.read().ok().and_then(|g| g.clone());
                let result = tokio::task::spawn_blocking(move || -> Observed {
                    // Each write on its own: a failing audit database must neither lose
                    // the outcomes taken out of `pending` (they are kept to write again)
                    // nor silence the alerts (they are announced even when they cannot
                    // be stored; a duplicate is better than a missed SuperUser sign-in).
                    let mut errors = Vec::new();
                    let mut unrecorded = Vec::new();
                    for (id, state) in outcomes {
                        if let Err(e) = audit.record(id, state, None, None, None) {
                            errors.push(e.context("recording an action's outcome"));
                            unrecorded.push((id, state));
                        }
                    }
                    // Rules first: "never seen from this IP" must not see this poll's sessions.
                    let locate = |ip: &str| geo.as_ref().and_then(|g| g.locate(ip));
                    let view = rules::TenantView {
                        tenant: &t,
                        settings: &config.settings,
                        calendar: config.calendar.as_ref(),
                        sessions: &current,
                        ip_seen_before: &|user, ip| audit.ip_seen(&t, user, ip).unwrap_or(true),
                        locate: geo.is_some().then_some(&locate as &rules::Locate<'_>),
                        now: chrono::Utc::now(),
                    };
                    let fired = rules::evaluate(&view, &started, initial);
                    let fresh = audit.dedupe_alerts(&t, &fired).unwrap_or_else(|e| {
                        errors.push(e.context("checking alerts against those already raised"));
                        vec![true; fired.len()]
                    });
                    let mut new: Vec<Alert> = fired
                        .into_iter()
                        .zip(fresh)
                        .filter(|(_, f)| *f)
                        .map(|((a, _), _)| a)
                        .collect();
                    if initial && !config.settings.alert_on_existing {
                        // What the first poll finds is remembered, not announced.
                        new.clear();
                    }
                    // Snoozed rules are recorded (so they do not fire later) but not announced.
                    new.retain_mut(|a| {
                        a.rules.retain(|r| !snoozed(&snoozes, &t, *r));
                        match a.rules.first() {
                            Some(first) => {
                                a.rule = *first;
                                true
                            }
                            None => false,
                        }
                    });
                    let out = rules::digest(new, config.settings.digest_over);
                    for a in &out {
                        if let Err(e) = audit.store_alert(a) {
                            errors.push(e.context("storing an alert"));
                        }
                    }
                    if let Err(e) = audit.observe(&t, &started, &ended, &|id| vigil_ended.contains(id)) {
                        errors.push(e.context("recording session history"));
                    }
                    Observed {
                        alerts: out,
                        unrecorded,
                        errors,
                    }
                })
                .await;
                match result {
                    Ok(observed) => {
                        for e in &observed.errors {
                            tracing::error!(tenant = %tenant, error = %e, "audit database write failed");
                        }
                        // Said once when it starts failing (again), not every poll.
                        match observed.errors.first() {
                            Some(e) if !audit_failing => {
                                audit_failing = true;
                                let mut a = rules::tenant_problem(&tenant, &e.payload(), chrono::Utc::now());
                                a.message = format!(
                                    "the audit database cannot be written ({}); alerts are still shown, history and outcomes wait",
                                    e.message
                                );
                                let _ = alerts.send(a);
                            }
                            Some(_) => {}
                            None => audit_failing = false,
                        }
                        if !observed.unrecorded.is_empty() {
                            // Written again after the next poll of any tenant.
                            retry_outcomes.extend(observed.unrecorded);
                        }
                        let out = observed.alerts;
                        let max = alert_config
                            .read()
                            .ok()
                            .and_then(|m| m.get(&tenant).map(|c| c.settings.max_per_minute))
                            .unwrap_or_else(|| AlertSettings::default().max_per_minute);
                        for a in limiter.admit(&tenant, max, out, chrono::Utc::now()) {
                            let _ = alerts.send(a);
                        }
                    }
                    Err(e) => {
                        tracing::error!(tenant = %tenant, error = %e, "audit/history task failed")
                    }
                }
            }
        });
    }

    pub fn audit(&self) -> Option<&AuditLog> {
        self.audit.as_ref()
    }

    /// New alerts, after deduplication and digests (needs an audit log).
    pub fn subscribe_alerts(&self) -> broadcast::Receiver<Alert> {
        self.alerts.subscribe()
    }

    /// No alerts of `rule` for `tenant` for `minutes` (0 lifts a snooze). With an audit
    /// log the snooze is stored there and outlives a restart.
    pub fn snooze(&self, tenant: &str, rule: rules::Rule, minutes: u32) {
        let until = (minutes > 0)
            .then(|| chrono::Utc::now() + chrono::Duration::minutes(i64::from(minutes)));
        if let Ok(mut m) = self.snoozes.lock() {
            match until {
                None => m.remove(&(tenant.to_owned(), rule)),
                Some(u) => m.insert((tenant.to_owned(), rule), u),
            };
        }
        if let Some(audit) = &self.audit
            && let Err(e) = audit.set_snooze(tenant, rule, until)
        {
            tracing::warn!(%tenant, rule = rule.as_str(), error = %e, "snooze not stored; it ends with the app");
        }
    }

    /// Sets how a tenant's sessions are judged.
    pub fn set_alert_config(&self, tenant: &str, config: AlertConfig) {
        if let Ok(mut m) = self.alert_config.write() {
            m.insert(tenant.to_owned(), config);
        }
    }

    /// L7: one alert when a tenant starts failing (again after it recovered).
    fn spawn_problem_watch(&self) {
        let mut rx = self.store.subscribe();
        let store = self.store.clone();
        let alerts = self.alerts.clone();
        let config = Arc::clone(&self.alert_config);
        let cancel = self.cancel.clone();
        let snoozes = Arc::clone(&self.snoozes);
        self.runtime.spawn(async move {
            let mut failing: std::collections::HashSet<String> = std::collections::HashSet::new();
            loop {
                let ev = tokio::select! {
                    () = cancel.cancelled() => return,
                    e = rx.recv() => match e {
                        Ok(e) => e,
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                };
                let Some(health) = store.health(&ev.tenant) else {
                    continue;
                };
                match health.error {
                    Some(err) => {
                        let on = config
                            .read()
                            .ok()
                            .and_then(|m| m.get(&ev.tenant).map(|c| c.settings.clone()))
                            .unwrap_or_default();
                        let muted = !on.tenant_problems
                            || on.muted.contains(&rules::Rule::TenantProblem)
                            || snoozed(&snoozes, &ev.tenant, rules::Rule::TenantProblem);
                        if failing.insert(ev.tenant.clone()) && !muted {
                            let _ = alerts.send(rules::tenant_problem(
                                &ev.tenant,
                                &err,
                                chrono::Utc::now(),
                            ));
                        }
                    }
                    None => {
                        failing.remove(&ev.tenant);
                    }
                }
            }
        });
    }

    pub fn store(&self) -> &SessionStore {
        &self.store
    }

    /// Each poll's diff (alerts and history subscribe here).
    pub fn subscribe_diffs(&self) -> broadcast::Receiver<TenantDiff> {
        self.diffs.subscribe()
    }

    /// Adds a tenant and starts polling it at once.
    pub fn add_tenant(&self, connector: Arc<dyn Connector>, interval: Duration) -> Result<()> {
        // Every tenant runs behind the guard (limits, panics, target ids); a connector from
        // `connector::build` already does, with its tenant's own limits.
        let connector = crate::connector::guard::guard(connector, crate::model::Limits::default());
        let name = connector.tenant().to_string();
        let mut tenants = self
            .tenants
            .write()
            .map_err(|_| Error::internal("engine lock poisoned"))?;
        if tenants.contains_key(&name) {
            return Err(Error::invalid_input(format!(
                "tenant {name:?} already exists"
            )));
        }
        self.store
            .register_tenant(connector.tenant(), connector.kind());
        self.store
            .set_capabilities(connector.tenant(), connector.capabilities());
        let handle = TenantHandle {
            connector: Arc::clone(&connector),
            refresh: Arc::new(Notify::new()),
            cancel: self.cancel.child_token(),
        };
        let poller = Poller {
            connector,
            store: self.store.clone(),
            policy: PollPolicy {
                interval,
                poll_timeout: interval.saturating_mul(6).max(Duration::from_secs(60)),
            },
            refresh: Arc::clone(&handle.refresh),
            cancel: handle.cancel.clone(),
            diffs: self.diffs.clone(),
            paused: self.paused.subscribe(),
            geoip: Arc::clone(&self.geoip),
            polled_once: Arc::default(),
        };
        self.runtime.spawn(poller.supervise());
        tenants.insert(name, handle);
        Ok(())
    }

    /// Shows a tenant that cannot be polled (no secret, keychain locked …) with its error,
    /// so it is visible and stale rather than silently missing.
    pub fn add_unusable_tenant(&self, name: &str, kind: ConnectorKind, error: &Error) {
        let name: Arc<str> = Arc::from(name);
        self.store.register_tenant(&name, kind);
        self.store.record_error(&name, error, Duration::ZERO);
    }

    /// Stops polling a tenant and forgets its sessions. Unknown names are not an error.
    pub fn remove_tenant(&self, name: &str) -> Result<()> {
        let handle = self
            .tenants
            .write()
            .map_err(|_| Error::internal("engine lock poisoned"))?
            .remove(name);
        if let Some(h) = handle {
            h.cancel.cancel();
        }
        self.store.remove_tenant(name);
        Ok(())
    }

    /// The connector of a running tenant.
    pub fn connector(&self, name: &str) -> Option<Arc<dyn Connector>> {
        self.tenants
            .read()
            .ok()?
            .get(name)
            .map(|h| Arc::clone(&h.connector))
    }

    /// Uses (or, with `None`, stops using) a GeoIP city database from the next poll on.
    pub fn set_geoip(&self, geoip: Option<Arc<crate::geoip::GeoIp>>) {
        if let Ok(mut g) = self.geoip.write() {
            tracing::info!(path = geoip.as_ref().map(|g| g.path()), "GeoIP database");
            *g = geoip;
        }
    }

    /// Pauses or resumes polling of every tenant. While paused, a Refresh still polls once.
    pub fn set_paused(&self, paused: bool) {
        self.paused.send_replace(paused);
        tracing::info!(
            paused,
            "polling {}",
            if paused { "paused" } else { "resumed" }
        );
    }

    pub fn is_paused(&self) -> bool {
        *self.paused.borrow()
    }

    /// Polls now: one tenant, or all.
    pub fn refresh(&self, tenant: Option<&str>) {
        let Ok(tenants) = self.tenants.read() else {
            return;
        };
        for (name, h) in tenants.iter() {
            if tenant.is_none_or(|t| t == name) {
                h.refresh.notify_one();
            }
        }
    }

    /// The running connectors by tenant name.
    pub fn connectors(&self) -> HashMap<String, Arc<dyn Connector>> {
        self.tenants
            .read()
            .map(|t| {
                t.iter()
                    .map(|(k, v)| (k.clone(), Arc::clone(&v.connector)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Ends sessions and polls the tenants involved at once, so the result shows quickly.
    pub async fn end_sessions(&self, targets: Vec<SessionRef>) -> ActionReport {
        self.act(ActionKind::EndSession, targets).await
    }

    /// Runs an audited action (for user actions each target's `session_id` is a user id),
    /// then polls the tenants involved; the next polls confirm each accepted item.
    pub async fn act(&self, kind: ActionKind, targets: Vec<SessionRef>) -> ActionReport {
        self.act_on_users(kind, targets, &HashMap::new()).await
    }

    /// [`Engine::act`] with the tenant's own records of user targets (by user id), for
    /// users the store may not know: the guards check those records.
    pub async fn act_on_users(
        &self,
        kind: ActionKind,
        targets: Vec<SessionRef>,
        users: &HashMap<String, crate::model::User>,
    ) -> ActionReport {
        self.act_as(actions::new_action_id(), kind, targets, users)
            .await
    }

    /// [`Engine::act_on_users`] as a step of the action `action_id`.
    pub async fn act_as(
        &self,
        action_id: String,
        kind: ActionKind,
        targets: Vec<SessionRef>,
        users: &HashMap<String, crate::model::User>,
    ) -> ActionReport {
        let tenants: std::collections::BTreeSet<String> =
            targets.iter().map(|t| t.tenant.clone()).collect();
        let connectors = self.connectors();
        let ctx = actions::Context {
            connectors: &connectors,
            store: Some(&self.store),
            audit: self.audit.as_ref(),
            actor: &self.actor,
        };
        let report = actions::run_as(&ctx, action_id, kind, targets, users).await;
        if let Ok(mut c) = self.confirmations.lock() {
            for item in report.items.iter().filter(|i| i.ok) {
                let key = (item.target.tenant.clone(), item.target.session_id.clone());
                if kind == ActionKind::EndSession {
                    c.ended_by_vigil.insert(key.clone());
                }
                let observable = kind.ends_sessions();
                if let (Some(audit_id), true) = (item.audit_id, observable) {
                    c.pending.insert(
                        key,
                        Pending {
                            audit_id,
                            kind,
                            polls_seen: 0,
                        },
                    );
                }
            }
        }
        for t in tenants {
            self.refresh(Some(&t));
        }
        report
    }

    pub fn shutdown(&self) {
        self.cancel.cancel();
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
