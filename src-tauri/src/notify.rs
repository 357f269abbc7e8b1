//! Native notifications on Linux (freedesktop Notifications over D-Bus) with a default
//! action: clicking the notification opens the window on the alert's session. The
//! notification plugin cannot report clicks on Linux, so this speaks the protocol itself.

use std::sync::atomic::{AtomicUsize, Ordering};

use vigil_core::alerts::Alert;

/// Notifications whose click is still awaited (one thread each, until it closes).
static WAITING: AtomicUsize = AtomicUsize::new(0);
const MAX_WAITING: usize = 32;

/// Shows the notification; a thread waits for the click until the server closes it.
pub fn show(app: &tauri::AppHandle, title: &str, body: &str, alert: &Alert) -> Result<(), String> {
    let mut n = notify_rust::Notification::new();
    n.appname("Vigil")
        .summary(title)
        .body(body)
        .icon("vigil-app")
        .action("default", "Show");
    let handle = n.show().map_err(|e| e.to_string())?;
    if WAITING.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
        // Too many open already: this one shows, but its click opens nothing.
        WAITING.fetch_sub(1, Ordering::SeqCst);
        return Ok(());
    }
    let app = app.clone();
    let target = crate::OpenAlert {
        tenant: alert.tenant.clone(),
        session_id: alert.session_id.clone(),
    };
    let spawned = std::thread::Builder::new()
        .name("vigil-notification".into())
        .spawn(move || {
            handle.wait_for_action(|action| {
                if action == "default" {
                    tracing::info!(tenant = %target.tenant, "notification clicked");
                    crate::open_alert(&app, target);
                }
            });
            WAITING.fetch_sub(1, Ordering::SeqCst);
        });
    if spawned.is_err() {
        WAITING.fetch_sub(1, Ordering::SeqCst);
    }
    Ok(())
}
