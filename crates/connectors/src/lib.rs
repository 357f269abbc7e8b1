//! vigil-connectors: each tenant system's admin API mapped onto Vigil's model, one file
//! per kind, and the small set of types every part of Vigil speaks: the model
//! ([`model`]), errors ([`error`]), secrets ([`secret`]) and escaping of tenant text
//! ([`text`]). It knows nothing of storage, the keychain, alerts or the UI; `vigil-core`
//! builds on it and re-exports it as `vigil_core::connector`.

pub mod error;
pub mod model;
pub mod secret;
pub mod text;

pub use error::{Error, ErrorCode, ErrorPayload, Result};
pub use secret::SecretString;

pub mod auth;
pub mod auth0;
pub mod better_auth;
pub mod budget;
pub mod entra;
pub mod google;
pub mod guard;
pub mod http;
pub mod keycloak;
pub mod kratos;
pub mod mattermost;
pub mod okta;
pub mod salesforce;
pub mod signin_log;
pub mod synapse;
pub mod vigil;
pub mod zitadel;

use std::sync::Arc;

use async_trait::async_trait;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::{Capabilities, ConnectorKind, Session, TenantCheck, TenantSpec, User};

/// What one poll learned about a tenant.
#[derive(Debug, Clone, PartialEq)]
pub enum PollUpdate {
    /// The complete set of active sessions; anything not in it has ended. A session
    /// listed twice (a broken server) counts once, as its last copy.
    Full(Vec<Session>),
    /// A listing known to be incomplete (a vendor's cap, a skipped part): what it lists
    /// is taken in, but nothing it did not see counts as ended (no history entry, no
    /// confirmation of an action, no row disappears), and the tenant shows `incomplete`
    /// as a warning.
    Partial {
        sessions: Vec<Session>,
        incomplete: String,
    },
    /// Only what changed since the previous poll.
    Delta {
        upserted: Vec<Session>,
        ended: Vec<String>,
        /// Users whose attributes changed (e.g. disabled); their sessions are re-annotated.
        users: Vec<User>,
    },
}

/// Result of ending one session. "Already gone" is a success: the goal state holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndOutcome {
    Ended,
    AlreadyGone,
}

#[async_trait]
pub trait Connector: Send + Sync {
    fn tenant(&self) -> &Arc<str>;
    fn kind(&self) -> ConnectorKind;
    fn capabilities(&self) -> Capabilities;

    /// Fetches what changed since the previous poll (the first poll is a full listing).
    async fn poll(&self) -> Result<PollUpdate>;

    /// Forgets incremental state: the next poll is a full listing.
    async fn reset(&self);

    async fn end_session(&self, session_id: &str) -> Result<EndOutcome>;

    /// Ends every session of a user; returns how many were ended.
    async fn end_user_sessions(&self, user_id: &str) -> Result<u64>;

    /// Disables (or re-enables) the account as the tenant does it: locked, suspended,
    /// banned, blocked, frozen …
    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User>;

    /// Disables the account, then (if asked) ends its sessions.
    async fn disable_user(&self, user_id: &str, end_sessions: bool) -> Result<User> {
        let user = self.set_disabled(user_id, true).await?;
        if end_sessions {
            self.end_user_sessions(user_id).await?;
        }
        Ok(user)
    }

    async fn enable_user(&self, user_id: &str) -> Result<User> {
        self.set_disabled(user_id, false).await
    }

    /// Looks a user up by user name (for CLI arguments and cross-tenant matching).
    async fn find_user(&self, username: &str) -> Result<Option<User>>;

    /// Revokes what outlives the user's sessions (refresh tokens, offline sessions, OAuth
    /// grants); the number revoked where the tenant says. Only where
    /// [`Capabilities::revoke_grants`].
    async fn revoke_grants(&self, _user_id: &str) -> Result<u64> {
        Err(not_offered(self.kind(), "revoking tokens and grants"))
    }

    /// Makes the user choose a new password before signing in again (as the tenant can:
    /// a required action, an expired password, or a random password only a reset
    /// replaces). Only where [`Capabilities::require_password_change`].
    async fn require_password_change(&self, _user_id: &str) -> Result<()> {
        Err(not_offered(self.kind(), "requiring a new password"))
    }

    /// "Test connection": reachability, whether the credential is accepted, what it may
    /// do, and the server's clock offset. Never fails: problems are in the result.
    async fn check(&self) -> TenantCheck;

    /// Whether this is the [`guard::Guarded`] wrapper (so it is not wrapped twice).
    fn is_guarded(&self) -> bool {
        false
    }

    /// The tenant's per-poll limits (the guard knows them).
    fn limits(&self) -> crate::model::Limits {
        crate::model::Limits::default()
    }
}

/// A kind-specific option the tenant form shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OptionField {
    pub key: String,
    pub label: String,
    pub required: bool,
    pub help: String,
}

/// What the tenant form needs to know about a connector kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct KindInfo {
    pub kind: ConnectorKind,
    pub label: String,
    pub description: String,
    pub url_hint: String,
    /// What the secret is called for this kind (API token, client secret …).
    pub secret_label: String,
    pub options: Vec<OptionField>,
    /// What a force logout does in this kind of system, for the confirmation: what
    /// ends, and what does not.
    pub logout_effect: String,
    /// What revoking the user's tokens and grants does here (empty: not offered).
    pub revoke_effect: String,
    /// What requiring a new password does here (empty: not offered).
    pub password_effect: String,
}

