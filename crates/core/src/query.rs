//! What the console asks of the session store: filters on every column, sorting on any
//! column, the per-user view and the facets the filter menus offer.
//!
//! The UI and the CLI send a [`SessionQuery`] (or a [`UserQuery`]); the store runs it on
//! its rows and returns only the window asked for.

use std::cmp::Ordering;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{Error, Result};
use crate::model::{Session, SessionRef, Text};

/// Separates the fields of a row's precomputed search text (no needle contains it).
pub(crate) const SEARCH_SEPARATOR: char = '\u{1}';

/// Largest window one query returns.
pub const MAX_WINDOW: usize = 10_000;
/// Longest text accepted in one filter field.
pub const MAX_FILTER_TEXT: usize = 256;
/// Most values in one list filter (tenants, session types …).
pub const MAX_FILTER_VALUES: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SortColumn {
    Tenant,
    Username,
    DisplayName,
    Department,
    Organisation,
    Ip,
    UserAgent,
    SessionType,
    LoginType,
    ServerName,
    #[default]
    CreatedAt,
    LastActivityAt,
    /// Also "time left": the same order.
    ExpiresAt,
    IdleTimeout,
    /// SuperUsers first when descending.
    Superuser,
    /// The session id (a stable, meaningless order).
    Id,
}

/// Which sessions to show. Every field narrows; an empty filter matches everything.
/// Text filters are case-insensitive substrings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct SessionFilter {
    /// Substring over id, user, names, IP, location, department, organisation, user
    /// agent, server and tenant.
    #[ts(optional)]
    pub search: Option<String>,
    /// Any of these tenants (empty: all).
    #[ts(as = "Option<Vec<String>>", optional)]
    pub tenants: Vec<String>,
    #[ts(as = "Option<bool>", optional)]
    pub superuser_only: bool,
    /// Exact user name.
    #[ts(optional)]
    pub user: Option<String>,
    /// Exact user id (with `tenants`, one user's sessions: the per-user view's expansion).
    #[ts(optional)]
    pub user_id: Option<String>,
    /// User name contains.
    #[ts(optional)]
    pub username: Option<String>,
    /// Display, first or last name contains.
    #[ts(optional)]
    pub name: Option<String>,
    #[ts(optional)]
    pub department: Option<String>,
    #[ts(optional)]
    pub organisation: Option<String>,
    /// An IP address, a CIDR network (`10.0.0.0/8`, `2001:db8::/32`), or, when it is
    /// neither, a substring of the address (`192.168.`).
    #[ts(optional)]
    pub ip: Option<String>,
    #[ts(optional)]
    pub user_agent: Option<String>,
    #[ts(optional)]
    pub server_name: Option<String>,
    /// Session id contains.
    #[ts(optional)]
    pub session_id: Option<String>,
    /// Any of these session types (empty: all).
    #[ts(as = "Option<Vec<String>>", optional)]
    pub session_types: Vec<String>,
    /// Any of these login types (empty: all).
    #[ts(as = "Option<Vec<String>>", optional)]
    pub login_types: Vec<String>,
    #[ts(optional)]
    pub protected: Option<bool>,
    #[ts(optional)]
    pub disabled: Option<bool>,
    /// The administrator's own sessions.
    #[ts(optional)]
    pub current: Option<bool>,
    /// Created at or after.
    #[ts(optional)]
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    #[ts(optional)]
    pub created_to: Option<DateTime<Utc>>,
    #[ts(optional)]
    pub last_activity_from: Option<DateTime<Utc>>,
    #[ts(optional)]
    pub last_activity_to: Option<DateTime<Utc>>,
    #[ts(optional)]
    pub expires_from: Option<DateTime<Utc>>,
    #[ts(optional)]
    pub expires_to: Option<DateTime<Utc>>,
}

