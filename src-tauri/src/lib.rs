//! The Vigil desktop shell: the only crate that depends on Tauri. It owns the async
//! runtime, starts the engine, exposes a handful of thin commands and forwards change
//! events to the window. All logic lives in vigil-core.

mod commands;
mod logs;
#[cfg(target_os = "linux")]
mod notify;
mod state;
mod tray;

use std::process::ExitCode;

use tauri::{Emitter, Manager};
use vigil_core::store::SessionsChanged;

/// Event telling the window that a tenant's rows or health changed. Carries no rows.
pub const SESSIONS_CHANGED: &str = "sessions://changed";

/// Event telling the window that the app's status (pause, settings) changed.
pub const STATUS_CHANGED: &str = "app://status";

/// Started with this argument (as at login), the window stays in the tray.
pub const HIDDEN_ARG: &str = "--hidden";

pub fn run() -> ExitCode {
    let _log_guard = logs::init();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Vigil starting");
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

    let hidden = std::env::args().any(|a| a == HIDDEN_ARG);
    let result = tauri::Builder::default()
        // First: a second launch hands over to the running Vigil, which shows its window.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            tracing::info!("second launch: showing the window");
            tray::show_main(app);
        }))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![HIDDEN_ARG]),
        ))
        .setup(move |app| {
            let settings = state::Settings::from_env()?;
            let app_state = handle.block_on(state::AppState::start(handle.clone(), settings))?;
            forward_changes(app.handle().clone(), &app_state, &handle);
            forward_alerts(app.handle().clone(), &app_state, &handle);
            app.manage(app_state);
            match tray::create(app.handle()) {
                Ok(()) => {
                    count_open_alerts(app.handle().clone(), &handle);
                    if hidden && let Some(w) = app.get_webview_window("main") {
                        let _ = w.hide();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "no tray icon; closing the window quits"),
            }
            prune_history_daily(app.handle().clone(), &handle);
            run_scheduled_policies(app.handle().clone(), &handle);
            #[cfg(target_os = "linux")]
            if let Some(w) = app.get_webview_window("main") {
                linux_webview(&w);
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::CloseRequested { api, .. } = event {
                let app = window.app_handle();
                let keep = app
                    .try_state::<state::AppState>()
                    .is_some_and(|s| s.settings().keep_running_in_tray);
                if window.label() == "main" && keep && tray::exists(app) {
                    api.prevent_close();
                    let _ = window.hide();
                    tracing::info!("window closed; still polling in the tray");
                }
            }
        })
        .invoke_handler(include!(concat!(env!("OUT_DIR"), "/handler.rs")))
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

/// Event asking the window to show an alert's session (a notification was clicked).
pub const OPEN_ALERT: &str = "alerts://open";

/// What the window opens when a notification is clicked.
#[derive(Clone, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct OpenAlert {
    pub tenant: String,
    pub session_id: Option<String>,
}

/// Brings the window back on an alert's session (or the tenant's alerts).
pub fn open_alert(app: &tauri::AppHandle, target: OpenAlert) {
    tray::show_main(app);
    if let Err(e) = app.emit(OPEN_ALERT, target) {
        tracing::warn!(error = %e, "cannot open the alert in the window");
    }
}

/// Delivers each new alert as a native notification (title: tenant and user; body:
/// why) and to the window.
fn forward_alerts(app: tauri::AppHandle, state: &state::AppState, rt: &tokio::runtime::Handle) {
    #[cfg(not(target_os = "linux"))]
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
            let settings = app
                .try_state::<state::AppState>()
                .map(|s| s.settings())
                .unwrap_or_default();
            let (title, body) = alert.notification();
            let notify = settings.notifications && alert.severity >= settings.notify_min_severity;
            if notify {
                #[cfg(target_os = "linux")]
                {
                    let (app, alert) = (app.clone(), alert.clone());
                    let shown = tokio::task::spawn_blocking(move || {
                        notify::show(&app, &title, &body, &alert)
                    })
                    .await;
                    if let Ok(Err(e)) = shown {
                        tracing::warn!(error = %e, "native notification failed");
                    }
                }
                #[cfg(not(target_os = "linux"))]
                if let Err(e) = app.notification().builder().title(title).body(body).show() {
                    tracing::warn!(error = %e, "native notification failed");
                }
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

/// Tells the window that the app's status changed (pause, settings).
pub fn emit_status(app: &tauri::AppHandle) {
    if let Err(e) = app.emit(STATUS_CHANGED, ()) {
        tracing::warn!(error = %e, "cannot notify the window");
    }
}

/// Registers or removes Vigil's start at login (started hidden, in the tray).
pub fn set_start_at_login(app: &tauri::AppHandle, on: bool) -> Result<(), String> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    #[cfg(target_os = "linux")]
    if on {
        // The entry goes to ~/.config/autostart, whose parent must exist already.
        if let Some(home) = dirs::home_dir() {
            std::fs::create_dir_all(home.join(".config").join("autostart"))
                .map_err(|e| format!("~/.config/autostart: {e}"))?;
        }
    }
    let result = if on {
        launcher.enable()
    } else {
        launcher.disable()
    };
    result.map_err(|e| e.to_string())?;
    tracing::info!(on, "start at login changed");
    Ok(())
}

/// Keeps the tray's open-alert count current: after each alert, and every few seconds
/// (acknowledgements happen in the window).
fn count_open_alerts(app: tauri::AppHandle, rt: &tokio::runtime::Handle) {
    let Some(state) = app.try_state::<state::AppState>() else {
        return;
    };
    let Some(audit) = state.engine.audit().cloned() else {
        return;
    };
    let mut alerts = state.engine.subscribe_alerts();
    rt.spawn(async move {
        loop {
            let audit = audit.clone();
            match tokio::task::spawn_blocking(move || audit.open_alert_count()).await {
                Ok(Ok(n)) => tray::set_open_alerts(&app, n),
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot count open alerts"),
                Err(_) => return,
            }
            tokio::select! {
                r = alerts.recv() => {
                    if matches!(r, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                        return;
                    }
                    // Let the alert reach the database first.
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                () = tokio::time::sleep(std::time::Duration::from_secs(3)) => {}
            }
        }
    });
}

/// Prunes session history past the retention setting now and then once a day.
/// Runs the config file's scheduled policies (`every`) when they are due; each run is
/// audited like any action and logged.
fn run_scheduled_policies(app: tauri::AppHandle, rt: &tokio::runtime::Handle) {
    rt.spawn(async move {
        let mut schedule = vigil_core::policy::Schedule::default();
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            let Some(state) = app.try_state::<state::AppState>() else {
                continue;
            };
            let policies = state.policy_scopes().await;
            if policies.is_empty() || state.audit().is_err() {
                continue;
            }
            let links = state.people().await;
            for run in schedule.tick(&state.engine, &policies, &links).await {
                tracing::info!(
                    policy = %run.selection.policy,
                    ended = run.report.items.iter().filter(|i| i.ok).count(),
                    failed = run.report.failed(),
                    action = %run.report.action_id,
                    "scheduled policy ran"
                );
            }
        }
    });
}

fn prune_history_daily(app: tauri::AppHandle, rt: &tokio::runtime::Handle) {
    rt.spawn(async move {
        loop {
            if let Some(state) = app.try_state::<state::AppState>() {
                state.prune_history().await;
            }
            tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)).await;
        }
    });
}

