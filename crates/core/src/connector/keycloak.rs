//! Keycloak (one realm), through a confidential client's service account (client
//! credentials). The service account needs `view-users` and `manage-users` of the realm's
//! `realm-management` client; `vigil tenant test` shows which roles the token carries.
//!
//! Sessions: Keycloak has no realm-wide session list. The realm's
//! `client-session-stats` names the clients with active sessions; each client's
//! `user-sessions` is paged and the results merged by session id (a session used by two
//! clients appears under both). Keycloak keeps no user agent and no expiry per session.
//! SuperUsers: members of `realm-admin` (client role of `realm-management`) or of a realm
//! role named `admin`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
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

const PAGE: usize = 500;
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
}

#[derive(Deserialize)]
struct ClientStat {
    id: String,
    #[serde(default)]
    active: Option<serde_json::Value>,
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

    async fn superusers(&self) -> Result<HashSet<String>> {
        let mut ids = HashSet::new();
        let clients: Vec<KcClient> = self.get("clients?clientId=realm-management").await?;
        if let Some(rm) = clients.first() {
            match self
                .paged::<KcUser>(&format!("clients/{}/roles/realm-admin/users", seg(&rm.id)))
                .await
            {
                Ok(users) => ids.extend(users.into_iter().map(|u| u.id)),
                Err(e) if e.code == ErrorCode::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        match self.paged::<KcUser>("roles/admin/users").await {
            Ok(users) => ids.extend(users.into_iter().map(|u| u.id)),
            Err(e) if e.code == ErrorCode::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(ids)
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
        user.department = attr("department");
        user.organisation = attr("organisation").or_else(|| attr("organization"));
        user.display_name = match (&u.first_name, &u.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (Some(n), None) | (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        };
        user.first_name = u.first_name;
        user.last_name = u.last_name;
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
        let supers = self.superusers().await.unwrap_or_default();
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
        Capabilities::FULL_LISTING
    }

    async fn poll(&self) -> Result<PollUpdate> {
        let supers = self
            .superusers()
            .await
            .map_err(|e| e.context("reading admin role members"))?;
        let users: Vec<KcUser> = self
            .paged("users?briefRepresentation=false")
            .await
            .map_err(|e| e.context("listing users"))?;
        let users: HashMap<String, User> = users
            .into_iter()
            .map(|u| (u.id.clone(), self.user_from(u, &supers)))
            .collect();
        let stats: Vec<ClientStat> = self
            .get("client-session-stats")
            .await
            .map_err(|e| e.context("reading client session stats"))?;
        let active: Vec<String> = stats
            .into_iter()
            .filter(|s| {
                s.active
                    .as_ref()
                    .and_then(|v| v.as_str().map(|x| x != "0").or(v.as_u64().map(|n| n > 0)))
                    .unwrap_or(true)
            })
            .map(|s| s.id)
            .collect();
        let pages = bounded(active, CONCURRENCY, |client| async move {
            self.paged::<KcSession>(&format!("clients/{}/user-sessions", seg(&client)))
                .await
        })
        .await;
        let mut sessions: HashMap<String, Session> = HashMap::new();
        for page in pages {
            for s in page.map_err(|e| e.context("listing client sessions"))? {
                if sessions.contains_key(&s.id) {
                    continue;
                }
                let username = s.username.clone().unwrap_or_else(|| s.user_id.clone());
                let mut session =
                    Session::new(&self.tenant, s.id.clone(), s.user_id.clone(), username);
                if let Some(u) = users.get(&s.user_id) {
                    session.annotate(u);
                }
                session.ip = s.ip_address.as_deref().and_then(normalize_ip);
                session.created_at = ms(s.start);
                session.last_activity_at = ms(s.last_access);
                session.session_type = Some(
                    if s.remember_me == Some(true) {
                        "remember-me"
                    } else {
                        "browser"
                    }
                    .to_owned(),
                );
                sessions.insert(s.id, session);
            }
        }
        Ok(PollUpdate::Full(sessions.into_values().collect()))
    }

    async fn reset(&self) {
        *self.token.lock().await = None;
    }

    async fn end_session(&self, session_id: &str) -> Result<EndOutcome> {
        match self
            .call(
                Method::DELETE,
                &format!("sessions/{}", seg(session_id)),
                None,
            )
            .await
        {
            Ok(()) => Ok(EndOutcome::Ended),
            Err(e) if e.code == ErrorCode::NotFound => Ok(EndOutcome::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        let before: Vec<KcSession> = self
            .get(&format!("users/{}/sessions", seg(user_id)))
            .await?;
        self.call(
            Method::POST,
            &format!("users/{}/logout", seg(user_id)),
            None,
        )
        .await?;
        Ok(before.len() as u64)
    }

    async fn disable_user(&self, user_id: &str, end_sessions: bool) -> Result<User> {
        let user = self.set_enabled(user_id, false).await?;
        if end_sessions {
            self.end_user_sessions(user_id).await?;
        }
        Ok(user)
    }

    async fn enable_user(&self, user_id: &str) -> Result<User> {
        self.set_enabled(user_id, true).await
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        let found: Vec<KcUser> = self
            .get(&format!(
                "users?username={}&exact=true&briefRepresentation=false",
                seg(username)
            ))
            .await?;
        // Whether the user is an admin decides whether the guards let them be disabled:
        // when that cannot be read, say so rather than guess "no".
        let supers = self
            .superusers()
            .await
            .map_err(|e| e.context("reading the realm's administrators"))?;
        Ok(found
            .into_iter()
            .find(|u| u.username == username)
            .map(|u| self.user_from(u, &supers)))
    }

    async fn check(&self) -> TenantCheck {
        let started = Instant::now();
        let sent = Utc::now();
        let token = match self.token(true).await {
            Ok(t) => t,
            Err(e) => {
                return TenantCheck::failed(&e);
            }
        };
        let url = match self.http.url(&self.admin("users/count")) {
            Ok(u) => u,
            Err(e) => {
                return TenantCheck {
                    error: Some(e.payload()),
                    ..TenantCheck::default()
                };
            }
        };
        let result = self
            .http
            .get_json_headers::<serde_json::Value>(url, &token)
            .await;
        let latency = started.elapsed();
        let permissions = token_roles(&token);
        match result {
            Ok((_, headers)) => {
                check_accepted(&headers, sent, latency, permissions, self.capabilities())
            }
            Err(e) => TenantCheck {
                reachable: true,
                authenticated: e.code != ErrorCode::Unauthorized,
                permissions,
                error: Some(
                    e.context("the service account cannot read users (needs view-users)")
                        .payload(),
                ),
                ..TenantCheck::default()
            },
        }
    }
}

/// The `realm-management` roles in the access token (read, not verified: it is ours).
fn token_roles(token: &SecretString) -> Vec<String> {
    use base64::Engine;
    let Some(payload) = token.expose().split('.').nth(1) else {
        return Vec::new();
    };
    let Ok(bytes) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
    else {
        return Vec::new();
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    let mut roles: Vec<String> = claims["resource_access"]["realm-management"]["roles"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    roles.sort();
    roles
}
