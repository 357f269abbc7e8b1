//! What follows every poll, step by step: confirm accepted actions (or flag them when the
//! target is still there two polls later), gather what the alert rules look at, write
//! outcomes, alerts and session history to the database, and announce the alerts within
//! each tenant's rate limit.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::alerts::{self as rules, Alert, AlertSettings};
use crate::audit::{ActionKind, AuditLog, ItemState};
use crate::error::Error;
use crate::model::Session;
use crate::poll::TenantDiff;
use crate::routing::dispatch::SharedRoutes;
use crate::store::SessionStore;
use crate::tuning::AlertConfig;

/// An accepted action waiting for a poll to show its effect.
pub(crate) struct Pending {
    pub audit_id: i64,
    pub kind: ActionKind,
    /// Polls of the tenant since acceptance that still showed the target.
    pub polls_seen: u8,
}

/// Accepted actions awaiting confirmation, and sessions Vigil ended (for history).
#[derive(Default)]
pub(crate) struct Confirmations {
    pub pending: HashMap<(String, String), Pending>,
    pub ended_by_vigil: HashSet<(String, String)>,
}

/// Rules snoozed per tenant, until a time.
pub(crate) type Snoozes =
    Arc<std::sync::Mutex<HashMap<(String, rules::Rule), chrono::DateTime<chrono::Utc>>>>;

pub(crate) fn snoozed(snoozes: &Snoozes, tenant: &str, rule: rules::Rule) -> bool {
    snoozes
        .lock()
        .ok()
        .and_then(|m| m.get(&(tenant.to_owned(), rule)).copied())
        .is_some_and(|until| until > chrono::Utc::now())
}

/// What the observer wrote for one poll, and what it could not write.
struct Observed {
    /// The alerts to announce (suppressed ones are stored, not announced).
    alerts: Vec<Alert>,
    /// Whether deliveries were queued for the alert routes.
    queued: bool,
    /// Outcomes the audit database refused (kept to write again).
    unrecorded: Vec<(i64, ItemState)>,
    errors: Vec<Error>,
}

/// How often the long-session rule scans a tenant (it fires after days, not seconds).
const AGE_SCAN_EVERY: Duration = Duration::from_secs(60);

/// The observer's state between polls; the engine starts one.
pub(crate) struct Observer {
    pub store: SessionStore,
    pub audit: Option<AuditLog>,
    pub confirmations: Arc<std::sync::Mutex<Confirmations>>,
    pub alert_config: Arc<RwLock<HashMap<String, AlertConfig>>>,
    pub alerts: broadcast::Sender<Alert>,
    pub snoozes: Snoozes,
    pub geoip: crate::geoip::SharedGeoIp,
    pub limiter: rules::RateLimiter,
    /// Confirmations the audit database refused, written again with the next poll.
    pub retry_outcomes: Vec<(i64, ItemState)>,
    /// Whether the audit database failed last time (said once when it starts failing).
    pub audit_failing: bool,
    pub last_age_scan: HashMap<String, Instant>,
    /// The alert routes, and the dispatcher to wake when the outbox has new deliveries.
    pub routes: SharedRoutes,
    pub outbox: Arc<tokio::sync::Notify>,
}

/// What one poll's write needs, moved to a blocking thread.
struct Writes {
    tenant: String,
    outcomes: Vec<(i64, ItemState)>,
    vigil_ended: HashSet<String>,
    config: AlertConfig,
    current: Vec<Session>,
    started: Vec<Arc<Session>>,
    ended: Vec<Arc<Session>>,
    initial: bool,
    snoozes: Snoozes,
    geo: Option<Arc<crate::geoip::GeoIp>>,
    routes: SharedRoutes,
}

