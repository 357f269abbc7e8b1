//! Versioned schema migrations (`rusqlite_migration`): `PRAGMA user_version` counts the
//! steps applied. A step is appended, never edited; a database from a newer Vigil is
//! refused, not downgraded.

use std::path::Path;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use super::db_err;
use crate::error::{Error, Result};

/// Version 1: the schema as it stood before versions were kept (every statement is
/// `IF NOT EXISTS`, so it also takes an unversioned database of that time as it is).
const V1: &str = "
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

/// Version 2: the alert routes' outbox, facts about this database (its machine id and
/// the shared audit's replication cursor), and an index for merging a user's alerts.
const V2: &str = "
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER,
    route TEXT NOT NULL,
    alert TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    last_error TEXT,
    delivered_at TEXT,
    carried_by INTEGER
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_at);
CREATE INDEX IF NOT EXISTS deliveries_alert ON deliveries(alert_id);
CREATE INDEX IF NOT EXISTS alerts_tenant_at ON alerts(tenant, at);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Every step, in order: `MIGRATIONS[n]` takes a database from version `n` to `n + 1`.
const MIGRATIONS: &[M<'static>] = &[M::up(V1), M::up(V2)];

/// The schema version this Vigil writes.
pub const CURRENT: usize = MIGRATIONS.len();

/// Brings the database to [`CURRENT`] in one transaction.
pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db_err(path))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > CURRENT {
        return Err(Error::config(format!(
            "{}: written by a newer Vigil (schema version {version}; this one knows {CURRENT}); it was left as it is",
            path.display()
        )));
    }
    Migrations::from_slice(MIGRATIONS)
        .to_latest(conn)
        .map_err(|e| Error::config(format!("{}: upgrading the schema: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::super::{AuditFilter, AuditLog, FILE_NAME, ItemState, NewItem};
    use super::*;

    fn set_version(dir: &Path, v: i64) {
        let c = Connection::open(dir.join(FILE_NAME)).unwrap();
        c.pragma_update(None, "user_version", v).unwrap();
    }

    fn version(dir: &Path) -> i64 {
        let c = Connection::open(dir.join(FILE_NAME)).unwrap();
        c.pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap()
    }

    /// A database of the release before versions were kept (`user_version` 0, the same
    /// tables) opens with every record, and is versioned from then on.
    #[test]
    fn an_unversioned_database_opens_with_its_records() {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = AuditLog::open(dir.path()).unwrap();
            let ids = log
                .begin(&[NewItem {
                    action_id: "A1".into(),
                    actor: "ops@host".into(),
                    tenant: "t".into(),
                    action: super::super::ActionKind::Logout,
                    target: "u1".into(),
                    target_user: Some("alice".into()),
                }])
                .unwrap();
            log.record(ids[0], ItemState::Accepted, Some(204), None, None)
                .unwrap();
        }
        set_version(dir.path(), 0);
        let log = AuditLog::open(dir.path()).unwrap();
        assert_eq!(version(dir.path()), CURRENT as i64);
        let entries = log.entries(&AuditFilter::default()).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].state, ItemState::Accepted);
        // Opening again applies nothing more.
        drop(log);
        AuditLog::open(dir.path()).unwrap();
        assert_eq!(version(dir.path()), CURRENT as i64);
    }

    /// A version-1 database (before the outbox) gains the outbox and keeps its records.
    #[test]
    fn a_version_1_database_gains_the_outbox() {
        let dir = tempfile::tempdir().unwrap();
        drop(AuditLog::open(dir.path()).unwrap());
        {
            let c = Connection::open(dir.path().join(FILE_NAME)).unwrap();
            c.execute_batch("DROP TABLE deliveries; DROP TABLE meta;")
                .unwrap();
        }
        set_version(dir.path(), 1);
        let log = AuditLog::open(dir.path()).unwrap();
        assert_eq!(version(dir.path()), CURRENT as i64);
        log.set_meta("k", "v").unwrap();
        assert_eq!(log.meta("k").unwrap().as_deref(), Some("v"));
        assert!(log.deliveries(None, 10).unwrap().is_empty());
    }

    /// A newer Vigil's database is refused with the reason, and not changed.
    #[test]
    fn a_newer_database_is_refused_and_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        drop(AuditLog::open(dir.path()).unwrap());
        set_version(dir.path(), CURRENT as i64 + 1);
        let before = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
        let e = AuditLog::open(dir.path()).unwrap_err();
        assert!(e.message.contains("newer Vigil"), "{e}");
        assert_eq!(std::fs::read(dir.path().join(FILE_NAME)).unwrap(), before);
        assert_eq!(version(dir.path()), CURRENT as i64 + 1);
    }
}
