//! Tauri commands: deserialize, validate, call the core, map the error. Nothing more.

use tauri::State;
use vigil_core::actions::ActionReport;
use vigil_core::alerts::{AlertFilter, Rule, StoredAlert};
use vigil_core::audit::{ActionKind, AuditEntry, AuditFilter, HistoryEntry};
use vigil_core::config::TenantConfig;
use vigil_core::connector::{self, KindInfo};
use vigil_core::contain::{self, ContainOptions, ContainPreview, ContainReport};
use vigil_core::export::{self, ExportFormat, ExportResult};
use vigil_core::model::{SessionRef, TenantCheck};
use vigil_core::people::{self, AccountName, Assignment, PeopleConfig, Person, PersonMatch};
use vigil_core::policy::{self, PolicyConfig, PolicyRun, Selection};
use vigil_core::settings::AppSettings;
use vigil_core::store::{
    Facets, MAX_WINDOW, SessionFilter, SessionPage, SessionQuery, SessionRefs, Summary, UserPage,
    UserQuery,
};
use vigil_core::{Error, ErrorPayload, SecretString};

use crate::state::{AppState, AppStatus, TenantView};

use vigil_core::actions::MAX_TARGETS;
/// Longest secret accepted from the window.
const MAX_SECRET: usize = 16 * 1024;

type Reply<T> = Result<T, ErrorPayload>;

#[tauri::command]
pub async fn query_sessions(state: State<'_, AppState>, query: SessionQuery) -> Reply<SessionPage> {
    if query.limit > MAX_WINDOW {
        return Err(
            Error::invalid_input(format!("limit {} exceeds {MAX_WINDOW}", query.limit)).into(),
        );
    }
    let store = state.engine.store().clone();
    on_store("query_sessions", move || store.query(&query)).await
}

/// Runs a store query off the async workers (it is CPU-bound over up to every session)
/// and logs how long it took; a slow one is a warning.
async fn on_store<T: Send + 'static>(
    name: &'static str,
    f: impl FnOnce() -> vigil_core::Result<T> + Send + 'static,
) -> Reply<T> {
    let started = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("{name} failed: {e}")))?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if ms > 100.0 {
        tracing::warn!(command = name, ms, "slow store query");
    } else {
        tracing::debug!(command = name, ms, "store query");
    }
    out.map_err(Into::into)
}

/// The per-user view: one row per user of a tenant, with their matching sessions counted.
#[tauri::command]
pub async fn query_users(state: State<'_, AppState>, query: UserQuery) -> Reply<UserPage> {
    if query.limit > MAX_WINDOW {
        return Err(
            Error::invalid_input(format!("limit {} exceeds {MAX_WINDOW}", query.limit)).into(),
        );
    }
    let store = state.engine.store().clone();
    on_store("query_users", move || store.query_users(&query)).await
}

/// The values the filter menus offer (tenants, session and login types).
#[tauri::command]
pub async fn session_facets(state: State<'_, AppState>) -> Reply<Facets> {
    let store = state.engine.store().clone();
    on_store("session_facets", move || Ok(store.facets())).await
}

/// "Select all filtered": the sessions matching `filter` as action targets (at most as
/// many as one action takes) and how many matched.
#[tauri::command]
pub async fn session_refs(state: State<'_, AppState>, filter: SessionFilter) -> Reply<SessionRefs> {
    let store = state.engine.store().clone();
    on_store("session_refs", move || store.refs(&filter, MAX_TARGETS)).await
}

/// Writes the filtered, sorted sessions (every row, not just the window) to a new file in
/// the Downloads folder.
#[tauri::command]
pub async fn export_sessions(
    state: State<'_, AppState>,
    query: SessionQuery,
    format: ExportFormat,
) -> Reply<ExportResult> {
    let store = state.engine.store().clone();
    on_store("export_sessions", move || {
        let page = store.query_all(&SessionQuery {
            offset: 0,
            limit: usize::MAX,
            ..query
        })?;
        export::write_file(
            &export::default_dir()?,
            format,
            &page.rows,
            chrono::Utc::now(),
        )
    })
    .await
}

#[tauri::command]
pub async fn summary(state: State<'_, AppState>) -> Reply<Summary> {
    let store = state.engine.store().clone();
    on_store("summary", move || Ok(store.summary())).await
}

