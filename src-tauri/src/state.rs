//! What the app holds while it runs: the engine, the configuration file, the keychain
//! and, when wanted, the built-in demo tenant.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use ts_rs::TS;
use vigil_core::config::{ConfigFile, TenantConfig};
use vigil_core::connector::vigil::VigilConnector;
use vigil_core::model::{ConnectorKind, TenantSpec};
use vigil_core::secrets::{KeyringStore, SecretStore};
use vigil_core::settings::AppSettings;
use vigil_core::store::{Counts, TenantHealth};
use vigil_core::{Engine, Error, ErrorCode, ErrorPayload, Result, SecretString};
use vigil_demo::RunningDemo;

/// Start-up settings (environment overrides; the settings screen comes later).
pub struct Settings {
    pub demo_sessions: usize,
    pub demo_poll_interval: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self> {
        Ok(Self {
            demo_sessions: env_number("VIGIL_DEMO_SESSIONS", 2_000)?,
            demo_poll_interval: Duration::from_millis(
                env_number("VIGIL_POLL_INTERVAL_MS", 2_000)?.max(100) as u64,
            ),
        })
    }
}

fn env_number(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| Error::config(format!("{name} must be a whole number, not {v:?}"))),
        Err(_) => Ok(default),
    }
}

/// A tenant as the Tenants screen shows it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TenantView {
    pub config: TenantConfig,
    /// The built-in demo tenant: not editable, not removable.
    pub builtin: bool,
    pub health: Option<TenantHealth>,
    pub counts: Option<Counts>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AppStatus {
    pub config_path: String,
    /// Set when the configuration file did not load; Vigil then leaves it untouched.
    pub config_error: Option<ErrorPayload>,
    pub demo_running: bool,
    /// Polling is paused (from the tray); a Refresh still polls once.
    pub paused: bool,
    /// Where the app writes its logs.
    pub log_dir: String,
}

enum Config {
    Loaded(Box<ConfigFile>),
    Broken { path: PathBuf, error: Error },
}

struct Demo {
    _server: RunningDemo,
    config: TenantConfig,
}

pub struct AppState {
    pub engine: Engine,
    /// Why the audit log could not be opened; actions are refused while it is set.
    audit_error: Option<Error>,
    secrets: Arc<dyn SecretStore>,
    config: Mutex<Config>,
    demo: Option<Demo>,
    /// The `[app]` settings as last loaded or saved; read without waiting (tray, alerts).
    settings: std::sync::RwLock<AppSettings>,
}

/// How often the app sends new audit events to the shared store.
const SHARED_AUDIT_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

async fn shared_audit_password() -> Option<vigil_core::SecretString> {
    vigil_core::task::blocking(|| {
        KeyringStore::new(vigil_core::shared_audit::SECRET_SERVICE)
            .get(vigil_core::shared_audit::SECRET_ACCOUNT)
    })
    .await
    .unwrap_or_else(|e| {
        tracing::warn!(error = %e, "shared audit password not read from the keychain");
        None
    })
}

/// The shared audit store as the window shows it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SharedAuditView {
    pub config: Option<vigil_core::shared_audit::SharedAuditConfig>,
    pub status: Option<vigil_core::shared_audit::ReplicaStatus>,
}

