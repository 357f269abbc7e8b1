//! Connectors map a system's admin API onto Vigil's model. One file per kind.

pub mod better_auth;
pub mod http;
pub mod keycloak;
pub mod kratos;
pub mod synapse;
pub mod vigil;

use std::sync::Arc;

use async_trait::async_trait;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::Result;
use crate::model::{Capabilities, ConnectorKind, Session, TenantCheck, TenantSpec, User};
use crate::secret::SecretString;

/// What one poll learned about a tenant.
#[derive(Debug, Clone, PartialEq)]
pub enum PollUpdate {
    /// The complete set of active sessions; anything not in it has ended.
    Full(Vec<Session>),
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

    async fn disable_user(&self, user_id: &str, end_sessions: bool) -> Result<User>;

    async fn enable_user(&self, user_id: &str) -> Result<User>;

    /// Looks a user up by user name (for CLI arguments and cross-tenant matching).
    async fn find_user(&self, username: &str) -> Result<Option<User>>;

    /// "Test connection": reachability, whether the credential is accepted, what it may
    /// do, and the server's clock offset. Never fails: problems are in the result.
    async fn check(&self) -> TenantCheck;
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
}

/// Every connector kind, for the tenant form and `vigil tenant add --help`.
pub fn kinds() -> Vec<KindInfo> {
    ConnectorKind::ALL.iter().map(|k| kind_info(*k)).collect()
}

pub fn kind_info(kind: ConnectorKind) -> KindInfo {
    match kind {
        ConnectorKind::Vigil => KindInfo {
            kind,
            label: "Vigil Session API".into(),
            description: "In-house systems that implement the open Vigil Session API (docs/session-api.openapi.yaml), \
                          and the demo tenant (`vigil demo serve`)."
                .into(),
            url_hint: "https://sessions.example.com".into(),
            secret_label: "API token".into(),
            options: Vec::new(),
        },
        ConnectorKind::Keycloak => KindInfo {
            kind,
            label: "Keycloak".into(),
            description: "One realm, through a confidential client with a service account that has view-users and \
                          manage-users (realm-management). Keycloak keeps no user agent or expiry per session."
                .into(),
            url_hint: "https://sso.example.com".into(),
            secret_label: "Client secret".into(),
            options: vec![
                field("realm", "Realm", true, "The realm to watch, e.g. master or employees."),
                field("client_id", "Client ID", true, "The confidential client whose service account Vigil uses."),
            ],
        },
        ConnectorKind::Synapse => KindInfo {
            kind,
            label: "Matrix Synapse".into(),
            description: "Devices of every user through the Synapse admin API. Disabling locks the account \
                          (reversible). Synapse keeps no sign-in time per device."
                .into(),
            url_hint: "https://matrix.example.com".into(),
            secret_label: "Admin access token".into(),
            options: Vec::new(),
        },
        ConnectorKind::BetterAuth => KindInfo {
            kind,
            label: "Better Auth".into(),
            description: "Apps using Better Auth with the admin and bearer plugins. The URL is the auth mount \
                          point (…/api/auth); the secret is an admin's session token. Disabling bans the user."
                .into(),
            url_hint: "https://app.example.com/api/auth".into(),
            secret_label: "Admin session token".into(),
            options: Vec::new(),
        },
        ConnectorKind::Kratos => KindInfo {
            kind,
            label: "Ory Kratos".into(),
            description: "Every active session through the Kratos admin API (Ory Network or self-hosted admin port). \
                          SuperUsers: identities whose metadata role is admin or superuser."
                .into(),
            url_hint: "https://project.projects.oryapis.com".into(),
            secret_label: "API key".into(),
            options: Vec::new(),
        },
    }
}

fn field(key: &str, label: &str, required: bool, help: &str) -> OptionField {
    OptionField {
        key: key.into(),
        label: label.into(),
        required,
        help: help.into(),
    }
}

/// The connector of a configured tenant, with its secret from `store` (the OS keychain).
/// The keychain is called on a blocking thread.
pub async fn connect(
    cfg: &crate::config::TenantConfig,
    store: Arc<dyn crate::secrets::SecretStore>,
) -> Result<Arc<dyn Connector>> {
    use crate::error::{Error, ErrorCode};
    let spec = cfg.spec()?;
    let name = cfg.name.clone();
    let secret = tokio::task::spawn_blocking(move || store.get(&name))
        .await
        .map_err(|e| Error::internal(format!("keychain task failed: {e}")))??
        .ok_or_else(|| {
            Error::new(
                ErrorCode::SecretStore,
                format!(
                    "no credential in the keychain for tenant '{}'; store one by editing the tenant \
                     (or `vigil tenant remove` and `vigil tenant add … --secret-stdin`)",
                    cfg.name
                ),
            )
        })?;
    build(&spec, secret)
}

/// Builds the connector for a tenant.
pub fn build(spec: &TenantSpec, secret: SecretString) -> Result<Arc<dyn Connector>> {
    match spec.kind {
        ConnectorKind::Vigil => Ok(Arc::new(vigil::VigilConnector::new(spec, secret)?)),
        ConnectorKind::Keycloak => Ok(Arc::new(keycloak::KeycloakConnector::new(spec, secret)?)),
        ConnectorKind::Synapse => Ok(Arc::new(synapse::SynapseConnector::new(spec, secret)?)),
        ConnectorKind::BetterAuth => Ok(Arc::new(better_auth::BetterAuthConnector::new(
            spec, secret,
        )?)),
        ConnectorKind::Kratos => Ok(Arc::new(kratos::KratosConnector::new(spec, secret)?)),
    }
}
