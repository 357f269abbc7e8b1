//! Salesforce, one org, through the REST API.
//!
//! Sessions: every `AuthSession` through SOQL (following `nextRecordsUrl`); expiry is
//! `LastModifiedDate + NumSecondsValid`, browser, platform and country come from each
//! session's `LoginHistory` row. Ending a session deletes its `AuthSession`; ending all of a
//! user's deletes each of them with the composite API. Disabling freezes the user
//! (`UserLogin.IsFrozen`), which is reversible and keeps licences and data untouched.
//! SuperUsers: users assigned Modify All Data, through their profile or a permission set
//! (`PermissionSetAssignment` covers both: every profile owns a permission set).
//!
//! Credential: an External Client App, with client credentials (secret = consumer secret)
//! or the JWT bearer flow (secret = the PEM private key of the app's certificate; options
//! `username` and `login_url`). Every request counts against the org's daily API
//! allowance; a spent allowance (`REQUEST_LIMIT_EXCEEDED`) is reported as rate limiting.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::auth::{Api, Credential, Grant, OAuth, SigningKey, end_outcome, is_pem_key, opt};
use super::{Connector, EndOutcome, PollUpdate};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    Capabilities, ConnectorKind, Session, TenantCheck, TenantSpec, User, normalize_ip,
};
use crate::secret::SecretString;

const MAX_PAGES: usize = 1_000;
/// Ids per `IN (…)` clause and per composite delete.
const CHUNK: usize = 200;