#[tauri::command]
pub async fn end_sessions(
    state: State<'_, AppState>,
    targets: Vec<SessionRef>,
) -> Reply<ActionReport> {
    act(state, ActionKind::EndSession, targets).await
}

/// Any action; for user actions each target's `session_id` is the user id.
#[tauri::command]
pub async fn act(
    state: State<'_, AppState>,
    kind: ActionKind,
    targets: Vec<SessionRef>,
) -> Reply<ActionReport> {
    if targets.is_empty() || targets.len() > MAX_TARGETS {
        return Err(Error::invalid_input(format!(
            "between 1 and {MAX_TARGETS} targets per action"
        ))
        .into());
    }
    state.audit()?;
    Ok(state.engine.act(kind, targets).await)
}

#[tauri::command]
pub async fn audit_entries(
    state: State<'_, AppState>,
    filter: AuditFilter,
) -> Reply<Vec<AuditEntry>> {
    let audit = state.audit()?.clone();
    tokio::task::spawn_blocking(move || audit.entries(&filter))
        .await
        .map_err(|e| Error::internal(e.to_string()))?
        .map_err(Into::into)
}

#[tauri::command]
pub async fn list_alerts(
    state: State<'_, AppState>,
    filter: AlertFilter,
) -> Reply<Vec<StoredAlert>> {
    let audit = state.audit()?.clone();
    tokio::task::spawn_blocking(move || audit.alerts(&filter))
        .await
        .map_err(|e| Error::internal(e.to_string()))?
        .map_err(Into::into)
}

#[tauri::command]
pub async fn acknowledge_alerts(state: State<'_, AppState>, ids: Vec<i64>) -> Reply<()> {
    if ids.len() > MAX_TARGETS {
        return Err(Error::invalid_input("too many alerts at once").into());
    }
    let audit = state.audit()?.clone();
    tokio::task::spawn_blocking(move || audit.acknowledge_alerts(&ids))
        .await
        .map_err(|e| Error::internal(e.to_string()))?
        .map(|_| ())
        .map_err(Into::into)
}

#[tauri::command]
pub async fn snooze_rule(
    state: State<'_, AppState>,
    tenant: String,
    rule: Rule,
    minutes: u32,
) -> Reply<()> {
    if minutes > 60 * 24 * 30 {
        return Err(Error::invalid_input("snooze for at most 30 days").into());
    }
    state.engine.snooze(&tenant, rule, minutes);
    Ok(())
}

#[tauri::command]
pub async fn session_history(
    state: State<'_, AppState>,
    tenant: Option<String>,
    username: Option<String>,
) -> Reply<Vec<HistoryEntry>> {
    let audit = state.audit()?.clone();
    tokio::task::spawn_blocking(move || {
        audit.history(tenant.as_deref(), username.as_deref(), 5_000)
    })
    .await
    .map_err(|e| Error::internal(e.to_string()))?
    .map_err(Into::into)
}

#[tauri::command]
pub async fn refresh(state: State<'_, AppState>) -> Reply<()> {
    state.engine.refresh(None);
    Ok(())
}

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> Reply<AppStatus> {
    Ok(state.status().await)
}

#[tauri::command]
pub async fn list_tenants(state: State<'_, AppState>) -> Reply<Vec<TenantView>> {
    Ok(state.tenants().await)
}

#[tauri::command]
pub async fn connector_kinds() -> Reply<Vec<KindInfo>> {
    Ok(connector::kinds())
}

fn secret(s: Option<String>) -> Result<Option<SecretString>, ErrorPayload> {
    match s {
        Some(s) if s.len() > MAX_SECRET => {
            Err(Error::invalid_input("the secret is too long").into())
        }
        other => Ok(other.map(SecretString::new)),
    }
}

#[tauri::command]
pub async fn save_tenant(
    state: State<'_, AppState>,
    tenant: TenantConfig,
    secret: Option<String>,
    previous_name: Option<String>,
) -> Reply<TenantView> {
    let secret = self::secret(secret)?;
    state
        .save_tenant(tenant, secret, previous_name)
        .await
        .map_err(Into::into)
}

#[tauri::command]
pub async fn remove_tenant(state: State<'_, AppState>, name: String) -> Reply<()> {
    state.remove_tenant(&name).await.map_err(Into::into)
}

