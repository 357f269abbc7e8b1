//! Alert rules, fed by the diff of each poll.
//!
//! One alert per new session, naming every rule it tripped (a SuperUser signing in at
//! night is one alert with two reasons), deduplicated per session and rule across
//! restarts (the `alerts` table in `vigil.db`). Existing sessions found by the first poll
//! after start do not alert unless a tenant asks for it. When one poll trips a rule for
//! many sessions, a single digest goes out instead of a flood.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::calendar::WorkingCalendar;
use crate::model::Session;

/// The rules (SPEC L1–L7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Rule {
    /// L1: a SuperUser signed in.
    SuperuserSignIn,
    /// L2: a session started outside the tenant's working hours, on a weekend or holiday.
    OddHours,
    /// L3: the same user from several networks at once.
    MultipleNetworks,
    /// L4: a session older than the tenant's policy.
    LongSession,
    /// L5: more concurrent sessions than the tenant allows.
    TooManySessions,
    /// L6: a sign-in from an address never seen for that user.
    NewIp,
    /// L7: the tenant is unreachable, rejects the credential, or rate-limits Vigil.
    TenantProblem,
    /// L3: the same user from two places too far apart to travel between in the time
    /// (needs a GeoIP city database).
    ImpossibleTravel,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SuperuserSignIn => "superuser_sign_in",
            Self::OddHours => "odd_hours",
            Self::MultipleNetworks => "multiple_networks",
            Self::LongSession => "long_session",
            Self::TooManySessions => "too_many_sessions",
            Self::NewIp => "new_ip",
            Self::TenantProblem => "tenant_problem",
            Self::ImpossibleTravel => "impossible_travel",
        }
    }

    fn severity(self) -> Severity {
        match self {
            Self::SuperuserSignIn
            | Self::MultipleNetworks
            | Self::TenantProblem
            | Self::ImpossibleTravel => Severity::High,
            Self::OddHours | Self::TooManySessions | Self::NewIp => Severity::Medium,
            Self::LongSession => Severity::Low,
        }
    }

    fn why(self) -> &'static str {
        match self {
            Self::SuperuserSignIn => "a SuperUser signed in",
            Self::OddHours => "outside working hours",
            Self::MultipleNetworks => "signed in from several networks at once",
            Self::LongSession => "the session is older than the tenant's policy",
            Self::TooManySessions => "more concurrent sessions than allowed",
            Self::NewIp => "from an address never seen for this user",
            Self::TenantProblem => "the tenant cannot be polled",
            Self::ImpossibleTravel => "signed in from places too far apart to travel between",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// One alert: a session (or a tenant) and every rule it tripped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Alert {
    /// The main rule (the most severe); `rules` lists all.
    pub rule: Rule,
    pub rules: Vec<Rule>,
    pub severity: Severity,
    pub tenant: String,
    pub username: Option<String>,
    pub session_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub at: DateTime<Utc>,
    /// For people: "alice signed in to acme: a SuperUser signed in, outside working hours".
    pub message: String,
    /// A digest stands for `count` alerts of the same rule in one poll (a merged alert for
    /// the alerts merged into it).
    pub count: u32,
    /// Why this alert was not announced: a trusted network, an exclusion, a merge into an
    /// earlier alert. Kept for the alert centre's "all" view, never sent.
    #[serde(default)]
    pub suppressed_by: Option<String>,
}

impl Alert {
    /// The title and body of this alert's desktop notification: tenant and user, and
    /// why. Both are tenant-controlled text, so neither carries control characters,
    /// bidi overrides or markup (servers that render a subset of HTML would show a
    /// stranger's links and images).
    pub fn notification(&self) -> (String, String) {
        let title = match &self.username {
            Some(user) => format!("{}: {user}", self.tenant),
            None => format!("{}: {} alerts", self.tenant, self.count),
        };
        (
            crate::text::for_notification(&title),
            crate::text::for_notification(&self.message),
        )
    }
}

/// An alert as kept for the alert centre.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StoredAlert {
    pub id: i64,
    pub alert: Alert,
    pub acknowledged: bool,
    /// Where the alert went besides this window: one per route it matched.
    pub deliveries: Vec<Delivery>,
}

/// A delivery's state, as the alert centre shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DeliveryState {
    /// Waiting for its first try or for a retry.
    Queued,
    Delivered,
    /// Retried for three days without success.
    GaveUp,
}

