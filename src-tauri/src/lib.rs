//! The Vigil desktop shell: the only crate that depends on Tauri. It owns the async
//! runtime, starts the engine, exposes a handful of thin commands and forwards change
//! events to the window. All logic lives in vigil-core.

mod commands;
mod state;

use std::process::ExitCode;

use tauri::{Emitter, Manager};
use vigil_core::store::SessionsChanged;

/// Event telling the window that a tenant's rows or health changed. Carries no rows.
pub const SESSIONS_CHANGED: &str = "sessions://changed";

pub fn run() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("vigil-rt")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vigil: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    tauri::async_runtime::set(runtime.handle().clone());
    let handle = runtime.handle().clone();

    let result = tauri::Builder::default()
        .setup(move |app| {
            let settings = state::Settings::from_env()?;
            let app_state = handle.block_on(state::AppState::start(handle.clone(), settings))?;
            forward_changes(app.handle().clone(), &app_state, &handle);
            app.manage(app_state);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::query_sessions,
            commands::summary,
            commands::end_sessions,
            commands::act,
            commands::audit_entries,
            commands::session_history,
            commands::refresh,
            commands::app_status,
            commands::list_tenants,
            commands::connector_kinds,
            commands::save_tenant,
            commands::remove_tenant,
            commands::test_tenant,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vigil: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Forwards store change notifications to the window, coalescing bursts: at most one
/// event per tenant every 250 ms, so 200 tenants polling cannot flood the webview.
fn forward_changes(app: tauri::AppHandle, state: &state::AppState, rt: &tokio::runtime::Handle) {
    let mut rx = state.engine.store().subscribe();
    rt.spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        let mut pending: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
        loop {
            tokio::select! {
                msg = rx.recv() => match msg {
                    Ok(SessionsChanged { tenant, version }) => { pending.insert(tenant, version); }
                    Err(RecvError::Lagged(_)) => { pending.insert(String::new(), 0); }
                    Err(RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    for (tenant, version) in std::mem::take(&mut pending) {
                        if let Err(e) = app.emit(SESSIONS_CHANGED, SessionsChanged { tenant, version }) {
                            tracing::warn!(error = %e, "cannot notify the window");
                        }
                    }
                }
            }
        }
    });
}
