//! Every app command is defined once, as a `#[tauri::command]` in `src/commands.rs`. This
//! script reads their names from there and writes what Tauri needs of them:
//! - the app manifest (`AppManifest::commands`), so Tauri denies every command by default
//!   and generates an `allow-<command>` permission for each;
//! - `$OUT_DIR/capabilities/main.json`, the main window's only grant: every command,
//!   listening to Vigil's events, and asking (not sending) whether notifications are
//!   allowed, which the notification plugin's start-up script does on every load;
//! - `$OUT_DIR/handler.rs`, the `generate_handler!` list `lib.rs` includes.
//!
//! tauri-build reads the config through the `src-tauri/tauri.conf.json` link to the root
//! `tauri.conf.json`.

use std::path::Path;

/// What the main window may call besides the app's own commands.
const EXTRA_PERMISSIONS: &[&str] = &[
    "core:event:allow-listen",
    "core:event:allow-unlisten",
    "notification:allow-is-permission-granted",
];

/// The names of the `#[tauri::command]` functions of `source`, in order.
fn command_names(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut attributed = false;
    for line in source.lines() {
        let line = line.trim();
        if line == "#[tauri::command]" {
            attributed = true;
            continue;
        }
        if attributed && !line.starts_with("#[") && !line.starts_with("///") {
            let name = line
                .split("fn ")
                .nth(1)
                .and_then(|rest| rest.split(['(', '<']).next())
                .map(str::trim)
                .filter(|n| !n.is_empty());
            match name {
                Some(n) => names.push(n.to_owned()),
                None => println!("cargo::error=#[tauri::command] not followed by a fn: {line}"),
            }
            attributed = false;
        }
    }
    names
}

fn main() {
    println!("cargo::rerun-if-changed=src/commands.rs");
    let source = match std::fs::read_to_string("src/commands.rs") {
        Ok(s) => s,
        Err(e) => {
            println!("cargo::error=cannot read src/commands.rs: {e}");
            return;
        }
    };
    let names = command_names(&source);
    let out = std::env::var("OUT_DIR").unwrap_or_default();
    let out = Path::new(&out);

    let handler = format!(
        "tauri::generate_handler![{}]\n",
        names
            .iter()
            .map(|n| format!("commands::{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut permissions: Vec<String> = EXTRA_PERMISSIONS.iter().map(|p| (*p).to_owned()).collect();
    permissions.extend(
        names
            .iter()
            .map(|n| format!("allow-{}", n.replace('_', "-"))),
    );
    let capability = serde_json::json!({
        "identifier": "main",
        "description": "What the main window may call: Vigil's own commands, listening to its events, and asking (not sending) whether notifications are allowed. Nothing else. Written by build.rs from src/commands.rs.",
        "windows": ["main"],
        "permissions": permissions,
    });
    let capabilities = out.join("capabilities");
    let written = std::fs::create_dir_all(&capabilities)
        .and_then(|()| std::fs::write(out.join("handler.rs"), handler))
        .and_then(|()| {
            std::fs::write(
                capabilities.join("main.json"),
                serde_json::to_string_pretty(&capability).unwrap_or_default(),
            )
        });
    if let Err(e) = written {
        println!("cargo::error=cannot write to {}: {e}", out.display());
        return;
    }

    // tauri-build keeps what it is given for the whole build: leaked once, on purpose.
    let commands: &'static [&'static str] = Box::leak(
        names
            .into_iter()
            .map(|n| &*Box::leak(n.into_boxed_str()))
            .collect::<Vec<&'static str>>()
            .into_boxed_slice(),
    );
    let pattern: &'static str =
        Box::leak(format!("{}/*.json", capabilities.display()).into_boxed_str());
    let manifest = tauri_build::AppManifest::new().commands(commands);
    let attrs = tauri_build::Attributes::new()
        .app_manifest(manifest)
        .capabilities_path_pattern(pattern);
    if let Err(e) = tauri_build::try_build(attrs) {
        println!("cargo::error=tauri-build failed: {e:#}");
    }
}
