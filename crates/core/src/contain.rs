//! Containing a person everywhere: in every tenant where they have an account, disable
//! it, end its sessions, revoke what outlives sessions and require a new password — each
//! step where the tenant can do it, each guarded and audited as one action.
//!
//! Order per tenant: disable first (no new sign-in while sessions end), then end the
//! sessions, then revoke tokens and grants, then the password. A step that fails does not
//! stop the later ones (each closes a door of its own); tenants run side by side.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::actions;
use crate::audit::{ActionKind, AuditFilter, ItemState};
use crate::engine::Engine;
use crate::error::{ErrorCode, ErrorPayload};
use crate::model::{Capabilities, SessionRef, User};
use crate::people::{Person, PersonAccount};

/// Which steps to take (all by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ContainOptions {
    pub disable: bool,
    pub end_sessions: bool,
    pub revoke_grants: bool,
    pub require_password_change: bool,
}

impl Default for ContainOptions {
    fn default() -> Self {
        Self {
            disable: true,
            end_sessions: true,
            revoke_grants: true,
            require_password_change: true,
        }
    }
}

/// What happens (or happened) to one step of one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
#[ts(export)]
pub enum Outcome {
    /// Will be sent (in a plan).
    Planned,
    /// The tenant's API does not offer the step: nothing is sent.
    NotOffered {
        reason: String,
    },
    /// A guard refuses it (protected account, Vigil's own account): nothing is sent.
    Refused {
        reason: String,
    },
    /// The tenant accepted it; nothing later can observe it (a revocation, a password).
    Accepted,
    /// A later read shows it done: the sessions are gone, the account is disabled.
    Confirmed,
    /// The tenant accepted it, yet a later read shows the sessions or the account as
    /// they were (a session came back, the account is still enabled).
    NotConfirmed {
        reason: String,
    },
    Failed {
        error: ErrorPayload,
    },
}

impl Outcome {
    /// Done, or stopped on purpose: what `vigil contain` exits 0 on.
    pub fn settled(&self) -> bool {
        matches!(
            self,
            Self::NotOffered { .. } | Self::Refused { .. } | Self::Accepted | Self::Confirmed
        )
    }
}

/// One step for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ContainItem {
    pub tenant: String,
    pub user_id: String,
    pub username: String,
    pub step: ActionKind,
    pub outcome: Outcome,
    /// What this step means in this tenant, in its own words.
    pub effect: String,
    pub audit_id: Option<i64>,
}

/// The person and what containing them would do, for the window's confirmation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ContainPreview {
    pub person: Person,
    pub plan: ContainReport,
}

/// A plan or its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ContainReport {
    pub person: String,
    /// Groups the items in the audit log (none in a plan).
    pub action_id: Option<String>,
    pub items: Vec<ContainItem>,
    /// Tenants where the person could not be looked up: they may have an account there.
    pub unchecked_tenants: Vec<String>,
}

impl ContainReport {
    /// Every item is done or stopped on purpose, and every tenant was checked.
    pub fn settled(&self) -> bool {
        self.unchecked_tenants.is_empty() && self.items.iter().all(|i| i.outcome.settled())
    }
}

fn steps(opts: ContainOptions, caps: &Capabilities) -> [(ActionKind, bool, bool); 4] {
    [
        (ActionKind::DisableOnly, opts.disable, caps.disable_user),
        (
            ActionKind::Logout,
            opts.end_sessions,
            caps.end_user_sessions,
        ),
        (
            ActionKind::RevokeGrants,
            opts.revoke_grants,
            caps.revoke_grants,
        ),
        (
            ActionKind::RequirePasswordChange,
            opts.require_password_change,
            caps.require_password_change,
        ),
    ]
}

/// What a step means in a tenant of `kind`.
fn effect(a: &PersonAccount, step: ActionKind) -> String {
    let kind = a.kind.map_or_else(|| "this".to_owned(), |k| k.to_string());
    match step {
        ActionKind::DisableOnly => "the account can no longer sign in".to_owned(),
        ActionKind::Logout => match a.kind {
            Some(k) => format!("force logout {}", crate::connector::logout_effect(k)),
            None => "every session ends".to_owned(),
        },
        ActionKind::RevokeGrants | ActionKind::RequirePasswordChange => {
            let said = a.kind.map(crate::connector::kind_info).map(|i| {
                if step == ActionKind::RevokeGrants {
                    i.revoke_effect
                } else {
                    i.password_effect
                }
            });
            let what = said.filter(|s| !s.is_empty()).unwrap_or_else(|| {
                if step == ActionKind::RevokeGrants {
                    "tokens and grants are revoked".to_owned()
                } else {
                    "a new password is required".to_owned()
                }
            });
            format!("{kind}: {what}")
        }
        _ => String::new(),
    }
}