impl AppState {
    pub async fn start(rt: tokio::runtime::Handle, settings: Settings) -> Result<Self> {
        let (audit, audit_error) = match vigil_core::audit::AuditLog::open_default() {
            Ok(a) => (Some(a), None),
            Err(e) => {
                tracing::error!(error = %e, "the audit log cannot be opened; actions are disabled");
                (None, Some(e))
            }
        };
        let engine = Engine::with_audit(rt, audit, &vigil_core::audit::operator());
        let secrets: Arc<dyn SecretStore> = Arc::new(KeyringStore::default());
        let dir = vigil_core::config::config_dir()?;
        let config = match ConfigFile::load(&dir) {
            Ok(c) => Config::Loaded(Box::new(c)),
            Err(error) => {
                tracing::error!(%error, "configuration file did not load; it is left untouched");
                Config::Broken {
                    path: dir.join(vigil_core::config::FILE_NAME),
                    error,
                }
            }
        };
        let app_settings = match &config {
            Config::Loaded(c) => c.settings().clone(),
            Config::Broken { .. } => AppSettings::default(),
        };
        if !app_settings.geoip_database.is_empty() {
            match open_geoip(&app_settings.geoip_database).await {
                Ok(g) => engine.set_geoip(g),
                Err(e) => tracing::warn!(error = %e, "GeoIP database not used"),
            }
        }
        let (want_demo, tenants, alerts) = match &config {
            Config::Loaded(c) => (c.demo_tenant(), c.tenants().to_vec(), c.alerts().clone()),
            Config::Broken { .. } => (true, Vec::new(), Default::default()),
        };
        vigil_core::tenants::start_all(&engine, &alerts, &tenants, Arc::clone(&secrets)).await;
        if let Config::Loaded(c) = &config {
            engine.set_routes(c.routes());
            if let Some(shared) = c.shared_audit().cloned() {
                // Every action's events go to the team's shared audit too; when it is
                // down they wait in the local audit.
                let password = shared_audit_password().await;
                engine.set_shared_audit(Some((shared, password)), SHARED_AUDIT_EVERY);
            }
        }
        engine.start_dispatcher(
            Arc::new(KeyringStore::new(vigil_core::routing::SECRET_SERVICE)),
            vigil_core::routing::dispatch::RETRY_BASE,
        );
        let demo = if want_demo {
            let name = if tenants.iter().any(|t| t.name == "demo") {
                "demo-builtin"
            } else {
                "demo"
            };
            Some(start_demo(&engine, name, &settings).await?)
        } else {
            None
        };
        Ok(Self {
            engine,
            audit_error,
            secrets,
            config: Mutex::new(config),
            demo,
            settings: std::sync::RwLock::new(app_settings),
        })
    }

    /// The `[people]` links of the config file.
    pub async fn people(&self) -> vigil_core::people::PeopleConfig {
        match &*self.config.lock().await {
            Config::Loaded(c) => c.people().clone(),
            Config::Broken { .. } => Default::default(),
        }
    }

    /// Puts an account with a person by hand (or back to automatic), in the file.
    pub async fn assign_account(
        &self,
        account: vigil_core::people::AccountName,
        to: vigil_core::people::Assignment,
    ) -> Result<vigil_core::people::PeopleConfig> {
        let mut guard = self.config.lock().await;
        let Config::Loaded(cfg) = &mut *guard else {
            return Err(Error::config(
                "the configuration file did not load; fix it and restart Vigil (it was left untouched)",
            ));
        };
        let book = self.book(cfg);
        let next = vigil_core::task::blocking(move || {
            book.update(|c| c.set_people(c.people().clone().assign(account, &to)))
        })
        .await?;
        let people = next.people().clone();
        **cfg = next;
        Ok(people)
    }

    /// `[alerts]` of the config file: routes and tuning.
    pub async fn alerts_config(&self) -> vigil_core::tuning::AlertsFile {
        match &*self.config.lock().await {
            Config::Loaded(c) => c.alerts().clone(),
            Config::Broken { .. } => Default::default(),
        }
    }

    /// Checks and stores `[alerts]`, and applies it at once (routes, every tenant's
    /// tuning).
    pub async fn save_alerts_config(
        &self,
        alerts: vigil_core::tuning::AlertsFile,
    ) -> Result<vigil_core::tuning::AlertsFile> {
        let mut guard = self.config.lock().await;
        let Config::Loaded(cfg) = &mut *guard else {
            return Err(Error::config(
                "the configuration file did not load; fix it and restart Vigil (it was left untouched)",
            ));
        };
        let book = self.book(cfg);
        let next =
            vigil_core::task::blocking(move || book.update(|c| c.set_alerts(alerts))).await?;
        vigil_core::tenants::apply_alerts(&self.engine, &next);
        let stored = next.alerts().clone();
        **cfg = next;
        tracing::info!(
            routes = stored.routes.len(),
            "alert routes and tuning saved"
        );
        Ok(stored)
    }

