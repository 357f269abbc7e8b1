//! Google Workspace through the Admin SDK. Google lists no live sessions, so they are
//! derived from the Reports API login activity (`applications/login`): `login_success`
//! opens one per user and IP, `logout` from that IP ends it. Login events carry no user
//! agent and can arrive late (Google documents lags of hours), so each poll rereads the
//! last hour. Google cannot end one session; `users.signOut` signs a user out of every web
//! and device session. Disabling suspends the user. SuperUsers: `isAdmin` (super admins)
//! and `isDelegatedAdmin`.
//!
//! Credential: a service account's JSON key with domain-wide delegation; Vigil signs a JWT
//! bearer grant as the service account acting for the admin named in option `subject`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde::Deserialize;

use super::auth::{Api, Credential, Grant, OAuth, SigningKey, lookback, seg};
use super::signin_log::{LogEvent, SignIn, SignInLog, UserCache, annotate};
use super::{Connector, EndOutcome, PollUpdate};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Capabilities, ConnectorKind, TenantCheck, TenantSpec, User, normalize_ip};
use crate::secret::SecretString;

const MAX_PAGES: usize = 200;
/// The scopes of the methods Vigil calls, as the Admin SDK discovery documents list them:
/// activities.list (reports), users.get/update (directory), and users.signOut, which
/// accepts only `admin.directory.user.security` (without it force logout gets 403).
const SCOPES: &str = "https://www.googleapis.com/auth/admin.reports.audit.readonly \
                      https://www.googleapis.com/auth/admin.directory.user \
                      https://www.googleapis.com/auth/admin.directory.user.security";

/// The fields of a service account key Vigil needs.
#[derive(Deserialize)]
struct ServiceAccountKey {
    #[serde(rename = "type")]
    kind: String,
    client_email: String,
    private_key: String,
    #[serde(default)]
    private_key_id: Option<String>,
    #[serde(default)]
    token_uri: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Activities {
    #[serde(default)]
    items: Vec<Activity>,
    #[serde(default)]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Activity {
    id: ActivityId,
    #[serde(default)]
    actor: Option<ActivityActor>,
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(default)]
    network_info: Option<NetworkInfo>,
    #[serde(default)]
    events: Vec<ActivityEvent>,
}

