//! Writing the configuration file: each change edits the parsed `toml_edit` document in
//! place (comments and unknown fields survive), and [`ConfigFile::save`] writes it
//! atomically.

use std::path::Path;

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value, value};

use super::{ConfigFile, TenantConfig};
use crate::error::{Error, ErrorCode, Result};
use crate::settings::AppSettings;

impl ConfigFile {
    /// Adds a tenant, or replaces `previous` (which may be a rename). In memory only:
    /// call [`ConfigFile::save`].
    pub fn upsert_tenant(&mut self, tenant: TenantConfig, previous: Option<&str>) -> Result<()> {
        tenant.validate()?;
        let target = previous.unwrap_or(&tenant.name);
        let exists = self.tenants.iter().position(|t| t.name == target);
        if previous.is_some() && exists.is_none() {
            return Err(Error::new(
                ErrorCode::NotFound,
                format!("no tenant named '{target}'"),
            ));
        }
        if self
            .tenants
            .iter()
            .any(|t| t.name == tenant.name && Some(t.name.as_str()) != previous)
        {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("a tenant named '{}' already exists", tenant.name),
            ));
        }
        let tables = self.tenant_tables()?;
        let pos = tables
            .iter()
            .position(|t| t.get("name").and_then(Item::as_str) == Some(target));
        let pos = match pos {
            Some(p) => p,
            None => {
                tables.push(Table::new());
                tables.len() - 1
            }
        };
        let table = tables
            .get_mut(pos)
            .ok_or_else(|| Error::internal("tenant table vanished"))?;
        write_tenant(table, &tenant);
        let mut tenant = tenant;
        match exists {
            Some(i) => {
                // The file's alert settings stay when the caller did not send any.
                if tenant.alerts.is_none() {
                    tenant.alerts = self.tenants[i].alerts.clone();
                }
                self.tenants[i] = tenant;
            }
            None => self.tenants.push(tenant),
        }
        Ok(())
    }

    /// Removes a tenant (in memory; call [`ConfigFile::save`]). Returns whether it existed.
    pub fn remove_tenant(&mut self, name: &str) -> Result<bool> {
        let Some(i) = self.tenants.iter().position(|t| t.name == name) else {
            return Ok(false);
        };
        let tables = self.tenant_tables()?;
        let mut idx = None;
        for (j, t) in tables.iter().enumerate() {
            if t.get("name").and_then(Item::as_str) == Some(name) {
                idx = Some(j);
            }
        }
        if let Some(j) = idx {
            tables.remove(j);
        }
        self.tenants.remove(i);
        Ok(true)
    }

    /// Replaces `[alerts]` after checking it (in memory; call [`ConfigFile::save`]).
    /// The section is written anew; the rest of the file, comments included, stays.
    pub fn set_alerts(&mut self, alerts: crate::tuning::AlertsFile) -> Result<()> {
        alerts.validate()?;
        self.doc.insert("alerts", to_item(&alerts)?);
        self.alerts = alerts;
        Ok(())
    }

    /// Replaces `[audit.shared]` (in memory; call [`ConfigFile::save`]); `None` removes it.
    pub fn set_shared_audit(
        &mut self,
        shared: Option<crate::shared_audit::SharedAuditConfig>,
    ) -> Result<()> {
        let audit = self.doc.entry("audit").or_insert(toml_edit::table());
        let t = audit
            .as_table_like_mut()
            .ok_or_else(|| Error::config("`audit` in the config file is not a table ([audit])"))?;
        match &shared {
            Some(s) => {
                s.validate()?;
                t.insert("shared", to_item(s)?);
            }
            None => {
                t.remove("shared");
            }
        }
        self.shared_audit = shared;
        Ok(())
    }

    /// Replaces the `[people]` links (in memory; call [`ConfigFile::save`]).
    pub fn set_people(&mut self, people: crate::people::PeopleConfig) -> Result<()> {
        people.validate()?;
        let mut table = toml_edit::Table::new();
        let mut links = toml_edit::ArrayOfTables::new();
        for l in &people.link {
            let mut t = Table::new();
            t.insert("person", value(&l.person));
            t.insert("tenant", value(&l.tenant));
            t.insert("user", value(&l.user));
            links.push(t);
        }
        let mut unlinks = toml_edit::ArrayOfTables::new();
        for u in &people.unlink {
            let mut t = Table::new();
            t.insert("tenant", value(&u.tenant));
            t.insert("user", value(&u.user));
            unlinks.push(t);
        }
        if !links.is_empty() {
            table.insert("link", toml_edit::Item::ArrayOfTables(links));
        }
        if !unlinks.is_empty() {
            table.insert("unlink", toml_edit::Item::ArrayOfTables(unlinks));
        }
        self.doc.insert("people", toml_edit::Item::Table(table));
        self.people = people;
        Ok(())
    }

    /// Replaces the app's settings after checking them (in memory; call
    /// [`ConfigFile::save`]). Other keys of `[app]`, comments included, stay.
    pub fn set_settings(&mut self, settings: AppSettings) -> Result<()> {
        let settings = settings.normalized();
        settings.validate()?;
        let app = self.doc.entry("app").or_insert(toml_edit::table());
        let t = app
            .as_table_like_mut()
            .ok_or_else(|| Error::config("`app` in the config file is not a table ([app])"))?;
        t.insert(
            "default_poll_interval_secs",
            value(i64::try_from(settings.default_poll_interval_secs).unwrap_or(i64::MAX)),
        );
        t.insert("notifications", value(settings.notifications));
        t.insert(
            "notify_min_severity",
            value(settings.notify_min_severity.as_str()),
        );
        t.insert("geoip_database", value(&settings.geoip_database));
        t.insert(
            "history_retention_days",
            value(i64::from(settings.history_retention_days)),
        );
        t.insert("theme", value(settings.theme.as_str()));
        t.insert("start_at_login", value(settings.start_at_login));
        t.insert("keep_running_in_tray", value(settings.keep_running_in_tray));
        self.settings = settings;
        Ok(())
    }

    pub fn set_demo_tenant(&mut self, on: bool) {
        self.demo_tenant = Some(on);
        let app = self.doc.entry("app").or_insert(toml_edit::table());
        if let Some(t) = app.as_table_like_mut() {
            t.insert("demo_tenant", value(on));
        }
    }

    fn tenant_tables(&mut self) -> Result<&mut toml_edit::ArrayOfTables> {
        let item = self
            .doc
            .entry("tenants")
            .or_insert(Item::ArrayOfTables(toml_edit::ArrayOfTables::new()));
        item.as_array_of_tables_mut().ok_or_else(|| {
            Error::config("`tenants` in the config file is not an array of tables ([[tenants]])")
        })
    }

    /// Writes the file atomically, readable by the owner only.
    pub fn save(&self) -> Result<()> {
        let text = self.render();
        write_atomic(&self.path, text.as_bytes())
    }

    fn render(&self) -> String {
        let body = self.doc.to_string();
        if body.starts_with("# Vigil") {
            body
        } else {
            format!(
                "# Vigil configuration. Secrets are not stored here: they live in the OS keychain.\n{body}"
            )
        }
    }
}

