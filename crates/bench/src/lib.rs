//! Vigil's benchmarks: synthetic populations for the core's hot paths and the end-to-end
//! scenarios `vigil-bench` measures against real demo servers over HTTP.

pub mod scenarios;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use vigil_core::alerts::{self, AlertSettings, TenantView};
use vigil_core::calendar::WorkingCalendar;
use vigil_core::connector::PollUpdate;
use vigil_core::model::{ConnectorKind, Session};
use vigil_core::store::{Diff, SessionStore};

const AGENTS: [&str; 8] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "curl/8.11.0",
    "python-requests/2.32.3",
];
const DEPARTMENTS: [&str; 6] = ["Finance", "Sales", "Engineering", "Support", "HR", "Legal"];
const FIRST: [&str; 10] = [
    "Anna", "Ben", "Chloé", "David", "Emre", "Fatima", "Georg", "Hana", "Ivan", "Julia",
];

/// A deterministic population: about three sessions per user, 1% SuperUsers, addresses
/// from eight networks, created over the last week.
pub fn synthetic(tenant: &str, n: usize, now: DateTime<Utc>) -> Vec<Session> {
    let tenant: Arc<str> = Arc::from(tenant);
    (0..n).map(|i| session(&tenant, i, n, now)).collect()
}

/// Session number `i` of a population of `n` (new numbers past `n` are new sign-ins).
pub fn session(tenant: &Arc<str>, i: usize, n: usize, now: DateTime<Utc>) -> Session {
    let users = (n / 3).max(1);
    let u = (i.wrapping_mul(2_654_435_761)) % users;
    let mut s = Session::new(
        tenant,
        format!("s-{i:08}"),
        format!("u-{u:06}"),
        format!("user{u:06}"),
    );
    let first = FIRST[u % FIRST.len()];
    s.display_name = Some(format!("{first} Example{u}").into());
    s.first_name = Some(first.into());
    s.last_name = Some(format!("Example{u}").into());
    s.department = Some(DEPARTMENTS[u % DEPARTMENTS.len()].into());
    s.superuser = u.is_multiple_of(100);
    let net = (i * 7) % 8;
    s.ip = Some(if net == 7 {
        format!("2001:db8:{:x}::{:x}", u % 4096, i % 65_536)
    } else {
        format!(
            "{}.{}.{}.{}",
            10 + net * 20,
            u % 250,
            (i / 250) % 250,
            i % 250 + 1
        )
    });
    s.user_agent = Some(AGENTS[(u + i) % AGENTS.len()].into());
    s.session_type = Some(if i.is_multiple_of(10) { "api" } else { "ui" }.into());
    s.login_type = Some(
        if i.is_multiple_of(4) {
            "sso"
        } else {
            "password"
        }
        .into(),
    );
    let age = i64::try_from(i % 10_000).unwrap_or(0) * 60;
    s.created_at = Some(now - Duration::seconds(age));
    s.last_activity_at = Some(now - Duration::seconds(age / 3));
    s.expires_at = Some(now + Duration::hours(8) - Duration::seconds(age));
    s
}

/// A store holding `sessions` under their tenants.
pub fn store_with(sessions: Vec<Session>) -> SessionStore {
    let store = SessionStore::new();
    let mut by_tenant: std::collections::BTreeMap<Arc<str>, Vec<Session>> = Default::default();
    for s in sessions {
        by_tenant.entry(Arc::clone(&s.tenant)).or_default().push(s);
    }
    for (t, ss) in by_tenant {
        store.register_tenant(&t, ConnectorKind::Vigil);
        // A registered tenant always accepts a poll.
        let _ = store.apply(&t, PollUpdate::Full(ss), std::time::Duration::ZERO);
    }
    store
}

/// One poll's worth of churn: `k` sessions end and `k` new ones start (round `round`).
pub fn churn(
    tenant: &str,
    n: usize,
    k: usize,
    round: usize,
    now: DateTime<Utc>,
) -> (Vec<Session>, Vec<String>) {
    let tenant: Arc<str> = Arc::from(tenant);
    let first_new = n + round * k;
    let upserted = (first_new..first_new + k)
        .map(|i| session(&tenant, i, n, now))
        .collect();
    // End sessions that exist: the oldest of the original population, round by round.
    let ended = (round * k..(round + 1) * k)
        .map(|i| format!("s-{i:08}"))
        .collect();
    (upserted, ended)
}

/// What the engine does after each poll: apply the delta, then evaluate the alert rules on
/// the sessions the rules look at (with `age_scan`, also the scan for long sessions the
/// engine does at most once a minute). Returns the diff and how many alerts fired.
pub fn apply_and_evaluate(
    store: &SessionStore,
    tenant: &str,
    update: PollUpdate,
    settings: &AlertSettings,
    calendar: Option<&WorkingCalendar>,
    now: DateTime<Utc>,
    age_scan: bool,
) -> (Diff, usize) {
    let Ok(diff) = store.apply(tenant, update, std::time::Duration::ZERO) else {
        return (Diff::default(), 0);
    };
    let users: HashSet<&str> = diff.started.iter().map(|s| &*s.user_id).collect();
    let too_old = settings
        .max_session_age_hours
        .filter(|_| age_scan)
        .map(|h| now - Duration::hours(i64::from(h)));
    let sessions = store.rule_sessions(tenant, &users, too_old);
    let view = TenantView {
        tenant,
        settings,
        calendar,
        sessions: &sessions,
        ip_seen_before: &|_, _| true,
        locate: None,
        trusted: &|_| None,
        now,
    };
    let fired = alerts::evaluate(&view, &diff.started, false).len();
    (diff, fired)
}
