//! Mattermost through the API v4, with a system admin's personal access token.
//!
//! Users are paged (`page`/`per_page`); each active user's sessions come from
//! `/users/{id}/sessions` and their IPs from the user's audit trail (`/users/{id}/audits`,
//! which names the session of each entry). The session list carries each session's *token*:
//! it is dropped while parsing (the wire type has no field for it), so it is never shown,
//! logged or kept. Revoking needs the session's user: session → user ids are kept from the
//! last poll. Disabling deactivates the user (`active: false`, reversible). SuperUsers:
//! `system_admin` in the user's roles.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::auth::{Api, Credential, end_outcome, seg};
use super::{Connector, EndOutcome, PollUpdate};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    Capabilities, ConnectorKind, Session, TenantCheck, TenantSpec, User, normalize_ip,
};
use crate::secret::SecretString;

const PER_PAGE: usize = 200;
const MAX_PAGES: usize = 500;

#[derive(Deserialize, Clone)]
struct MmUser {
    id: String,
    username: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    position: Option<String>,
    #[serde(default)]
    roles: Option<String>,
    #[serde(default)]
    delete_at: Option<i64>,
}

/// A session as listed; `token` is deliberately absent so serde drops it.
#[derive(Deserialize)]
struct MmSession {
    id: String,
    user_id: String,
    #[serde(default)]
    create_at: Option<i64>,
    #[serde(default)]
    expires_at: Option<i64>,
    #[serde(default)]
    last_activity_at: Option<i64>,
    #[serde(default)]
    device_id: Option<String>,
    #[serde(default)]
    is_oauth: Option<bool>,
    #[serde(default)]
    props: HashMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Audit {
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(default)]
    create_at: Option<i64>,
}

pub struct MattermostConnector {
    api: Api,
    /// Session id → user id, from the last poll (revoking needs the user).
    owners: Mutex<HashMap<String, String>>,
}

fn ms(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.filter(|t| *t > 0)
        .and_then(DateTime::from_timestamp_millis)
}

fn is_admin(roles: Option<&str>) -> bool {
    roles.is_some_and(|r| r.split_whitespace().any(|p| p == "system_admin"))
}

fn user_from(u: MmUser) -> User {
    let mut user = User::new(u.id, u.username);
    user.email = u.email.filter(|e| !e.is_empty()).map(Into::into);
    user.display_name = match (&u.first_name, &u.last_name) {
        (Some(f), Some(l)) if !f.is_empty() && !l.is_empty() => Some(format!("{f} {l}")),
        (Some(n), _) | (_, Some(n)) if !n.is_empty() => Some(n.clone()),
        _ => u.nickname.filter(|n| !n.is_empty()),
    }
    .map(Into::into);
    user.first_name = u.first_name.filter(|n| !n.is_empty()).map(Into::into);
    user.last_name = u.last_name.filter(|n| !n.is_empty()).map(Into::into);
    user.department = u.position.filter(|p| !p.is_empty()).map(Into::into);
    user.superuser = is_admin(u.roles.as_deref());
    user.protected = user.superuser;
    user.disabled = u.delete_at.is_some_and(|d| d > 0);
    user
}

impl MattermostConnector {
    pub fn new(spec: &TenantSpec, token: SecretString) -> Result<Self> {
        Ok(Self {
            api: Api::new(
                spec,
                Credential::Static {
                    scheme: "Bearer",
                    token,
                    label: "personal access token",
                },
            )?,
            owners: Mutex::new(HashMap::new()),
        })
    }

    async fn users(&self) -> Result<Vec<MmUser>> {
        let mut all = Vec::new();
        for page in 0..MAX_PAGES {
            let batch: Vec<MmUser> = self
                .api
                .get_path(&format!("api/v4/users?page={page}&per_page={PER_PAGE}"))
                .await?;
            let n = batch.len();
            super::budget::charge_items(batch.len())?;
            all.extend(batch);
            if n < PER_PAGE {
                return Ok(all);
            }
        }
        Err(Error::malformed(format!(
            "users: more than {MAX_PAGES} pages"
        )))
    }

