//! Audited actions from the terminal: terminate, logout, disable, enable, and
//! reading the audit log back.
//!
//! An action runs through the same engine as the app: the tenant is polled once (so the
//! guards know Vigil's own session and protected accounts), every intent is written to
//! the audit log before its request, and a following poll confirms each item.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use vigil_core::audit::{ActionKind, AuditFilter, AuditLog, ItemState};
use vigil_core::connector::Connector;
use vigil_core::model::SessionRef;
use vigil_core::{Engine, Error, ErrorCode};

use crate::Failure;

/// How long the CLI waits for a poll to confirm an action.
const CONFIRM_WAIT: Duration = Duration::from_secs(20);

fn open_audit() -> Result<AuditLog, Failure> {
    AuditLog::open_default().map_err(|e| Failure {
        code: 1,
        message: format!("{} (no action is taken without an audit record)", e.message),
    })
}

/// An engine polling just this tenant, after its first poll.
async fn engine_for(connector: Arc<dyn Connector>) -> Result<Engine, Failure> {
    let tenant = connector.tenant().to_string();
    let engine = Engine::with_audit(
        tokio::runtime::Handle::current(),
        Some(open_audit()?),
        &vigil_core::audit::operator(),
    );
    let store = engine.store().clone();
    let mut events = store.subscribe();
    engine
        .add_tenant(connector, Duration::from_secs(1))
        .map_err(|e| Failure::tenant(&tenant, &e))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(h) = store.health(&tenant).filter(|h| h.last_poll_at.is_some()) {
            return match h.error {
                None => Ok(engine),
                Some(e) => Err(Failure {
                    code: 1,
                    message: format!("tenant '{tenant}': {}", e.message),
                }),
            };
        }
        if tokio::time::timeout_at(deadline, events.recv())
            .await
            .is_err()
        {
            return Err(Failure::tenant(
                &tenant,
                &Error::new(ErrorCode::Timeout, "the first poll did not finish"),
            ));
        }
    }
}

/// Runs an action on `targets` (session ids, or user names for user actions).
pub async fn run(
    connector: Arc<dyn Connector>,
    kind: ActionKind,
    targets: Vec<String>,
) -> Result<(), Failure> {
    let tenant = connector.tenant().to_string();
    let user_action = kind != ActionKind::EndSession;
    if matches!(kind, ActionKind::Logout | ActionKind::Disable) {
        // Said before anything is sent: what a force logout ends in this system, and what not.
        say!(
            "force logout in tenant '{tenant}' {}",
            vigil_core::connector::logout_effect(connector.kind())
        );
    }
    let mut refs = Vec::new();
    // The tenant's own record of each named user: the guards check it, not the store
    // (which knows only users with sessions).
    let mut users = std::collections::HashMap::new();
    let mut failed = 0usize;
    for t in &targets {
        if user_action {
            match connector.find_user(t).await {
                Ok(Some(u)) => {
                    refs.push((
                        t.clone(),
                        SessionRef {
                            tenant: tenant.clone(),
                            session_id: u.id.to_string(),
                        },
                    ));
                    users.insert(u.id.to_string(), u);
                }
                Ok(None) => {
                    failed += 1;
                    complain!("vigil: tenant '{tenant}': {t}: no user named {t:?}");
                }
                Err(e) => {
                    failed += 1;
                    complain!("vigil: tenant '{tenant}': {t}: {}", e.message);
                }
            }
        } else {
            refs.push((
                t.clone(),
                SessionRef {
                    tenant: tenant.clone(),
                    session_id: t.clone(),
                },
            ));
        }
    }
    if refs.is_empty() {
        return Err(Failure {
            code: 1,
            message: format!("{failed} of {} targets failed", targets.len()),
        });
    }
    let engine = engine_for(connector).await?;
    let labels: std::collections::HashMap<String, String> = refs
        .iter()
        .map(|(label, r)| (r.session_id.clone(), label.clone()))
        .collect();
    let targets_refs = refs.into_iter().map(|(_, r)| r).collect();
    let report = engine.act_on_users(kind, targets_refs, &users).await;
    let verb = match kind {
        ActionKind::EndSession => "ended",
        ActionKind::Logout => "logged out",
        ActionKind::Disable => "disabled (sessions ended)",
        ActionKind::DisableOnly => "disabled",
        ActionKind::Enable => "enabled",
        ActionKind::RevokeGrants => "tokens and grants revoked",
        ActionKind::RequirePasswordChange => "must choose a new password",
    };
    for item in &report.items {
        let label = labels
            .get(&item.target.session_id)
            .cloned()
            .unwrap_or_else(|| item.target.session_id.clone());
        match (&item.error, item.already_gone) {
            (None, false) => say!("{verb} {label} ({tenant})"),
            (None, true) => say!("already gone {label} ({tenant})"),
            (Some(e), _) => {
                failed += 1;
                complain!("vigil: tenant '{tenant}': {label}: {}", e.message);
            }
        }
    }
    confirm(&engine, &report.action_id, &labels).await;
    let audit = engine.audit().cloned();
    engine.shutdown();
    if let Some(audit) = &audit {
        crate::shared::sync_quietly(audit).await;
    }
    say!(
        "audit: action {} ({} items)",
        report.action_id,
        report.items.len()
    );
    match failed {
        0 => Ok(()),
        n => Err(Failure {
            code: 1,
            message: format!("{n} of {} targets failed", targets.len()),
        }),
    }
}

