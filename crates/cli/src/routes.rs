//! `vigil route`: the alert routes of the config file, their keychain secrets, a test
//! alert, and the outbox (what was delivered, what waits and why).

use std::sync::Arc;

use clap::Subcommand;
use vigil_core::secrets::{KeyringStore, SecretStore};

use crate::{Failure, tenants};

#[derive(Subcommand)]
pub enum RouteCommand {
    /// The routes of `[[alerts.routes]]`.
    List,
    /// Store a route's secret in the keychain: a webhook's signing key, a Slack or Teams
    /// webhook URL, an SMTP password.
    SetSecret {
        name: String,
        /// Read it from stdin instead of asking.
        #[arg(long)]
        secret_stdin: bool,
    },
    /// Send a test alert on a route now and say how it went.
    Test { name: String },
    /// The newest deliveries (all routes, or one) and their state.
    Outbox {
        #[arg(long)]
        route: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

fn store() -> Arc<dyn SecretStore> {
    Arc::new(KeyringStore::new(vigil_core::routing::SECRET_SERVICE))
}

fn fail(e: &vigil_core::Error) -> Failure {
    Failure {
        code: 1,
        message: e.message.clone(),
    }
}

pub async fn run(command: RouteCommand) -> Result<(), Failure> {
    let cfg = tenants::load_config()?;
    let find = |name: &str| {
        cfg.alerts()
            .routes
            .iter()
            .find(|r| r.name == name)
            .cloned()
            .ok_or_else(|| {
                Failure::usage(&vigil_core::Error::invalid_input(format!(
                    "no route named '{name}' in {}",
                    cfg.path().display()
                )))
            })
    };
    match command {
        RouteCommand::List => {
            for r in &cfg.alerts().routes {
                let scope = if r.tenants.is_empty() && r.tags.is_empty() {
                    "every tenant".to_owned()
                } else {
                    format!("tenants {:?} tags {:?}", r.tenants, r.tags)
                };
                say!(
                    "{}  {}  {}+  {}/min  {}{}",
                    r.name,
                    r.kind.as_str(),
                    r.min_severity.as_str(),
                    r.max_per_minute,
                    scope,
                    if r.enabled { "" } else { "  (off)" }
                );
            }
            Ok(())
        }
        RouteCommand::SetSecret { name, secret_stdin } => {
            let route = find(&name)?;
            let label = route.kind.secret_needed().unwrap_or("secret");
            let secret = tenants::read_secret(&name, label, secret_stdin)?;
            let s = store();
            vigil_core::task::blocking(move || s.set(&name, &secret))
                .await
                .map_err(|e| fail(&e))?;
            say!("stored in the keychain for route '{}'", route.name);
            Ok(())
        }
        RouteCommand::Test { name } => {
            let route = find(&name)?;
            vigil_core::routing::dispatch::send_test(&route, store())
                .await
                .map_err(|e| fail(&e))?;
            say!("route '{name}': test alert delivered");
            Ok(())
        }
        RouteCommand::Outbox { route, limit, json } => {
            let audit = vigil_core::audit::AuditLog::open_default().map_err(|e| fail(&e))?;
            let list = audit
                .deliveries(route.as_deref(), limit)
                .map_err(|e| fail(&e))?;
            if json {
                for d in &list {
                    println!("{}", serde_json::to_string(d).unwrap_or_default());
                }
            } else {
                for d in &list {
                    say!(
                        "{}  {}  alert {}  {:?}  {} attempts  {}",
                        d.id,
                        d.route,
                        d.alert_id.map_or("-".into(), |a| a.to_string()),
                        d.state,
                        d.attempts,
                        d.last_error.as_deref().unwrap_or("")
                    );
                }
            }
            Ok(())
        }
    }
}