    async fn sessions_of(&self, user_id: &str) -> Result<Vec<MmSession>> {
        match self
            .api
            .get_path(&format!("api/v4/users/{}/sessions", seg(user_id)))
            .await
        {
            Err(e) if e.code == ErrorCode::NotFound => Ok(Vec::new()),
            other => other,
        }
    }

    /// The newest IP seen for each session of a user, from the user's audit trail.
    async fn ips_of(&self, user_id: &str) -> Result<HashMap<String, String>> {
        let audits: Vec<Audit> = self
            .api
            .get_path(&format!(
                "api/v4/users/{}/audits?page=0&per_page=200",
                seg(user_id)
            ))
            .await?;
        let mut newest: HashMap<String, (i64, String)> = HashMap::new();
        for a in audits {
            let (Some(sid), Some(ip)) =
                (a.session_id, a.ip_address.as_deref().and_then(normalize_ip))
            else {
                continue;
            };
            if sid.is_empty() {
                continue;
            }
            let at = a.create_at.unwrap_or(0);
            match newest.get(&sid) {
                Some((t, _)) if *t >= at => {}
                _ => {
                    newest.insert(sid, (at, ip));
                }
            }
        }
        Ok(newest.into_iter().map(|(k, (_, ip))| (k, ip)).collect())
    }

    fn session_from(&self, s: MmSession, user: &User, ip: Option<String>, me: &str) -> Session {
        let mut session = Session::new(
            self.api.tenant(),
            s.id,
            s.user_id.clone(),
            user.username.clone(),
        );
        session.annotate(user);
        let prop = |k: &str| {
            s.props
                .get(k)
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        session.user_agent = match (prop("browser"), prop("os")) {
            (Some(b), Some(os)) => Some(format!("{b} ({os})")),
            (b, os) => b.or(os),
        }
        .map(Into::into);
        let kind = prop("type");
        session.current = s.user_id == me && kind.as_deref() == Some("UserAccessToken");
        session.session_type = Some(match kind {
            Some(k) => k.into(),
            None if s.device_id.as_deref().is_some_and(|d| !d.is_empty()) => "mobile".into(),
            None => "web".into(),
        });
        session.login_type = if s.is_oauth == Some(true) {
            Some("oauth".into())
        } else if prop("isSaml").as_deref() == Some("true") {
            Some("saml".into())
        } else {
            None
        };
        session.ip = ip;
        session.created_at = ms(s.create_at);
        session.last_activity_at = ms(s.last_activity_at);
        session.expires_at = ms(s.expires_at);
        session
    }

    async fn set_active(&self, user_id: &str, active: bool) -> Result<User> {
        self.api
            .call(
                Method::PUT,
                &format!("api/v4/users/{}/active", seg(user_id)),
                Some(&serde_json::json!({ "active": active })),
            )
            .await?;
        let u: MmUser = self
            .api
            .get_path(&format!("api/v4/users/{}", seg(user_id)))
            .await?;
        Ok(user_from(u))
    }
}

#[async_trait]
impl Connector for MattermostConnector {
    fn tenant(&self) -> &Arc<str> {
        self.api.tenant()
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Mattermost
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::FULL_LISTING
    }

