//! Ory Kratos through its admin API. On Ory Network the secret is a project API key; a
//! self-hosted admin port usually has no auth of its own (the key is then sent and
//! ignored, so put the admin port behind something that checks it).
//!
//! `GET /admin/sessions?active=true&expand=identity&expand=devices` lists every active
//! session, paged by `page_token` through the `Link` header. Kratos has no built-in
//! SuperUser notion: an identity counts as one when `metadata_public.role` (or
//! `metadata_admin.role`) is `admin` or `superuser`, or `metadata_public.superuser` is true.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;

use super::http::check_accepted;
use super::http::{HttpClient, link_next};
use super::{Connector, EndOutcome, PollUpdate};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{
    Capabilities, ConnectorKind, Session, TenantCheck, TenantSpec, Text, User, normalize_ip,
};
use crate::secret::SecretString;

const PAGE: usize = 500;
const MAX_PAGES: usize = 2_000;

#[derive(Deserialize)]
struct KSession {
    id: String,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    authenticated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    issued_at: Option<DateTime<Utc>>,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    authenticator_assurance_level: Option<String>,
    #[serde(default)]
    authentication_methods: Vec<AuthMethod>,
    #[serde(default)]
    devices: Vec<KDevice>,
    #[serde(default)]
    identity: Option<Identity>,
}

#[derive(Deserialize)]
struct AuthMethod {
    #[serde(default)]
    method: Option<String>,
}

#[derive(Deserialize)]
struct KDevice {
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(default)]
    user_agent: Option<String>,
    #[serde(default)]
    location: Option<String>,
}

#[derive(Deserialize)]
struct Identity {
    id: String,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    traits: serde_json::Value,
    #[serde(default)]
    metadata_public: Option<serde_json::Value>,
    #[serde(default)]
    metadata_admin: Option<serde_json::Value>,
}

pub struct KratosConnector {
    tenant: Arc<str>,
    http: HttpClient,
    key: SecretString,
}

fn role_is_admin(v: &serde_json::Value) -> bool {
    let is = |r: &str| matches!(r.to_ascii_lowercase().as_str(), "admin" | "superuser");
    match &v["role"] {
        serde_json::Value::String(r) => is(r),
        serde_json::Value::Array(a) => a.iter().any(|r| r.as_str().is_some_and(is)),
        _ => false,
    }
}

fn user_from(i: &Identity) -> User {
    let t = &i.traits;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned).filter(|s| !s.is_empty());
    let username = text(&t["username"])
        .or_else(|| text(&t["email"]))
        .unwrap_or_else(|| i.id.clone());
    let mut user = User::new(i.id.clone(), username);
    user.email = text(&t["email"]).map(Into::into);
    user.first_name = text(&t["name"]["first"]).map(Into::into);
    user.last_name = text(&t["name"]["last"]).map(Into::into);
    user.display_name = match (&user.first_name, &user.last_name) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        _ => text(&t["name"]).or_else(|| text(&t["name"]["first"])),
    }
    .map(Into::into);
    user.department = text(&t["department"]).map(Into::into);
    user.organisation = text(&t["organisation"])
        .or_else(|| text(&t["organization"]))
        .map(Into::into);
    let public = i.metadata_public.as_ref();
    user.superuser = public
        .is_some_and(|m| role_is_admin(m) || m["superuser"] == serde_json::Value::Bool(true))
        || i.metadata_admin.as_ref().is_some_and(role_is_admin);
    user.disabled = i.state.as_deref() == Some("inactive");
    user
}

fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl KratosConnector {
    pub fn new(spec: &TenantSpec, key: SecretString) -> Result<Self> {
        Ok(Self {
            tenant: Arc::from(spec.name.as_str()),
            http: HttpClient::for_spec(&spec.base_url, spec)?,
            key,
        })
    }

    async fn set_state(&self, identity: &str, state: &str) -> Result<User> {
        let patch = serde_json::json!([{ "op": "replace", "path": "/state", "value": state }]);
        let i: Identity = self
            .http
            .call_json(
                Method::PATCH,
                &format!("admin/identities/{}", seg(identity)),
                &self.key,
                Some(&patch),
            )
            .await?;
        Ok(user_from(&i))
    }

    /// A `Link` target must stay on the tenant's origin (credentials go with it).
    fn same_origin(&self, next: &str) -> Result<url::Url> {
        let url = self
            .http
            .base()
            .join(next)
            .map_err(|e| Error::malformed(format!("bad Link header: {e}")))?;
        if url.origin() != self.http.base().origin() {
            return Err(Error::malformed("the Link header points to another host"));
        }
        Ok(url)
    }
}

#[async_trait]
impl Connector for KratosConnector {
    fn tenant(&self) -> &Arc<str> {
        &self.tenant
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Kratos
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::FULL_LISTING
    }

