//! What each kind of route sends for an alert. Pure functions: tested against the
//! receivers' documented shapes and against real receivers (see the routing tests).
//!
//! Every text in an alert may come from a tenant (user names, user agents, error
//! messages), so each format escapes it its own way: JSON by the serializer, Slack's
//! `mrkdwn` by its three entities, Teams' Markdown by backslashes, e-mail through the
//! [`visible`](crate::text::visible) escapes (headers are encoded by the mail library),
//! syslog by RFC 5424's structured-data escapes and CEF's own.

use chrono::{DateTime, Utc};
use ring::hmac;
use serde_json::{Value, json};

use crate::alerts::{Alert, Severity};
use crate::text::{for_notification, visible};

/// The JSON a generic webhook receives. `delivery` is the same on every retry of one
/// delivery, so a receiver can drop duplicates (delivery is at least once).
pub fn webhook(alert: &Alert, delivery: &str, route: &str) -> Vec<u8> {
    let body = json!({
        "type": "vigil.alert",
        "version": 1,
        "delivery": delivery,
        "route": route,
        "alert": alert,
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The signature header of a webhook body: `sha256=<hex HMAC-SHA256 of "<ts>.<body>">`
/// with the route's key, `ts` being the `X-Vigil-Timestamp` header (Unix seconds) so a
/// receiver can refuse replays.
pub fn signature(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("sha256={}", hex(ctx.sign().as_ref()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// One line naming the alert, for titles and subjects.
pub fn title(alert: &Alert) -> String {
    let sev = alert.severity.as_str();
    match &alert.username {
        Some(user) => format!("[{sev}] {user} in {}", alert.tenant),
        None if alert.count > 1 => format!("[{sev}] {} alerts in {}", alert.count, alert.tenant),
        None => format!("[{sev}] {}", alert.tenant),
    }
}

fn facts(alert: &Alert) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("Tenant", alert.tenant.clone()),
        (
            "Rules",
            alert
                .rules
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("Severity", alert.severity.as_str().to_owned()),
        (
            "At",
            alert.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
    ];
    if let Some(u) = &alert.username {
        f.push(("User", u.clone()));
    }
    if let Some(ip) = &alert.ip {
        f.push(("IP", ip.clone()));
    }
    if let Some(ua) = &alert.user_agent {
        f.push(("Client", ua.clone()));
    }
    if alert.count > 1 {
        f.push(("Count", alert.count.to_string()));
    }
    f
}

/// A Slack incoming-webhook message: `text` (the notification fallback, `mrkdwn`) and
/// Block Kit blocks whose tenant texts are `plain_text`, which Slack never formats.
pub fn slack(alert: &Alert) -> Value {
    let fields: Vec<Value> = facts(alert)
        .into_iter()
        .map(|(k, v)| json!({"type": "mrkdwn", "text": format!("*{k}*\n{}", for_notification(&v))}))
        .collect();
    json!({
        "text": for_notification(&format!("{}: {}", title(alert), alert.message)),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": clip(&visible(&title(alert)), 150), "emoji": false}},
            {"type": "section", "text": {"type": "plain_text", "text": clip(&visible(&alert.message), 3000), "emoji": false}},
            {"type": "section", "fields": fields.into_iter().take(10).collect::<Vec<_>>()},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Vigil alert"}]}
        ]
    })
}

/// Text for Teams' Markdown: [`visible`], then every Markdown punctuation backslash-escaped
/// (a user name `[x](https://evil)` must not become a link).
fn teams_text(text: &str) -> String {
    let safe = visible(text);
    let mut out = String::with_capacity(safe.len());
    for c in safe.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '{'
                | '}'
                | '['
                | ']'
                | '('
                | ')'
                | '#'
                | '+'
                | '-'
                | '.'
                | '!'
                | '|'
                | '<'
                | '>'
                | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Microsoft Teams incoming-webhook (Workflows) message: one Adaptive Card.
pub fn teams(alert: &Alert) -> Value {
    // Lower case, as the Adaptive Cards schema and its TypeScript types spell them.
    let color = match alert.severity {
        Severity::High => "attention",
        Severity::Medium => "warning",
        Severity::Low => "default",
    };
    let facts: Vec<Value> = facts(alert)
        .into_iter()
        .map(|(k, v)| json!({"title": k, "value": teams_text(&v)}))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {"type": "TextBlock", "text": teams_text(&title(alert)), "weight": "bolder", "size": "medium", "color": color, "wrap": true},
                    {"type": "TextBlock", "text": teams_text(&alert.message), "wrap": true},
                    {"type": "FactSet", "facts": facts}
                ]
            }
        }]
    })
}

