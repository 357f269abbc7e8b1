//! `vigil audit share|init|sync|verify` and `vigil audit --shared`: the team's shared
//! audit store (PostgreSQL), fed from each operator's local audit.

use clap::Subcommand;
use vigil_core::SecretString;
use vigil_core::secrets::{KeyringStore, SecretStore};
use vigil_core::shared_audit::{self, SECRET_ACCOUNT, SECRET_SERVICE, SharedAuditConfig};

use crate::{Failure, tenants};

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Replicate this machine's audit to a shared PostgreSQL store (`[audit.shared]`;
    /// the password goes to the keychain).
    Share {
        /// postgres://USER@HOST:PORT/DATABASE (no password in it).
        url: String,
        /// Connect without TLS (a server on this machine or a trusted network only).
        #[arg(long)]
        no_tls: bool,
        /// A PEM file of the CA to trust for the server's certificate.
        #[arg(long)]
        ca_certificate: Option<String>,
        /// Read the password from stdin instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Create the shared table (as its owner; password in $PGPASSWORD) and let operator
    /// roles append to it.
    Init {
        /// postgres://OWNER@HOST:PORT/DATABASE
        url: String,
        #[arg(long)]
        no_tls: bool,
        /// An existing login role that may append and read.
        #[arg(long = "grant", value_name = "ROLE")]
        grants: Vec<String>,
    },
    /// Send the events the shared store does not have yet.
    Sync,
    /// Check the shared store's hash chain from its first row.
    Verify,
}

fn fail(e: &vigil_core::Error) -> Failure {
    Failure {
        code: 1,
        message: e.message.clone(),
    }
}

async fn password() -> Result<Option<SecretString>, Failure> {
    vigil_core::task::blocking(|| KeyringStore::new(SECRET_SERVICE).get(SECRET_ACCOUNT))
        .await
        .map_err(|e| fail(&e))
}

/// The configured shared store, connected.
async fn client() -> Result<(SharedAuditConfig, tokio_postgres::Client), Failure> {
    let cfg = tenants::load_config()?;
    let shared = cfg.shared_audit().cloned().ok_or_else(|| {
        Failure::usage(&vigil_core::Error::config(
            "no shared audit store is configured: `vigil audit share postgres://USER@HOST/DB`",
        ))
    })?;
    let c = shared_audit::connect(&shared, password().await?.as_ref())
        .await
        .map_err(|e| fail(&e))?;
    Ok((shared, c))
}

/// After an action: send its events to the shared store if one is configured; a failure
/// is said, not fatal (the events wait in the local audit for the next run).
pub async fn sync_quietly(audit: &vigil_core::audit::AuditLog) {
    let Ok(cfg) = tenants::load_config() else {
        return;
    };
    let Some(shared) = cfg.shared_audit().cloned() else {
        return;
    };
    let pw = password().await.ok().flatten();
    let result = match shared_audit::connect(&shared, pw.as_ref()).await {
        Ok(mut c) => shared_audit::replicate(audit, &mut c).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        let pending = shared_audit::pending(audit).unwrap_or(0);
        complain!(
            "vigil: {} ({pending} events wait in the local audit and go with the next run)",
            e.message
        );
    }
}

pub async fn run(command: AuditCommand) -> Result<(), Failure> {
    match command {
        AuditCommand::Share {
            url,
            no_tls,
            ca_certificate,
            password_stdin,
        } => {
            let shared = SharedAuditConfig {
                url,
                tls: !no_tls,
                ca_certificate,
            };
            shared.validate().map_err(|e| Failure::usage(&e))?;
            let pw = tenants::read_secret("shared audit", "password", password_stdin)?;
            // Check it works before keeping it.
            let mut c = shared_audit::connect(&shared, Some(&pw))
                .await
                .map_err(|e| fail(&e))?;
            let dir = vigil_core::config::config_dir().map_err(|e| Failure::usage(&e))?;
            let book = vigil_core::tenants::TenantBook::new(
                dir,
                std::sync::Arc::new(KeyringStore::default()),
            );
            let s = shared.clone();
            vigil_core::task::blocking(move || {
                KeyringStore::new(SECRET_SERVICE).set(SECRET_ACCOUNT, &pw)?;
                book.update(|f| f.set_shared_audit(Some(s)))?;
                Ok(())
            })
            .await
            .map_err(|e| fail(&e))?;
            let audit = vigil_core::audit::AuditLog::open_default().map_err(|e| fail(&e))?;
            let n = shared_audit::replicate(&audit, &mut c)
                .await
                .map_err(|e| fail(&e))?;
            say!(
                "sharing this machine's audit with {}; {n} events sent",
                shared.url
            );
            Ok(())
        }
        AuditCommand::Init {
            url,
            no_tls,
            grants,
        } => {
            let cfg = SharedAuditConfig {
                url,
                tls: !no_tls,
                ca_certificate: None,
            };
            cfg.validate().map_err(|e| Failure::usage(&e))?;
            let pw = std::env::var("PGPASSWORD").ok().map(SecretString::new);
            let c = shared_audit::connect(&cfg, pw.as_ref())
                .await
                .map_err(|e| fail(&e))?;
            shared_audit::init(&c, &grants)
                .await
                .map_err(|e| fail(&e))?;
            say!("shared audit table ready; operators: {}", grants.join(", "));
            Ok(())
        }
        AuditCommand::Sync => {
            let (_, mut c) = client().await?;
            let audit = vigil_core::audit::AuditLog::open_default().map_err(|e| fail(&e))?;
            let n = shared_audit::replicate(&audit, &mut c)
                .await
                .map_err(|e| fail(&e))?;
            say!(
                "{n} events sent; {} waiting",
                shared_audit::pending(&audit).unwrap_or(0)
            );
            Ok(())
        }
        AuditCommand::Verify => {
            let (shared, c) = client().await?;
            let v = shared_audit::verify(&c).await.map_err(|e| fail(&e))?;
            say!("{}: intact, {} rows; head {}", shared.url, v.rows, v.head);
            Ok(())
        }
    }
}

/// `vigil audit --shared`: the team's events, newest first.
pub async fn show(
    tenant: Option<String>,
    search: Option<String>,
    json: bool,
) -> Result<(), Failure> {
    let (_, c) = client().await?;
    let events = shared_audit::list(&c, tenant.as_deref(), search.as_deref(), 1_000)
        .await
        .map_err(|e| fail(&e))?;
    for e in &events {
        if json {
            println!("{}", serde_json::to_string(e).unwrap_or_default());
        } else {
            say!(
                "{}  {}  {} ({})  {}  {}  {}  {}  {}",
                e.seq,
                e.at,
                e.operator,
                e.db_user,
                e.machine,
                e.tenant,
                e.action,
                e.target_user.as_deref().unwrap_or(&e.target),
                e.state
            );
        }
    }
    Ok(())
}