#[derive(Deserialize)]
struct ActivityId {
    time: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivityActor {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    profile_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NetworkInfo {
    #[serde(default)]
    region_code: Option<String>,
    #[serde(default)]
    subdivision_code: Option<String>,
}

#[derive(Deserialize)]
struct ActivityEvent {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    parameters: Vec<Parameter>,
}

#[derive(Deserialize)]
struct Parameter {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GoogleUser {
    id: String,
    primary_email: String,
    #[serde(default)]
    name: Option<Name>,
    #[serde(default)]
    is_admin: Option<bool>,
    #[serde(default)]
    is_delegated_admin: Option<bool>,
    #[serde(default)]
    suspended: Option<bool>,
    /// Typed `any` in the directory discovery document: read as a list of organizations
    /// where it is one, and ignored otherwise, so that an unexpected shape costs the
    /// department and not the whole user.
    #[serde(default)]
    organizations: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Name {
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
}

#[derive(Deserialize)]
struct Organization {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    primary: Option<bool>,
}

pub struct GoogleConnector {
    api: Api,
    log: SignInLog,
    users: UserCache,
}

impl GoogleConnector {
    pub fn new(spec: &TenantSpec, secret: SecretString) -> Result<Self> {
        let key: ServiceAccountKey = serde_json::from_str(secret.expose()).map_err(|_| {
            Error::config(format!(
                "tenant '{}': the secret must be a service account's JSON key (with client_email and private_key)",
                spec.name
            ))
        })?;
        if key.kind != "service_account" {
            return Err(Error::config(format!(
                "tenant '{}': the JSON key is not a service account key (type {:?})",
                spec.name, key.kind
            )));
        }
        let token_uri = key
            .token_uri
            .as_deref()
            .unwrap_or("https://oauth2.googleapis.com/token");
        let token_url = url::Url::parse(token_uri)
            .map_err(|e| Error::config(format!("bad token_uri in the JSON key: {e}")))?;
        crate::model::parse_base_url(token_url.origin().ascii_serialization().as_str())?;
        let mut extra = serde_json::Map::new();
        extra.insert("scope".into(), SCOPES.into());
        let grant = Grant::JwtBearer {
            issuer: key.client_email,
            subject: spec.option("subject")?.to_owned(),
            audience: token_url.to_string(),
            key: SigningKey::from_pem(&key.private_key)?,
            kid: key.private_key_id,
            extra_claims: extra,
        };
        let oauth = OAuth::new(spec, token_url, grant, Vec::new())?;
        Ok(Self {
            api: Api::new(spec, Credential::oauth(oauth))?,
            log: SignInLog::new(lookback(spec)?, chrono::Duration::hours(1)),
            users: UserCache::new(Duration::from_secs(300)),
        })
    }

    fn events(a: Activity) -> Vec<LogEvent> {
        let Some(actor) = a.actor else {
            return Vec::new();
        };
        let Some(user_id) = actor.profile_id.filter(|p| !p.is_empty()) else {
            return Vec::new();
        };
        let ip = a.ip_address.as_deref().and_then(normalize_ip);
        let key = format!("{user_id}|{}", ip.as_deref().unwrap_or(""));
        let location = a
            .network_info
            .and_then(|n| match (n.subdivision_code, n.region_code) {
                (Some(sub), _) if !sub.is_empty() => Some(sub),
                (_, region) => region.filter(|r| !r.is_empty()),
            });
        a.events
            .into_iter()
            .filter_map(|e| match e.name.as_deref() {
                Some("login_success") => Some(LogEvent::Start(SignIn {
                    key: key.clone(),
                    user_id: user_id.clone(),
                    username: actor.email.clone().unwrap_or_else(|| user_id.clone()),
                    at: a.id.time,
                    ip: ip.clone(),
                    user_agent: None,
                    location: location.clone(),
                    login_type: e
                        .parameters
                        .iter()
                        .find(|p| p.name == "login_type")
                        .and_then(|p| p.value.clone()),
                    session_type: None,
                })),
                Some("logout") => Some(LogEvent::End {
                    key: key.clone(),
                    at: a.id.time,
                }),
                _ => None,
            })
            .collect()
    }

    /// Reads the login activity since the cursor; `Some(why)` when it was cut short.
    async fn read_log(&self) -> Result<Option<String>> {
        let since = self
            .log
            .since()
            .await
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let base = self
            .api
            .url("admin/reports/v1/activity/users/all/applications/login")?;
        let mut events = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = base.clone();
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("startTime", &since)
                    .append_pair("maxResults", "1000");
                if let Some(t) = &page_token {
                    q.append_pair("pageToken", t);
                }
            }
            let page: Activities = self.api.get(url).await?;
            super::budget::charge_items(page.items.len())?;
            events.extend(page.items.into_iter().flat_map(Self::events));
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(t) => page_token = Some(t),
                None => {
                    self.log.apply(events).await;
                    return Ok(None);
                }
            }
        }
        // Read newest first and cut short: keep the cursor, say so.
        self.log.apply_cut_short(events).await;
        Ok(Some(format!(
            "the login activity since the last poll is longer than {MAX_PAGES} pages; the newest were read, the older ones will be read again"
        )))
    }

    async fn fetch_user(&self, key: String) -> Result<User> {
        let u: GoogleUser = self
            .api
            .get_path(&format!("admin/directory/v1/users/{}", seg(&key)))
            .await?;
        Ok(user_from(u))
    }

    async fn set_suspended(&self, user_id: &str, suspended: bool) -> Result<User> {
        let u: GoogleUser = self
            .api
            .json(
                Method::PUT,
                &format!("admin/directory/v1/users/{}", seg(user_id)),
                Some(&serde_json::json!({ "suspended": suspended })),
            )
            .await?;
        let user = user_from(u);
        self.users.put(user.clone()).await;
        Ok(user)
    }
}

fn user_from(u: GoogleUser) -> User {
    let mut user = User::new(u.id, u.primary_email);
    user.email = Some(user.username.clone());
    if let Some(n) = u.name {
        user.display_name = n.full_name.map(Into::into);
        user.first_name = n.given_name.map(Into::into);
        user.last_name = n.family_name.map(Into::into);
    }
    let orgs: Vec<Organization> = match u.organizations {
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .filter_map(|o| serde_json::from_value(o).ok())
            .collect(),
        _ => Vec::new(),
    };
    if let Some(org) = orgs
        .iter()
        .find(|o| o.primary == Some(true))
        .or(orgs.first())
    {
        user.department = org.department.as_deref().map(Into::into);
        user.organisation = org.name.as_deref().map(Into::into);
    }
    user.superuser = u.is_admin == Some(true) || u.is_delegated_admin == Some(true);
    user.protected = user.superuser;
    user.disabled = u.suspended == Some(true);
    user
}

#[async_trait]
impl Connector for GoogleConnector {
    fn tenant(&self) -> &Arc<str> {
        self.api.tenant()
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Google
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            revoke_grants: true,
            require_password_change: true,
            ..Capabilities::SIGN_IN_LOG
        }
    }