impl SessionFilter {
    /// Rejects filters too large to be a person's input (IPC and CLI arguments).
    pub fn validate(&self) -> Result<()> {
        let texts = [
            ("search", &self.search),
            ("user", &self.user),
            ("user_id", &self.user_id),
            ("username", &self.username),
            ("name", &self.name),
            ("department", &self.department),
            ("organisation", &self.organisation),
            ("ip", &self.ip),
            ("user_agent", &self.user_agent),
            ("server_name", &self.server_name),
            ("session_id", &self.session_id),
        ];
        for (field, value) in texts {
            if value.as_ref().is_some_and(|v| v.len() > MAX_FILTER_TEXT) {
                return Err(Error::invalid_input(format!(
                    "filter {field}: longer than {MAX_FILTER_TEXT} characters"
                )));
            }
        }
        let lists = [
            ("tenants", &self.tenants),
            ("session_types", &self.session_types),
            ("login_types", &self.login_types),
        ];
        for (field, values) in lists {
            if values.len() > MAX_FILTER_VALUES || values.iter().any(|v| v.len() > MAX_FILTER_TEXT)
            {
                return Err(Error::invalid_input(format!(
                    "filter {field}: more than {MAX_FILTER_VALUES} values or a value too long"
                )));
            }
        }
        let ranges = [
            ("created", self.created_from, self.created_to),
            (
                "last_activity",
                self.last_activity_from,
                self.last_activity_to,
            ),
            ("expires", self.expires_from, self.expires_to),
        ];
        for (field, from, to) in ranges {
            if let (Some(from), Some(to)) = (from, to)
                && from > to
            {
                return Err(Error::invalid_input(format!(
                    "filter {field}: the range ends before it starts"
                )));
            }
        }
        Ok(())
    }
}

/// Filter + sort + window of sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SessionQuery {
    #[serde(flatten)]
    #[ts(flatten)]
    pub filter: SessionFilter,
    #[serde(default)]
    pub sort: SortColumn,
    #[serde(default = "yes")]
    pub descending: bool,
    #[serde(default)]
    pub offset: usize,
    #[serde(default = "max_window")]
    pub limit: usize,
}

fn yes() -> bool {
    true
}

fn max_window() -> usize {
    MAX_WINDOW
}

impl Default for SessionQuery {
    fn default() -> Self {
        Self {
            filter: SessionFilter::default(),
            sort: SortColumn::CreatedAt,
            descending: true,
            offset: 0,
            limit: MAX_WINDOW,
        }
    }
}

impl SessionQuery {
    /// Everything matching `filter`, newest first.
    pub fn of(filter: SessionFilter) -> Self {
        Self {
            filter,
            ..Self::default()
        }
    }
}

/// Columns of the per-user view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum UserSortColumn {
    Tenant,
    Username,
    DisplayName,
    Department,
    Organisation,
    /// Active sessions.
    Sessions,
    /// Distinct IP addresses among them.
    Ips,
    #[default]
    LastLogin,
    LastActivity,
    LastIp,
    Superuser,
}

/// The per-user view: sessions matching `filter`, grouped by (tenant, user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UserQuery {
    #[serde(flatten)]
    #[ts(flatten)]
    pub filter: SessionFilter,
    #[serde(default)]
    pub sort: UserSortColumn,
    #[serde(default = "yes")]
    pub descending: bool,
    #[serde(default)]
    pub offset: usize,
    #[serde(default = "max_window")]
    pub limit: usize,
}

impl Default for UserQuery {
    fn default() -> Self {
        Self {
            filter: SessionFilter::default(),
            sort: UserSortColumn::LastLogin,
            descending: true,
            offset: 0,
            limit: MAX_WINDOW,
        }
    }
}

/// One user of one tenant with the sessions that matched the filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UserRow {
    pub tenant: String,
    pub user_id: Text,
    pub username: Text,
    #[serde(default)]
    pub email: Option<Text>,
    pub display_name: Option<Text>,
    pub department: Option<Text>,
    pub organisation: Option<Text>,
    pub superuser: bool,
    pub protected: bool,
    pub disabled: bool,
    /// One of the sessions is the administrator's own.
    pub current: bool,
    /// Active sessions (that matched the filter).
    pub sessions: usize,
    /// Distinct IP addresses among them.
    pub ips: usize,
    /// The newest session's creation time.
    pub last_login: Option<DateTime<Utc>>,
    /// The newest session's IP address.
    pub last_ip: Option<String>,
    pub last_activity_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UserPage {
    /// Users matching (not just this window).
    pub total: usize,
    /// Sessions of those users that matched.
    pub sessions: usize,
    pub offset: usize,
    pub rows: Vec<UserRow>,
    pub version: u64,
}