    async fn poll(&self) -> Result<PollUpdate> {
        let me: MmUser = self
            .api
            .get_path("api/v4/users/me")
            .await
            .map_err(|e| e.context("reading the token's user"))?;
        let users = self.users().await.map_err(|e| e.context("listing users"))?;
        let active: Vec<User> = users
            .into_iter()
            .map(user_from)
            .filter(|u| !u.disabled)
            .collect();
        let results = super::http::bounded(active, 4, |user: User| async move {
            let sessions = self.sessions_of(&user.id).await?;
            let ips = if sessions.is_empty() {
                HashMap::new()
            } else {
                self.ips_of(&user.id).await?
            };
            Ok::<_, Error>((user, sessions, ips))
        })
        .await;
        let mut out = Vec::new();
        let mut owners = HashMap::new();
        for r in results {
            let (user, sessions, ips) = r.map_err(|e| e.context("listing user sessions"))?;
            for s in sessions {
                owners.insert(s.id.clone(), s.user_id.clone());
                let ip = ips.get(&s.id).cloned();
                out.push(self.session_from(s, &user, ip, &me.id));
            }
        }
        *self.owners.lock().await = owners;
        Ok(PollUpdate::Full(out))
    }

    async fn reset(&self) {
        self.owners.lock().await.clear();
    }

    async fn end_session(&self, session_id: &str) -> Result<EndOutcome> {
        let Some(user_id) = self.owners.lock().await.get(session_id).cloned() else {
            return Err(Error::invalid_input(format!(
                "session {session_id} was not in the last poll; Mattermost revokes a session \
                 through its user, so refresh and try again"
            )));
        };
        let r = end_outcome(
            self.api
                .call(
                    Method::POST,
                    &format!("api/v4/users/{}/sessions/revoke", seg(&user_id)),
                    Some(&serde_json::json!({ "session_id": session_id })),
                )
                .await,
        );
        if r.is_ok() {
            self.owners.lock().await.remove(session_id);
        }
        r
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        let before = self.sessions_of(user_id).await?.len() as u64;
        self.api
            .call(
                Method::POST,
                &format!("api/v4/users/{}/sessions/revoke/all", seg(user_id)),
                None,
            )
            .await?;
        Ok(before)
    }

    /// Deactivating also revokes the user's sessions in Mattermost.
    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        self.set_active(user_id, !disabled).await
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        match self
            .api
            .get_path::<MmUser>(&format!("api/v4/users/username/{}", seg(username)))
            .await
        {
            Ok(u) => Ok(Some(user_from(u))),
            Err(e) if e.code == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn check(&self) -> TenantCheck {
        let mut check = self
            .api
            .check(
                "api/v4/users/me",
                Vec::new(),
                self.capabilities(),
                "the personal access token was not accepted",
            )
            .await;
        if check.authenticated
            && check.error.is_none()
            && let Ok(me) = self.api.get_path::<MmUser>("api/v4/users/me").await
        {
            check.permissions = me
                .roles
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect();
            if !is_admin(Some(&check.permissions.join(" "))) {
                check.error = Some(
                    Error::new(
                        ErrorCode::Forbidden,
                        "the token's user is not a system admin: sessions of other users \
                             cannot be read",
                    )
                    .payload(),
                );
            }
        }
        check
    }
}

/// What the tenant form and `vigil tenant add --help` say of this kind.
pub(super) fn info() -> super::KindInfo {
    super::KindInfo {
        kind: crate::model::ConnectorKind::Mattermost,
        label: "Mattermost".into(),
        description: "Sessions of every active user through the API v4; IPs from each user's audit trail. \
                      Session tokens are dropped as they arrive, never shown or kept. Disabling deactivates \
                      the user (reversible). SuperUsers: system admins. Secret: a system admin's personal \
                      access token."
            .into(),
        url_hint: "https://chat.example.com".into(),
        secret_label: "Personal access token".into(),
        options: Vec::new(),
        logout_effect: "revokes every session of the user, on every device".into(),
        revoke_effect: "".into(),
        password_effect: "".into(),
    }
}

pub(super) fn build(
    spec: &crate::model::TenantSpec,
    secret: crate::secret::SecretString,
) -> crate::error::Result<std::sync::Arc<dyn super::Connector>> {
    Ok(std::sync::Arc::new(MattermostConnector::new(spec, secret)?))
}
