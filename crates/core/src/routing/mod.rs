//! Where alerts go besides the window and the terminal: routes (`[[alerts.routes]]`) to a
//! generic webhook, Slack and Microsoft Teams incoming webhooks, e-mail over SMTP and
//! syslog (RFC 5424 over UDP, TCP or TLS) for SIEMs.
//!
//! An alert is written to the outbox (a table of `vigil.db`) for every route it matches
//! in the same step that stores it; a dispatcher task delivers the outbox at least once,
//! with retries and backoff, within each route's rate limit (see [`dispatch`]). Nothing
//! here runs on the polling path.
//!
//! Here: a route's configuration and scope; beside it `payload` (the message each kind
//! sends), `transport` (HTTP, SMTP, syslog sockets) and `dispatch`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::alerts::{Alert, Severity};
use crate::error::{Error, Result};

pub mod dispatch;
pub mod payload;
pub mod transport;

/// The keychain service route credentials are kept under (the account is the route's
/// name): webhook signing keys, Slack and Teams webhook URLs (their path is the token),
/// SMTP passwords.
pub const SECRET_SERVICE: &str = "app.vigil.desktop.routes";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RouteKind {
    /// A JSON POST to `url`; with a keychain secret, signed (HMAC-SHA256).
    Webhook,
    /// A Slack incoming webhook (the URL is the keychain secret).
    Slack,
    /// A Microsoft Teams incoming webhook (Workflows; an Adaptive Card; the URL is the
    /// keychain secret).
    Teams,
    /// E-mail over SMTP.
    Email,
    /// Syslog, RFC 5424.
    Syslog,
}

impl RouteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Slack => "slack",
            Self::Teams => "teams",
            Self::Email => "email",
            Self::Syslog => "syslog",
        }
    }

    /// Whether the route cannot work without a keychain secret, and what it is.
    pub fn secret_needed(self) -> Option<&'static str> {
        match self {
            Self::Slack | Self::Teams => Some("the incoming webhook URL"),
            Self::Webhook | Self::Email | Self::Syslog => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); refused if the server does
    /// not offer it.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only to a relay on this machine.
    None,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SyslogTransport {
    Udp,
    /// Octet-counted framing (RFC 6587).
    #[default]
    Tcp,
    /// RFC 5425.
    Tls,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SyslogFormat {
    /// ArcSight Common Event Format, which most SIEMs parse.
    #[default]
    Cef,
    Json,
}

/// One route (`[[alerts.routes]]`). Fields not used by its kind stay empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct RouteConfig {
    pub name: String,
    pub kind: RouteKind,
    pub enabled: bool,
    /// Alerts below this severity do not go this way.
    pub min_severity: Severity,
    /// Only alerts of these tenants (and of tenants with one of `tags`); both empty: all.
    pub tenants: Vec<String>,
    pub tags: Vec<String>,
    /// At most this many messages a minute; above it the waiting alerts go as one digest.
    pub max_per_minute: u32,
    /// Webhook: where to POST (no secret in it; a signing key goes in the keychain).
    pub url: Option<String>,
    /// E-mail: the SMTP server, its port (default by `security`), how to secure it, the
    /// user to authenticate as (the password is in the keychain), sender and recipients.
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub from: Option<String>,
    pub to: Vec<String>,
    /// Syslog: the collector, its port (default 514, 6514 for TLS), transport, body
    /// format and facility (`local0` … `local7`, `auth`, `authpriv`, `security`, `user`).
    pub host: Option<String>,
    pub port: Option<u16>,
    pub transport: SyslogTransport,
    pub format: SyslogFormat,
    pub facility: String,
    /// A PEM file of the CA (or certificate) to trust for this route's TLS, besides the
    /// system's roots: a private SIEM, SMTP relay or webhook receiver.
    pub ca_certificate: Option<String>,
}

