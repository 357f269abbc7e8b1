//! `vigil tenant add|list|test|remove`: configured tenants, secrets in the OS keychain.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::sync::Arc;

use clap::{Args, Subcommand};
use vigil_core::config::{self, ConfigFile, TenantConfig};
use vigil_core::connector::{self, Connector};
use vigil_core::model::ConnectorKind;
use vigil_core::secrets::{KeyringStore, SecretStore};
use vigil_core::{Error, ErrorCode, SecretString};

use crate::Failure;

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Add a tenant; its secret goes to the OS keychain, never to a file.
    Add(Box<AddArgs>),
    /// List configured tenants.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Test a tenant: reachable, credential accepted, permissions, clock offset.
    Test { name: String },
    /// Remove a tenant and its keychain secret.
    Remove { name: String },
}

pub fn load_config() -> Result<ConfigFile, Failure> {
    let dir = config::config_dir().map_err(|e| Failure::usage(&e))?;
    ConfigFile::load(&dir).map_err(|e| Failure::usage(&e))
}

fn book(store: Arc<dyn SecretStore>) -> Result<vigil_core::tenants::TenantBook, Failure> {
    vigil_core::tenants::TenantBook::open_default(store).map_err(|e| Failure::usage(&e))
}

/// The connector of a configured tenant, with its secret from the keychain.
pub async fn connector_for(
    cfg: &TenantConfig,
    store: Arc<dyn SecretStore>,
) -> Result<Arc<dyn Connector>, Error> {
    vigil_core::tenants::connect(cfg, store).await
}

#[derive(Args)]
pub struct AddArgs {
    name: String,
    #[arg(long)]
    kind: String,
    /// Base URL of the tenant's admin API.
    #[arg(long)]
    url: String,
    /// Kind-specific option, KEY=VALUE (repeatable).
    #[arg(long = "option", value_name = "KEY=VALUE")]
    options: Vec<String>,
    /// IANA timezone of the tenant (for working hours).
    #[arg(long)]
    timezone: Option<String>,
    /// Working hours, e.g. 'mon-fri 08:00-18:00; sat 09:00-12:00'.
    #[arg(long)]
    hours: Option<String>,
    /// A holiday, YYYY-MM-DD (repeatable).
    #[arg(long = "holiday", value_name = "DATE")]
    holidays: Vec<String>,
    /// Seconds between polls.
    #[arg(long, default_value_t = vigil_core::settings::DEFAULT_POLL_INTERVAL_SECS)]
    poll_interval: u64,
    /// A tag or group (repeatable).
    #[arg(long = "tag")]
    tags: Vec<String>,
    /// Read the secret from standard input instead of prompting.
    #[arg(long)]
    secret_stdin: bool,
    /// A PEM file of CA certificates to trust for this tenant (a private CA).
    #[arg(long, value_name = "PEM_FILE")]
    ca_certificate: Option<String>,
    /// Accept a plain http:// URL to a non-loopback host (the token crosses the network in
    /// clear).
    #[arg(long)]
    allow_plain_http: bool,
    /// Items (users, sessions, log events) one poll may list; default 1,000,000.
    #[arg(long, value_name = "N")]
    max_listing_items: Option<u64>,
    /// MiB of responses one poll may read; default 512.
    #[arg(long, value_name = "MIB")]
    max_listing_mib: Option<u64>,
}

