//! Connectors map a system's admin API onto Vigil's model. One file per kind.

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

use crate::error::{Error, Result};
use crate::model::{Capabilities, ConnectorKind, Session, TenantCheck, TenantSpec, User};
use crate::secret::SecretString;

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
}

/// Every connector kind, for the tenant form and `vigil tenant add --help`.
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

pub fn kinds() -> Vec<KindInfo> {
    ConnectorKind::ALL.iter().map(|k| kind_info(*k)).collect()
}

pub fn kind_info(kind: ConnectorKind) -> KindInfo {
    let mut info = kind_text(kind);
    info.logout_effect = logout_effect(kind).to_owned();
    info
}

/// What a force logout does, per kind: the confirmation says it before anything is sent.
pub fn logout_effect(kind: ConnectorKind) -> &'static str {
    match kind {
        ConnectorKind::Vigil => "ends every session of the user",
        ConnectorKind::Keycloak => {
            "ends every online and offline session of the user; their refresh tokens are refused from then on"
        }
        ConnectorKind::Synapse => {
            "logs out every device of the user (its access token stops working); Vigil's own device is kept"
        }
        ConnectorKind::BetterAuth => "revokes every session of the user",
        ConnectorKind::Kratos => "revokes every session of the identity",
        ConnectorKind::Salesforce => "deletes every AuthSession of the user (UI and API sessions)",
        ConnectorKind::Okta => {
            "ends the user's Okta sessions and revokes their OAuth tokens; remembered MFA devices are kept \
             (forgetDevices=false); sessions that applications keep themselves are not ended"
        }
        ConnectorKind::Entra => {
            "revokes the user's refresh tokens and session cookies (revokeSignInSessions); access tokens \
             already issued stay valid until they expire (up to about an hour)"
        }
        ConnectorKind::Google => {
            "signs the user out of every web and device session (users.signOut)"
        }
        ConnectorKind::Auth0 => {
            "deletes every session of the user; refresh tokens are not revoked by it"
        }
        ConnectorKind::Mattermost => "revokes every session of the user, on every device",
        ConnectorKind::Zitadel => "deletes each session of the user, one by one",
    }
}