    /// Every OAuth token the user granted to an application (`tokens.list`, then
    /// `tokens.delete` for each client).
    async fn revoke_grants(&self, user_id: &str) -> Result<u64> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Token {
            client_id: String,
        }
        #[derive(Deserialize)]
        struct Tokens {
            #[serde(default)]
            items: Vec<Token>,
        }
        let tokens: Tokens = self
            .api
            .get_path(&format!("admin/directory/v1/users/{}/tokens", seg(user_id)))
            .await
            .map_err(|e| e.context("listing the user's OAuth tokens"))?;
        super::budget::charge_items(tokens.items.len())?;
        let mut revoked = 0u64;
        for t in tokens.items {
            self.api
                .call(
                    Method::DELETE,
                    &format!(
                        "admin/directory/v1/users/{}/tokens/{}",
                        seg(user_id),
                        seg(&t.client_id)
                    ),
                    None,
                )
                .await
                .map_err(|e| e.context(format!("revoking the token of {}", t.client_id)))?;
            revoked = revoked.saturating_add(1);
        }
        Ok(revoked)
    }

    /// `changePasswordAtNextLogin`.
    async fn require_password_change(&self, user_id: &str) -> Result<()> {
        let u: GoogleUser = self
            .api
            .json(
                Method::PUT,
                &format!("admin/directory/v1/users/{}", seg(user_id)),
                Some(&serde_json::json!({ "changePasswordAtNextLogin": true })),
            )
            .await?;
        self.users.put(user_from(u)).await;
        Ok(())
    }

    async fn poll(&self) -> Result<PollUpdate> {
        let cut_short = self
            .read_log()
            .await
            .map_err(|e| e.context("reading login activity"))?;
        let mut sessions = self.log.sessions(self.api.tenant(), Some("google")).await;
        let ids: Vec<String> = sessions.iter().map(|s| s.user_id.to_string()).collect();
        let users = self
            .users
            .resolve(ids, 4, |id| self.fetch_user(id))
            .await
            .map_err(|e| e.context("reading users"))?;
        annotate(&mut sessions, &users);
        Ok(match cut_short {
            Some(incomplete) => PollUpdate::Partial {
                sessions,
                incomplete,
            },
            None => PollUpdate::Full(sessions),
        })
    }

    async fn reset(&self) {
        self.log.reset().await;
        self.users.clear().await;
        self.api.reset().await;
    }

    async fn end_session(&self, _session_id: &str) -> Result<EndOutcome> {
        Err(Error::unsupported(
            "Google Workspace cannot end a single session; use force logout, which signs the user \
             out of every web and device session (users.signOut)",
        ))
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        let before = self
            .log
            .sessions(self.api.tenant(), Some("google"))
            .await
            .iter()
            .filter(|s| &*s.user_id == user_id)
            .count() as u64;
        self.api
            .call(
                Method::POST,
                &format!("admin/directory/v1/users/{}/signOut", seg(user_id)),
                None,
            )
            .await?;
        self.log.user_ended(user_id).await;
        Ok(before)
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        self.set_suspended(user_id, disabled).await
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        match self.fetch_user(username.to_owned()).await {
            Ok(u) => Ok(Some(u)),
            Err(e) if e.code == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn check(&self) -> TenantCheck {
        self.api
            .check(
                "admin/reports/v1/activity/users/all/applications/login?maxResults=1",
                Vec::new(),
                self.capabilities(),
                "the service account cannot read login activity (domain-wide delegation of \
                 admin.reports.audit.readonly, and the subject must be an admin)",
            )
            .await
    }
}

/// What the tenant form and `vigil tenant add --help` say of this kind.
pub(super) fn info() -> super::KindInfo {
    super::KindInfo {
        kind: crate::model::ConnectorKind::Google,
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
            super::field("subject", "Admin to impersonate", true, "E-mail address of a Workspace admin the service account acts as."),
            super::field("lookback_hours", "Look-back (hours)", false, "How far back sign-ins count as sessions; default 24."),
        ],
        logout_effect: "signs the user out of every web and device session (users.signOut)".into(),
        revoke_effect: "every OAuth token the user granted to an application is revoked".into(),
        password_effect: "a new password at the next sign-in (changePasswordAtNextLogin)".into(),
    }
}

pub(super) fn build(
    spec: &crate::model::TenantSpec,
    secret: crate::secret::SecretString,
) -> crate::error::Result<std::sync::Arc<dyn super::Connector>> {
    Ok(std::sync::Arc::new(GoogleConnector::new(spec, secret)?))
}
