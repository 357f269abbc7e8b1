//! Adding, editing, renaming, removing and testing tenants: the one path both shells
//! take, so the app and the CLI cannot drift apart.
//!
//! - **One writer at a time.** Every change holds an exclusive lock on
//!   `config.toml.lock` (an OS advisory lock, released if the process dies), re-reads the
//!   file under it, changes that, and writes it back. A tenant added by the CLI while the
//!   app runs (or by hand) is never lost to a stale copy in memory.
//! - **Keychain first, file second, rolled back together.** A tenant in the file always
//!   has its secret; when the file cannot be written, the keychain is put back as it
//!   was (a rename moves the secret back, a new secret is replaced by the old one).
//! - **A stored secret goes only to its own tenant.** Testing a draft without typing the
//!   secret uses the stored one only when kind, origin and CA certificate are those of
//!   the stored tenant; an edit that moves a tenant to another origin or kind needs the
//!   secret typed again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{ConfigFile, FILE_NAME, TenantConfig};
use crate::connector;
use crate::error::{Error, ErrorCode, Result};
use crate::model::TenantCheck;
use crate::secret::SecretString;
use crate::secrets::SecretStore;
use crate::task::blocking;

/// The configured tenants and their secrets.
#[derive(Clone)]
pub struct TenantBook {
    dir: PathBuf,
    secrets: Arc<dyn SecretStore>,
}

/// Held while the configuration file is read, changed and written.
pub struct ConfigLock {
    _file: std::fs::File,
}

impl TenantBook {
    /// The configuration in `dir` with secrets in `secrets`.
    pub fn new(dir: PathBuf, secrets: Arc<dyn SecretStore>) -> Self {
        Self { dir, secrets }
    }