/// Sessions matching a filter, as action targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SessionRefs {
    /// At most as many as one action takes.
    pub refs: Vec<SessionRef>,
    /// How many matched in all.
    pub total: usize,
}

/// A value of an enumerated column and how many sessions have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FacetValue {
    pub value: String,
    pub count: usize,
}

/// The values the filter menus offer, over every session in the store.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Facets {
    pub tenants: Vec<FacetValue>,
    pub session_types: Vec<FacetValue>,
    pub login_types: Vec<FacetValue>,
}

pub(crate) fn compare(a: &Session, b: &Session, col: SortColumn) -> Ordering {
    match col {
        SortColumn::Tenant => a.tenant.cmp(&b.tenant),
        SortColumn::Username => cmp_ci(&a.username, &b.username),
        SortColumn::DisplayName => text(a.display_name.as_ref(), b.display_name.as_ref()),
        SortColumn::Department => text(a.department.as_ref(), b.department.as_ref()),
        SortColumn::Organisation => text(a.organisation.as_ref(), b.organisation.as_ref()),
        SortColumn::Ip => ip_order(a.ip.as_deref(), b.ip.as_deref()),
        SortColumn::UserAgent => text(a.user_agent.as_ref(), b.user_agent.as_ref()),
        SortColumn::SessionType => text(a.session_type.as_ref(), b.session_type.as_ref()),
        SortColumn::LoginType => text(a.login_type.as_ref(), b.login_type.as_ref()),
        SortColumn::ServerName => text(a.server_name.as_ref(), b.server_name.as_ref()),
        SortColumn::CreatedAt => opt(a.created_at.as_ref(), b.created_at.as_ref()),
        SortColumn::LastActivityAt => opt(a.last_activity_at.as_ref(), b.last_activity_at.as_ref()),
        SortColumn::ExpiresAt => opt(a.expires_at.as_ref(), b.expires_at.as_ref()),
        SortColumn::IdleTimeout => opt(
            a.idle_timeout_seconds.as_ref(),
            b.idle_timeout_seconds.as_ref(),
        ),
        SortColumn::Superuser => a.superuser.cmp(&b.superuser),
        SortColumn::Id => a.id.cmp(&b.id),
    }
}

/// Unknown values sort last in ascending order.
pub(crate) fn opt<T: Ord>(a: Option<&T>, b: Option<&T>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn text(a: Option<&Text>, b: Option<&Text>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => cmp_ci(a, b),
        _ => opt(a, b),
    }
}

/// Addresses in numeric order (IPv4 before IPv6); text that is no address after them.
fn ip_order(a: Option<&str>, b: Option<&str>) -> Ordering {
    let parse = |v: Option<&str>| v.and_then(|i| i.parse::<IpAddr>().ok());
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(&b),
    }
}

/// ASCII-case-insensitive order. Equal strings (common: a few user agents, departments)
/// and long shared prefixes are settled by block comparisons before any byte is
/// lowercased.
pub(crate) fn cmp_ci(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b {
        return Ordering::Equal;
    }
    let mut start = 0;
    for (x, y) in a.chunks_exact(16).zip(b.chunks_exact(16)) {
        if x != y {
            break;
        }
        start += 16;
    }
    a[start..]
        .iter()
        .map(u8::to_ascii_lowercase)
        .cmp(b[start..].iter().map(u8::to_ascii_lowercase))
}

enum IpFilter {
    Net(ipnet::IpNet),
    Addr(IpAddr),
    /// Neither an address nor a network: a substring of the address text.
    Text(String),
}

