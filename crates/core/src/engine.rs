//! The engine both shells drive: tenants, their pollers, the store and actions.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use crate::actions::{self, ActionReport};
use crate::alerts::{self as rules, Alert};
use crate::audit::{ActionKind, AuditLog};
use crate::connector::Connector;
use crate::error::{Error, Result};
use crate::model::{ConnectorKind, SessionRef};
use crate::observer::{Confirmations, Observer, Pending, Snoozes, snoozed};
use crate::poll::{PollPolicy, Poller, TenantDiff};
use crate::routing::dispatch::{Dispatcher, Routes, SharedRoutes};
use crate::store::SessionStore;
use crate::tuning::AlertConfig;

struct TenantHandle {
    connector: Arc<dyn Connector>,
    refresh: Arc<Notify>,
    cancel: CancellationToken,
}

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
    /// The alert routes, and the dispatcher's wake-up when the outbox has new deliveries.
    routes: SharedRoutes,
    outbox: Arc<Notify>,
    /// The shared audit store being fed, with the replicator's status and its stop.
    shared_audit: std::sync::Mutex<Option<SharedAuditRun>>,
}

struct SharedAuditRun {
    config: crate::shared_audit::SharedAuditConfig,
    status: Arc<RwLock<crate::shared_audit::ReplicaStatus>>,
    stop: CancellationToken,
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
            routes: Arc::new(RwLock::new(Routes::default())),
            outbox: Arc::new(Notify::new()),
            shared_audit: std::sync::Mutex::new(None),
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

    /// Follows every poll (see [`crate::observer`]).
    fn spawn_observer(&self) {
        let observer = Observer {
            store: self.store.clone(),
            audit: self.audit.clone(),
            confirmations: Arc::clone(&self.confirmations),
            alert_config: Arc::clone(&self.alert_config),
            alerts: self.alerts.clone(),
            snoozes: Arc::clone(&self.snoozes),
            geoip: Arc::clone(&self.geoip),
            limiter: rules::RateLimiter::default(),
            retry_outcomes: Vec::new(),
            audit_failing: false,
            last_age_scan: HashMap::new(),
            routes: Arc::clone(&self.routes),
            outbox: Arc::clone(&self.outbox),
        };
        self.runtime
            .spawn(observer.run(self.diffs.subscribe(), self.cancel.clone()));
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

    /// Sets where alerts go (`[[alerts.routes]]`) and each tenant's tags for their scopes.
    pub fn set_routes(&self, routes: Routes) {
        if let Ok(mut r) = self.routes.write() {
            *r = routes;
        }
        self.outbox.notify_one();
    }

    /// Starts delivering the alert outbox (needs an audit log), with route secrets from
    /// `secrets`; a failed delivery is retried after `retry_base`, doubling (the shells
    /// pass [`crate::routing::dispatch::RETRY_BASE`]). Call once.
    pub fn start_dispatcher(
        &self,
        secrets: Arc<dyn crate::secrets::SecretStore>,
        retry_base: Duration,
    ) {
        if let Some(audit) = &self.audit {
            let mut d = Dispatcher::new(
                audit.clone(),
                Arc::clone(&self.routes),
                secrets,
                Arc::clone(&self.outbox),
            );
            d.retry_base = retry_base;
            self.runtime.spawn(d.run(self.cancel.clone()));
        }
    }

    /// Feeds the team's shared audit store from this engine's audit log every `every`
    /// (stopping any earlier feed); `None` stops feeding. Needs an audit log.
    pub fn set_shared_audit(
        &self,
        shared: Option<(
            crate::shared_audit::SharedAuditConfig,
            Option<crate::SecretString>,
        )>,
        every: Duration,
    ) {
        let Ok(mut slot) = self.shared_audit.lock() else {
            return;
        };
        if let Some(old) = slot.take() {
            old.stop.cancel();
        }
        let (Some((config, password)), Some(audit)) = (shared, self.audit.clone()) else {
            return;
        };
        let status = Arc::new(RwLock::new(crate::shared_audit::ReplicaStatus::default()));
        let stop = self.cancel.child_token();
        self.runtime.spawn(crate::shared_audit::run_replicator(
            audit,
            config.clone(),
            password,
            Arc::clone(&status),
            every,
            stop.clone(),
        ));
        *slot = Some(SharedAuditRun {
            config,
            status,
            stop,
        });
    }

    /// The shared audit store being fed and how replication goes.
    pub fn shared_audit(
        &self,
    ) -> Option<(
        crate::shared_audit::SharedAuditConfig,
        crate::shared_audit::ReplicaStatus,
    )> {
        let slot = self.shared_audit.lock().ok()?;
        let run = slot.as_ref()?;
        let status = run.status.read().ok()?.clone();
        Some((run.config.clone(), status))
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
        let audit = self.audit.clone();
        let routes = Arc::clone(&self.routes);
        let outbox = Arc::clone(&self.outbox);
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
                            let alert = rules::tenant_problem(&ev.tenant, &err, chrono::Utc::now());
                            if let Some(audit) = audit.clone() {
                                let a = alert.clone();
                                let routes = Arc::clone(&routes);
                                let stored = tokio::task::spawn_blocking(move || {
                                    let id = audit.store_alert(&a)?;
                                    let names: Vec<String> = routes
                                        .read()
                                        .map(|r| r.matching(&a).into_iter().map(str::to_owned).collect())
                                        .unwrap_or_default();
                                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                                    audit.enqueue(Some(id), &a, &names)
                                })
                                .await;
                                match stored {
                                    Ok(Ok(ids)) if !ids.is_empty() => outbox.notify_one(),
                                    Ok(Ok(_)) => {}
                                    Ok(Err(e)) => tracing::error!(tenant = %ev.tenant, error = %e, "a tenant problem alert could not be stored"),
                                    Err(e) => tracing::error!(error = %e, "alert task failed"),
                                }
                            }
                            let _ = alerts.send(alert);
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
