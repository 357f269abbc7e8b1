//! Okta, one org. Okta has no API that lists live sessions, so sessions are derived from the
//! System Log (`/api/v1/logs`): `user.session.start` (successful) opens one, keyed by the
//! session id Okta logs as `authenticationContext.externalSessionId`; `user.session.end`
//! (logout) ends it and `user.session.clear` ends all of the target user's. Okta can end a
//! single session by that id (`DELETE /api/v1/sessions/{id}`), all of a user's
//! (`DELETE /api/v1/users/{id}/sessions?oauthTokens=true`), and suspend/unsuspend users.
//! SuperUsers: users with any admin role assignment (`/api/v1/users/{id}/roles`).
//!
//! Credential: an API token (`Authorization: SSWS …`), or with option `client_id` a service
//! app's private key (client credentials with a `private_key_jwt` client assertion).
//! Okta's `X-Rate-Limit-*` headers pause this tenant's requests when a window is spent.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde::Deserialize;

use super::auth::{Api, Credential, Grant, OAuth, SigningKey, end_outcome, lookback, opt, seg};
use super::signin_log::{LogEvent, SignIn, SignInLog, UserCache, annotate, place};
use super::{Connector, EndOutcome, PollUpdate};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Capabilities, ConnectorKind, TenantCheck, TenantSpec, User, normalize_ip};
use crate::secret::SecretString;

const MAX_PAGES: usize = 200;
const PAGE: usize = 1000;
/// The scopes of every operation Vigil calls, as Okta's management OpenAPI document lists
/// them: listLogEvents, getUser (okta.users.read: manage alone is not listed for it),
/// suspend/unsuspend and revokeUserSessions, revokeSession, listAssignedRolesForUser.
const SCOPES: &str =
    "okta.logs.read okta.users.read okta.users.manage okta.sessions.manage okta.roles.read";