pub async fn run(command: TenantCommand) -> Result<(), Failure> {
    let store: Arc<dyn SecretStore> = Arc::new(KeyringStore::default());
    match command {
        TenantCommand::Add(args) => {
            let AddArgs {
                name,
                kind,
                url,
                options,
                timezone,
                hours,
                holidays,
                poll_interval,
                tags,
                secret_stdin,
                ca_certificate,
                allow_plain_http,
                max_listing_items,
                max_listing_mib,
            } = *args;
            let kind: ConnectorKind = kind.parse().map_err(|e| Failure::usage(&e))?;
            let opts = parse_options(&options).map_err(|e| Failure::usage(&e))?;
            let tenant = TenantConfig {
                name: name.clone(),
                kind,
                url,
                options: opts,
                timezone,
                hours,
                holidays,
                poll_interval_secs: poll_interval,
                tags,
                alerts: None,
                ca_certificate,
                allow_plain_http: allow_plain_http.then_some(true),
                max_listing_items,
                max_listing_mib,
            };
            tenant.validate().map_err(|e| Failure::usage(&e))?;
            if load_config()?.tenant(&name).is_some() {
                return Err(Failure::usage(&Error::new(
                    ErrorCode::Conflict,
                    format!("a tenant named '{name}' already exists (remove it first)"),
                )));
            }
            let label = connector::kind_info(kind).secret_label;
            let secret = read_secret(&name, &label, secret_stdin)?;
            // The core's one tenant-editing path: under the config lock, the file is
            // read again after the prompt, keychain first, rolled back if the file fails.
            let book = book(store)?;
            vigil_core::task::blocking(move || book.save(tenant, Some(secret), None))
                .await
                .map_err(|e| match e.code {
                    ErrorCode::SecretStore => Failure::tenant(&name, &e),
                    _ => Failure::usage(&e),
                })?;
            say!("added tenant '{name}' ({kind}); its {label} is in the OS keychain");
            say!("check it with: vigil tenant test {name}");
            Ok(())
        }
        TenantCommand::List { json } => {
            let cfg = load_config()?;
            if json {
                let out = serde_json::to_string_pretty(cfg.tenants()).map_err(|e| Failure {
                    code: 1,
                    message: e.to_string(),
                })?;
                println!("{out}");
                return Ok(());
            }
            say!(
                "{:<20} {:<8} {:<40} {:<18} {:>6}  TAGS",
                "NAME",
                "KIND",
                "URL",
                "TIMEZONE",
                "POLL"
            );
            for t in cfg.tenants() {
                say!(
                    "{:<20} {:<8} {:<40} {:<18} {:>5}s  {}",
                    t.name,
                    t.kind,
                    t.url,
                    t.timezone.as_deref().unwrap_or("-"),
                    t.poll_interval_secs,
                    t.tags.join(",")
                );
            }
            say!(
                "{} tenants in {}",
                cfg.tenants().len(),
                cfg.path().display()
            );
            Ok(())
        }
        TenantCommand::Test { name } => {
            let cfg = load_config()?;
            let t = cfg.tenant(&name).ok_or_else(|| {
                Failure::usage(&Error::invalid_input(format!("no tenant named '{name}'")))
            })?;
            let c = connector_for(t, store)
                .await
                .map_err(|e| Failure::tenant(&name, &e))?;
            let check = c.check().await;
            let yes = |b: bool| if b { "yes" } else { "no" };
            say!("tenant:        {name} ({}, {})", t.kind, t.url);
            say!("reachable:     {}", yes(check.reachable));
            say!(
                "credential:    {}",
                if check.authenticated {
                    "accepted"
                } else {
                    "not accepted"
                }
            );
            if let Some(ms) = check.latency_ms {
                say!("latency:       {ms} ms");
            }
            if let Some(off) = check.clock_offset_ms {
                say!(
                    "clock offset:  {:+.1} s (server minus local)",
                    off as f64 / 1000.0
                );
            }
            if let Some(tz) = &check.timezone {
                say!("server zone:   {tz}");
            }
            if !check.permissions.is_empty() {
                say!("permissions:   {}", check.permissions.join(", "));
            }
            if let Some(caps) = check.capabilities {
                let can = [
                    ("list sessions", caps.list_sessions),
                    ("end a session", caps.end_session),
                    ("end all of a user", caps.end_user_sessions),
                    ("disable", caps.disable_user),
                    ("re-enable", caps.enable_user),
                    ("detect SuperUsers", caps.superuser_detection),
                    ("change feed", caps.change_feed),
                ];
                let list: Vec<String> = can
                    .iter()
                    .map(|(what, ok)| format!("{what}: {}", yes(*ok)))
                    .collect();
                say!("capabilities:  {}", list.join("; "));
            }
            match check.error {
                None => Ok(()),
                Some(e) => Err(Failure {
                    code: 1,
                    message: format!("tenant '{name}': {}", e.message),
                }),
            }
        }
        TenantCommand::Remove { name } => {
            let book = book(store)?;
            let n = name.clone();
            vigil_core::task::blocking(move || book.remove(&n))
                .await
                .map_err(|e| match e.code {
                    ErrorCode::NotFound => {
                        Failure::usage(&Error::invalid_input(format!("no tenant named '{name}'")))
                    }
                    ErrorCode::SecretStore => Failure::tenant(&name, &e),
                    _ => Failure::usage(&e),
                })?;
            say!("removed tenant '{name}' and its keychain entry");
            Ok(())
        }
    }
}

/// `KEY=VALUE` option arguments.
pub fn parse_options(options: &[String]) -> Result<BTreeMap<String, String>, Error> {
    let mut opts = BTreeMap::new();
    for o in options {
        let (k, v) = o
            .split_once('=')
            .ok_or_else(|| Error::invalid_input(format!("--option {o:?}: use KEY=VALUE")))?;
        opts.insert(k.trim().to_owned(), v.to_owned());
    }
    Ok(opts)
}

pub(crate) fn read_secret(
    name: &str,
    label: &str,
    from_stdin: bool,
) -> Result<SecretString, Failure> {
    let secret = if from_stdin {
        let mut s = String::new();
        // A secret is a token or a key: a megabyte is far beyond any of them.
        std::io::stdin()
            .take(1024 * 1024)
            .read_to_string(&mut s)
            .map_err(|e| {
                Failure::usage(&Error::invalid_input(format!(
                    "cannot read the secret from stdin: {e}"
                )))
            })?;
        s.trim_end_matches(['\r', '\n']).to_owned()
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{label} for tenant '{name}': ")).map_err(|e| {
            Failure::usage(&Error::invalid_input(format!(
                "cannot read the secret: {e}"
            )))
        })?
    } else {
        return Err(Failure::usage(&Error::invalid_input(
            "no terminal to ask for the secret: pass --secret-stdin and pipe it in",
        )));
    };
    if secret.is_empty() {
        return Err(Failure::usage(&Error::invalid_input("the secret is empty")));
    }
    Ok(SecretString::new(secret))
}
