//! The configuration file: tenants and app settings as TOML in the OS config directory
//! (`VIGIL_CONFIG_DIR` overrides it). **No secret is ever written here**: secrets live in
//! the OS keychain ([`crate::secrets`]).
//!
//! The file is edited in place with `toml_edit`, so comments and fields this version does
//! not know survive every save. Writes are atomic (temp file, fsync, rename). A file that
//! does not load is never overwritten: every change needs a loaded file.
//!
//! Here: reading (the raw shapes with spans for line-numbered errors, the checked
//! `TenantConfig`, the getters); beside it `write` (the in-place `DocumentMut` edits of
//! tenants, settings, `[people]`, `[alerts]`, `[audit.shared]`, and the atomic save).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml_edit::DocumentMut;
use ts_rs::TS;

use crate::calendar::{self, WorkingHours};
use crate::error::{Error, Result};
use crate::model::{self, ConnectorKind, TenantSpec};
use crate::settings::AppSettings;

mod write;

pub use write::write_atomic;

pub const FILE_NAME: &str = "config.toml";

/// One tenant as configured (everything but its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TenantConfig {
    pub name: String,
    pub kind: ConnectorKind,
    pub url: String,
    /// Kind-specific options (realm, org id …).
    #[ts(type = "{ [key in string]?: string }")]
    pub options: BTreeMap<String, String>,
    /// IANA timezone, e.g. `Europe/Berlin`.
    pub timezone: Option<String>,
    /// Working hours, e.g. `mon-fri 08:00-18:00; sat 09:00-12:00`.
    pub hours: Option<String>,
    /// Holidays as `YYYY-MM-DD`.
    pub holidays: Vec<String>,
    pub poll_interval_secs: u64,
    pub tags: Vec<String>,
    /// Alert rule settings (`[tenants.alerts]`); absent: the defaults. Saving a tenant
    /// without them keeps what the file has; with them, the table is written in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub alerts: Option<crate::alerts::AlertSettings>,
    /// A PEM file of CA certificates to trust for this tenant as well as the system's (a
    /// private CA); absent: the system's and Mozilla's roots only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub ca_certificate: Option<String>,
    /// Accept a plain `http://` URL to a host that is not loopback: the token then crosses
    /// the network in clear. Off unless the administrator says so for this tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub allow_plain_http: Option<bool>,
    /// Items (users, sessions, log events) one poll may list; absent: 1,000,000. A tenant
    /// listing more fails that poll with an error naming this limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub max_listing_items: Option<u64>,
    /// MiB of responses one poll may read; absent: 512.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub max_listing_mib: Option<u64>,
}

/// The range `max_listing_items` accepts.
pub const LISTING_ITEMS_RANGE: (u64, u64) = (100, 100_000_000);
/// The range `max_listing_mib` accepts.
pub const LISTING_MIB_RANGE: (u64, u64) = (1, 16_384);

/// A validation failure naming the field.
struct FieldError {
    field: &'static str,
    message: String,
}

