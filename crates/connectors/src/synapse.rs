//! Matrix Synapse through its admin API, with an admin user's access token.
//!
//! A session is a device: users are paged (`next_token`), then each user's devices are
//! read with bounded concurrency. Synapse keeps no creation time for a device, so
//! `created_at` stays unknown; `last_seen_*` give IP, user agent and last activity (a
//! fresh login has none until its token is used). Disabling locks the account
//! (reversible); deactivation is destructive and never done implicitly. Vigil's own
//! device is the current session and is never deleted.

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

const PAGE: usize = 250;
const MAX_PAGES: usize = 4_000;
const CONCURRENCY: usize = 8;

#[derive(Deserialize)]
struct UserList {
    users: Vec<SynUser>,
    #[serde(default)]
    next_token: Option<serde_json::Value>,
}

#[derive(Deserialize, Clone)]
struct SynUser {
    name: String,
    #[serde(default)]
    admin: Option<serde_json::Value>,
    #[serde(default)]
    deactivated: Option<serde_json::Value>,
    #[serde(default)]
    locked: Option<bool>,
    #[serde(default)]
    displayname: Option<String>,
    /// Only in a single user's details, not in the listing.
    #[serde(default)]
    threepids: Vec<ThreePid>,
}

#[derive(Deserialize, Clone)]
struct ThreePid {
    #[serde(default)]
    medium: String,
    #[serde(default)]
    address: String,
}

impl SynUser {
    fn email(&self) -> Option<String> {
        self.threepids
            .iter()
            .find(|t| t.medium == "email" && !t.address.is_empty())
            .map(|t| t.address.clone())
    }
}

/// How long a user's e-mail address (from their details) is kept between polls.
const EMAIL_TTL: std::time::Duration = std::time::Duration::from_secs(600);

#[derive(Deserialize)]
struct DeviceList {
    devices: Vec<Device>,
}

#[derive(Deserialize)]
struct Device {
    device_id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    last_seen_ip: Option<String>,
    #[serde(default)]
    last_seen_user_agent: Option<String>,
    #[serde(default)]
    last_seen_ts: Option<i64>,
}

#[derive(Deserialize)]
struct WhoAmI {
    user_id: String,
    #[serde(default)]
    device_id: Option<String>,
}

/// Synapse answers booleans as `true`/`false` or `1`/`0` depending on the version.
fn truthy(v: &Option<serde_json::Value>) -> bool {
    match v {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::Number(n)) => n.as_i64().unwrap_or(0) != 0,
        _ => false,
    }
}

fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Session ids are `@user:server|DEVICE` (a user id cannot contain `|`).
pub fn session_id(user: &str, device: &str) -> String {
    format!("{user}|{device}")
}

fn split_session(id: &str) -> Result<(&str, &str)> {
    id.split_once('|')
        .filter(|(u, d)| u.starts_with('@') && !d.is_empty())
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "{id:?} is not a Synapse session id (@user:server|DEVICE)"
            ))
        })
}

pub struct SynapseConnector {
    tenant: Arc<str>,
    http: HttpClient,
    token: SecretString,
    me: Mutex<Option<WhoAmI>>,
    /// E-mail addresses by user id: the listing has none, so the details of each user
    /// with devices are read once per [`EMAIL_TTL`].
    emails: std::sync::Mutex<HashMap<String, (Instant, Option<String>)>>,
}

impl SynapseConnector {
    pub fn new(spec: &TenantSpec, token: SecretString) -> Result<Self> {
        Ok(Self {
            tenant: Arc::from(spec.name.as_str()),
            http: HttpClient::for_spec(&spec.base_url, spec)?,
            token,
            me: Mutex::new(None),
            emails: std::sync::Mutex::new(HashMap::new()),
        })
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        match self.http.get_json(path, &self.token, None).await? {
            Fetched::Fresh { value, .. } => Ok(value),
            Fetched::NotModified => Err(Error::malformed("304 without a conditional request")),
        }
    }

