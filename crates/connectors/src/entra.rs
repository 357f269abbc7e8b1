//! Microsoft Entra ID through Microsoft Graph v1.0. Graph lists no live sessions, so they
//! are derived from the sign-in logs (`/auditLogs/signIns`, Entra ID P1/P2): successful
//! sign-ins (`status.errorCode` 0), one session per user, IP and device, over a look-back
//! window. Graph cannot end one session; `revokeSignInSessions` ends all of a user's
//! (refresh tokens and session cookies; Microsoft says it takes a few minutes). Disabling
//! sets `accountEnabled`. SuperUsers: members of any activated directory role.
//!
//! Credential: an app registration with client credentials, by client secret or by a
//! certificate's private key (a client assertion whose `x5t` is the certificate thumbprint).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::auth::{Api, Credential, Grant, OAuth, SigningKey, is_pem_key, lookback, opt, seg};
use super::signin_log::{LogEvent, SignIn, SignInLog, UserCache, annotate, place};
use super::{Connector, EndOutcome, PollUpdate};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Capabilities, ConnectorKind, TenantCheck, TenantSpec, User, normalize_ip};
use crate::secret::SecretString;

const MAX_PAGES: usize = 200;
const ADMIN_TTL: Duration = Duration::from_secs(300);
const USER_FIELDS: &str =
    "id,userPrincipalName,mail,displayName,givenName,surname,department,companyName,accountEnabled";

/// The answer of `POST /users/{id}/revokeSignInSessions`.
#[derive(Deserialize)]
struct RevokeAnswer {
    #[serde(default)]
    value: Option<bool>,
}

#[derive(Deserialize)]
struct Page<T> {
    value: Vec<T>,
    #[serde(default, rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphSignIn {
    created_date_time: DateTime<Utc>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    user_principal_name: Option<String>,
    #[serde(default)]
    app_display_name: Option<String>,
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(default)]
    client_app_used: Option<String>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    device_detail: Option<DeviceDetail>,
    #[serde(default)]
    location: Option<Location>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    #[serde(default)]
    error_code: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DeviceDetail {
    #[serde(default)]
    operating_system: Option<String>,
    #[serde(default)]
    browser: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    country_or_region: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphUser {
    id: String,
    #[serde(default)]
    user_principal_name: Option<String>,
    #[serde(default)]
    mail: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    surname: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    company_name: Option<String>,
    #[serde(default)]
    account_enabled: Option<bool>,
}

#[derive(Deserialize)]
struct DirectoryObject {
    id: String,
}

pub struct EntraConnector {
    api: Api,
    log: SignInLog,
    users: UserCache,
    admins: Mutex<Option<(Instant, Arc<HashSet<String>>)>>,
}

/// A portal thumbprint (hex SHA-1) as the JWS `x5t` header (base64url of the bytes).
fn x5t(hex: &str) -> Result<String> {
    let hex: String = hex.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    if hex.len() != 40 {
        return Err(Error::config(
            "certificate_thumbprint must be the 40 hex digits of the certificate's SHA-1 thumbprint",
        ));
    }
    let bytes: Vec<u8> = (0..20)
        .filter_map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).ok())
        .collect();
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The Microsoft Graph endpoints of the national clouds: a token for one is not accepted
/// by another, so the scope follows the tenant's Graph URL.
const NATIONAL_GRAPH_HOSTS: &[&str] = &[
    "graph.microsoft.us",
    "dod-graph.microsoft.us",
    "microsoftgraph.chinacloudapi.cn",
];

/// The `.default` scope of the Graph endpoint the tenant's URL names: a national cloud's
/// own, else the global one (also for proxies and test servers).
fn graph_scope(base: &url::Url) -> String {
    match base.host_str() {
        Some(host) if NATIONAL_GRAPH_HOSTS.contains(&host) => format!("https://{host}/.default"),
        _ => "https://graph.microsoft.com/.default".to_owned(),
    }
}

