//! Output formats of `vigil sessions`.

use std::io::{self, Write};

use chrono::Local;
use vigil_core::export;
use vigil_core::model::Session;
use vigil_core::store::SessionPage;

/// One JSON array of sessions.
pub fn json(out: &mut impl Write, page: &SessionPage) -> io::Result<()> {
    export::write_json(out, &page.rows)
}

/// RFC 4180 CSV. Cells that a spreadsheet would run as a formula are prefixed with `'`.
pub fn csv(out: &mut impl Write, page: &SessionPage) -> io::Result<()> {
    export::write_csv(out, &page.rows)
}

pub use export::csv_cell;

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
    fn long_text_is_truncated() {
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