    /// The configuration in [`crate::config::config_dir`].
    pub fn open_default(secrets: Arc<dyn SecretStore>) -> Result<Self> {
        Ok(Self::new(crate::config::config_dir()?, secrets))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn secrets(&self) -> &Arc<dyn SecretStore> {
        &self.secrets
    }

    /// Takes the configuration lock (waits for another writer, the app or the CLI).
    pub fn lock(&self) -> Result<ConfigLock> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| Error::config(format!("{}: cannot create: {e}", self.dir.display())))?;
        let path = self.dir.join(format!("{FILE_NAME}.lock"));
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let file = opts
            .open(&path)
            .map_err(|e| Error::config(format!("{}: cannot open: {e}", path.display())))?;
        file.lock()
            .map_err(|e| Error::config(format!("{}: cannot lock: {e}", path.display())))?;
        Ok(ConfigLock { _file: file })
    }

    /// The file as it is now.
    pub fn load(&self) -> Result<ConfigFile> {
        ConfigFile::load(&self.dir)
    }

    /// Re-reads the file under the lock, applies `change`, writes it. Returns the file
    /// as written.
    pub fn update(&self, change: impl FnOnce(&mut ConfigFile) -> Result<()>) -> Result<ConfigFile> {
        let _lock = self.lock()?;
        let mut cfg = self.load()?;
        change(&mut cfg)?;
        cfg.save()?;
        Ok(cfg)
    }

    /// Adds (`previous == None`) or edits (and maybe renames) a tenant, with its secret.
    /// Blocking (keychain and file).
    pub fn save(
        &self,
        tenant: TenantConfig,
        secret: Option<SecretString>,
        previous: Option<&str>,
    ) -> Result<ConfigFile> {
        tenant.validate()?;
        let secret = secret.filter(|s| !s.is_empty());
        let label = || connector::kind_info(tenant.kind).secret_label;
        let _lock = self.lock()?;
        let mut cfg = self.load()?;
        if previous.is_none() && secret.is_none() {
            return Err(Error::invalid_input(format!(
                "tenant '{}': the {} is required",
                tenant.name,
                label()
            )));
        }
        if let (Some(prev), None) = (previous, &secret) {
            let stored = cfg.tenant(prev).ok_or_else(|| {
                Error::new(ErrorCode::NotFound, format!("no tenant named '{prev}'"))
            })?;
            if !same_destination(stored, &tenant) {
                return Err(Error::invalid_input(format!(
                    "tenant '{}': the kind, the URL's origin, the CA certificate or the login URL changed; type the {} again (a stored secret only goes where it was stored for)",
                    tenant.name,
                    label()
                )));
            }
        }
        cfg.upsert_tenant(tenant.clone(), previous)?;
        let name = tenant.name.as_str();
        let old = previous.unwrap_or(name);
        let store = self.secrets.as_ref();
        // Keychain first, remembering how to undo it.
        let undo: Box<dyn Fn() -> Result<()>> = match &secret {
            Some(s) => {
                let before = store.get(name)?;
                store.set(name, s)?;
                Box::new(move || match &before {
                    Some(b) => store.set(name, b),
                    None => store.delete(name),
                })
            }
            None if old != name => {
                crate::secrets::rename(store, old, name)?;
                Box::new(move || crate::secrets::rename(store, name, old))
            }
            None => Box::new(|| Ok(())),
        };
        if let Err(e) = cfg.save() {
            if let Err(u) = undo() {
                tracing::error!(tenant = %name, error = %u, "the keychain could not be put back after a failed save");
                return Err(e.context(format!(
                    "and the keychain could not be put back ({})",
                    u.message
                )));
            }
            return Err(e);
        }
        // A renamed tenant with a new secret leaves its old entry behind: remove it.
        if secret.is_some()
            && old != name
            && let Err(e) = store.delete(old)
        {
            tracing::warn!(tenant = %old, error = %e, "old keychain entry not removed");
        }
        Ok(cfg)
    }

    /// Removes a tenant from the file, then its secret, both under the lock (a tenant of
    /// the same name added meanwhile keeps its own secret). A secret that cannot be
    /// deleted is logged: the tenant is gone either way. Blocking.
    pub fn remove(&self, name: &str) -> Result<ConfigFile> {
        let _lock = self.lock()?;
        let mut cfg = self.load()?;
        if !cfg.remove_tenant(name)? {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!("no tenant named '{name}'"),
            ));
        }
        cfg.save()?;
        if let Err(e) = self.secrets.delete(name) {
            tracing::warn!(tenant = %name, error = %e, "the removed tenant's keychain entry could not be deleted");
        }
        Ok(cfg)
    }

    /// Tests a draft with the typed secret, or with the stored one when the draft still
    /// points where the stored tenant does (same kind, origin and CA certificate).
    pub async fn test(
        &self,
        tenant: &TenantConfig,
        secret: Option<SecretString>,
    ) -> Result<TenantCheck> {
        let spec = tenant.spec()?;
        let secret = match secret.filter(|s| !s.is_empty()) {
            Some(s) => s,
            None => {
                let book = self.clone();
                let draft = tenant.clone();
                blocking(move || book.stored_secret_for(&draft)).await?
            }
        };
        Ok(connector::build(&spec, secret)?.check().await)
    }

    /// The stored secret of the tenant `draft` names, if `draft` still points where that
    /// tenant does.
    fn stored_secret_for(&self, draft: &TenantConfig) -> Result<SecretString> {
        let cfg = self.load()?;
        let no_secret = || {
            Error::invalid_input(format!(
                "no stored secret for tenant '{}': type it to test",
                draft.name
            ))
        };
        let stored = cfg.tenant(&draft.name).ok_or_else(no_secret)?;
        if !same_destination(stored, draft) {
            return Err(Error::invalid_input(format!(
                "tenant '{}': the kind, the URL's origin, the CA certificate or the login URL differs from the stored tenant's; type the secret to test (a stored secret only goes where it was stored for)",
                draft.name
            )));
        }
        self.secrets.get(&draft.name)?.ok_or_else(no_secret)
    }
}

/// Options that name a host a secret is sent to, besides the tenant's URL (Entra and
/// Salesforce post their client secret or assertion to `login_url`). A connector option
/// that sends a credential anywhere else must be listed here.
pub const DESTINATION_OPTIONS: &[&str] = &["login_url"];

/// Whether `b` sends its secret where `a` does: same kind, same URL origin, same CA and
/// plain-HTTP consent, and the same [`DESTINATION_OPTIONS`]. Other options (a look-back,
/// admin roles) may change without the secret being typed again.
pub fn same_destination(a: &TenantConfig, b: &TenantConfig) -> bool {
    let origin = |t: &TenantConfig| url::Url::parse(&t.url).ok().map(|u| u.origin());
    a.kind == b.kind
        && origin(a).is_some()
        && origin(a) == origin(b)
        && a.ca_certificate == b.ca_certificate
        && a.plain_http_allowed() == b.plain_http_allowed()
        && DESTINATION_OPTIONS
            .iter()
            .all(|k| a.options.get(*k) == b.options.get(*k))
}

