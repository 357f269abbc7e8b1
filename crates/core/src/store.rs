//! The session store: the live set of sessions of every tenant, versioned, with the query
//! the UI and the CLI use (filter + sort + window) and the diff each poll produces.
//!
//! Rows stay here; callers receive the window they display.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::connector::PollUpdate;
use crate::error::{Error, ErrorPayload, Result};
use crate::model::{ConnectorKind, Session, User};

/// Largest window one query returns.
pub const MAX_WINDOW: usize = 10_000;

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
    SessionType,
    LoginType,
    #[default]
    CreatedAt,
    LastActivityAt,
    ExpiresAt,
}

/// Filter + sort + window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SessionQuery {
    /// Case-insensitive substring over id, user, names, IP, department, organisation,
    /// user agent and tenant.
    pub search: Option<String>,
    pub tenant: Option<String>,
    pub superuser_only: bool,
    /// Exact user name.
    #[serde(default)]
    #[ts(optional)]
    pub user: Option<String>,
    /// An IP address or a CIDR network (`10.0.0.0/8`, `2001:db8::/32`).
    #[serde(default)]
    #[ts(optional)]
    pub ip: Option<String>,
    pub sort: SortColumn,
    pub descending: bool,
    pub offset: usize,
    pub limit: usize,
}

