//! `vigil watch`: poll tenants and print each new alert as one JSON line (for SIEM pipes).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use vigil_core::calendar::WorkingCalendar;
use vigil_core::connector::Connector;
use vigil_core::engine::AlertConfig;
use vigil_core::{Engine, Error};

use crate::Failure;

/// The working calendar of a tenant (see [`WorkingCalendar::from_parts`]).
pub fn calendar_of(
    timezone: Option<&str>,
    hours: Option<&str>,
    holidays: &[String],
) -> Result<Option<WorkingCalendar>, Error> {
    WorkingCalendar::from_parts(timezone, hours, holidays)
}

/// Polls `tenants` until interrupted; prints alerts as JSON lines on stdout.
pub async fn run(
    tenants: Vec<(Arc<dyn Connector>, AlertConfig, Duration)>,
    geoip: Option<Arc<vigil_core::geoip::GeoIp>>,
) -> Result<(), Failure> {
    let audit = vigil_core::audit::AuditLog::open_default().map_err(|e| Failure {
        code: 1,
        message: e.message,
    })?;
    let engine = Engine::with_audit(
        tokio::runtime::Handle::current(),
        Some(audit),
        &vigil_core::audit::operator(),
    );
    if let Some(g) = &geoip {
        complain!("vigil: GeoIP database {}", g.path());
    }
    engine.set_geoip(geoip);
    let mut alerts = engine.subscribe_alerts();
    for (connector, config, interval) in tenants {
        let name = connector.tenant().to_string();
        engine.set_alert_config(&name, config);
        engine
            .add_tenant(connector, interval)
            .map_err(|e| Failure::tenant(&name, &e))?;
        complain!(
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
                    complain!("vigil: {n} alerts were dropped (output too slow)");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    engine.shutdown();
    Ok(())
}