/// One alert on one route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Delivery {
    pub id: i64,
    pub alert_id: Option<i64>,
    pub route: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub next_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// Delivered inside the digest of this delivery (the route's rate limit).
    pub carried_by: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlertFilter {
    pub open_only: bool,
    pub tenant: Option<String>,
    /// Matches user, IP or message.
    pub search: Option<String>,
    pub limit: Option<u32>,
}

/// Per-tenant rule settings (`[tenants.alerts]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct AlertSettings {
    pub superuser_sign_in: bool,
    pub odd_hours: bool,
    pub multiple_networks: bool,
    pub new_ip: bool,
    pub tenant_problems: bool,
    /// Two places of one user further apart than this speed allows (with a GeoIP database).
    pub impossible_travel: bool,
    /// Fastest plausible travel, km/h (a plane with its connections: 900).
    pub max_travel_kmh: u32,
    /// Sessions older than this many hours alert (L4); none (0 in the file): off.
    #[serde(deserialize_with = "zero_is_off")]
    pub max_session_age_hours: Option<u32>,
    /// More concurrent sessions per user than this alert (L5); none (0 in the file): off.
    #[serde(deserialize_with = "zero_is_off")]
    pub max_concurrent_sessions: Option<u32>,
    /// Alert on sessions the first poll after start finds (default: no).
    pub alert_on_existing: bool,
    /// Rules muted for this tenant.
    pub muted: Vec<Rule>,
    /// Above this many alerts of one rule in one poll, send one digest.
    pub digest_over: u32,
    /// At most this many alerts per minute are announced for the tenant; the rest wait
    /// in the alert centre and one summary says how many.
    pub max_per_minute: u32,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            superuser_sign_in: true,
            odd_hours: true,
            multiple_networks: true,
            new_ip: false,
            tenant_problems: true,
            impossible_travel: true,
            max_travel_kmh: 900,
            max_session_age_hours: Some(24 * 7),
            max_concurrent_sessions: Some(10),
            alert_on_existing: false,
            muted: Vec::new(),
            digest_over: 5,
            max_per_minute: 10,
        }
    }
}

/// TOML has no null: a limit of 0 in the file means the rule is off.
fn zero_is_off<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(Option::<u32>::deserialize(d)?.filter(|n| *n > 0))
}

/// The numbers of [`AlertSettings`] and the whole numbers each accepts. The one table:
/// [`AlertSettings::validate`] checks against it, and the window reads it from
/// `ui/src/ipc/bindings/limits.json`, which the `limits` module writes.
pub const RANGES: &[(&str, u32, u32)] = &[
    ("max_travel_kmh", 100, 5_000),
    ("max_session_age_hours", 1, 8_760),
    ("max_concurrent_sessions", 1, 1_000),
    ("digest_over", 1, 1_000),
    ("max_per_minute", 1, 600),
];

/// One number's accepted range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlertRange {
    pub field: String,
    pub min: u32,
    pub max: u32,
}

/// What the window needs to edit alert settings: the defaults and the ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AlertLimits {
    pub defaults: AlertSettings,
    pub ranges: Vec<AlertRange>,
}

impl AlertLimits {
    pub fn current() -> Self {
        Self {
            defaults: AlertSettings::default(),
            ranges: RANGES
                .iter()
                .map(|(field, min, max)| AlertRange {
                    field: (*field).to_owned(),
                    min: *min,
                    max: *max,
                })
                .collect(),
        }
    }
}

impl AlertSettings {
    /// Checks the numbers against [`RANGES`]; the error names the field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let numbers = [
            ("max_travel_kmh", Some(self.max_travel_kmh)),
            ("max_session_age_hours", self.max_session_age_hours),
            ("max_concurrent_sessions", self.max_concurrent_sessions),
            ("digest_over", Some(self.digest_over)),
            ("max_per_minute", Some(self.max_per_minute)),
        ];
        for (field, value) in numbers {
            let (Some(v), Some((field, lo, hi))) =
                (value, RANGES.iter().find(|(f, _, _)| *f == field))
            else {
                continue;
            };
            if !(*lo..=*hi).contains(&v) {
                return Err((field, format!("{v} is outside {lo}..={hi}")));
            }
        }
        Ok(())
    }

    fn on(&self, rule: Rule) -> bool {
        !self.muted.contains(&rule)
            && match rule {
                Rule::SuperuserSignIn => self.superuser_sign_in,
                Rule::OddHours => self.odd_hours,
                Rule::MultipleNetworks => self.multiple_networks,
                Rule::NewIp => self.new_ip,
                Rule::TenantProblem => self.tenant_problems,
                Rule::ImpossibleTravel => self.impossible_travel,
                Rule::LongSession => self.max_session_age_hours.is_some(),
                Rule::TooManySessions => self.max_concurrent_sessions.is_some(),
            }
    }
}

