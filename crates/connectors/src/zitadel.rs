//! Zitadel, one instance, through the v2 session and user services.
//!
//! Sessions: `POST /v2/sessions/search` paged by offset/limit. It lists the sessions of the
//! session API and the hosted login; tokens issued outside a session (e.g. a service user's
//! client credentials) are not sessions and do not appear, and what is visible depends on
//! the credential's permissions. Sessions not yet tied to a user are skipped. One session is
//! ended with `DELETE /v2/sessions/{id}`; Zitadel has no call for all of a user's sessions,
//! so Vigil searches them by user and deletes each. Disabling deactivates the user
//! (`/v2/users/{id}/deactivate`, reversible with `reactivate`).
//! SuperUsers: instance (IAM) members and members of the credential's organisation, read
//! through the admin and management APIs when the credential may; without that permission
//! nobody is marked.
//!
//! Credential: a service user's personal access token, or its JSON key (JWT profile grant).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use super::auth::{Api, Credential, Grant, OAuth, SigningKey, end_outcome, seg};
use super::signin_log::{UserCache, annotate};
use super::{Connector, EndOutcome, PollUpdate};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    Capabilities, ConnectorKind, Session, TenantCheck, TenantSpec, User, normalize_ip,
};
use crate::secret::SecretString;

const PAGE: u64 = 100;
const MAX_PAGES: u64 = 1_000;
const ADMIN_TTL: Duration = Duration::from_secs(300);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyFile {
    #[serde(rename = "type")]
    kind: String,
    key_id: String,
    key: String,
    user_id: String,
}