impl TenantConfig {
    pub fn new(name: &str, kind: ConnectorKind, url: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            url: url.to_owned(),
            options: BTreeMap::new(),
            timezone: None,
            hours: None,
            holidays: Vec::new(),
            poll_interval_secs: crate::settings::DEFAULT_POLL_INTERVAL_SECS,
            tags: Vec::new(),
            alerts: None,
            ca_certificate: None,
            allow_plain_http: None,
            max_listing_items: None,
            max_listing_mib: None,
        }
    }

    /// What one poll of this tenant may read and list.
    pub fn limits(&self) -> crate::model::Limits {
        let default = crate::model::Limits::default();
        crate::model::Limits {
            max_items: self.max_listing_items.unwrap_or(default.max_items),
            max_bytes: self
                .max_listing_mib
                .map_or(default.max_bytes, |m| m.saturating_mul(1024 * 1024)),
        }
    }

    /// Checks every field; the error names the tenant and the field.
    pub fn validate(&self) -> Result<()> {
        self.check().map_err(|e| {
            Error::invalid_input(format!(
                "tenant '{}': {}: {}",
                self.name, e.field, e.message
            ))
        })
    }

    fn check(&self) -> Result<(), FieldError> {
        let f = |field: &'static str| {
            move |e: Error| FieldError {
                field,
                message: e.message,
            }
        };
        model::validate_tenant_name(&self.name).map_err(f("name"))?;
        model::parse_base_url_with(&self.url, self.plain_http_allowed()).map_err(f("url"))?;
        if let Some(tz) = &self.timezone {
            calendar::parse_timezone(tz).map_err(f("timezone"))?;
        }
        if let Some(h) = &self.hours {
            WorkingHours::parse(h).map_err(f("hours"))?;
        }
        for d in &self.holidays {
            calendar::parse_holiday(d).map_err(f("holidays"))?;
        }
        let range = crate::settings::POLL_INTERVAL_RANGE;
        let (lo, hi) = (range.start(), range.end());
        if !range.contains(&self.poll_interval_secs) {
            return Err(FieldError {
                field: "poll_interval_secs",
                message: format!("{} is outside {lo}..={hi} seconds", self.poll_interval_secs),
            });
        }
        if let Some(path) = &self.ca_certificate {
            read_ca(path).map_err(f("ca_certificate"))?;
        }
        for (field, v, (lo, hi)) in [
            (
                "max_listing_items",
                self.max_listing_items,
                LISTING_ITEMS_RANGE,
            ),
            ("max_listing_mib", self.max_listing_mib, LISTING_MIB_RANGE),
        ] {
            if let Some(v) = v.filter(|v| !(lo..=hi).contains(v)) {
                return Err(FieldError {
                    field,
                    message: format!("{v} is outside {lo}..={hi}"),
                });
            }
        }
        if let Some(alerts) = &self.alerts {
            alerts.validate().map_err(|(field, message)| FieldError {
                field: "alerts",
                message: format!("{field}: {message}"),
            })?;
        }
        for tag in &self.tags {
            if tag.trim().is_empty() || tag.len() > 64 {
                return Err(FieldError {
                    field: "tags",
                    message: format!("invalid tag {tag:?}"),
                });
            }
        }
        let info = crate::connector::kind_info(self.kind);
        for opt in info.options.iter().filter(|o| o.required) {
            if self
                .options
                .get(&opt.key)
                .is_none_or(|v| v.trim().is_empty())
            {
                return Err(FieldError {
                    field: "options",
                    message: format!("{} ({}) is required", opt.key, opt.label),
                });
            }
        }
        for key in self.options.keys() {
            if !info.options.iter().any(|o| &o.key == key) {
                return Err(FieldError {
                    field: "options",
                    message: format!("unknown option {key:?} for kind {}", self.kind),
                });
            }
        }
        Ok(())
    }

    /// The tenant's working calendar, when working hours are set (timezone default UTC).
    pub fn calendar(&self) -> Result<Option<calendar::WorkingCalendar>> {
        calendar::WorkingCalendar::from_parts(
            self.timezone.as_deref(),
            self.hours.as_deref(),
            &self.holidays,
        )
    }

    /// Whether the administrator allowed plain `http://` to a non-loopback host.
    pub fn plain_http_allowed(&self) -> bool {
        self.allow_plain_http == Some(true)
    }

    /// What the engine needs to connect.
    pub fn spec(&self) -> Result<TenantSpec> {
        self.validate()?;
        let mut spec =
            TenantSpec::with_url(&self.name, self.kind, &self.url, self.plain_http_allowed())?;
        spec.poll_interval = Duration::from_secs(self.poll_interval_secs);
        spec.options = self.options.clone();
        spec.limits = self.limits();
        if let Some(path) = &self.ca_certificate {
            spec.ca_pem = Some(read_ca(path)?.into());
        }
        Ok(spec)
    }
}

/// The largest CA certificate file read (a bundle of a few hundred certificates).
const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a PEM file of CA certificates; the error names the file and what is wrong.
fn read_ca(path: &str) -> Result<Vec<u8>> {
    let p = std::path::Path::new(path);
    if !p.is_absolute() {
        return Err(Error::invalid_input(format!(
            "{path}: give the full path of the PEM file"
        )));
    }
    // A regular file of sane size only: `/dev/zero` would fill memory, a FIFO would
    // hang every start.
    let meta = std::fs::metadata(p).map_err(|e| Error::invalid_input(format!("{path}: {e}")))?;
    if !meta.is_file() {
        return Err(Error::invalid_input(format!(
            "{path}: not a regular file (a PEM file of CA certificates is expected)"
        )));
    }
    if meta.len() > MAX_CA_FILE_BYTES {
        return Err(Error::invalid_input(format!(
            "{path}: larger than {} KiB; not a PEM file of CA certificates",
            MAX_CA_FILE_BYTES / 1024
        )));
    }
    let mut pem = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(
            std::fs::File::open(p).map_err(|e| Error::invalid_input(format!("{path}: {e}")))?,
            MAX_CA_FILE_BYTES + 1,
        ),
        &mut pem,
    )
    .map_err(|e| Error::invalid_input(format!("{path}: {e}")))?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(Error::invalid_input(format!(
            "{path}: grew past {} KiB while being read",
            MAX_CA_FILE_BYTES / 1024
        )));
    }
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| Error::invalid_input(format!("{path}: not PEM certificates ({e})")))?;
    if certs.is_empty() {
        return Err(Error::invalid_input(format!(
            "{path}: no certificate in it (expected -----BEGIN CERTIFICATE-----)"
        )));
    }
    Ok(pem)
}