/// The network an address belongs to, for "several networks at once": /16 for IPv4,
/// /48 for IPv6.
pub fn network_of(ip: &str) -> Option<String> {
    match ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(format!("{}.{}.0.0/16", o[0], o[1]))
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
    }
}

/// Where an address is (from a GeoIP database).
pub type Locate<'a> = dyn Fn(&str) -> Option<crate::geoip::Place> + 'a;

/// What the rules need to know about a tenant besides the diff.
pub struct TenantView<'a> {
    pub tenant: &'a str,
    pub settings: &'a AlertSettings,
    pub calendar: Option<&'a WorkingCalendar>,
    /// Every current session of the tenant (after the poll).
    pub sessions: &'a [Session],
    /// Whether `(user_id, ip)` was seen before this poll (L6).
    pub ip_seen_before: &'a dyn Fn(&str, &str) -> bool,
    /// Where an address is, when a GeoIP database is configured (impossible travel).
    pub locate: Option<&'a Locate<'a>>,
    /// The trusted network an address is in (the network rules ignore those).
    pub trusted: &'a dyn Fn(&str) -> Option<String>,
    pub now: DateTime<Utc>,
}

/// A rule that fired, keyed for deduplication.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Firing {
    pub rule: Rule,
    /// Session id (or `user:<id>` for per-user rules).
    pub key: String,
}