fn kind_text(kind: ConnectorKind) -> KindInfo {
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
            logout_effect: String::new(),
        },
        ConnectorKind::Keycloak => KindInfo {
            kind,
            label: "Keycloak".into(),
            description: "One realm, through a confidential client whose service account has the realm-management \
                          roles view-users, manage-users, view-realm and view-clients. Online and offline sessions \
                          of every client. Keycloak keeps no user agent or expiry per session."
                .into(),
            url_hint: "https://sso.example.com".into(),
            secret_label: "Client secret".into(),
            options: vec![
                field("realm", "Realm", true, "The realm to watch, e.g. master or employees."),
                field("client_id", "Client ID", true, "The confidential client whose service account Vigil uses."),
            ],
            logout_effect: String::new(),
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
            logout_effect: String::new(),
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
            logout_effect: String::new(),
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
            logout_effect: String::new(),
        },
        ConnectorKind::Salesforce => KindInfo {
            kind,
            label: "Salesforce".into(),
            description: "Every session of the org (AuthSession through SOQL), ended by deleting it. Disabling \
                          freezes the user (UserLogin.IsFrozen), which is reversible; SuperUsers are users with \
                          Modify All Data from their profile or a permission set. Sign-in is an External Client \
                          App: client credentials (secret = consumer secret) or the JWT bearer flow (secret = the \
                          PEM private key of the app's certificate, plus client_id and username). Each poll uses \
                          API requests of the org's daily allowance."
                .into(),
            url_hint: "https://acme.my.salesforce.com".into(),
            secret_label: "Consumer secret or private key (PEM)".into(),
            options: vec![
                field("client_id", "Consumer key", true, "The External Client App's consumer key."),
                field("username", "Integration user", false, "JWT bearer flow only: the user Vigil signs in as (needs View Setup, Manage Users, API Enabled)."),
                field("login_url", "Login URL", false, "JWT bearer flow only: https://login.salesforce.com (default), https://test.salesforce.com for sandboxes, or the My Domain URL (the token request goes there; the assertion's audience stays the login server)."),
                field("audience", "JWT audience", false, "JWT bearer flow only: the assertion's aud, when it is not the one derived from the login URL (an Experience Cloud site URL, for instance)."),
                field("api_version", "API version", false, "REST API version, default 62.0."),
            ],
            logout_effect: String::new(),
        },
        ConnectorKind::Okta => KindInfo {
            kind,
            label: "Okta".into(),
            description: "Okta has no list of live sessions: Vigil derives them from the System Log \
                          (user.session.start, ended by user.session.end and user.session.clear) over a look-back \
                          window, so a session that expired silently can show until it leaves the window. One \
                          session can be ended by its id (from the log) in Classic orgs; Identity Engine \
                          does not accept that id (Vigil says so rather than claim it ended); force logout ends all of a user's \
                          sessions and tokens; disabling suspends the user (reversible). SuperUsers: users with \
                          an admin role. Secret: an API token (SSWS), or with client_id set, the PEM private key \
                          of a service app using private_key_jwt."
                .into(),
            url_hint: "https://acme.okta.com".into(),
            secret_label: "API token or private key (PEM)".into(),
            options: vec![
                field("client_id", "Client ID", false, "Service app (OAuth, private_key_jwt) instead of an API token; needs okta.logs.read, okta.users.read, okta.users.manage, okta.sessions.manage, okta.roles.read."),
                field("key_id", "Key ID", false, "The kid of the service app's public key, if it has several."),
                field("lookback_hours", "Look-back (hours)", false, "How far back sign-ins count as sessions; default 24."),
            ],
            logout_effect: String::new(),
        },
        ConnectorKind::Entra => KindInfo {
            kind,
            label: "Microsoft Entra ID".into(),
            description: "Graph lists no live sessions: Vigil derives them from the sign-in logs \
                          (auditLogs/signIns, needs an Entra ID P1/P2 licence) over a look-back window, one row \
                          per user, IP and device. Single sessions cannot be ended; force logout revokes all of \
                          a user's sign-in sessions (revokeSignInSessions; takes effect within minutes). Disabling \
                          sets accountEnabled false. SuperUsers: members of any directory role. The app \
                          registration needs AuditLog.Read.All, Directory.Read.All, User.ReadWrite.All \
                          (application permissions)."
                .into(),
            url_hint: "https://graph.microsoft.com".into(),
            secret_label: "Client secret or certificate private key (PEM)".into(),
            options: vec![
                field("tenant_id", "Directory (tenant) ID", true, "The Entra tenant's id or primary domain."),
                field("client_id", "Application (client) ID", true, "The app registration's client id."),
                field("certificate_thumbprint", "Certificate thumbprint", false, "With a PEM private key: the hex SHA-1 thumbprint of its certificate as the portal shows it."),
                field("login_url", "Login URL", false, "Default https://login.microsoftonline.com. National clouds: their login URL here (e.g. https://login.microsoftonline.us) and their Graph endpoint as the tenant URL (https://graph.microsoft.us, https://dod-graph.microsoft.us, https://microsoftgraph.chinacloudapi.cn): the token's scope follows it."),
                field("lookback_hours", "Look-back (hours)", false, "How far back sign-ins count as sessions; default 24."),
            ],
            logout_effect: String::new(),
        },
        ConnectorKind::Google => KindInfo {
            kind,
            label: "Google Workspace".into(),
            description: "Google lists no live sessions: Vigil derives them from the Reports API login activity \
                          (login_success, ended by logout) over a look-back window, one row per user and IP; \
                          login events can arrive hours late and carry no user agent. Single sessions cannot be \
                          ended; force logout signs the user out everywhere (users.signOut). Disabling suspends \
                          the user. SuperUsers: super admins and delegated admins. Secret: a service account's \
                          JSON key with domain-wide delegation for admin.reports.audit.readonly, \
                          admin.directory.user and admin.directory.user.security (force logout needs the last)."
                .into(),
            url_hint: "https://admin.googleapis.com".into(),
            secret_label: "Service account JSON key".into(),
            options: vec![
                field("subject", "Admin to impersonate", true, "E-mail address of a Workspace admin the service account acts as."),
                field("lookback_hours", "Look-back (hours)", false, "How far back sign-ins count as sessions; default 24."),
            ],
            logout_effect: String::new(),
        },
        ConnectorKind::Auth0 => KindInfo {
            kind,
            label: "Auth0".into(),
            description: "Sessions of every user through the Management API v2 (session endpoints need the \
                          Enterprise plan). Users are paged, which Auth0 stops at 1,000 per query: on a larger tenant the listing is marked incomplete, and the sessions of unread users are kept rather than ended. Disabling \
                          blocks the user. SuperUsers: users with a role named in admin_roles. Secret: the \
                          client secret of a machine-to-machine app (or its PEM private key for Private Key \
                          JWT) with read:users, update:users, read:sessions, delete:sessions, read:roles."
                .into(),
            url_hint: "https://acme.eu.auth0.com".into(),
            secret_label: "Client secret or private key (PEM)".into(),
            options: vec![
                field("client_id", "Client ID", true, "The machine-to-machine application's client id."),
                field("audience", "API audience", false, "Default https://{domain}/api/v2/ from the URL; set it when the URL is a custom domain."),
                field("admin_roles", "Admin roles", false, "Comma-separated role names that mark SuperUsers; default admin."),
            ],
            logout_effect: String::new(),
        },
        ConnectorKind::Mattermost => KindInfo {
            kind,
            label: "Mattermost".into(),
            description: "Sessions of every active user through the API v4; IPs from each user's audit trail. \
                          Session tokens are dropped as they arrive, never shown or kept. Disabling deactivates \
                          the user (reversible). SuperUsers: system admins. Secret: a system admin's personal \
                          access token."
                .into(),
            url_hint: "https://chat.example.com".into(),
            secret_label: "Personal access token".into(),
            options: Vec::new(),
            logout_effect: String::new(),
        },
        ConnectorKind::Zitadel => KindInfo {
            kind,
            label: "Zitadel".into(),
            description: "Sessions through the v2 session service (sessions created by the login UI and the \
                          session API; OIDC tokens issued outside a session are not listed). Disabling \
                          deactivates the user (reversible). SuperUsers: IAM members and members of the \
                          credential's organisation, when the credential may read memberships. Secret: a \
                          service user's personal access token, or its JSON key (JWT profile)."
                .into(),
            url_hint: "https://acme.zitadel.cloud".into(),
            secret_label: "Personal access token or JSON key".into(),
            options: Vec::new(),
            logout_effect: String::new(),
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

/// Builds the connector for a tenant, behind the [`guard`] with the tenant's limits.
pub fn build(spec: &TenantSpec, secret: SecretString) -> Result<Arc<dyn Connector>> {
    Ok(guard::guard(build_unguarded(spec, secret)?, spec.limits))
}

fn build_unguarded(spec: &TenantSpec, secret: SecretString) -> Result<Arc<dyn Connector>> {
    match spec.kind {
        ConnectorKind::Vigil => Ok(Arc::new(vigil::VigilConnector::new(spec, secret)?)),
        ConnectorKind::Keycloak => Ok(Arc::new(keycloak::KeycloakConnector::new(spec, secret)?)),
        ConnectorKind::Synapse => Ok(Arc::new(synapse::SynapseConnector::new(spec, secret)?)),
        ConnectorKind::BetterAuth => Ok(Arc::new(better_auth::BetterAuthConnector::new(
            spec, secret,
        )?)),
        ConnectorKind::Kratos => Ok(Arc::new(kratos::KratosConnector::new(spec, secret)?)),
        ConnectorKind::Okta => Ok(Arc::new(okta::OktaConnector::new(spec, secret)?)),
        ConnectorKind::Entra => Ok(Arc::new(entra::EntraConnector::new(spec, secret)?)),
        ConnectorKind::Google => Ok(Arc::new(google::GoogleConnector::new(spec, secret)?)),
        ConnectorKind::Auth0 => Ok(Arc::new(auth0::Auth0Connector::new(spec, secret)?)),
        ConnectorKind::Mattermost => Ok(Arc::new(mattermost::MattermostConnector::new(
            spec, secret,
        )?)),
        ConnectorKind::Zitadel => Ok(Arc::new(zitadel::ZitadelConnector::new(spec, secret)?)),
        ConnectorKind::Salesforce => Ok(Arc::new(salesforce::SalesforceConnector::new(
            spec, secret,
        )?)),
    }
}
