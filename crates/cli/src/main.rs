//! `vigil` — every Vigil feature from a terminal. A thin shell over vigil-core.
//!
//! Exit codes: 0 success, 1 a tenant or some items failed, 2 usage or configuration error.

/// Prints a line for people on stdout. Tenant text in it (user names, user agents, a
/// server's error code) is shown with visible escapes, never obeyed by the terminal.
/// JSON output is written as it is: it is exact and escapes control characters itself.
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", vigil_core::text::visible(&format!($($arg)*)))
    };
}

/// [`say!`] for messages on stderr.
macro_rules! complain {
    ($($arg:tt)*) => {
        eprintln!("{}", vigil_core::text::visible(&format!($($arg)*)))
    };
}

mod act;
mod output;
mod people;
mod tenants;
mod watch;

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};
use vigil_core::audit::ActionKind;
use vigil_core::connector::{self, Connector, PollUpdate};
use vigil_core::model::{ConnectorKind, TenantSpec};
use vigil_core::secrets::{KeyringStore, SecretStore};
use vigil_core::store::{SessionFilter, SessionQuery, SessionStore, SortColumn};
use vigil_core::{Error, SecretString};

#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    about = "Watch and end the active sessions of many tenants"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The demo tenant (a Vigil Session API server with a living population).
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
    /// Configured tenants: add, list, test, remove.
    Tenant {
        #[command(subcommand)]
        command: tenants::TenantCommand,
    },
    /// List active sessions.
    Sessions(SessionsArgs),
    /// End sessions by id.
    Terminate {
        #[command(flatten)]
        tenant: AdHocTenant,
        /// Session ids to end.
        #[arg(required = true, value_name = "SESSION_ID")]
        sessions: Vec<String>,
    },
    /// End every session of each user (force logout).
    Logout {
        #[command(flatten)]
        tenant: AdHocTenant,
        /// User names.
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
    },
    /// Disable user accounts.
    Disable {
        #[command(flatten)]
        tenant: AdHocTenant,
        /// Also end the users' sessions.
        #[arg(long)]
        end_sessions: bool,
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
    },
    /// One person across every tenant: accounts, sessions, disabled state.
    Person {
        #[command(flatten)]
        tenant: AdHocTenant,
        /// An e-mail address, user name, display name or person key.
        query: String,
        #[arg(long)]
        json: bool,
    },
    /// Incident playbook. With --person: in every tenant where the person has an account,
    /// disable it, end its sessions, revoke tokens and grants and require a new password
    /// (where the tenant can), one confirmation, one audited action. With a user and
    /// --tenant: force logout, then disable, in that tenant.
    Contain {
        #[command(flatten)]
        tenant: AdHocTenant,
        /// The person to contain (e-mail address, user name, display name).
        #[arg(long, conflicts_with = "user")]
        person: Option<String>,
        /// The user to contain in the one tenant named.
        #[arg(required_unless_present = "person")]
        user: Option<String>,
        /// Act without asking.
        #[arg(long)]
        yes: bool,
        #[arg(long, requires = "person")]
        json: bool,
        /// Undo: re-enable the person's accounts everywhere.
        #[arg(long, requires = "person")]
        reenable: bool,
        /// Show what would be done, tenant by tenant, and send nothing.
        #[arg(long, requires = "person", conflicts_with_all = ["reenable", "yes"])]
        dry_run: bool,
        /// Leave the accounts enabled.
        #[arg(long, requires = "person")]
        no_disable: bool,
        /// Leave tokens and grants.
        #[arg(long, requires = "person")]
        no_revoke: bool,
        /// Leave the password alone.
        #[arg(long, requires = "person")]
        no_password: bool,
    },
    /// Links made by hand between accounts and people (kept in the config file).
    People {
        #[command(subcommand)]
        command: PeopleCommand,
    },
    /// Session policies across tenants.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Poll tenants and print each new alert as one JSON line (until interrupted).
    Watch {
        #[command(flatten)]
        tenant: AdHocTenant,
        /// Ad-hoc tenant: its IANA timezone.
        #[arg(long)]
        timezone: Option<String>,
        /// Ad-hoc tenant: working hours, e.g. 'mon-fri 08:00-18:00'.
        #[arg(long)]
        hours: Option<String>,
        /// Ad-hoc tenant: seconds between polls.
        #[arg(long, default_value_t = 5.0)]
        poll_interval: f64,
        /// Also alert on sessions the first poll finds (default: only new ones).
        #[arg(long)]
        alert_on_existing: bool,
        /// A MaxMind city database (.mmdb) for locations and impossible travel (default:
        /// `[app] geoip_database` of the config file).
        #[arg(long, value_name = "FILE")]
        geoip: Option<std::path::PathBuf>,
    },
    /// The audit log: every action, who took it, and what came of it.
    Audit {
        /// Only entries since this time (RFC 3339, YYYY-MM-DD, or 30m / 24h / 7d back).
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        tenant: Option<String>,
        /// Text to find in target, user, actor or result.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        #[arg(long)]
        csv: bool,
    },
    /// Re-enable user accounts.
    Enable {
        #[command(flatten)]
        tenant: AdHocTenant,
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
    },
}

