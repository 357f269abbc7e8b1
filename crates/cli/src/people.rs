//! `vigil person`, `vigil contain --person` and `vigil policy run`: the person across
//! tenants, and policies over many tenants. Thin: the logic is in vigil-core's `people`,
//! `contain` and `policy` modules.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use vigil_core::connector::Connector;
use vigil_core::contain::{self, ContainOptions, ContainReport, Outcome};
use vigil_core::people::{self, Person, PersonMatch};
use vigil_core::policy::{self, PolicyConfig};
use vigil_core::{Engine, Error, ErrorCode};

use vigil_core::secrets::{KeyringStore, SecretStore};

use crate::target::Unusable;
use crate::{Failure, PeopleCommand, tenants};

/// How long the first poll of every tenant may take.
const FIRST_POLL: Duration = Duration::from_secs(120);
/// How long a containment waits for polls to confirm it.
const CONFIRM_WAIT: Duration = Duration::from_secs(30);
/// Poll interval while a command runs (confirmations come from these polls).
const POLL_EVERY: Duration = Duration::from_secs(2);

/// An engine over `connectors` after each tenant's first poll; tenants whose first poll
/// failed are returned with their error (the others go on).
pub async fn engine_for_all(
    connectors: Vec<Arc<dyn Connector>>,
    audited: bool,
) -> Result<(Engine, Vec<(String, Error)>), Failure> {
    let audit = if audited {
        Some(
            vigil_core::audit::AuditLog::open_default().map_err(|e| Failure {
                code: 1,
                message: format!("{} (no action is taken without an audit record)", e.message),
            })?,
        )
    } else {
        None
    };
    let engine = Engine::with_audit(
        tokio::runtime::Handle::current(),
        audit,
        &vigil_core::audit::operator(),
    );
    let store = engine.store().clone();
    let mut events = store.subscribe();
    let names: Vec<String> = connectors.iter().map(|c| c.tenant().to_string()).collect();
    let mut failed = Vec::new();
    for c in connectors {
        let name = c.tenant().to_string();
        if let Err(e) = engine.add_tenant(c, POLL_EVERY) {
            failed.push((name, e));
        }
    }
    let deadline = tokio::time::Instant::now() + FIRST_POLL;
    loop {
        let waiting: Vec<&String> = names
            .iter()
            .filter(|n| !failed.iter().any(|(f, _)| f == *n))
            .filter(|n| store.health(n).and_then(|h| h.last_poll_at).is_none())
            .collect();
        if waiting.is_empty() {
            break;
        }
        if tokio::time::timeout_at(deadline, events.recv())
            .await
            .is_err()
        {
            for n in waiting {
                failed.push((
                    n.clone(),
                    Error::new(ErrorCode::Timeout, "the first poll did not finish"),
                ));
            }
            break;
        }
    }
    for n in &names {
        if let Some(e) = store.health(n).and_then(|h| h.error)
            && !failed.iter().any(|(f, _)| f == n)
        {
            failed.push((n.clone(), Error::new(e.code, e.message)));
        }
    }
    Ok((engine, failed))
}

fn report_failures(failed: &[(String, Error)]) {
    for (tenant, e) in failed {
        complain!("vigil: tenant '{tenant}': {}", e.message);
    }
}

fn unusable_errors(unusable: Vec<Unusable>) -> Vec<(String, Error)> {
    unusable.into_iter().map(|u| (u.tenant, u.error)).collect()
}

/// Finds the person `query` names, or fails with the candidates listed.
async fn find(
    engine: &Engine,
    query: &str,
    links: &people::PeopleConfig,
) -> Result<Person, Failure> {
    match people::find(query, links, engine.store(), &engine.connectors()).await {
        PersonMatch::Found { person } => Ok(person),
        PersonMatch::NotFound => Err(Failure {
            code: 1,
            message: format!("no person matches {query:?} in any tenant"),
        }),
        PersonMatch::Ambiguous { candidates } => {
            complain!(
                "vigil: {query:?} matches {} people; name one:",
                candidates.len()
            );
            for c in &candidates {
                complain!(
                    "  {}  {}  ({} in {})",
                    c.key,
                    c.display_name.as_deref().unwrap_or("-"),
                    c.usernames.join(", "),
                    c.tenants.join(", ")
                );
            }
            Err(Failure {
                code: 2,
                message: format!("{query:?} is ambiguous: use an e-mail address or a person key"),
            })
        }
    }
}