/// A [`SessionFilter`] compiled for matching many rows.
pub(crate) struct Filter<'a> {
    f: &'a SessionFilter,
    /// The global search, lowercased, for the rows' lowercased search text.
    finder: Option<memchr::memmem::Finder<'static>>,
    username: Option<String>,
    name: Option<String>,
    department: Option<String>,
    organisation: Option<String>,
    user_agent: Option<String>,
    server_name: Option<String>,
    session_id: Option<String>,
    ip: Option<IpFilter>,
    /// Whether anything but the search text and the address is filtered on: only then
    /// does a row's session need reading. A session lives in its own allocation, so
    /// reading one is a cache miss; a store of 100,000 rows skips 100,000 of them.
    reads_session: bool,
}

/// A text filter as a lowercase needle; blank means no filter.
fn needle(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase)
}

impl<'a> Filter<'a> {
    pub(crate) fn new(f: &'a SessionFilter) -> Result<Self> {
        f.validate()?;
        let ip = match f.ip.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => Some(if raw.contains('/') {
                IpFilter::Net(raw.parse().map_err(|_| {
                    Error::invalid_input(format!(
                        "invalid CIDR network {raw:?} (expected e.g. 10.0.0.0/8 or 2001:db8::/32)"
                    ))
                })?)
            } else if let Ok(addr) = raw.parse() {
                IpFilter::Addr(addr)
            } else if raw
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == '.' || c == ':')
            {
                IpFilter::Text(raw.to_ascii_lowercase())
            } else {
                return Err(Error::invalid_input(format!(
                    "invalid IP filter {raw:?} (expected an address, a CIDR network or part of an address)"
                )));
            }),
        };
        let mut filter = Self {
            f,
            finder: needle(f.search.as_ref())
                .filter(|n| !n.contains(SEARCH_SEPARATOR))
                .map(|n| memchr::memmem::Finder::new(n.as_bytes()).into_owned()),
            username: needle(f.username.as_ref()),
            name: needle(f.name.as_ref()),
            department: needle(f.department.as_ref()),
            organisation: needle(f.organisation.as_ref()),
            user_agent: needle(f.user_agent.as_ref()),
            server_name: needle(f.server_name.as_ref()),
            session_id: needle(f.session_id.as_ref()),
            ip,
            reads_session: true,
        };
        let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
        filter.reads_session = f.superuser_only
            || f.protected.is_some()
            || f.disabled.is_some()
            || f.current.is_some()
            || set(&f.user)
            || set(&f.user_id)
            || !f.session_types.is_empty()
            || !f.login_types.is_empty()
            || [
                f.created_from,
                f.created_to,
                f.last_activity_from,
                f.last_activity_to,
                f.expires_from,
                f.expires_to,
            ]
            .iter()
            .any(Option::is_some)
            || [
                &filter.username,
                &filter.name,
                &filter.department,
                &filter.organisation,
                &filter.user_agent,
                &filter.server_name,
                &filter.session_id,
            ]
            .iter()
            .any(|n| n.is_some())
            || matches!(filter.ip, Some(IpFilter::Text(_)));
        Ok(filter)
    }

    /// Whether a tenant can have matching rows at all.
    pub(crate) fn tenant_matches(&self, tenant: &str) -> bool {
        self.f.tenants.is_empty() || self.f.tenants.iter().any(|t| t == tenant)
    }

    /// Whether the filter has search text: only then does `matches` read `search`.
    pub(crate) fn searches(&self) -> bool {
        self.finder.is_some()
    }

    /// Whether the session passes; `search` is its global-search text and `addr` its
    /// address, parsed.
    pub(crate) fn matches(&self, s: &Session, search: &str, addr: Option<IpAddr>) -> bool {
        if self.reads_session && !self.session_matches(s) {
            return false;
        }
        match &self.ip {
            Some(IpFilter::Net(net)) if !addr.is_some_and(|a| net.contains(&a)) => return false,
            Some(IpFilter::Addr(a)) if addr != Some(*a) => return false,
            _ => {}
        }
        if let Some(finder) = &self.finder {
            return finder.find(search.as_bytes()).is_some();
        }
        true
    }

    /// The conditions on the session's own fields.
    fn session_matches(&self, s: &Session) -> bool {
        let f = self.f;
        if (f.superuser_only && !s.superuser)
            || f.protected.is_some_and(|v| v != s.protected)
            || f.disabled.is_some_and(|v| v != s.disabled)
            || f.current.is_some_and(|v| v != s.current)
            || f.user
                .as_ref()
                .is_some_and(|u| !u.is_empty() && *s.username != **u)
            || f.user_id
                .as_ref()
                .is_some_and(|u| !u.is_empty() && *s.user_id != **u)
            || !one_of(&f.session_types, s.session_type.as_deref())
            || !one_of(&f.login_types, s.login_type.as_deref())
            || !in_range(s.created_at, f.created_from, f.created_to)
            || !in_range(s.last_activity_at, f.last_activity_from, f.last_activity_to)
            || !in_range(s.expires_at, f.expires_from, f.expires_to)
        {
            return false;
        }
        let texts = [
            (&self.username, Some(&*s.username)),
            (&self.department, s.department.as_deref()),
            (&self.organisation, s.organisation.as_deref()),
            (&self.user_agent, s.user_agent.as_deref()),
            (&self.server_name, s.server_name.as_deref()),
            (&self.session_id, Some(&*s.id)),
        ];
        for (needle, hay) in texts {
            if let Some(n) = needle
                && !hay.is_some_and(|h| contains_ci(h, n))
            {
                return false;
            }
        }
        if let Some(n) = &self.name {
            let names = [
                s.display_name.as_deref(),
                s.first_name.as_deref(),
                s.last_name.as_deref(),
            ];
            if !names.into_iter().flatten().any(|h| contains_ci(h, n)) {
                return false;
            }
        }
        if let Some(IpFilter::Text(t)) = &self.ip
            && !s.ip.as_deref().is_some_and(|raw| contains_ci(raw, t))
        {
            return false;
        }
        true
    }
}

