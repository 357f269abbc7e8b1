//! Output formats of `vigil sessions`.

use std::io::{self, Write};

use chrono::Local;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
use vigil_core::export;
use vigil_core::model::Session;
use vigil_core::store::SessionList;
use vigil_core::text::visible;

/// One JSON array of sessions.
pub fn json(out: &mut impl Write, list: &SessionList) -> io::Result<()> {
    export::write_json(out, list.rows.iter().map(|s| &**s))
}

/// RFC 4180 CSV. Cells that a spreadsheet would run as a formula are prefixed with `'`.
pub fn csv(out: &mut impl Write, list: &SessionList) -> io::Result<()> {
    export::write_csv(out, list.rows.iter().map(|s| &**s))
}

/// The table's columns and their widths in terminal cells (the last one takes the rest).
/// Fixed widths, so each row is written as soon as it is ready: table crates
/// (`comfy-table`, `tabled`) measure every row before printing the first, which holds a
/// listing of 100,000 sessions in memory twice. Cell widths come from `unicode-width`.
const COLUMNS: [(&str, usize); 8] = [
    ("TENANT", 10),
    ("USER", 16),
    ("NAME", 22),
    ("IP", 39),
    ("TYPE", 7),
    ("LOGIN", 8),
    ("LOGIN TIME", 19),
    ("CLIENT", 60),
];

/// A table for people, times in the local zone. Every cell is tenant text: shown with
/// visible escapes, never obeyed by the terminal, and fitted to its column by display
/// width (a wide character takes two cells), so a long or wide value never shifts the
/// columns after it.
pub fn table(out: &mut impl Write, list: &SessionList) -> io::Result<()> {
    let header: Vec<&str> = COLUMNS.iter().map(|(h, _)| *h).collect();
    write_row(out, &header)?;
    for s in &list.rows {
        let user = if s.superuser {
            format!("{} *", visible(&s.username))
        } else {
            visible(&s.username).into_owned()
        };
        let created = s
            .created_at
            .map(|t| {
                t.with_timezone(&Local)
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_else(|| "-".into());
        let cells = [
            visible(&s.tenant).into_owned(),
            user,
            visible(&name(s)).into_owned(),
            visible(s.ip.as_deref().unwrap_or("-")).into_owned(),
            visible(s.session_type.as_deref().unwrap_or("-")).into_owned(),
            visible(s.login_type.as_deref().unwrap_or("-")).into_owned(),
            created,
            visible(s.user_agent.as_deref().unwrap_or("-")).into_owned(),
        ];
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        write_row(out, &cells)?;
    }
    writeln!(out, "{} sessions (* SuperUser)", list.total)
}

fn write_row(out: &mut impl Write, cells: &[&str]) -> io::Result<()> {
    let last = COLUMNS.len() - 1;
    let mut line = String::new();
    for (i, (cell, (_, width))) in cells.iter().zip(COLUMNS).enumerate() {
        if i == last {
            line.push_str(&truncate(cell, width));
        } else {
            line.push_str(&fit(cell, width));
            line.push(' ');
        }
    }
    writeln!(out, "{line}")
}

/// `s` in exactly `width` terminal cells: cut with `…` when wider, padded when narrower.
fn fit(s: &str, width: usize) -> String {
    let mut t = truncate(s, width);
    let w = UnicodeWidthStr::width(t.as_str());
    t.extend(std::iter::repeat_n(' ', width.saturating_sub(w)));
    t
}

/// `s` in at most `width` terminal cells, cut with `…`.
fn truncate(s: &str, width: usize) -> String {
    if UnicodeWidthStr::width(s) <= width {
        return s.to_owned();
    }
    let mut t = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        t.push(c);
        used += w;
    }
    t.push('…');
    t
}

fn name(s: &Session) -> String {
    s.display_name
        .as_deref()
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let n = [s.first_name.as_deref(), s.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            if n.is_empty() { "-".into() } else { n }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_truncated() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        // Wide characters take two cells each.
        assert_eq!(truncate("李雷韩梅梅", 6), "李雷…");
        assert_eq!(fit("李雷", 6), "李雷  ");
        assert_eq!(UnicodeWidthStr::width(fit("李雷韩梅梅", 5).as_str()), 5);
    }

    /// Wide names and an endless IP from a tenant do not shift the columns after them.
    #[test]
    fn columns_stay_in_place_whatever_the_cells_hold() -> io::Result<()> {
        let tenant = std::sync::Arc::from("t");
        let mut a = Session::new(&tenant, "s1", "u1", "李雷");
        a.display_name = Some("李 雷 (Li Lei)".into());
        a.ip = Some("x".repeat(500));
        a.session_type = Some("browser-but-much-longer".into());
        let b = Session::new(&tenant, "s2", "u2", "bob");
        let page = SessionList {
            total: 2,
            rows: vec![std::sync::Arc::new(a), std::sync::Arc::new(b)],
            version: 0,
        };
        let mut out = Vec::new();
        table(&mut out, &page)?;
        let text = String::from_utf8_lossy(&out);
        // The CLIENT column starts at the same cell on every line.
        let client_col: usize = COLUMNS[..7].iter().map(|(_, w)| w + 1).sum();
        assert_eq!(
            text.lines().next().map(|l| l.find("CLIENT")),
            Some(Some(client_col)),
            "{text}"
        );
        for l in text.lines().skip(1).take(2) {
            let cut = l
                .char_indices()
                .map(|(i, _)| i)
                .find(|i| UnicodeWidthStr::width(&l[..*i]) == client_col);
            assert!(cut.is_some_and(|i| l[..i].ends_with(' ')), "{l:?}");
        }
        Ok(())
    }

    #[test]
    fn table_cells_show_control_characters_instead_of_obeying_them() -> io::Result<()> {
        let tenant = std::sync::Arc::from("t");
        let mut s = Session::new(&tenant, "s1", "u1", "mallory\x1b]0;PWNED\x07\x1b[2J");
        s.user_agent = Some("curl\x1b[2J\u{202e}".into());
        s.display_name = Some("Eve\nFAKE LINE".into());
        let page = SessionList {
            total: 1,
            rows: vec![std::sync::Arc::new(s)],
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
