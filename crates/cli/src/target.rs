//! Which tenants a command works on: configured ones (secrets from the OS keychain) or an
//! ad-hoc one given by URL (its secret from `$VIGIL_SECRET`), and their connectors.

use std::sync::Arc;

use clap::Args;
use vigil_core::connector::{self, Connector};
use vigil_core::model::{ConnectorKind, TenantSpec};
use vigil_core::secrets::{KeyringStore, SecretStore};
use vigil_core::{Error, SecretString};

use crate::{Failure, tenants};

/// Which tenants a command works on: configured ones (secrets from the OS keychain), or
/// an ad-hoc one given by URL (its secret from `$VIGIL_SECRET`).
#[derive(Args, Clone)]
pub(crate) struct AdHocTenant {
    /// A configured tenant (repeatable where a command accepts several; default: all).
    #[arg(long = "tenant", value_name = "NAME")]
    pub(crate) tenants: Vec<String>,
    /// An ad-hoc tenant's base URL instead of a configured one.
    #[arg(long, conflicts_with = "tenants")]
    pub(crate) url: Option<String>,
    /// The ad-hoc tenant's connector kind.
    #[arg(long, default_value = "vigil")]
    pub(crate) kind: String,
    /// Name shown for the ad-hoc tenant (default: the URL's host).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// An ad-hoc tenant's kind-specific option, KEY=VALUE (repeatable), e.g. realm=master.
    #[arg(long = "option", value_name = "KEY=VALUE", requires = "url")]
    pub(crate) options: Vec<String>,
}

/// A tenant that could not be set up (no secret, keychain unavailable).
pub(crate) struct Unusable {
    pub(crate) tenant: String,
    pub(crate) error: Error,
}

/// The `[people]` links of the config file (none for an ad-hoc tenant).
pub(crate) fn links(t: &AdHocTenant) -> Result<vigil_core::people::PeopleConfig, Failure> {
    if t.url.is_some() {
        return Ok(Default::default());
    }
    Ok(tenants::load_config()?.people().clone())
}

/// Each targeted tenant's name and tags (an ad-hoc tenant has none).
pub(crate) fn tenant_tags(
    t: &AdHocTenant,
    connectors: &[Arc<dyn Connector>],
) -> Result<Vec<(String, Vec<String>)>, Failure> {
    if t.url.is_some() {
        return Ok(connectors
            .iter()
            .map(|c| (c.tenant().to_string(), Vec::new()))
            .collect());
    }
    Ok(tenants::load_config()?
        .tenants()
        .iter()
        .map(|c| (c.name.clone(), c.tags.clone()))
        .collect())
}

/// Builds the connectors a command targets. Configuration problems are usage errors
/// (exit 2); a tenant whose secret cannot be read is reported and skipped (exit 1 later).
pub(crate) async fn resolve(
    t: &AdHocTenant,
) -> Result<(Vec<Arc<dyn Connector>>, Vec<Unusable>), Failure> {
    if let Some(url) = &t.url {
        return Ok((
            vec![adhoc(url, &t.kind, t.name.as_deref(), &t.options)?],
            Vec::new(),
        ));
    }
    let config = tenants::load_config()?;
    let wanted: Vec<vigil_core::config::TenantConfig> = if t.tenants.is_empty() {
        if config.tenants().is_empty() {
            return Err(Failure::usage(&Error::config(format!(
                "no tenants configured in {}: add one with `vigil tenant add`, or pass --url",
                config.path().display()
            ))));
        }
        config.tenants().to_vec()
    } else {
        let mut v = Vec::new();
        for name in &t.tenants {
            match config.tenant(name) {
                Some(c) => v.push(c.clone()),
                None => {
                    return Err(Failure::usage(&Error::invalid_input(format!(
                        "no tenant named '{name}' (see `vigil tenant list`)"
                    ))));
                }
            }
        }
        v
    };
    let store: Arc<dyn SecretStore> = Arc::new(KeyringStore::default());
    let mut connectors = Vec::new();
    let mut unusable = Vec::new();
    let connected = vigil_core::tenants::connect_all(&wanted, store).await;
    for (cfg, result) in wanted.iter().zip(connected) {
        match result {
            Ok(c) => connectors.push(c),
            Err(error) => unusable.push(Unusable {
                tenant: cfg.name.clone(),
                error,
            }),
        }
    }
    Ok((connectors, unusable))
}

/// Exactly one tenant, for actions.
pub(crate) async fn resolve_one(t: &AdHocTenant) -> Result<Arc<dyn Connector>, Failure> {
    if t.url.is_none() && t.tenants.len() != 1 {
        return Err(Failure::usage(&Error::invalid_input(
            "name one tenant: --tenant NAME (or --url URL)",
        )));
    }
    let (mut connectors, unusable) = resolve(t).await?;
    if let Some(u) = unusable.into_iter().next() {
        return Err(Failure::tenant(&u.tenant, &u.error));
    }
    connectors
        .pop()
        .ok_or_else(|| Failure::usage(&Error::invalid_input("no tenant selected")))
}

/// Builds the connector for an ad-hoc tenant; the secret comes from `$VIGIL_SECRET`.
pub(crate) fn adhoc(
    url: &str,
    kind: &str,
    name: Option<&str>,
    options: &[String],
) -> Result<Arc<dyn Connector>, Failure> {
    let kind: ConnectorKind = kind.parse().map_err(|e| Failure::usage(&e))?;
    let url = vigil_core::model::parse_base_url(url).map_err(|e| Failure::usage(&e))?;
    let name = match name {
        Some(n) => n.to_owned(),
        None => url
            .host_str()
            .unwrap_or("tenant")
            .trim_matches(['[', ']'])
            .replace(':', "-"),
    };
    let mut spec = TenantSpec::new(&name, kind, url.as_str()).map_err(|e| Failure::usage(&e))?;
    spec.options = tenants::parse_options(options).map_err(|e| Failure::usage(&e))?;
    let secret = match std::env::var("VIGIL_SECRET") {
        Ok(s) if !s.is_empty() => SecretString::new(s),
        _ => {
            return Err(Failure::usage(&Error::config(
                "VIGIL_SECRET is not set: an ad-hoc tenant (--url) takes its token from that environment variable",
            )));
        }
    };
    connector::build(&spec, secret).map_err(|e| Failure::usage(&e))
}
