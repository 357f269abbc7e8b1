//! The one model every connector maps onto, shared with the UI through ts-rs.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};

/// An IP address in its canonical text form (`2001:db8::42`, IPv4-mapped IPv6 as IPv4);
/// empty input is unknown, unparseable input is kept as the tenant sent it.
pub fn normalize_ip(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    Some(match raw.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        Ok(ip) => ip.to_string(),
        Err(_) => raw.to_owned(),
    })
}

/// A tenant name: short, printable, safe in file names and log lines.
pub fn validate_tenant_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "invalid tenant name {name:?}: use 1-64 letters, digits, '-', '_' or '.'"
        )))
    }
}

/// Text a tenant repeats: a user's details, shared by every session of the user, and
/// values many sessions carry (user agents, departments, session types). Cloning one is a
/// reference count, not a copy; the store interns the repeated ones (`Interner`).
pub type Text = Arc<str>;

/// One active session, normalised. Absent facts stay `None`; nothing is invented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Session {
    pub tenant: Arc<str>,
    pub id: Text,
    pub user_id: Text,
    pub username: Text,
    /// The address the tenant has for the user; links the user to a person across tenants.
    #[serde(default)]
    pub email: Option<Text>,
    pub display_name: Option<Text>,
    pub first_name: Option<Text>,
    pub last_name: Option<Text>,
    pub department: Option<Text>,
    pub organisation: Option<Text>,
    pub superuser: bool,
    pub protected: bool,
    pub disabled: bool,
    /// The administrator's own session (the credential Vigil uses).
    pub current: bool,
    pub ip: Option<String>,
    pub user_agent: Option<Text>,
    /// Where the session came from as the tenant reports it (city, region, country), for
    /// tenants whose sign-in log carries it.
    #[serde(default)]
    pub location: Option<Text>,
    pub session_type: Option<Text>,
    pub login_type: Option<Text>,
    pub server_name: Option<Text>,
    pub created_at: Option<DateTime<Utc>>,
    pub last_activity_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub idle_timeout_seconds: Option<u32>,
}

/// A user account of a tenant, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct User {
    pub id: Text,
    pub username: Text,
    /// The address the tenant has for the user; links the user to a person across tenants.
    #[serde(default)]
    pub email: Option<Text>,
    pub display_name: Option<Text>,
    pub first_name: Option<Text>,
    pub last_name: Option<Text>,
    pub department: Option<Text>,
    pub organisation: Option<Text>,
    pub superuser: bool,
    pub protected: bool,
    pub disabled: bool,
}

impl User {
    /// A user with only an id and a name known.
    pub fn new(id: impl Into<Text>, username: impl Into<Text>) -> Self {
        Self {
            id: id.into(),
            username: username.into(),
            email: None,
            display_name: None,
            first_name: None,
            last_name: None,
            department: None,
            organisation: None,
            superuser: false,
            protected: false,
            disabled: false,
        }
    }
}

impl User {
    /// The user as one of their sessions names them.
    pub fn of_session(s: &Session) -> Self {
        Self {
            id: s.user_id.clone(),
            username: s.username.clone(),
            email: s.email.clone(),
            display_name: s.display_name.clone(),
            first_name: s.first_name.clone(),
            last_name: s.last_name.clone(),
            department: s.department.clone(),
            organisation: s.organisation.clone(),
            superuser: s.superuser,
            protected: s.protected,
            disabled: s.disabled,
        }
    }
}

impl Session {
    /// A session with only its identity known; connectors fill in what their API says.
    pub fn new(
        tenant: &Arc<str>,
        id: impl Into<Text>,
        user_id: impl Into<Text>,
        username: impl Into<Text>,
    ) -> Self {
        Self {
            tenant: Arc::clone(tenant),
            id: id.into(),
            user_id: user_id.into(),
            username: username.into(),
            email: None,
            display_name: None,
            first_name: None,
            last_name: None,
            department: None,
            organisation: None,
            superuser: false,
            protected: false,
            disabled: false,
            current: false,
            ip: None,
            user_agent: None,
            location: None,
            session_type: None,
            login_type: None,
            server_name: None,
            created_at: None,
            last_activity_at: None,
            expires_at: None,
            idle_timeout_seconds: None,
        }
    }

