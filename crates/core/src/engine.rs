//! The engine both shells drive: tenants, their pollers, the store and actions.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use crate::actions::{self, ActionReport};
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

/// Owns the pollers. Dropping the engine (or [`Engine::shutdown`]) stops them.
pub struct Engine {
    runtime: tokio::runtime::Handle,
    store: SessionStore,
    tenants: RwLock<HashMap<String, TenantHandle>>,
    cancel: CancellationToken,
    diffs: broadcast::Sender<TenantDiff>,
}

impl Engine {
    /// `runtime` runs the pollers (the shells own their runtime).
    pub fn new(runtime: tokio::runtime::Handle) -> Self {
        let (diffs, _) = broadcast::channel(1024);
        Self {
            runtime,
            store: SessionStore::new(),
            tenants: RwLock::new(HashMap::new()),
            cancel: CancellationToken::new(),
            diffs,
        }
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
                poll_timeout: (interval * 6).max(Duration::from_secs(60)),
            },
            refresh: Arc::clone(&handle.refresh),
            cancel: handle.cancel.clone(),
            diffs: self.diffs.clone(),
        };
        self.runtime.spawn(poller.run());
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

    fn connectors(&self) -> HashMap<String, Arc<dyn Connector>> {
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
        let tenants: Vec<String> = targets.iter().map(|t| t.tenant.clone()).collect();
        let report = actions::end_sessions(&self.connectors(), Some(&self.store), targets).await;
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
