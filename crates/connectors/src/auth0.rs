//! Auth0, one tenant, through the Management API v2 with a machine-to-machine app (client
//! credentials; audience `https://{domain}/api/v2/`). The session endpoints need Auth0's
//! Enterprise plan.
//!
//! Users are paged (`page`/`per_page`, `include_totals`), which Auth0 stops at 1,000 users
//! per query; as Auth0's documentation advises past that limit, the search is redefined:
//! users are read in order of `created_at` (`sort=created_at:1`, search engine v3), and
//! each window of 1,000 continues from the last `created_at` read
//! (`q=created_at:["…" TO *]`), so every user is reached. Each user's sessions are read with
//! the `from`/`take` checkpoint cursor. One session is ended with
//! `POST /sessions/{id}/revoke`, which also revokes its refresh tokens (or
//! `DELETE /sessions/{id}` where revoke is not offered), all of a user's with
//! `DELETE /users/{id}/sessions`; disabling sets `blocked`. SuperUsers: users holding a role
//! named in option `admin_roles` (default `admin`), read for users with sessions.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;

use super::auth::{Api, Credential, Grant, OAuth, SigningKey, end_outcome, is_pem_key, opt, seg};
use super::signin_log::UserCache;
use super::{Connector, EndOutcome, PollUpdate};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    Capabilities, ConnectorKind, Session, TenantCheck, TenantSpec, User, normalize_ip,
};
use crate::secret::SecretString;

const PER_PAGE: usize = 100;
/// Auth0 returns at most 1,000 users for one query.
const MAX_USER_PAGES: usize = 10;
/// Windows of 1,000 users: 10,000,000 users at most (the item budget stops it sooner).
const MAX_USER_WINDOWS: usize = 10_000;
const TAKE: usize = 100;
const MAX_SESSION_PAGES: usize = 100;

#[derive(Deserialize)]
struct UserPage {
    users: Vec<A0User>,
    #[serde(default)]
    total: Option<u64>,
}

#[derive(Deserialize, Clone)]
struct A0User {
    user_id: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default)]
    blocked: Option<bool>,
    #[serde(default)]
    app_metadata: Option<serde_json::Value>,
}

/// A page of a user's sessions: `{sessions, next}`, or a bare list, which Auth0's SDK
/// documents for requests without `include_totals`.
#[derive(Deserialize)]
#[serde(untagged)]
enum SessionPage {
    Page {
        sessions: Vec<A0Session>,
        #[serde(default)]
        next: Option<String>,
    },
    List(Vec<A0Session>),
}

#[derive(Deserialize)]
struct A0Session {
    id: String,
    user_id: String,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    last_interacted_at: Option<DateTime<Utc>>,
    #[serde(default)]
    idle_expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    device: Option<Device>,
    #[serde(default)]
    authentication: Option<Authentication>,
    #[serde(default)]
    cookie: Option<Cookie>,
}

#[derive(Deserialize, Default)]
struct Device {
    #[serde(default)]
    initial_user_agent: Option<String>,
    #[serde(default)]
    initial_ip: Option<String>,
    #[serde(default)]
    last_user_agent: Option<String>,
    #[serde(default)]
    last_ip: Option<String>,
}

#[derive(Deserialize)]
struct Authentication {
    #[serde(default)]
    methods: Vec<AuthMethod>,
}