/// The subject and plain-text body of an alert e-mail.
pub fn email(alert: &Alert) -> (String, String) {
    let subject = format!("Vigil {}", visible(&title(alert)));
    let mut body = format!("{}\n\n", visible(&alert.message));
    for (k, v) in facts(alert) {
        body.push_str(&format!("{k}: {}\n", visible(&v)));
    }
    body.push_str("\n-- \nSent by Vigil. Acknowledge it in the alert centre.\n");
    (subject, body)
}

fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::High => 2,
        Severity::Medium => 4,
        Severity::Low => 5,
    }
}

/// RFC 5424 PRINTUSASCII without spaces, at most `max` bytes, `-` when empty.
fn header_field(text: &str, max: usize) -> String {
    let s: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if s.is_empty() { "-".into() } else { s }
}

/// An RFC 5424 PARAM-VALUE: `"`, `\` and `]` escaped; controls shown, not obeyed.
fn sd_value(text: &str) -> String {
    let mut out = String::new();
    for c in visible(text).chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// CEF header text: `\` and `|` escaped.
fn cef_header(text: &str) -> String {
    visible(text).replace('\\', "\\\\").replace('|', "\\|")
}

/// CEF extension value: `\`, `=` escaped, line breaks as `\n`/`\r`.
fn cef_value(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if crate::text::is_unsafe(c) => {
                out.push_str(&visible(&c.to_string()).replace('\\', "\\\\"));
            }
            c => out.push(c),
        }
    }
    out
}

