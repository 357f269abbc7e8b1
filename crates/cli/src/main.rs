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
mod demo;
mod output;
mod people;
mod routes;
mod sessions;
mod shared;
mod target;
mod tenants;
mod watch;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vigil_core::Error;
use vigil_core::audit::ActionKind;

use demo::DemoCommand;
use sessions::SessionsArgs;
use target::{AdHocTenant, links, resolve, resolve_one, tenant_tags};

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
    /// The audit log: every action, who took it, and what came of it. With a subcommand:
    /// the team's shared audit store.
    #[command(args_conflicts_with_subcommands = true)]
    Audit {
        #[command(subcommand)]
        command: Option<shared::AuditCommand>,
        /// The whole team's actions, from the shared store.
        #[arg(long, conflicts_with_all = ["since", "csv"])]
        shared: bool,
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
    /// Alert routes: webhooks, Slack, Teams, e-mail, syslog.
    Route {
        #[command(subcommand)]
        command: routes::RouteCommand,
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
pub(crate) enum PeopleCommand {
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
        // Colour codes only for a terminal: piped into a file or another program, a
        // log line is plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
        } => demo::demo_serve(args).await,
        Command::Tenant { command } => tenants::run(command).await,
        Command::Sessions(args) => sessions::sessions(args).await,
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
            watch::watch_cmd(
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
        Command::People { command } => people::people_links(command).await,
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
            command: Some(command),
            ..
        } => shared::run(command).await,
        Command::Audit {
            shared: true,
            tenant,
            search,
            json,
            ..
        } => shared::show(tenant, search, json).await,
        Command::Audit {
            since,
            tenant,
            search,
            json,
            csv,
            ..
        } => act::show(since.as_deref(), tenant, search, json, csv),
        Command::Route { command } => routes::run(command).await,
    }
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