/// Evaluates the rules on the sessions a poll started (and, for L4, on all sessions).
/// Returns one alert per session with the firings to deduplicate.
pub fn evaluate<S: std::borrow::Borrow<Session>>(
    view: &TenantView<'_>,
    started: &[S],
    initial: bool,
) -> Vec<(Alert, Vec<Firing>)> {
    let started: Vec<&Session> = started.iter().map(S::borrow).collect();
    let s = view.settings;
    // Per session: each rule fired, its dedup key, and why it is suppressed (a trusted
    // network), if it is.
    type Fired = Vec<(Rule, String, Option<String>)>;
    let mut by_session: BTreeMap<String, (Session, Fired)> = BTreeMap::new();
    // What the message adds for a session ("Berlin, DE → Sydney, AU: 16,090 km in 2 h").
    let mut details: HashMap<String, String> = HashMap::new();
    let mut fire = |session: &Session, rule: Rule, key: String, suppressed: Option<String>| {
        if s.on(rule) {
            by_session
                .entry(session.id.to_string())
                .or_insert_with(|| (session.clone(), Vec::new()))
                .1
                .push((rule, key, suppressed));
        }
    };
    let trusted = view.trusted;
    let fresh = !initial || s.alert_on_existing;
    if fresh {
        for &session in &started {
            if session.superuser {
                fire(session, Rule::SuperuserSignIn, session.id.to_string(), None);
            }
            if let (Some(cal), Some(created)) = (view.calendar, session.created_at)
                && !cal.is_working_time(created)
            {
                fire(session, Rule::OddHours, session.id.to_string(), None);
            }
            if let Some(ip) = &session.ip
                && !(view.ip_seen_before)(&session.user_id, ip)
            {
                let why = trusted(ip).map(|n| format!("trusted network {n} ({ip})"));
                fire(session, Rule::NewIp, session.id.to_string(), why);
            }
        }
    }
    // Per-user rules look at every current session of users who just signed in.
    let mut per_user: HashMap<&str, Vec<&Session>> = HashMap::new();
    for session in view.sessions {
        per_user.entry(&*session.user_id).or_default().push(session);
    }
    let signed_in: HashSet<&str> = started.iter().map(|s| &*s.user_id).collect();
    if fresh {
        for (user, sessions) in &per_user {
            if !signed_in.contains(user) {
                continue;
            }
            let Some(newest) = started.iter().find(|s| &*s.user_id == *user) else {
                continue;
            };
            let networks: HashSet<String> = sessions
                .iter()
                .filter_map(|s| s.ip.as_deref().and_then(network_of))
                .collect();
            if networks.len() >= 2 {
                // Networks of addresses outside every trusted network.
                let mut trusted_names = std::collections::BTreeSet::new();
                let untrusted: HashSet<String> = sessions
                    .iter()
                    .filter_map(|s| s.ip.as_deref())
                    .filter(|ip| match trusted(ip) {
                        Some(n) => {
                            trusted_names.insert(n);
                            false
                        }
                        None => true,
                    })
                    .filter_map(network_of)
                    .collect();
                let why = (untrusted.len() < 2).then(|| {
                    format!(
                        "trusted network {}",
                        trusted_names.into_iter().collect::<Vec<_>>().join(", ")
                    )
                });
                fire(newest, Rule::MultipleNetworks, newest.id.to_string(), why);
            }
            if let Some(max) = s.max_concurrent_sessions
                && sessions.len() > max as usize
            {
                fire(newest, Rule::TooManySessions, newest.id.to_string(), None);
            }
            if let (Some(locate), true) = (view.locate, s.on(Rule::ImpossibleTravel))
                && let Some(detail) = impossible_travel(newest, sessions, locate, s.max_travel_kmh)
            {
                // Again without the sessions from trusted networks: if that is possible
                // travel, a trusted network explains it.
                let from_trusted = |x: &Session| x.ip.as_deref().and_then(trusted);
                let why = match from_trusted(newest) {
                    Some(n) => Some(format!("trusted network {n}")),
                    None => {
                        let others: Vec<&Session> = sessions
                            .iter()
                            .copied()
                            .filter(|x| from_trusted(x).is_none())
                            .collect();
                        impossible_travel(newest, &others, locate, s.max_travel_kmh)
                            .is_none()
                            .then(|| {
                                let names: std::collections::BTreeSet<String> =
                                    sessions.iter().filter_map(|x| from_trusted(x)).collect();
                                format!(
                                    "trusted network {}",
                                    names.into_iter().collect::<Vec<_>>().join(", ")
                                )
                            })
                    }
                };
                fire(newest, Rule::ImpossibleTravel, newest.id.to_string(), why);
                details.insert(newest.id.to_string(), detail);
            }
        }
    }
    if let Some(hours) = s.max_session_age_hours {
        let limit = chrono::Duration::hours(i64::from(hours));
        for session in view.sessions {
            if session.created_at.is_some_and(|c| view.now - c > limit) {
                fire(session, Rule::LongSession, session.id.to_string(), None);
            }
        }
    }
    by_session
        .into_values()
        .map(|(session, fired)| {
            // Rules a trusted network explains are left out, unless nothing else fired:
            // then the alert is kept, suppressed, with the reason.
            let open: Vec<Rule> = fired
                .iter()
                .filter(|(_, _, why)| why.is_none())
                .map(|(r, _, _)| *r)
                .collect();
            let suppressed_by = open.is_empty().then(|| {
                let mut why: Vec<&str> =
                    fired.iter().filter_map(|(_, _, w)| w.as_deref()).collect();
                why.dedup();
                why.join("; ")
            });
            let mut rules: Vec<Rule> = if open.is_empty() {
                fired.iter().map(|(r, _, _)| *r).collect()
            } else {
                open
            };
            rules.sort_by_key(|r| std::cmp::Reverse(r.severity()));
            rules.dedup();
            let rule = rules[0];
            let reasons: Vec<&str> = rules.iter().map(|r| r.why()).collect();
            let alert = Alert {
                rule,
                severity: rule.severity(),
                rules: rules.clone(),
                tenant: view.tenant.to_owned(),
                username: Some(session.username.to_string()),
                session_id: Some(session.id.to_string()),
                ip: session.ip.clone(),
                user_agent: session.user_agent.as_deref().map(str::to_owned),
                at: session.created_at.unwrap_or(view.now),
                message: match details.get(&*session.id) {
                    Some(d) => format!(
                        "{} in tenant {}: {} ({d})",
                        session.username,
                        view.tenant,
                        reasons.join("; ")
                    ),
                    None => format!(
                        "{} in tenant {}: {}",
                        session.username,
                        view.tenant,
                        reasons.join("; ")
                    ),
                },
                count: 1,
                suppressed_by,
            };
            let firings = fired
                .into_iter()
                .map(|(rule, key, _)| Firing { rule, key })
                .collect();
            (alert, firings)
        })
        .collect()
}

/// Places closer than this are never "impossible" (city-level databases err by tens of km).
const MIN_TRAVEL_KM: f64 = 500.0;

