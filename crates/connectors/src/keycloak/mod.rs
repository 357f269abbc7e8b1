//! Keycloak (one realm), through a confidential client's service account (client
//! credentials). The service account needs four roles of the realm's `realm-management`
//! client ([`REQUIRED_ROLES`], measured against a real Keycloak 26): `view-users`,
//! `manage-users`, `view-realm` and `view-clients`. `vigil tenant test` probes every
//! endpoint the poll reads and names each missing role.
//!
//! Sessions: Keycloak has no realm-wide session list. The realm's
//! `client-session-stats` names the clients with sessions (online and offline counts); each
//! client's `user-sessions` and `offline-sessions` are paged and the results merged by
//! session id (a session used by two clients appears under both). An offline session
//! (a refresh token of scope `offline_access`) may share its id with the online session it
//! came from, so it is listed as `offline:<id>`, of session type `offline`. Keycloak keeps
//! no user agent and no expiry per session; the clients a session is used by are shown as
//! its server. SuperUsers: holders of `realm-admin` (client role of `realm-management`) or
//! of a realm role named `admin`, directly, through a group or through a composite role
//! (Keycloak's effective role mappings, read for users with sessions).
//!
//! SuperUser detection (effective admin roles and their cache) is in `admins.rs`, Test
//! connection (every endpoint probed, each missing role named) in `check.rs`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::http::check_accepted;
use super::http::{Fetched, HttpClient, bounded};
use super::{Connector, EndOutcome, PollUpdate};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    Capabilities, ConnectorKind, Session, TenantCheck, TenantSpec, User, normalize_ip,
};
use crate::secret::SecretString;

mod admins;
mod check;

const PAGE: usize = 500;
/// The `realm-management` roles the service account needs, and what each is for.
pub const REQUIRED_ROLES: [(&str, &str); 4] = [
    ("view-users", "list users and their sessions"),
    ("manage-users", "end sessions, disable and enable users"),
    (
        "view-realm",
        "read which clients have sessions (client-session-stats)",
    ),
    (
        "view-clients",
        "list each client's sessions and the realm-admin members",
    ),
];
/// Offline sessions are listed as `offline:<id>`.
const OFFLINE: &str = "offline:";
const MAX_PAGES: usize = 2_000;
const CONCURRENCY: usize = 6;

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KcUser {
    id: String,
    username: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    attributes: Option<HashMap<String, Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KcSession {
    id: String,
    #[serde(default)]
    username: Option<String>,
    user_id: String,
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(default)]
    start: Option<i64>,
    #[serde(default)]
    last_access: Option<i64>,
    #[serde(default)]
    remember_me: Option<bool>,
    /// Client UUID → client id, of the clients this session is used by.
    #[serde(default)]
    clients: Option<HashMap<String, String>>,
}

#[derive(Deserialize)]
struct ClientStat {
    id: String,
    #[serde(default)]
    active: Option<serde_json::Value>,
    #[serde(default)]
    offline: Option<serde_json::Value>,
}