/// Waits for the polls that confirm accepted items, then prints where each ended up.
async fn confirm(
    engine: &Engine,
    action_id: &str,
    labels: &std::collections::HashMap<String, String>,
) {
    let Some(audit) = engine.audit().cloned() else {
        return;
    };
    let filter = AuditFilter {
        action_id: Some(action_id.to_owned()),
        ..Default::default()
    };
    let deadline = tokio::time::Instant::now() + CONFIRM_WAIT;
    loop {
        let (a, f) = (audit.clone(), filter.clone());
        let entries = tokio::task::spawn_blocking(move || a.entries(&f))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let waiting = entries.iter().any(|e| {
            e.state == ItemState::Accepted
                && e.action.ends_sessions()
                && e.message.as_deref() != Some("already gone")
        });
        if !waiting || tokio::time::Instant::now() >= deadline {
            for e in entries
                .iter()
                .filter(|e| matches!(e.state, ItemState::Confirmed | ItemState::Reappeared))
            {
                let label = labels.get(&e.target).unwrap_or(&e.target);
                match e.state {
                    ItemState::Confirmed => {
                        say!("confirmed {label}: the next poll no longer shows it")
                    }
                    _ => complain!(
                        "vigil: tenant '{}': {label}: still listed after the tenant accepted the request",
                        e.tenant
                    ),
                }
            }
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `vigil audit`
pub fn show(
    since: Option<&str>,
    tenant: Option<String>,
    search: Option<String>,
    json: bool,
    csv: bool,
) -> Result<(), Failure> {
    let since = since
        .map(parse_since)
        .transpose()
        .map_err(|e| Failure::usage(&e))?;
    let audit = open_audit()?;
    let entries = audit
        .entries(&AuditFilter {
            since,
            tenant,
            search,
            action_id: None,
            limit: None,
        })
        .map_err(|e| Failure {
            code: 1,
            message: e.message,
        })?;
    if json {
        let text = serde_json::to_string_pretty(&entries).map_err(|e| Failure {
            code: 1,
            message: e.to_string(),
        })?;
        println!("{text}");
    } else if csv {
        let stdout = std::io::stdout();
        let mut w = vigil_core::export::csv_writer(stdout.lock());
        let io = |e: std::io::Error| Failure {
            code: 1,
            message: format!("writing the CSV: {e}"),
        };
        vigil_core::export::write_record(
            &mut w,
            &[
                "id",
                "action_id",
                "requested_at",
                "actor",
                "tenant",
                "action",
                "target",
                "target_user",
                "state",
                "updated_at",
                "http_status",
                "result_code",
                "message",
            ],
        )
        .map_err(io)?;
        for e in &entries {
            let (id, requested, updated) = (
                e.id.to_string(),
                e.requested_at.to_rfc3339(),
                e.updated_at.to_rfc3339(),
            );
            let status = e.http_status.map(|s| s.to_string()).unwrap_or_default();
            vigil_core::export::write_record(
                &mut w,
                &[
                    &id,
                    &e.action_id,
                    &requested,
                    &e.actor,
                    &e.tenant,
                    e.action.as_str(),
                    &e.target,
                    e.target_user.as_deref().unwrap_or_default(),
                    e.state.as_str(),
                    &updated,
                    &status,
                    e.result_code.as_deref().unwrap_or_default(),
                    e.message.as_deref().unwrap_or_default(),
                ],
            )
            .map_err(io)?;
        }
        w.flush().map_err(io)?;
    } else {
        say!(
            "{:<24} {:<18} {:<12} {:<13} {:<11} {:<32} RESULT",
            "REQUESTED",
            "ACTOR",
            "TENANT",
            "ACTION",
            "STATE",
            "TARGET"
        );
        for e in &entries {
            let target = match &e.target_user {
                Some(u) if u != &e.target => format!("{} ({u})", e.target),
                _ => e.target.clone(),
            };
            say!(
                "{:<24} {:<18} {:<12} {:<13} {:<11} {:<32} {}",
                e.requested_at
                    .with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M:%S"),
                e.actor,
                e.tenant,
                e.action.as_str(),
                e.state.as_str(),
                target,
                e.message
                    .clone()
                    .or(e.http_status.map(|s| format!("HTTP {s}")))
                    .unwrap_or_default()
            );
        }
        say!("{} entries in {}", entries.len(), audit.path().display());
    }
    Ok(())
}

/// `2026-11-22T10:00:00Z`, `2026-11-22`, or a span back from now: `30m`, `24h`, `7d`.
pub fn parse_since(s: &str) -> Result<DateTime<Utc>, Error> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_default());
    }
    let (num, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = num.parse().map_err(|_| {
        Error::invalid_input(format!(
            "--since {s:?}: use RFC 3339, YYYY-MM-DD, or 30m/24h/7d"
        ))
    })?;
    let span = match unit {
        "m" => chrono::Duration::try_minutes(n),
        "h" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        _ => {
            return Err(Error::invalid_input(format!(
                "--since {s:?}: use RFC 3339, YYYY-MM-DD, or 30m/24h/7d"
            )));
        }
    };
    span.filter(|d| *d >= chrono::Duration::zero())
        .and_then(|d| Utc::now().checked_sub_signed(d))
        .ok_or_else(|| Error::invalid_input(format!("--since {s:?}: out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_times_dates_and_spans() {
        assert!(parse_since("2026-11-22T10:00:00Z").is_ok());
        assert!(parse_since("2026-11-22").is_ok());
        let t = parse_since("24h").unwrap();
        assert!((Utc::now() - t).num_hours() == 24);
        assert!(parse_since("soon").is_err());
        assert!(parse_since("5y").is_err());
        // Spans too large for a date are an error, not a panic.
        assert!(parse_since("9223372036854775807d").is_err());
        assert!(parse_since("99999999999d").is_err());
        assert!(parse_since("-5d").is_err());
    }
}
