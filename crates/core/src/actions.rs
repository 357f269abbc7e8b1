//! Actions on sessions. Each target reports on its own; bulk actions run with bounded
//! concurrency per tenant.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::connector::{Connector, EndOutcome};
use crate::error::{Error, ErrorCode, ErrorPayload};
use crate::model::SessionRef;
use crate::store::SessionStore;

/// Requests in flight at once against one tenant.
pub const CONCURRENCY_PER_TENANT: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ActionItem {
    pub target: SessionRef,
    pub ok: bool,
    /// The session had already ended: the goal state holds, so this is a success.
    pub already_gone: bool,
    pub error: Option<ErrorPayload>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ActionReport {
    pub items: Vec<ActionItem>,
}

impl ActionReport {
    pub fn failed(&self) -> usize {
        self.items.iter().filter(|i| !i.ok).count()
    }
}

/// Ends sessions. `connectors` maps tenant names to their connectors.
pub async fn end_sessions(
    connectors: &HashMap<String, Arc<dyn Connector>>,
    store: Option<&SessionStore>,
    targets: Vec<SessionRef>,
) -> ActionReport {
    let mut by_tenant: HashMap<String, Vec<SessionRef>> = HashMap::new();
    for t in targets {
        by_tenant.entry(t.tenant.clone()).or_default().push(t);
    }
    let per_tenant = by_tenant.into_iter().map(|(tenant, targets)| {
        let connector = connectors.get(&tenant).cloned();
        async move {
            let Some(connector) = connector else {
                let e = Error::invalid_input(format!("unknown tenant {tenant:?}"));
                return targets
                    .into_iter()
                    .map(|t| failed(t, &e))
                    .collect::<Vec<_>>();
            };
            futures::stream::iter(targets)
                .map(|t| {
                    let connector = Arc::clone(&connector);
                    async move { end_one(connector.as_ref(), store, t).await }
                })
                .buffered(CONCURRENCY_PER_TENANT)
                .collect::<Vec<_>>()
                .await
        }
    });
    let items = futures::future::join_all(per_tenant)
        .await
        .into_iter()
        .flatten()
        .collect();
    ActionReport { items }
}

async fn end_one(
    connector: &dyn Connector,
    store: Option<&SessionStore>,
    target: SessionRef,
) -> ActionItem {
    if target.session_id.is_empty() || target.session_id.len() > 512 {
        return failed(target, &Error::invalid_input("invalid session id"));
    }
    if let Some(s) = store.and_then(|st| st.get(&target.tenant, &target.session_id)) {
        if s.current {
            let e = Error::new(
                ErrorCode::Conflict,
                "this is Vigil's own session on the tenant; ending it would cut Vigil off",
            );
            return failed(target, &e);
        }
    }
    match connector.end_session(&target.session_id).await {
        Ok(EndOutcome::Ended) => ActionItem {
            target,
            ok: true,
            already_gone: false,
            error: None,
        },
        Ok(EndOutcome::AlreadyGone) => ActionItem {
            target,
            ok: true,
            already_gone: true,
            error: None,
        },
        Err(e) => {
            let e = e.context(format!("tenant {}", target.tenant));
            failed(target, &e)
        }
    }
}

fn failed(target: SessionRef, e: &Error) -> ActionItem {
    ActionItem {
        target,
        ok: false,
        already_gone: false,
        error: Some(e.payload()),
    }
}