#[derive(Subcommand)]
enum PeopleCommand {
    /// The links and unlinks of the config file.
    List,
    /// The account USER of TENANT is PERSON, whatever its address says.
    Link {
        #[arg(long)]
        tenant: String,
        /// The person's key, usually their e-mail address.
        #[arg(long)]
        person: String,
        user: String,
    },
    /// The account is nobody else's: its own person (e.g. a shared admin account).
    Unlink {
        #[arg(long)]
        tenant: String,
        user: String,
    },
    /// Forget the link or unlink: the account joins people by address or name again.
    Auto {
        #[arg(long)]
        tenant: String,
        user: String,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// End sessions idle or older than a span, in the tenants named or tagged (all by
    /// default), except protected accounts, Vigil's own session and the users listed.
    Run {
        #[command(flatten)]
        tenant: AdHocTenant,
        /// A policy of the config file (`[[policies]]` by name) instead of the flags.
        #[arg(long = "policy", value_name = "NAME", conflicts_with_all = ["idle_over", "older_than"])]
        policy_name: Option<String>,
        /// End sessions without activity for longer than this (8h, 90m, 2d).
        #[arg(long, value_name = "SPAN")]
        idle_over: Option<String>,
        /// End sessions created longer ago than this (30d).
        #[arg(long, value_name = "SPAN")]
        older_than: Option<String>,
        /// Only tenants with this tag (repeatable).
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// Never end this user's sessions (name, e-mail or person; repeatable).
        #[arg(long = "except", value_name = "USER")]
        except: Vec<String>,
        /// List what would end, end nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DemoCommand {
    /// Serve the demo tenant until interrupted. Prints `listening on http://ADDR` first.
    Serve(ServeArgs),
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Sessions at start (the population lives around this size).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(0..=2_000_000))]
    sessions: u32,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Bearer token clients must send; random (and printed to stderr) if absent.
    #[arg(long, env = "VIGIL_DEMO_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The tenant's IANA timezone (drives the working-day curve).
    #[arg(long, default_value = "Europe/Berlin")]
    timezone: String,
    /// Seconds between population changes; 0 freezes the population.
    #[arg(long, default_value_t = 1.0)]
    tick: f64,
    /// Milliseconds added to every request (a slow or distant tenant).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    latency_ms: u64,
    /// Allow `PUT /demo/v1/fault {"fault": "timeout"}` (and the other faults) to make
    /// the tenant misbehave, for trying out a broken tenant.
    #[arg(long)]
    faults: bool,
    /// Start misbehaving at once with this fault (implies --faults): timeout,
    /// endless_pages, gzip_bomb, hostile_text … (see the README's reliability table).
    #[arg(long, value_name = "FAULT")]
    fault: Option<String>,
}

/// Which tenants a command works on: configured ones (secrets from the OS keychain), or
/// an ad-hoc one given by URL (its secret from `$VIGIL_SECRET`).
#[derive(Args, Clone)]
struct AdHocTenant {
    /// A configured tenant (repeatable where a command accepts several; default: all).
    #[arg(long = "tenant", value_name = "NAME")]
    tenants: Vec<String>,
    /// An ad-hoc tenant's base URL instead of a configured one.
    #[arg(long, conflicts_with = "tenants")]
    url: Option<String>,
    /// The ad-hoc tenant's connector kind.
    #[arg(long, default_value = "vigil")]
    kind: String,
    /// Name shown for the ad-hoc tenant (default: the URL's host).
    #[arg(long)]
    name: Option<String>,
    /// An ad-hoc tenant's kind-specific option, KEY=VALUE (repeatable), e.g. realm=master.
    #[arg(long = "option", value_name = "KEY=VALUE", requires = "url")]
    options: Vec<String>,
}

