//! Actions on sessions and users, audited. Each target reports on its own; bulk actions
//! run with bounded concurrency per tenant.
//!
//! Order of events for every item: the intent is written to the audit log (and synced)
//! before the request goes out; the result is appended after it. If the audit log cannot
//! be written, nothing is sent.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::audit::{ActionKind, AuditLog, ItemState, NewItem};
use crate::connector::{Connector, EndOutcome};
use crate::error::{Error, ErrorCode, ErrorPayload};
use crate::model::{SessionRef, User};
use crate::store::SessionStore;

/// Requests in flight at once against one tenant.
pub const CONCURRENCY_PER_TENANT: usize = 4;

/// The most targets one action from the window takes (and one selection picks).
pub const MAX_TARGETS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ActionItem {
    /// The session (for `end_session`); for user actions `session_id` holds the user id.
    pub target: SessionRef,
    pub ok: bool,
    /// The session had already ended: the goal state holds, so this is a success.
    pub already_gone: bool,
    pub error: Option<ErrorPayload>,
    /// The audit log entry of this item.
    pub audit_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ActionReport {
    /// Groups the items of this action in the audit log.
    pub action_id: String,
    pub items: Vec<ActionItem>,
}

impl ActionReport {
    pub fn failed(&self) -> usize {
        self.items.iter().filter(|i| !i.ok).count()
    }
}

/// What an action needs besides its targets.
pub struct Context<'a> {
    pub connectors: &'a HashMap<String, Arc<dyn Connector>>,
    pub store: Option<&'a SessionStore>,
    pub audit: Option<&'a AuditLog>,
    /// Who acts: the operator and the identity Vigil uses on the tenant.
    pub actor: &'a str,
}

/// A target ready to run: its audit entry, or the guard's refusal.
type Prepared = (SessionRef, Option<i64>, Option<Error>);

/// A unique id for one action (time-ordered, random suffix).
pub fn new_action_id() -> String {
    use rand::Rng;
    format!(
        "{}-{:06x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%3f"),
        rand::rng().random_range(0..0xFF_FFFF)
    )
}

use crate::task::blocking;

/// Runs `kind` on every target: audit intent first, then the requests, then the results.
///
/// `users` holds the tenant's own records of user targets, by user id, looked up for
/// this action (a user without sessions is unknown to the store).
pub async fn run(
    ctx: &Context<'_>,
    kind: ActionKind,
    targets: Vec<SessionRef>,
    users: &HashMap<String, User>,
) -> ActionReport {
    run_as(ctx, new_action_id(), kind, targets, users).await
}