fn json_out<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure {
        code: 1,
        message: e.to_string(),
    })?;
    println!("{text}");
    Ok(())
}

fn age(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| {
        let m = (chrono::Utc::now() - t).num_minutes().max(0);
        match (m / 1440, (m % 1440) / 60, m % 60) {
            (0, 0, m) => format!("{m}m"),
            (0, h, m) => format!("{h}h{m:02}m"),
            (d, h, _) => format!("{d}d{h}h"),
        }
    })
    .unwrap_or_else(|| "-".to_owned())
}

fn print_person(p: &Person) {
    say!(
        "person {}  {}  ({} accounts, {} sessions)",
        p.key,
        p.display_name.as_deref().unwrap_or(""),
        p.accounts.len(),
        p.session_count()
    );
    for a in &p.accounts {
        let mut flags = Vec::new();
        if a.user.disabled {
            flags.push("DISABLED");
        }
        if a.user.superuser {
            flags.push("SUPERUSER");
        }
        if a.user.protected {
            flags.push("protected");
        }
        if a.own {
            flags.push("Vigil's own account");
        }
        say!(
            "  tenant '{}' ({}): {} <{}> [{:?}] {} {}",
            a.tenant,
            a.kind.map(|k| k.to_string()).unwrap_or_default(),
            a.user.username,
            a.user.email.as_deref().unwrap_or("-"),
            a.linked_by,
            a.sessions.len(),
            if flags.is_empty() {
                String::new()
            } else {
                flags.join(" ")
            }
        );
        for s in &a.sessions {
            say!(
                "    {}  {}  {}  {}  age {}  idle {}",
                s.id,
                s.ip.as_deref().unwrap_or("-"),
                s.location.as_deref().unwrap_or("-"),
                s.user_agent.as_deref().unwrap_or("-"),
                age(s.created_at),
                age(s.last_activity_at)
            );
        }
    }
    if !p.history.is_empty() {
        say!("  recent sessions:");
        for h in &p.history {
            say!(
                "    {} {} {}  seen {} .. {}  {}",
                h.tenant,
                h.username,
                h.ip.as_deref().unwrap_or("-"),
                h.first_seen.format("%Y-%m-%d %H:%M"),
                h.last_seen.format("%Y-%m-%d %H:%M"),
                h.ended_by
                    .as_deref()
                    .map_or("active".to_owned(), |b| format!("ended ({b})"))
            );
        }
    }
    if !p.actions.is_empty() {
        say!("  recent actions:");
        for e in &p.actions {
            say!(
                "    {} {} {} {} by {}: {}",
                e.requested_at.format("%Y-%m-%d %H:%M:%S"),
                e.tenant,
                e.action.as_str(),
                e.target_user.as_deref().unwrap_or(&e.target),
                e.actor,
                e.state.as_str()
            );
        }
    }
    for e in &p.lookup_errors {
        complain!(
            "vigil: tenant '{}': could not be searched for this person: {}",
            e.tenant,
            e.error.message
        );
    }
}

/// `vigil person QUERY`
pub async fn person(
    connectors: Vec<Arc<dyn Connector>>,
    unusable: Vec<Unusable>,
    links: people::PeopleConfig,
    query: &str,
    json: bool,
) -> Result<(), Failure> {
    let (engine, mut failed) = engine_for_all(connectors, false).await?;
    failed.extend(unusable_errors(unusable));
    let found = find(&engine, query, &links).await;
    engine.shutdown();
    report_failures(&failed);
    let p = found?;
    // Recent history and actions from the local database, when there is one.
    let p = match vigil_core::audit::AuditLog::open_default() {
        Ok(audit) => {
            let fallback = p.clone();
            tokio::task::spawn_blocking(move || people::with_records(p, &audit))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or(fallback)
        }
        Err(_) => p,
    };
    if json {
        json_out(&p)?;
    } else {
        print_person(&p);
    }
    if failed.is_empty() && p.lookup_errors.is_empty() {
        Ok(())
    } else {
        Err(Failure {
            code: 1,
            message: "some tenants could not be searched: the person may have accounts there too"
                .to_owned(),
        })
    }
}

fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Planned => "will be done".to_owned(),
        Outcome::NotOffered { reason } => format!("not offered: {reason}"),
        Outcome::Refused { reason } => format!("refused by a guard: {reason}"),
        Outcome::Accepted => "accepted".to_owned(),
        Outcome::Confirmed => "confirmed".to_owned(),
        Outcome::NotConfirmed { reason } => format!("NOT CONFIRMED: {reason}"),
        Outcome::Failed { error } => format!("FAILED: {}", error.message),
    }
}

fn print_report(r: &ContainReport) {
    for i in &r.items {
        say!(
            "  tenant '{}' {}: {}: {} ({})",
            i.tenant,
            i.username,
            i.step.as_str(),
            outcome_text(&i.outcome),
            i.effect
        );
    }
    for t in &r.unchecked_tenants {
        complain!("vigil: tenant '{t}': not searched (the person may have an account there)");
    }
}

fn confirmed_by_user(question: &str) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() {
        return Err(Failure {
            code: 2,
            message: "not a terminal: pass --yes to act without asking".to_owned(),
        });
    }
    print!("{question} [y/N] ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure {
            code: 1,
            message: e.to_string(),
        })?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

/// How `vigil contain --person` runs.
pub struct Mode {
    pub reenable: bool,
    pub dry_run: bool,
    pub yes: bool,
    pub json: bool,
}

/// `vigil contain --person QUERY`
pub async fn contain_person(
    connectors: Vec<Arc<dyn Connector>>,
    unusable: Vec<Unusable>,
    links: people::PeopleConfig,
    query: &str,
    opts: ContainOptions,
    mode: Mode,
) -> Result<(), Failure> {
    let Mode {
        reenable,
        dry_run,
        yes,
        json,
    } = mode;
    let (engine, mut failed) = engine_for_all(connectors, !dry_run).await?;
    failed.extend(unusable_errors(unusable));
    report_failures(&failed);
    let result = async {
        let mut p = find(&engine, query, &links).await?;
        // A tenant whose first poll failed has not been searched either.
        for (tenant, e) in &failed {
            if !p.lookup_errors.iter().any(|x| &x.tenant == tenant)
                && !p.accounts.iter().any(|a| &a.tenant == tenant)
            {
                p.lookup_errors.push(people::TenantError {
                    tenant: tenant.clone(),
                    error: e.payload(),
                });
            }
        }
        let plan = if reenable {
            None
        } else {
            Some(contain::plan(&engine, &p, opts))
        };
        if !json {
            print_person(&p);
            match &plan {
                Some(plan) => {
                    say!("containing {} will:", p.key);
                    print_report(plan);
                }
                None => say!("re-enabling {} in every tenant that can", p.key),
            }
        }
        if let (true, Some(plan)) = (dry_run, &plan) {
            if json {
                json_out(plan)?;
            }
            // Nothing was sent: the plan is "settled" when every tenant was searched.
            return Ok(ContainReport {
                items: Vec::new(),
                ..plan.clone()
            });
        }
        if !yes && !confirmed_by_user("Go ahead?")? {
            return Err(Failure {
                code: 1,
                message: "nothing was done".to_owned(),
            });
        }
        let report = match plan {
            Some(plan) => contain::run(&engine, &p, plan, CONFIRM_WAIT).await,
            None => contain::reenable(&engine, &p).await,
        };
        if json {
            json_out(&report)?;
        } else {
            say!("result:");
            print_report(&report);
            if let Some(id) = &report.action_id {
                say!("audit: action {id} ({} items)", report.items.len());
            }
        }
        Ok(report)
    }
    .await;
    let audit = engine.audit().cloned();
    engine.shutdown();
    if let Some(audit) = &audit {
        crate::shared::sync_quietly(audit).await;
    }
    let report = result?;
    if report.settled() {
        Ok(())
    } else {
        let open = report.items.iter().filter(|i| !i.outcome.settled()).count();
        Err(Failure {
            code: 1,
            message: format!(
                "{open} of {} items are not confirmed{}",
                report.items.len(),
                if report.unchecked_tenants.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; tenants not searched: {}",
                        report.unchecked_tenants.join(", ")
                    )
                }
            ),
        })
    }
}

