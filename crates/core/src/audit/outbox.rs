//! The alert routes' outbox: one row per alert and route, written with the alert, kept
//! until delivered (or given up after [`GIVE_UP_AFTER`]), so a restart or a receiver that
//! is down for hours loses nothing.

use super::*;
use crate::alerts::{Delivery, DeliveryState};

/// How long an undelivered alert is retried before the outbox gives it up (and says so).
pub const GIVE_UP_AFTER: chrono::Duration = chrono::Duration::days(3);

fn parse_state(s: &str) -> DeliveryState {
    match s {
        "delivered" => DeliveryState::Delivered,
        "gave_up" => DeliveryState::GaveUp,
        _ => DeliveryState::Queued,
    }
}

/// A delivery with its alert, for the dispatcher.
#[derive(Debug, Clone)]
pub struct Due {
    pub delivery: Delivery,
    pub alert: crate::alerts::Alert,
}

const COLUMNS: &str = "id, alert_id, route, state, attempts, created_at, next_at, last_error, delivered_at, carried_by";

fn delivery(r: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: r.get(0)?,
        alert_id: r.get(1)?,
        route: r.get(2)?,
        state: parse_state(&r.get::<_, String>(3)?),
        attempts: u32::try_from(r.get::<_, i64>(4)?).unwrap_or(u32::MAX),
        created_at: parse_ts(&r.get::<_, String>(5)?),
        next_at: parse_ts(&r.get::<_, String>(6)?),
        last_error: r.get(7)?,
        delivered_at: r.get::<_, Option<String>>(8)?.map(|s| parse_ts(&s)),
        carried_by: r.get(9)?,
    })
}

impl AuditLog {
    /// Queues `alert` (stored as `alert_id`, if it was) for each of `routes`; one
    /// transaction. Returns the new deliveries' ids.
    pub fn enqueue(
        &self,
        alert_id: Option<i64>,
        alert: &crate::alerts::Alert,
        routes: &[&str],
    ) -> Result<Vec<i64>> {
        if routes.is_empty() {
            return Ok(Vec::new());
        }
        let json = serde_json::to_string(alert).map_err(|e| Error::internal(e.to_string()))?;
        let now = ts(Utc::now());
        self.with(|c| {
            let tx = c.transaction()?;
            let mut ids = Vec::new();
            {
                let mut ins = tx.prepare_cached(
                    "INSERT INTO deliveries (alert_id, route, alert, created_at, state, next_at) VALUES (?1, ?2, ?3, ?4, 'queued', ?4)",
                )?;
                for r in routes {
                    ins.execute(params![alert_id, r, json, now])?;
                    ids.push(tx.last_insert_rowid());
                }
            }
            tx.commit()?;
            Ok(ids)
        })
    }

    /// Queued deliveries due at `now`, oldest first, at most `limit`.
    pub fn due_deliveries(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Due>> {
        let rows: Vec<(Delivery, String)> = self.with(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS}, alert FROM deliveries WHERE state = 'queued' AND next_at <= ?1 ORDER BY id LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![ts(now), i64::from(limit)], |r| {
                Ok((delivery(r)?, r.get(10)?))
            })?;
            rows.collect()
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(delivery, json)| {
                serde_json::from_str(&json)
                    .ok()
                    .map(|alert| Due { delivery, alert })
            })
            .collect())
    }

    /// When the next queued delivery is due.
    pub fn next_delivery_at(&self) -> Result<Option<DateTime<Utc>>> {
        let next: Option<String> = self.with(|c| {
            c.query_row(
                "SELECT MIN(next_at) FROM deliveries WHERE state = 'queued'",
                [],
                |r| r.get(0),
            )
        })?;
        Ok(next.map(|s| parse_ts(&s)))
    }

    /// Marks deliveries delivered (`carried_by`: inside that delivery's digest).
    pub fn delivered(&self, ids: &[i64], carried_by: Option<i64>) -> Result<()> {
        let now = ts(Utc::now());
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut up = tx.prepare_cached(
                    "UPDATE deliveries SET state = 'delivered', delivered_at = ?2, attempts = attempts + 1, last_error = NULL, carried_by = ?3 WHERE id = ?1",
                )?;
                for id in ids {
                    up.execute(params![id, now, carried_by.filter(|c| c != id)])?;
                }
            }
            tx.commit()
        })
    }

    /// Records a failed attempt: retried at `next_at`, or given up when the delivery is
    /// older than [`GIVE_UP_AFTER`].
    pub fn delivery_failed(&self, ids: &[i64], error: &str, next_at: DateTime<Utc>) -> Result<()> {
        let give_up_before = ts(Utc::now() - GIVE_UP_AFTER);
        let next = ts(next_at);
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut up = tx.prepare_cached(
                    "UPDATE deliveries SET attempts = attempts + 1, last_error = ?2, next_at = ?3,
                     state = CASE WHEN created_at < ?4 THEN 'gave_up' ELSE 'queued' END WHERE id = ?1",
                )?;
                for id in ids {
                    up.execute(params![id, error, next, give_up_before])?;
                }
            }
            tx.commit()
        })
    }

    /// Moves queued deliveries of a route to `next_at` without counting an attempt (the
    /// route is waiting for its rate limit, or is not configured).
    pub fn delivery_wait(
        &self,
        ids: &[i64],
        note: Option<&str>,
        next_at: DateTime<Utc>,
    ) -> Result<()> {
        let next = ts(next_at);
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut up = tx.prepare_cached(
                    "UPDATE deliveries SET next_at = ?2, last_error = COALESCE(?3, last_error) WHERE id = ?1",
                )?;
                for id in ids {
                    up.execute(params![id, next, note])?;
                }
            }
            tx.commit()
        })
    }

    /// The deliveries of these alerts, by alert.
    pub fn deliveries_of(
        &self,
        alert_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Vec<Delivery>>> {
        let mut out: std::collections::HashMap<i64, Vec<Delivery>> = Default::default();
        self.with(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM deliveries WHERE alert_id = ?1 ORDER BY id"
            ))?;
            for id in alert_ids {
                for d in stmt.query_map(params![id], delivery)? {
                    out.entry(*id).or_default().push(d?);
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Recent deliveries (newest first), optionally of one route.
    pub fn deliveries(&self, route: Option<&str>, limit: u32) -> Result<Vec<Delivery>> {
        self.with(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM deliveries WHERE (?1 IS NULL OR route = ?1) ORDER BY id DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(params![route, i64::from(limit)], delivery)?;
            rows.collect()
        })
    }

    /// A value kept about this database (its machine id, a cursor).
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.with(|c| {
            c.query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
                r.get(0)
            })
            .optional()
        })
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
        })
    }
}