    fn route_secrets() -> Arc<dyn SecretStore> {
        Arc::new(KeyringStore::new(vigil_core::routing::SECRET_SERVICE))
    }

    /// Stores (or, empty, removes) a route's keychain secret.
    pub async fn set_route_secret(
        &self,
        route: String,
        secret: Option<SecretString>,
    ) -> Result<()> {
        let store = Self::route_secrets();
        vigil_core::task::blocking(move || match secret {
            Some(s) => store.set(&route, &s),
            None => store.delete(&route),
        })
        .await
    }

    /// The names of the configured routes that have a secret in the keychain.
    pub async fn routes_with_secret(&self) -> Result<Vec<String>> {
        let names: Vec<String> = self
            .alerts_config()
            .await
            .routes
            .into_iter()
            .map(|r| r.name)
            .collect();
        let store = Self::route_secrets();
        vigil_core::task::blocking(move || {
            let mut with = Vec::new();
            for n in names {
                if store.get(&n)?.is_some() {
                    with.push(n);
                }
            }
            Ok(with)
        })
        .await
    }

    /// Sends a test alert on a route (saved or not) with its stored secret.
    pub async fn test_route(&self, route: vigil_core::routing::RouteConfig) -> Result<()> {
        vigil_core::routing::dispatch::send_test(&route, Self::route_secrets()).await
    }

    /// The shared audit store of the config file and how replication goes.
    pub async fn shared_audit_view(&self) -> SharedAuditView {
        let config = match &*self.config.lock().await {
            Config::Loaded(c) => c.shared_audit().cloned(),
            Config::Broken { .. } => None,
        };
        let status = self.engine.shared_audit().map(|(_, s)| s);
        SharedAuditView { config, status }
    }

    /// Configures (or, with `None`, stops) the shared audit store: the connection is
    /// tried with the password (typed, else the stored one) before anything is kept;
    /// then keychain, file, and the replicator.
    pub async fn save_shared_audit(
        &self,
        config: Option<vigil_core::shared_audit::SharedAuditConfig>,
        password: Option<SecretString>,
    ) -> Result<SharedAuditView> {
        use vigil_core::shared_audit::{SECRET_ACCOUNT, SECRET_SERVICE};
        let password = match (&config, password) {
            (Some(c), typed) => {
                c.validate()?;
                let pw = match typed {
                    Some(p) => Some(p),
                    None => shared_audit_password().await,
                };
                vigil_core::shared_audit::connect(c, pw.as_ref()).await?;
                pw
            }
            (None, _) => None,
        };
        {
            let mut guard = self.config.lock().await;
            let Config::Loaded(cfg) = &mut *guard else {
                return Err(Error::config(
                    "the configuration file did not load; fix it and restart Vigil (it was left untouched)",
                ));
            };
            let book = self.book(cfg);
            let (c, pw) = (config.clone(), password.clone());
            let next = vigil_core::task::blocking(move || {
                let store = KeyringStore::new(SECRET_SERVICE);
                match &pw {
                    Some(p) => store.set(SECRET_ACCOUNT, p)?,
                    None => store.delete(SECRET_ACCOUNT)?,
                }
                book.update(|f| f.set_shared_audit(c))
            })
            .await?;
            **cfg = next;
        }
        self.engine
            .set_shared_audit(config.map(|c| (c, password)), SHARED_AUDIT_EVERY);
        Ok(self.shared_audit_view().await)
    }

    async fn shared_client(&self) -> Result<tokio_postgres::Client> {
        let config = self.shared_audit_view().await.config.ok_or_else(|| {
            Error::config("no shared audit store is configured (Settings → Team audit)")
        })?;
        vigil_core::shared_audit::connect(&config, shared_audit_password().await.as_ref()).await
    }