#[derive(Args)]
struct SessionsArgs {
    #[command(flatten)]
    tenant: AdHocTenant,
    /// Only this user.
    #[arg(long)]
    user: Option<String>,
    /// Only sessions from this address or CIDR network.
    #[arg(long, value_name = "CIDR")]
    ip: Option<String>,
    /// Only SuperUsers.
    #[arg(long)]
    superuser: bool,
    /// Search text (user, name, IP, department, user agent …).
    #[arg(long)]
    search: Option<String>,
    #[arg(long, value_enum, default_value_t = Sort::Created)]
    sort: Sort,
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    #[arg(long)]
    csv: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Sort {
    Created,
    User,
    Ip,
    Activity,
    Expires,
}

impl From<Sort> for SortColumn {
    fn from(s: Sort) -> Self {
        match s {
            Sort::Created => SortColumn::CreatedAt,
            Sort::User => SortColumn::Username,
            Sort::Ip => SortColumn::Ip,
            Sort::Activity => SortColumn::LastActivityAt,
            Sort::Expires => SortColumn::ExpiresAt,
        }
    }
}

/// A failure with the exit code it maps to.
pub(crate) struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn usage(e: &Error) -> Self {
        Self {
            code: 2,
            message: e.message.clone(),
        }
    }
    pub fn tenant(tenant: &str, e: &Error) -> Self {
        Self {
            code: 1,
            message: format!("tenant '{tenant}': {}", e.message),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            complain!("vigil: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            complain!("vigil: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Demo {
            command: DemoCommand::Serve(args),
        } => demo_serve(args).await,
        Command::Tenant { command } => tenants::run(command).await,
        Command::Sessions(args) => sessions(args).await,
        Command::Terminate { tenant, sessions } => terminate(&tenant, sessions).await,
        Command::Logout { tenant, users } => user_action(&tenant, users, UserAction::Logout).await,
        Command::Disable {
            tenant,
            end_sessions,
            users,
        } => user_action(&tenant, users, UserAction::Disable { end_sessions }).await,
        Command::Enable { tenant, users } => user_action(&tenant, users, UserAction::Enable).await,
        Command::Watch {
            tenant,
            timezone,
            hours,
            poll_interval,
            alert_on_existing,
            geoip,
        } => {
            watch_cmd(
                &tenant,
                timezone,
                hours,
                poll_interval,
                alert_on_existing,
                geoip,
            )
            .await
        }
        Command::Person {
            tenant,
            query,
            json,
        } => {
            let (connectors, unusable) = resolve(&tenant).await?;
            people::person(connectors, unusable, links(&tenant)?, &query, json).await
        }
        Command::Contain {
            tenant,
            person: Some(person),
            yes,
            json,
            reenable,
            dry_run,
            no_disable,
            no_revoke,
            no_password,
            ..
        } => {
            let (connectors, unusable) = resolve(&tenant).await?;
            let opts = vigil_core::contain::ContainOptions {
                disable: !no_disable,
                end_sessions: true,
                revoke_grants: !no_revoke,
                require_password_change: !no_password,
            };
            people::contain_person(
                connectors,
                unusable,
                links(&tenant)?,
                &person,
                opts,
                people::Mode {
                    reenable,
                    dry_run,
                    yes,
                    json,
                },
            )
            .await
        }
        Command::Contain {
            tenant,
            user: Some(user),
            ..
        } => people::contain_account(resolve_one(&tenant).await?, &user).await,
        Command::Contain { .. } => Err(Failure::usage(&Error::invalid_input(
            "name a person (--person) or a user",
        ))),
        Command::People { command } => people_links(command).await,
        Command::Policy {
            command:
                PolicyCommand::Run {
                    tenant,
                    policy_name,
                    idle_over,
                    older_than,
                    tags,
                    except,
                    dry_run,
                    json,
                },
        } => {
            let config = match &policy_name {
                Some(n) => {
                    let cfg = tenants::load_config()?;
                    cfg.policies()
                        .iter()
                        .find(|p| &p.name == n)
                        .cloned()
                        .ok_or_else(|| {
                            Failure::usage(&Error::invalid_input(format!(
                                "no policy named '{n}' in {}",
                                cfg.path().display()
                            )))
                        })?
                }
                None => vigil_core::policy::PolicyConfig {
                    name: "command line".to_owned(),
                    idle_over,
                    older_than,
                    tenants: tenant.tenants.clone(),
                    tags,
                    except,
                    every: None,
                },
            };
            let (connectors, unusable) = resolve(&tenant).await?;
            let scope_tags = tenant_tags(&tenant, &connectors)?;
            people::policy_run(
                connectors,
                unusable,
                links(&tenant)?,
                config,
                &scope_tags,
                dry_run,
                json,
            )
            .await
        }
        Command::Audit {
            since,
            tenant,
            search,
            json,
            csv,
        } => act::show(since.as_deref(), tenant, search, json, csv),
    }
}

async fn demo_serve(args: ServeArgs) -> Result<(), Failure> {
    let ServeArgs {
        addr,
        sessions,
        seed,
        token,
        timezone: tz,
        tick,
        latency_ms,
        faults,
        fault,
    } = args;
    let fault: Option<vigil_demo::faults::Fault> = fault
        .map(|f| {
            serde_json::from_value(serde_json::Value::String(f.clone())).map_err(|_| {
                Failure::usage(&Error::invalid_input(format!(
                    "--fault {f:?}: not a fault of the demo tenant"
                )))
            })
        })
        .transpose()?;
    let sessions = sessions as usize;
    let latency = std::time::Duration::from_millis(latency_ms);
    let tz = tz.as_str();
    if !(tick == 0.0 || (0.01..=86_400.0).contains(&tick)) {
        return Err(Failure::usage(&Error::invalid_input(
            "--tick must be 0 or between 0.01 and 86400 seconds",
        )));
    }
    // A frozen population still "ticks", once a century.
    let tick = std::time::Duration::from_secs_f64(if tick == 0.0 { 3.15e9 } else { tick });
    let timezone: chrono_tz::Tz = tz.parse().map_err(|_| {
        Failure::usage(&Error::invalid_input(format!(
            "unknown timezone {tz:?} (use an IANA name such as Europe/Berlin)"
        )))
    })?;
    let generated = token.is_none();
    let token = token.unwrap_or_else(vigil_demo::random_token);
    if token.is_empty() {
        return Err(Failure::usage(&Error::invalid_input(
            "--token must not be empty",
        )));
    }
    let config = vigil_demo::DemoConfig {
        sessions,
        seed,
        token: token.clone(),
        timezone,
        tick,
        latency,
        faults: (faults || fault.is_some())
            .then(|| std::sync::Arc::new(std::sync::Mutex::new(fault))),
        ..Default::default()
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure {
            code: 1,
            message: format!("cannot listen on {addr}: {e}"),
        })?;
    let local = listener.local_addr().map_err(|e| Failure {
        code: 1,
        message: format!("cannot listen on {addr}: {e}"),
    })?;
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on http://{local}");
    let _ = out.flush();
    if generated {
        complain!("demo token (pass --token to choose one): {token}");
    }
    let cancel = tokio_util::sync::CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        on_signal.cancel();
    });
    vigil_demo::serve(listener, config, cancel)
        .await
        .map_err(|e| Failure {
            code: 1,
            message: format!("demo server failed: {e}"),
        })
}