/// What containing `person` would do, account by account: each step planned, not
/// offered by the tenant, or refused by a guard (and why). Nothing is sent.
pub fn plan(engine: &Engine, person: &Person, opts: ContainOptions) -> ContainReport {
    let mut items = Vec::new();
    for a in &person.accounts {
        let caps = a.capabilities.unwrap_or_default();
        let target = SessionRef {
            tenant: a.tenant.clone(),
            session_id: a.user.id.to_string(),
        };
        for (step, wanted, offered) in steps(opts, &caps) {
            if !wanted {
                continue;
            }
            let outcome = if a.capabilities.is_none() {
                Outcome::NotOffered {
                    reason: format!("tenant '{}' is not running in Vigil", a.tenant),
                }
            } else if !offered {
                Outcome::NotOffered {
                    reason: crate::connector::not_offered(
                        a.kind.unwrap_or(crate::model::ConnectorKind::Vigil),
                        step_name(step),
                    )
                    .message,
                }
            } else if let Some(e) =
                actions::refusal(Some(engine.store()), step, &target, Some(&a.user))
            {
                Outcome::Refused { reason: e.message }
            } else {
                Outcome::Planned
            };
            items.push(ContainItem {
                tenant: a.tenant.clone(),
                user_id: a.user.id.to_string(),
                username: a.user.username.to_string(),
                step,
                effect: effect(a, step),
                outcome,
                audit_id: None,
            });
        }
    }
    ContainReport {
        person: person.key.clone(),
        action_id: None,
        items,
        unchecked_tenants: person
            .lookup_errors
            .iter()
            .map(|e| e.tenant.clone())
            .collect(),
    }
}

fn step_name(step: ActionKind) -> &'static str {
    match step {
        ActionKind::DisableOnly => "disabling the account",
        ActionKind::Logout => "ending every session of a user",
        ActionKind::RevokeGrants => "revoking tokens and grants",
        ActionKind::RequirePasswordChange => "requiring a new password",
        ActionKind::Enable => "re-enabling the account",
        _ => "this step",
    }
}

/// Runs the planned items of `plan` (as one audited action), tenants side by side and
/// steps in order within a tenant; then waits up to `confirm_wait` for later polls and
/// reads to confirm each item.
pub async fn run(
    engine: &Engine,
    person: &Person,
    plan: ContainReport,
    confirm_wait: Duration,
) -> ContainReport {
    let action_id = actions::new_action_id();
    let accounts: HashMap<(String, String), &PersonAccount> = person
        .accounts
        .iter()
        .map(|a| ((a.tenant.clone(), a.user.id.to_string()), a))
        .collect();
    let mut by_tenant: std::collections::BTreeMap<String, Vec<ContainItem>> = Default::default();
    for item in plan.items {
        by_tenant.entry(item.tenant.clone()).or_default().push(item);
    }
    let per_tenant: Vec<_> = by_tenant
        .into_values()
        .map(|items| contain_tenant(engine, &action_id, &accounts, items))
        .collect();
    let items: Vec<ContainItem> = futures::future::join_all(per_tenant)
        .await
        .into_iter()
        .flatten()
        .collect();
    let mut report = ContainReport {
        person: plan.person,
        action_id: Some(action_id),
        items,
        unchecked_tenants: plan.unchecked_tenants,
    };
    confirm(engine, &mut report, confirm_wait).await;
    report
}

/// The items of one tenant, in order.
async fn contain_tenant(
    engine: &Engine,
    action_id: &str,
    accounts: &HashMap<(String, String), &PersonAccount>,
    items: Vec<ContainItem>,
) -> Vec<ContainItem> {
    let mut out = Vec::with_capacity(items.len());
    for mut item in items {
        if item.outcome != Outcome::Planned {
            out.push(item);
            continue;
        }
        let users: HashMap<String, User> = accounts
            .get(&(item.tenant.clone(), item.user_id.clone()))
            .map(|a| (a.user.id.to_string(), a.user.clone()))
            .into_iter()
            .collect();
        let report = engine
            .act_as(
                action_id.to_owned(),
                item.step,
                vec![SessionRef {
                    tenant: item.tenant.clone(),
                    session_id: item.user_id.clone(),
                }],
                &users,
            )
            .await;
        if let Some(done) = report.items.into_iter().next() {
            item.audit_id = done.audit_id;
            item.outcome = match done.error {
                None => Outcome::Accepted,
                Some(e) if e.code == ErrorCode::Conflict => Outcome::Refused { reason: e.message },
                Some(error) => Outcome::Failed { error },
            };
        }
        out.push(item);
    }
    out
}