/// WebKitGTK settings. Without a GPU (no DRI render node: virtual machines, remote
/// desktops) WebKit composites every frame with software OpenGL, which costs a core for
/// a countdown ticking in the table; painting only what changed is far cheaper there.
/// `VIGIL_WEBVIEW_ACCELERATION=on|off` overrides the choice.
///
/// `VIGIL_WEBVIEW_CONSOLE=1`: the window's console messages go to standard output, for
/// diagnosing the UI where no developer tools are at hand (a headless run).
#[cfg(target_os = "linux")]
fn linux_webview(w: &tauri::WebviewWindow) {
    let accelerate = match std::env::var("VIGIL_WEBVIEW_ACCELERATION").as_deref() {
        Ok("on") => true,
        Ok("off") => false,
        _ => has_render_node(),
    };
    let console = std::env::var_os("VIGIL_WEBVIEW_CONSOLE").is_some();
    tracing::info!(accelerate, "webview rendering");
    let _ = w.with_webview(move |pv| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
        if let Some(s) = pv.inner().settings() {
            if !accelerate {
                s.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
            if console {
                s.set_enable_write_console_messages_to_stdout(true);
            }
        }
    });
}

/// Whether a GPU render node exists (`/dev/dri/renderD*`).
#[cfg(target_os = "linux")]
fn has_render_node() -> bool {
    std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}