#[tauri::command]
pub async fn test_tenant(
    state: State<'_, AppState>,
    tenant: TenantConfig,
    secret: Option<String>,
) -> Reply<TenantCheck> {
    let secret = self::secret(secret)?;
    state.test_tenant(tenant, secret).await.map_err(Into::into)
}

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> Reply<AppSettings> {
    Ok(state.settings())
}

/// Stores the app's settings and applies them at once: start at login, history retention,
/// and (read where they are used) notifications, the tray and the theme.
#[tauri::command]
pub async fn save_settings(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    settings: AppSettings,
) -> Reply<AppSettings> {
    let before = state.settings();
    let stored = state.save_settings(settings).await?;
    if stored.history_retention_days < before.history_retention_days {
        state.prune_history().await;
    }
    if stored.start_at_login != before.start_at_login
        && let Err(e) = crate::set_start_at_login(&app, stored.start_at_login)
    {
        // Store what is true: the start at login that is still registered.
        let kept = AppSettings {
            start_at_login: before.start_at_login,
            ..stored
        };
        let _ = state.save_settings(kept).await;
        crate::emit_status(&app);
        return Err(Error::new(
            vigil_core::ErrorCode::Internal,
            format!("other settings saved, but start at login could not be changed: {e}"),
        )
        .into());
    }
    crate::emit_status(&app);
    Ok(stored)
}

/// Pauses or resumes polling of every tenant (also in the tray menu).
#[tauri::command]
pub async fn set_paused(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    paused: bool,
) -> Reply<()> {
    state.engine.set_paused(paused);
    crate::tray::sync_paused(&app, paused);
    crate::emit_status(&app);
    Ok(())
}

/// Text for a support ticket: versions, platform, tenants' kinds and health. No secrets,
/// no URLs, no user data.
#[tauri::command]
pub async fn diagnostics(app: tauri::AppHandle, state: State<'_, AppState>) -> Reply<String> {
    let status = state.status().await;
    let settings = state.settings();
    let summary = state.engine.store().summary();
    let mut out = String::new();
    use std::fmt::Write as _;
    let pkg = app.package_info();
    let _ = writeln!(out, "Vigil {} ({})", pkg.version, env!("CARGO_PKG_NAME"));
    let _ = writeln!(
        out,
        "platform: {} {} (tauri {}, webview {})",
        std::env::consts::OS,
        std::env::consts::ARCH,
        tauri::VERSION,
        tauri::webview_version().unwrap_or_else(|e| format!("unknown: {e}"))
    );
    let _ = writeln!(
        out,
        "config: {} ({})",
        status.config_path,
        match &status.config_error {
            Some(e) => format!("did not load: {:?}", e.code),
            None => "loaded".into(),
        }
    );
    let _ = writeln!(out, "logs: {}", status.log_dir);
    let _ = writeln!(
        out,
        "polling: {}; demo tenant: {}; audit log: {}",
        if status.paused { "paused" } else { "running" },
        if status.demo_running { "on" } else { "off" },
        if state.audit().is_ok() {
            "open"
        } else {
            "unavailable"
        }
    );
    let _ = writeln!(
        out,
        "settings: notifications {} (from {}), keep running in tray {}, start at login {}, history {} days, geoip {}",
        settings.notifications,
        settings.notify_min_severity.as_str(),
        settings.keep_running_in_tray,
        settings.start_at_login,
        settings.history_retention_days,
        if settings.geoip_database.is_empty() {
            "none"
        } else {
            "set"
        }
    );
    let _ = writeln!(out, "tenants: {}", summary.tenants.len());
    for (i, t) in summary.tenants.iter().enumerate() {
        let h = &t.health;
        let _ = writeln!(
            out,
            "  #{} {}: {} sessions, last poll {}, latency {}, {}",
            i + 1,
            h.kind.as_str(),
            t.counts.active_sessions,
            h.last_poll_at
                .map_or_else(|| "never".into(), |at| at.to_rfc3339()),
            h.latency_ms
                .map_or_else(|| "-".into(), |ms| format!("{ms} ms")),
            match &h.error {
                Some(e) => format!("error {:?}", e.code),
                None if h.stale => "stale".into(),
                None => "ok".into(),
            }
        );
    }
    Ok(out)
}

