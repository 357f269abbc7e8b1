//! `vigil watch`: poll tenants and print each new alert as one JSON line (for SIEM pipes).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use vigil_core::calendar::WorkingCalendar;
use vigil_core::connector::Connector;
use vigil_core::tuning::AlertConfig;
use vigil_core::{Engine, Error};

use crate::target::{AdHocTenant, resolve};
use crate::{Failure, tenants};

/// The working calendar of a tenant (see [`WorkingCalendar::from_parts`]).
pub fn calendar_of(
    timezone: Option<&str>,
    hours: Option<&str>,
    holidays: &[String],
) -> Result<Option<WorkingCalendar>, Error> {
    WorkingCalendar::from_parts(timezone, hours, holidays)
}

/// The config file's scheduled policies and the people links they read.
pub struct Policies {
    pub policies: Vec<(
        vigil_core::policy::Policy,
        std::collections::BTreeSet<String>,
    )>,
    pub links: vigil_core::people::PeopleConfig,
}

/// How often the watch looks whether a scheduled policy is due.
const POLICY_CHECK: Duration = Duration::from_secs(5);

/// Polls `tenants` until interrupted; prints alerts as JSON lines on stdout, and runs
/// the scheduled policies when due (each run said on stderr, audited).
pub async fn run(
    tenants: Vec<(Arc<dyn Connector>, AlertConfig, Duration)>,
    geoip: Option<Arc<vigil_core::geoip::GeoIp>>,
    policies: Policies,
    routes: vigil_core::routing::dispatch::Routes,
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
    for r in &routes.routes {
        complain!(
            "vigil: alerts of severity {} and above go to route '{}' ({})",
            r.min_severity.as_str(),
            r.name,
            r.kind.as_str()
        );
    }
    engine.set_routes(routes);
    engine.start_dispatcher(
        Arc::new(vigil_core::secrets::KeyringStore::new(
            vigil_core::routing::SECRET_SERVICE,
        )),
        vigil_core::routing::dispatch::RETRY_BASE,
    );
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
    for (p, scope) in &policies.policies {
        if let Some(every) = p.every {
            complain!(
                "vigil: policy '{}' runs every {} s on {} tenants",
                p.name,
                every.as_secs(),
                scope.len()
            );
        }
    }
    let mut schedule = vigil_core::policy::Schedule::default();
    let mut check = tokio::time::interval(POLICY_CHECK);
    let stdout = std::io::stdout();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = check.tick(), if !policies.policies.is_empty() => {
                for run in schedule.tick(&engine, &policies.policies, &policies.links).await {
                    complain!(
                        "vigil: policy '{}' ended {} of {} sessions (audit action {})",
                        run.selection.policy,
                        run.report.items.iter().filter(|i| i.ok).count(),
                        run.selection.end.len(),
                        run.report.action_id
                    );
                    for item in run.report.items.iter().filter(|i| !i.ok) {
                        complain!(
                            "vigil: tenant '{}': policy '{}': {}: {}",
                            item.target.tenant,
                            run.selection.policy,
                            item.target.session_id,
                            item.error.as_ref().map_or("failed", |e| e.message.as_str())
                        );
                    }
                }
            }
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

/// `vigil watch`: the targeted tenants with their calendars, alert settings, intervals
/// and the config file's scheduled policies.
pub(crate) async fn watch_cmd(
    t: &AdHocTenant,
    timezone: Option<String>,
    hours: Option<String>,
    poll_interval: f64,
    alert_on_existing: bool,
    geoip: Option<std::path::PathBuf>,
) -> Result<(), Failure> {
    if !(0.1..=86_400.0).contains(&poll_interval) {
        return Err(Failure::usage(&Error::invalid_input(
            "--poll-interval must be between 0.1 and 86400 seconds",
        )));
    }
    let (connectors, unusable) = resolve(t).await?;
    for u in &unusable {
        complain!("vigil: tenant '{}': {}", u.tenant, u.error.message);
    }
    let configured = if t.url.is_some() {
        None
    } else {
        Some(tenants::load_config()?)
    };
    let mut plan = Vec::new();
    for c in connectors {
        let name = c.tenant().to_string();
        let (calendar, interval) = match configured.as_ref().and_then(|cfg| cfg.tenant(&name)) {
            Some(cfg) => (
                calendar_of(cfg.timezone.as_deref(), cfg.hours.as_deref(), &cfg.holidays),
                std::time::Duration::from_secs(cfg.poll_interval_secs),
            ),
            None => (
                calendar_of(timezone.as_deref(), hours.as_deref(), &[]),
                std::time::Duration::from_secs_f64(poll_interval),
            ),
        };
        let calendar = calendar.map_err(|e| Failure::usage(&e))?;
        let base = configured
            .as_ref()
            .and_then(|cfg| cfg.tenant(&name))
            .and_then(|cfg| cfg.alerts.clone())
            .unwrap_or_default();
        let settings = vigil_core::alerts::AlertSettings {
            alert_on_existing: alert_on_existing || base.alert_on_existing,
            ..base
        };
        let tuning = match configured.as_ref() {
            Some(cfg) => {
                let tags = cfg
                    .tenant(&name)
                    .map(|t| t.tags.clone())
                    .unwrap_or_default();
                cfg.alerts().for_tenant(&name, &tags)
            }
            None => Default::default(),
        };
        plan.push((c, AlertConfig::new(settings, calendar, tuning), interval));
    }
    if plan.is_empty() {
        return Err(Failure {
            code: 1,
            message: "no tenant could be watched".into(),
        });
    }
    let geoip_path = geoip.or_else(|| {
        let path = tenants::load_config()
            .ok()?
            .settings()
            .geoip_database
            .clone();
        (!path.is_empty()).then(|| std::path::PathBuf::from(path))
    });
    let geoip = match geoip_path {
        Some(p) => Some(std::sync::Arc::new(
            vigil_core::geoip::GeoIp::open(&p).map_err(|e| Failure::usage(&e))?,
        )),
        None => None,
    };
    // Scheduled policies (`every`) of the config file run while watching, and alerts
    // go to its routes.
    let (policies, links, routes) = match &configured {
        Some(cfg) => (cfg.policy_scopes(), cfg.people().clone(), cfg.routes()),
        None => (Vec::new(), Default::default(), Default::default()),
    };
    run(plan, geoip, Policies { policies, links }, routes).await
}