/// The body of a syslog message: CEF or JSON.
pub fn syslog_body(alert: &Alert, format: super::SyslogFormat, delivery: &str) -> String {
    match format {
        super::SyslogFormat::Json => serde_json::to_string(&json!({
            "type": "vigil.alert", "version": 1, "delivery": delivery, "alert": alert,
        }))
        .unwrap_or_default(),
        super::SyslogFormat::Cef => {
            let severity = match alert.severity {
                Severity::High => 8,
                Severity::Medium => 5,
                Severity::Low => 3,
            };
            let mut ext = vec![
                ("rt", alert.at.timestamp_millis().to_string()),
                ("externalId", delivery.to_owned()),
                ("cs1Label", "tenant".into()),
                ("cs1", alert.tenant.clone()),
                ("cs2Label", "rules".into()),
                (
                    "cs2",
                    alert
                        .rules
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                ("cnt", alert.count.to_string()),
                ("msg", alert.message.clone()),
            ];
            if let Some(u) = &alert.username {
                ext.push(("suser", u.clone()));
            }
            if let Some(ip) = alert
                .ip
                .as_deref()
                .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
            {
                ext.push(("src", ip.to_owned()));
            }
            if let Some(ua) = &alert.user_agent {
                ext.push(("requestClientApplication", ua.clone()));
            }
            let ext: Vec<String> = ext
                .into_iter()
                .map(|(k, v)| format!("{k}={}", cef_value(&v)))
                .collect();
            format!(
                "CEF:0|Vigil|Vigil|{}|{}|{}|{severity}|{}",
                env!("CARGO_PKG_VERSION"),
                cef_header(alert.rule.as_str()),
                cef_header(&title(alert)),
                ext.join(" ")
            )
        }
    }
}

/// The longest message a UDP route sends (RFC 5426: receivers should take 2,048 octets;
/// common collectors take 8 KiB).
pub const UDP_MAX: usize = 8 * 1024;

/// One RFC 5424 syslog message (without transport framing).
pub fn syslog(
    alert: &Alert,
    route: &super::RouteConfig,
    delivery: &str,
    hostname: &str,
    now: DateTime<Utc>,
) -> String {
    let facility = super::facility_code(&route.facility).unwrap_or(16);
    let pri = u16::from(facility) * 8 + u16::from(syslog_severity(alert.severity));
    let mut sd = format!(
        "[vigil@32473 tenant=\"{}\" rule=\"{}\" severity=\"{}\" delivery=\"{}\"",
        sd_value(&alert.tenant),
        alert.rule.as_str(),
        alert.severity.as_str(),
        sd_value(delivery)
    );
    if let Some(u) = &alert.username {
        sd.push_str(&format!(" user=\"{}\"", sd_value(u)));
    }
    if let Some(ip) = &alert.ip {
        sd.push_str(&format!(" ip=\"{}\"", sd_value(ip)));
    }
    sd.push(']');
    let mut line = format!(
        "<{pri}>1 {} {} vigil {} {} {sd} {}",
        now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        header_field(hostname, 255),
        std::process::id(),
        header_field(alert.rule.as_str(), 32),
        syslog_body(alert, route.format, delivery)
    );
    if route.transport == super::SyslogTransport::Udp && line.len() > UDP_MAX {
        let mut cut = UDP_MAX;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
    }
    line
}

/// Truncates to `max` characters (Slack refuses longer header texts).
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Rule;

    fn hostile() -> Alert {
        Alert {
            rule: Rule::SuperuserSignIn,
            rules: vec![Rule::SuperuserSignIn, Rule::OddHours],
            severity: Severity::High,
            tenant: "acme|prod".into(),
            username: Some("<!channel> [x](https://evil.example) \u{202e}gnp.exe \"]\\=".into()),
            session_id: Some("s1".into()),
            ip: Some("not-an-ip".into()),
            user_agent: Some("curl\x1b[2J".into()),
            at: Utc::now(),
            message: "mallory in tenant acme: a SuperUser signed in\nsecond line".into(),
            count: 1,
            suppressed_by: None,
        }
    }

    #[test]
    fn slack_text_cannot_ping_or_link() {
        let v = slack(&hostile());
        let text = v["text"].as_str().unwrap();
        assert!(
            !text.contains("<!channel>") && text.contains("&lt;!channel&gt;"),
            "{text}"
        );
        assert!(!text.contains('\u{202e}'));
        let s = v.to_string();
        assert!(!s.contains("\\u001b"), "{s}");
        assert_eq!(v["blocks"][0]["text"]["type"], "plain_text");
    }

    #[test]
    fn teams_markdown_is_escaped() {
        let v = teams(&hostile());
        let card = &v["attachments"][0]["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        let title = card["body"][0]["text"].as_str().unwrap();
        assert!(
            title.contains("\\[x\\]\\(https://evil\\.example\\)"),
            "{title}"
        );
    }

    #[test]
    fn syslog_lines_are_rfc5424_and_cef_escaped() {
        let route = super::super::RouteConfig {
            name: "siem".into(),
            kind: super::super::RouteKind::Syslog,
            host: Some("siem".into()),
            ..Default::default()
        };
        let line = syslog(&hostile(), &route, "d-1", "host name\n", Utc::now());
        // local0 (16) * 8 + crit (2)
        assert!(line.starts_with("<130>1 "), "{line}");
        assert!(line.contains(" hostname vigil "), "{line}");
        assert!(
            line.contains(
                r#"user="<!channel> [x\](https://evil.example) \\u{202e}gnp.exe \"\]\\=""#
            ),
            "{line}"
        );
        assert!(
            line.contains(r"suser=<!channel> [x](https://evil.example) \\u{202e}gnp.exe"),
            "{line}"
        );
        assert!(!line.contains('\n') && !line.contains('\x1b'), "{line}");
        assert!(line.contains("CEF:0|Vigil|Vigil|"), "{line}");
        assert!(line.contains("cs1=acme|prod"), "{line}");
        assert!(
            line.contains("|[high\\] ") || line.contains("|[high] "),
            "{line}"
        );
        assert!(
            line.contains("msg=mallory in tenant acme: a SuperUser signed in\\nsecond line"),
            "{line}"
        );
        assert!(
            !line.contains("src="),
            "an IP that is not one is left out: {line}"
        );
    }

    #[test]
    fn signatures_cover_time_and_body() {
        let a = signature(b"k", 1, b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, signature(b"k", 2, b"{}"));
        assert_ne!(a, signature(b"k", 1, b"{ }"));
        assert_ne!(a, signature(b"j", 1, b"{}"));
    }
}