impl Default for RouteConfig {
    fn default() -> Self {
        Self {
            name: String::new(),
            kind: RouteKind::Webhook,
            enabled: true,
            min_severity: Severity::Medium,
            tenants: Vec::new(),
            tags: Vec::new(),
            max_per_minute: 20,
            url: None,
            smtp_host: None,
            smtp_port: None,
            security: SmtpSecurity::Starttls,
            username: None,
            from: None,
            to: Vec::new(),
            host: None,
            port: None,
            transport: SyslogTransport::Tcp,
            format: SyslogFormat::Cef,
            facility: "local0".into(),
            ca_certificate: None,
        }
    }
}

/// Whether a tenant is within a `tenants`/`tags` scope (both empty: every tenant).
pub fn in_scope(tenants: &[String], tags: &[String], tenant: &str, tenant_tags: &[String]) -> bool {
    (tenants.is_empty() && tags.is_empty())
        || tenants.iter().any(|t| t == tenant)
        || tags.iter().any(|t| tenant_tags.contains(t))
}

/// The syslog facility code of a name.
pub fn facility_code(name: &str) -> Option<u8> {
    Some(match name {
        "kern" => 0,
        "user" => 1,
        "auth" => 4,
        "authpriv" => 10,
        "security" => 13,
        "local0" => 16,
        "local1" => 17,
        "local2" => 18,
        "local3" => 19,
        "local4" => 20,
        "local5" => 21,
        "local6" => 22,
        "local7" => 23,
        _ => return None,
    })
}

impl RouteConfig {
    /// Whether `alert` (of a tenant with `tenant_tags`) goes this way.
    pub fn wants(&self, alert: &Alert, tenant_tags: &[String]) -> bool {
        self.enabled
            && alert.severity >= self.min_severity
            && in_scope(&self.tenants, &self.tags, &alert.tenant, tenant_tags)
    }