    /// Copies the user's attributes onto the session (sessions name users; users carry names).
    pub fn annotate(&mut self, user: &User) {
        self.username.clone_from(&user.username);
        self.email.clone_from(&user.email);
        self.display_name.clone_from(&user.display_name);
        self.first_name.clone_from(&user.first_name);
        self.last_name.clone_from(&user.last_name);
        self.department.clone_from(&user.department);
        self.organisation.clone_from(&user.organisation);
        self.superuser = user.superuser;
        self.protected = user.protected;
        self.disabled = user.disabled;
    }
}

/// One allocation per distinct text: the values thousands of sessions repeat (user
/// agents, session and login types, clients, places, departments) and a user's details
/// when a tenant names the user on every session. Interning a value the set already holds
/// drops the copy; one set serves one listing, so it never outgrows what it is given.
#[derive(Default)]
pub struct Interner {
    seen: std::collections::HashSet<Text, foldhash::fast::RandomState>,
}

impl Interner {
    /// The shared copy of `text`, made from it the first time.
    pub fn text(&mut self, text: &str) -> Text {
        match self.seen.get(text) {
            Some(known) => Text::clone(known),
            None => {
                let new = Text::from(text);
                self.seen.insert(Text::clone(&new));
                new
            }
        }
    }

    /// An owned text from the wire, shared when seen before.
    pub fn owned(&mut self, text: Option<String>) -> Option<Text> {
        text.map(|t| self.text(&t))
    }
}

/// Addresses one session of one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SessionRef {
    pub tenant: String,
    pub session_id: String,
}

/// The kinds of system Vigil connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ConnectorKind {
    /// The open Vigil Session API (in-house systems, the demo tenant).
    Vigil,
    /// Keycloak, one realm, through a service-account client.
    Keycloak,
    /// Matrix Synapse, through the admin API.
    Synapse,
    /// Better Auth with the admin and bearer plugins.
    #[serde(rename = "better-auth")]
    BetterAuth,
    /// Ory Kratos, through the admin API.
    Kratos,
    /// Salesforce (AuthSession via SOQL), one org.
    Salesforce,
    /// Okta, one org; sessions derived from the System Log.
    Okta,
    /// Microsoft Entra ID through Microsoft Graph; sessions derived from sign-in logs.
    Entra,
    /// Google Workspace through the Admin SDK; sessions derived from login activity.
    Google,
    /// Auth0, one tenant, through the Management API v2.
    Auth0,
    /// Mattermost, through the API v4 with a system admin's personal access token.
    Mattermost,
    /// Zitadel, one instance, through the v2 session and user services.
    Zitadel,
}

impl ConnectorKind {
    pub const ALL: &'static [ConnectorKind] = &[
        ConnectorKind::Vigil,
        ConnectorKind::Keycloak,
        ConnectorKind::Synapse,
        ConnectorKind::BetterAuth,
        ConnectorKind::Kratos,
        ConnectorKind::Salesforce,
        ConnectorKind::Okta,
        ConnectorKind::Entra,
        ConnectorKind::Google,
        ConnectorKind::Auth0,
        ConnectorKind::Mattermost,
        ConnectorKind::Zitadel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vigil => "vigil",
            Self::Keycloak => "keycloak",
            Self::Synapse => "synapse",
            Self::BetterAuth => "better-auth",
            Self::Kratos => "kratos",
            Self::Salesforce => "salesforce",
            Self::Okta => "okta",
            Self::Entra => "entra",
            Self::Google => "google",
            Self::Auth0 => "auth0",
            Self::Mattermost => "mattermost",
            Self::Zitadel => "zitadel",
        }
    }
}

impl std::str::FromStr for ConnectorKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
                Error::invalid_input(format!(
                    "unknown connector kind {s:?} (known: {})",
                    known.join(", ")
                ))
            })
    }
}

impl std::fmt::Display for ConnectorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// What a connector (with its credential) can do. The UI offers only these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Capabilities {
    /// Lists every active session (not only per user, not derived from a log).
    pub list_sessions: bool,
    pub end_session: bool,
    pub end_user_sessions: bool,
    pub disable_user: bool,
    pub enable_user: bool,
    pub superuser_detection: bool,
    /// Polls cost only the changes (a change feed).
    pub change_feed: bool,
    /// Sessions are derived from the tenant's sign-in log, not read from a live list: a
    /// session that ended without a log entry (expiry, revocation elsewhere) can still
    /// show until it drops out of the look-back window.
    #[serde(default)]
    pub sign_in_log: bool,
    /// Revokes what outlives a session: refresh tokens, offline sessions, OAuth grants.
    #[serde(default)]
    pub revoke_grants: bool,
    /// Makes the user choose a new password before they can sign in again.
    #[serde(default)]
    pub require_password_change: bool,
}