#[derive(Deserialize)]
struct AuthMethod {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Cookie {
    #[serde(default)]
    mode: Option<String>,
}

#[derive(Deserialize)]
struct Role {
    name: String,
}

pub struct Auth0Connector {
    api: Api,
    admin_roles: HashSet<String>,
    /// Whether a user holds an admin role, cached for a few minutes (one request per user).
    admins: UserCache,
}

fn user_from(u: A0User) -> User {
    let username = u
        .username
        .clone()
        .or_else(|| u.email.clone())
        .unwrap_or_else(|| u.user_id.clone());
    let mut user = User::new(u.user_id, username);
    user.email = u.email.map(Into::into);
    user.display_name = u.name.map(Into::into);
    user.first_name = u.given_name.map(Into::into);
    user.last_name = u.family_name.map(Into::into);
    let meta = |k: &str| {
        u.app_metadata
            .as_ref()
            .and_then(|m| m[k].as_str())
            .map(str::to_owned)
    };
    user.department = meta("department").map(Into::into);
    user.organisation = meta("organisation")
        .or_else(|| meta("organization"))
        .map(Into::into);
    user.disabled = u.blocked == Some(true);
    user
}

impl Auth0Connector {
    pub fn new(spec: &TenantSpec, secret: SecretString) -> Result<Self> {
        let client_id = spec.option("client_id")?.to_owned();
        let base = spec.base_url.as_str().trim_end_matches('/').to_owned();
        let audience = opt(spec, "audience").unwrap_or_else(|| format!("{base}/api/v2/"));
        let token_url = url::Url::parse(&format!("{base}/oauth/token"))
            .map_err(|e| Error::config(format!("bad tenant URL: {e}")))?;
        let grant = if is_pem_key(&secret) {
            Grant::ClientAssertion {
                client_id,
                key: SigningKey::from_pem(secret.expose())?,
                kid: None,
                x5t: None,
                audience: Some(format!("{base}/")),
            }
        } else {
            Grant::ClientSecret { client_id, secret }
        };
        let oauth = OAuth::new(spec, token_url, grant, vec![("audience".into(), audience)])?;
        let admin_roles = opt(spec, "admin_roles")
            .unwrap_or_else(|| "admin".into())
            .split(',')
            .map(|r| r.trim().to_lowercase())
            .filter(|r| !r.is_empty())
            .collect();
        Ok(Self {
            api: Api::new(spec, Credential::oauth(oauth))?,
            admin_roles,
            admins: UserCache::new(Duration::from_secs(300)),
        })
    }

    /// Every user, and how many could not be reached (only when more than 1,000 users
    /// share one `created_at`, so that no narrower search exists).
    async fn users(&self) -> Result<(Vec<A0User>, usize)> {
        let mut all: Vec<A0User> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut from: Option<String> = None;
        let mut total: Option<u64> = None;
        for _ in 0..MAX_USER_WINDOWS {
            let (mut read, mut added, mut last) = (0u64, 0usize, None::<String>);
            let mut complete = false;
            for page in 0..MAX_USER_PAGES {
                let mut url = self.api.url("api/v2/users")?;
                {
                    let mut q = url.query_pairs_mut();
                    q.append_pair("page", &page.to_string())
                        .append_pair("per_page", &PER_PAGE.to_string())
                        .append_pair("include_totals", "true")
                        .append_pair("sort", "created_at:1")
                        .append_pair("search_engine", "v3");
                    if let Some(f) = &from {
                        q.append_pair(
                            "q",
                            &format!("created_at:[\"{}\" TO *]", f.replace('"', "")),
                        );
                    }
                }
                let p: UserPage = self.api.get(url).await?;
                let n = p.users.len();
                super::budget::charge_items(n)?;
                let window_total = p.total.unwrap_or(0);
                total.get_or_insert(window_total);
                read = read.saturating_add(n as u64);
                for u in p.users {
                    if let Some(c) = &u.created_at {
                        last = Some(c.clone());
                    }
                    if seen.insert(u.user_id.clone()) {
                        all.push(u);
                        added += 1;
                    }
                }
                if n < PER_PAGE || read >= window_total {
                    complete = true;
                    break;
                }
            }
            if complete {
                return Ok((all, 0));
            }
            // A full window: go on from the last creation time read (inclusive, so that
            // users created in the same instant are not skipped; they are read twice).
            match last {
                Some(c) if added > 0 && from.as_deref() != Some(c.as_str()) => from = Some(c),
                _ => break,
            }
        }
        let total = usize::try_from(total.unwrap_or(0)).unwrap_or(usize::MAX);
        let unread = total.saturating_sub(all.len()).max(1);
        Ok((all, unread))
    }