// Raw shapes read from the file, with spans so errors can name the line.
#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    tenants: Vec<Spanned<RawTenant>>,
    #[serde(default)]
    app: RawApp,
    #[serde(default)]
    people: crate::people::PeopleConfig,
    #[serde(default)]
    policies: Vec<crate::policy::PolicyConfig>,
    #[serde(default)]
    alerts: crate::tuning::AlertsFile,
    #[serde(default)]
    audit: RawAudit,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    #[serde(default)]
    shared: Option<crate::shared_audit::SharedAuditConfig>,
}

#[derive(Deserialize, Default)]
struct RawApp {
    #[serde(default)]
    demo_tenant: Option<bool>,
    #[serde(flatten)]
    settings: AppSettings,
}

/// Session history older than this is pruned unless the config says otherwise.
pub use crate::settings::DEFAULT_HISTORY_RETENTION_DAYS;

#[derive(Deserialize)]
struct RawTenant {
    name: Spanned<String>,
    kind: Spanned<String>,
    url: Spanned<String>,
    #[serde(default)]
    options: BTreeMap<String, String>,
    #[serde(default)]
    timezone: Option<Spanned<String>>,
    #[serde(default)]
    hours: Option<Spanned<String>>,
    #[serde(default)]
    holidays: Vec<Spanned<String>>,
    #[serde(default)]
    poll_interval_secs: Option<Spanned<i64>>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    alerts: Option<crate::alerts::AlertSettings>,
    #[serde(default)]
    ca_certificate: Option<Spanned<String>>,
    #[serde(default)]
    allow_plain_http: Option<bool>,
    #[serde(default)]
    max_listing_items: Option<Spanned<i64>>,
    #[serde(default)]
    max_listing_mib: Option<Spanned<i64>>,
}

/// The loaded configuration file.
pub struct ConfigFile {
    path: PathBuf,
    doc: DocumentMut,
    tenants: Vec<TenantConfig>,
    demo_tenant: Option<bool>,
    settings: AppSettings,
    people: crate::people::PeopleConfig,
    policies: Vec<crate::policy::PolicyConfig>,
    alerts: crate::tuning::AlertsFile,
    shared_audit: Option<crate::shared_audit::SharedAuditConfig>,
}

impl std::fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigFile")
            .field("path", &self.path)
            .field("tenants", &self.tenants)
            .finish()
    }
}

/// The directory holding `config.toml`: `$VIGIL_CONFIG_DIR`, else the OS config dir.
pub fn config_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("VIGIL_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::config_dir().map(|d| d.join("vigil")).ok_or_else(|| {
        Error::config("no configuration directory on this system; set VIGIL_CONFIG_DIR")
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |t| t.bytes().filter(|b| *b == b'\n').count())
        + 1
}