/// The new session against the user's other sessions: a place too far from another for
/// the time between them. Returns what to tell ("Berlin, DE → Sydney, AU: 16,090 km in
/// 2 h").
fn impossible_travel(
    newest: &Session,
    sessions: &[&Session],
    locate: &Locate<'_>,
    max_kmh: u32,
) -> Option<String> {
    let here = locate(newest.ip.as_deref()?)?;
    let at = newest.created_at?;
    // (speed, km, hours, route) of the fastest travel the sessions would need.
    let mut worst: Option<(f64, f64, f64, String)> = None;
    for other in sessions.iter().filter(|o| o.id != newest.id) {
        let Some(there) = other.ip.as_deref().and_then(locate) else {
            continue;
        };
        let Some(then) = other.last_activity_at.or(other.created_at) else {
            continue;
        };
        let slack =
            f64::from(here.accuracy_km.unwrap_or(0)) + f64::from(there.accuracy_km.unwrap_or(0));
        let km = here.distance_km(&there) - slack;
        if km < MIN_TRAVEL_KM {
            continue;
        }
        let hours = ((at - then).num_seconds().unsigned_abs() as f64 / 3600.0).max(1.0 / 60.0);
        let speed = km / hours;
        if speed > f64::from(max_kmh) && worst.as_ref().is_none_or(|w| speed > w.0) {
            worst = Some((
                speed,
                km,
                hours,
                format!("{} → {}", there.label(), here.label()),
            ));
        }
    }
    worst.map(|(_, km, hours, route)| {
        let within = if hours < 1.0 {
            format!("{} min", (hours * 60.0).round().max(1.0))
        } else {
            format!("{:.0} h", hours.round())
        };
        format!(
            "{route}: {} km within {within}",
            thousands(km.round() as u64)
        )
    })
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Collapses alerts whose main rule fired more than `over` times in one poll into one
/// digest per rule ("37 odd-hours sign-ins in tenant X").
pub fn digest(alerts: Vec<Alert>, over: u32) -> Vec<Alert> {
    let mut by_rule: BTreeMap<Rule, Vec<Alert>> = BTreeMap::new();
    for a in alerts {
        by_rule.entry(a.rule).or_default().push(a);
    }
    let mut out = Vec::new();
    for (rule, list) in by_rule {
        if list.len() as u32 <= over {
            out.extend(list);
            continue;
        }
        let first = &list[0];
        let n = list.len() as u32;
        out.push(Alert {
            rule,
            rules: vec![rule],
            severity: list
                .iter()
                .map(|a| a.severity)
                .max()
                .unwrap_or(rule.severity()),
            tenant: first.tenant.clone(),
            username: None,
            session_id: None,
            ip: None,
            user_agent: None,
            at: list.iter().map(|a| a.at).max().unwrap_or(first.at),
            message: format!(
                "{n} {} sessions in tenant {}",
                rule.as_str().replace('_', "-"),
                first.tenant
            ),
            count: n,
            suppressed_by: None,
        });
    }
    out
}

/// Announces at most `max` alerts per tenant in any 60 s; counts the rest, and lets one
/// summary through once there is room again.
#[derive(Debug, Default)]
pub struct RateLimiter {
    sent: HashMap<String, std::collections::VecDeque<DateTime<Utc>>>,
    /// Alerts held back per tenant, and the most severe rule among them.
    held: HashMap<String, (u32, Rule)>,
}

impl RateLimiter {
    /// Filters `alerts` for one tenant at `now`; a summary of held alerts comes first
    /// when the window has room for it.
    pub fn admit(
        &mut self,
        tenant: &str,
        max: u32,
        alerts: Vec<Alert>,
        now: DateTime<Utc>,
    ) -> Vec<Alert> {
        let max = max.max(1) as usize;
        let window = self.sent.entry(tenant.to_owned()).or_default();
        while window
            .front()
            .is_some_and(|t| now - *t >= chrono::Duration::seconds(60))
        {
            window.pop_front();
        }
        let mut out = Vec::new();
        if let Some((held, rule)) = self
            .held
            .get(tenant)
            .copied()
            .filter(|_| window.len() < max)
        {
            window.push_back(now);
            out.push(Alert {
                rule,
                rules: vec![rule],
                severity: rule.severity(),
                tenant: tenant.to_owned(),
                username: None,
                session_id: None,
                ip: None,
                user_agent: None,
                at: now,
                message: format!(
                    "{held} more alerts in tenant {tenant} were held back (see the alert centre)"
                ),
                count: held,
                suppressed_by: None,
            });
            self.held.remove(tenant);
        }
        for a in alerts {
            if window.len() < max {
                window.push_back(now);
                out.push(a);
            } else {
                let entry = self.held.entry(tenant.to_owned()).or_insert((0, a.rule));
                entry.0 += a.count.max(1);
                if a.severity > entry.1.severity() {
                    entry.1 = a.rule;
                }
            }
        }
        out
    }
}

/// L7: an alert for a tenant whose polls fail.
pub fn tenant_problem(tenant: &str, error: &crate::ErrorPayload, now: DateTime<Utc>) -> Alert {
    Alert {
        rule: Rule::TenantProblem,
        rules: vec![Rule::TenantProblem],
        severity: Severity::High,
        tenant: tenant.to_owned(),
        username: None,
        session_id: None,
        ip: None,
        user_agent: None,
        at: now,
        message: format!("tenant {tenant} cannot be polled: {}", error.message),
        count: 1,
        suppressed_by: None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    #[test]
    fn settings_are_checked_against_the_ranges() {
        let mut s = AlertSettings::default();
        s.validate().unwrap();
        s.max_per_minute = 601;
        assert_eq!(s.validate().unwrap_err().0, "max_per_minute");
        s.max_per_minute = 1;
        s.max_session_age_hours = Some(0);
        assert_eq!(s.validate().unwrap_err().0, "max_session_age_hours");
    }

    use super::*;
    use crate::calendar::{WorkingHours, parse_holiday, parse_timezone};

    #[test]
    fn notification_text_is_escaped() {
        let mut a = tenant_problem(
            "acme",
            &crate::Error::malformed("<a href='https://evil.example'>x</a>\x1b[2J").payload(),
            Utc::now(),
        );
        a.username = Some("mallory\u{202e}gnp.exe<img src=x>".into());
        let (title, body) = a.notification();
        assert_eq!(title, "acme: mallory\\u{202e}gnp.exe&lt;img src=x&gt;");
        assert!(!body.contains('<') && !body.contains('\x1b'), "{body}");
        assert!(body.contains("&lt;a href="), "{body}");
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap()
    }

    fn session(id: &str, user: &str, ip: &str, created: &str, superuser: bool) -> Session {
        let t: Arc<str> = Arc::from("acme");
        let mut s = Session::new(&t, id, format!("u-{user}"), user);
        s.ip = Some(ip.into());
        s.created_at = Some(at(created));
        s.superuser = superuser;
        s
    }

    fn cal(tz: &str, hours: &str, holidays: &[&str]) -> WorkingCalendar {
        WorkingCalendar {
            timezone: parse_timezone(tz).unwrap(),
            hours: WorkingHours::parse(hours).unwrap(),
            holidays: holidays.iter().map(|h| parse_holiday(h).unwrap()).collect(),
        }
    }

    fn run(
        settings: &AlertSettings,
        cal: Option<&WorkingCalendar>,
        started: &[Session],
        all: &[Session],
        initial: bool,
    ) -> Vec<Alert> {
        let view = TenantView {
            tenant: "acme",
            settings,
            calendar: cal,
            sessions: all,
            ip_seen_before: &|_, ip| ip.starts_with("10."),
            locate: None,
            trusted: &|_| None,
            now: at("2026-11-24T12:00:00Z"),
        };
        evaluate(&view, started, initial)
            .into_iter()
            .map(|(a, _)| a)
            .collect()
    }

    fn travel(started: &Session, all: &[Session]) -> Vec<Alert> {
        let geo = crate::geoip::GeoIp::open(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/geoip/city-test.mmdb"),
        )
        .unwrap();
        let settings = AlertSettings {
            multiple_networks: false,
            ..Default::default()
        };
        let locate = |ip: &str| geo.locate(ip);
        let view = TenantView {
            tenant: "acme",
            settings: &settings,
            calendar: None,
            sessions: all,
            ip_seen_before: &|_, _| true,
            locate: Some(&locate),
            trusted: &|_| None,
            now: at("2026-11-24T12:00:00Z"),
        };
        evaluate(&view, std::slice::from_ref(started), false)
            .into_iter()
            .map(|(a, _)| a)
            .collect()
    }

    #[test]
    fn impossible_travel_needs_distance_and_too_little_time() {
        let mut berlin = session("b", "alice", "198.51.100.4", "2026-11-24T09:00:00Z", false);
        berlin.last_activity_at = Some(at("2026-11-24T10:30:00Z"));
        // Sydney 90 minutes after activity in Berlin: 16,000 km, no plane does that.
        let sydney = session("s", "alice", "203.0.113.9", "2026-11-24T12:00:00Z", false);
        let alerts = travel(&sydney, &[berlin.clone(), sydney.clone()]);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].rule, Rule::ImpossibleTravel);
        assert_eq!(alerts[0].severity, Severity::High);
        assert!(
            alerts[0].message.contains("Berlin, DE → Sydney, AU")
                && alerts[0].message.contains("km within 2 h"),
            "{}",
            alerts[0].message
        );
        // A day later the same trip is possible.
        let later = session("s2", "alice", "203.0.113.9", "2026-11-25T12:00:00Z", false);
        assert!(travel(&later, &[berlin.clone(), later.clone()]).is_empty());
        // Berlin to Potsdam in a minute is a nearby network, not travel.
        let potsdam = session("p", "alice", "198.18.4.4", "2026-11-24T10:31:00Z", false);
        assert!(travel(&potsdam, &[berlin.clone(), potsdam.clone()]).is_empty());
        // Addresses the database does not know say nothing.
        let unknown = session("u", "alice", "10.9.9.9", "2026-11-24T10:31:00Z", false);
        assert!(travel(&unknown, &[berlin.clone(), unknown.clone()]).is_empty());
        // Another user's session does not count.
        let bob = session("x", "bob", "203.0.113.9", "2026-11-24T10:31:00Z", false);
        assert!(travel(&bob, &[berlin, bob.clone()]).is_empty());
    }

    #[test]
    fn a_superuser_at_night_is_one_alert_with_two_reasons() {
        let c = cal("Europe/Berlin", "mon-fri 08:00-18:00", &[]);
        // 02:30 UTC on a Tuesday is 03:30 in Berlin.
        let s = session("s1", "root", "10.0.0.1", "2026-11-24T02:30:00Z", true);
        let alerts = run(
            &AlertSettings::default(),
            Some(&c),
            std::slice::from_ref(&s),
            std::slice::from_ref(&s),
            false,
        );
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].rule, Rule::SuperuserSignIn);
        assert_eq!(alerts[0].rules, vec![Rule::SuperuserSignIn, Rule::OddHours]);
        assert_eq!(
            alerts[0].message,
            "root in tenant acme: a SuperUser signed in; outside working hours"
        );
    }

    #[test]
    fn odd_hours_follow_the_tenant_zone_dst_the_date_line_and_holidays() {
        let day = AlertSettings {
            superuser_sign_in: false,
            ..Default::default()
        };
        let odd = |c: &WorkingCalendar, when: &str| {
            let s = session("s", "u", "10.0.0.1", when, false);
            run(
                &day,
                Some(c),
                std::slice::from_ref(&s),
                std::slice::from_ref(&s),
                false,
            )
            .iter()
            .any(|a| a.rules.contains(&Rule::OddHours))
        };
        let berlin = cal("Europe/Berlin", "mon-fri 08:00-18:00", &["2026-12-25"]);
        assert!(
            !odd(&berlin, "2026-11-24T07:30:00Z"),
            "08:30 CET is working time"
        );
        assert!(
            !odd(&berlin, "2026-07-01T06:30:00Z"),
            "08:30 CEST is working time"
        );
        assert!(odd(&berlin, "2026-07-01T05:30:00Z"), "07:30 CEST is early");
        // DST starts 2026-03-29 at 02:00 in Berlin; 06:30 UTC that Monday-after is 08:30 CEST.
        assert!(!odd(&berlin, "2026-03-30T06:30:00Z"));
        // DST ends 2026-10-25 (a Sunday: odd anyway); Monday 26th 07:30 UTC is 08:30 CET.
        assert!(!odd(&berlin, "2026-10-26T07:30:00Z"));
        assert!(odd(&berlin, "2026-10-26T06:30:00Z"));
        assert!(odd(&berlin, "2026-12-25T10:00:00Z"), "holiday");
        assert!(odd(&berlin, "2026-11-28T10:00:00Z"), "Saturday");
        // Kiritimati (UTC+14): Monday 09:00 local is Sunday 19:00 UTC.
        let kiri = cal("Pacific/Kiritimati", "mon-fri 08:00-18:00", &[]);
        assert!(!odd(&kiri, "2026-11-22T19:00:00Z"));
        assert!(odd(&kiri, "2026-11-21T19:00:00Z"), "that is Sunday there");
        // Pago Pago (UTC-11): Friday 17:00 local is Saturday 04:00 UTC.
        let pago = cal("Pacific/Pago_Pago", "mon-fri 08:00-18:00", &[]);
        assert!(!odd(&pago, "2026-11-28T04:00:00Z"));
    }

    #[test]
    fn existing_sessions_do_not_flood_the_first_poll() {
        let s = session("s1", "root", "10.0.0.1", "2026-11-24T02:30:00Z", true);
        assert!(
            run(
                &AlertSettings {
                    max_session_age_hours: None,
                    ..Default::default()
                },
                None,
                std::slice::from_ref(&s),
                std::slice::from_ref(&s),
                true
            )
            .is_empty()
        );
        let loud = AlertSettings {
            alert_on_existing: true,
            ..Default::default()
        };
        assert_eq!(
            run(
                &loud,
                None,
                std::slice::from_ref(&s),
                std::slice::from_ref(&s),
                true
            )
            .len(),
            1
        );
    }

    #[test]
    fn networks_concurrency_age_new_ips_and_mutes() {
        let a = session("a", "ann", "203.0.113.5", "2026-11-24T11:00:00Z", false);
        let b = session("b", "ann", "2001:db8:1::5", "2026-11-24T11:59:00Z", false);
        let old = session("c", "cal", "10.1.2.3", "2026-11-01T10:00:00Z", false);
        let settings = AlertSettings {
            new_ip: true,
            max_concurrent_sessions: Some(1),
            ..Default::default()
        };
        let alerts = run(
            &settings,
            None,
            std::slice::from_ref(&b),
            &[a.clone(), b.clone(), old.clone()],
            false,
        );
        let by = |id: &str| {
            alerts
                .iter()
                .find(|x| x.session_id.as_deref() == Some(id))
                .cloned()
                .unwrap()
        };
        let rules = by("b").rules;
        assert!(
            rules.contains(&Rule::MultipleNetworks)
                && rules.contains(&Rule::TooManySessions)
                && rules.contains(&Rule::NewIp),
            "{rules:?}"
        );
        assert_eq!(by("c").rules, vec![Rule::LongSession]);
        let muted = AlertSettings {
            muted: vec![Rule::LongSession, Rule::MultipleNetworks],
            ..settings
        };
        let alerts = run(
            &muted,
            None,
            std::slice::from_ref(&b),
            &[a, b.clone(), old],
            false,
        );
        assert_eq!(alerts.len(), 1);
        assert!(!alerts[0].rules.contains(&Rule::MultipleNetworks));
        assert_eq!(network_of("203.0.113.5").as_deref(), Some("203.0.0.0/16"));
        assert_eq!(
            network_of("2001:db8:1::5").as_deref(),
            Some("2001:db8:1::/48")
        );
    }

    #[test]
    fn the_rate_limit_holds_back_and_summarises() {
        let c = cal("UTC", "mon-fri 08:00-18:00", &[]);
        let mk = |i: usize| {
            session(
                &format!("s{i}"),
                &format!("u{i}"),
                "10.0.0.1",
                "2026-11-24T03:00:00Z",
                false,
            )
        };
        let batch: Vec<Alert> = (0..4)
            .map(|i| {
                run(
                    &AlertSettings::default(),
                    Some(&c),
                    &[mk(i)],
                    &[mk(i)],
                    false,
                )
                .remove(0)
            })
            .collect();
        let mut rl = RateLimiter::default();
        let t0 = at("2026-11-24T03:00:00Z");
        assert_eq!(rl.admit("acme", 3, batch.clone(), t0).len(), 3);
        assert!(
            rl.admit("acme", 3, batch.clone(), t0 + chrono::Duration::seconds(10))
                .is_empty()
        );
        assert_eq!(
            rl.admit("other", 3, batch[..1].to_vec(), t0).len(),
            1,
            "per tenant"
        );
        let later = rl.admit("acme", 3, Vec::new(), t0 + chrono::Duration::seconds(61));
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].count, 5);
        assert!(later[0].message.starts_with("5 more alerts in tenant acme"));
    }

    #[test]
    fn many_at_once_become_a_digest() {
        let c = cal("UTC", "mon-fri 08:00-18:00", &[]);
        let started: Vec<Session> = (0..37)
            .map(|i| {
                session(
                    &format!("s{i}"),
                    &format!("u{i}"),
                    "10.0.0.1",
                    "2026-11-24T03:00:00Z",
                    false,
                )
            })
            .collect();
        let alerts = run(
            &AlertSettings::default(),
            Some(&c),
            &started,
            &started,
            false,
        );
        assert_eq!(alerts.len(), 37);
        let d = digest(alerts, 5);
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].count, d[0].message.as_str()),
            (37, "37 odd-hours sessions in tenant acme")
        );
    }
}