/// Confirms accepted items: ended sessions by the engine's next polls (recorded in the
/// audit log as confirmed or reappeared), disabled accounts by reading them back.
pub async fn confirm(engine: &Engine, report: &mut ContainReport, wait: Duration) {
    let connectors = engine.connectors();
    for item in report
        .items
        .iter_mut()
        .filter(|i| i.outcome == Outcome::Accepted && i.step == ActionKind::DisableOnly)
    {
        let Some(c) = connectors.get(&item.tenant) else {
            continue;
        };
        let read = match c.find_user(&item.username).await {
            Ok(Some(u)) if *u.id == *item.user_id => Ok(u.disabled),
            Ok(_) => Ok(false),
            Err(e) => Err(e),
        };
        let (outcome, state, message) = match read {
            Ok(true) => (Outcome::Confirmed, ItemState::Confirmed, None),
            Ok(false) => (
                Outcome::NotConfirmed {
                    reason: "the tenant still shows the account enabled".to_owned(),
                },
                ItemState::Reappeared,
                Some("still enabled when read back"),
            ),
            Err(e) => (
                Outcome::NotConfirmed {
                    reason: format!("the account could not be read back: {}", e.message),
                },
                ItemState::Accepted,
                None,
            ),
        };
        if let (Some(audit), Some(id), true) = (
            engine.audit().cloned(),
            item.audit_id,
            state != ItemState::Accepted,
        ) {
            let message = message.map(str::to_owned);
            let _ = crate::task::blocking(move || {
                audit.record(id, state, None, None, message.as_deref())
            })
            .await;
        }
        item.outcome = outcome;
    }
    // Ended sessions: the engine's polls write confirmed / reappeared to the audit log.
    let Some(audit) = engine.audit().cloned() else {
        return;
    };
    let Some(action_id) = report.action_id.clone() else {
        return;
    };
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let (a, f) = (
            audit.clone(),
            AuditFilter {
                action_id: Some(action_id.clone()),
                ..Default::default()
            },
        );
        let entries = crate::task::blocking(move || a.entries(&f))
            .await
            .unwrap_or_default();
        let mut waiting = false;
        for item in report.items.iter_mut().filter(|i| {
            i.step == ActionKind::Logout
                && matches!(i.outcome, Outcome::Accepted | Outcome::NotConfirmed { .. })
        }) {
            let Some(e) = entries.iter().find(|e| Some(e.id) == item.audit_id) else {
                continue;
            };
            match e.state {
                ItemState::Confirmed => item.outcome = Outcome::Confirmed,
                ItemState::Reappeared => {
                    item.outcome = Outcome::NotConfirmed {
                        reason: "a session of the user is still listed (or came back) after the tenant accepted".to_owned(),
                    }
                }
                _ => {
                    waiting = true;
                    item.outcome = Outcome::NotConfirmed {
                        reason: "no poll has confirmed it yet".to_owned(),
                    };
                }
            }
        }
        if !waiting || tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Re-enables every disabled account of `person` where the tenant can (one action).
pub async fn reenable(engine: &Engine, person: &Person) -> ContainReport {
    let action_id = actions::new_action_id();
    let mut items = Vec::new();
    for a in &person.accounts {
        let offered = a.capabilities.is_some_and(|c| c.enable_user);
        let mut item = ContainItem {
            tenant: a.tenant.clone(),
            user_id: a.user.id.to_string(),
            username: a.user.username.to_string(),
            step: ActionKind::Enable,
            effect: "the account can sign in again".to_owned(),
            outcome: Outcome::Planned,
            audit_id: None,
        };
        if !offered {
            item.outcome = Outcome::NotOffered {
                reason: crate::connector::not_offered(
                    a.kind.unwrap_or(crate::model::ConnectorKind::Vigil),
                    step_name(ActionKind::Enable),
                )
                .message,
            };
        } else {
            let users = HashMap::from([(a.user.id.to_string(), a.user.clone())]);
            let report = engine
                .act_as(
                    action_id.clone(),
                    ActionKind::Enable,
                    vec![SessionRef {
                        tenant: a.tenant.clone(),
                        session_id: a.user.id.to_string(),
                    }],
                    &users,
                )
                .await;
            if let Some(done) = report.items.into_iter().next() {
                item.audit_id = done.audit_id;
                item.outcome = match done.error {
                    None => Outcome::Accepted,
                    Some(error) => Outcome::Failed { error },
                };
            }
        }
        items.push(item);
    }
    ContainReport {
        person: person.key.clone(),
        action_id: Some(action_id),
        items,
        unchecked_tenants: person
            .lookup_errors
            .iter()
            .map(|e| e.tenant.clone())
            .collect(),
    }
}