/// Opens the log folder in the OS file manager.
#[tauri::command]
pub async fn open_log_folder() -> Reply<()> {
    let dir =
        crate::logs::log_dir().ok_or_else(|| Error::internal("no log folder on this system"))?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::internal(format!("{}: {e}", dir.display())))?;
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(&dir)
        .spawn()
        .map(|_| ())
        .map_err(|e| {
            Error::internal(format!("cannot open {} with {opener}: {e}", dir.display())).into()
        })
}

/// Longest person query or key accepted from the window.
const MAX_QUERY: usize = 512;

fn check_query(q: &str) -> Reply<()> {
    if q.trim().is_empty() || q.len() > MAX_QUERY {
        return Err(
            Error::invalid_input(format!("a person query of 1 to {MAX_QUERY} bytes")).into(),
        );
    }
    Ok(())
}

/// The person a query names (an e-mail address, user name or display name), or the
/// people it may mean.
#[tauri::command]
pub async fn find_person(state: State<'_, AppState>, query: String) -> Reply<PersonMatch> {
    check_query(&query)?;
    let links = state.people().await;
    match people::find(
        &query,
        &links,
        state.engine.store(),
        &state.engine.connectors(),
    )
    .await
    {
        PersonMatch::Found { person } => Ok(PersonMatch::Found {
            person: recorded(&state, person).await,
        }),
        other => Ok(other),
    }
}

/// The person with their recent history and audited actions (without them when the
/// database cannot be read: the rest still helps).
async fn recorded(state: &AppState, person: Person) -> Person {
    let Ok(audit) = state.audit().cloned() else {
        return person;
    };
    let fallback = person.clone();
    match tokio::task::spawn_blocking(move || people::with_records(person, &audit)).await {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "a person's history could not be read");
            fallback
        }
        Err(e) => {
            tracing::warn!(error = %e, "a person's history could not be read");
            fallback
        }
    }
}

async fn person_by_key(state: &AppState, key: &str) -> Reply<Person> {
    check_query(key)?;
    let links = state.people().await;
    let p = people::person(
        key,
        &links,
        state.engine.store(),
        &state.engine.connectors(),
    )
    .await;
    if p.accounts.is_empty() {
        return Err(Error::new(
            vigil_core::ErrorCode::NotFound,
            format!("no account of {key:?} in any tenant"),
        )
        .into());
    }
    Ok(p)
}

/// The person and what containing them would do; nothing is sent.
#[tauri::command]
pub async fn contain_plan(
    state: State<'_, AppState>,
    key: String,
    options: ContainOptions,
) -> Reply<ContainPreview> {
    let person = person_by_key(&state, &key).await?;
    let plan = contain::plan(&state.engine, &person, options);
    let person = recorded(&state, person).await;
    Ok(ContainPreview { person, plan })
}

/// Contains the person everywhere (one audited action); returns once the polls have
/// confirmed it or a short wait has passed.
#[tauri::command]
pub async fn contain_person(
    state: State<'_, AppState>,
    key: String,
    options: ContainOptions,
) -> Reply<ContainReport> {
    state.audit()?;
    let person = person_by_key(&state, &key).await?;
    let plan = contain::plan(&state.engine, &person, options);
    Ok(contain::run(
        &state.engine,
        &person,
        plan,
        std::time::Duration::from_secs(15),
    )
    .await)
}

/// Re-enables the person's accounts everywhere.
#[tauri::command]
pub async fn reenable_person(state: State<'_, AppState>, key: String) -> Reply<ContainReport> {
    state.audit()?;
    let person = person_by_key(&state, &key).await?;
    Ok(contain::reenable(&state.engine, &person).await)
}

/// The policies of the config file.
#[tauri::command]
pub async fn list_policies(state: State<'_, AppState>) -> Reply<Vec<PolicyConfig>> {
    Ok(state.policies().await)
}

async fn selection(state: &AppState, policy: &PolicyConfig) -> Reply<Selection> {
    let p = policy.parse()?;
    let tags = state.tenant_tags().await;
    let scope = p.scope(tags.iter().map(|(n, t)| (n.as_str(), t.as_slice())));
    let links = state.people().await;
    Ok(policy::select(
        &p,
        &scope,
        state.engine.store(),
        &links,
        chrono::Utc::now(),
    ))
}