    /// The whole team's audit events, newest first.
    pub async fn shared_audit_events(
        &self,
        tenant: Option<String>,
        search: Option<String>,
    ) -> Result<Vec<vigil_core::shared_audit::SharedEvent>> {
        let c = self.shared_client().await?;
        vigil_core::shared_audit::list(&c, tenant.as_deref(), search.as_deref(), 5_000).await
    }

    /// Recomputes the shared audit's hash chain.
    pub async fn verify_shared_audit(&self) -> Result<vigil_core::shared_audit::Verified> {
        let c = self.shared_client().await?;
        vigil_core::shared_audit::verify(&c).await
    }

    /// The `[[policies]]` of the config file.
    pub async fn policies(&self) -> Vec<vigil_core::policy::PolicyConfig> {
        match &*self.config.lock().await {
            Config::Loaded(c) => c.policies().to_vec(),
            Config::Broken { .. } => Vec::new(),
        }
    }

    /// The config file's policies, each with the running tenants it applies to.
    pub async fn policy_scopes(
        &self,
    ) -> Vec<(
        vigil_core::policy::Policy,
        std::collections::BTreeSet<String>,
    )> {
        let tags = self.tenant_tags().await;
        self.policies()
            .await
            .iter()
            .filter_map(|p| p.parse().ok())
            .map(|p| {
                let scope = p.scope(tags.iter().map(|(n, t)| (n.as_str(), t.as_slice())));
                (p, scope)
            })
            .collect()
    }

    /// Every running tenant with its tags (a tenant not in the file, such as the
    /// built-in demo, has none): what a policy's scope is chosen from.
    pub async fn tenant_tags(&self) -> Vec<(String, Vec<String>)> {
        let configured: Vec<(String, Vec<String>)> = match &*self.config.lock().await {
            Config::Loaded(c) => c
                .tenants()
                .iter()
                .map(|t| (t.name.clone(), t.tags.clone()))
                .collect(),
            Config::Broken { .. } => Vec::new(),
        };
        let mut all = configured;
        for name in self.engine.connectors().into_keys() {
            if !all.iter().any(|(n, _)| *n == name) {
                all.push((name, Vec::new()));
            }
        }
        all
    }