/// `vigil contain --tenant T USER`: the same playbook in one tenant, without asking.
pub async fn contain_account(connector: Arc<dyn Connector>, user: &str) -> Result<(), Failure> {
    let tenant = connector.tenant().to_string();
    let found = connector
        .find_user(user)
        .await
        .map_err(|e| Failure::tenant(&tenant, &e))?
        .ok_or_else(|| Failure {
            code: 1,
            message: format!("tenant '{tenant}': no user named {user:?}"),
        })?;
    let (engine, failed) = engine_for_all(vec![Arc::clone(&connector)], true).await?;
    if let Some((t, e)) = failed.into_iter().next() {
        engine.shutdown();
        return Err(Failure::tenant(&t, &e));
    }
    let p = people::of_account(
        connector.as_ref(),
        found,
        &Default::default(),
        engine.store(),
    );
    let plan = contain::plan(&engine, &p, ContainOptions::default());
    say!("containing {user} in tenant '{tenant}':");
    print_report(&plan);
    let report = contain::run(&engine, &p, plan, CONFIRM_WAIT).await;
    let audit = engine.audit().cloned();
    engine.shutdown();
    if let Some(audit) = &audit {
        crate::shared::sync_quietly(audit).await;
    }
    say!("result:");
    print_report(&report);
    if let Some(id) = &report.action_id {
        say!("audit: action {id} ({} items)", report.items.len());
    }
    if report.settled() {
        say!("contained {user}");
        Ok(())
    } else {
        Err(Failure {
            code: 1,
            message: format!("containing {user} was incomplete"),
        })
    }
}

/// `vigil policy run`
pub async fn policy_run(
    connectors: Vec<Arc<dyn Connector>>,
    unusable: Vec<Unusable>,
    links: people::PeopleConfig,
    config: PolicyConfig,
    tags: &[(String, Vec<String>)],
    dry_run: bool,
    json: bool,
) -> Result<(), Failure> {
    let p = config.parse().map_err(|e| Failure::usage(&e))?;
    let (engine, mut failed) = engine_for_all(connectors, !dry_run).await?;
    failed.extend(unusable_errors(unusable));
    report_failures(&failed);
    let scope = p.scope(tags.iter().map(|(n, t)| (n.as_str(), t.as_slice())));
    let selection = policy::select(&p, &scope, engine.store(), &links, chrono::Utc::now());
    let report = if dry_run {
        None
    } else {
        Some(policy::run(&engine, &selection).await)
    };
    engine.shutdown();
    if json {
        json_out(&serde_json::json!({ "selection": selection, "report": report }))?;
    } else {
        let verb = if dry_run { "would end" } else { "ends" };
        say!(
            "policy '{}' {verb} {} sessions in {} tenants ({} spared)",
            selection.policy,
            selection.end.len(),
            selection.tenants.len(),
            selection.spared.len()
        );
        for i in &selection.end {
            say!(
                "  end   {} {} {}: {}",
                i.tenant,
                i.username,
                i.session_id,
                i.reason
            );
        }
        for i in &selection.spared {
            say!(
                "  spare {} {} {}: {}",
                i.tenant,
                i.username,
                i.session_id,
                i.reason
            );
        }
        if let Some(r) = &report {
            for item in r.items.iter().filter(|i| !i.ok) {
                complain!(
                    "vigil: tenant '{}': {}: {}",
                    item.target.tenant,
                    item.target.session_id,
                    item.error
                        .as_ref()
                        .map(|e| e.message.as_str())
                        .unwrap_or("failed")
                );
            }
            say!("audit: action {} ({} items)", r.action_id, r.items.len());
        }
    }
    let failed_items = report.as_ref().map_or(0, |r| r.failed());
    if failed.is_empty() && failed_items == 0 {
        Ok(())
    } else {
        Err(Failure {
            code: 1,
            message: format!(
                "{failed_items} sessions could not be ended; {} tenants failed",
                failed.len()
            ),
        })
    }
}

/// `vigil people …`: edits `[people]` under the config file's lock.
pub(crate) async fn people_links(command: PeopleCommand) -> Result<(), Failure> {
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