/// A tenant that could not be set up (no secret, keychain unavailable).
pub(crate) struct Unusable {
    tenant: String,
    error: Error,
}

/// `vigil people …`: edits `[people]` under the config file's lock.
async fn people_links(command: PeopleCommand) -> Result<(), Failure> {
    use vigil_core::people::{AccountName, Assignment};
    let (account, to) = match command {
        PeopleCommand::List => {
            let cfg = tenants::load_config()?;
            for l in &cfg.people().link {
                say!("link   {} {} -> {}", l.tenant, l.user, l.person);
            }
            for u in &cfg.people().unlink {
                say!("unlink {} {}", u.tenant, u.user);
            }
            return Ok(());
        }
        PeopleCommand::Link {
            tenant,
            person,
            user,
        } => (AccountName { tenant, user }, Assignment::Person { person }),
        PeopleCommand::Unlink { tenant, user } => (AccountName { tenant, user }, Assignment::Own),
        PeopleCommand::Auto { tenant, user } => {
            (AccountName { tenant, user }, Assignment::Automatic)
        }
    };
    vigil_core::model::validate_tenant_name(&account.tenant).map_err(|e| Failure::usage(&e))?;
    let store: Arc<dyn SecretStore> = Arc::new(KeyringStore::default());
    let book =
        vigil_core::tenants::TenantBook::open_default(store).map_err(|e| Failure::usage(&e))?;
    let shown = format!("{} {}", account.tenant, account.user);
    vigil_core::task::blocking(move || {
        book.update(|c| c.set_people(c.people().clone().assign(account, &to)))
    })
    .await
    .map_err(|e| Failure::usage(&e))?;
    say!("saved: {shown}");
    Ok(())
}

