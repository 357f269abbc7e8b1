//! The audit log and session history: SQLite (WAL, `synchronous = FULL`) in the data
//! directory (`VIGIL_DATA_DIR` overrides it).
//!
//! **Audit** is append-only: an action item is inserted, and every step of its life
//! (requested → accepted | failed → confirmed | reappeared) is a new event row. Triggers
//! refuse any UPDATE or DELETE of either table. The `requested` event is committed — and
//! synced to disk — before the request goes out, so a crash or a kill at any moment
//! leaves a record of every request a tenant may have received.
//!
//! **History** keeps every session Vigil observed: first seen, last seen, how it ended.
//! It is pruned by a retention setting; audit never is.
//!
//! Here: the types, the handle and opening the file; beside it `items` (the audit log
//! proper), `history`, `alerts` (stored alerts, firings, snoozes) and `migrate` (the
//! schema, versioned by `PRAGMA user_version`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::model::Session;

mod alerts;
mod history;
mod items;
mod migrate;
mod outbox;

pub use items::EventRow;
pub use outbox::{Due, GIVE_UP_AFTER};

pub const FILE_NAME: &str = "vigil.db";

/// Who is acting, for the audit log: `user@host` of the operating system account.
pub fn operator() -> String {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .or_else(unix_user_name)
        .unwrap_or_else(|| "unknown".into());
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}

/// What an action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ActionKind {
    /// End one session.
    EndSession,
    /// End every session of a user (force logout).
    Logout,
    /// Disable the account and end its sessions ("End & Disable").
    Disable,
    /// Disable the account, leaving its current sessions alone.
    DisableOnly,
    /// Re-enable the account.
    Enable,
    /// Revoke refresh tokens, offline sessions and OAuth grants.
    RevokeGrants,
    /// Make the user choose a new password before signing in again.
    RequirePasswordChange,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EndSession => "end_session",
            Self::Logout => "logout",
            Self::Disable => "disable",
            Self::DisableOnly => "disable_only",
            Self::Enable => "enable",
            Self::RevokeGrants => "revoke_grants",
            Self::RequirePasswordChange => "require_password_change",
        }
    }

    /// Whether a later poll can confirm the item: the sessions it ends are gone.
    pub fn ends_sessions(self) -> bool {
        matches!(self, Self::EndSession | Self::Logout | Self::Disable)
    }

    fn parse(s: &str) -> Self {
        match s {
            "logout" => Self::Logout,
            "disable" => Self::Disable,
            "disable_only" => Self::DisableOnly,
            "enable" => Self::Enable,
            "revoke_grants" => Self::RevokeGrants,
            "require_password_change" => Self::RequirePasswordChange,
            _ => Self::EndSession,
        }
    }
}

/// Where an action item is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ItemState {
    /// Written before the request was sent.
    Requested,
    /// The tenant's API accepted it (or the target was already gone).
    Accepted,
    /// The tenant's API refused it, or it could not be sent.
    Failed,
    /// A later poll shows the goal state (the session is gone).
    Confirmed,
    /// A later poll still shows the session after the API accepted its end.
    Reappeared,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Accepted => "accepted",
            Self::Failed => "failed",
            Self::Confirmed => "confirmed",
            Self::Reappeared => "reappeared",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "accepted" => Self::Accepted,
            "failed" => Self::Failed,
            "confirmed" => Self::Confirmed,
            "reappeared" => Self::Reappeared,
            _ => Self::Requested,
        }
    }
}

/// An item about to be requested.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub action_id: String,
    pub actor: String,
    pub tenant: String,
    pub action: ActionKind,
    /// Session id or user id.
    pub target: String,
    /// The user name, when known.
    pub target_user: Option<String>,
}

/// One audited action item with its latest state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AuditEntry {
    pub id: i64,
    pub action_id: String,
    pub requested_at: DateTime<Utc>,
    pub actor: String,
    pub tenant: String,
    pub action: ActionKind,
    pub target: String,
    pub target_user: Option<String>,
    pub state: ItemState,
    pub updated_at: DateTime<Utc>,
    pub http_status: Option<u16>,
    pub result_code: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AuditFilter {
    pub since: Option<DateTime<Utc>>,
    pub tenant: Option<String>,
    /// Matches target, user, actor or message.
    pub search: Option<String>,
    pub action_id: Option<String>,
    pub limit: Option<u32>,
}

/// How a session ended, as far as Vigil can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HistoryEntry {
    pub tenant: String,
    pub session_id: String,
    pub user_id: String,
    pub username: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// `vigil` (ended through Vigil), `expired`, or `ended` (signed out or ended elsewhere).
    pub ended_by: Option<String>,
}

/// The database. Cheap to clone; calls block, so async code runs them on a blocking thread.
#[derive(Clone)]
pub struct AuditLog {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .finish()
    }
}

/// The account name of this process's user from `/proc` and `/etc/passwd` (no libc call).
fn unix_user_name() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)? == uid).then(|| name.to_owned())
    })
}

/// The directory of `vigil.db`: `$VIGIL_DATA_DIR`, else the OS data dir.
pub fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("VIGIL_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir()
        .map(|d| d.join("vigil"))
        .ok_or_else(|| Error::config("no data directory on this system; set VIGIL_DATA_DIR"))
}

fn db_err(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::internal(format!("audit database {}: {e}", path.display()))
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_default()
}

impl AuditLog {
    /// Opens (or creates) `vigil.db` in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::config(format!(
                "{}: cannot create the data directory: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join(FILE_NAME);
        let mut conn = Connection::open(&path).map_err(db_err(&path))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err(&path))?;
        // FULL: a committed intent is on disk before the request goes out.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db_err(&path))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_err(&path))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err(&path))?;
        migrate::migrate(&mut conn, &path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    pub fn open_default() -> Result<Self> {
        Self::open(&data_dir()?)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| Error::internal("audit database lock poisoned"))?;
        f(&mut conn).map_err(db_err(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_database_is_reported_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &garbage).unwrap();
        let e = AuditLog::open(dir.path()).unwrap_err();
        assert!(
            e.message.contains(&path.display().to_string()) && e.message.contains("not a database"),
            "{e}"
        );
        assert_eq!(
            std::fs::read(&path).unwrap(),
            garbage,
            "the file must not be touched"
        );
    }
}