impl EntraConnector {
    pub fn new(spec: &TenantSpec, secret: SecretString) -> Result<Self> {
        let tenant_id = spec.option("tenant_id")?.to_owned();
        let client_id = spec.option("client_id")?.to_owned();
        let login =
            opt(spec, "login_url").unwrap_or_else(|| "https://login.microsoftonline.com".into());
        let login = crate::model::parse_base_url(&login)?;
        let token_url = login
            .join(&format!("{}/oauth2/v2.0/token", seg(&tenant_id)))
            .map_err(|e| Error::config(format!("bad login URL: {e}")))?;
        let grant = if is_pem_key(&secret) {
            let thumbprint = spec.option("certificate_thumbprint").map_err(|e| {
                e.context("a certificate's private key needs the certificate's thumbprint")
            })?;
            Grant::ClientAssertion {
                client_id,
                key: SigningKey::from_pem(secret.expose())?,
                kid: None,
                x5t: Some(x5t(thumbprint)?),
                audience: None,
            }
        } else {
            Grant::ClientSecret { client_id, secret }
        };
        let oauth = OAuth::new(
            spec,
            token_url,
            grant,
            vec![("scope".into(), graph_scope(&spec.base_url))],
        )?;
        Ok(Self {
            api: Api::new(spec, Credential::oauth(oauth))?,
            log: SignInLog::new(lookback(spec)?, chrono::Duration::minutes(15)),
            users: UserCache::new(Duration::from_secs(300)),
            admins: Mutex::new(None),
        })
    }

    fn event(s: GraphSignIn) -> Option<LogEvent> {
        if s.status.and_then(|st| st.error_code) != Some(0) {
            return None;
        }
        let user_id = s.user_id.filter(|u| !u.is_empty())?;
        let device = s.device_detail.unwrap_or_default();
        let loc = s.location.unwrap_or_default();
        let ip = s.ip_address.as_deref().and_then(normalize_ip);
        let user_agent = match (&device.browser, &device.operating_system) {
            (Some(b), Some(os)) if !b.is_empty() && !os.is_empty() => Some(format!("{b} ({os})")),
            (Some(x), _) | (_, Some(x)) if !x.is_empty() => Some(x.clone()),
            _ => None,
        };
        Some(LogEvent::Start(SignIn {
            key: format!(
                "{user_id}|{}|{}",
                ip.as_deref().unwrap_or(""),
                user_agent.as_deref().unwrap_or("")
            ),
            username: s.user_principal_name.unwrap_or_else(|| user_id.clone()),
            user_id,
            at: s.created_date_time,
            ip,
            user_agent,
            location: place(&[
                loc.city.as_deref(),
                loc.state.as_deref(),
                loc.country_or_region.as_deref(),
            ]),
            login_type: s.client_app_used,
            session_type: s.app_display_name,
        }))
    }