/// A count as `client-session-stats` gives it: a string ("1") on Keycloak 26, a number on
/// some older versions. Unknown or unreadable counts as "maybe some".
fn has_some(v: Option<&serde_json::Value>) -> bool {
    match v {
        Some(serde_json::Value::String(s)) => s.trim() != "0",
        Some(serde_json::Value::Number(n)) => n.as_u64() != Some(0),
        _ => true,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Consent {
    /// The client's `clientId` (what `DELETE users/{id}/consents/{client}` takes).
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    additional_grants: Vec<Grant>,
}

#[derive(Deserialize)]
struct Grant {
    /// The client's UUID.
    client: String,
    #[serde(default)]
    key: Option<String>,
}

#[derive(Deserialize)]
struct KcClient {
    id: String,
}

struct Token {
    value: SecretString,
    refresh_at: Instant,
}

pub struct KeycloakConnector {
    tenant: Arc<str>,
    http: HttpClient,
    realm: String,
    client_id: String,
    client_secret: SecretString,
    token: Mutex<Option<Token>>,
    /// Whether a user is effectively an administrator (groups and composite roles
    /// counted), kept a few minutes: one or two requests per user with sessions.
    admins: std::sync::Mutex<HashMap<String, (Instant, bool)>>,
}

fn ms(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.and_then(DateTime::from_timestamp_millis)
}

fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl KeycloakConnector {
    pub fn new(spec: &TenantSpec, client_secret: SecretString) -> Result<Self> {
        Ok(Self {
            tenant: Arc::from(spec.name.as_str()),
            http: HttpClient::for_spec(&spec.base_url, spec)?,
            realm: spec.option("realm")?.to_owned(),
            client_id: spec.option("client_id")?.to_owned(),
            client_secret,
            token: Mutex::new(None),
            admins: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// A cached access token, fetched again a little before it expires.
    async fn token(&self, force: bool) -> Result<SecretString> {
        let mut guard = self.token.lock().await;
        if let Some(t) = guard
            .as_ref()
            .filter(|t| !force && Instant::now() < t.refresh_at)
        {
            return Ok(t.value.clone());
        }
        let url = self.http.url(&format!(
            "realms/{}/protocol/openid-connect/token",
            seg(&self.realm)
        ))?;
        let resp: TokenResponse = self
            .http
            .post_form(
                url,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &self.client_id),
                    ("client_secret", self.client_secret.expose()),
                ],
            )
            .await
            .map_err(|e| e.context("getting an access token"))?;
        let life = resp.expires_in.unwrap_or(60).max(10);
        let value = SecretString::new(resp.access_token);
        *guard = Some(Token {
            value: value.clone(),
            refresh_at: super::http::instant_after(Duration::from_secs(
                life.saturating_sub(life / 5).max(5),
            )),
        });
        Ok(value)
    }

    fn admin(&self, path: &str) -> String {
        format!("admin/realms/{}/{}", seg(&self.realm), path)
    }

    /// A GET for Test connection: its headers, or why it was refused.
    async fn probe(&self, token: &SecretString, path: &str) -> Result<HeaderMap> {
        self.get_with::<serde_json::Value>(token, path)
            .await
            .map(|(_, h)| h)
    }

    async fn get_with<T: serde::de::DeserializeOwned>(
        &self,
        token: &SecretString,
        path: &str,
    ) -> Result<(T, HeaderMap)> {
        let url = self.http.url(&self.admin(path))?;
        self.http.get_json_headers::<T>(url, token).await
    }

    /// GET JSON with the service account token; one retry with a fresh token on 401.
    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        for attempt in 0..2 {
            let token = self.token(attempt > 0).await?;
            match self
                .http
                .get_json::<T>(&self.admin(path), &token, None)
                .await
            {
                Ok(Fetched::Fresh { value, .. }) => return Ok(value),
                Ok(Fetched::NotModified) => {
                    return Err(Error::malformed("304 without a conditional request"));
                }
                Err(e) if e.code == ErrorCode::Unauthorized && attempt == 0 => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::internal("unreachable retry loop"))
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<()> {
        for attempt in 0..2 {
            let token = self.token(attempt > 0).await?;
            match self
                .http
                .call(method.clone(), &self.admin(path), &token, body)
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if e.code == ErrorCode::Unauthorized && attempt == 0 => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::internal("unreachable retry loop"))
    }

    async fn paged<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Vec<T>> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut all = Vec::new();
        for page in 0..MAX_PAGES {
            let batch: Vec<T> = self
                .get(&format!("{path}{sep}first={}&max={PAGE}", page * PAGE))
                .await?;
            let n = batch.len();
            super::budget::charge_items(batch.len())?;
            all.extend(batch);
            if n < PAGE {
                return Ok(all);
            }
        }
        Err(Error::malformed(format!(
            "{path}: more than {MAX_PAGES} pages"
        )))
    }

    fn user_from(&self, u: KcUser, supers: &HashSet<String>) -> User {
        let attr = |k: &str| {
            u.attributes
                .as_ref()
                .and_then(|a| a.get(k))
                .and_then(|v| v.first())
                .cloned()
        };
        let mut user = User::new(u.id.clone(), u.username.clone());
        user.email = u.email.as_deref().map(Into::into);
        user.department = attr("department").map(Into::into);
        user.organisation = attr("organisation")
            .or_else(|| attr("organization"))
            .map(Into::into);
        user.display_name = match (&u.first_name, &u.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (Some(n), None) | (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        }
        .map(Into::into);
        user.first_name = u.first_name.map(Into::into);
        user.last_name = u.last_name.map(Into::into);
        user.superuser = supers.contains(&u.id);
        user.protected = user.superuser;
        user.disabled = u.enabled == Some(false);
        user
    }

    async fn set_enabled(&self, user_id: &str, enabled: bool) -> Result<User> {
        self.call(
            Method::PUT,
            &format!("users/{}", seg(user_id)),
            Some(&serde_json::json!({ "enabled": enabled })),
        )
        .await?;
        let u: KcUser = self.get(&format!("users/{}", seg(user_id))).await?;
        let supers = self
            .admins_among(vec![u.id.clone()])
            .await
            .map_err(|e| e.context("reading the user's administrator roles"))?;
        Ok(self.user_from(u, &supers))
    }
}

#[async_trait]
impl Connector for KeycloakConnector {
    fn tenant(&self) -> &Arc<str> {
        &self.tenant
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Keycloak
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            revoke_grants: true,
            require_password_change: true,
            ..Capabilities::FULL_LISTING
        }
    }

    async fn poll(&self) -> Result<PollUpdate> {
        let users: Vec<KcUser> = self
            .paged("users?briefRepresentation=false")
            .await
            .map_err(|e| needs(e, "listing users", "view-users"))?;
        let stats: Vec<ClientStat> = self
            .get("client-session-stats")
            .await
            .map_err(|e| needs(e, "reading client session stats", "view-realm"))?;
        // (client UUID, offline?) for every client with sessions of that kind.
        let lists: Vec<(String, bool)> = stats
            .into_iter()
            .flat_map(|s| {
                let online = has_some(s.active.as_ref()).then(|| (s.id.clone(), false));
                let offline = has_some(s.offline.as_ref()).then_some((s.id, true));
                online.into_iter().chain(offline)
            })
            .collect();
        let pages = bounded(lists, CONCURRENCY, |(client, offline)| async move {
            let kind = if offline {
                "offline-sessions"
            } else {
                "user-sessions"
            };
            self.paged::<KcSession>(&format!("clients/{}/{kind}", seg(&client)))
                .await
                .map(|page| (offline, page))
        })
        .await;
        let pages = pages
            .into_iter()
            .collect::<Result<Vec<_>>>()
            .map_err(|e| needs(e, "listing client sessions", "view-clients"))?;
        // SuperUsers among the users with sessions, groups and composite roles counted.
        let with_sessions: Vec<String> = pages
            .iter()
            .flat_map(|(_, page)| page.iter().map(|s| s.user_id.clone()))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let supers = self
            .admins_among(with_sessions)
            .await
            .map_err(|e| needs(e, "reading administrator roles", "view-clients"))?;
        let users: HashMap<String, User> = users
            .into_iter()
            .map(|u| (u.id.clone(), self.user_from(u, &supers)))
            .collect();
        let mut sessions: HashMap<String, Session> = HashMap::new();
        // The clients each session is used by, joined into its server name at the end.
        let mut clients: HashMap<String, BTreeSet<String>> = HashMap::new();
        for (offline, page) in pages {
            for s in page {
                let id = if offline {
                    format!("{OFFLINE}{}", s.id)
                } else {
                    s.id.clone()
                };
                clients
                    .entry(id.clone())
                    .or_default()
                    .extend(s.clients.iter().flat_map(|c| c.values().cloned()));
                if sessions.contains_key(&id) {
                    continue; // listed under another client too
                }
                let username = s.username.clone().unwrap_or_else(|| s.user_id.clone());
                let mut session =
                    Session::new(&self.tenant, id.clone(), s.user_id.clone(), username);
                if let Some(u) = users.get(&s.user_id) {
                    session.annotate(u);
                }
                session.ip = s.ip_address.as_deref().and_then(normalize_ip);
                session.created_at = ms(s.start);
                session.last_activity_at = ms(s.last_access);
                session.session_type = Some(
                    if offline {
                        "offline"
                    } else if s.remember_me == Some(true) {
                        "remember-me"
                    } else {
                        "browser"
                    }
                    .into(),
                );
                sessions.insert(id, session);
            }
        }
        for (id, session) in &mut sessions {
            session.server_name = clients
                .get(id)
                .filter(|names| !names.is_empty())
                .map(|names| names.iter().cloned().collect::<Vec<_>>().join(", ").into());
        }
        Ok(PollUpdate::Full(sessions.into_values().collect()))
    }

    async fn reset(&self) {
        *self.token.lock().await = None;
        if let Ok(mut m) = self.admins.lock() {
            m.clear();
        }
    }

    async fn end_session(&self, session_id: &str) -> Result<EndOutcome> {
        let path = match session_id.strip_prefix(OFFLINE) {
            Some(id) => format!("sessions/{}?isOffline=true", seg(id)),
            None => format!("sessions/{}", seg(session_id)),
        };
        match self.call(Method::DELETE, &path, None).await {
            Ok(()) => Ok(EndOutcome::Ended),
            Err(e) if e.code == ErrorCode::NotFound => Ok(EndOutcome::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    /// Every online session (Keycloak's logout, which also refuses tokens issued before
    /// it) and every offline session: Keycloak's logout leaves offline sessions, and
    /// their refresh tokens, working.
    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        let online: Vec<KcSession> = self
            .get(&format!("users/{}/sessions", seg(user_id)))
            .await?;
        self.call(
            Method::POST,
            &format!("users/{}/logout", seg(user_id)),
            None,
        )
        .await?;
        let consents: Vec<Consent> = self
            .get(&format!("users/{}/consents", seg(user_id)))
            .await
            .map_err(|e| e.context("finding the user's offline sessions"))?;
        let clients: HashSet<String> = consents
            .into_iter()
            .flat_map(|c| c.additional_grants)
            .filter(|g| g.key.as_deref() == Some("Offline Token"))
            .map(|g| g.client)
            .collect();
        let mut ended = online.len() as u64;
        for client in clients {
            let offline: Vec<KcSession> = self
                .get(&format!(
                    "users/{}/offline-sessions/{}",
                    seg(user_id),
                    seg(&client)
                ))
                .await
                .map_err(|e| e.context("listing the user's offline sessions"))?;
            super::budget::charge_items(offline.len())?;
            for s in offline {
                if self.end_session(&format!("{OFFLINE}{}", s.id)).await? == EndOutcome::Ended {
                    ended = ended.saturating_add(1);
                }
            }
        }
        Ok(ended)
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        self.set_enabled(user_id, !disabled).await
    }

    /// Every consent the user gave (with its offline tokens): revoking one ends the
    /// client's offline sessions and refresh tokens of that user.
    async fn revoke_grants(&self, user_id: &str) -> Result<u64> {
        let consents: Vec<Consent> = self
            .get(&format!("users/{}/consents", seg(user_id)))
            .await
            .map_err(|e| needs(e, "listing the user's consents", "manage-users"))?;
        super::budget::charge_items(consents.len())?;
        let mut revoked = 0u64;
        for client in consents.into_iter().filter_map(|c| c.client_id) {
            self.call(
                Method::DELETE,
                &format!("users/{}/consents/{}", seg(user_id), seg(&client)),
                None,
            )
            .await
            .map_err(|e| e.context(format!("revoking the consent to {client}")))?;
            revoked = revoked.saturating_add(1);
        }
        Ok(revoked)
    }

    /// Adds the required action `UPDATE_PASSWORD` to those the user already has. The
    /// whole representation goes back, so that nothing else of the user changes.
    async fn require_password_change(&self, user_id: &str) -> Result<()> {
        let path = format!("users/{}", seg(user_id));
        let mut user: serde_json::Value = self.get(&path).await?;
        let mut actions: Vec<serde_json::Value> = user["requiredActions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !actions.iter().any(|a| a == "UPDATE_PASSWORD") {
            actions.push("UPDATE_PASSWORD".into());
        }
        let Some(obj) = user.as_object_mut() else {
            return Err(Error::malformed("the user is not a JSON object"));
        };
        obj.insert("requiredActions".to_owned(), actions.into());
        self.call(Method::PUT, &path, Some(&user))
            .await
            .map_err(|e| needs(e, "setting a required action", "manage-users"))
            .map(|_| ())
    }

    /// By user name, else (for an address) by e-mail: people are found by either.
    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        let mut found: Vec<KcUser> = self
            .get(&format!(
                "users?username={}&exact=true&briefRepresentation=false",
                seg(username)
            ))
            .await?;
        found.retain(|u| u.username == username);
        if found.is_empty() && username.contains('@') {
            found = self
                .get(&format!(
                    "users?email={}&exact=true&briefRepresentation=false",
                    seg(username)
                ))
                .await?;
            found.retain(|u| {
                u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(username))
            });
        }
        // Whether the user is an admin decides whether the guards let them be disabled:
        // when that cannot be read, say so rather than guess "no".
        let Some(u) = found.into_iter().next() else {
            return Ok(None);
        };
        let supers = self
            .admins_among(vec![u.id.clone()])
            .await
            .map_err(|e| e.context("reading the realm's administrators"))?;
        Ok(Some(self.user_from(u, &supers)))
    }

    /// Probes every endpoint the poll reads, and the token's roles for what the actions
    /// need, and names each missing role.
    async fn check(&self) -> TenantCheck {
        self.check_connection().await
    }
}

/// A poll step's error, naming the role a 403 means is missing.
fn needs(e: Error, doing: &str, role: &str) -> Error {
    if e.code == ErrorCode::Forbidden {
        e.context(format!(
            "{doing} (the service account needs the realm-management role {role})"
        ))
    } else {
        e.context(doing)
    }
}

/// What the tenant form and `vigil tenant add --help` say of this kind.
pub(super) fn info() -> super::KindInfo {
    super::KindInfo {
        kind: crate::model::ConnectorKind::Keycloak,
        label: "Keycloak".into(),
        description: "One realm, through a confidential client whose service account has the realm-management \
                      roles view-users, manage-users, view-realm and view-clients. Online and offline sessions \
                      of every client. Keycloak keeps no user agent or expiry per session."
            .into(),
        url_hint: "https://sso.example.com".into(),
        secret_label: "Client secret".into(),
        options: vec![
            super::field("realm", "Realm", true, "The realm to watch, e.g. master or employees."),
            super::field("client_id", "Client ID", true, "The confidential client whose service account Vigil uses."),
        ],
        logout_effect: "ends every online and offline session of the user; their refresh tokens are refused from then on".into(),
        revoke_effect: "every consent is revoked, with its offline sessions and refresh tokens".into(),
        password_effect: "required action UPDATE_PASSWORD at the next sign-in".into(),
    }
}

pub(super) fn build(
    spec: &crate::model::TenantSpec,
    secret: crate::secret::SecretString,
) -> crate::error::Result<std::sync::Arc<dyn super::Connector>> {
    Ok(std::sync::Arc::new(KeycloakConnector::new(spec, secret)?))
}
