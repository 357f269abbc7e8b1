//! What the app holds while it runs.

use std::sync::Arc;
use std::time::Duration;

use vigil_core::connector::vigil::VigilConnector;
use vigil_core::model::{ConnectorKind, TenantSpec};
use vigil_core::{Engine, Error, Result, SecretString};
use vigil_demo::RunningDemo;

/// Start-up settings (environment overrides; the settings screen comes later).
pub struct Settings {
    pub demo_sessions: usize,
    pub poll_interval: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            demo_sessions: env_number("VIGIL_DEMO_SESSIONS", 2_000)?,
            poll_interval: Duration::from_millis(
                env_number("VIGIL_POLL_INTERVAL_MS", 2_000)?.max(100) as u64,
            ),
        })
    }
}

fn env_number(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| Error::config(format!("{name} must be a whole number, not {v:?}"))),
        Err(_) => Ok(default),
    }
}

pub struct AppState {
    pub engine: Engine,
    /// The embedded demo tenant, when no tenant is configured.
    _demo: Option<RunningDemo>,
}

impl AppState {
    /// With no tenant configured, starts the demo tenant on a loopback port and polls it
    /// through the same HTTP connector as any other tenant. Its token lives in memory only.
    pub async fn start(rt: tokio::runtime::Handle, settings: Settings) -> Result<Self> {
        let engine = Engine::new(rt);
        let token = vigil_demo::random_token();
        let config = vigil_demo::DemoConfig {
            sessions: settings.demo_sessions,
            token: token.clone(),
            seed: rand::random(),
            ..Default::default()
        };
        let demo = vigil_demo::start(([127, 0, 0, 1], 0).into(), config)
            .await
            .map_err(|e| Error::internal(format!("cannot start the demo tenant: {e}")))?;
        let spec = TenantSpec::new("demo", ConnectorKind::Vigil, &demo.url())?;
        let connector = VigilConnector::new(&spec, SecretString::new(token))?;
        engine.add_tenant(Arc::new(connector), settings.poll_interval)?;
        tracing::info!(url = %demo.url(), "demo tenant started");
        Ok(Self {
            engine,
            _demo: Some(demo),
        })
    }
}
