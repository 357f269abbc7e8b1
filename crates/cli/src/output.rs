//! Output formats of `vigil sessions`.

use std::io::{self, Write};

use chrono::{DateTime, Local, Utc};
use vigil_core::model::Session;
use vigil_core::store::SessionPage;

/// One JSON array of sessions.
pub fn json(out: &mut impl Write, page: &SessionPage) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &page.rows).map_err(io::Error::other)?;
    writeln!(out)
}

const CSV_HEADER: [&str; 20] = [
    "tenant",
    "id",
    "username",
    "display_name",
    "first_name",
    "last_name",
    "department",
    "organisation",
    "superuser",
    "protected",
    "disabled",
    "ip",
    "user_agent",
    "session_type",
    "login_type",
    "server_name",
    "created_at",
    "last_activity_at",
    "expires_at",
    "idle_timeout_seconds",
];

/// RFC 4180 CSV. Cells that a spreadsheet would run as a formula are prefixed with `'`.
pub fn csv(out: &mut impl Write, page: &SessionPage) -> io::Result<()> {
    writeln!(out, "{}", CSV_HEADER.join(","))?;
    for s in &page.rows {
        let ts = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
        let cells = [
            s.tenant.to_string(),
            s.id.clone(),
            s.username.clone(),
            opt(&s.display_name),
            opt(&s.first_name),
            opt(&s.last_name),
            opt(&s.department),
            opt(&s.organisation),
            s.superuser.to_string(),
            s.protected.to_string(),
            s.disabled.to_string(),
            opt(&s.ip),
            opt(&s.user_agent),
            opt(&s.session_type),
            opt(&s.login_type),
            opt(&s.server_name),
            ts(s.created_at),
            ts(s.last_activity_at),
            ts(s.expires_at),
            s.idle_timeout_seconds
                .map(|v| v.to_string())
                .unwrap_or_default(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

pub fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// A table for people, times in the local zone.
pub fn table(out: &mut impl Write, page: &SessionPage) -> io::Result<()> {
    writeln!(
        out,
        "{:<10} {:<16} {:<22} {:<39} {:<7} {:<8} {:<19} CLIENT",
        "TENANT", "USER", "NAME", "IP", "TYPE", "LOGIN", "LOGIN TIME"
    )?;
    for s in &page.rows {
        let user = if s.superuser {
            format!("{} *", s.username)
        } else {
            s.username.clone()
        };
        writeln!(
            out,
            "{:<10} {:<16} {:<22} {:<39} {:<7} {:<8} {:<19} {}",
            truncate(&s.tenant, 10),
            truncate(&user, 16),
            truncate(&name(s), 22),
            s.ip.as_deref().unwrap_or("-"),
            s.session_type.as_deref().unwrap_or("-"),
            s.login_type.as_deref().unwrap_or("-"),
            s.created_at
                .map(|t| t
                    .with_timezone(&Local)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string())
                .unwrap_or_else(|| "-".into()),
            truncate(s.user_agent.as_deref().unwrap_or("-"), 60),
        )?;
    }
    writeln!(out, "{} sessions (* SuperUser)", page.total)
}

fn name(s: &Session) -> String {
    s.display_name.clone().unwrap_or_else(|| {
        let n = [s.first_name.as_deref(), s.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if n.is_empty() { "-".into() } else { n }
    })
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
