//! The session history: every session Vigil observed, and how it ended.

use super::*;

impl AuditLog {
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
    fn history_records_first_and_last_seen_and_how_sessions_ended() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(dir.path()).unwrap();
        let t: Arc<str> = Arc::from("t");
        let s = |id: &str| {
            let mut s = Session::new(&t, id, "u1", "bob");
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