/// The connector of a configured tenant, with its secret from `store` (the OS keychain).
/// The keychain is called on a blocking thread.
pub async fn connect(
    cfg: &TenantConfig,
    store: Arc<dyn crate::secrets::SecretStore>,
) -> Result<Arc<dyn connector::Connector>> {
    use crate::error::{Error, ErrorCode};
    let spec = cfg.spec()?;
    let name = cfg.name.clone();
    let secret = tokio::task::spawn_blocking(move || store.get(&name))
        .await
        .map_err(|e| Error::internal(format!("keychain task failed: {e}")))??
        .ok_or_else(|| {
            Error::new(
                ErrorCode::SecretStore,
                format!(
                    "no credential in the keychain for tenant '{}'; store one by editing the tenant \
                     (or `vigil tenant remove` and `vigil tenant add … --secret-stdin`)",
                    cfg.name
                ),
            )
        })?;
    connector::build(&spec, secret)
}

/// Keychain reads in flight at once when many tenants start together: each is a round
/// trip to the Secret Service (or its peer), and a thousand of them one after another
/// took seconds.
pub const CONNECT_AT_ONCE: usize = 8;

/// [`connect`] for each tenant of `cfgs`, [`CONNECT_AT_ONCE`] at a time, in their order.
pub async fn connect_all(
    cfgs: &[TenantConfig],
    store: Arc<dyn crate::secrets::SecretStore>,
) -> Vec<Result<Arc<dyn connector::Connector>>> {
    // Each read owns its tenant's config: a closure over borrowed configs held across an
    // await makes a future the window's commands cannot take (it is not `Send` for every
    // lifetime).
    crate::connector::http::bounded(cfgs.to_vec(), CONNECT_AT_ONCE, |cfg| {
        let store = Arc::clone(&store);
        async move { connect(&cfg, store).await }
    })
    .await
}

/// Applies `[alerts]` of `cfg` to a running engine: the routes, and each configured
/// tenant's rules with its tuning (after the section was edited).
pub fn apply_alerts(engine: &crate::engine::Engine, cfg: &crate::config::ConfigFile) {
    engine.set_routes(cfg.routes());
    for t in cfg.tenants() {
        match cfg.alert_config(t) {
            Ok(c) => engine.set_alert_config(&t.name, c),
            Err(e) => tracing::warn!(tenant = %t.name, error = %e, "alert settings not applied"),
        }
    }
}

/// Starts polling a configured tenant with its alert settings and working hours, or shows
/// it with the reason it cannot be polled (a missing secret, a bad URL): the tenant is
/// never silently absent.
pub async fn start(
    engine: &crate::engine::Engine,
    alerts: &crate::tuning::AlertsFile,
    t: &TenantConfig,
    secrets: Arc<dyn SecretStore>,
) {
    start_all(engine, alerts, std::slice::from_ref(t), secrets).await;
}