const FILTER: &str = "eventType eq \"user.session.start\" or eventType eq \"user.session.end\" \
                      or eventType eq \"user.session.clear\"";

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LogEntry {
    #[serde(default)]
    event_type: String,
    published: DateTime<Utc>,
    #[serde(default)]
    actor: Option<Actor>,
    #[serde(default)]
    client: Option<Client>,
    #[serde(default)]
    outcome: Option<Outcome>,
    #[serde(default)]
    target: Option<Vec<Actor>>,
    #[serde(default)]
    authentication_context: Option<AuthContext>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Actor {
    #[serde(default)]
    id: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    alternate_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Client {
    #[serde(default)]
    user_agent: Option<UserAgent>,
    #[serde(default)]
    device: Option<String>,
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(default)]
    geographical_context: Option<Geo>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct UserAgent {
    #[serde(default)]
    raw_user_agent: Option<String>,
}

#[derive(Deserialize, Default)]
struct Geo {
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    country: Option<String>,
}

#[derive(Deserialize, Default)]
struct Outcome {
    #[serde(default)]
    result: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AuthContext {
    #[serde(default)]
    external_session_id: Option<String>,
    #[serde(default)]
    credential_type: Option<String>,
}

#[derive(Deserialize)]
struct OktaUser {
    id: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    profile: Profile,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Profile {
    #[serde(default)]
    login: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    organization: Option<String>,
}

#[derive(Deserialize)]
struct Role {
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

pub struct OktaConnector {
    api: Api,
    log: SignInLog,
    users: UserCache,
    /// The org's authentication pipeline: [`UNKNOWN`], [`CLASSIC`] or [`IDENTITY_ENGINE`].
    engine: AtomicU8,
}

const UNKNOWN: u8 = 0;
const CLASSIC: u8 = 1;
const IDENTITY_ENGINE: u8 = 2;
/// The org answered without saying: not asked again.
const NOT_SAID: u8 = 3;

/// `GET /.well-known/okta-organization` (WellKnownOrgMetadata): `pipeline` is `idx` for an
/// Identity Engine org, `v1` for a Classic one.
#[derive(Deserialize)]
struct OrgMetadata {
    #[serde(default)]
    pipeline: Option<String>,
}

fn usable_session_id(id: Option<&str>) -> Option<&str> {
    id.filter(|s| !s.is_empty() && *s != "unknown")
}

impl OktaConnector {
    pub fn new(spec: &TenantSpec, secret: SecretString) -> Result<Self> {
        let credential = match opt(spec, "client_id") {
            Some(client_id) => {
                let key = SigningKey::from_pem(secret.expose()).map_err(|e| {
                    e.context(format!(
                        "tenant '{}': with client_id set the secret must be the service app's PEM private key",
                        spec.name
                    ))
                })?;
                let token_url = spec
                    .base_url
                    .join("/oauth2/v1/token")
                    .map_err(|e| Error::config(format!("bad org URL: {e}")))?;
                Credential::oauth(OAuth::new(
                    spec,
                    token_url,
                    Grant::ClientAssertion {
                        client_id,
                        key,
                        kid: opt(spec, "key_id"),
                        x5t: None,
                        audience: None,
                    },
                    vec![("scope".into(), SCOPES.into())],
                )?)
            }
            None => Credential::Static {
                scheme: "SSWS",
                token: secret,
                label: "API token",
            },
        };
        Ok(Self {
            api: Api::new(spec, credential)?,
            log: SignInLog::new(lookback(spec)?, chrono::Duration::minutes(5)),
            users: UserCache::new(Duration::from_secs(300)),
            engine: AtomicU8::new(UNKNOWN),
        })
    }

    /// Reads the org's pipeline once. Unknown (an error, an old org) leaves single-session
    /// ends offered, with a 404 never taken for "already gone".
    async fn detect_engine(&self) {
        if self.engine.load(Ordering::Relaxed) != UNKNOWN {
            return;
        }
        match self
            .api
            .get_public::<OrgMetadata>(".well-known/okta-organization")
            .await
        {
            Ok(m) => {
                let engine = match m.pipeline.as_deref() {
                    Some("idx") => IDENTITY_ENGINE,
                    Some("v1") => CLASSIC,
                    _ => NOT_SAID,
                };
                self.engine.store(engine, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::debug!(tenant = %self.api.tenant(), "okta pipeline unknown: {e}");
                if e.http_status.is_some() {
                    self.engine.store(NOT_SAID, Ordering::Relaxed);
                }
            }
        }
    }

    fn identity_engine(&self) -> bool {
        self.engine.load(Ordering::Relaxed) == IDENTITY_ENGINE
    }

    fn event(e: LogEntry) -> Option<LogEvent> {
        let ctx = e.authentication_context.unwrap_or_default();
        let session_id = usable_session_id(ctx.external_session_id.as_deref()).map(str::to_owned);
        match e.event_type.as_str() {
            "user.session.start" => {
                if e.outcome.and_then(|o| o.result).as_deref() != Some("SUCCESS") {
                    return None;
                }
                let actor = e.actor?;
                let client = e.client.unwrap_or_default();
                let geo = client.geographical_context.unwrap_or_default();
                Some(LogEvent::Start(SignIn {
                    key: session_id?,
                    username: actor.alternate_id.unwrap_or_else(|| actor.id.clone()),
                    user_id: actor.id,
                    at: e.published,
                    ip: client.ip_address.as_deref().and_then(normalize_ip),
                    user_agent: client.user_agent.and_then(|u| u.raw_user_agent),
                    location: place(&[
                        geo.city.as_deref(),
                        geo.state.as_deref(),
                        geo.country.as_deref(),
                    ]),
                    login_type: ctx.credential_type.map(|c| c.to_lowercase()),
                    session_type: client.device,
                }))
            }
            "user.session.end" => Some(LogEvent::End {
                key: session_id?,
                at: e.published,
            }),
            "user.session.clear" => {
                let user = e
                    .target?
                    .into_iter()
                    .find(|t| t.kind.as_deref() == Some("User"))?;
                Some(LogEvent::UserEnded {
                    user_id: user.id,
                    at: e.published,
                })
            }
            _ => None,
        }
    }

    async fn read_log(&self) -> Result<()> {
        let since = self
            .log
            .since()
            .await
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut url = self.api.url("api/v1/logs")?;
        url.query_pairs_mut()
            .append_pair("since", &since)
            .append_pair("sortOrder", "ASCENDING")
            .append_pair("limit", &PAGE.to_string())
            .append_pair("filter", FILTER);
        let mut events = Vec::new();
        for _ in 0..MAX_PAGES {
            let answer = self.api.request(Method::GET, url.clone(), None).await?;
            let page: Vec<LogEntry> = answer.json()?;
            let empty = page.is_empty();
            super::budget::charge_items(page.len())?;
            events.extend(page.into_iter().filter_map(Self::event));
            // Polling in ascending order always offers a next link; an empty page is the end.
            match super::http::link_next(&answer.headers) {
                Some(next) if !empty => url = self.api.follow(&next)?,
                _ => {
                    self.log.apply(events).await;
                    return Ok(());
                }
            }
        }
        // Keep what was read; the rest comes with the next poll.
        self.log.apply(events).await;
        Ok(())
    }

    async fn fetch_user(&self, id: String) -> Result<User> {
        let u: OktaUser = self
            .api
            .get_path(&format!("api/v1/users/{}", seg(&id)))
            .await?;
        let roles: Vec<Role> = self
            .api
            .get_path(&format!("api/v1/users/{}/roles", seg(&u.id)))
            .await?;
        Ok(user_from(u, roles.iter().any(|r| r.kind.is_some())))
    }

    async fn lifecycle(&self, user_id: &str, step: &str) -> Result<User> {
        self.api
            .call(
                Method::POST,
                &format!("api/v1/users/{}/lifecycle/{step}", seg(user_id)),
                None,
            )
            .await?;
        let user = self.fetch_user(user_id.to_owned()).await?;
        self.users.put(user.clone()).await;
        Ok(user)
    }
}

fn user_from(u: OktaUser, admin: bool) -> User {
    let p = u.profile;
    let mut user = User::new(u.id.clone(), p.login.unwrap_or(u.id));
    user.email = p.email.map(Into::into);
    user.display_name = p
        .display_name
        .or_else(|| match (&p.first_name, &p.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (Some(n), None) | (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        })
        .map(Into::into);
    user.first_name = p.first_name.map(Into::into);
    user.last_name = p.last_name.map(Into::into);
    user.department = p.department.map(Into::into);
    user.organisation = p.organization.map(Into::into);
    user.superuser = admin;
    user.protected = admin;
    user.disabled = matches!(
        u.status.as_deref(),
        Some("SUSPENDED" | "DEPROVISIONED" | "LOCKED_OUT")
    );
    user
}

#[async_trait]
impl Connector for OktaConnector {
    fn tenant(&self) -> &Arc<str> {
        self.api.tenant()
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Okta
    }

    fn capabilities(&self) -> Capabilities {
        // A Classic org logs the session id, so one session can be ended; an Identity
        // Engine org's System Log id cannot end it (only all of the user's sessions).
        Capabilities {
            end_session: !self.identity_engine(),
            revoke_grants: true,
            require_password_change: true,
            ..Capabilities::SIGN_IN_LOG
        }
    }

    /// The user's OAuth grants (`DELETE /api/v1/users/{id}/grants`); force logout
    /// already revokes their tokens (`oauthTokens=true`).
    async fn revoke_grants(&self, user_id: &str) -> Result<u64> {
        self.api
            .call(
                Method::DELETE,
                &format!("api/v1/users/{}/grants", seg(user_id)),
                None,
            )
            .await?;
        Ok(0)
    }

    /// Expires the password: the next sign-in must set a new one.
    async fn require_password_change(&self, user_id: &str) -> Result<()> {
        self.lifecycle(user_id, "expire_password").await.map(|_| ())
    }

    async fn poll(&self) -> Result<PollUpdate> {
        self.detect_engine().await;
        self.read_log()
            .await
            .map_err(|e| e.context("reading the System Log"))?;
        let mut sessions = self.log.sessions(self.api.tenant(), None).await;
        let ids: Vec<String> = sessions.iter().map(|s| s.user_id.to_string()).collect();
        let users = self
            .users
            .resolve(ids, 4, |id| self.fetch_user(id))
            .await
            .map_err(|e| e.context("reading users and their admin roles"))?;
        annotate(&mut sessions, &users);
        Ok(PollUpdate::Full(sessions))
    }

    async fn reset(&self) {
        self.log.reset().await;
        self.users.clear().await;
        self.api.reset().await;
    }

    async fn end_session(&self, session_id: &str) -> Result<EndOutcome> {
        self.detect_engine().await;
        if self.identity_engine() {
            return Err(Error::new(
                ErrorCode::Unsupported,
                "this Okta org runs Identity Engine, whose System Log session id cannot end one \
                 session; Force logout ends all of the user's sessions",
            ));
        }
        let answer = self
            .api
            .call(
                Method::DELETE,
                &format!("api/v1/sessions/{}", seg(session_id)),
                None,
            )
            .await;
        match answer {
            // Okta answers 404 both for a session that ended and for an Identity Engine
            // session, which the System Log's id cannot end: it lives on. Claiming
            // "already gone" would report success for a live session.
            Err(e) if e.code == ErrorCode::NotFound => Err(Error::new(
                ErrorCode::Unsupported,
                "Okta does not know this session id: it has ended, or (in an Identity Engine org) \
                 the System Log's id cannot end it; nothing is claimed. Force logout ends all of \
                 the user's sessions",
            )),
            other => end_outcome(other),
        }
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        let before = self
            .log
            .sessions(self.api.tenant(), None)
            .await
            .iter()
            .filter(|s| &*s.user_id == user_id)
            .count() as u64;
        self.api
            .call(
                Method::DELETE,
                // OAuth tokens are revoked with the sessions. Remembered MFA devices are
                // kept (`forgetDevices` defaults to true on Identity Engine): a force logout
                // signs the user out, it does not make them enrol their factors again.
                &format!(
                    "api/v1/users/{}/sessions?oauthTokens=true&forgetDevices=false",
                    seg(user_id)
                ),
                None,
            )
            .await?;
        self.log.user_ended(user_id).await;
        Ok(before)
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        self.lifecycle(user_id, if disabled { "suspend" } else { "unsuspend" })
            .await
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        // Okta accepts a login where a user id is expected.
        match self.fetch_user(username.to_owned()).await {
            Ok(u) => Ok(Some(u)),
            Err(e) if e.code == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn check(&self) -> TenantCheck {
        self.api
            .check(
                "api/v1/logs?limit=1",
                Vec::new(),
                self.capabilities(),
                "the credential cannot read the System Log (needs okta.logs.read or a read-only admin)",
            )
            .await
    }
}

/// What the tenant form and `vigil tenant add --help` say of this kind.
pub(super) fn info() -> super::KindInfo {
    super::KindInfo {
        kind: crate::model::ConnectorKind::Okta,
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
            super::field("client_id", "Client ID", false, "Service app (OAuth, private_key_jwt) instead of an API token; needs okta.logs.read, okta.users.read, okta.users.manage, okta.sessions.manage, okta.roles.read."),
            super::field("key_id", "Key ID", false, "The kid of the service app's public key, if it has several."),
            super::field("lookback_hours", "Look-back (hours)", false, "How far back sign-ins count as sessions; default 24."),
        ],
        logout_effect: "ends the user's Okta sessions and revokes their OAuth tokens; remembered MFA devices are kept \
         (forgetDevices=false); sessions that applications keep themselves are not ended".into(),
        revoke_effect: "every OAuth grant is revoked".into(),
        password_effect: "the password is expired".into(),
    }
}

pub(super) fn build(
    spec: &crate::model::TenantSpec,
    secret: crate::secret::SecretString,
) -> crate::error::Result<std::sync::Arc<dyn super::Connector>> {
    Ok(std::sync::Arc::new(OktaConnector::new(spec, secret)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_session_ids_are_skipped() {
        assert_eq!(usable_session_id(Some("unknown")), None);
        assert_eq!(usable_session_id(Some("")), None);
        assert_eq!(usable_session_id(Some("102abc")), Some("102abc"));
    }
}