/// Salesforce's datetime format: `2026-11-22T10:00:00.000+0000`.
fn sf_time<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<DateTime<Utc>>, D::Error> {
    let raw: Option<String> = Option::deserialize(d)?;
    Ok(raw.and_then(|s| {
        DateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f%z")
            .or_else(|_| DateTime::parse_from_rfc3339(&s))
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryResult<T> {
    records: Vec<T>,
    #[serde(default)]
    next_records_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AuthSession {
    id: String,
    /// Nillable in the object reference: a session can belong to no user.
    #[serde(default)]
    users_id: Option<String>,
    #[serde(default)]
    session_type: Option<String>,
    #[serde(default)]
    login_type: Option<String>,
    #[serde(default)]
    source_ip: Option<String>,
    #[serde(default, deserialize_with = "sf_time")]
    created_date: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "sf_time")]
    last_modified_date: Option<DateTime<Utc>>,
    #[serde(default)]
    num_seconds_valid: Option<u32>,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    is_current: Option<bool>,
    #[serde(default)]
    login_history_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LoginHistory {
    id: String,
    #[serde(default)]
    browser: Option<String>,
    #[serde(default)]
    platform: Option<String>,
    #[serde(default)]
    country_iso: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SfUser {
    id: String,
    username: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    department: Option<String>,
    #[serde(default)]
    company_name: Option<String>,
    #[serde(default)]
    is_active: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserLogin {
    id: String,
    /// Nillable in Salesforce's object reference (jsforce's schema types: `string | null`).
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    is_frozen: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Assignment {
    assignee_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IdOnly {
    id: String,
}

#[derive(Deserialize)]
struct CompositeResult {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    errors: Vec<CompositeError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompositeError {
    #[serde(default)]
    status_code: Option<String>,
}

const USER_FIELDS: &str =
    "Id, Username, Email, Name, FirstName, LastName, Department, CompanyName, IsActive";

pub struct SalesforceConnector {
    api: Api,
    /// `services/data/vNN.N/`
    data: String,
}

/// A record id safe to put in SOQL (Salesforce ids are 15 or 18 letters and digits).
fn sf_id(id: &str) -> Result<&str> {
    if (15..=18).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(Error::invalid_input(format!(
            "{id:?} is not a Salesforce record id"
        )))
    }
}

/// A SOQL string literal.
fn soql_str(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn id_list<'a>(ids: impl IntoIterator<Item = &'a String>) -> String {
    ids.into_iter()
        .filter(|i| sf_id(i).is_ok())
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The JWT bearer assertion's `aud`, which Salesforce documents as the authorization
/// server: `https://login.salesforce.com`, `https://test.salesforce.com` for sandboxes, or
/// an Experience Cloud site's URL. The token request may go to a My Domain; the audience
/// stays the login server it belongs to (a My Domain as `aud` is refused).
fn jwt_audience(login_url: &str) -> String {
    let host = url::Url::parse(login_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    if host == "test.salesforce.com" || host.ends_with(".sandbox.my.salesforce.com") {
        "https://test.salesforce.com".to_owned()
    } else if host.ends_with(".force.com") || host.ends_with(".site.com") {
        // An Experience Cloud site: its own URL, path included.
        login_url.trim_end_matches('/').to_owned()
    } else {
        "https://login.salesforce.com".to_owned()
    }
}

impl SalesforceConnector {
    pub fn new(spec: &TenantSpec, secret: SecretString) -> Result<Self> {
        let client_id = spec.option("client_id")?.to_owned();
        let base = spec.base_url.as_str().trim_end_matches('/').to_owned();
        let (token_url, grant) = if is_pem_key(&secret) {
            let login =
                opt(spec, "login_url").unwrap_or_else(|| "https://login.salesforce.com".into());
            let login = crate::model::parse_base_url(&login)?;
            let login = login.as_str().trim_end_matches('/').to_owned();
            let username = spec.option("username").map_err(|e| {
                e.context("the JWT bearer flow (a private key as secret) signs in as a user")
            })?;
            let audience = opt(spec, "audience").unwrap_or_else(|| jwt_audience(&login));
            (
                format!("{login}/services/oauth2/token"),
                Grant::JwtBearer {
                    issuer: client_id,
                    subject: username.to_owned(),
                    audience,
                    key: SigningKey::from_pem(secret.expose())?,
                    kid: None,
                    extra_claims: serde_json::Map::new(),
                },
            )
        } else {
            (
                format!("{base}/services/oauth2/token"),
                Grant::ClientSecret { client_id, secret },
            )
        };
        let token_url = url::Url::parse(&token_url)
            .map_err(|e| Error::config(format!("bad token URL: {e}")))?;
        let version = opt(spec, "api_version").unwrap_or_else(|| "62.0".into());
        if !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(Error::config(format!(
                "api_version {version:?} is not like 62.0"
            )));
        }
        Ok(Self {
            api: Api::new(
                spec,
                Credential::oauth(OAuth::new(spec, token_url, grant, Vec::new())?),
            )?,
            data: format!("services/data/v{version}/"),
        })
    }

    /// All records of a SOQL query, following `nextRecordsUrl`.
    async fn query<T: DeserializeOwned>(&self, soql: &str) -> Result<Vec<T>> {
        let mut url = self.api.url(&format!("{}query", self.data))?;
        url.query_pairs_mut().append_pair("q", soql);
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: QueryResult<T> = self.api.get(url.clone()).await?;
            super::budget::charge_items(page.records.len())?;
            all.extend(page.records);
            match page.next_records_url {
                Some(next) => url = self.api.follow(&next)?,
                None => return Ok(all),
            }
        }
        Err(Error::malformed("query: more than 1,000 pages"))
    }

    /// A query over many ids, `IN (…)` in chunks.
    async fn query_ids<T: DeserializeOwned>(
        &self,
        template: &str,
        ids: &[String],
    ) -> Result<Vec<T>> {
        let mut all = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let list = id_list(chunk);
            if list.is_empty() {
                continue;
            }
            all.extend(self.query::<T>(&template.replace("{ids}", &list)).await?);
        }
        Ok(all)
    }

    async fn admins(&self) -> Result<HashSet<String>> {
        let rows: Vec<Assignment> = self
            .query("SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSet.PermissionsModifyAllData = true")
            .await?;
        Ok(rows.into_iter().map(|a| a.assignee_id).collect())
    }

    async fn users(&self, ids: &[String]) -> Result<HashMap<String, User>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let users: Vec<SfUser> = self
            .query_ids(
                &format!("SELECT {USER_FIELDS} FROM User WHERE Id IN ({{ids}})"),
                ids,
            )
            .await?;
        let logins: Vec<UserLogin> = self
            .query_ids(
                "SELECT Id, UserId, IsFrozen FROM UserLogin WHERE UserId IN ({ids})",
                ids,
            )
            .await?;
        let frozen: HashSet<String> = logins
            .into_iter()
            .filter(|l| l.is_frozen == Some(true))
            .filter_map(|l| l.user_id)
            .collect();
        let admins = self.admins().await?;
        Ok(users
            .into_iter()
            .map(|u| {
                let id = u.id.clone();
                (id, user_from(u, &frozen, &admins))
            })
            .collect())
    }

    async fn user(&self, id: &str) -> Result<User> {
        self.users(&[sf_id(id)?.to_owned()])
            .await?
            .remove(id)
            .ok_or_else(|| Error::new(ErrorCode::NotFound, format!("no user {id}")))
    }

    async fn set_frozen(&self, user_id: &str, frozen: bool) -> Result<User> {
        let logins: Vec<UserLogin> = self
            .query(&format!(
                "SELECT Id, UserId, IsFrozen FROM UserLogin WHERE UserId = '{}'",
                sf_id(user_id)?
            ))
            .await?;
        let login = logins.first().ok_or_else(|| {
            Error::new(
                ErrorCode::NotFound,
                format!("no login record for user {user_id}"),
            )
        })?;
        self.api
            .call(
                Method::PATCH,
                &format!("{}sobjects/UserLogin/{}", self.data, sf_id(&login.id)?),
                Some(&json!({ "IsFrozen": frozen })),
            )
            .await?;
        self.user(user_id).await
    }
}

fn user_from(u: SfUser, frozen: &HashSet<String>, admins: &HashSet<String>) -> User {
    let mut user = User::new(u.id.clone(), u.username);
    user.email = u.email.map(Into::into);
    user.display_name = u.name.map(Into::into);
    user.first_name = u.first_name.map(Into::into);
    user.last_name = u.last_name.map(Into::into);
    user.department = u.department.map(Into::into);
    user.organisation = u.company_name.map(Into::into);
    user.superuser = admins.contains(&u.id);
    user.protected = user.superuser;
    user.disabled = frozen.contains(&u.id) || u.is_active == Some(false);
    user
}

#[async_trait]
impl Connector for SalesforceConnector {
    fn tenant(&self) -> &Arc<str> {
        self.api.tenant()
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Salesforce
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::FULL_LISTING
    }

    async fn poll(&self) -> Result<PollUpdate> {
        let rows: Vec<AuthSession> = self
            .query(
                "SELECT Id, UsersId, SessionType, LoginType, SourceIp, CreatedDate, LastModifiedDate, \
                 NumSecondsValid, ParentId, IsCurrent, LoginHistoryId FROM AuthSession",
            )
            .await
            .map_err(|e| e.context("querying AuthSession"))?;
        let user_ids: Vec<String> = rows
            .iter()
            .filter_map(|r| r.users_id.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let users = self
            .users(&user_ids)
            .await
            .map_err(|e| e.context("reading users"))?;
        let history_ids: Vec<String> = rows
            .iter()
            .filter_map(|r| r.login_history_id.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let history: HashMap<String, LoginHistory> = self
            .query_ids::<LoginHistory>(
                "SELECT Id, Browser, Platform, CountryIso FROM LoginHistory WHERE Id IN ({ids})",
                &history_ids,
            )
            .await
            .map_err(|e| e.context("reading login history"))?
            .into_iter()
            .map(|h| (h.id.clone(), h))
            .collect();
        let tenant = self.api.tenant();
        let sessions = rows
            .into_iter()
            .map(|r| {
                // A session of no user stays listed (it can be ended), named as such.
                let user_id = r.users_id.clone().unwrap_or_default();
                let name = r.users_id.clone().unwrap_or_else(|| "(no user)".to_owned());
                let mut s = Session::new(tenant, r.id, user_id, name);
                if let Some(u) = r.users_id.as_ref().and_then(|id| users.get(id)) {
                    s.annotate(u);
                }
                s.ip = r.source_ip.as_deref().and_then(normalize_ip);
                s.session_type = r.session_type.map(Into::into);
                s.login_type = r.login_type.map(Into::into);
                s.created_at = r.created_date;
                s.last_activity_at = r.last_modified_date;
                s.idle_timeout_seconds = r.num_seconds_valid;
                s.expires_at =
                    r.last_modified_date
                        .zip(r.num_seconds_valid)
                        .and_then(|(t, secs)| {
                            t.checked_add_signed(chrono::Duration::seconds(i64::from(secs)))
                        });
                s.current = r.is_current == Some(true);
                if r.parent_id.is_some() {
                    s.server_name = Some("child session".into());
                }
                if let Some(h) = r.login_history_id.as_ref().and_then(|id| history.get(id)) {
                    s.user_agent = match (&h.browser, &h.platform) {
                        (Some(b), Some(p)) => Some(format!("{b} ({p})")),
                        (b, p) => b.clone().or(p.clone()),
                    }
                    .map(Into::into);
                    s.location = h.country_iso.as_deref().map(Into::into);
                }
                s
            })
            .collect();
        Ok(PollUpdate::Full(sessions))
    }

    async fn reset(&self) {
        self.api.reset().await;
    }

    async fn end_session(&self, session_id: &str) -> Result<EndOutcome> {
        end_outcome(
            self.api
                .call(
                    Method::DELETE,
                    &format!("{}sobjects/AuthSession/{}", self.data, sf_id(session_id)?),
                    None,
                )
                .await,
        )
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        let ids: Vec<IdOnly> = self
            .query(&format!(
                "SELECT Id FROM AuthSession WHERE UsersId = '{}'",
                sf_id(user_id)?
            ))
            .await?;
        let ids: Vec<String> = ids.into_iter().map(|r| r.id).collect();
        let mut ended = 0u64;
        for chunk in ids.chunks(CHUNK) {
            let path = format!(
                "{}composite/sobjects?ids={}&allOrNone=false",
                self.data,
                chunk.join(",")
            );
            let results: Vec<CompositeResult> = self.api.json(Method::DELETE, &path, None).await?;
            for r in results {
                let gone = r.errors.iter().any(|e| {
                    matches!(
                        e.status_code.as_deref(),
                        Some("ENTITY_IS_DELETED" | "INVALID_CROSS_REFERENCE_KEY")
                    )
                });
                if r.success {
                    ended += 1;
                } else if !gone {
                    return Err(Error::new(
                        ErrorCode::Conflict,
                        format!(
                            "Salesforce refused to delete a session ({})",
                            r.errors
                                .first()
                                .and_then(|e| e.status_code.clone())
                                .unwrap_or_else(|| "no reason given".into())
                        ),
                    ));
                }
            }
        }
        Ok(ended)
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        self.set_frozen(user_id, disabled).await
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        let found: Vec<SfUser> = self
            .query(&format!(
                "SELECT {USER_FIELDS} FROM User WHERE Username = {}",
                soql_str(username)
            ))
            .await?;
        let Some(u) = found.into_iter().next() else {
            return Ok(None);
        };
        Ok(Some(self.user(&u.id).await?))
    }

    async fn check(&self) -> TenantCheck {
        let mut check = self
            .api
            .check(
                &format!("{}limits", self.data),
                Vec::new(),
                self.capabilities(),
                "the integration user cannot use the REST API",
            )
            .await;
        if check.error.is_none()
            && let Ok(limits) = self
                .api
                .get_path::<serde_json::Value>(&format!("{}limits", self.data))
                .await
        {
            let d = &limits["DailyApiRequests"];
            if let (Some(max), Some(left)) = (d["Max"].as_u64(), d["Remaining"].as_u64()) {
                check
                    .permissions
                    .push(format!("API requests left today: {left} of {max}"));
            }
        }
        check
    }
}

/// What the tenant form and `vigil tenant add --help` say of this kind.
pub(super) fn info() -> super::KindInfo {
    super::KindInfo {
        kind: crate::model::ConnectorKind::Salesforce,
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
            super::field("client_id", "Consumer key", true, "The External Client App's consumer key."),
            super::field("username", "Integration user", false, "JWT bearer flow only: the user Vigil signs in as (needs View Setup, Manage Users, API Enabled)."),
            super::field("login_url", "Login URL", false, "JWT bearer flow only: https://login.salesforce.com (default), https://test.salesforce.com for sandboxes, or the My Domain URL (the token request goes there; the assertion's audience stays the login server)."),
            super::field("audience", "JWT audience", false, "JWT bearer flow only: the assertion's aud, when it is not the one derived from the login URL (an Experience Cloud site URL, for instance)."),
            super::field("api_version", "API version", false, "REST API version, default 62.0."),
        ],
        logout_effect: "deletes every AuthSession of the user (UI and API sessions)".into(),
        revoke_effect: "".into(),
        password_effect: "".into(),
    }
}

pub(super) fn build(
    spec: &crate::model::TenantSpec,
    secret: crate::secret::SecretString,
) -> crate::error::Result<std::sync::Arc<dyn super::Connector>> {
    Ok(std::sync::Arc::new(SalesforceConnector::new(spec, secret)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jwt_audience_is_the_login_server_not_a_my_domain() {
        for (login, aud) in [
            (
                "https://login.salesforce.com",
                "https://login.salesforce.com",
            ),
            (
                "https://acme.my.salesforce.com",
                "https://login.salesforce.com",
            ),
            ("https://test.salesforce.com", "https://test.salesforce.com"),
            (
                "https://acme--uat.sandbox.my.salesforce.com",
                "https://test.salesforce.com",
            ),
            (
                "https://acme.my.site.com/customers",
                "https://acme.my.site.com/customers",
            ),
            (
                "https://acme.force.com/customers/",
                "https://acme.force.com/customers",
            ),
        ] {
            assert_eq!(jwt_audience(login), aud, "{login}");
        }
    }

    #[test]
    fn ids_and_strings_are_safe_in_soql() {
        assert!(sf_id("005xx000001Sv6eAAC").is_ok());
        assert!(sf_id("005' OR Id != '").is_err());
        assert_eq!(soql_str("o'brien\\x"), "'o\\'brien\\\\x'");
    }
}
