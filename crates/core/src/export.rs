//! Sessions as CSV (RFC 4180) or JSON: the CLI's `--csv`/`--json` and the window's export
//! write the same columns.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::model::Session;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }
}

/// Where an export was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ExportResult {
    pub path: String,
    pub rows: usize,
}

pub const CSV_HEADER: [&str; 23] = [
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
    "current",
    "ip",
    "location",
    "user_agent",
    "session_type",
    "login_type",
    "server_name",
    "created_at",
    "last_activity_at",
    "expires_at",
    "idle_timeout_seconds",
    "user_id",
];

/// A CSV writer for exports: RFC 4180 quoting by the `csv` crate, `\n` line ends. Cells
/// of tenant text go through [`defuse`] first.
pub fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out)
}

fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Writes one record of defused cells.
pub fn write_record<W: Write>(w: &mut csv::Writer<W>, cells: &[&str]) -> io::Result<()> {
    for c in cells {
        w.write_field(defuse(c).as_bytes()).map_err(csv_io)?;
    }
    w.write_record(None::<&[u8]>).map_err(csv_io)
}

/// A header line and one line per session. Cells that a spreadsheet would run as a
/// formula are prefixed with `'`.
pub fn write_csv<'a>(
    out: &mut impl Write,
    rows: impl IntoIterator<Item = &'a Session>,
) -> io::Result<()> {
    let mut w = csv_writer(&mut *out);
    w.write_record(CSV_HEADER).map_err(csv_io)?;
    for s in rows {
        let ts = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
        fn opt(v: &Option<impl AsRef<str>>) -> &str {
            v.as_ref().map_or("", AsRef::as_ref)
        }
        let (superuser, protected, disabled, current) = (
            s.superuser.to_string(),
            s.protected.to_string(),
            s.disabled.to_string(),
            s.current.to_string(),
        );
        let (created, last, expires) = (ts(s.created_at), ts(s.last_activity_at), ts(s.expires_at));
        let idle = s
            .idle_timeout_seconds
            .map(|v| v.to_string())
            .unwrap_or_default();
        let tenant = s.tenant.to_string();
        write_record(
            &mut w,
            &[
                &tenant,
                &s.id,
                &s.username,
                opt(&s.display_name),
                opt(&s.first_name),
                opt(&s.last_name),
                opt(&s.department),
                opt(&s.organisation),
                &superuser,
                &protected,
                &disabled,
                &current,
                opt(&s.ip),
                opt(&s.location),
                opt(&s.user_agent),
                opt(&s.session_type),
                opt(&s.login_type),
                opt(&s.server_name),
                &created,
                &last,
                &expires,
                &idle,
                &s.user_id,
            ],
        )?;
    }
    w.flush()
}

/// One JSON array of sessions.
pub fn write_json<'a>(
    out: &mut impl Write,
    rows: impl IntoIterator<Item = &'a Session>,
) -> io::Result<()> {
    let rows: Vec<&Session> = rows.into_iter().collect();
    serde_json::to_writer_pretty(&mut *out, &rows).map_err(io::Error::other)?;
    writeln!(out)
}

/// Tenant text made safe for a spreadsheet cell: control characters and bidi overrides
/// shown as visible escapes (a cell never spans lines), a leading `=`, `+`, `-` or `@`
/// defused with `'` so a spreadsheet shows it instead of running it as a formula. The
/// quoting is the CSV writer's.
pub fn defuse(v: &str) -> std::borrow::Cow<'_, str> {
    let v = crate::text::visible(v);
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{v}"))
    } else {
        v
    }
}

/// One RFC 4180 cell of tenant text ([`defuse`]d, then quoted as the CSV writer would).
pub fn csv_cell(v: &str) -> String {
    let mut w = csv_writer(Vec::new());
    let _ = w.write_field(defuse(v).as_bytes());
    let _ = w.write_record(None::<&[u8]>);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_owned()
}

/// The folder exports go to: `VIGIL_EXPORT_DIR` if set, else the user's Downloads folder
/// (created if missing).
pub fn default_dir() -> Result<PathBuf> {
    let dir = std::env::var_os("VIGIL_EXPORT_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(dirs::download_dir)
        .or_else(|| dirs::home_dir().map(|h| h.join("Downloads")))
        .ok_or_else(|| Error::internal("no home folder to export to"))?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::internal(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

/// Writes `rows` to a new file `vigil-sessions-<time>.<ext>` in `dir`; never overwrites.
pub fn write_file(
    dir: &Path,
    format: ExportFormat,
    rows: &[impl std::borrow::Borrow<Session>],
    now: DateTime<Utc>,
) -> Result<ExportResult> {
    let stamp = now.format("%Y%m%d-%H%M%S");
    let ext = format.extension();
    let fail =
        |p: &Path, e: io::Error| Error::internal(format!("cannot write {}: {e}", p.display()));
    for n in 1..=100 {
        let name = if n == 1 {
            format!("vigil-sessions-{stamp}.{ext}")
        } else {
            format!("vigil-sessions-{stamp}-{n}.{ext}")
        };
        let path = dir.join(name);
        let file = match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(fail(&path, e)),
        };
        let mut out = BufWriter::new(file);
        let written = match format {
            ExportFormat::Csv => write_csv(&mut out, rows.iter().map(|s| s.borrow())),
            ExportFormat::Json => write_json(&mut out, rows.iter().map(|s| s.borrow())),
        };
        written
            .and_then(|()| out.into_inner().map_err(io::IntoInnerError::into_error))
            .and_then(|f: File| f.sync_all())
            .map_err(|e| fail(&path, e))?;
        return Ok(ExportResult {
            path: path.display().to_string(),
            rows: rows.len(),
        });
    }
    Err(Error::internal(format!(
        "too many exports named vigil-sessions-{stamp} in {}",
        dir.display()
    )))
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
        // Control characters and bidi overrides are shown, never obeyed; a cell stays
        // on one line.
        assert_eq!(csv_cell("mallory\x1b]0;PWNED\x07"), "mallory^[]0;PWNED^G");
        assert_eq!(csv_cell("a\nb"), "a^Jb");
        assert_eq!(csv_cell("\tcmd"), "^Icmd");
        assert_eq!(csv_cell("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
    }

    #[test]
    fn files_are_never_overwritten() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::internal(e.to_string()))?;
        let now = Utc::now();
        let s = crate::model::Session::new(&std::sync::Arc::from("t"), "s1", "u1", "alice");
        let a = write_file(dir.path(), ExportFormat::Csv, std::slice::from_ref(&s), now)?;
        let b = write_file(dir.path(), ExportFormat::Csv, &[] as &[Session], now)?;
        assert_ne!(a.path, b.path);
        let text = std::fs::read_to_string(&a.path).map_err(|e| Error::internal(e.to_string()))?;
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(CSV_HEADER.join(",").as_str()));
        assert!(lines.next().is_some_and(|l| l.starts_with("t,s1,alice,")));
        let j = write_file(dir.path(), ExportFormat::Json, &[s], now)?;
        let v: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(&j.path).map_err(|e| Error::internal(e.to_string()))?,
        )
        .map_err(|e| Error::internal(e.to_string()))?;
        assert_eq!(v[0]["username"], "alice");
        Ok(())
    }
}
