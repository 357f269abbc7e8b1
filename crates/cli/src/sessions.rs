//! `vigil sessions`: every targeted tenant polled once, side by side, and the listing
//! printed as a table, JSON or CSV.

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, ValueEnum};
use vigil_core::Error;
use vigil_core::connector::PollUpdate;
use vigil_core::store::{SearchText, SessionFilter, SessionQuery, SessionStore, SortColumn};

use crate::target::{AdHocTenant, resolve};
use crate::{Failure, output};

#[derive(Args)]
pub(crate) struct SessionsArgs {
    #[command(flatten)]
    pub(crate) tenant: AdHocTenant,
    /// Only this user.
    #[arg(long)]
    pub(crate) user: Option<String>,
    /// Only sessions from this address or CIDR network.
    #[arg(long, value_name = "CIDR")]
    pub(crate) ip: Option<String>,
    /// Only SuperUsers.
    #[arg(long)]
    pub(crate) superuser: bool,
    /// Search text (user, name, IP, department, user agent …).
    #[arg(long)]
    pub(crate) search: Option<String>,
    #[arg(long, value_enum, default_value_t = Sort::Created)]
    pub(crate) sort: Sort,
    #[arg(long, conflicts_with = "csv")]
    pub(crate) json: bool,
    #[arg(long)]
    pub(crate) csv: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Sort {
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

pub(crate) async fn sessions(args: SessionsArgs) -> Result<(), Failure> {
    let (connectors, unusable) = resolve(&args.tenant).await?;
    let mut failed: Vec<(String, Error)> =
        unusable.into_iter().map(|u| (u.tenant, u.error)).collect();
    // One query: search text is made only if it searches, not kept for every row.
    let store = SessionStore::keeping(SearchText::OnDemand);
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
    // The process ends here: freeing every row one by one would take a sixth of a
    // 100,000-session run, for memory the system takes back at once.
    std::mem::forget(page);
    std::mem::forget(store);
    report_tenant_failures(&failed)
}

/// Prints each failed tenant and turns any failure into exit 1.
pub(crate) fn report_tenant_failures(failed: &[(String, Error)]) -> Result<(), Failure> {
    for (tenant, e) in failed.iter().skip(1) {
        complain!("vigil: tenant '{tenant}': {}", e.message);
    }
    match failed.first() {
        None => Ok(()),
        Some((tenant, e)) => Err(Failure::tenant(tenant, e)),
    }
}