/// A policy's dry run: exactly what it would end now, and what it spares.
#[tauri::command]
pub async fn policy_preview(state: State<'_, AppState>, policy: PolicyConfig) -> Reply<Selection> {
    selection(&state, &policy).await
}

/// Runs a policy: ends what its dry run lists now, audited.
#[tauri::command]
pub async fn policy_run(state: State<'_, AppState>, policy: PolicyConfig) -> Reply<PolicyRun> {
    state.audit()?;
    let selection = selection(&state, &policy).await?;
    if selection.end.len() > MAX_TARGETS {
        return Err(Error::invalid_input(format!(
            "the policy would end {} sessions, more than {MAX_TARGETS} in one action: narrow it",
            selection.end.len()
        ))
        .into());
    }
    let report = policy::run(&state.engine, &selection).await;
    Ok(PolicyRun { selection, report })
}

/// Links an account to a person by hand, makes it its own person, or puts it back to
/// joining by address (kept in the config file).
#[tauri::command]
pub async fn assign_account(
    state: State<'_, AppState>,
    tenant: String,
    user: String,
    to: Assignment,
) -> Reply<PeopleConfig> {
    vigil_core::model::validate_tenant_name(&tenant)?;
    check_query(&user)?;
    if let Assignment::Person { person } = &to {
        check_query(person)?;
    }
    Ok(state
        .assign_account(AccountName { tenant, user }, to)
        .await?)
}

/// `[alerts]`: routes and tuning.
#[tauri::command]
pub async fn alerts_config(state: State<'_, AppState>) -> Reply<vigil_core::tuning::AlertsFile> {
    Ok(state.alerts_config().await)
}

/// Stores `[alerts]` and applies it at once.
#[tauri::command]
pub async fn save_alerts_config(
    state: State<'_, AppState>,
    alerts: vigil_core::tuning::AlertsFile,
) -> Reply<vigil_core::tuning::AlertsFile> {
    state.save_alerts_config(alerts).await.map_err(Into::into)
}

/// Stores a route's keychain secret (an empty one removes it).
#[tauri::command]
pub async fn set_route_secret(
    state: State<'_, AppState>,
    route: String,
    secret: Option<String>,
) -> Reply<()> {
    let secret = self::secret(secret)?;
    state
        .set_route_secret(route, secret)
        .await
        .map_err(Into::into)
}

/// The routes that have a secret in the keychain.
#[tauri::command]
pub async fn routes_with_secret(state: State<'_, AppState>) -> Reply<Vec<String>> {
    state.routes_with_secret().await.map_err(Into::into)
}

/// Sends a test alert on a route now.
#[tauri::command]
pub async fn test_route(
    state: State<'_, AppState>,
    route: vigil_core::routing::RouteConfig,
) -> Reply<()> {
    state.test_route(route).await.map_err(Into::into)
}

/// The shared audit store and how replication goes.
#[tauri::command]
pub async fn shared_audit(state: State<'_, AppState>) -> Reply<crate::state::SharedAuditView> {
    Ok(state.shared_audit_view().await)
}

/// Configures (or stops, with no config) the shared audit store.
#[tauri::command]
pub async fn save_shared_audit(
    state: State<'_, AppState>,
    config: Option<vigil_core::shared_audit::SharedAuditConfig>,
    password: Option<String>,
) -> Reply<crate::state::SharedAuditView> {
    let password = self::secret(password)?;
    state
        .save_shared_audit(config, password)
        .await
        .map_err(Into::into)
}

/// The whole team's audit events, newest first.
#[tauri::command]
pub async fn shared_audit_events(
    state: State<'_, AppState>,
    tenant: Option<String>,
    search: Option<String>,
) -> Reply<Vec<vigil_core::shared_audit::SharedEvent>> {
    state
        .shared_audit_events(tenant, search)
        .await
        .map_err(Into::into)
}

/// Recomputes the shared audit's hash chain.
#[tauri::command]
pub async fn verify_shared_audit(
    state: State<'_, AppState>,
) -> Reply<vigil_core::shared_audit::Verified> {
    state.verify_shared_audit().await.map_err(Into::into)
}