/// A password no one knows, for tenants whose only way to stop password sign-in is to
/// set one: 40 random letters and digits, plus one of each class that password policies
/// ask for. It goes to the tenant and nowhere else.
pub fn random_password() -> SecretString {
    use rand::Rng;
    let body: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    SecretString::new(format!("{body}-Aa1"))
}

/// The error of a step a kind's API does not offer.
pub fn not_offered(kind: ConnectorKind, what: &str) -> Error {
    Error::new(
        crate::error::ErrorCode::Unsupported,
        format!("{what} is not offered by the {kind} connector"),
    )
}

/// A kind of connector: what is said of it, and how one is built. A new kind is its own
/// file (with `info` and `build`), a `ConnectorKind`, and a line here.
struct Registered {
    kind: ConnectorKind,
    info: fn() -> KindInfo,
    build: fn(&TenantSpec, SecretString) -> Result<Arc<dyn Connector>>,
}

const REGISTRY: &[Registered] = &[
    Registered {
        kind: ConnectorKind::Vigil,
        info: vigil::info,
        build: vigil::build,
    },
    Registered {
        kind: ConnectorKind::Keycloak,
        info: keycloak::info,
        build: keycloak::build,
    },
    Registered {
        kind: ConnectorKind::Synapse,
        info: synapse::info,
        build: synapse::build,
    },
    Registered {
        kind: ConnectorKind::BetterAuth,
        info: better_auth::info,
        build: better_auth::build,
    },
    Registered {
        kind: ConnectorKind::Kratos,
        info: kratos::info,
        build: kratos::build,
    },
    Registered {
        kind: ConnectorKind::Okta,
        info: okta::info,
        build: okta::build,
    },
    Registered {
        kind: ConnectorKind::Entra,
        info: entra::info,
        build: entra::build,
    },
    Registered {
        kind: ConnectorKind::Google,
        info: google::info,
        build: google::build,
    },
    Registered {
        kind: ConnectorKind::Auth0,
        info: auth0::info,
        build: auth0::build,
    },
    Registered {
        kind: ConnectorKind::Mattermost,
        info: mattermost::info,
        build: mattermost::build,
    },
    Registered {
        kind: ConnectorKind::Zitadel,
        info: zitadel::info,
        build: zitadel::build,
    },
    Registered {
        kind: ConnectorKind::Salesforce,
        info: salesforce::info,
        build: salesforce::build,
    },
];

fn registered(kind: ConnectorKind) -> Result<&'static Registered> {
    REGISTRY
        .iter()
        .find(|r| r.kind == kind)
        .ok_or_else(|| Error::internal(format!("no connector registered for {kind}")))
}

/// Every connector kind, for the tenant form and `vigil tenant add --help`.
pub fn kinds() -> Vec<KindInfo> {
    REGISTRY.iter().map(|r| (r.info)()).collect()
}

pub fn kind_info(kind: ConnectorKind) -> KindInfo {
    registered(kind).map_or_else(
        |_| KindInfo {
            kind,
            label: kind.to_string(),
            description: String::new(),
            url_hint: String::new(),
            secret_label: "Secret".into(),
            options: Vec::new(),
            logout_effect: String::new(),
            revoke_effect: String::new(),
            password_effect: String::new(),
        },
        |r| (r.info)(),
    )
}

/// What a force logout does in a kind of system: the confirmation says it before
/// anything is sent.
pub fn logout_effect(kind: ConnectorKind) -> String {
    kind_info(kind).logout_effect
}

fn field(key: &str, label: &str, required: bool, help: &str) -> OptionField {
    OptionField {
        key: key.into(),
        label: label.into(),
        required,
        help: help.into(),
    }
}

/// Builds the connector for a tenant, behind the [`guard`] with the tenant's limits.
pub fn build(spec: &TenantSpec, secret: SecretString) -> Result<Arc<dyn Connector>> {
    Ok(guard::guard(build_unguarded(spec, secret)?, spec.limits))
}

fn build_unguarded(spec: &TenantSpec, secret: SecretString) -> Result<Arc<dyn Connector>> {
    (registered(spec.kind)?.build)(spec, secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind is registered once, says what it is, and what its logout does.
    #[test]
    fn every_kind_is_registered_once_with_its_own_text() {
        for kind in ConnectorKind::ALL {
            let found: Vec<&Registered> = REGISTRY.iter().filter(|r| r.kind == *kind).collect();
            assert_eq!(found.len(), 1, "{kind}");
            let info = kind_info(*kind);
            assert_eq!(info.kind, *kind);
            assert!(
                !info.label.is_empty() && !info.secret_label.is_empty(),
                "{kind}"
            );
            assert!(!info.logout_effect.is_empty(), "{kind}");
        }
        assert_eq!(REGISTRY.len(), ConnectorKind::ALL.len());
        assert_eq!(kinds().len(), ConnectorKind::ALL.len());
    }
}
