//! Output formats of `vigil sessions`.

use std::io::{self, Write};

use chrono::Local;
use vigil_core::export;
use vigil_core::model::Session;
use vigil_core::store::SessionPage;
use vigil_core::text::visible;

/// One JSON array of sessions.
pub fn json(out: &mut impl Write, page: &SessionPage) -> io::Result<()> {
    export::write_json(out, &page.rows)
}

/// RFC 4180 CSV. Cells that a spreadsheet would run as a formula are prefixed with `'`.
pub fn csv(out: &mut impl Write, page: &SessionPage) -> io::Result<()> {
    export::write_csv(out, &page.rows)
}

/// A table for people, times in the local zone.
pub fn table(out: &mut impl Write, page: &SessionPage) -> io::Result<()> {
    writeln!(
        out,
        "{:<10} {:<16} {:<22} {:<39} {:<7} {:<8} {:<19} CLIENT",
        "TENANT", "USER", "NAME", "IP", "TYPE", "LOGIN", "LOGIN TIME"
    )?;
    // Every cell is tenant text: shown with visible escapes, never obeyed by the terminal.
    for s in &page.rows {
        let user = if s.superuser {
            format!("{} *", visible(&s.username))
        } else {
            visible(&s.username).into_owned()
        };
        writeln!(
            out,
            "{:<10} {:<16} {:<22} {:<39} {:<7} {:<8} {:<19} {}",
            truncate(&s.tenant, 10),
            truncate(&user, 16),
            truncate(&visible(&name(s)), 22),
            visible(s.ip.as_deref().unwrap_or("-")),
            visible(s.session_type.as_deref().unwrap_or("-")),
            visible(s.login_type.as_deref().unwrap_or("-")),
            s.created_at
                .map(|t| t
                    .with_timezone(&Local)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string())
                .unwrap_or_else(|| "-".into()),
            truncate(&visible(s.user_agent.as_deref().unwrap_or("-")), 60),
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

    #[test]
    fn table_cells_show_control_characters_instead_of_obeying_them() -> io::Result<()> {
        let tenant = std::sync::Arc::from("t");
        let mut s = Session::new(
            &tenant,
            "s1".into(),
            "u1".into(),
            "mallory\x1b]0;PWNED\x07\x1b[2J".into(),
        );
        s.user_agent = Some("curl\x1b[2J\u{202e}".into());
        s.display_name = Some("Eve\nFAKE LINE".into());
        let page = SessionPage {
            total: 1,
            offset: 0,
            rows: vec![s],
            version: 0,
        };
        let mut out = Vec::new();
        table(&mut out, &page)?;
        let text = String::from_utf8_lossy(&out);
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && vigil_core::text::is_unsafe(c)),
            "{text:?}"
        );
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(
            text.contains("mallory^[]0;PWN") && text.contains("curl^[[2J"),
            "{text}"
        );
        Ok(())
    }
}