    async fn poll(&self) -> Result<PollUpdate> {
        let mut url = self.http.url(&format!(
            "admin/sessions?page_size={PAGE}&active=true&expand=identity&expand=devices"
        ))?;
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let (page, headers): (Vec<KSession>, _) = self
                .http
                .get_json_headers(url.clone(), &self.key)
                .await
                .map_err(|e| e.context("listing sessions"))?;
            super::budget::charge_items(page.len())?;
            for s in page {
                if s.active == Some(false) || !seen.insert(s.id.clone()) {
                    continue;
                }
                let user = s.identity.as_ref().map(user_from);
                let (uid, uname) = user.as_ref().map_or((Text::from(""), Text::from("")), |u| {
                    (u.id.clone(), u.username.clone())
                });
                let mut session = Session::new(&self.tenant, s.id.clone(), uid, uname);
                if let Some(u) = &user {
                    session.annotate(u);
                }
                if let Some(d) = s.devices.first() {
                    session.ip = d.ip_address.as_deref().and_then(normalize_ip);
                    session.user_agent = d
                        .user_agent
                        .clone()
                        .filter(|i| !i.is_empty())
                        .map(Into::into);
                    session.server_name =
                        d.location.clone().filter(|l| !l.is_empty()).map(Into::into);
                }
                session.created_at = s.authenticated_at.or(s.issued_at);
                session.expires_at = s.expires_at;
                session.login_type = s
                    .authentication_methods
                    .first()
                    .and_then(|m| m.method.as_deref())
                    .map(Into::into);
                session.session_type = s.authenticator_assurance_level.clone().map(Into::into);
                out.push(session);
            }
            match link_next(&headers) {
                Some(next) => url = self.same_origin(&next)?,
                None => return Ok(PollUpdate::Full(out)),
            }
        }
        Err(Error::malformed("listing sessions: too many pages"))
    }

    async fn reset(&self) {}

    async fn end_session(&self, session_id: &str) -> Result<EndOutcome> {
        match self
            .http
            .call(
                Method::DELETE,
                &format!("admin/sessions/{}", seg(session_id)),
                &self.key,
                None,
            )
            .await
        {
            Ok(_) => Ok(EndOutcome::Ended),
            Err(e) if e.code == ErrorCode::NotFound => Ok(EndOutcome::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        // Counted over every page: the first holds at most `page_size` of them.
        let mut url = self.http.url(&format!(
            "admin/identities/{}/sessions?page_size={PAGE}&active=true",
            seg(user_id)
        ))?;
        let mut before = 0u64;
        for _ in 0..MAX_PAGES {
            match self
                .http
                .get_json_headers::<Vec<serde_json::Value>>(url.clone(), &self.key)
                .await
            {
                Ok((v, headers)) => {
                    super::budget::charge_items(v.len())?;
                    before = before.saturating_add(v.len() as u64);
                    match link_next(&headers) {
                        Some(next) if !v.is_empty() => url = self.same_origin(&next)?,
                        _ => break,
                    }
                }
                Err(e) if e.code == ErrorCode::NotFound => break,
                Err(e) => return Err(e),
            }
        }
        match self
            .http
            .call(
                Method::DELETE,
                &format!("admin/identities/{}/sessions", seg(user_id)),
                &self.key,
                None,
            )
            .await
        {
            Ok(_) => Ok(before),
            Err(e) if e.code == ErrorCode::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        self.set_state(user_id, if disabled { "inactive" } else { "active" })
            .await
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        let url = self.http.url(&format!(
            "admin/identities?credentials_identifier={}",
            seg(username)
        ))?;
        let (found, _): (Vec<Identity>, _) = self.http.get_json_headers(url, &self.key).await?;
        Ok(found.first().map(user_from))
    }

    async fn check(&self) -> TenantCheck {
        let started = Instant::now();
        let sent = Utc::now();
        let url = match self.http.url("admin/sessions?page_size=1&active=true") {
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
            .get_json_headers::<Vec<serde_json::Value>>(url, &self.key)
            .await;
        let latency = started.elapsed();
        match result {
            Ok((_, headers)) => check_accepted(
                &headers,
                sent,
                latency,
                vec!["admin API".to_owned()],
                self.capabilities(),
            ),
            Err(e) => TenantCheck::failed(&e),
        }
    }
}

/// What the tenant form and `vigil tenant add --help` say of this kind.
pub(super) fn info() -> super::KindInfo {
    super::KindInfo {
        kind: crate::model::ConnectorKind::Kratos,
        label: "Ory Kratos".into(),
        description: "Every active session through the Kratos admin API (Ory Network or self-hosted admin port). \
                      SuperUsers: identities whose metadata role is admin or superuser."
            .into(),
        url_hint: "https://project.projects.oryapis.com".into(),
        secret_label: "API key".into(),
        options: Vec::new(),
        logout_effect: "revokes every session of the identity".into(),
        revoke_effect: "".into(),
        password_effect: "".into(),
    }
}

pub(super) fn build(
    spec: &crate::model::TenantSpec,
    secret: crate::secret::SecretString,
) -> crate::error::Result<std::sync::Arc<dyn super::Connector>> {
    Ok(std::sync::Arc::new(KratosConnector::new(spec, secret)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_map_to_users() {
        let i: Identity = serde_json::from_value(serde_json::json!({
            "id": "9f425a8d", "state": "inactive",
            "traits": {"email": "ada@example.org", "name": {"first": "Ada", "last": "Lovelace"}},
            "metadata_public": {"role": ["user", "admin"]}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let u = user_from(&i);
        assert_eq!(&*u.username, "ada@example.org");
        assert_eq!(u.display_name.as_deref(), Some("Ada Lovelace"));
        assert!(u.superuser && u.disabled);
    }
}