#[derive(Deserialize)]
struct SearchResult {
    #[serde(default)]
    details: Option<Details>,
    #[serde(default)]
    sessions: Vec<ZSession>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    #[serde(default)]
    total_result: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ZSession {
    id: String,
    #[serde(default)]
    creation_date: Option<DateTime<Utc>>,
    #[serde(default)]
    change_date: Option<DateTime<Utc>>,
    #[serde(default)]
    expiration_date: Option<DateTime<Utc>>,
    #[serde(default)]
    factors: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    user_agent: Option<ZUserAgent>,
}

#[derive(Deserialize)]
struct ZUserAgent {
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    header: Option<HashMap<String, HeaderValues>>,
}

#[derive(Deserialize)]
struct HeaderValues {
    #[serde(default)]
    values: Vec<String>,
}

#[derive(Deserialize)]
struct UserResponse {
    user: ZUser,
}

#[derive(Deserialize)]
struct UserList {
    #[serde(default)]
    result: Vec<ZUser>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ZUser {
    user_id: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    preferred_login_name: Option<String>,
    #[serde(default)]
    human: Option<Human>,
}

#[derive(Deserialize)]
struct Human {
    #[serde(default)]
    profile: Option<Profile>,
    #[serde(default)]
    email: Option<HumanEmail>,
}

#[derive(Deserialize)]
struct HumanEmail {
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct Members {
    #[serde(default)]
    result: Vec<Member>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Member {
    user_id: String,
}

pub struct ZitadelConnector {
    api: Api,
    users: UserCache,
    admins: Mutex<Option<(Instant, Arc<HashSet<String>>)>>,
}

fn user_from(u: ZUser, admins: &HashSet<String>) -> User {
    let username = u
        .username
        .clone()
        .or(u.preferred_login_name.clone())
        .unwrap_or_else(|| u.user_id.clone());
    let mut user = User::new(u.user_id.clone(), username);
    let human = u.human.unwrap_or(Human {
        profile: None,
        email: None,
    });
    user.email = human.email.and_then(|e| e.email).map(Into::into);
    if let Some(p) = human.profile {
        user.display_name = p.display_name.map(Into::into);
        user.first_name = p.given_name.map(Into::into);
        user.last_name = p.family_name.map(Into::into);
    }
    user.superuser = admins.contains(&u.user_id);
    user.protected = user.superuser;
    user.disabled = matches!(
        u.state.as_deref(),
        Some("USER_STATE_INACTIVE" | "USER_STATE_LOCKED")
    );
    user
}

impl ZitadelConnector {
    pub fn new(spec: &TenantSpec, secret: SecretString) -> Result<Self> {
        let credential = if secret.expose().trim_start().starts_with('{') {
            let key: KeyFile = serde_json::from_str(secret.expose()).map_err(|_| {
                Error::config(format!(
                    "tenant '{}': the JSON key must have type, keyId, key and userId",
                    spec.name
                ))
            })?;
            if key.kind != "serviceaccount" {
                return Err(Error::config(format!(
                    "tenant '{}': the JSON key is not a service user key (type {:?})",
                    spec.name, key.kind
                )));
            }
            let issuer = spec.base_url.as_str().trim_end_matches('/').to_owned();
            let token_url = url::Url::parse(&format!("{issuer}/oauth/v2/token"))
                .map_err(|e| Error::config(format!("bad instance URL: {e}")))?;
            Credential::oauth(OAuth::new(
                spec,
                token_url,
                Grant::JwtBearer {
                    issuer: key.user_id.clone(),
                    subject: key.user_id,
                    audience: issuer,
                    key: SigningKey::from_pem(&key.key)?,
                    kid: Some(key.key_id),
                    extra_claims: serde_json::Map::new(),
                },
                vec![(
                    "scope".into(),
                    "openid urn:zitadel:iam:org:project:id:zitadel:aud".into(),
                )],
            )?)
        } else {
            Credential::Static {
                scheme: "Bearer",
                token: secret,
                label: "personal access token",
            }
        };
        Ok(Self {
            api: Api::new(spec, credential)?,
            users: UserCache::new(Duration::from_secs(300)),
            admins: Mutex::new(None),
        })
    }

    async fn search(&self, queries: serde_json::Value) -> Result<Vec<ZSession>> {
        let mut all = Vec::new();
        for page in 0..MAX_PAGES {
            let offset = page * PAGE;
            let body = json!({
                "query": {"offset": offset.to_string(), "limit": PAGE, "asc": true},
                "queries": queries,
                "sortingColumn": "SESSION_FIELD_NAME_CREATION_DATE"
            });
            let r: SearchResult = self
                .api
                .json(Method::POST, "v2/sessions/search", Some(&body))
                .await?;
            let n = r.sessions.len() as u64;
            super::budget::charge_items(r.sessions.len())?;
            all.extend(r.sessions);
            let total = r
                .details
                .and_then(|d| d.total_result)
                .and_then(|t| t.as_u64().or_else(|| t.as_str()?.parse().ok()));
            if n < PAGE || total.is_some_and(|t| offset + n >= t) {
                return Ok(all);
            }
        }
        Err(Error::malformed("sessions: more than 1,000 pages"))
    }

    /// IAM and organisation members, cached; a credential without the permission to read
    /// memberships marks nobody.
    async fn admins(&self) -> Result<Arc<HashSet<String>>> {
        let mut guard = self.admins.lock().await;
        if let Some((_, set)) = guard.as_ref().filter(|(at, _)| at.elapsed() < ADMIN_TTL) {
            return Ok(Arc::clone(set));
        }
        let mut set = HashSet::new();
        let body = json!({"query": {"limit": 1000}});
        for path in [
            "admin/v1/members/_search",
            "management/v1/orgs/me/members/_search",
        ] {
            match self
                .api
                .json::<Members>(Method::POST, path, Some(&body))
                .await
            {
                Ok(m) => set.extend(m.result.into_iter().map(|m| m.user_id)),
                Err(e) if matches!(e.code, ErrorCode::Forbidden | ErrorCode::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        let set = Arc::new(set);
        *guard = Some((Instant::now(), Arc::clone(&set)));
        Ok(set)
    }

    async fn fetch_user(&self, id: String, admins: &HashSet<String>) -> Result<User> {
        let r: UserResponse = self.api.get_path(&format!("v2/users/{}", seg(&id))).await?;
        Ok(user_from(r.user, admins))
    }

    /// A live session, or `None`: one without a user yet (created, not authenticated), or
    /// one past its `expirationDate` (Zitadel keeps expired sessions listed until they
    /// are deleted).
    fn session_from(&self, s: ZSession) -> Option<Session> {
        if s.expiration_date.is_some_and(|e| e <= chrono::Utc::now()) {
            return None;
        }
        let factors = s.factors.unwrap_or_default();
        let user = factors.get("user")?;
        let user_id = user["id"].as_str().filter(|i| !i.is_empty())?.to_owned();
        let login = user["loginName"].as_str().unwrap_or(&user_id).to_owned();
        let mut session = Session::new(self.api.tenant(), s.id, user_id, login);
        session.display_name = user["displayName"]
            .as_str()
            .map(str::to_owned)
            .map(Into::into);
        let mut methods: Vec<&str> = factors
            .iter()
            .filter(|(k, v)| *k != "user" && v["verifiedAt"].is_string())
            .map(|(k, _)| k.as_str())
            .collect();
        methods.sort_unstable();
        session.login_type = (!methods.is_empty())
            .then(|| methods.join("+"))
            .map(Into::into);
        if let Some(ua) = s.user_agent {
            session.ip = ua.ip.as_deref().and_then(normalize_ip);
            session.user_agent = ua
                .header
                .as_ref()
                .and_then(|h| {
                    h.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
                        .and_then(|(_, v)| v.values.first().cloned())
                })
                .or(ua.description)
                .map(Into::into);
        }
        session.created_at = s.creation_date;
        session.last_activity_at = s.change_date;
        session.expires_at = s.expiration_date;
        Some(session)
    }

    async fn set_state(&self, user_id: &str, step: &str) -> Result<User> {
        let _: serde_json::Value = self
            .api
            .json(
                Method::POST,
                &format!("v2/users/{}/{step}", seg(user_id)),
                Some(&json!({})),
            )
            .await?;
        let admins = self.admins().await?;
        let user = self.fetch_user(user_id.to_owned(), &admins).await?;
        self.users.put(user.clone()).await;
        Ok(user)
    }
}

#[async_trait]
impl Connector for ZitadelConnector {
    fn tenant(&self) -> &Arc<str> {
        self.api.tenant()
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Zitadel
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::FULL_LISTING
    }

    async fn poll(&self) -> Result<PollUpdate> {
        let found = self
            .search(json!([]))
            .await
            .map_err(|e| e.context("searching sessions"))?;
        let mut sessions: Vec<Session> = found
            .into_iter()
            .filter_map(|s| self.session_from(s))
            .collect();
        if sessions.is_empty() {
            return Ok(PollUpdate::Full(sessions));
        }
        let admins = self
            .admins()
            .await
            .map_err(|e| e.context("reading memberships"))?;
        let ids: Vec<String> = sessions.iter().map(|s| s.user_id.to_string()).collect();
        let users = self
            .users
            .resolve(ids, 4, |id| {
                let admins = Arc::clone(&admins);
                async move { self.fetch_user(id, &admins).await }
            })
            .await
            .map_err(|e| e.context("reading users"))?;
        annotate(&mut sessions, &users);
        Ok(PollUpdate::Full(sessions))
    }

    async fn reset(&self) {
        self.users.clear().await;
        *self.admins.lock().await = None;
        self.api.reset().await;
    }

    async fn end_session(&self, session_id: &str) -> Result<EndOutcome> {
        end_outcome(
            self.api
                .call(
                    Method::DELETE,
                    &format!("v2/sessions/{}", seg(session_id)),
                    None,
                )
                .await,
        )
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        let sessions = self
            .search(json!([{"userIdQuery": {"id": user_id}}]))
            .await?;
        let mut ended = 0;
        for s in sessions {
            if self.end_session(&s.id).await? == EndOutcome::Ended {
                ended += 1;
            }
        }
        Ok(ended)
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        self.set_state(user_id, if disabled { "deactivate" } else { "reactivate" })
            .await
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        let body = json!({
            "query": {"limit": 2},
            "queries": [{"userNameQuery": {"userName": username, "method": "TEXT_QUERY_METHOD_EQUALS"}}]
        });
        let list: UserList = self.api.json(Method::POST, "v2/users", Some(&body)).await?;
        let admins = self.admins().await?;
        Ok(list
            .result
            .into_iter()
            .next()
            .map(|u| user_from(u, &admins)))
    }

    async fn check(&self) -> TenantCheck {
        let body = json!({"query": {"limit": 1}});
        self.api
            .check_with(
                Method::POST,
                "v2/sessions/search",
                Some(&body),
                Vec::new(),
                self.capabilities(),
                "the credential cannot search sessions (needs session.read, e.g. IAM_OWNER or ORG_OWNER)",
            )
            .await
    }
}

/// What the tenant form and `vigil tenant add --help` say of this kind.
pub(super) fn info() -> super::KindInfo {
    super::KindInfo {
        kind: crate::model::ConnectorKind::Zitadel,
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
        logout_effect: "deletes each session of the user, one by one".into(),
        revoke_effect: "".into(),
        password_effect: "".into(),
    }
}

pub(super) fn build(
    spec: &crate::model::TenantSpec,
    secret: crate::secret::SecretString,
) -> crate::error::Result<std::sync::Arc<dyn super::Connector>> {
    Ok(std::sync::Arc::new(ZitadelConnector::new(spec, secret)?))
}
