//! The tray icon: the open-alert count, Show, Pause polling and Quit. Vigil keeps polling
//! here when its window is closed (unless the settings say otherwise).

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Wry};

use crate::state::AppState;

pub const ID: &str = "vigil";

/// What the tray shows and the menu item that must follow pauses made elsewhere.
pub struct Tray {
    pause: CheckMenuItem<Wry>,
    plain: Image<'static>,
    badged: Image<'static>,
    shown: std::sync::Mutex<Option<u64>>,
}

/// Creates the tray icon. An error means this desktop has no tray: the window then quits
/// the app when closed.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let show = MenuItem::with_id(app, "show", "Show Vigil", true, None::<&str>)?;
    let pause = CheckMenuItem::with_id(app, "pause", "Pause polling", true, false, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Vigil", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&show, &pause, &separator, &quit])?;
    let plain = app
        .default_window_icon()
        .map(|i| i.clone().to_owned())
        .ok_or_else(|| tauri::Error::AssetNotFound("the app icon".into()))?;
    let badged = with_badge(&plain);
    TrayIconBuilder::with_id(ID)
        .icon(plain.clone())
        .tooltip("Vigil")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" => show_main(app),
            "pause" => {
                if let Some(state) = app.try_state::<AppState>() {
                    let paused = !state.engine.is_paused();
                    state.engine.set_paused(paused);
                    sync_paused(app, paused);
                    crate::emit_status(app);
                }
            }
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_main(tray.app_handle());
            }
        })
        .build(app)?;
    app.manage(Tray {
        pause,
        plain,
        badged,
        shown: std::sync::Mutex::new(None),
    });
    Ok(())
}

/// Whether the tray icon exists (closing the window then keeps Vigil running).
pub fn exists(app: &AppHandle) -> bool {
    app.try_state::<Tray>().is_some()
}

/// Brings the main window back: shown, unminimised, focused.
pub fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// Keeps the tray's Pause item in step with a pause made from the window.
pub fn sync_paused(app: &AppHandle, paused: bool) {
    if let Some(t) = app.try_state::<Tray>() {
        let _ = t.pause.set_checked(paused);
    }
}

/// Shows the number of open alerts: in the tooltip, as the label beside the icon where the
/// desktop shows one, and as a red dot on the icon.
pub fn set_open_alerts(app: &AppHandle, open: u64) {
    let (Some(t), Some(icon)) = (app.try_state::<Tray>(), app.tray_by_id(ID)) else {
        return;
    };
    if let Ok(mut shown) = t.shown.lock() {
        if *shown == Some(open) {
            return;
        }
        *shown = Some(open);
    }
    let tooltip = match open {
        0 => "Vigil: no open alerts".to_string(),
        1 => "Vigil: 1 open alert".to_string(),
        n => format!("Vigil: {n} open alerts"),
    };
    let _ = icon.set_tooltip(Some(&tooltip));
    let _ = icon.set_title((open > 0).then(|| open.to_string()).as_deref());
    let _ = icon.set_icon(Some(if open > 0 {
        t.badged.clone()
    } else {
        t.plain.clone()
    }));
    tracing::debug!(open, "tray updated");
}

/// The icon with a red dot in its top-right corner.
fn with_badge(icon: &Image<'_>) -> Image<'static> {
    let (w, h) = (icon.width(), icon.height());
    let mut rgba = icon.rgba().to_vec();
    let r = f64::from(w.min(h)) * 0.22;
    let (cx, cy) = (f64::from(w) - r - 1.0, r + 1.0);
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (f64::from(x) + 0.5 - cx, f64::from(y) + 0.5 - cy);
            let d = (dx * dx + dy * dy).sqrt();
            if d <= r {
                let i = ((y * w + x) * 4) as usize;
                let px = if d >= r - 1.5 {
                    [255, 255, 255, 255]
                } else {
                    [220, 38, 38, 255]
                };
                if let Some(p) = rgba.get_mut(i..i + 4) {
                    p.copy_from_slice(&px);
                }
            }
        }
    }
    Image::new_owned(rgba, w, h)
}