    /// Checks the route; the error names it and the field.
    pub fn validate(&self) -> Result<()> {
        let name = &self.name;
        let fail =
            |field: &str, msg: &str| Err(Error::config(format!("route '{name}': {field}: {msg}")));
        if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control()) {
            return fail("name", "1 to 64 characters, no control characters");
        }
        if !(1..=600).contains(&self.max_per_minute) {
            return fail("max_per_minute", "must be within 1..=600");
        }
        match self.kind {
            RouteKind::Webhook => {
                let Some(url) = &self.url else {
                    return fail("url", "a webhook route needs the URL to POST to");
                };
                match url::Url::parse(url) {
                    Ok(u) if u.scheme() == "https" => {}
                    Ok(u) if u.scheme() == "http" && is_loopback_host(u.host_str()) => {}
                    Ok(_) => return fail("url", "must be https (http only to this machine)"),
                    Err(e) => return fail("url", &e.to_string()),
                }
                if url.contains('@') || url.contains("token=") || url.contains("sig=") {
                    return fail(
                        "url",
                        "credentials do not belong in the file: keep them in the keychain (a Slack or Teams route keeps its whole URL there)",
                    );
                }
            }
            RouteKind::Slack | RouteKind::Teams => {
                if self.url.is_some() {
                    return fail(
                        "url",
                        "a Slack or Teams webhook URL is a credential: it is kept in the keychain, not in the file",
                    );
                }
            }
            RouteKind::Email => {
                if self.smtp_host.as_deref().is_none_or(str::is_empty) {
                    return fail("smtp_host", "an e-mail route needs the SMTP server");
                }
                let Some(from) = &self.from else {
                    return fail("from", "an e-mail route needs a sender address");
                };
                if from.parse::<lettre::message::Mailbox>().is_err() {
                    return fail("from", "not an e-mail address");
                }
                if self.to.is_empty() {
                    return fail("to", "an e-mail route needs at least one recipient");
                }
                if let Some(bad) = self
                    .to
                    .iter()
                    .find(|t| t.parse::<lettre::message::Mailbox>().is_err())
                {
                    return fail(
                        "to",
                        &format!("'{}' is not an e-mail address", crate::text::visible(bad)),
                    );
                }
                if self.security == SmtpSecurity::None
                    && !is_loopback_host(self.smtp_host.as_deref())
                {
                    return fail(
                        "security",
                        "an unencrypted SMTP connection is only allowed to this machine",
                    );
                }
            }
            RouteKind::Syslog => {
                if self.host.as_deref().is_none_or(str::is_empty) {
                    return fail("host", "a syslog route needs the collector's host");
                }
                if facility_code(&self.facility).is_none() {
                    return fail(
                        "facility",
                        "one of kern, user, auth, authpriv, security, local0 … local7",
                    );
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn is_loopback_host(host: Option<&str>) -> bool {
    match host {
        Some("localhost") => true,
        Some(h) => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// Checks a list of routes: each valid, names unique.
pub fn validate_all(routes: &[RouteConfig]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for r in routes {
        r.validate()?;
        if !seen.insert(r.name.as_str()) {
            return Err(Error::config(format!(
                "route '{}': name: two routes have this name",
                r.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(severity: Severity, tenant: &str) -> Alert {
        let mut a = crate::alerts::tenant_problem(
            tenant,
            &Error::config("x").payload(),
            chrono::Utc::now(),
        );
        a.severity = severity;
        a
    }

    #[test]
    fn a_route_takes_alerts_by_severity_and_scope() {
        let mut r = RouteConfig {
            name: "soc".into(),
            url: Some("https://hooks.example/vigil".into()),
            ..Default::default()
        };
        r.validate().unwrap();
        assert!(r.wants(&alert(Severity::High, "acme"), &[]));
        assert!(!r.wants(&alert(Severity::Low, "acme"), &[]));
        r.tags = vec!["prod".into()];
        assert!(!r.wants(&alert(Severity::High, "acme"), &["dev".into()]));
        assert!(r.wants(&alert(Severity::High, "acme"), &["prod".into()]));
        r.tenants = vec!["globex".into()];
        assert!(r.wants(&alert(Severity::High, "globex"), &[]));
        r.enabled = false;
        assert!(!r.wants(&alert(Severity::High, "globex"), &[]));
    }

    #[test]
    fn credentials_in_the_file_and_bad_routes_are_refused_by_name() {
        let bad = [
            RouteConfig {
                name: "s".into(),
                kind: RouteKind::Slack,
                url: Some("https://hooks.slack.com/services/T/B/x".into()),
                ..Default::default()
            },
            RouteConfig {
                name: "w".into(),
                url: Some("https://user:pw@hooks.example/".into()),
                ..Default::default()
            },
            RouteConfig {
                name: "w".into(),
                url: Some("http://hooks.example/".into()),
                ..Default::default()
            },
            RouteConfig {
                name: "m".into(),
                kind: RouteKind::Email,
                smtp_host: Some("smtp.example".into()),
                from: Some("vigil@example.org".into()),
                to: vec!["not an address".into()],
                ..Default::default()
            },
            RouteConfig {
                name: "m".into(),
                kind: RouteKind::Email,
                smtp_host: Some("smtp.example".into()),
                security: SmtpSecurity::None,
                from: Some("vigil@example.org".into()),
                to: vec!["soc@example.org".into()],
                ..Default::default()
            },
            RouteConfig {
                name: "l".into(),
                kind: RouteKind::Syslog,
                host: Some("siem".into()),
                facility: "local9".into(),
                ..Default::default()
            },
        ];
        for r in bad {
            let e = r.validate().unwrap_err();
            assert!(e.message.contains(&format!("route '{}'", r.name)), "{e}");
        }
        let two = vec![
            RouteConfig {
                name: "a".into(),
                kind: RouteKind::Slack,
                ..Default::default()
            },
            RouteConfig {
                name: "a".into(),
                kind: RouteKind::Teams,
                ..Default::default()
            },
        ];
        assert!(
            validate_all(&two)
                .unwrap_err()
                .message
                .contains("two routes")
        );
    }
}