    /// Reads the sign-ins since the cursor; `Some(why)` when it was cut short.
    async fn read_log(&self) -> Result<Option<String>> {
        let since = self
            .log
            .since()
            .await
            .to_rfc3339_opts(SecondsFormat::Secs, true);
        let mut url = self.api.url("v1.0/auditLogs/signIns")?;
        url.query_pairs_mut()
            .append_pair("$filter", &format!("createdDateTime ge {since}"))
            .append_pair("$top", "1000");
        let mut events = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: Page<GraphSignIn> = self.api.get(url.clone()).await?;
            super::budget::charge_items(page.value.len())?;
            events.extend(page.value.into_iter().filter_map(Self::event));
            match page.next_link {
                Some(next) => url = self.api.follow(&next)?,
                None => {
                    self.log.apply(events).await;
                    return Ok(None);
                }
            }
        }
        // Graph lists sign-ins newest first: cut short, the cursor stays.
        self.log.apply_cut_short(events).await;
        Ok(Some(format!(
            "the sign-ins since the last poll are longer than {MAX_PAGES} pages; the newest were read, the older ones will be read again"
        )))
    }

    async fn all_pages<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Vec<T>> {
        let mut url = self.api.url(path)?;
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: Page<T> = self.api.get(url.clone()).await?;
            super::budget::charge_items(page.value.len())?;
            all.extend(page.value);
            match page.next_link {
                Some(next) => url = self.api.follow(&next)?,
                None => return Ok(all),
            }
        }
        Err(Error::malformed(format!(
            "{path}: more than {MAX_PAGES} pages"
        )))
    }

    /// Members of any activated directory role, cached for a few minutes.
    async fn admins(&self) -> Result<Arc<HashSet<String>>> {
        let mut guard = self.admins.lock().await;
        if let Some((_, set)) = guard.as_ref().filter(|(at, _)| at.elapsed() < ADMIN_TTL) {
            return Ok(Arc::clone(set));
        }
        let roles: Vec<DirectoryObject> = self.all_pages("v1.0/directoryRoles").await?;
        let members = super::http::bounded(roles, 4, |role| async move {
            self.all_pages::<DirectoryObject>(&format!(
                "v1.0/directoryRoles/{}/members?$select=id",
                seg(&role.id)
            ))
            .await
        })
        .await;
        let mut set = HashSet::new();
        for m in members {
            set.extend(m?.into_iter().map(|o| o.id));
        }
        let set = Arc::new(set);
        *guard = Some((Instant::now(), Arc::clone(&set)));
        Ok(set)
    }

    async fn fetch_user(&self, key: String, admins: &HashSet<String>) -> Result<User> {
        let u: GraphUser = self
            .api
            .get_path(&format!("v1.0/users/{}?$select={USER_FIELDS}", seg(&key)))
            .await?;
        let mut user = User::new(u.id.clone(), u.user_principal_name.unwrap_or(u.id));
        user.email = u.mail.map(Into::into);
        user.display_name = u.display_name.map(Into::into);
        user.first_name = u.given_name.map(Into::into);
        user.last_name = u.surname.map(Into::into);
        user.department = u.department.map(Into::into);
        user.organisation = u.company_name.map(Into::into);
        user.superuser = admins.contains(&*user.id);
        user.protected = user.superuser;
        user.disabled = u.account_enabled == Some(false);
        Ok(user)
    }

    async fn set_enabled(&self, user_id: &str, enabled: bool) -> Result<User> {
        self.api
            .call(
                Method::PATCH,
                &format!("v1.0/users/{}", seg(user_id)),
                Some(&serde_json::json!({ "accountEnabled": enabled })),
            )
            .await?;
        let admins = self.admins().await?;
        let user = self.fetch_user(user_id.to_owned(), &admins).await?;
        self.users.put(user.clone()).await;
        Ok(user)
    }
}