    /// Vigil's own user and device (the admin token's).
    async fn me(&self) -> Result<(String, Option<String>)> {
        let mut guard = self.me.lock().await;
        if guard.is_none() {
            *guard = Some(
                self.get::<WhoAmI>("_matrix/client/v3/account/whoami")
                    .await?,
            );
        }
        let me = guard
            .as_ref()
            .ok_or_else(|| Error::internal("whoami vanished"))?;
        Ok((me.user_id.clone(), me.device_id.clone()))
    }

    fn server_name(me: &str) -> &str {
        me.split_once(':').map_or("", |(_, s)| s)
    }

    fn user_from(&self, u: &SynUser, me: &str) -> User {
        let local = u
            .name
            .trim_start_matches('@')
            .split(':')
            .next()
            .unwrap_or(&u.name);
        let mut user = User::new(u.name.clone(), local.to_owned());
        user.email = u.email().map(Into::into);
        user.display_name = u
            .displayname
            .clone()
            .filter(|d| !d.is_empty())
            .map(Into::into);
        user.superuser = truthy(&u.admin);
        // Vigil's own account must not be locked through Vigil.
        user.protected = u.name == me;
        user.disabled = u.locked == Some(true) || truthy(&u.deactivated);
        user
    }

    async fn devices(&self, user: &str) -> Result<Vec<Device>> {
        let list: DeviceList = self
            .get(&format!("_synapse/admin/v2/users/{}/devices", seg(user)))
            .await?;
        Ok(list.devices)
    }

    /// The user's e-mail address from their details, cached; none if they cannot be read
    /// (the address links people across tenants; its absence costs no session).
    async fn email_of(&self, user_id: &str) -> Option<String> {
        if let Some((at, email)) = self.emails.lock().ok()?.get(user_id)
            && at.elapsed() < EMAIL_TTL
        {
            return email.clone();
        }
        let email = self.user(user_id).await.ok()?.email();
        self.emails
            .lock()
            .ok()?
            .insert(user_id.to_owned(), (Instant::now(), email.clone()));
        email
    }

    async fn user(&self, user_id: &str) -> Result<SynUser> {
        self.get(&format!("_synapse/admin/v2/users/{}", seg(user_id)))
            .await
    }

    async fn set_locked(&self, user_id: &str, locked: bool) -> Result<User> {
        let (me, _) = self.me().await?;
        if locked && user_id == me {
            return Err(Error::new(
                ErrorCode::Conflict,
                "refusing to lock Vigil's own admin account",
            ));
        }
        self.http
            .call(
                Method::PUT,
                &format!("_synapse/admin/v2/users/{}", seg(user_id)),
                &self.token,
                Some(&serde_json::json!({ "locked": locked })),
            )
            .await?;
        Ok(self.user_from(&self.user(user_id).await?, &me))
    }

    /// Normalises a CLI user argument: `alice` → `@alice:server`.
    fn mxid(username: &str, me: &str) -> String {
        if username.starts_with('@') {
            username.to_owned()
        } else {
            format!("@{username}:{}", Self::server_name(me))
        }
    }
}