    async fn user_sessions(&self, user_id: &str) -> Result<Vec<A0Session>> {
        let mut all = Vec::new();
        let mut from: Option<String> = None;
        for _ in 0..MAX_SESSION_PAGES {
            let mut url = self
                .api
                .url(&format!("api/v2/users/{}/sessions", seg(user_id)))?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("take", &TAKE.to_string());
                if let Some(f) = &from {
                    q.append_pair("from", f);
                }
            }
            let (sessions, next) = match self.api.get::<SessionPage>(url).await? {
                SessionPage::Page { sessions, next } => (sessions, next),
                SessionPage::List(sessions) => (sessions, None),
            };
            let n = sessions.len();
            super::budget::charge_items(n)?;
            all.extend(sessions);
            match next.filter(|n| !n.is_empty()) {
                Some(next) if n > 0 => from = Some(next),
                _ => return Ok(all),
            }
        }
        // The sessions past the last page read would be taken for ended: refuse instead.
        Err(Error::malformed(format!(
            "a user's sessions: more than {MAX_SESSION_PAGES} pages"
        )))
    }

    async fn is_admin(&self, user_id: &str) -> Result<bool> {
        let roles: Vec<Role> = self
            .api
            .get_path(&format!("api/v2/users/{}/roles", seg(user_id)))
            .await?;
        Ok(roles
            .iter()
            .any(|r| self.admin_roles.contains(&r.name.to_lowercase())))
    }

    /// Admin flags of these users (cached); the flag is carried in `User::superuser`.
    async fn admin_flags(&self, ids: Vec<String>) -> Result<HashMap<String, bool>> {
        let found = self
            .admins
            .resolve(ids, 4, |id| async move {
                let admin = self.is_admin(&id).await?;
                let mut u = User::new(id.clone(), id);
                u.superuser = admin;
                Ok(u)
            })
            .await?;
        Ok(found.into_iter().map(|(id, u)| (id, u.superuser)).collect())
    }

    fn session_from(&self, s: A0Session, user: Option<&User>) -> Session {
        let tenant = self.api.tenant();
        let mut session = Session::new(tenant, s.id, s.user_id.clone(), s.user_id);
        if let Some(u) = user {
            session.annotate(u);
        }
        let d = s.device.unwrap_or_default();
        session.ip = d.last_ip.or(d.initial_ip).as_deref().and_then(normalize_ip);
        session.user_agent = d.last_user_agent.or(d.initial_user_agent).map(Into::into);
        session.created_at = s.created_at;
        session.last_activity_at = s.last_interacted_at;
        session.expires_at = match (s.idle_expires_at, s.expires_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        session.login_type = s
            .authentication
            .and_then(|a| a.methods.into_iter().find_map(|m| m.name))
            .map(Into::into);
        session.session_type = s.cookie.and_then(|c| c.mode).map(Into::into);
        session
    }

    async fn set_blocked(&self, user_id: &str, blocked: bool) -> Result<User> {
        let u: A0User = self
            .api
            .json(
                Method::PATCH,
                &format!("api/v2/users/{}", seg(user_id)),
                Some(&serde_json::json!({ "blocked": blocked })),
            )
            .await?;
        let mut user = user_from(u);
        user.superuser = self.is_admin(user_id).await?;
        user.protected = user.superuser;
        Ok(user)
    }
}

#[async_trait]
impl Connector for Auth0Connector {
    fn tenant(&self) -> &Arc<str> {
        self.api.tenant()
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Auth0
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            revoke_grants: true,
            ..Capabilities::FULL_LISTING
        }
    }

    /// Every refresh token of the user (`DELETE /api/v2/users/{id}/refresh-tokens`):
    /// ending sessions leaves them working.
    async fn revoke_grants(&self, user_id: &str) -> Result<u64> {
        self.api
            .call(
                Method::DELETE,
                &format!("api/v2/users/{}/refresh-tokens", seg(user_id)),
                None,
            )
            .await?;
        Ok(0)
    }