#[async_trait]
impl Connector for EntraConnector {
    fn tenant(&self) -> &Arc<str> {
        self.api.tenant()
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Entra
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            require_password_change: true,
            ..Capabilities::SIGN_IN_LOG
        }
    }

    /// `passwordProfile.forceChangePasswordNextSignIn`; force logout
    /// (`revokeSignInSessions`) already revokes the refresh tokens.
    async fn require_password_change(&self, user_id: &str) -> Result<()> {
        self.api
            .call(
                Method::PATCH,
                &format!("v1.0/users/{}", seg(user_id)),
                Some(&serde_json::json!({
                    "passwordProfile": { "forceChangePasswordNextSignIn": true }
                })),
            )
            .await
            .map(|_| ())
    }

    async fn poll(&self) -> Result<PollUpdate> {
        let cut_short = self
            .read_log()
            .await
            .map_err(|e| e.context("reading the sign-in logs"))?;
        let done = |sessions: Vec<crate::model::Session>| match &cut_short {
            Some(why) => PollUpdate::Partial {
                sessions,
                incomplete: why.clone(),
            },
            None => PollUpdate::Full(sessions),
        };
        let mut sessions = self.log.sessions(self.api.tenant(), Some("entra")).await;
        if sessions.is_empty() {
            return Ok(done(sessions));
        }
        let admins = self
            .admins()
            .await
            .map_err(|e| e.context("reading directory role members"))?;
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
        Ok(done(sessions))
    }

    async fn reset(&self) {
        self.log.reset().await;
        self.users.clear().await;
        *self.admins.lock().await = None;
        self.api.reset().await;
    }

    async fn end_session(&self, _session_id: &str) -> Result<EndOutcome> {
        Err(Error::unsupported(
            "Entra ID cannot end a single sign-in session; use force logout, which revokes all of \
             the user's sign-in sessions (revokeSignInSessions)",
        ))
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        let before = self
            .log
            .sessions(self.api.tenant(), Some("entra"))
            .await
            .iter()
            .filter(|s| &*s.user_id == user_id)
            .count() as u64;
        // Graph answers `{"value": true}` (revokeSignInSessionsPostResponse); `false` is
        // a refusal, not a success.
        let answer: RevokeAnswer = self
            .api
            .json(
                Method::POST,
                &format!("v1.0/users/{}/revokeSignInSessions", seg(user_id)),
                None,
            )
            .await?;
        if answer.value == Some(false) {
            return Err(Error::new(
                ErrorCode::Conflict,
                "Microsoft Graph answered revokeSignInSessions with value false: the sessions were not revoked",
            ));
        }
        self.log.user_ended(user_id).await;
        Ok(before)
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        self.set_enabled(user_id, !disabled).await
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        // Graph accepts a userPrincipalName where an object id is expected.
        let admins = self.admins().await?;
        match self.fetch_user(username.to_owned(), &admins).await {
            Ok(u) => Ok(Some(u)),
            Err(e) if e.code == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn check(&self) -> TenantCheck {
        self.api
            .check(
                "v1.0/auditLogs/signIns?$top=1",
                Vec::new(),
                self.capabilities(),
                "the app cannot read sign-in logs (needs AuditLog.Read.All and an Entra ID P1/P2 licence)",
            )
            .await
    }
}

/// What the tenant form and `vigil tenant add --help` say of this kind.
pub(super) fn info() -> super::KindInfo {
    super::KindInfo {
        kind: crate::model::ConnectorKind::Entra,
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
            super::field("tenant_id", "Directory (tenant) ID", true, "The Entra tenant's id or primary domain."),
            super::field("client_id", "Application (client) ID", true, "The app registration's client id."),
            super::field("certificate_thumbprint", "Certificate thumbprint", false, "With a PEM private key: the hex SHA-1 thumbprint of its certificate as the portal shows it."),
            super::field("login_url", "Login URL", false, "Default https://login.microsoftonline.com. National clouds: their login URL here (e.g. https://login.microsoftonline.us) and their Graph endpoint as the tenant URL (https://graph.microsoft.us, https://dod-graph.microsoft.us, https://microsoftgraph.chinacloudapi.cn): the token's scope follows it."),
            super::field("lookback_hours", "Look-back (hours)", false, "How far back sign-ins count as sessions; default 24."),
        ],
        logout_effect: "revokes the user's refresh tokens and session cookies (revokeSignInSessions); access tokens \
         already issued stay valid until they expire (up to about an hour)".into(),
        revoke_effect: "".into(),
        password_effect: "a new password at the next sign-in (forceChangePasswordNextSignIn)".into(),
    }
}

pub(super) fn build(
    spec: &crate::model::TenantSpec,
    secret: crate::secret::SecretString,
) -> crate::error::Result<std::sync::Arc<dyn super::Connector>> {
    Ok(std::sync::Arc::new(EntraConnector::new(spec, secret)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graph_scope_follows_the_national_cloud() -> crate::Result<()> {
        let scope = |u: &str| -> crate::Result<String> {
            Ok(graph_scope(&crate::model::parse_base_url(u)?))
        };
        assert_eq!(
            scope("https://graph.microsoft.com")?,
            "https://graph.microsoft.com/.default"
        );
        assert_eq!(
            scope("https://graph.microsoft.us")?,
            "https://graph.microsoft.us/.default"
        );
        assert_eq!(
            scope("https://dod-graph.microsoft.us/")?,
            "https://dod-graph.microsoft.us/.default"
        );
        assert_eq!(
            scope("https://microsoftgraph.chinacloudapi.cn")?,
            "https://microsoftgraph.chinacloudapi.cn/.default"
        );
        assert_eq!(
            scope("https://graph-proxy.example")?,
            "https://graph.microsoft.com/.default"
        );
        Ok(())
    }

    #[test]
    fn thumbprints_become_x5t() {
        assert_eq!(
            x5t("A1B2C3D4E5F60718293A4B5C6D7E8F9012345678")
                .ok()
                .as_deref(),
            Some("obLD1OX2BxgpOktcbX6PkBI0Vng")
        );
        assert!(x5t("abc").is_err());
    }
}