/// A serializable value as a TOML table item (`None` fields left out).
fn to_item<T: serde::Serialize>(v: &T) -> Result<Item> {
    let text = toml::to_string(v).map_err(|e| Error::internal(format!("config: {e}")))?;
    let doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| Error::internal(format!("config: {e}")))?;
    Ok(Item::Table(doc.as_table().clone()))
}

fn write_tenant(t: &mut Table, c: &TenantConfig) {
    t.insert("name", value(&c.name));
    t.insert("kind", value(c.kind.as_str()));
    t.insert("url", value(&c.url));
    set_opt(t, "timezone", c.timezone.as_deref());
    set_opt(t, "hours", c.hours.as_deref());
    set_opt(t, "ca_certificate", c.ca_certificate.as_deref());
    if c.plain_http_allowed() {
        t.insert("allow_plain_http", value(true));
    } else {
        t.remove("allow_plain_http");
    }
    for (key, v) in [
        ("max_listing_items", c.max_listing_items),
        ("max_listing_mib", c.max_listing_mib),
    ] {
        match v {
            Some(v) => {
                t.insert(key, value(i64::try_from(v).unwrap_or(i64::MAX)));
            }
            None => {
                t.remove(key);
            }
        }
    }
    if c.holidays.is_empty() {
        t.remove("holidays");
    } else {
        t.insert("holidays", value(c.holidays.iter().collect::<Array>()));
    }
    t.insert(
        "poll_interval_secs",
        value(i64::try_from(c.poll_interval_secs).unwrap_or(i64::MAX)),
    );
    if c.tags.is_empty() {
        t.remove("tags");
    } else {
        t.insert("tags", value(c.tags.iter().collect::<Array>()));
    }
    if let Some(a) = &c.alerts {
        let mut table = Table::new();
        for (key, on) in [
            ("superuser_sign_in", a.superuser_sign_in),
            ("odd_hours", a.odd_hours),
            ("multiple_networks", a.multiple_networks),
            ("new_ip", a.new_ip),
            ("tenant_problems", a.tenant_problems),
            ("impossible_travel", a.impossible_travel),
            ("alert_on_existing", a.alert_on_existing),
        ] {
            table.insert(key, value(on));
        }
        for (key, n) in [
            ("max_travel_kmh", a.max_travel_kmh),
            // TOML has no null: 0 is "off".
            (
                "max_session_age_hours",
                a.max_session_age_hours.unwrap_or(0),
            ),
            (
                "max_concurrent_sessions",
                a.max_concurrent_sessions.unwrap_or(0),
            ),
            ("digest_over", a.digest_over),
            ("max_per_minute", a.max_per_minute),
        ] {
            table.insert(key, value(i64::from(n)));
        }
        table.insert(
            "muted",
            value(a.muted.iter().map(|r| r.as_str()).collect::<Array>()),
        );
        t.insert("alerts", Item::Table(table));
    }
    if c.options.is_empty() {
        t.remove("options");
    } else {
        let mut inline = InlineTable::new();
        for (k, v) in &c.options {
            inline.insert(k, Value::from(v.as_str()));
        }
        t.insert("options", value(inline));
    }
}

fn set_opt(t: &mut Table, key: &str, v: Option<&str>) {
    match v {
        Some(v) => {
            t.insert(key, value(v));
        }
        None => {
            t.remove(key);
        }
    }
}

/// Writes `bytes` to `path` via a temporary file in the same directory, then renames it
/// over the target, so a crash leaves either the old or the new file, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .ok_or_else(|| Error::config(format!("{}: no parent directory", path.display())))?;
    let fail = |what: &str, e: std::io::Error| {
        Error::config(format!("{}: cannot {what}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail("create the directory", e))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("config"),
        std::process::id()
    ));
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| fail("write", e))?;
        f.write_all(bytes).map_err(|e| fail("write", e))?;
        f.sync_all().map_err(|e| fail("sync", e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| fail("replace", e))?;
        #[cfg(unix)]
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