fn one_of(allowed: &[String], value: Option<&str>) -> bool {
    allowed.is_empty() || value.is_some_and(|v| allowed.iter().any(|a| a == v))
}

/// `[from, to)`; a session with no such time matches only an unbounded range.
fn in_range(
    t: Option<DateTime<Utc>>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    t.is_some_and(|t| from.is_none_or(|f| t >= f) && to.is_none_or(|e| t < e))
}

/// ASCII-case-insensitive substring test without allocating (`needle` is lowercase).
/// Candidates are found with a vectorised scan for the needle's first byte in either case.
pub(crate) fn contains_ci(hay: &str, needle: &str) -> bool {
    let n = needle.as_bytes();
    let Some((&first, rest)) = n.split_first() else {
        return true;
    };
    if !needle.is_ascii() {
        return hay.to_lowercase().contains(needle);
    }
    let h = hay.as_bytes();
    if h.len() < n.len() {
        return false;
    }
    let last_start = h.len() - n.len();
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), &h[..=last_start]).any(|i| {
        h[i + 1..i + n.len()]
            .iter()
            .zip(rest)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_order() {
        let long = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36";
        for (a, b, want) in [
            ("alice", "Alice", Ordering::Equal),
            ("alice", "bob", Ordering::Less),
            ("Bob", "alice", Ordering::Greater),
            ("abc", "abcd", Ordering::Less),
            (long, long, Ordering::Equal),
            (long, &long.to_uppercase(), Ordering::Equal),
            (
                "Mozilla/5.0 (Windows NT 10.0; A",
                "Mozilla/5.0 (Windows NT 10.0; b",
                Ordering::Less,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; b",
                "MOZILLA/5.0 (Windows NT 10.0; A",
                Ordering::Greater,
            ),
        ] {
            assert_eq!(cmp_ci(a, b), want, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn case_insensitive_substrings() {
        for (hay, needle, want) in [
            ("Anna Example", "anna", true),
            ("xxANNa", "anna", true),
            ("ann", "anna", false),
            ("", "a", false),
            ("abc", "", true),
            ("Firefox/133.0", "fox/1", true),
            ("10.0.0.1", "0.0.1", true),
            ("Chloé", "chloé", true),
            ("aaab", "aab", true),
        ] {
            assert_eq!(contains_ci(hay, needle), want, "{hay:?} ∋ {needle:?}");
        }
    }
}