/// [`run`] as part of the action `action_id` (several steps of one response share it).
pub async fn run_as(
    ctx: &Context<'_>,
    action_id: String,
    kind: ActionKind,
    targets: Vec<SessionRef>,
    users: &HashMap<String, User>,
) -> ActionReport {
    // Guards and user names, before anything is written or sent.
    let prepared: Vec<(SessionRef, Option<String>, Option<Error>)> = targets
        .into_iter()
        .map(|t| {
            let known = users.get(&t.session_id);
            let (user, refusal) = guard(ctx.store, kind, &t, known);
            let user = user.or_else(|| known.map(|u| u.username.to_string()));
            (t, user, refusal)
        })
        .collect();
    let items: Vec<NewItem> = prepared
        .iter()
        .map(|(t, user, _)| NewItem {
            action_id: action_id.clone(),
            actor: ctx.actor.to_owned(),
            tenant: t.tenant.clone(),
            action: kind,
            target: t.session_id.clone(),
            target_user: user.clone(),
        })
        .collect();
    let ids: Vec<Option<i64>> = match ctx.audit {
        Some(audit) => {
            let audit = audit.clone();
            match blocking(move || audit.begin(&items)).await {
                Ok(ids) => ids.into_iter().map(Some).collect(),
                Err(e) => {
                    // Never act without a record.
                    let e = e.context("the audit log could not be written; nothing was sent");
                    let items = prepared
                        .into_iter()
                        .map(|(t, _, _)| failed(t, &e, None))
                        .collect();
                    return ActionReport { action_id, items };
                }
            }
        }
        None => vec![None; prepared.len()],
    };

    let mut by_tenant: HashMap<String, Vec<Prepared>> = HashMap::new();
    for ((t, _, refusal), id) in prepared.into_iter().zip(ids) {
        by_tenant
            .entry(t.tenant.clone())
            .or_default()
            .push((t, id, refusal));
    }
    let per_tenant = by_tenant.into_iter().map(|(tenant, targets)| {
        let connector = ctx.connectors.get(&tenant).cloned();
        async move {
            futures::stream::iter(targets)
                .map(|(t, id, refusal)| {
                    let connector = connector.clone();
                    async move {
                        let outcome = match (refusal, connector) {
                            (Some(e), _) => Err(e),
                            (None, None) => Err(Error::invalid_input(format!(
                                "unknown tenant {:?}",
                                t.tenant
                            ))),
                            (None, Some(c)) => perform(c.as_ref(), kind, &t.session_id).await,
                        };
                        finish(ctx.audit, t, id, outcome).await
                    }
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
    ActionReport { action_id, items }
}

/// Why the guards refuse `kind` on `target` before any request, if they do (see
/// [`run`]); for plans that list what will and will not happen.
pub fn refusal(
    store: Option<&SessionStore>,
    kind: ActionKind,
    target: &SessionRef,
    known: Option<&User>,
) -> Option<Error> {
    guard(store, kind, target, known).1
}

/// Refusals that need no request, and the user name for the record.
///
/// `known` is the tenant's own record of the target user, looked up for this action
/// (the CLI names users, so it has one); otherwise the store's, which knows only users
/// with sessions. A user action on a user neither knows is refused rather than guessed:
/// a protected account without a live session must not slip through.
fn guard(
    store: Option<&SessionStore>,
    kind: ActionKind,
    t: &SessionRef,
    known: Option<&User>,
) -> (Option<String>, Option<Error>) {
    if let Err(e) = crate::connector::guard::check_id(&t.session_id) {
        return (None, Some(e));
    }
    let conflict = |user: Option<String>, why: &str| {
        (user, Some(Error::new(ErrorCode::Conflict, why.to_owned())))
    };
    if kind == ActionKind::EndSession {
        return match store.and_then(|s| s.get(&t.tenant, &t.session_id)) {
            Some(s) if s.current => conflict(
                Some(s.username.to_string()),
                "this is Vigil's own session on the tenant; ending it would cut Vigil off",
            ),
            Some(s) => (Some(s.username.to_string()), None),
            None => (None, None),
        };
    }
    let stored = store.and_then(|s| s.user_of(&t.tenant, &t.session_id));
    // Protected if either record says so: the tenant's fresh one or what the polls saw.
    let stored_protected = stored.as_ref().is_some_and(|u| u.protected || u.superuser);
    let user = known.cloned().or(stored).map(|mut u| {
        u.protected |= stored_protected;
        u
    });
    let name = user.as_ref().map(|u| u.username.to_string());
    let own = store.is_some_and(|s| s.is_own_user(&t.tenant, &t.session_id));
    match kind {
        ActionKind::Logout
        | ActionKind::Disable
        | ActionKind::DisableOnly
        | ActionKind::RevokeGrants
        | ActionKind::RequirePasswordChange
            if own =>
        {
            conflict(
                name,
                "this is the account Vigil signs in with on the tenant; logging it out, disabling it or revoking its credentials would cut Vigil off",
            )
        }
        ActionKind::Disable | ActionKind::DisableOnly | ActionKind::RequirePasswordChange => {
            match user {
                Some(u) if u.protected || u.superuser => conflict(
                    name,
                    "a protected (administrative or helper) account: its sessions can be ended, the account not disabled nor its password reset",
                ),
                Some(_) => (name, None),
                None if store.is_none() => (None, None),
                None => conflict(
                    None,
                    "Vigil cannot tell whether this account is protected: name the user so the tenant's own record is checked (vigil disable --tenant T NAME)",
                ),
            }
        }
        _ => (name, None),
    }
}

/// The outcome of one request: already gone, or done.
async fn perform(c: &dyn Connector, kind: ActionKind, id: &str) -> Result<bool, Error> {
    match kind {
        ActionKind::EndSession => c
            .end_session(id)
            .await
            .map(|o| o == EndOutcome::AlreadyGone),
        ActionKind::Logout => c.end_user_sessions(id).await.map(|_| false),
        ActionKind::Disable => c.disable_user(id, true).await.map(|_| false),
        ActionKind::DisableOnly => c.disable_user(id, false).await.map(|_| false),
        ActionKind::Enable => c.enable_user(id).await.map(|_| false),
        ActionKind::RevokeGrants => c.revoke_grants(id).await.map(|_| false),
        ActionKind::RequirePasswordChange => c.require_password_change(id).await.map(|_| false),
    }
}

async fn finish(
    audit: Option<&AuditLog>,
    target: SessionRef,
    id: Option<i64>,
    outcome: Result<bool, Error>,
) -> ActionItem {
    let (state, status, code, message) = match &outcome {
        Ok(gone) => (
            ItemState::Accepted,
            None,
            None,
            gone.then(|| "already gone".to_owned()),
        ),
        Err(e) => (
            ItemState::Failed,
            e.http_status,
            Some(e.code.as_str().to_owned()),
            Some(e.message.clone()),
        ),
    };
    let mut recorded = Ok(());
    if let (Some(audit), Some(item)) = (audit, id) {
        let audit = audit.clone();
        recorded = blocking(move || {
            audit.record(item, state, status, code.as_deref(), message.as_deref())
        })
        .await;
    }
    let mut item = match outcome {
        Ok(gone) => ActionItem {
            target,
            ok: true,
            already_gone: gone,
            error: None,
            audit_id: id,
        },
        Err(e) => failed(target, &e, id),
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, "an action's result could not be appended to the audit log");
        item.error.get_or_insert(e.payload());
    }
    item
}

fn failed(target: SessionRef, e: &Error, audit_id: Option<i64>) -> ActionItem {
    ActionItem {
        target,
        ok: false,
        already_gone: false,
        error: Some(e.payload()),
        audit_id,
    }
}
