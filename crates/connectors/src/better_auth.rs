//! Better Auth with the admin plugin, authenticated as an admin through the bearer plugin
//! (`Authorization: Bearer <session token>`). The base URL is the auth mount point,
//! usually `https://app.example.com/api/auth`.
//!
//! Users are paged with `limit`/`offset`; each user's sessions are read with bounded
//! concurrency. Better Auth revokes a session by its *token*: tokens are kept in memory,
//! keyed by session id, only as long as the session is listed, and are never shown,
//! logged or stored. `updatedAt` is not a last-seen time, so last activity stays unknown.
//! Users have no user name: the e-mail address serves as one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

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

const PAGE: usize = 100;
const MAX_PAGES: usize = 10_000;
const CONCURRENCY: usize = 8;

#[derive(Deserialize)]
struct UserList {
    users: Vec<BaUser>,
    #[serde(default)]
    total: Option<u64>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct BaUser {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    banned: Option<bool>,
}

#[derive(Deserialize)]
struct SessionList {
    sessions: Vec<BaSession>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BaSession {
    id: String,
    #[serde(default)]
    token: Option<String>,
    user_id: String,
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    impersonated_by: Option<String>,
}

#[derive(Deserialize)]
struct GetSession {
    session: BaSession,
}

pub struct BetterAuthConnector {
    tenant: Arc<str>,
    http: HttpClient,
    token: SecretString,
    /// Session id → session token, for revoking (memory only).
    tokens: Mutex<HashMap<String, SecretString>>,
    /// When an action last re-listed to learn tokens: unknown targets share one listing
    /// (ending 10,000 stale rows must not list the tenant 10,000 times).
    /// The attempt's time and, when it failed, why (a failed listing answers the targets
    /// that share it with its error, never with "already gone").
    relisted: Mutex<Option<(Instant, Option<Error>)>>,
    /// The tenant's per-poll limits, for the listings actions make.
    limits: crate::model::Limits,
}

/// An action's re-listing serves every unknown target asked about within this time.
const RELIST_FRESH: std::time::Duration = std::time::Duration::from_secs(10);

fn is_admin(role: Option<&str>) -> bool {
    role.is_some_and(|r| r.split(',').any(|p| p.trim().eq_ignore_ascii_case("admin")))
}

impl BetterAuthConnector {
    pub fn new(spec: &TenantSpec, token: SecretString) -> Result<Self> {
        Ok(Self {
            tenant: Arc::from(spec.name.as_str()),
            http: HttpClient::for_spec(&spec.base_url, spec)?,
            token,
            tokens: Mutex::new(HashMap::new()),
            relisted: Mutex::new(None),
            limits: spec.limits,
        })
    }

    /// Re-lists the tenant to learn session tokens, unless a listing finished after
    /// `asked` or within [`RELIST_FRESH`]: concurrent and consecutive unknown targets
    /// share one listing.
    async fn relist(&self, asked: Instant) -> Result<()> {
        let mut last = self.relisted.lock().await;
        if let Some((at, outcome)) = last.as_ref()
            && (*at >= asked || at.elapsed() < RELIST_FRESH)
        {
            return outcome.clone().map_or(Ok(()), Err);
        }
        let outcome = super::budget::scope(self.limits, self.poll())
            .await
            .err()
            .map(|e| e.context("listing the tenant to find the session"));
        *last = Some((Instant::now(), outcome.clone()));
        outcome.map_or(Ok(()), Err)
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        match self.http.get_json(path, &self.token, None).await? {
            Fetched::Fresh { value, .. } => Ok(value),
            Fetched::NotModified => Err(Error::malformed("304 without a conditional request")),
        }
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<T> {
        self.http
            .call_json(Method::POST, path, &self.token, Some(&body))
            .await
    }

    fn user_from(u: &BaUser) -> User {
        let username = u.email.clone().unwrap_or_else(|| u.id.clone());
        let mut user = User::new(u.id.clone(), username);
        user.email = u.email.as_deref().map(Into::into);
        user.display_name = u.name.clone().filter(|n| !n.is_empty()).map(Into::into);
        user.superuser = is_admin(u.role.as_deref());
        user.disabled = u.banned == Some(true);
        user
    }

    async fn users(&self) -> Result<Vec<BaUser>> {
        let mut all = Vec::new();
        for page in 0..MAX_PAGES {
            let list: UserList = self
                .get(&format!(
                    "admin/list-users?limit={PAGE}&offset={}&sortBy=createdAt",
                    page * PAGE
                ))
                .await?;
            let n = list.users.len();
            super::budget::charge_items(list.users.len())?;
            all.extend(list.users);
            let done = list.total.map_or(n < PAGE, |t| all.len() as u64 >= t);
            if done || n == 0 {
                return Ok(all);
            }
        }
        Err(Error::malformed("listing users: too many pages"))
    }

    async fn sessions_of(&self, user_id: &str) -> Result<Vec<BaSession>> {
        let list: SessionList = self
            .post(
                "admin/list-user-sessions",
                serde_json::json!({ "userId": user_id }),
            )
            .await?;
        Ok(list.sessions)
    }

    /// Vigil's own session (the bearer token's), if the server says.
    async fn own_session_id(&self) -> Option<String> {
        self.get::<GetSession>("get-session")
            .await
            .ok()
            .map(|g| g.session.id)
    }

    /// Ban or unban; both answer `{user}`.
    async fn set_banned(&self, user_id: &str, banned: bool) -> Result<User> {
        #[derive(Deserialize)]
        struct Answer {
            user: BaUser,
        }
        let answer: Answer = if banned {
            let body = serde_json::json!({ "userId": user_id, "banReason": "disabled by an administrator with Vigil" });
            self.post("admin/ban-user", body).await?
        } else {
            self.post("admin/unban-user", serde_json::json!({ "userId": user_id }))
                .await?
        };
        Ok(Self::user_from(&answer.user))
    }
}

fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[async_trait]
impl Connector for BetterAuthConnector {
    fn tenant(&self) -> &Arc<str> {
        &self.tenant
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::BetterAuth
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            require_password_change: true,
            ..Capabilities::FULL_LISTING
        }
    }

