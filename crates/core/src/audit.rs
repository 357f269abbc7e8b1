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

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::model::Session;

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

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_items (
    id INTEGER PRIMARY KEY,
    action_id TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    tenant TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    target_user TEXT
);
CREATE TABLE IF NOT EXISTS audit_events (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES audit_items(id),
    at TEXT NOT NULL,
    state TEXT NOT NULL,
    http_status INTEGER,
    result_code TEXT,
    message TEXT
);
CREATE INDEX IF NOT EXISTS audit_events_item ON audit_events(item_id, id);
CREATE INDEX IF NOT EXISTS audit_items_time ON audit_items(requested_at);
CREATE TRIGGER IF NOT EXISTS audit_items_no_update BEFORE UPDATE ON audit_items
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_items_no_delete BEFORE DELETE ON audit_items
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS session_history (
    tenant TEXT NOT NULL,
    session_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT,
    created_at TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    ended_at TEXT,
    ended_by TEXT,
    PRIMARY KEY (tenant, session_id)
);
CREATE INDEX IF NOT EXISTS session_history_user ON session_history(tenant, username);
CREATE INDEX IF NOT EXISTS session_history_ip ON session_history(tenant, user_id, ip);
CREATE TABLE IF NOT EXISTS alert_firings (
    rule TEXT NOT NULL,
    tenant TEXT NOT NULL,
    key TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (rule, tenant, key)
);
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    tenant TEXT NOT NULL,
    alert TEXT NOT NULL,
    acknowledged INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS alert_snoozes (
    tenant TEXT NOT NULL,
    rule TEXT NOT NULL,
    until TEXT NOT NULL,
    PRIMARY KEY (tenant, rule)
);
";

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
        let conn = Connection::open(&path).map_err(db_err(&path))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err(&path))?;
        // FULL: a committed intent is on disk before the request goes out.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db_err(&path))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_err(&path))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err(&path))?;
        conn.execute_batch(SCHEMA).map_err(db_err(&path))?;
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

    /// Writes the intent of every item (one durable transaction) before any request.
    pub fn begin(&self, items: &[NewItem]) -> Result<Vec<i64>> {
        let now = ts(Utc::now());
        self.with(|c| {
            let tx = c.transaction()?;
            let mut ids = Vec::with_capacity(items.len());
            {
                let mut item = tx.prepare_cached(
                    "INSERT INTO audit_items (action_id, requested_at, actor, tenant, action, target, target_user)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                let mut event = tx.prepare_cached("INSERT INTO audit_events (item_id, at, state) VALUES (?1, ?2, 'requested')")?;
                for i in items {
                    item.execute(params![i.action_id, now, i.actor, i.tenant, i.action.as_str(), i.target, i.target_user])?;
                    let id = tx.last_insert_rowid();
                    event.execute(params![id, now])?;
                    ids.push(id);
                }
            }
            tx.commit()?;
            Ok(ids)
        })
    }

    /// Appends a state change to an item.
    pub fn record(
        &self,
        item: i64,
        state: ItemState,
        http_status: Option<u16>,
        result_code: Option<&str>,
        message: Option<&str>,
    ) -> Result<()> {
        let now = ts(Utc::now());
        self.with(|c| {
            c.execute(
                "INSERT INTO audit_events (item_id, at, state, http_status, result_code, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![item, now, state.as_str(), http_status, result_code, message],
            )
            .map(|_| ())
        })
    }

    /// Items with their latest state, newest first.
    pub fn entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let limit = i64::from(filter.limit.unwrap_or(10_000).min(100_000));
        let since = filter.since.map(ts);
        let search = filter
            .search
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(|s| format!("%{s}%"));
        self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT i.id, i.action_id, i.requested_at, i.actor, i.tenant, i.action, i.target, i.target_user,
                        e.state, e.at, e.http_status, e.result_code, e.message
                 FROM audit_items i
                 JOIN audit_events e ON e.id = (SELECT MAX(id) FROM audit_events WHERE item_id = i.id)
                 WHERE (?1 IS NULL OR i.requested_at >= ?1)
                   AND (?2 IS NULL OR i.tenant = ?2)
                   AND (?3 IS NULL OR i.action_id = ?3)
                   AND (?4 IS NULL OR i.target LIKE ?4 OR i.target_user LIKE ?4 OR i.actor LIKE ?4 OR e.message LIKE ?4)
                 ORDER BY i.id DESC LIMIT ?5",
            )?;
            let rows = stmt.query_map(params![since, filter.tenant, filter.action_id, search, limit], |r| {
                Ok(AuditEntry {
                    id: r.get(0)?,
                    action_id: r.get(1)?,
                    requested_at: parse_ts(&r.get::<_, String>(2)?),
                    actor: r.get(3)?,
                    tenant: r.get(4)?,
                    action: ActionKind::parse(&r.get::<_, String>(5)?),
                    target: r.get(6)?,
                    target_user: r.get(7)?,
                    state: ItemState::parse(&r.get::<_, String>(8)?),
                    updated_at: parse_ts(&r.get::<_, String>(9)?),
                    http_status: r.get(10)?,
                    result_code: r.get(11)?,
                    message: r.get(12)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Records what a poll showed: new sessions are added, ended ones get their end.
    /// `ended_by_vigil` names sessions Vigil ended itself.
    pub fn observe<S: std::borrow::Borrow<Session>>(
        &self,
        tenant: &str,
        started: &[S],
        ended: &[S],
        ended_by_vigil: &dyn Fn(&str) -> bool,
    ) -> Result<()> {
        let now = Utc::now();
        let now_s = ts(now);
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO session_history (tenant, session_id, user_id, username, ip, user_agent, created_at, first_seen, last_seen)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
                     ON CONFLICT(tenant, session_id) DO UPDATE SET last_seen = excluded.last_seen, ended_at = NULL, ended_by = NULL",
                )?;
                for s in started {
                    let s = s.borrow();
                    ins.execute(params![tenant, s.id, s.user_id, s.username, s.ip, s.user_agent, s.created_at.map(ts), now_s])?;
                }
                let mut end = tx.prepare_cached(
                    "UPDATE session_history SET last_seen = ?3, ended_at = ?3, ended_by = ?4
                     WHERE tenant = ?1 AND session_id = ?2 AND ended_at IS NULL",
                )?;
                for s in ended {
                    let s = s.borrow();
                    let by = if ended_by_vigil(&s.id) {
                        "vigil"
                    } else if s.expires_at.is_some_and(|e| e <= now) {
                        "expired"
                    } else {
                        "ended"
                    };
                    end.execute(params![tenant, s.id, now_s, by])?;
                }
            }
            tx.commit()
        })
    }

    /// A user's sessions as observed, newest first ("Login History").
    pub fn history(
        &self,
        tenant: Option<&str>,
        username: Option<&str>,
        limit: u32,
    ) -> Result<Vec<HistoryEntry>> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT tenant, session_id, user_id, username, ip, user_agent, created_at, first_seen, last_seen, ended_at, ended_by
                 FROM session_history
                 WHERE (?1 IS NULL OR tenant = ?1) AND (?2 IS NULL OR username = ?2)
                 ORDER BY first_seen DESC LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![tenant, username, i64::from(limit)], |r| {
                Ok(HistoryEntry {
                    tenant: r.get(0)?,
                    session_id: r.get(1)?,
                    user_id: r.get(2)?,
                    username: r.get(3)?,
                    ip: r.get(4)?,
                    user_agent: r.get(5)?,
                    created_at: r.get::<_, Option<String>>(6)?.map(|s| parse_ts(&s)),
                    first_seen: parse_ts(&r.get::<_, String>(7)?),
                    last_seen: parse_ts(&r.get::<_, String>(8)?),
                    ended_at: r.get::<_, Option<String>>(9)?.map(|s| parse_ts(&s)),
                    ended_by: r.get(10)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Drops history of sessions that ended before `before`. The audit log is kept.
    pub fn prune_history(&self, before: DateTime<Utc>) -> Result<usize> {
        let b = ts(before);
        self.with(|c| {
            c.execute(
                "DELETE FROM session_history WHERE ended_at IS NOT NULL AND ended_at < ?1",
                params![b],
            )
        })
    }

    /// Whether `user_id` was ever seen signed in from `ip` in this tenant (alert rule L6).
    pub fn ip_seen(&self, tenant: &str, user_id: &str, ip: &str) -> Result<bool> {
        self.with(|c| {
            c.query_row(
                "SELECT 1 FROM session_history WHERE tenant = ?1 AND user_id = ?2 AND ip = ?3 LIMIT 1",
                params![tenant, user_id, ip],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
        })
    }

    /// Keeps the firings not seen before (one alert per session per rule, across
    /// restarts) and returns, for each alert, whether any of its firings is new.
    pub fn dedupe_alerts(
        &self,
        tenant: &str,
        alerts: &[(crate::alerts::Alert, Vec<crate::alerts::Firing>)],
    ) -> Result<Vec<bool>> {
        let now = ts(Utc::now());
        self.with(|c| {
            let tx = c.transaction()?;
            let mut fresh = Vec::with_capacity(alerts.len());
            {
                let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO alert_firings (rule, tenant, key, at) VALUES (?1, ?2, ?3, ?4)")?;
                for (_, firings) in alerts {
                    let mut any = false;
                    for f in firings {
                        any |= ins.execute(params![f.rule.as_str(), tenant, f.key, now])? > 0;
                    }
                    fresh.push(any);
                }
            }
            tx.commit()?;
            Ok(fresh)
        })
    }

    /// Stores a delivered alert for the alert centre; returns its id.
    pub fn store_alert(&self, alert: &crate::alerts::Alert) -> Result<i64> {
        let json = serde_json::to_string(alert).map_err(|e| Error::internal(e.to_string()))?;
        let at = ts(alert.at);
        self.with(|c| {
            c.execute(
                "INSERT INTO alerts (at, tenant, alert) VALUES (?1, ?2, ?3)",
                params![at, alert.tenant, json],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    /// Stored alerts, newest first.
    pub fn alerts(
        &self,
        filter: &crate::alerts::AlertFilter,
    ) -> Result<Vec<crate::alerts::StoredAlert>> {
        let limit = i64::from(filter.limit.unwrap_or(1_000).min(10_000));
        let search = filter
            .search
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(|s| format!("%{s}%"));
        let rows: Vec<(i64, String, bool)> = self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, alert, acknowledged FROM alerts
                 WHERE (?1 = 0 OR acknowledged = 0) AND (?2 IS NULL OR tenant = ?2) AND (?3 IS NULL OR alert LIKE ?3)
                 ORDER BY id DESC LIMIT ?4",
            )?;
            let rows = stmt.query_map(params![filter.open_only, filter.tenant, search, limit], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? != 0))
            })?;
            rows.collect()
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, json, acknowledged)| {
                serde_json::from_str(&json)
                    .ok()
                    .map(|alert| crate::alerts::StoredAlert {
                        id,
                        alert,
                        acknowledged,
                    })
            })
            .collect())
    }

    /// Stores (or, with `None`, lifts) a snooze of a rule for a tenant, so it outlives a
    /// restart.
    pub fn set_snooze(
        &self,
        tenant: &str,
        rule: crate::alerts::Rule,
        until: Option<DateTime<Utc>>,
    ) -> Result<()> {
        self.with(|c| {
            match until {
                Some(u) => c.execute(
                    "INSERT INTO alert_snoozes (tenant, rule, until) VALUES (?1, ?2, ?3)
                     ON CONFLICT (tenant, rule) DO UPDATE SET until = excluded.until",
                    params![tenant, rule.as_str(), ts(u)],
                )?,
                None => c.execute(
                    "DELETE FROM alert_snoozes WHERE tenant = ?1 AND rule = ?2",
                    params![tenant, rule.as_str()],
                )?,
            };
            Ok(())
        })
    }

    /// Snoozes still running at `now` (expired ones are dropped).
    pub fn snoozes(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, crate::alerts::Rule, DateTime<Utc>)>> {
        let rows: Vec<(String, String, String)> = self.with(|c| {
            c.execute(
                "DELETE FROM alert_snoozes WHERE until <= ?1",
                params![ts(now)],
            )?;
            let mut stmt = c.prepare_cached("SELECT tenant, rule, until FROM alert_snoozes")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(tenant, rule, until)| {
                let rule: crate::alerts::Rule =
                    serde_json::from_value(serde_json::Value::String(rule)).ok()?;
                Some((tenant, rule, parse_ts(&until)))
            })
            .collect())
    }

    /// How many alerts no administrator has acknowledged yet.
    pub fn open_alert_count(&self) -> Result<u64> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM alerts WHERE acknowledged = 0",
                [],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| u64::try_from(n).unwrap_or(0))
    }

    /// Marks alerts as seen by an administrator.
    pub fn acknowledge_alerts(&self, ids: &[i64]) -> Result<usize> {
        self.with(|c| {
            let tx = c.transaction()?;
            let mut n = 0;
            {
                let mut stmt =
                    tx.prepare_cached("UPDATE alerts SET acknowledged = 1 WHERE id = ?1")?;
                for id in ids {
                    n += stmt.execute(params![id])?;
                }
            }
            tx.commit()?;
            Ok(n)
        })
    }

    /// Whether a session is known to history (for tests and diagnostics).
    pub fn seen(&self, tenant: &str, session_id: &str) -> Result<bool> {
        self.with(|c| {
            c.query_row(
                "SELECT 1 FROM session_history WHERE tenant = ?1 AND session_id = ?2",
                params![tenant, session_id],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
        })
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

    fn item(target: &str) -> NewItem {
        NewItem {
            action_id: "a1".into(),
            actor: "alice@host".into(),
            tenant: "t".into(),
            action: ActionKind::EndSession,
            target: target.into(),
            target_user: Some("bob".into()),
        }
    }

    #[test]
    fn items_move_through_states_and_the_log_is_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path()).unwrap();
        let ids = log.begin(&[item("s1"), item("s2")]).unwrap();
        log.record(ids[0], ItemState::Accepted, Some(204), None, None)
            .unwrap();
        log.record(ids[0], ItemState::Confirmed, None, None, None)
            .unwrap();
        log.record(
            ids[1],
            ItemState::Failed,
            Some(403),
            Some("forbidden"),
            Some("permission denied (HTTP 403)"),
        )
        .unwrap();
        let all = log.entries(&AuditFilter::default()).unwrap();
        assert_eq!(all.len(), 2);
        let by = |t: &str| all.iter().find(|e| e.target == t).unwrap().clone();
        assert_eq!(by("s1").state, ItemState::Confirmed);
        assert_eq!(
            (by("s2").state, by("s2").http_status),
            (ItemState::Failed, Some(403))
        );
        let found = log
            .entries(&AuditFilter {
                search: Some("HTTP 403".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(found.len(), 1);
        // No update or delete path exists, and the database refuses one.
        let c = log.conn.lock().unwrap();
        assert!(c.execute("UPDATE audit_items SET actor = 'x'", []).is_err());
        assert!(c.execute("DELETE FROM audit_events", []).is_err());
        drop(c);
        // Reopening keeps everything.
        let again = AuditLog::open(dir.path()).unwrap();
        assert_eq!(again.entries(&AuditFilter::default()).unwrap().len(), 2);
    }

    #[test]
    fn history_records_first_and_last_seen_and_how_sessions_ended() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path()).unwrap();
        let t: Arc<str> = Arc::from("t");
        let s = |id: &str| {
            let mut s = Session::new(&t, id.into(), "u1".into(), "bob".into());
            s.ip = Some("10.0.0.1".into());
            s
        };
        let mut expired = s("s3");
        expired.expires_at = Some(Utc::now() - chrono::Duration::minutes(1));
        log.observe("t", &[s("s1"), s("s2"), expired.clone()], &[], &|_| false)
            .unwrap();
        log.observe("t", &[], &[s("s1"), s("s2"), expired], &|id| id == "s1")
            .unwrap();
        let h = log.history(Some("t"), Some("bob"), 100).unwrap();
        let by = |id: &str| {
            h.iter()
                .find(|e| e.session_id == id)
                .unwrap()
                .ended_by
                .clone()
        };
        assert_eq!(by("s1").as_deref(), Some("vigil"));
        assert_eq!(by("s2").as_deref(), Some("ended"));
        assert_eq!(by("s3").as_deref(), Some("expired"));
        assert!(log.seen("t", "s1").unwrap());
        assert_eq!(
            log.prune_history(Utc::now() + chrono::Duration::seconds(1))
                .unwrap(),
            3
        );
        assert!(log.history(None, None, 10).unwrap().is_empty());
    }
}