impl Default for SessionQuery {
    fn default() -> Self {
        Self {
            search: None,
            tenant: None,
            superuser_only: false,
            user: None,
            ip: None,
            sort: SortColumn::CreatedAt,
            descending: true,
            offset: 0,
            limit: MAX_WINDOW,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SessionPage {
    /// Rows matching the filter (not just this window).
    pub total: usize,
    pub offset: usize,
    pub rows: Vec<Session>,
    /// Store version the page was cut from.
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Counts {
    pub active_users: usize,
    pub active_sessions: usize,
    pub superusers_online: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TenantHealth {
    pub tenant: String,
    pub kind: ConnectorKind,
    pub last_poll_at: Option<DateTime<Utc>>,
    pub latency_ms: Option<u64>,
    pub error: Option<ErrorPayload>,
    /// The sessions shown are not from the latest poll attempt (it failed, or none succeeded yet).
    pub stale: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TenantSummary {
    pub health: TenantHealth,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Summary {
    pub total: Counts,
    pub tenants: Vec<TenantSummary>,
}

/// Emitted after a tenant's sessions or health changed. Carries no rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SessionsChanged {
    pub tenant: String,
    pub version: u64,
}

/// What one poll changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    pub started: Vec<Session>,
    pub ended: Vec<Session>,
    /// Sessions that still exist but whose fields changed.
    pub updated: usize,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.started.is_empty() && self.ended.is_empty() && self.updated == 0
    }
}

struct TenantData {
    sessions: HashMap<String, Session>,
    health: TenantHealth,
}

#[derive(Default)]
struct Inner {
    tenants: BTreeMap<Arc<str>, TenantData>,
    version: u64,
}

/// Shared, thread-safe store. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct SessionStore {
    inner: Arc<RwLock<Inner>>,
    events: broadcast::Sender<SessionsChanged>,
}

impl Default for SessionStore {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionStore {
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(256);
        Self {
            inner: Arc::new(RwLock::new(Inner::default())),
            events,
        }
    }

    /// Change notifications (lagging receivers just miss intermediate versions).
    pub fn subscribe(&self) -> broadcast::Receiver<SessionsChanged> {
        self.events.subscribe()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than losing the whole view, so recover the guard.
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn register_tenant(&self, tenant: &Arc<str>, kind: ConnectorKind) {
        let mut inner = self.write();
        inner
            .tenants
            .entry(Arc::clone(tenant))
            .or_insert_with(|| TenantData {
                sessions: HashMap::new(),
                health: TenantHealth {
                    tenant: tenant.to_string(),
                    kind,
                    last_poll_at: None,
                    latency_ms: None,
                    error: None,
                    stale: true,
                },
            });
    }

    pub fn remove_tenant(&self, tenant: &str) {
        let version = {
            let mut inner = self.write();
            inner.tenants.remove(tenant);
            inner.version += 1;
            inner.version
        };
        self.notify(tenant, version);
    }

    fn notify(&self, tenant: &str, version: u64) {
        // No receiver is fine (the CLI has none).
        let _ = self.events.send(SessionsChanged {
            tenant: tenant.to_owned(),
            version,
        });
    }

    /// Applies a successful poll and returns what changed.
    pub fn apply(&self, tenant: &str, update: PollUpdate, latency: Duration) -> Result<Diff> {
        let (diff, version) = {
            let mut inner = self.write();
            let data = inner
                .tenants
                .get_mut(tenant)
                .ok_or_else(|| Error::internal(format!("tenant {tenant:?} is not registered")))?;
            let diff = match update {
                PollUpdate::Full(sessions) => apply_full(&mut data.sessions, sessions),
                PollUpdate::Delta {
                    upserted,
                    ended,
                    users,
                } => apply_delta(&mut data.sessions, upserted, ended, &users),
            };
            data.health.last_poll_at = Some(Utc::now());
            data.health.latency_ms = Some(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX));
            data.health.error = None;
            data.health.stale = false;
            inner.version += 1;
            (diff, inner.version)
        };
        self.notify(tenant, version);
        Ok(diff)
    }

    /// Records a failed poll: the tenant's rows are kept but marked stale.
    pub fn record_error(&self, tenant: &str, error: &Error, latency: Duration) {
        let version = {
            let mut inner = self.write();
            let Some(data) = inner.tenants.get_mut(tenant) else {
                return;
            };
            data.health.last_poll_at = Some(Utc::now());
            data.health.latency_ms = Some(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX));
            data.health.error = Some(error.payload());
            data.health.stale = true;
            inner.version += 1;
            inner.version
        };
        self.notify(tenant, version);
    }

    pub fn version(&self) -> u64 {
        self.read().version
    }

    pub fn get(&self, tenant: &str, session_id: &str) -> Option<Session> {
        self.read()
            .tenants
            .get(tenant)
            .and_then(|t| t.sessions.get(session_id))
            .cloned()
    }

    /// Every current session of a tenant (for alert rules).
    pub fn tenant_sessions(&self, tenant: &str) -> Vec<Session> {
        self.read()
            .tenants
            .get(tenant)
            .map(|t| t.sessions.values().cloned().collect())
            .unwrap_or_default()
    }

    /// A user of a tenant as seen on any of their sessions.
    pub fn user_of(&self, tenant: &str, user_id: &str) -> Option<User> {
        let inner = self.read();
        let s = inner
            .tenants
            .get(tenant)?
            .sessions
            .values()
            .find(|s| s.user_id == user_id)?;
        Some(User {
            id: s.user_id.clone(),
            username: s.username.clone(),
            display_name: s.display_name.clone(),
            first_name: s.first_name.clone(),
            last_name: s.last_name.clone(),
            department: s.department.clone(),
            organisation: s.organisation.clone(),
            superuser: s.superuser,
            protected: s.protected,
            disabled: s.disabled,
        })
    }

    /// How many sessions a user has in a tenant.
    pub fn session_count_of(&self, tenant: &str, user_id: &str) -> usize {
        self.read().tenants.get(tenant).map_or(0, |t| {
            t.sessions.values().filter(|s| s.user_id == user_id).count()
        })
    }

    pub fn health(&self, tenant: &str) -> Option<TenantHealth> {
        self.read().tenants.get(tenant).map(|t| t.health.clone())
    }

    /// Filter + sort + window (at most [`MAX_WINDOW`] rows).
    pub fn query(&self, q: &SessionQuery) -> Result<SessionPage> {
        self.query_capped(q, MAX_WINDOW)
    }

    /// Filter + sort with no cap on the window (exports, the CLI).
    pub fn query_all(&self, q: &SessionQuery) -> Result<SessionPage> {
        self.query_capped(q, usize::MAX)
    }

    fn query_capped(&self, q: &SessionQuery, cap: usize) -> Result<SessionPage> {
        let filter = Filter::new(q)?;
        let inner = self.read();
        let mut rows: Vec<&Session> = inner
            .tenants
            .iter()
            .filter(|(name, _)| q.tenant.as_deref().is_none_or(|t| t == name.as_ref()))
            .flat_map(|(_, t)| t.sessions.values())
            .filter(|s| filter.matches(s))
            .collect();
        let total = rows.len();
        let cmp = |a: &&Session, b: &&Session| {
            let ord = compare(a, b, q.sort);
            let ord = if q.descending { ord.reverse() } else { ord };
            // A stable total order so windows never overlap or skip between queries.
            ord.then_with(|| a.tenant.cmp(&b.tenant))
                .then_with(|| a.id.cmp(&b.id))
        };
        let limit = q.limit.min(cap);
        let end = q.offset.saturating_add(limit).min(total);
        if q.offset < total && end < total / 2 {
            // Only the window is needed: partial selection, then sort the front.
            rows.select_nth_unstable_by(end, cmp);
            rows.truncate(end);
        }
        rows.sort_unstable_by(cmp);
        let rows = rows
            .get(q.offset.min(rows.len())..end.min(rows.len()))
            .unwrap_or_default()
            .iter()
            .map(|s| (*s).clone())
            .collect();
        Ok(SessionPage {
            total,
            offset: q.offset,
            rows,
            version: inner.version,
        })
    }

    /// Cards: per tenant and in total.
    pub fn summary(&self) -> Summary {
        let inner = self.read();
        let mut all_users: HashSet<(&str, &str)> = HashSet::new();
        let mut all_supers: HashSet<(&str, &str)> = HashSet::new();
        let mut total_sessions = 0;
        let mut tenants = Vec::with_capacity(inner.tenants.len());
        for (name, data) in &inner.tenants {
            let mut users = HashSet::new();
            let mut supers = HashSet::new();
            for s in data.sessions.values() {
                users.insert(s.user_id.as_str());
                if s.superuser {
                    supers.insert(s.user_id.as_str());
                }
            }
            total_sessions += data.sessions.len();
            all_users.extend(users.iter().map(|u| (name.as_ref(), *u)));
            all_supers.extend(supers.iter().map(|u| (name.as_ref(), *u)));
            tenants.push(TenantSummary {
                health: data.health.clone(),
                counts: Counts {
                    active_users: users.len(),
                    active_sessions: data.sessions.len(),
                    superusers_online: supers.len(),
                },
            });
        }
        Summary {
            total: Counts {
                active_users: all_users.len(),
                active_sessions: total_sessions,
                superusers_online: all_supers.len(),
            },
            tenants,
        }
    }
}

fn apply_full(current: &mut HashMap<String, Session>, sessions: Vec<Session>) -> Diff {
    let mut diff = Diff::default();
    let mut next: HashMap<String, Session> = HashMap::with_capacity(sessions.len());
    for s in sessions {
        match current.remove(&s.id) {
            None => diff.started.push(s.clone()),
            Some(old) if old != s => diff.updated += 1,
            Some(_) => {}
        }
        next.insert(s.id.clone(), s);
    }
    diff.ended = current.drain().map(|(_, s)| s).collect();
    *current = next;
    diff
}

fn apply_delta(
    current: &mut HashMap<String, Session>,
    upserted: Vec<Session>,
    ended: Vec<String>,
    users: &[User],
) -> Diff {
    let mut diff = Diff::default();
    if !users.is_empty() {
        let by_id: HashMap<&str, &User> = users.iter().map(|u| (u.id.as_str(), u)).collect();
        for s in current.values_mut() {
            if let Some(u) = by_id.get(s.user_id.as_str()) {
                s.annotate(u);
                diff.updated += 1;
            }
        }
    }
    for s in upserted {
        match current.insert(s.id.clone(), s.clone()) {
            None => diff.started.push(s),
            Some(old) if old != s => diff.updated += 1,
            Some(_) => {}
        }
    }
    for id in ended {
        if let Some(s) = current.remove(&id) {
            diff.ended.push(s);
        }
    }
    diff
}

fn compare(a: &Session, b: &Session, col: SortColumn) -> Ordering {
    fn opt<T: Ord>(a: Option<&T>, b: Option<&T>) -> Ordering {
        // Unknown values sort last in ascending order.
        match (a, b) {
            (Some(a), Some(b)) => a.cmp(b),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    fn text(a: Option<&String>, b: Option<&String>) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) => cmp_ci(a, b),
            _ => opt(a, b),
        }
    }
    match col {
        SortColumn::Tenant => a.tenant.cmp(&b.tenant),
        SortColumn::Username => cmp_ci(&a.username, &b.username),
        SortColumn::DisplayName => text(a.display_name.as_ref(), b.display_name.as_ref()),
        SortColumn::Department => text(a.department.as_ref(), b.department.as_ref()),
        SortColumn::Organisation => text(a.organisation.as_ref(), b.organisation.as_ref()),
        SortColumn::Ip => opt(
            a.ip.as_deref()
                .and_then(|i| i.parse::<std::net::IpAddr>().ok())
                .as_ref(),
            b.ip.as_deref()
                .and_then(|i| i.parse::<std::net::IpAddr>().ok())
                .as_ref(),
        ),
        SortColumn::SessionType => text(a.session_type.as_ref(), b.session_type.as_ref()),
        SortColumn::LoginType => text(a.login_type.as_ref(), b.login_type.as_ref()),
        SortColumn::CreatedAt => opt(a.created_at.as_ref(), b.created_at.as_ref()),
        SortColumn::LastActivityAt => opt(a.last_activity_at.as_ref(), b.last_activity_at.as_ref()),
        SortColumn::ExpiresAt => opt(a.expires_at.as_ref(), b.expires_at.as_ref()),
    }
}

fn cmp_ci(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

enum IpFilter {
    Net(ipnet::IpNet),
    Addr(std::net::IpAddr),
}

struct Filter {
    needle: Option<String>,
    user: Option<String>,
    superuser_only: bool,
    ip: Option<IpFilter>,
}

impl Filter {
    fn new(q: &SessionQuery) -> Result<Self> {
        let ip = match q.ip.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => Some(if raw.contains('/') {
                IpFilter::Net(
                    raw.parse().map_err(|_| {
                        Error::invalid_input(format!("invalid CIDR network {raw:?}"))
                    })?,
                )
            } else {
                IpFilter::Addr(
                    raw.parse()
                        .map_err(|_| Error::invalid_input(format!("invalid IP address {raw:?}")))?,
                )
            }),
        };
        Ok(Self {
            needle: q
                .search
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_lowercase),
            user: q.user.clone().filter(|u| !u.is_empty()),
            superuser_only: q.superuser_only,
            ip,
        })
    }