    /// Better Auth cannot ask for a new password at the next sign-in: the admin plugin
    /// sets a random one no one knows, so password sign-in needs a reset first.
    async fn require_password_change(&self, user_id: &str) -> Result<()> {
        let password = super::random_password();
        let body = serde_json::json!({ "userId": user_id, "newPassword": password.expose() });
        let _: serde_json::Value = self.post("admin/set-user-password", body).await?;
        Ok(())
    }

    async fn poll(&self) -> Result<PollUpdate> {
        let users = self.users().await.map_err(|e| e.context("listing users"))?;
        let own = self.own_session_id().await;
        let per_user = bounded(users, CONCURRENCY, |u| async move {
            let sessions = self.sessions_of(&u.id).await;
            (u, sessions)
        })
        .await;
        let mut tokens = HashMap::new();
        let mut out = Vec::new();
        for (u, sessions) in per_user {
            let user = Self::user_from(&u);
            let sessions = match sessions {
                Ok(s) => s,
                Err(e) if e.code == ErrorCode::NotFound => continue,
                Err(e) => return Err(e.context(format!("listing sessions of {}", user.username))),
            };
            for s in sessions {
                let mut session = Session::new(
                    &self.tenant,
                    s.id.clone(),
                    s.user_id.clone(),
                    user.username.clone(),
                );
                session.annotate(&user);
                session.current = own.as_deref() == Some(s.id.as_str());
                session.ip = s.ip_address.as_deref().and_then(normalize_ip);
                session.user_agent = s.user_agent.filter(|i| !i.is_empty()).map(Into::into);
                session.created_at = s.created_at;
                session.expires_at = s.expires_at;
                session.session_type = Some(
                    if s.impersonated_by.is_some() {
                        "impersonation"
                    } else {
                        "browser"
                    }
                    .into(),
                );
                if let Some(t) = s.token {
                    tokens.insert(s.id.clone(), SecretString::new(t));
                }
                out.push(session);
            }
        }
        *self.tokens.lock().await = tokens;
        Ok(PollUpdate::Full(out))
    }

    async fn reset(&self) {}

    async fn end_session(&self, session_id: &str) -> Result<EndOutcome> {
        let asked = Instant::now();
        let mut token = self.tokens.lock().await.get(session_id).cloned();
        if token.is_none() {
            // Not seen by a poll of this connector yet (a fresh CLI run, or a session newer
            // than the last poll): list again to learn its token, once for all of them.
            self.relist(asked).await?;
            token = self.tokens.lock().await.get(session_id).cloned();
        }
        let Some(token) = token else {
            return Ok(EndOutcome::AlreadyGone);
        };
        let body = serde_json::json!({ "sessionToken": token.expose() });
        let _: serde_json::Value = self.post("admin/revoke-user-session", body).await?;
        self.tokens.lock().await.remove(session_id);
        Ok(EndOutcome::Ended)
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        let n = self.sessions_of(user_id).await?.len() as u64;
        let _: serde_json::Value = self
            .post(
                "admin/revoke-user-sessions",
                serde_json::json!({ "userId": user_id }),
            )
            .await?;
        Ok(n)
    }

    /// Banning also ends the user's sessions in Better Auth.
    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        self.set_banned(user_id, disabled).await
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        let list: UserList = self
            .get(&format!(
                "admin/list-users?searchField=email&searchOperator=contains&searchValue={}&limit=100",
                seg(username)
            ))
            .await?;
        Ok(list
            .users
            .iter()
            .find(|u| {
                u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(username))
            })
            .map(Self::user_from))
    }

