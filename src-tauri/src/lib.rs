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
        .plugin(tauri_plugin_notification::init())
        .setup(move |app| {
            let settings = state::Settings::from_env()?;
            let app_state = handle.block_on(state::AppState::start(handle.clone(), settings))?;
            forward_changes(app.handle().clone(), &app_state, &handle);
            forward_alerts(app.handle().clone(), &app_state, &handle);
            app.manage(app_state);
            // VIGIL_WEBVIEW_CONSOLE=1: the window's console messages go to standard output,
            // for diagnosing the UI where no developer tools are at hand (a headless run).
            #[cfg(target_os = "linux")]
            if std::env::var_os("VIGIL_WEBVIEW_CONSOLE").is_some() {
                use tauri::Manager;
                if let Some(w) = app.get_webview_window("main") {
                    let _ = w.with_webview(|pv| {
                        use webkit2gtk::{SettingsExt, WebViewExt};
                        if let Some(s) = pv.inner().settings() {
                            s.set_enable_write_console_messages_to_stdout(true);
                        }
                    });
                }
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::query_sessions,
            commands::query_users,
            commands::session_facets,
            commands::session_refs,
            commands::export_sessions,
            commands::summary,
            commands::end_sessions,
            commands::act,
            commands::audit_entries,
            commands::session_history,
            commands::list_alerts,
            commands::acknowledge_alerts,
            commands::snooze_rule,
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

/// Event carrying a new alert to the window (the alert centre).
pub const ALERT: &str = "alerts://new";

/// Delivers each new alert as a native notification (title: tenant and user; body:
/// why) and to the window.
fn forward_alerts(app: tauri::AppHandle, state: &state::AppState, rt: &tokio::runtime::Handle) {
    use tauri_plugin_notification::NotificationExt;
    let mut rx = state.engine.subscribe_alerts();
    rt.spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            let alert = match rx.recv().await {
                Ok(a) => a,
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "alerts dropped before delivery");
                    continue;
                }
                Err(RecvError::Closed) => return,
            };
            let title = match &alert.username {
                Some(user) => format!("{}: {user}", alert.tenant),
                None => format!("{}: {} alerts", alert.tenant, alert.count),
            };
            if let Err(e) = app
                .notification()
                .builder()
                .title(title)
                .body(&alert.message)
                .show()
            {
                tracing::warn!(error = %e, "native notification failed");
            }
            if let Err(e) = app.emit(ALERT, &alert) {
                tracing::warn!(error = %e, "cannot send the alert to the window");
            }
        }
    });
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