/// [`start`] for every tenant of `tenants`, their keychain reads [`CONNECT_AT_ONCE`] at a
/// time.
pub async fn start_all(
    engine: &crate::engine::Engine,
    alerts: &crate::tuning::AlertsFile,
    tenants: &[TenantConfig],
    secrets: Arc<dyn SecretStore>,
) {
    for t in tenants {
        match t.calendar() {
            Ok(calendar) => engine.set_alert_config(
                &t.name,
                crate::tuning::AlertConfig::new(
                    t.alerts.clone().unwrap_or_default(),
                    calendar,
                    alerts.for_tenant(&t.name, &t.tags),
                ),
            ),
            Err(e) => tracing::warn!(tenant = %t.name, error = %e, "working hours ignored"),
        }
    }
    for (t, connected) in tenants.iter().zip(connect_all(tenants, secrets).await) {
        let started = connected.and_then(|c| {
            engine.add_tenant(c, std::time::Duration::from_secs(t.poll_interval_secs))
        });
        if let Err(e) = started {
            tracing::warn!(tenant = %t.name, error = %e, "tenant cannot be polled");
            engine.add_unusable_tenant(&t.name, t.kind, &e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConnectorKind;
    use crate::secrets::MemoryStore;

    fn book() -> (tempfile::TempDir, TenantBook, Arc<MemoryStore>) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Arc::new(MemoryStore::default());
        let book = TenantBook::new(dir.path().to_path_buf(), store.clone());
        (dir, book, store)
    }

    fn tenant(name: &str, url: &str) -> TenantConfig {
        TenantConfig::new(name, ConnectorKind::Vigil, url)
    }

    fn secret(s: &str) -> Option<SecretString> {
        Some(SecretString::new(s))
    }

    /// A copy of the file loaded before another writer added a tenant must not drop that
    /// tenant when it removes or saves another: every change re-reads the file.
    #[test]
    fn changes_never_drop_tenants_added_meanwhile() -> Result<()> {
        let (_d, app, store) = book();
        app.save(tenant("a", "https://a.example"), secret("sa"), None)?;
        let stale_view = app.load()?;
        // Another process (the CLI) adds b.
        let cli = TenantBook::new(app.dir().to_path_buf(), store.clone());
        cli.save(tenant("b", "https://b.example"), secret("sb"), None)?;
        assert_eq!(stale_view.tenants().len(), 1);
        app.remove("a")?;
        let now = app.load()?;
        assert_eq!(
            now.tenants()
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>(),
            ["b"]
        );
        assert!(store.get("b")?.is_some() && store.get("a")?.is_none());
        Ok(())
    }

    /// The keychain is rolled back when the file cannot be written (whoever runs the
    /// test, root included): the temporary file's path is taken by a directory, so the
    /// write fails after the keychain changed.
    #[test]
    fn a_failed_save_restores_the_keychain() -> Result<()> {
        let (d, book, store) = book();
        book.save(tenant("old", "https://a.example"), secret("s1"), None)?;
        let tmp = d
            .path()
            .join(format!(".{FILE_NAME}.tmp-{}", std::process::id()));
        std::fs::create_dir(&tmp).map_err(|e| Error::internal(e.to_string()))?;
        let kept = |name: &str| -> Result<Option<String>> {
            Ok(store.get(name)?.map(|s| s.expose().to_owned()))
        };
        // A new secret: the old one comes back.
        assert!(
            book.save(
                tenant("old", "https://a.example"),
                secret("s2"),
                Some("old")
            )
            .is_err()
        );
        assert_eq!(kept("old")?.as_deref(), Some("s1"));
        // A rename: the secret moves back under the old name.
        assert!(
            book.save(tenant("new", "https://a.example"), None, Some("old"))
                .is_err()
        );
        assert_eq!(kept("old")?.as_deref(), Some("s1"));
        assert_eq!(kept("new")?, None);
        // A new tenant: its secret is removed again.
        assert!(
            book.save(tenant("other", "https://b.example"), secret("s3"), None)
                .is_err()
        );
        assert_eq!(kept("other")?, None);
        assert_eq!(book.load()?.tenants()[0].name, "old");
        // Once the file can be written, the rename goes through.
        std::fs::remove_dir(&tmp).map_err(|e| Error::internal(e.to_string()))?;
        book.save(tenant("new", "https://a.example"), None, Some("old"))?;
        assert_eq!(kept("new")?.as_deref(), Some("s1"));
        assert_eq!(kept("old")?, None);
        Ok(())
    }

    #[test]
    fn a_stored_secret_only_goes_to_its_own_origin() -> Result<()> {
        let (_d, book, _store) = book();
        book.save(tenant("a", "https://a.example/api"), secret("sa"), None)?;
        let same = tenant("a", "https://a.example/other-path");
        assert!(book.stored_secret_for(&same).is_ok());
        // An option that names no destination may change.
        let mut other_option = same.clone();
        other_option
            .options
            .insert("lookback_hours".into(), "48".into());
        assert!(same_destination(&same, &other_option));
        let mut login_elsewhere =
            TenantConfig::new("a", ConnectorKind::Vigil, "https://a.example/api");
        login_elsewhere
            .options
            .insert("login_url".into(), "https://attacker.example".into());
        for other in [
            tenant("a", "https://attacker.example"),
            tenant("a", "https://a.example:8443"),
            TenantConfig::new("a", ConnectorKind::Keycloak, "https://a.example/api"),
            login_elsewhere,
        ] {
            let e = book.stored_secret_for(&other).err();
            assert!(
                e.as_ref()
                    .is_some_and(|e| e.message.contains("type the secret")),
                "{e:?}"
            );
        }
        // An edit that moves the tenant needs the secret again.
        let moved = tenant("a", "https://attacker.example");
        assert!(book.save(moved.clone(), None, Some("a")).is_err());
        assert!(book.save(moved, secret("typed"), Some("a")).is_ok());
        Ok(())
    }
}