impl ConfigFile {
    /// Loads `config.toml` from `dir`; a missing file is an empty configuration.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(Error::config(format!(
                    "{}: cannot read: {e}",
                    path.display()
                )));
            }
        };
        Self::parse(path, &text)
    }

    fn parse(path: PathBuf, text: &str) -> Result<Self> {
        let shown = path.display().to_string();
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            Error::config(format!("{shown}: {}", one_line(&e.to_string())))
        })?;
        let raw: RawFile = toml::from_str(text)
            .map_err(|e| Error::config(format!("{shown}: {}", one_line(&e.to_string()))))?;
        let mut tenants: Vec<TenantConfig> = Vec::with_capacity(raw.tenants.len());
        let default_interval = raw.app.settings.default_poll_interval_secs;
        for t in raw.tenants {
            let at = |span: std::ops::Range<usize>| line_of(text, span.start);
            let t_line = at(t.span());
            let t = t.into_inner();
            let name = t.name.get_ref().clone();
            let fail = |line: usize, field: &str, msg: String| {
                Error::config(format!("{shown}:{line}: tenant '{name}': {field}: {msg}"))
            };
            let kind: ConnectorKind = t
                .kind
                .get_ref()
                .parse()
                .map_err(|e: Error| fail(at(t.kind.span()), "kind", e.message))?;
            let poll_interval_secs = match &t.poll_interval_secs {
                Some(p) => u64::try_from(*p.get_ref()).map_err(|_| {
                    fail(
                        at(p.span()),
                        "poll_interval_secs",
                        "must not be negative".into(),
                    )
                })?,
                // A tenant without its own interval takes the app's default.
                None => default_interval,
            };
            let positive = |v: &Option<Spanned<i64>>, field: &'static str| {
                v.as_ref()
                    .map(|v| {
                        u64::try_from(*v.get_ref())
                            .map_err(|_| fail(at(v.span()), field, "must not be negative".into()))
                    })
                    .transpose()
            };
            let max_listing_items = positive(&t.max_listing_items, "max_listing_items")?;
            let max_listing_mib = positive(&t.max_listing_mib, "max_listing_mib")?;
            let cfg = TenantConfig {
                name: name.clone(),
                kind,
                url: t.url.get_ref().clone(),
                options: t.options,
                timezone: t.timezone.as_ref().map(|s| s.get_ref().clone()),
                hours: t.hours.as_ref().map(|s| s.get_ref().clone()),
                holidays: t.holidays.iter().map(|s| s.get_ref().clone()).collect(),
                poll_interval_secs,
                tags: t.tags,
                alerts: t.alerts,
                ca_certificate: t.ca_certificate.as_ref().map(|s| s.get_ref().clone()),
                allow_plain_http: t.allow_plain_http,
                max_listing_items,
                max_listing_mib,
            };
            if let Err(e) = cfg.check() {
                let line = match e.field {
                    "name" => at(t.name.span()),
                    "url" => at(t.url.span()),
                    "timezone" => t.timezone.as_ref().map_or(t_line, |s| at(s.span())),
                    "hours" => t.hours.as_ref().map_or(t_line, |s| at(s.span())),
                    "poll_interval_secs" => t
                        .poll_interval_secs
                        .as_ref()
                        .map_or(t_line, |s| at(s.span())),
                    "holidays" => t
                        .holidays
                        .iter()
                        .find(|h| calendar::parse_holiday(h.get_ref()).is_err())
                        .map_or(t_line, |s| at(s.span())),
                    _ => t_line,
                };
                return Err(fail(line, e.field, e.message));
            }
            if tenants.iter().any(|o| o.name == name) {
                return Err(fail(
                    at(t.name.span()),
                    "name",
                    "a tenant with this name is already configured".into(),
                ));
            }
            tenants.push(cfg);
        }
        raw.people
            .validate()
            .map_err(|e| Error::config(format!("{shown}: {}", e.message)))?;
        for p in &raw.policies {
            p.parse()
                .map_err(|e| Error::config(format!("{shown}: [[policies]]: {}", e.message)))?;
        }
        raw.alerts
            .validate()
            .map_err(|e| Error::config(format!("{shown}: [alerts]: {}", e.message)))?;
        if let Some(s) = &raw.audit.shared {
            s.validate()
                .map_err(|e| Error::config(format!("{shown}: [audit.shared]: {}", e.message)))?;
        }
        Ok(Self {
            path,
            doc,
            tenants,
            demo_tenant: raw.app.demo_tenant,
            settings: raw.app.settings.normalized(),
            people: raw.people,
            policies: raw.policies,
            alerts: raw.alerts,
            shared_audit: raw.audit.shared,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn tenants(&self) -> &[TenantConfig] {
        &self.tenants
    }

    pub fn tenant(&self, name: &str) -> Option<&TenantConfig> {
        self.tenants.iter().find(|t| t.name == name)
    }

    /// Whether the built-in demo tenant runs: as configured, else only with no tenants.
    pub fn demo_tenant(&self) -> bool {
        self.demo_tenant.unwrap_or(self.tenants.is_empty())
    }

    /// Days of session history to keep (`[app] history_retention_days`).
    pub fn history_retention_days(&self) -> u32 {
        self.settings.history_retention_days
    }

    /// The app's settings (`[app]`), defaults for what the file leaves out.
    pub fn settings(&self) -> &AppSettings {
        &self.settings
    }

    /// Links between accounts and people made by hand (`[people]`).
    pub fn people(&self) -> &crate::people::PeopleConfig {
        &self.people
    }

    /// `[[policies]]`, each checked when the file loaded.
    pub fn policies(&self) -> &[crate::policy::PolicyConfig] {
        &self.policies
    }

    /// The checked policies with the tenants each applies to.
    pub fn policy_scopes(
        &self,
    ) -> Vec<(crate::policy::Policy, std::collections::BTreeSet<String>)> {
        self.policies
            .iter()
            .filter_map(|p| p.parse().ok())
            .map(|p| {
                let scope = p.scope(
                    self.tenants
                        .iter()
                        .map(|t| (t.name.as_str(), t.tags.as_slice())),
                );
                (p, scope)
            })
            .collect()
    }

    /// `[alerts]`: routes and tuning, checked when the file loaded.
    pub fn alerts(&self) -> &crate::tuning::AlertsFile {
        &self.alerts
    }

    /// `[audit.shared]`: the team's shared audit store, when one is configured.
    pub fn shared_audit(&self) -> Option<&crate::shared_audit::SharedAuditConfig> {
        self.shared_audit.as_ref()
    }

    /// How a tenant's sessions are judged: its rule settings, working hours and the
    /// tuning of `[alerts]` that applies to it.
    pub fn alert_config(&self, t: &TenantConfig) -> Result<crate::tuning::AlertConfig> {
        Ok(crate::tuning::AlertConfig::new(
            t.alerts.clone().unwrap_or_default(),
            t.calendar()?,
            self.alerts.for_tenant(&t.name, &t.tags),
        ))
    }

    /// The alert routes with every configured tenant's tags.
    pub fn routes(&self) -> crate::routing::dispatch::Routes {
        crate::routing::dispatch::Routes {
            routes: self.alerts.routes.clone(),
            tags: self
                .tenants
                .iter()
                .map(|t| (t.name.clone(), t.tags.clone()))
                .collect(),
        }
    }
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    /// A CA certificate "file" that is a device or a FIFO is refused at once: `/dev/zero`
    /// used to fill memory, a FIFO to hang every start.
    #[cfg(unix)]
    #[test]
    fn ca_certificate_must_be_a_small_regular_file() {
        let d = dir();
        let fifo = d.path().join("ca.fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        let big = d.path().join("big.pem");
        std::fs::write(&big, vec![b'a'; 5 * 1024 * 1024]).unwrap();
        let mut paths = vec!["/dev/zero".to_owned(), big.display().to_string()];
        if made {
            paths.push(fifo.display().to_string());
        }
        for path in paths {
            let mut t = sample();
            t.ca_certificate = Some(path.clone());
            let started = std::time::Instant::now();
            let e = t.validate().unwrap_err();
            assert!(
                e.message.contains("not a regular file") || e.message.contains("larger than"),
                "{path}: {e}"
            );
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
        }
    }

    #[test]
    fn listing_limits_round_trip_and_are_checked() {
        let d = dir();
        let mut cfg = ConfigFile::load(d.path()).unwrap();
        let mut t = sample();
        t.max_listing_items = Some(50_000);
        t.max_listing_mib = Some(64);
        cfg.upsert_tenant(t.clone(), None).unwrap();
        cfg.save().unwrap();
        let back = ConfigFile::load(d.path()).unwrap();
        let got = back.tenant("acme-prod").unwrap();
        assert_eq!(got.limits().max_items, 50_000);
        assert_eq!(got.limits().max_bytes, 64 * 1024 * 1024);
        t.max_listing_items = Some(0);
        assert!(
            t.validate()
                .unwrap_err()
                .message
                .contains("max_listing_items")
        );
        std::fs::write(
            d.path().join(FILE_NAME),
            "[[tenants]]\nname = \"x\"\nkind = \"vigil\"\nurl = \"https://x.example\"\nmax_listing_mib = -1\n",
        )
        .unwrap();
        let e = ConfigFile::load(d.path()).unwrap_err();
        assert!(
            e.message.contains(":5:") && e.message.contains("max_listing_mib"),
            "{e}"
        );
    }

    fn sample() -> TenantConfig {
        let mut t = TenantConfig::new(
            "acme-prod",
            ConnectorKind::Vigil,
            "https://sessions.acme.example",
        );
        t.timezone = Some("Europe/Berlin".into());
        t.hours = Some("mon-fri 08:00-18:00".into());
        t.holidays = vec!["2026-12-25".into()];
        t.tags = vec!["eu".into(), "prod".into()];
        t.poll_interval_secs = 15;
        t
    }

    #[test]
    fn app_settings_round_trip_and_keep_the_rest_of_app() {
        let d = dir();
        std::fs::write(
            d.path().join(FILE_NAME),
            "[app]\n# kept\ndemo_tenant = false\nfuture_key = 1\ntheme = \"dark\"\n",
        )
        .unwrap();
        let mut c = ConfigFile::load(d.path()).unwrap();
        assert_eq!(c.settings().theme, crate::settings::Theme::Dark);
        assert_eq!(
            c.settings().history_retention_days,
            DEFAULT_HISTORY_RETENTION_DAYS
        );
        let wanted = AppSettings {
            default_poll_interval_secs: 60,
            notifications: false,
            notify_min_severity: crate::alerts::Severity::High,
            history_retention_days: 30,
            theme: crate::settings::Theme::Light,
            start_at_login: true,
            keep_running_in_tray: false,
            ..AppSettings::default()
        };
        c.set_settings(wanted.clone()).unwrap();
        c.save().unwrap();
        let text = std::fs::read_to_string(d.path().join(FILE_NAME)).unwrap();
        assert!(
            text.contains("# kept") && text.contains("future_key = 1"),
            "{text}"
        );
        let again = ConfigFile::load(d.path()).unwrap();
        assert_eq!(again.settings(), &wanted);
        assert_eq!(again.history_retention_days(), 30);
        assert!(!again.demo_tenant());
        let bad = AppSettings {
            history_retention_days: 0,
            ..wanted.clone()
        };
        let mut c = again;
        assert!(c.set_settings(bad).is_err());
        assert_eq!(
            c.settings(),
            &wanted,
            "a refused change leaves the settings alone"
        );
    }

    #[test]
    fn a_bad_setting_names_itself() {
        let d = dir();
        std::fs::write(d.path().join(FILE_NAME), "[app]\ntheme = \"purple\"\n").unwrap();
        let e = ConfigFile::load(d.path()).unwrap_err();
        assert!(
            e.message.contains("purple") || e.message.contains("theme"),
            "{e}"
        );
    }

    #[test]
    fn plain_http_elsewhere_than_loopback_needs_the_tenants_consent() {
        let mut t = TenantConfig::new("lan", ConnectorKind::Vigil, "http://sessions.lan:8080");
        let e = t.validate().unwrap_err();
        assert!(
            e.message.contains("url") && e.message.contains("plain http"),
            "{e}"
        );
        t.allow_plain_http = Some(true);
        assert_eq!(
            t.spec().unwrap().base_url.as_str(),
            "http://sessions.lan:8080/"
        );
        let d = dir();
        let mut c = ConfigFile::load(d.path()).unwrap();
        c.upsert_tenant(t.clone(), None).unwrap();
        c.save().unwrap();
        assert!(
            ConfigFile::load(d.path())
                .unwrap()
                .tenant("lan")
                .unwrap()
                .plain_http_allowed()
        );
    }

    #[test]
    fn a_tenant_without_an_interval_takes_the_app_default() {
        let d = dir();
        std::fs::write(
            d.path().join(FILE_NAME),
            "[app]\ndefault_poll_interval_secs = 45\n\n[[tenants]]\nname = \"a\"\nkind = \"vigil\"\nurl = \"https://a.example\"\n\n[[tenants]]\nname = \"b\"\nkind = \"vigil\"\nurl = \"https://b.example\"\npoll_interval_secs = 10\n",
        )
        .unwrap();
        let c = ConfigFile::load(d.path()).unwrap();
        assert_eq!(c.tenant("a").unwrap().poll_interval_secs, 45);
        assert_eq!(c.tenant("b").unwrap().poll_interval_secs, 10);
    }

    #[test]
    fn people_links_and_policies_load_check_and_save() {
        let d = dir();
        std::fs::write(
            d.path().join(FILE_NAME),
            "# notes\n[[tenants]]\nname = \"a\"\nkind = \"vigil\"\nurl = \"https://a.example\"\ntags = [\"eu\"]\n\n[[people.link]]\nperson = \"Ann@Example.org\"\ntenant = \"a\"\nuser = \"ann2\"\n\n[[policies]]\nname = \"idle\"\nidle_over = \"8h\"\ntags = [\"eu\"]\nevery = \"1h\"\n",
        )
        .unwrap();
        let mut c = ConfigFile::load(d.path()).unwrap();
        assert_eq!(c.people().link.len(), 1);
        let scopes = c.policy_scopes();
        assert_eq!(scopes.len(), 1);
        assert_eq!(scopes[0].1.iter().collect::<Vec<_>>(), ["a"]);
        let mut people = c.people().clone();
        people.unlink.push(crate::people::AccountName {
            tenant: "a".into(),
            user: "admin".into(),
        });
        c.set_people(people.clone()).unwrap();
        c.save().unwrap();
        let again = ConfigFile::load(d.path()).unwrap();
        assert_eq!(again.people(), &people);
        assert_eq!(again.policies().len(), 1);
        let text = std::fs::read_to_string(d.path().join(FILE_NAME)).unwrap();
        assert!(text.contains("# notes"), "{text}");
        // A policy that says nothing to end, or a link without a user, is refused with
        // the file named.
        for bad in [
            "[[policies]]\nname = \"x\"\n",
            "[[policies]]\nidle_over = \"soon\"\n",
            "[[people.link]]\nperson = \"p\"\ntenant = \"a\"\nuser = \" \"\n",
        ] {
            std::fs::write(d.path().join(FILE_NAME), bad).unwrap();
            let e = ConfigFile::load(d.path()).unwrap_err();
            assert!(e.message.contains(FILE_NAME), "{e:?}");
        }
    }

    #[test]
    fn a_missing_file_is_an_empty_config_with_the_demo_tenant() {
        let d = dir();
        let c = ConfigFile::load(d.path()).unwrap();
        assert!(c.tenants().is_empty());
        assert!(c.demo_tenant());
    }

    #[test]
    fn round_trips_and_keeps_unknown_fields_and_comments() {
        let d = dir();
        std::fs::write(
            d.path().join(FILE_NAME),
            "# my notes\nfuture_setting = 7\n\n[[tenants]]\nname = \"old\"\nkind = \"vigil\"\nurl = \"https://old.example\"\nnewer_field = \"kept\"\n",
        )
        .unwrap();
        let mut c = ConfigFile::load(d.path()).unwrap();
        c.upsert_tenant(sample(), None).unwrap();
        let mut renamed = c.tenant("old").unwrap().clone();
        renamed.name = "older".into();
        c.upsert_tenant(renamed, Some("old")).unwrap();
        c.save().unwrap();
        let text = std::fs::read_to_string(d.path().join(FILE_NAME)).unwrap();
        assert!(text.contains("# my notes") && text.contains("future_setting = 7"));
        assert!(text.contains("newer_field = \"kept\""), "{text}");
        let again = ConfigFile::load(d.path()).unwrap();
        assert_eq!(again.tenants().len(), 2);
        assert_eq!(again.tenant("acme-prod"), Some(&sample()));
        assert!(again.tenant("older").is_some() && again.tenant("old").is_none());
        assert!(!again.demo_tenant());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(d.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn alert_settings_are_read_and_kept_when_a_tenant_is_saved_without_them() {
        let d = dir();
        std::fs::write(
            d.path().join(FILE_NAME),
            "[[tenants]]\nname = \"a\"\nkind = \"vigil\"\nurl = \"https://a.example\"\n[tenants.alerts]\nnew_ip = true\nmuted = [\"long_session\"]\nmax_concurrent_sessions = 3\n",
        )
        .unwrap();
        let mut c = ConfigFile::load(d.path()).unwrap();
        let alerts = c.tenant("a").unwrap().alerts.clone().unwrap();
        assert!(alerts.new_ip && alerts.superuser_sign_in);
        assert_eq!(alerts.max_concurrent_sessions, Some(3));
        assert_eq!(alerts.muted, vec![crate::alerts::Rule::LongSession]);
        let mut edited = TenantConfig::new("a", ConnectorKind::Vigil, "https://a2.example");
        edited.poll_interval_secs = 60;
        c.upsert_tenant(edited, Some("a")).unwrap();
        c.save().unwrap();
        let again = ConfigFile::load(d.path()).unwrap();
        assert_eq!(again.tenant("a").unwrap().url, "https://a2.example");
        assert_eq!(again.tenant("a").unwrap().alerts, Some(alerts));
    }

    #[test]
    fn alert_settings_from_the_window_are_written_and_read_back_with_off_limits() {
        let d = dir();
        let mut c = ConfigFile::load(d.path()).unwrap();
        let mut t = sample();
        t.alerts = Some(crate::alerts::AlertSettings {
            odd_hours: false,
            max_session_age_hours: None,
            max_concurrent_sessions: Some(4),
            max_travel_kmh: 1_200,
            muted: vec![crate::alerts::Rule::NewIp],
            ..Default::default()
        });
        c.upsert_tenant(t.clone(), None).unwrap();
        c.save().unwrap();
        let text = std::fs::read_to_string(d.path().join(FILE_NAME)).unwrap();
        assert!(text.contains("max_session_age_hours = 0"), "{text}");
        let again = ConfigFile::load(d.path()).unwrap();
        assert_eq!(again.tenant("acme-prod").unwrap().alerts, t.alerts);
        let mut bad = t.clone();
        bad.alerts = Some(crate::alerts::AlertSettings {
            digest_over: 0,
            ..Default::default()
        });
        let e = bad.validate().unwrap_err();
        assert!(e.message.contains("alerts: digest_over"), "{e}");
    }

    #[test]
    fn remove_and_duplicates() {
        let d = dir();
        let mut c = ConfigFile::load(d.path()).unwrap();
        c.upsert_tenant(sample(), None).unwrap();
        let e = c.upsert_tenant(sample(), None).unwrap_err();
        assert_eq!(e.code, ErrorCode::Conflict);
        assert!(c.remove_tenant("acme-prod").unwrap());
        assert!(!c.remove_tenant("acme-prod").unwrap());
        c.save().unwrap();
        assert!(ConfigFile::load(d.path()).unwrap().tenants().is_empty());
        let e = c.upsert_tenant(sample(), Some("ghost")).unwrap_err();
        assert_eq!(e.code, ErrorCode::NotFound);
    }

    #[test]
    fn errors_name_the_file_line_and_field() {
        let cases = [
            (
                "[[tenants]]\nname = \"a\"\nkind = \"vigil\"\nurl = \"https://a.example\"\ntimezone = \"Mars/Base\"\n",
                ":5: tenant 'a': timezone:",
            ),
            (
                "[[tenants]]\nname = \"a\"\nkind = \"nope\"\nurl = \"https://a.example\"\n",
                ":3: tenant 'a': kind: unknown connector kind",
            ),
            (
                "[[tenants]]\nname = \"a\"\nkind = \"vigil\"\nurl = \"http://a.example\"\n",
                ":4: tenant 'a': url: refusing plain http",
            ),
            (
                "[[tenants]]\nname = \"a\"\nkind = \"vigil\"\nurl = \"https://a\"\nhours = \"mon 9-5\"\n",
                ":5: tenant 'a': hours:",
            ),
            (
                "[[tenants]]\nname = \"a\"\nkind = \"vigil\"\nurl = \"https://a\"\npoll_interval_secs = 1\n",
                ":5: tenant 'a': poll_interval_secs:",
            ),
            (
                "[[tenants]]\nname = \"a\"\nkind = \"vigil\"\nurl = \"https://a\"\n[[tenants]]\nname = \"a\"\nkind = \"vigil\"\nurl = \"https://b\"\n",
                ":6: tenant 'a': name: a tenant with this name",
            ),
            (
                "[[tenants]]\nname = \"a\"\nkind = \"vigil\"\nurl = \"https://a\"\npoll_interval_secs = \"soon\"\n",
                "line 5",
            ),
            ("[[tenants]\nname = ", "line 1"),
            (
                "[[tenants]]\nname = \"a\"\nkind = \"vigil\"\n",
                "missing field `url`",
            ),
        ];
        for (text, want) in cases {
            let d = dir();
            std::fs::write(d.path().join(FILE_NAME), text).unwrap();
            let e = ConfigFile::load(d.path()).unwrap_err();
            assert_eq!(e.code, ErrorCode::Config);
            assert!(e.message.contains("config.toml"), "{}", e.message);
            assert!(e.message.contains(want), "want {want:?} in {:?}", e.message);
        }
    }

    #[test]
    fn validation_checks_every_field() {
        let mut t = sample();
        t.options.insert("realm".into(), "x".into());
        assert!(t.validate().unwrap_err().message.contains("unknown option"));
        let mut t = sample();
        t.holidays = vec!["tomorrow".into()];
        assert!(t.validate().unwrap_err().message.contains("holidays"));
        let mut t = sample();
        t.name = "bad name".into();
        assert!(t.validate().unwrap_err().message.contains("name"));
        assert!(
            sample()
                .spec()
                .is_ok_and(|s| s.poll_interval == Duration::from_secs(15))
        );
    }

    #[test]
    fn atomic_writes_leave_no_temp_files() {
        let d = dir();
        let p = d.path().join("x.toml");
        write_atomic(&p, b"a = 1\n").unwrap();
        write_atomic(&p, b"a = 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a = 2\n");
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