impl Observer {
    /// Follows every poll until the engine is cancelled.
    pub async fn run(mut self, mut rx: broadcast::Receiver<TenantDiff>, cancel: CancellationToken) {
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
            self.on_poll(diff).await;
        }
    }

    async fn on_poll(&mut self, diff: TenantDiff) {
        let tenant = diff.tenant.to_string();
        let (outcomes, vigil_ended) = self.confirm(&tenant, &diff);
        let Some(audit) = self.audit.clone() else {
            return;
        };
        let config = self
            .alert_config
            .read()
            .ok()
            .and_then(|m| m.get(&tenant).cloned())
            .unwrap_or_default();
        let current = self.rule_inputs(&tenant, &diff, &config);
        let writes = Writes {
            tenant: tenant.clone(),
            outcomes,
            vigil_ended,
            config,
            current,
            started: diff.diff.started.clone(),
            ended: diff.diff.ended.clone(),
            initial: diff.initial,
            snoozes: Arc::clone(&self.snoozes),
            geo: self.geoip.read().ok().and_then(|g| g.clone()),
            routes: Arc::clone(&self.routes),
        };
        match tokio::task::spawn_blocking(move || write(&audit, writes)).await {
            Ok(observed) => self.announce(&tenant, observed),
            Err(e) => tracing::error!(tenant = %tenant, error = %e, "audit/history task failed"),
        }
    }

    /// Step 1: the accepted actions of this tenant that the poll confirms or flags (with
    /// the outcomes the database refused before), and the sessions Vigil ended.
    fn confirm(
        &mut self,
        tenant: &str,
        diff: &TenantDiff,
    ) -> (Vec<(i64, ItemState)>, HashSet<String>) {
        let mut c = self
            .confirmations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut outcomes = std::mem::take(&mut self.retry_outcomes);
        let complete = diff.complete;
        let store = &self.store;
        c.pending.retain(|(t, target), p| {
            // An incomplete listing neither confirms nor flags: what it did not see may
            // or may not be there.
            if t != tenant || !complete {
                return true;
            }
            let still_there = match p.kind {
                ActionKind::EndSession => store.get(t, target).is_some(),
                ActionKind::Logout | ActionKind::Disable => store.session_count_of(t, target) > 0,
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
        let ended: HashSet<String> = diff
            .diff
            .ended
            .iter()
            .filter(|s| {
                c.ended_by_vigil
                    .remove(&(tenant.to_owned(), s.id.to_string()))
            })
            .map(|s| s.id.to_string())
            .collect();
        (outcomes, ended)
    }

    /// Step 2: only what the rules look at: the sessions of users who just signed in and
    /// those past the age limit (not a copy of the whole tenant every poll).
    fn rule_inputs(
        &mut self,
        tenant: &str,
        diff: &TenantDiff,
        config: &AlertConfig,
    ) -> Vec<Session> {
        let users: HashSet<&str> = diff.diff.started.iter().map(|s| &*s.user_id).collect();
        let now = chrono::Utc::now();
        // The age rule needs a scan of the tenant: at most once a minute.
        let age_due = self
            .last_age_scan
            .get(tenant)
            .is_none_or(|t| t.elapsed() >= AGE_SCAN_EVERY);
        if age_due {
            self.last_age_scan.insert(tenant.to_owned(), Instant::now());
        }
        let too_old = config
            .settings
            .max_session_age_hours
            .filter(|_| age_due)
            .map(|h| now - chrono::Duration::hours(i64::from(h)));
        self.store.rule_sessions(tenant, &users, too_old)
    }

    /// Step 4: errors said (once when the database starts failing), refused outcomes kept
    /// for the next poll, alerts announced within the tenant's rate limit.
    fn announce(&mut self, tenant: &str, observed: Observed) {
        for e in &observed.errors {
            tracing::error!(tenant = %tenant, error = %e, "audit database write failed");
        }
        match observed.errors.first() {
            Some(e) if !self.audit_failing => {
                self.audit_failing = true;
                let mut a = rules::tenant_problem(tenant, &e.payload(), chrono::Utc::now());
                a.message = format!(
                    "the audit database cannot be written ({}); alerts are still shown, history and outcomes wait",
                    e.message
                );
                let _ = self.alerts.send(a);
            }
            Some(_) => {}
            None => self.audit_failing = false,
        }
        // Written again after the next poll of any tenant.
        self.retry_outcomes.extend(observed.unrecorded);
        if observed.queued {
            self.outbox.notify_one();
        }
        let max = self
            .alert_config
            .read()
            .ok()
            .and_then(|m| m.get(tenant).map(|c| c.settings.max_per_minute))
            .unwrap_or_else(|| AlertSettings::default().max_per_minute);
        for a in self
            .limiter
            .admit(tenant, max, observed.alerts, chrono::Utc::now())
        {
            let _ = self.alerts.send(a);
        }
    }
}

/// Step 3, on a blocking thread: outcomes, the rules, stored alerts and history.
///
/// Each write on its own: a failing audit database must neither lose the outcomes taken
/// out of `pending` (they are kept to write again) nor silence the alerts (they are
/// announced even when they cannot be stored; a duplicate is better than a missed
/// SuperUser sign-in).
fn write(audit: &AuditLog, mut w: Writes) -> Observed {
    let mut errors = Vec::new();
    let mut unrecorded = Vec::new();
    for (id, state) in std::mem::take(&mut w.outcomes) {
        if let Err(e) = audit.record(id, state, None, None, None) {
            errors.push(e.context("recording an action's outcome"));
            unrecorded.push((id, state));
        }
    }
    let t = w.tenant.as_str();
    let now = chrono::Utc::now();
    let mut alerts = evaluate(audit, &w, &mut errors);
    let mut queued = false;
    for a in &mut alerts {
        merge(audit, &w.config, a, now, &mut errors);
        match audit.store_alert(a) {
            Ok(id) => {
                let routes = w
                    .routes
                    .read()
                    .map(|r| {
                        r.matching(a)
                            .into_iter()
                            .map(str::to_owned)
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                let routes: Vec<&str> = routes.iter().map(String::as_str).collect();
                match audit.enqueue(Some(id), a, &routes) {
                    Ok(ids) => queued |= !ids.is_empty(),
                    Err(e) => errors.push(e.context("queueing an alert for its routes")),
                }
            }
            Err(e) => errors.push(e.context("storing an alert")),
        }
    }
    alerts.retain(|a| a.suppressed_by.is_none());
    if let Err(e) = audit.observe(t, &w.started, &w.ended, &|id| w.vigil_ended.contains(id)) {
        errors.push(e.context("recording session history"));
    }
    Observed {
        alerts,
        queued,
        unrecorded,
        errors,
    }
}

/// Merges `alert` into the user's alert of the last minutes, when the tenant merges: the
/// earlier one takes its rules and counts it, this one is kept as "merged into #id".
fn merge(
    audit: &AuditLog,
    config: &AlertConfig,
    alert: &mut Alert,
    now: chrono::DateTime<chrono::Utc>,
    errors: &mut Vec<Error>,
) {
    let (Some(window), Some(user), None) = (
        config.tuning.merge,
        alert.username.as_deref(),
        &alert.suppressed_by,
    ) else {
        return;
    };
    match audit.merge_target(&alert.tenant, user, now - window) {
        Ok(Some((id, mut earlier))) => {
            for r in &alert.rules {
                if !earlier.rules.contains(r) {
                    earlier.rules.push(*r);
                }
            }
            earlier.count = earlier.count.saturating_add(alert.count.max(1));
            if let Err(e) = audit.update_alert(id, &earlier) {
                errors.push(e.context("merging an alert"));
                return;
            }
            alert.suppressed_by = Some(format!("merged into alert #{id}"));
        }
        Ok(None) => {}
        Err(e) => errors.push(e.context("looking for an alert to merge into")),
    }
}

/// The rules on this poll, before its sessions are recorded ("never seen from this IP"
/// must not see them): new alerts only, snoozed rules dropped, digested.
fn evaluate(audit: &AuditLog, w: &Writes, errors: &mut Vec<Error>) -> Vec<Alert> {
    let t = w.tenant.as_str();
    let locate = |ip: &str| w.geo.as_ref().and_then(|g| g.locate(ip));
    let view = rules::TenantView {
        tenant: t,
        settings: &w.config.settings,
        calendar: w.config.calendar.as_ref(),
        sessions: &w.current,
        ip_seen_before: &|user, ip| audit.ip_seen(t, user, ip).unwrap_or(true),
        locate: w.geo.is_some().then_some(&locate as &rules::Locate<'_>),
        trusted: &|ip| w.config.tuning.trusted(ip).map(str::to_owned),
        now: chrono::Utc::now(),
    };
    let fired = rules::evaluate(&view, &w.started, w.initial);
    let fresh = audit.dedupe_alerts(t, &fired).unwrap_or_else(|e| {
        errors.push(e.context("checking alerts against those already raised"));
        vec![true; fired.len()]
    });
    let mut new: Vec<Alert> = fired
        .into_iter()
        .zip(fresh)
        .filter(|(_, f)| *f)
        .map(|((a, _), _)| a)
        .collect();
    if w.initial && !w.config.settings.alert_on_existing {
        // What the first poll finds is remembered, not announced.
        new.clear();
    }
    // Snoozed rules are recorded (so they do not fire later) but not announced.
    new.retain_mut(|a| {
        a.rules.retain(|r| !snoozed(&w.snoozes, t, *r));
        match a.rules.first() {
            Some(first) => {
                a.rule = *first;
                true
            }
            None => false,
        }
    });
    // Exclusions in force silence rules of a user (or of everyone).
    let now = chrono::Utc::now();
    for a in &mut new {
        let session = a
            .session_id
            .as_deref()
            .and_then(|id| w.started.iter().find(|s| &*s.id == id));
        w.config.tuning.exclude(
            a,
            session.map(|s| &*s.user_id),
            session.and_then(|s| s.email.as_deref()),
            now,
        );
    }
    // Suppressed alerts are kept as they are; the others may become a digest.
    let (suppressed, open): (Vec<Alert>, Vec<Alert>) =
        new.into_iter().partition(|a| a.suppressed_by.is_some());
    let mut out = rules::digest(open, w.config.settings.digest_over);
    out.extend(suppressed);
    out
}
