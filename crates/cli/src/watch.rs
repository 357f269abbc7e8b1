//! `vigil watch`: poll tenants and print each new alert as one JSON line (for SIEM pipes).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use vigil_core::calendar::{self, WorkingCalendar, WorkingHours};
use vigil_core::connector::Connector;
use vigil_core::engine::AlertConfig;
use vigil_core::{Engine, Error};

use crate::Failure;

/// The working calendar of a tenant: timezone (default UTC), hours (default none: every
/// sign-in is "outside working hours" only if hours are given), holidays.
pub fn calendar_of(
    timezone: Option<&str>,
    hours: Option<&str>,
    holidays: &[String],
) -> Result<Option<WorkingCalendar>, Error> {
    let Some(hours) = hours else { return Ok(None) };
    Ok(Some(WorkingCalendar {
        timezone: calendar::parse_timezone(timezone.unwrap_or("UTC"))?,
        hours: WorkingHours::parse(hours)?,
        holidays: holidays
            .iter()
            .map(|h| calendar::parse_holiday(h))
            .collect::<Result<_, _>>()?,
    }))
}

/// Polls `tenants` until interrupted; prints alerts as JSON lines on stdout.
pub async fn run(tenants: Vec<(Arc<dyn Connector>, AlertConfig, Duration)>) -> Result<(), Failure> {
    let audit = vigil_core::audit::AuditLog::open_default().map_err(|e| Failure {
        code: 1,
        message: e.message,
    })?;
    let engine = Engine::with_audit(
        tokio::runtime::Handle::current(),
        Some(audit),
        &vigil_core::audit::operator(),
    );
    let mut alerts = engine.subscribe_alerts();
    for (connector, config, interval) in tenants {
        let name = connector.tenant().to_string();
        engine.set_alert_config(&name, config);
        engine
            .add_tenant(connector, interval)
            .map_err(|e| Failure::tenant(&name, &e))?;
        eprintln!(
            "vigil: watching tenant '{name}' every {} s",
            interval.as_secs_f64()
        );
    }
    let stdout = std::io::stdout();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            alert = alerts.recv() => match alert {
                Ok(a) => {
                    let line = serde_json::to_string(&a).map_err(|e| Failure { code: 1, message: e.to_string() })?;
                    let mut out = stdout.lock();
                    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                        break; // the reader went away
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    eprintln!("vigil: {n} alerts were dropped (output too slow)");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    engine.shutdown();
    Ok(())
}
