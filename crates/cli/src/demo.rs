//! `vigil demo serve`: the demo tenant until interrupted.

use std::io::Write;
use std::net::SocketAddr;

use clap::{Args, Subcommand};
use vigil_core::Error;

use crate::Failure;

#[derive(Subcommand)]
pub(crate) enum DemoCommand {
    /// Serve the demo tenant until interrupted. Prints `listening on http://ADDR` first.
    Serve(ServeArgs),
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) addr: SocketAddr,
    /// Sessions at start (the population lives around this size).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(0..=2_000_000))]
    pub(crate) sessions: u32,
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
    /// Bearer token clients must send; random (and printed to stderr) if absent.
    #[arg(long, env = "VIGIL_DEMO_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// The tenant's IANA timezone (drives the working-day curve).
    #[arg(long, default_value = "Europe/Berlin")]
    pub(crate) timezone: String,
    /// Seconds between population changes; 0 freezes the population.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) tick: f64,
    /// Milliseconds added to every request (a slow or distant tenant).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub(crate) latency_ms: u64,
    /// Allow `PUT /demo/v1/fault {"fault": "timeout"}` (and the other faults) to make
    /// the tenant misbehave, for trying out a broken tenant.
    #[arg(long)]
    pub(crate) faults: bool,
    /// Start misbehaving at once with this fault (implies --faults): timeout,
    /// endless_pages, gzip_bomb, hostile_text … (see the README's reliability table).
    #[arg(long, value_name = "FAULT")]
    pub(crate) fault: Option<String>,
}

pub(crate) async fn demo_serve(args: ServeArgs) -> Result<(), Failure> {
    let ServeArgs {
        addr,
        sessions,
        seed,
        token,
        timezone: tz,
        tick,
        latency_ms,
        faults,
        fault,
    } = args;
    let fault: Option<vigil_demo::faults::Fault> = fault
        .map(|f| {
            serde_json::from_value(serde_json::Value::String(f.clone())).map_err(|_| {
                Failure::usage(&Error::invalid_input(format!(
                    "--fault {f:?}: not a fault of the demo tenant"
                )))
            })
        })
        .transpose()?;
    let sessions = sessions as usize;
    let latency = std::time::Duration::from_millis(latency_ms);
    let tz = tz.as_str();
    if !(tick == 0.0 || (0.01..=86_400.0).contains(&tick)) {
        return Err(Failure::usage(&Error::invalid_input(
            "--tick must be 0 or between 0.01 and 86400 seconds",
        )));
    }
    // A frozen population still "ticks", once a century.
    let tick = std::time::Duration::from_secs_f64(if tick == 0.0 { 3.15e9 } else { tick });
    let timezone: chrono_tz::Tz = tz.parse().map_err(|_| {
        Failure::usage(&Error::invalid_input(format!(
            "unknown timezone {tz:?} (use an IANA name such as Europe/Berlin)"
        )))
    })?;
    let generated = token.is_none();
    let token = token.unwrap_or_else(vigil_demo::random_token);
    if token.is_empty() {
        return Err(Failure::usage(&Error::invalid_input(
            "--token must not be empty",
        )));
    }
    let config = vigil_demo::DemoConfig {
        sessions,
        seed,
        token: token.clone(),
        timezone,
        tick,
        latency,
        faults: (faults || fault.is_some())
            .then(|| std::sync::Arc::new(std::sync::Mutex::new(fault))),
        ..Default::default()
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure {
            code: 1,
            message: format!("cannot listen on {addr}: {e}"),
        })?;
    let local = listener.local_addr().map_err(|e| Failure {
        code: 1,
        message: format!("cannot listen on {addr}: {e}"),
    })?;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on http://{local}");
    let _ = out.flush();
    if generated {
        complain!("demo token (pass --token to choose one): {token}");
    }
    let cancel = tokio_util::sync::CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        on_signal.cancel();
    });
    vigil_demo::serve(listener, config, cancel)
        .await
        .map_err(|e| Failure {
            code: 1,
            message: format!("demo server failed: {e}"),
        })
}