#[async_trait]
impl Connector for SynapseConnector {
    fn tenant(&self) -> &Arc<str> {
        &self.tenant
    }

    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Synapse
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            require_password_change: true,
            ..Capabilities::FULL_LISTING
        }
    }

    /// Synapse cannot ask for a new password at the next sign-in: it gets a random one
    /// no one knows (`reset_password`), so password sign-in needs a reset first.
    async fn require_password_change(&self, user_id: &str) -> Result<()> {
        let (me, _) = self.me().await?;
        if user_id == me {
            return Err(Error::new(
                ErrorCode::Conflict,
                "refusing to reset the password of Vigil's own admin account",
            ));
        }
        let password = super::random_password();
        self.http
            .call(
                Method::POST,
                &format!("_synapse/admin/v1/reset_password/{}", seg(user_id)),
                &self.token,
                Some(&serde_json::json!({
                    "new_password": password.expose(),
                    "logout_devices": false,
                })),
            )
            .await
            .map(|_| ())
    }

    async fn poll(&self) -> Result<PollUpdate> {
        let (me, my_device) = self
            .me()
            .await
            .map_err(|e| e.context("identifying the admin token"))?;
        let mut users: Vec<SynUser> = Vec::new();
        let mut from: Option<String> = None;
        for page in 0.. {
            if page >= MAX_PAGES {
                return Err(Error::malformed("listing users: too many pages"));
            }
            let path = match &from {
                None => format!("_synapse/admin/v2/users?limit={PAGE}&guests=false"),
                Some(f) => format!(
                    "_synapse/admin/v2/users?limit={PAGE}&guests=false&from={}",
                    seg(f)
                ),
            };
            let list: UserList = self
                .get(&path)
                .await
                .map_err(|e| e.context("listing users"))?;
            super::budget::charge_items(list.users.len())?;
            users.extend(list.users);
            let next = match list.next_token {
                Some(serde_json::Value::String(s)) => Some(s),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            if next.is_none() || next == from {
                break;
            }
            from = next;
        }
        let me_ref = me.as_str();
        let per_user = bounded(users, CONCURRENCY, |u| async move {
            let devices = self.devices(&u.name).await;
            let email = match &devices {
                Ok(d) if !d.is_empty() => self.email_of(&u.name).await,
                _ => None,
            };
            (u, devices, email)
        })
        .await;
        if let Ok(mut cache) = self.emails.lock() {
            cache.retain(|_, (at, _)| at.elapsed() < EMAIL_TTL);
        }
        let mut sessions = Vec::new();
        for (u, devices, email) in per_user {
            let devices = match devices {
                Ok(d) => d,
                // Deleted between the two calls: no sessions.
                Err(e) if e.code == ErrorCode::NotFound => continue,
                Err(e) => return Err(e.context(format!("listing devices of {}", u.name))),
            };
            let mut user = self.user_from(&u, me_ref);
            user.email = email.map(Into::into);
            for d in devices {
                let mut s = Session::new(
                    &self.tenant,
                    session_id(&u.name, &d.device_id),
                    u.name.clone(),
                    user.username.clone(),
                );
                s.annotate(&user);
                s.current = u.name == me && my_device.as_deref() == Some(d.device_id.as_str());
                s.ip = d.last_seen_ip.as_deref().and_then(normalize_ip);
                s.user_agent = d
                    .last_seen_user_agent
                    .filter(|i| !i.is_empty())
                    .map(Into::into);
                s.last_activity_at = d
                    .last_seen_ts
                    .and_then(DateTime::<Utc>::from_timestamp_millis);
                s.server_name = d.display_name.map(Into::into);
                s.session_type = Some("device".into());
                sessions.push(s);
            }
        }
        Ok(PollUpdate::Full(sessions))
    }

    async fn reset(&self) {
        *self.me.lock().await = None;
    }

    async fn end_session(&self, session_id: &str) -> Result<EndOutcome> {
        let (user, device) = split_session(session_id)?;
        let (me, my_device) = self.me().await?;
        if user == me && my_device.as_deref() == Some(device) {
            return Err(Error::new(
                ErrorCode::Conflict,
                "this device is Vigil's own session on the tenant",
            ));
        }
        // Synapse answers 200 whether or not the device existed.
        let exists = self
            .devices(user)
            .await
            .map(|ds| ds.iter().any(|d| d.device_id == device))
            .unwrap_or(true);
        self.http
            .call(
                Method::DELETE,
                &format!(
                    "_synapse/admin/v2/users/{}/devices/{}",
                    seg(user),
                    seg(device)
                ),
                &self.token,
                None,
            )
            .await?;
        Ok(if exists {
            EndOutcome::Ended
        } else {
            EndOutcome::AlreadyGone
        })
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        let (me, my_device) = self.me().await?;
        let devices: Vec<String> = self
            .devices(user_id)
            .await?
            .into_iter()
            .map(|d| d.device_id)
            .filter(|d| !(user_id == me && my_device.as_deref() == Some(d.as_str())))
            .collect();
        if devices.is_empty() {
            return Ok(0);
        }
        self.http
            .call(
                Method::POST,
                &format!("_synapse/admin/v2/users/{}/delete_devices", seg(user_id)),
                &self.token,
                Some(&serde_json::json!({ "devices": devices })),
            )
            .await?;
        Ok(devices.len() as u64)
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        self.set_locked(user_id, disabled).await
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        let (me, _) = self.me().await?;
        let id = Self::mxid(username, &me);
        match self.user(&id).await {
            Ok(u) => Ok(Some(self.user_from(&u, &me))),
            Err(e) if e.code == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn check(&self) -> TenantCheck {
        let started = Instant::now();
        let sent = Utc::now();
        let who = self.get::<WhoAmI>("_matrix/client/v3/account/whoami").await;
        if let Err(e) = who {
            return TenantCheck::failed(&e);
        }
        let url = match self.http.url("_synapse/admin/v1/server_version") {
            Ok(u) => u,
            Err(e) => {
                return TenantCheck {
                    error: Some(e.payload()),
                    ..TenantCheck::default()
                };
            }
        };
        let version = self
            .http
            .get_json_headers::<serde_json::Value>(url, &self.token)
            .await;
        let latency = started.elapsed();
        let users = self
            .get::<UserList>("_synapse/admin/v2/users?limit=1")
            .await;
        match (version, users) {
            (Ok((v, headers)), Ok(_)) => {
                let mut permissions = vec!["server admin".to_owned()];
                if let Some(ver) = v["server_version"].as_str() {
                    permissions.push(format!("synapse {ver}"));
                }
                check_accepted(&headers, sent, latency, permissions, self.capabilities())
            }
            (Err(e), _) | (_, Err(e)) => TenantCheck {
                reachable: true,
                authenticated: true,
                error: Some(
                    e.context("the token is valid but is not a server admin's")
                        .payload(),
                ),
                ..TenantCheck::default()
            },
        }
    }
}

/// What the tenant form and `vigil tenant add --help` say of this kind.
pub(super) fn info() -> super::KindInfo {
    super::KindInfo {
        kind: crate::model::ConnectorKind::Synapse,
        label: "Matrix Synapse".into(),
        description: "Devices of every user through the Synapse admin API. Disabling locks the account \
                      (reversible). Synapse keeps no sign-in time per device."
            .into(),
        url_hint: "https://matrix.example.com".into(),
        secret_label: "Admin access token".into(),
        options: Vec::new(),
        logout_effect: "logs out every device of the user (its access token stops working); Vigil's own device is kept".into(),
        revoke_effect: "".into(),
        password_effect: "a random password no one knows is set: signing in with a password needs a reset first".into(),
    }
}

pub(super) fn build(
    spec: &crate::model::TenantSpec,
    secret: crate::secret::SecretString,
) -> crate::error::Result<std::sync::Arc<dyn super::Connector>> {
    Ok(std::sync::Arc::new(SynapseConnector::new(spec, secret)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_round_trip() {
        let id = session_id("@alice:example.org", "ABCDEF");
        assert_eq!(
            split_session(&id).ok(),
            Some(("@alice:example.org", "ABCDEF"))
        );
        assert!(split_session("nope").is_err());
        assert!(split_session("@a:b|").is_err());
        assert_eq!(
            SynapseConnector::mxid("bob", "@admin:example.org"),
            "@bob:example.org"
        );
        assert_eq!(
            SynapseConnector::mxid("@bob:x", "@admin:example.org"),
            "@bob:x"
        );
        assert!(truthy(&Some(serde_json::json!(1))) && !truthy(&Some(serde_json::json!(false))));
    }
}