    /// The app's settings as they stand.
    pub fn settings(&self) -> AppSettings {
        self.settings.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Checks and stores the app's settings; they apply at once. Returns what was stored.
    pub async fn save_settings(&self, settings: AppSettings) -> Result<AppSettings> {
        let mut guard = self.config.lock().await;
        let Config::Loaded(cfg) = &mut *guard else {
            return Err(Error::config(
                "the configuration file did not load; fix it and restart Vigil (it was left untouched)",
            ));
        };
        // A database that cannot be read is refused before anything is written.
        let geoip = open_geoip(&settings.clone().normalized().geoip_database).await?;
        let book = self.book(cfg);
        let next =
            vigil_core::task::blocking(move || book.update(|c| c.set_settings(settings))).await?;
        let stored = next.settings().clone();
        **cfg = next;
        drop(guard);
        self.engine.set_geoip(geoip);
        if let Ok(mut s) = self.settings.write() {
            *s = stored.clone();
        }
        tracing::info!("settings saved");
        Ok(stored)
    }

    /// Drops session history older than the retention setting.
    pub async fn prune_history(&self) {
        let retention = self.settings().history_retention_days;
        let Some(audit) = self.engine.audit().cloned() else {
            return;
        };
        let before = chrono::Utc::now() - chrono::Duration::days(i64::from(retention));
        match tokio::task::spawn_blocking(move || audit.prune_history(before)).await {
            Ok(Ok(n)) if n > 0 => tracing::info!(pruned = n, retention, "session history pruned"),
            Ok(Err(e)) => tracing::warn!(error = %e, "session history could not be pruned"),
            _ => {}
        }
    }

    /// The audit log, or why actions are refused.
    pub fn audit(&self) -> Result<&vigil_core::audit::AuditLog> {
        match (self.engine.audit(), &self.audit_error) {
            (Some(a), _) => Ok(a),
            (None, Some(e)) => Err(e
                .clone()
                .context("actions are disabled because the audit log cannot be written")),
            (None, None) => Err(Error::internal("no audit log")),
        }
    }

    fn is_builtin(&self, name: &str) -> bool {
        self.demo.as_ref().is_some_and(|d| d.config.name == name)
    }

    pub async fn status(&self) -> AppStatus {
        let (path, error) = match &*self.config.lock().await {
            Config::Loaded(c) => (c.path().to_path_buf(), None),
            Config::Broken { path, error } => (path.clone(), Some(error.payload())),
        };
        AppStatus {
            config_path: path.display().to_string(),
            config_error: error,
            demo_running: self.demo.is_some(),
            paused: self.engine.is_paused(),
            log_dir: crate::logs::log_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        }
    }

    pub async fn tenants(&self) -> Vec<TenantView> {
        let summary = self.engine.store().summary();
        let find = |name: &str| {
            summary
                .tenants
                .iter()
                .find(|t| t.health.tenant == name)
                .cloned()
        };
        let mut configs: Vec<(TenantConfig, bool)> = match &*self.config.lock().await {
            Config::Loaded(c) => c.tenants().iter().map(|t| (t.clone(), false)).collect(),
            Config::Broken { .. } => Vec::new(),
        };
        if let Some(d) = &self.demo {
            configs.push((d.config.clone(), true));
        }
        configs
            .into_iter()
            .map(|(config, builtin)| {
                let s = find(&config.name);
                TenantView {
                    health: s.as_ref().map(|s| s.health.clone()),
                    counts: s.map(|s| s.counts),
                    config,
                    builtin,
                }
            })
            .collect()
    }

    /// Adds (`previous == None`) or edits a tenant: keychain first, then the file, then
    /// the running engine. A failure part-way leaves the file as it was.
    pub async fn save_tenant(
        &self,
        tenant: TenantConfig,
        secret: Option<SecretString>,
        previous: Option<String>,
    ) -> Result<TenantView> {
        tenant.validate()?;
        if self.is_builtin(&tenant.name) || previous.as_deref().is_some_and(|p| self.is_builtin(p))
        {
            return Err(Error::new(
                ErrorCode::Conflict,
                "the built-in demo tenant cannot be edited; choose another name",
            ));
        }
        let mut guard = self.config.lock().await;
        let Config::Loaded(cfg) = &mut *guard else {
            return Err(Error::config(
                "the configuration file did not load; fix it and restart Vigil (it was left untouched)",
            ));
        };
        // The core's one tenant-editing path: under the config lock, re-read, keychain
        // first, file second, rolled back together.
        let book = self.book(cfg);
        let (t, prev) = (tenant.clone(), previous.clone());
        let next =
            vigil_core::task::blocking(move || book.save(t, secret, prev.as_deref())).await?;
        **cfg = next;
        let (alerts, routes) = (cfg.alerts().clone(), cfg.routes());
        drop(guard);
        if let Some(p) = &previous {
            self.engine.remove_tenant(p)?;
        }
        self.engine.remove_tenant(&tenant.name)?;
        self.engine.set_routes(routes);
        vigil_core::tenants::start(&self.engine, &alerts, &tenant, Arc::clone(&self.secrets)).await;
        tracing::info!(tenant = %tenant.name, kind = tenant.kind.as_str(), "tenant saved");
        Ok(TenantView {
            config: tenant,
            builtin: false,
            health: None,
            counts: None,
        })
    }

    pub async fn remove_tenant(&self, name: &str) -> Result<()> {
        if self.is_builtin(name) {
            return Err(Error::new(
                ErrorCode::Conflict,
                "the built-in demo tenant cannot be removed",
            ));
        }
        let mut guard = self.config.lock().await;
        let Config::Loaded(cfg) = &mut *guard else {
            return Err(Error::config(
                "the configuration file did not load; fix it and restart Vigil (it was left untouched)",
            ));
        };
        let book = self.book(cfg);
        let n = name.to_owned();
        // Re-read under the lock: tenants added meanwhile (by the CLI, by hand) stay.
        let next = vigil_core::task::blocking(move || book.remove(&n)).await?;
        **cfg = next;
        drop(guard);
        self.engine.remove_tenant(name)?;
        tracing::info!(tenant = %name, "tenant removed");
        Ok(())
    }

    /// The core's tenant book over the loaded file's directory and the keychain.
    fn book(&self, cfg: &ConfigFile) -> vigil_core::tenants::TenantBook {
        vigil_core::tenants::TenantBook::new(
            cfg.path()
                .parent()
                .unwrap_or(std::path::Path::new("."))
                .to_path_buf(),
            Arc::clone(&self.secrets),
        )
    }

    /// Tests a draft (with the typed secret) or a saved tenant (with its stored secret).
    pub async fn test_tenant(
        &self,
        tenant: TenantConfig,
        secret: Option<SecretString>,
    ) -> Result<vigil_core::model::TenantCheck> {
        let secret = secret.filter(|s| !s.is_empty());
        if secret.is_none() {
            let running = self.engine.connector(&tenant.name);
            let unchanged = self.is_builtin(&tenant.name)
                || match &*self.config.lock().await {
                    Config::Loaded(c) => c.tenant(&tenant.name) == Some(&tenant),
                    Config::Broken { .. } => false,
                };
            if let (Some(c), true) = (running, unchanged) {
                return Ok(c.check().await);
            }
        }
        let book = match &*self.config.lock().await {
            Config::Loaded(c) => self.book(c),
            Config::Broken { .. } => {
                return Err(Error::config(
                    "the configuration file did not load; type the secret to test",
                ));
            }
        };
        // A stored secret only goes to the stored tenant's own kind and origin.
        book.test(&tenant, secret).await
    }
}

/// Opens the GeoIP database named in the settings (none for an empty path), off the async
/// workers: a city database is tens of megabytes.
async fn open_geoip(path: &str) -> Result<Option<Arc<vigil_core::geoip::GeoIp>>> {
    if path.is_empty() {
        return Ok(None);
    }
    let path = std::path::PathBuf::from(path);
    vigil_core::task::blocking(move || {
        vigil_core::geoip::GeoIp::open(&path).map(|g| Some(Arc::new(g)))
    })
    .await
}

/// The demo tenant on a loopback port, polled through the same HTTP connector as any
/// other tenant. Its token lives in memory only.
async fn start_demo(engine: &Engine, name: &str, settings: &Settings) -> Result<Demo> {
    let token = vigil_demo::random_token();
    let server = vigil_demo::start(
        ([127, 0, 0, 1], 0).into(),
        vigil_demo::DemoConfig {
            sessions: settings.demo_sessions,
            token: token.clone(),
            seed: rand::random(),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| Error::internal(format!("cannot start the demo tenant: {e}")))?;
    let mut config = TenantConfig::new(name, ConnectorKind::Vigil, &server.url());
    config.timezone = Some("Europe/Berlin".into());
    config.hours = Some("mon-fri 08:00-18:00".into());
    config.poll_interval_secs = settings.demo_poll_interval.as_secs().max(1);
    engine.set_alert_config(
        name,
        vigil_core::tuning::AlertConfig {
            calendar: config.calendar()?,
            ..Default::default()
        },
    );
    let spec = TenantSpec::new(name, ConnectorKind::Vigil, &server.url())?;
    engine.add_tenant(
        Arc::new(VigilConnector::new(&spec, SecretString::new(token))?),
        settings.demo_poll_interval,
    )?;
    tracing::info!(url = %server.url(), "demo tenant started");
    Ok(Demo {
        _server: server,
        config,
    })
}
