fn main() {
    // Every app command is listed here, so the capability file decides which window may
    // call which command (nothing is allowed by default). tauri-build reads the config
    // through the `src-tauri/tauri.conf.json` link to the root `tauri.conf.json`.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "query_sessions",
        "query_users",
        "session_facets",
        "session_refs",
        "export_sessions",
        "summary",
        "end_sessions",
        "act",
        "audit_entries",
        "session_history",
        "list_alerts",
        "acknowledge_alerts",
        "snooze_rule",
        "refresh",
        "app_status",
        "list_tenants",
        "connector_kinds",
        "save_tenant",
        "remove_tenant",
        "test_tenant",
        "get_settings",
        "save_settings",
        "set_paused",
        "diagnostics",
        "open_log_folder",
        "find_person",
        "contain_plan",
        "contain_person",
        "reenable_person",
        "list_policies",
        "policy_preview",
        "policy_run",
        "assign_account",
    ]);
    let attrs = tauri_build::Attributes::new().app_manifest(manifest);
    if let Err(e) = tauri_build::try_build(attrs) {
        println!("cargo::error=tauri-build failed: {e:#}");
    }
}