    async fn check(&self) -> TenantCheck {
        let started = Instant::now();
        let sent = Utc::now();
        let who = match self.http.url("get-session") {
            Ok(u) => {
                self.http
                    .get_json_headers::<Option<serde_json::Value>>(u, &self.token)
                    .await
            }
            Err(e) => Err(e),
        };
        let latency = started.elapsed();
        let (me, headers) = match who {
            Ok((Some(v), h)) => (v, h),
            Ok((None, _)) => {
                return TenantCheck {
                    reachable: true,
                    error: Some(
                        Error::new(
                            ErrorCode::Unauthorized,
                            "credential rejected (no session for this token)",
                        )
                        .payload(),
                    ),
                    ..TenantCheck::default()
                };
            }
            Err(e) => {
                return TenantCheck::failed(&e);
            }
        };
        let role = me["user"]["role"].as_str().map(str::to_owned);
        let admin = self.get::<UserList>("admin/list-users?limit=1").await;
        let base = TenantCheck {
            capabilities: None,
            ..check_accepted(
                &headers,
                sent,
                latency,
                role.iter().map(|r| format!("role: {r}")).collect(),
                self.capabilities(),
            )
        };
        match admin {
            Ok(_) => TenantCheck {
                capabilities: Some(self.capabilities()),
                ..base
            },
            Err(e) => TenantCheck {
                error: Some(
                    e.context("the session is valid but may not use the admin API")
                        .payload(),
                ),
                ..base
            },
        }
    }
}

/// What the tenant form and `vigil tenant add --help` say of this kind.
pub(super) fn info() -> super::KindInfo {
    super::KindInfo {
        kind: crate::model::ConnectorKind::BetterAuth,
        label: "Better Auth".into(),
        description: "Apps using Better Auth with the admin and bearer plugins. The URL is the auth mount \
                      point (…/api/auth); the secret is an admin's session token. Disabling bans the user."
            .into(),
        url_hint: "https://app.example.com/api/auth".into(),
        secret_label: "Admin session token".into(),
        options: Vec::new(),
        logout_effect: "revokes every session of the user".into(),
        revoke_effect: "".into(),
        password_effect: "a random password no one knows is set: signing in with a password needs a reset first".into(),
    }
}

pub(super) fn build(
    spec: &crate::model::TenantSpec,
    secret: crate::secret::SecretString,
) -> crate::error::Result<std::sync::Arc<dyn super::Connector>> {
    Ok(std::sync::Arc::new(BetterAuthConnector::new(spec, secret)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_roles() {
        assert!(is_admin(Some("admin")));
        assert!(is_admin(Some("user, admin")));
        assert!(!is_admin(Some("administrator")));
        assert!(!is_admin(None));
    }

    /// Ending many sessions the connector has not listed (stale rows, a fresh CLI run)
    /// lists the tenant once, not once per session.
    #[tokio::test]
    async fn unknown_targets_share_one_listing() -> Result<()> {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/auth/admin/list-users"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "users": [{"id": "u1", "email": "a@example.com", "name": "A", "role": "user"}],
                "total": 1
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/auth/admin/list-user-sessions"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"sessions": []})),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/auth/get-session"))
            .respond_with(ResponseTemplate::new(401))
            .mount(&server)
            .await;
        let spec = TenantSpec::new(
            "ba",
            ConnectorKind::BetterAuth,
            &format!("{}/api/auth", server.uri()),
        )?;
        let c = Arc::new(BetterAuthConnector::new(&spec, SecretString::new("t"))?);
        // 40 at once, then 40 one after another.
        let ids: Vec<String> = (0..80).map(|i| format!("stale-{i}")).collect();
        let outcomes = bounded(ids[..40].to_vec(), 8, |id| {
            let c = Arc::clone(&c);
            async move { c.end_session(&id).await }
        })
        .await;
        for id in &ids[40..] {
            assert_eq!(c.end_session(id).await?, EndOutcome::AlreadyGone);
        }
        assert!(
            outcomes
                .into_iter()
                .all(|o| o.ok() == Some(EndOutcome::AlreadyGone))
        );
        server.verify().await;

        // A tenant that fails the listing: every target that shares it gets the error
        // (never "already gone"), and it is still listed once.
        let failing = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/auth/admin/list-users"))
            .respond_with(ResponseTemplate::new(500))
            .expect(1)
            .mount(&failing)
            .await;
        let spec = TenantSpec::new(
            "ba",
            ConnectorKind::BetterAuth,
            &format!("{}/api/auth", failing.uri()),
        )?;
        let c = BetterAuthConnector::new(&spec, SecretString::new("t"))?;
        for id in &ids[..20] {
            let e = c.end_session(id).await.err();
            assert_eq!(e.map(|e| e.code), Some(ErrorCode::ServerError));
        }
        failing.verify().await;
        Ok(())
    }
}
