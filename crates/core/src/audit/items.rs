//! The audit log proper: action items and the events of their lives.

use super::*;

impl AuditLog {
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
}

/// One event of an item's life with its item, as the shared audit store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// The event's id in this database (the replication cursor).
    pub id: i64,
    pub action_id: String,
    pub requested_at: String,
    pub actor: String,
    pub tenant: String,
    pub action: String,
    pub target: String,
    pub target_user: Option<String>,
    pub state: String,
    pub at: String,
    pub http_status: Option<i64>,
    pub result_code: Option<String>,
    pub message: Option<String>,
}

impl AuditLog {
    /// Events after `after` (by id), oldest first, at most `limit`.
    pub fn events_after(&self, after: i64, limit: u32) -> Result<Vec<EventRow>> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT e.id, i.action_id, i.requested_at, i.actor, i.tenant, i.action, i.target, i.target_user,
                        e.state, e.at, e.http_status, e.result_code, e.message
                 FROM audit_events e JOIN audit_items i ON i.id = e.item_id
                 WHERE e.id > ?1 ORDER BY e.id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after, i64::from(limit)], |r| {
                Ok(EventRow {
                    id: r.get(0)?,
                    action_id: r.get(1)?,
                    requested_at: r.get(2)?,
                    actor: r.get(3)?,
                    tenant: r.get(4)?,
                    action: r.get(5)?,
                    target: r.get(6)?,
                    target_user: r.get(7)?,
                    state: r.get(8)?,
                    at: r.get(9)?,
                    http_status: r.get(10)?,
                    result_code: r.get(11)?,
                    message: r.get(12)?,
                })
            })?;
            rows.collect()
        })
    }

    /// How many events come after `after`.
    pub fn events_count_after(&self, after: i64) -> Result<u64> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM audit_events WHERE id > ?1",
                params![after],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| u64::try_from(n).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