    fn matches(&self, s: &Session) -> bool {
        if self.superuser_only && !s.superuser {
            return false;
        }
        if let Some(user) = &self.user {
            if &s.username != user {
                return false;
            }
        }
        if let Some(ip) = &self.ip {
            let Some(addr) =
                s.ip.as_deref()
                    .and_then(|i| i.parse::<std::net::IpAddr>().ok())
            else {
                return false;
            };
            let ok = match ip {
                IpFilter::Net(net) => net.contains(&addr),
                IpFilter::Addr(a) => *a == addr,
            };
            if !ok {
                return false;
            }
        }
        if let Some(needle) = &self.needle {
            let hay = [
                Some(s.id.as_str()),
                Some(s.username.as_str()),
                s.display_name.as_deref(),
                s.first_name.as_deref(),
                s.last_name.as_deref(),
                s.ip.as_deref(),
                s.department.as_deref(),
                s.organisation.as_deref(),
                s.user_agent.as_deref(),
                Some(s.tenant.as_ref()),
            ];
            return hay.into_iter().flatten().any(|h| contains_ci(h, needle));
        }
        true
    }
}

/// ASCII-case-insensitive substring test without allocating (`needle` is lowercase).
fn contains_ci(hay: &str, needle: &str) -> bool {
    if needle.is_ascii() {
        let n = needle.as_bytes();
        hay.as_bytes()
            .windows(n.len())
            .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
    } else {
        hay.to_lowercase().contains(needle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(
        tenant: &str,
        id: &str,
        user: &str,
        ip: &str,
        superuser: bool,
        minute: u32,
    ) -> Session {
        Session {
            tenant: Arc::from(tenant),
            id: id.into(),
            user_id: format!("u-{user}"),
            username: user.into(),
            display_name: Some(format!("{user} Example")),
            first_name: None,
            last_name: None,
            department: Some("Finance".into()),
            organisation: None,
            superuser,
            protected: false,
            disabled: false,
            current: false,
            ip: Some(ip.into()),
            user_agent: Some("Mozilla/5.0 Firefox/130.0".into()),
            location: None,
            session_type: Some("ui".into()),
            login_type: Some("password".into()),
            server_name: None,
            created_at: DateTime::from_timestamp(1_700_000_000 + i64::from(minute) * 60, 0),
            last_activity_at: None,
            expires_at: None,
            idle_timeout_seconds: None,
        }
    }

    fn store_with(sessions: Vec<Session>) -> SessionStore {
        let store = SessionStore::new();
        let mut by_tenant: BTreeMap<String, Vec<Session>> = BTreeMap::new();
        for s in sessions {
            by_tenant.entry(s.tenant.to_string()).or_default().push(s);
        }
        for (t, ss) in by_tenant {
            let name: Arc<str> = Arc::from(t.as_str());
            store.register_tenant(&name, ConnectorKind::Vigil);
            assert!(
                store
                    .apply(&t, PollUpdate::Full(ss), Duration::from_millis(5))
                    .is_ok()
            );
        }
        store
    }

    fn ids(page: &SessionPage) -> Vec<&str> {
        page.rows.iter().map(|s| s.id.as_str()).collect()
    }

    #[test]
    fn query_filters_sorts_and_windows() -> Result<()> {
        let store = store_with(vec![
            session("a", "1", "alice", "10.0.0.1", false, 3),
            session("a", "2", "bob", "10.1.0.1", true, 1),
            session("b", "3", "carol", "2001:db8::1", false, 2),
            session("b", "4", "alice", "192.168.1.1", false, 4),
        ]);
        let q = SessionQuery::default();
        assert_eq!(ids(&store.query(&q)?), ["4", "1", "3", "2"]);
        let q = SessionQuery {
            descending: false,
            offset: 1,
            limit: 2,
            ..Default::default()
        };
        let page = store.query(&q)?;
        assert_eq!((page.total, ids(&page)), (4, vec!["3", "1"]));
        let q = SessionQuery {
            search: Some("ALI".into()),
            sort: SortColumn::Tenant,
            descending: false,
            ..Default::default()
        };
        assert_eq!(ids(&store.query(&q)?), ["1", "4"]);
        let q = SessionQuery {
            ip: Some("10.0.0.0/8".into()),
            ..Default::default()
        };
        assert_eq!(ids(&store.query(&q)?), ["1", "2"]);
        let q = SessionQuery {
            ip: Some("2001:db8::/32".into()),
            ..Default::default()
        };
        assert_eq!(ids(&store.query(&q)?), ["3"]);
        let q = SessionQuery {
            superuser_only: true,
            ..Default::default()
        };
        assert_eq!(ids(&store.query(&q)?), ["2"]);
        let q = SessionQuery {
            tenant: Some("b".into()),
            user: Some("alice".into()),
            ..Default::default()
        };
        assert_eq!(ids(&store.query(&q)?), ["4"]);
        let q = SessionQuery {
            ip: Some("10.0.0.0/99".into()),
            ..Default::default()
        };
        assert!(store.query(&q).is_err());
        Ok(())
    }

    #[test]
    fn windows_of_a_large_set_tile_the_full_sort() -> Result<()> {
        let sessions: Vec<Session> = (0..1000u32)
            .map(|i| {
                session(
                    "t",
                    &format!("{i:04}"),
                    &format!("user{}", i % 37),
                    "10.0.0.1",
                    false,
                    i % 50,
                )
            })
            .collect();
        let store = store_with(sessions);
        let all = store.query(&SessionQuery {
            sort: SortColumn::Username,
            ..Default::default()
        })?;
        let mut tiled = Vec::new();
        for offset in (0..1000).step_by(64) {
            let q = SessionQuery {
                sort: SortColumn::Username,
                offset,
                limit: 64,
                ..Default::default()
            };
            tiled.extend(store.query(&q)?.rows);
        }
        assert_eq!(tiled, all.rows);
        Ok(())
    }

    #[test]
    fn diffs_report_started_ended_and_updated() -> Result<()> {
        let store = store_with(vec![
            session("t", "1", "alice", "10.0.0.1", false, 1),
            session("t", "2", "bob", "10.0.0.2", false, 2),
        ]);
        let mut moved = session("t", "2", "bob", "10.9.9.9", false, 2);
        moved.last_activity_at = DateTime::from_timestamp(1_700_009_000, 0);
        let diff = store.apply(
            "t",
            PollUpdate::Full(vec![
                moved,
                session("t", "3", "carol", "10.0.0.3", false, 3),
            ]),
            Duration::ZERO,
        )?;
        assert_eq!(
            diff.started
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>(),
            ["3"]
        );
        assert_eq!(
            diff.ended.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            ["1"]
        );
        assert_eq!(diff.updated, 1);
        let diff = store.apply(
            "t",
            PollUpdate::Delta {
                upserted: vec![session("t", "4", "dave", "10.0.0.4", false, 4)],
                ended: vec!["2".into(), "nope".into()],
                users: vec![],
            },
            Duration::ZERO,
        )?;
        assert_eq!(diff.started.len(), 1);
        assert_eq!(diff.ended.len(), 1);
        assert_eq!(store.summary().total.active_sessions, 2);
        Ok(())
    }

    #[test]
    fn user_changes_reannotate_sessions_and_summary_counts_users() -> Result<()> {
        let store = store_with(vec![
            session("t", "1", "alice", "10.0.0.1", false, 1),
            session("t", "2", "alice", "10.0.0.2", false, 2),
            session("t", "3", "bob", "10.0.0.3", true, 3),
            session("u", "9", "bob", "10.0.0.3", true, 3),
        ]);
        let s = store.summary();
        assert_eq!(
            s.total,
            Counts {
                active_users: 3,
                active_sessions: 4,
                superusers_online: 2
            }
        );
        let promoted = User {
            id: "u-alice".into(),
            username: "alice".into(),
            display_name: Some("Alice A.".into()),
            first_name: None,
            last_name: None,
            department: None,
            organisation: None,
            superuser: true,
            protected: false,
            disabled: false,
        };
        store.apply(
            "t",
            PollUpdate::Delta {
                upserted: vec![],
                ended: vec![],
                users: vec![promoted],
            },
            Duration::ZERO,
        )?;
        assert_eq!(store.summary().tenants[0].counts.superusers_online, 2);
        assert_eq!(
            store.get("t", "1").and_then(|s| s.display_name).as_deref(),
            Some("Alice A.")
        );
        Ok(())
    }

    #[test]
    fn errors_mark_a_tenant_stale_and_keep_its_rows() -> Result<()> {
        let store = store_with(vec![session("t", "1", "alice", "10.0.0.1", false, 1)]);
        let mut events = store.subscribe();
        store.record_error(
            "t",
            &Error::from_status(401, None, None),
            Duration::from_millis(7),
        );
        let h = store
            .health("t")
            .ok_or_else(|| Error::internal("no health"))?;
        assert!(h.stale);
        assert_eq!(
            h.error.map(|e| e.message).as_deref(),
            Some("credential rejected (HTTP 401)")
        );
        assert_eq!(store.summary().total.active_sessions, 1);
        assert!(events.try_recv().is_ok_and(|e| e.tenant == "t"));
        Ok(())
    }
}