/// The result of "Test connection".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TenantCheck {
    pub reachable: bool,
    /// The credential was accepted.
    pub authenticated: bool,
    pub latency_ms: Option<u64>,
    /// Server clock minus local clock (positive: the server is ahead).
    pub clock_offset_ms: Option<i64>,
    pub server_time: Option<DateTime<Utc>>,
    pub timezone: Option<String>,
    /// What the credential may do, as the tenant reports it.
    pub permissions: Vec<String>,
    pub capabilities: Option<Capabilities>,
    pub error: Option<crate::error::ErrorPayload>,
}

impl Capabilities {
    /// Lists every session and can do every action, but has no change feed (each poll
    /// lists everything).
    pub const FULL_LISTING: Self = Self {
        list_sessions: true,
        end_session: true,
        end_user_sessions: true,
        disable_user: true,
        enable_user: true,
        superuser_detection: true,
        change_feed: false,
        sign_in_log: false,
        revoke_grants: false,
        require_password_change: false,
    };

    /// Sessions derived from a sign-in log (no live list): a user's sessions can be ended
    /// and the account disabled, but not one session.
    pub const SIGN_IN_LOG: Self = Self {
        list_sessions: false,
        end_session: false,
        end_user_sessions: true,
        disable_user: true,
        enable_user: true,
        superuser_detection: true,
        change_feed: false,
        sign_in_log: true,
        revoke_grants: false,
        require_password_change: false,
    };
}

impl TenantCheck {
    /// The tenant could not be asked, or refused: an HTTP answer, even a refusal, still
    /// means it is reachable.
    pub fn failed(e: &Error) -> Self {
        Self {
            reachable: e.http_status.is_some(),
            error: Some(e.payload()),
            ..Self::default()
        }
    }
}

/// Everything needed to connect to one tenant, minus its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantSpec {
    pub name: String,
    pub kind: ConnectorKind,
    pub base_url: url::Url,
    pub poll_interval: Duration,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Kind-specific options (realm, client id …).
    pub options: std::collections::BTreeMap<String, String>,
    /// Extra CA certificates (PEM) trusted for this tenant.
    pub ca_pem: Option<std::sync::Arc<[u8]>>,
    /// What one poll may read and list.
    pub limits: Limits,
}

impl TenantSpec {
    /// A required kind-specific option.
    pub fn option(&self, key: &str) -> Result<&str> {
        self.options
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                Error::config(format!(
                    "tenant '{}': option {key:?} is required for kind {}",
                    self.name, self.kind
                ))
            })
    }
}

impl TenantSpec {
    pub fn new(name: &str, kind: ConnectorKind, base_url: &str) -> Result<Self> {
        Self::with_url(name, kind, base_url, false)
    }

    /// [`TenantSpec::new`], optionally accepting plain `http://` to any host.
    pub fn with_url(
        name: &str,
        kind: ConnectorKind,
        base_url: &str,
        allow_plain_http: bool,
    ) -> Result<Self> {
        validate_tenant_name(name)?;
        let base_url = parse_base_url_with(base_url, allow_plain_http)?;
        Ok(Self {
            name: name.to_owned(),
            kind,
            base_url,
            poll_interval: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            options: std::collections::BTreeMap::new(),
            ca_pem: None,
            limits: Limits::default(),
        })
    }
}

/// Parses a tenant base URL: http(s) only, no credentials or query in it. Plain `http://`
/// is accepted only for loopback hosts — an admin token must not cross a network in clear.
pub fn parse_base_url(raw: &str) -> Result<url::Url> {
    parse_base_url_with(raw, false)
}

