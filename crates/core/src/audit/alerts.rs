//! Stored alerts, their firings (for de-duplication) and snoozes.

use super::*;

impl AuditLog {
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

    /// Stores an alert for the alert centre; returns its id. A suppressed alert is
    /// stored as already acknowledged: the "all" view shows it with the reason.
    pub fn store_alert(&self, alert: &crate::alerts::Alert) -> Result<i64> {
        let json = serde_json::to_string(alert).map_err(|e| Error::internal(e.to_string()))?;
        let at = ts(alert.at);
        self.with(|c| {
            c.execute(
                "INSERT INTO alerts (at, tenant, alert, acknowledged) VALUES (?1, ?2, ?3, ?4)",
                params![at, alert.tenant, json, alert.suppressed_by.is_some()],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    /// The newest announced alert of `username` in `tenant` raised since `since`: the
    /// one a new alert of theirs merges into.
    pub fn merge_target(
        &self,
        tenant: &str,
        username: &str,
        since: DateTime<Utc>,
    ) -> Result<Option<(i64, crate::alerts::Alert)>> {
        let row: Option<(i64, String)> = self.with(|c| {
            c.query_row(
                "SELECT id, alert FROM alerts WHERE tenant = ?1 AND at >= ?2
                   AND json_extract(alert, '$.username') = ?3
                   AND json_extract(alert, '$.suppressed_by') IS NULL
                 ORDER BY id DESC LIMIT 1",
                params![tenant, ts(since), username],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })?;
        Ok(row.and_then(|(id, json)| serde_json::from_str(&json).ok().map(|a| (id, a))))
    }

    /// Replaces a stored alert's content (a merge added rules and a count to it).
    pub fn update_alert(&self, id: i64, alert: &crate::alerts::Alert) -> Result<()> {
        let json = serde_json::to_string(alert).map_err(|e| Error::internal(e.to_string()))?;
        self.with(|c| {
            c.execute(
                "UPDATE alerts SET alert = ?2 WHERE id = ?1",
                params![id, json],
            )
            .map(|_| ())
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
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let mut deliveries = self.deliveries_of(&ids)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, json, acknowledged)| {
                serde_json::from_str(&json)
                    .ok()
                    .map(|alert| crate::alerts::StoredAlert {
                        id,
                        alert,
                        acknowledged,
                        deliveries: deliveries.remove(&id).unwrap_or_default(),
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
}