    async fn poll(&self) -> Result<PollUpdate> {
        let (users, unread) = self.users().await.map_err(|e| e.context("listing users"))?;
        let active: Vec<String> = users
            .iter()
            .filter(|u| u.blocked != Some(true))
            .map(|u| u.user_id.clone())
            .collect();
        let pages = super::http::bounded(active, 4, |id: String| async move {
            match self.user_sessions(&id).await {
                Err(e) if e.code == ErrorCode::NotFound => Ok(Vec::new()),
                other => other,
            }
        })
        .await;
        let mut sessions = Vec::new();
        for page in pages {
            sessions.extend(page.map_err(|e| e.context("listing user sessions"))?);
        }
        let with_sessions: Vec<String> = sessions
            .iter()
            .map(|s| s.user_id.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let admins = self
            .admin_flags(with_sessions)
            .await
            .map_err(|e| e.context("reading user roles"))?;
        let by_id: HashMap<&str, User> = users
            .iter()
            .map(|u| {
                let mut user = user_from(u.clone());
                user.superuser = admins.get(&u.user_id).copied().unwrap_or(false);
                user.protected = user.superuser;
                (u.user_id.as_str(), user)
            })
            .collect();
        let out = sessions
            .into_iter()
            .map(|s| {
                let user = by_id.get(s.user_id.as_str());
                self.session_from(s, user)
            })
            .collect();
        if unread > 0 {
            // The sessions of the users Auth0 would not list were not seen: they are kept,
            // never recorded as ended.
            return Ok(PollUpdate::Partial {
                sessions: out,
                incomplete: format!(
                    "Auth0 lists at most {} users per query, and more of them than that share one creation time: the sessions of {unread} of {} users were not read and are kept as they were",
                    PER_PAGE * MAX_USER_PAGES,
                    users.len().saturating_add(unread)
                ),
            });
        }
        Ok(PollUpdate::Full(out))
    }

    async fn reset(&self) {
        self.admins.clear().await;
        self.api.reset().await;
    }

    /// Revoke: the session and its refresh tokens. Where revoke answers 404 (a tenant
    /// without it, or a session already gone), `DELETE` decides.
    async fn end_session(&self, session_id: &str) -> Result<EndOutcome> {
        let revoked = self
            .api
            .call(
                Method::POST,
                &format!("api/v2/sessions/{}/revoke", seg(session_id)),
                None,
            )
            .await;
        match revoked {
            Err(e) if e.code == ErrorCode::NotFound => end_outcome(
                self.api
                    .call(
                        Method::DELETE,
                        &format!("api/v2/sessions/{}", seg(session_id)),
                        None,
                    )
                    .await,
            ),
            other => end_outcome(other),
        }
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        let before = self.user_sessions(user_id).await?.len() as u64;
        self.api
            .call(
                Method::DELETE,
                &format!("api/v2/users/{}/sessions", seg(user_id)),
                None,
            )
            .await?;
        Ok(before)
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        self.set_blocked(user_id, disabled).await
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        let found: Vec<A0User> = if username.contains('@') {
            let mut url = self.api.url("api/v2/users-by-email")?;
            url.query_pairs_mut().append_pair("email", username);
            self.api.get(url).await?
        } else {
            let mut url = self.api.url("api/v2/users")?;
            url.query_pairs_mut()
                .append_pair("q", &format!("username:\"{}\"", username.replace('"', "")))
                .append_pair("search_engine", "v3");
            self.api.get(url).await?
        };
        let Some(u) = found.into_iter().next() else {
            return Ok(None);
        };
        let mut user = user_from(u);
        user.superuser = self.is_admin(&user.id).await?;
        user.protected = user.superuser;
        Ok(Some(user))
    }

    async fn check(&self) -> TenantCheck {
        self.api
            .check(
                "api/v2/users?per_page=1&include_totals=true",
                Vec::new(),
                self.capabilities(),
                "the app cannot read users (needs read:users on the Management API)",
            )
            .await
    }
}

/// What the tenant form and `vigil tenant add --help` say of this kind.
pub(super) fn info() -> super::KindInfo {
    super::KindInfo {
        kind: crate::model::ConnectorKind::Auth0,
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
            super::field("client_id", "Client ID", true, "The machine-to-machine application's client id."),
            super::field("audience", "API audience", false, "Default https://{domain}/api/v2/ from the URL; set it when the URL is a custom domain."),
            super::field("admin_roles", "Admin roles", false, "Comma-separated role names that mark SuperUsers; default admin."),
        ],
        logout_effect: "deletes every session of the user; refresh tokens are not revoked by it".into(),
        revoke_effect: "every refresh token is revoked".into(),
        password_effect: "".into(),
    }
}

pub(super) fn build(
    spec: &crate::model::TenantSpec,
    secret: crate::secret::SecretString,
) -> crate::error::Result<std::sync::Arc<dyn super::Connector>> {
    Ok(std::sync::Arc::new(Auth0Connector::new(spec, secret)?))
}