/// [`parse_base_url`], or with `allow_plain_http` any `http://` host: for a tenant whose
/// administrator explicitly accepts that its token crosses the network in clear.
pub fn parse_base_url_with(raw: &str, allow_plain_http: bool) -> Result<url::Url> {
    let url = url::Url::parse(raw)
        .map_err(|e| Error::invalid_input(format!("invalid URL {raw:?}: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_plain_http || is_loopback(&url) => {}
        "http" => {
            return Err(Error::invalid_input(format!(
                "refusing plain http:// to a non-loopback host in {raw:?}: use https:// (or allow plain HTTP for this tenant explicitly)"
            )));
        }
        other => {
            return Err(Error::invalid_input(format!(
                "unsupported URL scheme {other:?} in {raw:?}: use https://"
            )));
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_input(
            "the URL must not contain credentials; secrets go to the keychain",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(format!(
            "the base URL {raw:?} must not have a query or fragment"
        )));
    }
    Ok(url)
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interner_keeps_one_copy_of_each_text_and_changes_no_value() {
        let mut interner = Interner::default();
        let agents: Vec<Text> = ["Firefox/128", "Safari/17", "Firefox/128"]
            .iter()
            .map(|a| interner.text(a))
            .collect();
        assert_eq!(
            agents.iter().map(|a| &**a).collect::<Vec<_>>(),
            ["Firefox/128", "Safari/17", "Firefox/128"],
            "interning changes no value"
        );
        assert!(
            Arc::ptr_eq(&agents[0], &agents[2]),
            "one copy of a repeated text"
        );
        assert!(!Arc::ptr_eq(&agents[0], &agents[1]));
        let owned = interner.owned(Some("Safari/17".to_owned()));
        assert!(owned.is_some_and(|o| Arc::ptr_eq(&o, &agents[1])));
        assert_eq!(interner.owned(None), None);
        assert_eq!(interner.owned(Some("new".into())).as_deref(), Some("new"));
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(parse_base_url("https://sso.example.com/api").is_ok());
        assert!(parse_base_url("http://127.0.0.1:8080").is_ok());
        assert!(parse_base_url("http://[::1]:8080").is_ok());
        assert!(parse_base_url("http://localhost:1").is_ok());
        let e = parse_base_url("http://sso.example.com").err();
        assert!(e.is_some_and(|e| e.message.contains("plain http")));
        assert!(parse_base_url("https://user:pw@sso.example.com").is_err());
        assert!(parse_base_url_with("http://sso.example.com", true).is_ok());
        assert!(parse_base_url_with("https://user:pw@sso.example.com", true).is_err());
        assert!(parse_base_url("ftp://x").is_err());
        assert!(parse_base_url("not a url").is_err());
        assert!(parse_base_url("https://x/?token=1").is_err());
    }

    #[test]
    fn ips_are_canonical() {
        assert_eq!(
            normalize_ip("2001:0db8:0000:0000:0000:0000:0000:0042").as_deref(),
            Some("2001:db8::42")
        );
        assert_eq!(
            normalize_ip("::ffff:192.0.2.9").as_deref(),
            Some("192.0.2.9")
        );
        assert_eq!(normalize_ip(" 10.0.0.1 ").as_deref(), Some("10.0.0.1"));
        assert_eq!(normalize_ip(""), None);
        assert_eq!(normalize_ip("unknown").as_deref(), Some("unknown"));
    }

    #[test]
    fn tenant_names_are_checked() {
        assert!(validate_tenant_name("acme-prod_1.eu").is_ok());
        assert!(validate_tenant_name("").is_err());
        assert!(validate_tenant_name("a b").is_err());
        assert!(validate_tenant_name("../x").is_err());
    }

    #[test]
    fn connector_kinds_parse() {
        assert_eq!(
            "vigil".parse::<ConnectorKind>().ok(),
            Some(ConnectorKind::Vigil)
        );
        let e = "nope".parse::<ConnectorKind>().err();
        assert!(e.is_some_and(|e| {
            e.message
                .contains("known: vigil, keycloak, synapse, better-auth, kratos, salesforce, okta, entra, google, auth0, mattermost, zitadel")
        }));
        assert_eq!(
            "better-auth".parse::<ConnectorKind>().ok(),
            Some(ConnectorKind::BetterAuth)
        );
        for kind in ConnectorKind::ALL {
            let json = serde_json::to_string(kind).ok();
            assert_eq!(json, Some(format!("\"{}\"", kind.as_str())));
            assert_eq!(kind.as_str().parse::<ConnectorKind>().ok(), Some(*kind));
        }
        assert_eq!(
            serde_json::to_string(&ConnectorKind::BetterAuth)
                .ok()
                .as_deref(),
            Some("\"better-auth\"")
        );
    }
}

/// Items (users, sessions, log events …) one poll may list by default: five times the
/// hundred thousand sessions a tenant is expected to hold, plus as many users.
pub const DEFAULT_MAX_ITEMS: u64 = 1_000_000;
/// Response bytes (after decompression) one poll may read by default.
pub const DEFAULT_MAX_MIB: u64 = 512;

/// A tenant's per-poll limits (`max_listing_items`, `max_listing_mib` in its config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_items: u64,
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_items: DEFAULT_MAX_ITEMS,
            max_bytes: DEFAULT_MAX_MIB * 1024 * 1024,
        }
    }
}