/// The `[people]` links of the config file (none for an ad-hoc tenant).
fn links(t: &AdHocTenant) -> Result<vigil_core::people::PeopleConfig, Failure> {
    if t.url.is_some() {
        return Ok(Default::default());
    }
    Ok(tenants::load_config()?.people().clone())
}

/// Each targeted tenant's name and tags (an ad-hoc tenant has none).
fn tenant_tags(
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
async fn resolve(t: &AdHocTenant) -> Result<(Vec<Arc<dyn Connector>>, Vec<Unusable>), Failure> {
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
    for cfg in wanted {
        match tenants::connector_for(&cfg, Arc::clone(&store)).await {
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
async fn resolve_one(t: &AdHocTenant) -> Result<Arc<dyn Connector>, Failure> {
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
fn adhoc(
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

async fn sessions(args: SessionsArgs) -> Result<(), Failure> {
    let (connectors, unusable) = resolve(&args.tenant).await?;
    let mut failed: Vec<(String, Error)> =
        unusable.into_iter().map(|u| (u.tenant, u.error)).collect();
    let store = SessionStore::new();
    // Every tenant at once: a slow one does not delay the others.
    let polls = connectors.iter().map(|c| async move {
        let started = Instant::now();
        (Arc::clone(c), c.poll().await, started.elapsed())
    });
    for (c, result, elapsed) in futures::future::join_all(polls).await {
        let tenant = c.tenant().clone();
        store.register_tenant(&tenant, c.kind());
        match result {
            Ok(update @ PollUpdate::Full(_)) => {
                if let Err(e) = store.apply(&tenant, update, elapsed) {
                    failed.push((tenant.to_string(), e));
                }
            }
            Ok(PollUpdate::Partial {
                sessions,
                incomplete,
            }) => {
                // Listed, but known to be incomplete: shown, and said (exit 1), since a
                // script counting these sessions would otherwise count short.
                let why = incomplete.clone();
                let update = PollUpdate::Partial {
                    sessions,
                    incomplete,
                };
                if let Err(e) = store.apply(&tenant, update, elapsed) {
                    failed.push((tenant.to_string(), e));
                } else {
                    failed.push((
                        tenant.to_string(),
                        Error::new(
                            vigil_core::ErrorCode::LimitExceeded,
                            format!("incomplete listing (the sessions read are shown): {why}"),
                        ),
                    ));
                }
            }
            Ok(PollUpdate::Delta { .. }) => {
                failed.push((
                    tenant.to_string(),
                    Error::internal("first poll was not a full listing"),
                ));
            }
            Err(e) => failed.push((tenant.to_string(), e)),
        }
    }
    let query = SessionQuery {
        filter: SessionFilter {
            search: args.search,
            user: args.user,
            ip: args.ip,
            superuser_only: args.superuser,
            ..SessionFilter::default()
        },
        sort: args.sort.into(),
        descending: matches!(args.sort, Sort::Created | Sort::Activity),
        offset: 0,
        limit: usize::MAX,
    };
    let page = store.query_all(&query).map_err(|e| Failure::usage(&e))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = if args.json {
        output::json(&mut out, &page)
    } else if args.csv {
        output::csv(&mut out, &page)
    } else {
        output::table(&mut out, &page)
    };
    written
        .and_then(|()| out.flush())
        .or_else(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|e| Failure {
            code: 1,
            message: format!("cannot write output: {e}"),
        })?;
    report_tenant_failures(&failed)
}

/// Prints each failed tenant and turns any failure into exit 1.
fn report_tenant_failures(failed: &[(String, Error)]) -> Result<(), Failure> {
    for (tenant, e) in failed.iter().skip(1) {
        complain!("vigil: tenant '{tenant}': {}", e.message);
    }
    match failed.first() {
        None => Ok(()),
        Some((tenant, e)) => Err(Failure::tenant(tenant, e)),
    }
}

async fn watch_cmd(
    t: &AdHocTenant,
    timezone: Option<String>,
    hours: Option<String>,
    poll_interval: f64,
    alert_on_existing: bool,
    geoip: Option<std::path::PathBuf>,
) -> Result<(), Failure> {
    if !(0.1..=86_400.0).contains(&poll_interval) {
        return Err(Failure::usage(&Error::invalid_input(
            "--poll-interval must be between 0.1 and 86400 seconds",
        )));
    }
    let (connectors, unusable) = resolve(t).await?;
    for u in &unusable {
        complain!("vigil: tenant '{}': {}", u.tenant, u.error.message);
    }
    let configured = if t.url.is_some() {
        None
    } else {
        Some(tenants::load_config()?)
    };
    let mut plan = Vec::new();
    for c in connectors {
        let name = c.tenant().to_string();
        let (calendar, interval) = match configured.as_ref().and_then(|cfg| cfg.tenant(&name)) {
            Some(cfg) => (
                watch::calendar_of(cfg.timezone.as_deref(), cfg.hours.as_deref(), &cfg.holidays),
                std::time::Duration::from_secs(cfg.poll_interval_secs),
            ),
            None => (
                watch::calendar_of(timezone.as_deref(), hours.as_deref(), &[]),
                std::time::Duration::from_secs_f64(poll_interval),
            ),
        };
        let calendar = calendar.map_err(|e| Failure::usage(&e))?;
        let base = configured
            .as_ref()
            .and_then(|cfg| cfg.tenant(&name))
            .and_then(|cfg| cfg.alerts.clone())
            .unwrap_or_default();
        let settings = vigil_core::alerts::AlertSettings {
            alert_on_existing: alert_on_existing || base.alert_on_existing,
            ..base
        };
        plan.push((
            c,
            vigil_core::alerts::AlertConfig { settings, calendar },
            interval,
        ));
    }
    if plan.is_empty() {
        return Err(Failure {
            code: 1,
            message: "no tenant could be watched".into(),
        });
    }
    let geoip_path = geoip.or_else(|| {
        let path = tenants::load_config()
            .ok()?
            .settings()
            .geoip_database
            .clone();
        (!path.is_empty()).then(|| std::path::PathBuf::from(path))
    });
    let geoip = match geoip_path {
        Some(p) => Some(std::sync::Arc::new(
            vigil_core::geoip::GeoIp::open(&p).map_err(|e| Failure::usage(&e))?,
        )),
        None => None,
    };
    // Scheduled policies (`every`) of the config file run while watching.
    let (policies, links) = match &configured {
        Some(cfg) => (cfg.policy_scopes(), cfg.people().clone()),
        None => (Vec::new(), Default::default()),
    };
    watch::run(plan, geoip, watch::Policies { policies, links }).await
}

async fn terminate(t: &AdHocTenant, ids: Vec<String>) -> Result<(), Failure> {
    act::run(resolve_one(t).await?, ActionKind::EndSession, ids).await
}

#[derive(Clone, Copy)]
enum UserAction {
    Logout,
    Disable { end_sessions: bool },
    Enable,
}

async fn user_action(
    t: &AdHocTenant,
    users: Vec<String>,
    action: UserAction,
) -> Result<(), Failure> {
    let kind = match action {
        UserAction::Logout => ActionKind::Logout,
        UserAction::Disable { end_sessions: true } => ActionKind::Disable,
        UserAction::Disable {
            end_sessions: false,
        } => ActionKind::DisableOnly,
        UserAction::Enable => ActionKind::Enable,
    };
    act::run(resolve_one(t).await?, kind, users).await
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand's arguments are consistent (unique names, valid relations).
    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
