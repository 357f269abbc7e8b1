//! The session store: the live set of sessions of every tenant, versioned, with the query
//! the UI and the CLI use (filter + sort + window) and the diff each poll produces.
//!
//! Rows stay here; callers receive the window they display.
//!
//! One file for now, over 1,000 lines, because its parts share the private fields of
//! `Inner` and `TenantData`: the UI types (`SessionPage`, `TenantHealth`, `Summary`), the
//! tenant registry, applying polls (`apply_full`, `apply_delta`, `TenantData`), row
//! derivation and sort keys, queries and windowing, and the per-user view. Those are the
//! seams it is to be split along (`store/{types,row,apply,sort,users}.rs` beside
//! `store/dict.rs`), each with the tests of what it holds.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::connector::PollUpdate;
use crate::error::{Error, ErrorPayload, Result};
use crate::model::{ConnectorKind, Session, SessionRef, User};
use crate::query::opt as compare_opt;
pub use crate::query::{
    FacetValue, Facets, MAX_WINDOW, SessionFilter, SessionQuery, SessionRefs, SortColumn, UserPage,
    UserQuery, UserRow, UserSortColumn,
};
use std::net::IpAddr;

use crate::query::{Filter, compare};

mod dict;
use dict::{Dicts, Hasher, TextIds};

/// Maps keyed by tenant-supplied strings.
type Map<K, V> = HashMap<K, V, Hasher>;

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
    /// What the tenant's connector can do (none until a connector is attached); e.g.
    /// `sign_in_log`: its sessions are derived from a sign-in log, not a live list.
    #[serde(default)]
    pub capabilities: Option<crate::model::Capabilities>,
    /// The last poll succeeded but is known to be incomplete (a vendor's cap, a skipped
    /// part): what it did not see was kept, not ended. Says what was missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub warning: Option<String>,
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
    /// Shared with the store's rows: a diff of 100,000 sessions copies no session.
    pub started: Vec<Arc<Session>>,
    pub ended: Vec<Arc<Session>>,
    /// Sessions that still exist but whose fields changed.
    pub updated: usize,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.started.is_empty() && self.ended.is_empty() && self.updated == 0
    }
}

struct TenantData {
    sessions: Map<String, Row>,
    /// User id → ids of that user's sessions: per-user questions without a scan.
    by_user: Map<String, HashSet<String, Hasher>>,
    health: TenantHealth,
}

impl TenantData {
    /// Applies changes (a change feed's, or an incomplete listing's) and keeps the
    /// per-user index in step.
    fn apply_changes(
        &mut self,
        upserted: Vec<Session>,
        ended: Vec<String>,
        users: &[User],
        dicts: &mut Dicts,
    ) -> Diff {
        let (diff, moved) = apply_delta(&mut self.sessions, upserted, ended, users, dicts);
        for s in &diff.ended {
            self.unindex(&s.user_id, &s.id);
        }
        for (old_user, id) in &moved {
            self.unindex(old_user, id);
        }
        for s in &diff.started {
            if self.sessions.contains_key(&s.id) {
                self.index(&s.user_id, &s.id);
            }
        }
        for (_, id) in &moved {
            if let Some(user) = self.sessions.get(id).map(|r| r.session.user_id.clone()) {
                self.index(&user, id);
            }
        }
        diff
    }

    fn index(&mut self, user_id: &str, session_id: &str) {
        self.by_user
            .entry(user_id.to_owned())
            .or_default()
            .insert(session_id.to_owned());
    }

    fn unindex(&mut self, user_id: &str, session_id: &str) {
        if let Some(ids) = self.by_user.get_mut(user_id) {
            ids.remove(session_id);
            if ids.is_empty() {
                self.by_user.remove(user_id);
            }
        }
    }

    fn rebuild_index(&mut self) {
        let mut by_user: Map<String, HashSet<String, Hasher>> = Map::default();
        for r in self.sessions.values() {
            by_user
                .entry(r.session.user_id.clone())
                .or_default()
                .insert(r.session.id.clone());
        }
        self.by_user = by_user;
    }

    /// The current sessions of a user.
    fn of_user<'a>(&'a self, user_id: &str) -> impl Iterator<Item = &'a Session> + 'a {
        self.by_user
            .get(user_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.sessions.get(id))
            .map(|r| &*r.session)
    }
}

#[derive(Default)]
struct Inner {
    tenants: BTreeMap<Arc<str>, TenantData>,
    /// Ids of every row's text values, for sorting.
    dicts: Dicts,
    version: u64,
}

impl Inner {
    /// Rebuilds the dictionaries when they mostly hold values no row has any more.
    fn compact(&mut self) {
        if self.dicts.wasteful() {
            let rows = self
                .tenants
                .values_mut()
                .flat_map(|t| t.sessions.values_mut())
                .map(|r| (&*r.session, &mut r.text));
            self.dicts.rebuild(rows);
        }
    }
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
                sessions: Map::default(),
                by_user: Map::default(),
                health: TenantHealth {
                    tenant: tenant.to_string(),
                    kind,
                    last_poll_at: None,
                    latency_ms: None,
                    error: None,
                    stale: true,
                    capabilities: None,
                    warning: None,
                },
            });
    }

    /// Records what a tenant's connector can do, for the window to show.
    pub fn set_capabilities(&self, tenant: &str, caps: crate::model::Capabilities) {
        let mut inner = self.write();
        if let Some(t) = inner.tenants.get_mut(tenant) {
            t.health.capabilities = Some(caps);
        }
    }

    pub fn remove_tenant(&self, tenant: &str) {
        let version = {
            let mut inner = self.write();
            if let Some(t) = inner.tenants.remove(tenant) {
                for r in t.sessions.values() {
                    inner.dicts.release(&r.text);
                }
                inner.compact();
            }
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
            let Inner { tenants, dicts, .. } = &mut *inner;
            let data = tenants
                .get_mut(tenant)
                .ok_or_else(|| Error::internal(format!("tenant {tenant:?} is not registered")))?;
            let (diff, warning) = match update {
                PollUpdate::Full(sessions) => {
                    let diff = apply_full(&mut data.sessions, sessions, dicts);
                    data.rebuild_index();
                    (diff, None)
                }
                PollUpdate::Delta {
                    upserted,
                    ended,
                    users,
                } => (data.apply_changes(upserted, ended, &users, dicts), None),
                // An incomplete listing ends nothing: its sessions are taken in like a
                // change feed's, and the tenant carries the warning until a complete poll.
                PollUpdate::Partial {
                    sessions,
                    incomplete,
                } => (
                    data.apply_changes(sessions, Vec::new(), &[], dicts),
                    Some(incomplete),
                ),
            };
            data.health.last_poll_at = Some(Utc::now());
            data.health.latency_ms = Some(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX));
            data.health.error = None;
            data.health.stale = false;
            data.health.warning = warning;
            inner.compact();
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
            .map(|r| Session::clone(&r.session))
    }

    /// What the alert rules need after a poll, without copying the whole tenant: every
    /// session of `users` (the users who just signed in) and every session created before
    /// `created_before` (the long-session rule).
    pub fn rule_sessions(
        &self,
        tenant: &str,
        users: &HashSet<&str>,
        created_before: Option<DateTime<Utc>>,
    ) -> Vec<Session> {
        let inner = self.read();
        let Some(t) = inner.tenants.get(tenant) else {
            return Vec::new();
        };
        let mut out: Vec<Session> = users.iter().flat_map(|u| t.of_user(u)).cloned().collect();
        if let Some(before) = created_before {
            out.extend(
                t.sessions
                    .values()
                    .map(|r| &*r.session)
                    .filter(|s| s.created_at.is_some_and(|c| c < before))
                    .filter(|s| !users.contains(s.user_id.as_str()))
                    .cloned(),
            );
        }
        out
    }

    /// Calls `f` with every session of every tenant, under the read lock (keep `f` short:
    /// polls wait for it).
    pub fn for_each_session(&self, mut f: impl FnMut(&Session)) {
        let inner = self.read();
        for t in inner.tenants.values() {
            for r in t.sessions.values() {
                f(&r.session);
            }
        }
    }

    /// A user of a tenant as seen on any of their sessions.
    pub fn user_of(&self, tenant: &str, user_id: &str) -> Option<User> {
        let inner = self.read();
        let s = inner.tenants.get(tenant)?.of_user(user_id).next()?;
        Some(User::of_session(s))
    }

    /// Whether `user_id` is the account Vigil itself signs in with on the tenant (one of
    /// its sessions is Vigil's own).
    pub fn is_own_user(&self, tenant: &str, user_id: &str) -> bool {
        self.read()
            .tenants
            .get(tenant)
            .is_some_and(|t| t.of_user(user_id).any(|s| s.current))
    }

    /// How many sessions a tenant has.
    pub fn tenant_session_count(&self, tenant: &str) -> usize {
        self.read()
            .tenants
            .get(tenant)
            .map_or(0, |t| t.sessions.len())
    }

    /// How many sessions a user has in a tenant.
    pub fn session_count_of(&self, tenant: &str, user_id: &str) -> usize {
        self.read()
            .tenants
            .get(tenant)
            .map_or(0, |t| t.by_user.get(user_id).map_or(0, HashSet::len))
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
        let filter = Filter::new(&q.filter)?;
        let inner = self.read();
        let rows: Vec<&Row> = matching_rows(&inner, &filter).collect();
        let total = rows.len();
        // Sort on keys extracted in one pass (integers, contiguous) rather than comparing
        // sessions through pointers: a total order of (column, sequence number).
        let mut keyed = sort_keys(rows, q.sort, &inner);
        let desc = q.descending;
        // Ids are unique and keyed by their first 16 bytes: equal keys compare in full.
        let by_id = q.sort == SortColumn::Id;
        let cmp = |a: &Keyed<'_>, b: &Keyed<'_>| {
            let mut ord = (a.0, a.1).cmp(&(b.0, b.1));
            if by_id && ord == std::cmp::Ordering::Equal {
                ord = a.3.session.id.cmp(&b.3.session.id);
            }
            let ord = if desc { ord.reverse() } else { ord };
            ord.then_with(|| a.2.cmp(&b.2))
        };
        let window = window(&mut keyed, q.offset, q.limit.min(cap), cmp);
        Ok(SessionPage {
            total,
            offset: q.offset,
            rows: window
                .iter()
                .map(|k| Session::clone(&k.3.session))
                .collect(),
            version: inner.version,
        })
    }

    /// The sessions matching `filter` as action targets, at most `cap` of them, and how
    /// many matched in all.
    pub fn refs(&self, filter: &SessionFilter, cap: usize) -> Result<SessionRefs> {
        let filter = Filter::new(filter)?;
        let inner = self.read();
        let mut total = 0;
        let mut refs = Vec::new();
        for s in matching(&inner, &filter) {
            total += 1;
            if refs.len() < cap {
                refs.push(SessionRef {
                    tenant: s.tenant.to_string(),
                    session_id: s.id.clone(),
                });
            }
        }
        Ok(SessionRefs { refs, total })
    }

    /// The per-user view: matching sessions grouped by tenant and user, sorted, windowed.
    /// Groups hold references; only the window becomes rows.
    pub fn query_users(&self, q: &UserQuery) -> Result<UserPage> {
        let filter = Filter::new(&q.filter)?;
        let inner = self.read();
        // Users are grouped on (tenant's position, user-id dictionary id): integers.
        let tenants: Vec<&TenantData> = matching_tenants(&inner, &filter).collect();
        let users: usize = tenants.iter().map(|t| t.by_user.len()).sum();
        let mut index: HashMap<u64, usize, rustc_hash::FxBuildHasher> =
            HashMap::with_capacity_and_hasher(users, rustc_hash::FxBuildHasher);
        let mut groups: Vec<UserGroup<'_>> = Vec::with_capacity(users);
        let mut sessions = 0;
        for (position, t) in tenants.iter().enumerate() {
            for r in matching_rows_of(t, &filter) {
                sessions += 1;
                let key = ((position as u64) << 32) | u64::from(r.text[dict::USER_ID]);
                let slot = *index.entry(key).or_insert_with(|| {
                    groups.push(UserGroup::new(&r.session, position));
                    groups.len() - 1
                });
                if let Some(g) = groups.get_mut(slot) {
                    g.add(&r.session);
                }
            }
        }
        let total = groups.len();
        let cmp = |a: &UserGroup<'_>, b: &UserGroup<'_>| {
            let ord = a.compare(b, q.sort);
            let ord = if q.descending { ord.reverse() } else { ord };
            ord.then_with(|| a.tenant.cmp(&b.tenant))
                .then_with(|| a.newest.user_id.cmp(&b.newest.user_id))
        };
        let rows = window(&mut groups, q.offset, q.limit.min(MAX_WINDOW), cmp)
            .iter()
            .map(UserGroup::row)
            .collect();
        Ok(UserPage {
            total,
            sessions,
            offset: q.offset,
            rows,
            version: inner.version,
        })
    }

    /// The values of the enumerated columns, most frequent first.
    pub fn facets(&self) -> Facets {
        let inner = self.read();
        let mut types: HashMap<&str, usize> = HashMap::new();
        let mut logins: HashMap<&str, usize> = HashMap::new();
        let mut tenants = Vec::with_capacity(inner.tenants.len());
        for (name, data) in &inner.tenants {
            tenants.push(FacetValue {
                value: name.to_string(),
                count: data.sessions.len(),
            });
            for s in data.sessions.values() {
                if let Some(t) = s.session_type.as_deref() {
                    *types.entry(t).or_default() += 1;
                }
                if let Some(t) = s.login_type.as_deref() {
                    *logins.entry(t).or_default() += 1;
                }
            }
        }
        let ranked = |m: HashMap<&str, usize>| {
            let mut v: Vec<FacetValue> = m
                .into_iter()
                .map(|(value, count)| FacetValue {
                    value: value.to_owned(),
                    count,
                })
                .collect();
            v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            v
        };
        Facets {
            tenants,
            session_types: ranked(types),
            login_types: ranked(logins),
        }
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

/// One user's matching sessions, by reference.
struct UserGroup<'a> {
    /// The newest session (by creation; the first seen when none has a time).
    newest: &'a Session,
    /// The tenant's position in the store's (name) order.
    tenant: usize,
    sessions: usize,
    /// Distinct addresses: the first inline, the others (few per user: a vector beats a
    /// set) only when a user has more than one.
    first_ip: Option<&'a str>,
    more_ips: Vec<&'a str>,
    last_activity_at: Option<DateTime<Utc>>,
    current: bool,
}

impl<'a> UserGroup<'a> {
    fn new(s: &'a Session, tenant: usize) -> Self {
        Self {
            newest: s,
            tenant,
            sessions: 0,
            first_ip: None,
            more_ips: Vec::new(),
            last_activity_at: None,
            current: false,
        }
    }

    fn add(&mut self, s: &'a Session) {
        self.sessions += 1;
        self.current |= s.current;
        if let Some(ip) = s.ip.as_deref() {
            match self.first_ip {
                None => self.first_ip = Some(ip),
                Some(first) if first != ip && !self.more_ips.contains(&ip) => {
                    self.more_ips.push(ip);
                }
                Some(_) => {}
            }
        }
        if s.created_at > self.newest.created_at {
            self.newest = s;
        }
        if s.last_activity_at > self.last_activity_at {
            self.last_activity_at = s.last_activity_at;
        }
    }

    fn ips(&self) -> usize {
        usize::from(self.first_ip.is_some()) + self.more_ips.len()
    }

    fn row(&self) -> UserRow {
        let s = self.newest;
        UserRow {
            tenant: s.tenant.to_string(),
            user_id: s.user_id.clone(),
            username: s.username.clone(),
            email: s.email.clone(),
            display_name: s.display_name.clone(),
            department: s.department.clone(),
            organisation: s.organisation.clone(),
            superuser: s.superuser,
            protected: s.protected,
            disabled: s.disabled,
            current: self.current,
            sessions: self.sessions,
            ips: self.ips(),
            last_login: s.created_at,
            last_ip: s.ip.clone(),
            last_activity_at: self.last_activity_at,
        }
    }

    fn compare(&self, other: &Self, col: UserSortColumn) -> std::cmp::Ordering {
        let (a, b) = (self.newest, other.newest);
        match col {
            UserSortColumn::Sessions => self.sessions.cmp(&other.sessions),
            UserSortColumn::Ips => self.ips().cmp(&other.ips()),
            UserSortColumn::LastActivity => compare_opt(
                self.last_activity_at.as_ref(),
                other.last_activity_at.as_ref(),
            ),
            UserSortColumn::Tenant => compare(a, b, SortColumn::Tenant),
            UserSortColumn::Username => compare(a, b, SortColumn::Username),
            UserSortColumn::DisplayName => compare(a, b, SortColumn::DisplayName),
            UserSortColumn::Department => compare(a, b, SortColumn::Department),
            UserSortColumn::Organisation => compare(a, b, SortColumn::Organisation),
            UserSortColumn::LastLogin => compare(a, b, SortColumn::CreatedAt),
            UserSortColumn::LastIp => compare(a, b, SortColumn::Ip),
            UserSortColumn::Superuser => compare(a, b, SortColumn::Superuser),
        }
    }
}

/// Every session of the store that `filter` matches, tenant by tenant.
fn matching<'a>(inner: &'a Inner, filter: &'a Filter<'_>) -> impl Iterator<Item = &'a Session> {
    matching_rows(inner, filter).map(|r| &*r.session)
}

fn matching_rows<'a>(inner: &'a Inner, filter: &'a Filter<'_>) -> impl Iterator<Item = &'a Row> {
    matching_tenants(inner, filter).flat_map(move |t| matching_rows_of(t, filter))
}

/// The tenants `filter` keeps, in the store's (name) order.
fn matching_tenants<'a>(
    inner: &'a Inner,
    filter: &'a Filter<'_>,
) -> impl Iterator<Item = &'a TenantData> {
    inner
        .tenants
        .iter()
        .filter(|(name, _)| filter.tenant_matches(name))
        .map(|(_, t)| t)
}

/// The rows of one tenant that `filter` matches.
fn matching_rows_of<'a>(
    t: &'a TenantData,
    filter: &'a Filter<'_>,
) -> impl Iterator<Item = &'a Row> {
    t.sessions
        .values()
        .filter(|r| filter.matches(&r.session, &r.search, r.ip))
}

/// A row with its sort key: (kind of value, value, sequence number, row). Kinds order
/// known values before unknown ones in ascending order.
type Keyed<'a> = (u8, u128, u64, &'a Row);

/// How a row's sort key is computed.
type KeyFn<'a> = Box<dyn Fn(&Row) -> (u8, u128) + 'a>;

/// Unknown values: after every known one in ascending order.
const UNKNOWN: u8 = 9;

fn sort_keys<'a>(rows: Vec<&'a Row>, col: SortColumn, inner: &Inner) -> Vec<Keyed<'a>> {
    let time = |t: Option<DateTime<Utc>>| match t {
        // Order-preserving map of a signed timestamp onto an unsigned key.
        Some(t) => (
            0,
            (i128::from(t.timestamp_micros()) - i128::from(i64::MIN)) as u128,
        ),
        None => (UNKNOWN, 0),
    };
    let key: KeyFn<'_> = match col {
        SortColumn::CreatedAt => Box::new(move |r| time(r.session.created_at)),
        SortColumn::LastActivityAt => Box::new(move |r| time(r.session.last_activity_at)),
        SortColumn::ExpiresAt => Box::new(move |r| time(r.session.expires_at)),
        SortColumn::IdleTimeout => Box::new(|r| match r.session.idle_timeout_seconds {
            Some(v) => (0, u128::from(v)),
            None => (UNKNOWN, 0),
        }),
        SortColumn::Superuser => Box::new(|r| (0, u128::from(r.session.superuser))),
        // The store keeps tenants in name order: their position is their rank.
        SortColumn::Tenant => {
            let ranks: rustc_hash::FxHashMap<&str, u32> = inner
                .tenants
                .keys()
                .zip(0..)
                .map(|(name, rank)| (name.as_ref(), rank))
                .collect();
            Box::new(move |r| match ranks.get(r.session.tenant.as_ref()) {
                Some(rank) => (0, u128::from(*rank)),
                None => (UNKNOWN, 0),
            })
        }
        // The first 16 bytes, big-endian: byte order; the comparison settles equal keys.
        SortColumn::Id => Box::new(|r| {
            let mut prefix = [0u8; 16];
            let n = r.session.id.len().min(16);
            prefix[..n].copy_from_slice(&r.session.id.as_bytes()[..n]);
            (0, u128::from_be_bytes(prefix))
        }),
        // Parsed once per row; text that is no address after every address.
        SortColumn::Ip => Box::new(|r| match (r.ip, r.session.ip.is_some()) {
            (Some(IpAddr::V4(a)), _) => (0, u128::from(u32::from(a))),
            (Some(IpAddr::V6(a)), _) => (1, u128::from(a)),
            (None, true) => (2, 0),
            (None, false) => (UNKNOWN, 0),
        }),
        // Text columns: ranks of their dictionary ids. Each has a dictionary; were one
        // missing, the sort-every-column test would see the user-id order instead.
        SortColumn::Username
        | SortColumn::DisplayName
        | SortColumn::Department
        | SortColumn::Organisation
        | SortColumn::UserAgent
        | SortColumn::SessionType
        | SortColumn::LoginType
        | SortColumn::ServerName => {
            let column = dict::column_of(col).unwrap_or(dict::USER_ID);
            let ranks = inner.dicts.ranks(column);
            Box::new(move |r| match ranks.get(r.text[column] as usize) {
                Some(rank) => (0, u128::from(*rank)),
                None => (UNKNOWN, 0),
            })
        }
    };
    rows.into_iter()
        .map(|r| {
            let (kind, value) = key(r);
            (kind, value, r.seq, r)
        })
        .collect()
}

/// Sorts `rows` enough to cut `[offset, offset + limit)` and returns that window.
fn window<T, F>(rows: &mut [T], offset: usize, limit: usize, cmp: F) -> &[T]
where
    F: Fn(&T, &T) -> std::cmp::Ordering,
{
    let total = rows.len();
    let end = offset.saturating_add(limit).min(total);
    if offset >= total {
        return &[];
    }
    let rows = if end < total / 2 {
        // Only the front is needed: partial selection, then sort it.
        rows.select_nth_unstable_by(end, &cmp);
        &mut rows[..end]
    } else {
        rows
    };
    rows.sort_unstable_by(&cmp);
    &rows[offset..end]
}

/// A stored session with its global-search text: the searched fields, lowercased, joined
/// by a separator no needle contains. Built once per change, scanned on every keystroke.
struct Row {
    session: Arc<Session>,
    search: Box<str>,
    /// When the row entered the store: the last key of every sort, so that rows equal in
    /// the sorted column keep one order and adjacent windows never overlap.
    seq: u64,
    /// The address, parsed once (CIDR filters and the IP sort).
    ip: Option<IpAddr>,
    /// Dictionary ids of the text columns (sorting).
    text: TextIds,
}

static NEXT_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Row {
    fn new(session: Arc<Session>, dicts: &mut Dicts) -> Self {
        let seq = NEXT_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self::with_seq(session, seq, dicts)
    }

    fn with_seq(session: Arc<Session>, seq: u64, dicts: &mut Dicts) -> Self {
        let derived = Derived::of(&session);
        Self::from_parts(session, seq, derived, dicts)
    }

    fn from_parts(session: Arc<Session>, seq: u64, derived: Derived, dicts: &mut Dicts) -> Self {
        Self {
            search: derived.search,
            ip: derived.ip,
            text: dicts.intern(&session),
            session,
            seq,
        }
    }

    /// The session changed in place (a user's details): derived fields follow.
    fn refresh(&mut self, dicts: &mut Dicts) {
        dicts.release(&self.text);
        self.text = dicts.intern(&self.session);
        self.search = search_text(&self.session);
    }
}

impl std::ops::Deref for Row {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

/// What a row derives from its session alone: built on every core for a large listing.
struct Derived {
    search: Box<str>,
    ip: Option<IpAddr>,
}

impl Derived {
    fn of(s: &Session) -> Self {
        Self {
            search: search_text(s),
            ip: s.ip.as_deref().and_then(|i| i.parse().ok()),
        }
    }
}

/// The derived parts of every session of a listing that is new or changed (none for an
/// unchanged one). When the store applies a listing the server has finished sending, so
/// every core is free for a large one.
fn derive_changed(sessions: &[Session], current: &Map<String, Row>) -> Vec<Option<Derived>> {
    crate::par::map_ref(sessions, |s| {
        let changed = current.get(&s.id).is_none_or(|old| *old.session != *s);
        changed.then(|| Derived::of(s))
    })
}

fn search_text(s: &Session) -> Box<str> {
    let fields = [
        Some(s.id.as_str()),
        Some(s.username.as_str()),
        s.email.as_deref(),
        s.display_name.as_deref(),
        s.first_name.as_deref(),
        s.last_name.as_deref(),
        s.ip.as_deref(),
        s.location.as_deref(),
        s.department.as_deref(),
        s.organisation.as_deref(),
        s.user_agent.as_deref(),
        s.server_name.as_deref(),
        Some(s.tenant.as_ref()),
    ];
    let mut text = String::with_capacity(fields.iter().flatten().map(|f| f.len() + 1).sum());
    for f in fields.into_iter().flatten() {
        if f.is_ascii() {
            let start = text.len();
            text.push_str(f);
            text[start..].make_ascii_lowercase();
        } else {
            text.push_str(&f.to_lowercase());
        }
        text.push(crate::query::SEARCH_SEPARATOR);
    }
    text.into_boxed_str()
}

fn apply_full(current: &mut Map<String, Row>, sessions: Vec<Session>, dicts: &mut Dicts) -> Diff {
    let mut diff = Diff::default();
    let mut next: Map<String, Row> =
        Map::with_capacity_and_hasher(sessions.len(), Hasher::default());
    let mut repeated = false;
    let derived = derive_changed(&sessions, current);
    for (s, d) in sessions.into_iter().zip(derived) {
        let row = match current.remove(&s.id) {
            None => {
                let d = d.unwrap_or_else(|| Derived::of(&s));
                let s = Arc::new(s);
                diff.started.push(Arc::clone(&s));
                let seq = NEXT_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Row::from_parts(s, seq, d, dicts)
            }
            Some(old) if *old.session != s => {
                diff.updated += 1;
                dicts.release(&old.text);
                let d = d.unwrap_or_else(|| Derived::of(&s));
                Row::from_parts(Arc::new(s), old.seq, d, dicts)
            }
            Some(old) => old,
        };
        if let Some(dup) = next.insert(row.session.id.clone(), row) {
            // The listing repeated a session: the last copy wins.
            dicts.release(&dup.text);
            repeated = true;
        }
    }
    if repeated {
        // Started once each, as the row the store kept.
        let mut seen = HashSet::new();
        diff.started.retain(|s| seen.insert(s.id.clone()));
        for s in &mut diff.started {
            if let Some(r) = next.get(&s.id) {
                *s = Arc::clone(&r.session);
            }
        }
    }
    diff.ended = current
        .drain()
        .map(|(_, r)| {
            dicts.release(&r.text);
            r.session
        })
        .collect();
    *current = next;
    diff
}

/// Applies a delta; also returns the sessions that changed user: (previous user, id).
fn apply_delta(
    current: &mut Map<String, Row>,
    upserted: Vec<Session>,
    ended: Vec<String>,
    users: &[User],
    dicts: &mut Dicts,
) -> (Diff, Vec<(String, String)>) {
    let mut diff = Diff::default();
    let mut moved = Vec::new();
    if !users.is_empty() {
        let by_id: HashMap<&str, &User> = users.iter().map(|u| (u.id.as_str(), u)).collect();
        for row in current.values_mut() {
            if let Some(u) = by_id.get(row.session.user_id.as_str()) {
                Arc::make_mut(&mut row.session).annotate(u);
                row.refresh(dicts);
                diff.updated += 1;
            }
        }
    }
    for s in upserted {
        match current.get_mut(&s.id) {
            // Unchanged: the row stays as it is.
            Some(old) if *old.session == s => {}
            // Changed: a new row in the old one's place in every order.
            Some(old) => {
                if old.session.user_id != s.user_id {
                    moved.push((old.session.user_id.clone(), s.id.clone()));
                }
                dicts.release(&old.text);
                *old = Row::with_seq(Arc::new(s), old.seq, dicts);
                diff.updated += 1;
            }
            None => {
                let s = Arc::new(s);
                current.insert(s.id.clone(), Row::new(Arc::clone(&s), dicts));
                diff.started.push(s);
            }
        }
    }
    for id in ended {
        if let Some(r) = current.remove(&id) {
            dicts.release(&r.text);
            diff.ended.push(r.session);
        }
    }
    (diff, moved)
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
            email: None,
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
            filter: SessionFilter {
                search: Some("ALI".into()),
                ..Default::default()
            },
            sort: SortColumn::Tenant,
            descending: false,
            ..Default::default()
        };
        assert_eq!(ids(&store.query(&q)?), ["1", "4"]);
        let q = SessionQuery::of(SessionFilter {
            ip: Some("10.0.0.0/8".into()),
            ..Default::default()
        });
        assert_eq!(ids(&store.query(&q)?), ["1", "2"]);
        let q = SessionQuery::of(SessionFilter {
            ip: Some("2001:db8::/32".into()),
            ..Default::default()
        });
        assert_eq!(ids(&store.query(&q)?), ["3"]);
        let q = SessionQuery::of(SessionFilter {
            superuser_only: true,
            ..Default::default()
        });
        assert_eq!(ids(&store.query(&q)?), ["2"]);
        let q = SessionQuery::of(SessionFilter {
            tenants: vec!["b".into()],
            user: Some("alice".into()),
            ..Default::default()
        });
        assert_eq!(ids(&store.query(&q)?), ["4"]);
        let q = SessionQuery::of(SessionFilter {
            ip: Some("10.0.0.0/99".into()),
            ..Default::default()
        });
        assert!(store.query(&q).is_err());
        Ok(())
    }

    #[test]
    fn every_column_filters() -> Result<()> {
        let mut a = session("a", "1", "alice", "10.0.0.1", false, 3);
        a.session_type = Some("api".into());
        a.protected = true;
        a.expires_at = DateTime::from_timestamp(1_800_000_000, 0);
        let mut b = session("a", "2", "bob", "10.1.0.1", true, 1);
        b.department = Some("Sales".into());
        b.login_type = Some("sso".into());
        b.current = true;
        b.user_agent = Some("curl/8.5".into());
        let mut c = session("b", "3", "carol", "2001:db8::1", false, 2);
        c.first_name = Some("Caroline".into());
        c.server_name = Some("node-7".into());
        c.disabled = true;
        let store = store_with(vec![
            a,
            b,
            c,
            session("b", "4", "alice", "192.168.1.1", false, 4),
        ]);
        let run = |f: SessionFilter| -> Result<Vec<String>> {
            let page = store.query(&SessionQuery {
                descending: false,
                ..SessionQuery::of(f)
            })?;
            Ok(page.rows.into_iter().map(|s| s.id).collect())
        };
        let f = SessionFilter::default;
        assert_eq!(
            run(SessionFilter {
                username: Some("LIC".into()),
                ..f()
            })?,
            ["1", "4"]
        );
        assert_eq!(
            run(SessionFilter {
                name: Some("carol".into()),
                ..f()
            })?,
            ["3"]
        );
        assert_eq!(
            run(SessionFilter {
                department: Some("sal".into()),
                ..f()
            })?,
            ["2"]
        );
        assert_eq!(
            run(SessionFilter {
                user_agent: Some("CURL".into()),
                ..f()
            })?,
            ["2"]
        );
        assert_eq!(
            run(SessionFilter {
                server_name: Some("node".into()),
                ..f()
            })?,
            ["3"]
        );
        assert_eq!(
            run(SessionFilter {
                session_id: Some("4".into()),
                ..f()
            })?,
            ["4"]
        );
        assert_eq!(
            run(SessionFilter {
                ip: Some("192.168.".into()),
                ..f()
            })?,
            ["4"]
        );
        assert_eq!(
            run(SessionFilter {
                ip: Some("10.1.0.1".into()),
                ..f()
            })?,
            ["2"]
        );
        assert_eq!(
            run(SessionFilter {
                session_types: vec!["api".into()],
                ..f()
            })?,
            ["1"]
        );
        assert_eq!(
            run(SessionFilter {
                session_types: vec!["api".into(), "ui".into()],
                ..f()
            })?
            .len(),
            4
        );
        assert_eq!(
            run(SessionFilter {
                login_types: vec!["sso".into()],
                ..f()
            })?,
            ["2"]
        );
        assert_eq!(
            run(SessionFilter {
                protected: Some(true),
                ..f()
            })?,
            ["1"]
        );
        assert_eq!(
            run(SessionFilter {
                disabled: Some(true),
                ..f()
            })?,
            ["3"]
        );
        assert_eq!(
            run(SessionFilter {
                current: Some(false),
                ..f()
            })?,
            ["3", "1", "4"]
        );
        assert_eq!(
            run(SessionFilter {
                tenants: vec!["a".into(), "b".into()],
                ..f()
            })?
            .len(),
            4
        );
        assert_eq!(
            run(SessionFilter {
                user_id: Some("u-alice".into()),
                tenants: vec!["b".into()],
                ..f()
            })?,
            ["4"]
        );
        // Created in [minute 2, minute 4): sessions 3 (minute 2) and 1 (minute 3).
        let at = |m: i64| DateTime::from_timestamp(1_700_000_000 + m * 60, 0);
        assert_eq!(
            run(SessionFilter {
                created_from: at(2),
                created_to: at(4),
                ..f()
            })?,
            ["3", "1"]
        );
        // A session with no expiry never matches an expiry range.
        assert_eq!(
            run(SessionFilter {
                expires_from: at(0),
                ..f()
            })?,
            ["1"]
        );
        // Bad input is refused with a reason, not treated as "no match".
        for bad in [
            SessionFilter {
                ip: Some("10.0.0.0/99".into()),
                ..f()
            },
            SessionFilter {
                ip: Some("not an ip".into()),
                ..f()
            },
            SessionFilter {
                search: Some("x".repeat(300)),
                ..f()
            },
            SessionFilter {
                created_from: at(5),
                created_to: at(1),
                ..f()
            },
        ] {
            let e = store.query(&SessionQuery::of(bad));
            assert!(
                e.as_ref()
                    .is_err_and(|e| e.code == crate::ErrorCode::InvalidInput),
                "{e:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn the_user_view_groups_matching_sessions() -> Result<()> {
        let mut newest = session("t", "2", "alice", "10.0.0.2", false, 9);
        newest.last_activity_at = DateTime::from_timestamp(1_700_100_000, 0);
        let store = store_with(vec![
            session("t", "1", "alice", "10.0.0.1", false, 1),
            newest,
            session("t", "3", "alice", "10.0.0.1", false, 5),
            session("t", "4", "bob", "10.0.0.9", true, 7),
            session("u", "5", "alice", "10.0.0.7", false, 2),
        ]);
        let page = store.query_users(&UserQuery {
            sort: UserSortColumn::Sessions,
            ..UserQuery::default()
        })?;
        assert_eq!((page.total, page.sessions), (3, 5));
        let top = &page.rows[0];
        assert_eq!((top.tenant.as_str(), top.username.as_str()), ("t", "alice"));
        assert_eq!((top.sessions, top.ips), (3, 2));
        assert_eq!(top.last_ip.as_deref(), Some("10.0.0.2"));
        assert_eq!(
            top.last_login,
            DateTime::from_timestamp(1_700_000_000 + 9 * 60, 0)
        );
        assert_eq!(
            top.last_activity_at,
            DateTime::from_timestamp(1_700_100_000, 0)
        );
        // The filter applies to sessions before grouping; windows cut the sorted users.
        let page = store.query_users(&UserQuery {
            filter: SessionFilter {
                ip: Some("10.0.0.1".into()),
                ..Default::default()
            },
            ..UserQuery::default()
        })?;
        assert_eq!((page.total, page.rows[0].sessions), (1, 2));
        let page = store.query_users(&UserQuery {
            sort: UserSortColumn::Username,
            descending: false,
            offset: 1,
            limit: 1,
            ..UserQuery::default()
        })?;
        assert_eq!((page.total, page.rows.len()), (3, 1));
        assert_eq!(page.rows[0].username, "alice");
        Ok(())
    }

    #[test]
    fn facets_and_refs_cover_the_filtered_set() -> Result<()> {
        let mut api = session("a", "1", "alice", "10.0.0.1", false, 3);
        api.session_type = Some("api".into());
        let store = store_with(vec![
            api,
            session("a", "2", "bob", "10.1.0.1", true, 1),
            session("b", "3", "carol", "10.2.0.1", false, 2),
        ]);
        let f = store.facets();
        let pairs = |v: &[FacetValue]| -> Vec<(String, usize)> {
            v.iter().map(|x| (x.value.clone(), x.count)).collect()
        };
        assert_eq!(pairs(&f.tenants), [("a".into(), 2), ("b".into(), 1)]);
        assert_eq!(
            pairs(&f.session_types),
            [("ui".into(), 2), ("api".into(), 1)]
        );
        let all = store.refs(&SessionFilter::default(), 2)?;
        assert_eq!((all.total, all.refs.len()), (3, 2));
        let some = store.refs(
            &SessionFilter {
                ip: Some("10.1.0.0/16".into()),
                ..Default::default()
            },
            10,
        )?;
        assert_eq!(some.total, 1);
        assert_eq!(
            some.refs,
            [SessionRef {
                tenant: "a".into(),
                session_id: "2".into()
            }]
        );
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

    /// Sorting goes through dictionaries (text), parsed addresses and id prefixes: after
    /// churn that brings new values, user changes, and a dictionary rebuild, every column
    /// still sorts as the plain comparison says.
    #[test]
    fn every_column_sorts_as_compared_through_churn_and_compaction() -> Result<()> {
        const COLUMNS: [SortColumn; 16] = [
            SortColumn::Tenant,
            SortColumn::Username,
            SortColumn::DisplayName,
            SortColumn::Department,
            SortColumn::Organisation,
            SortColumn::Ip,
            SortColumn::UserAgent,
            SortColumn::SessionType,
            SortColumn::LoginType,
            SortColumn::ServerName,
            SortColumn::CreatedAt,
            SortColumn::LastActivityAt,
            SortColumn::ExpiresAt,
            SortColumn::IdleTimeout,
            SortColumn::Superuser,
            SortColumn::Id,
        ];
        let varied = |i: u32, round: u32| {
            let mut s = session(
                if i.is_multiple_of(3) { "b" } else { "a" },
                &format!("{:020}-{i}", i % 7),
                &format!(
                    "{}user{}",
                    if i.is_multiple_of(2) { "U" } else { "u" },
                    i % 41
                ),
                &if i.is_multiple_of(5) {
                    format!("2001:db8::{i:x}")
                } else {
                    format!("10.{}.{}.{}", i % 3, i % 11, i % 250)
                },
                i.is_multiple_of(13),
                i % 90,
            );
            // Many distinct user agents, so that ending most of them rebuilds the dictionary.
            s.user_agent = (!i.is_multiple_of(17)).then(|| format!("Agent/{round}.{i}"));
            s.department = (!i.is_multiple_of(4))
                .then(|| ["Finance", "finance", "Ops", "HR"][(i % 4) as usize].into());
            s.server_name = (i.is_multiple_of(6)).then(|| format!("srv{}", i % 3));
            s
        };
        let store = SessionStore::new();
        for t in ["a", "b"] {
            store.register_tenant(&Arc::from(t), ConnectorKind::Vigil);
        }
        let split = |sessions: Vec<Session>| -> (Vec<Session>, Vec<Session>) {
            sessions.into_iter().partition(|s| s.tenant.as_ref() == "a")
        };
        let (a, b) = split((0..9000).map(|i| varied(i, 0)).collect());
        store.apply("a", PollUpdate::Full(a), Duration::ZERO)?;
        store.apply("b", PollUpdate::Full(b), Duration::ZERO)?;
        // Round 1: most sessions end, new ones arrive with new values, a user is renamed.
        let (a, b) = split((0..2000).map(|i| varied(i * 5, 1)).collect());
        store.apply("a", PollUpdate::Full(a), Duration::ZERO)?;
        store.apply("b", PollUpdate::Full(b), Duration::ZERO)?;
        let mut renamed = User::new("u-Uuser2".into(), "Aaron".into());
        renamed.department = Some("Zebra".into());
        store.apply(
            "a",
            PollUpdate::Delta {
                upserted: vec![varied(9001, 2)],
                ended: vec![format!("{:020}-{}", 5, 5)],
                users: vec![renamed],
            },
            Duration::ZERO,
        )?;
        {
            let inner = store.read();
            let rows: usize = inner.tenants.values().map(|t| t.sessions.len()).sum();
            assert!(
                inner.dicts.kept(4) <= rows,
                "the user-agent dictionary was rebuilt"
            );
        }
        for col in COLUMNS {
            for descending in [false, true] {
                let page = store.query_all(&SessionQuery {
                    sort: col,
                    descending,
                    ..Default::default()
                })?;
                assert_eq!(page.rows.len(), page.total);
                for pair in page.rows.windows(2) {
                    let ord = compare(&pair[0], &pair[1], col);
                    let ord = if descending { ord.reverse() } else { ord };
                    assert_ne!(
                        ord,
                        std::cmp::Ordering::Greater,
                        "{col:?} (descending: {descending}): {:?} before {:?}",
                        pair[0],
                        pair[1]
                    );
                }
            }
        }
        Ok(())
    }

    #[test]
    fn a_large_listing_derives_new_and_changed_rows_in_order_on_several_threads() {
        let n = crate::par::PARALLEL_FROM + 5_001;
        let listing: Vec<Session> = (0..n)
            .map(|i| {
                session(
                    "t",
                    &format!("s{i}"),
                    &format!("User{i}"),
                    &format!("10.0.{}.{}", i / 250 % 250, i % 250),
                    false,
                    1,
                )
            })
            .collect();
        // The store already holds the first 1,000 (500 of them since changed).
        let mut dicts = Dicts::default();
        let mut current: Map<String, Row> = Map::default();
        for (i, s) in listing.iter().take(1_000).enumerate() {
            let mut held = s.clone();
            if i % 2 == 0 {
                held.username = "someone else".into();
            }
            current.insert(held.id.clone(), Row::new(Arc::new(held), &mut dicts));
        }
        let derived = derive_changed(&listing, &current);
        assert_eq!(derived.len(), n);
        for (i, (s, d)) in listing.iter().zip(&derived).enumerate() {
            match d {
                None => assert!(i < 1_000 && i % 2 == 1, "row {i} was not derived"),
                Some(d) => {
                    assert!(i >= 1_000 || i % 2 == 0, "unchanged row {i} was derived");
                    assert_eq!(d.search, search_text(s), "row {i}");
                    assert_eq!(d.ip, s.ip.as_deref().and_then(|a| a.parse().ok()));
                }
            }
        }
    }

    /// Rows equal in the sorted column keep their order through changes, so a window the
    /// user is looking at does not reshuffle when a session's address changes.
    #[test]
    fn a_changed_session_keeps_its_place_among_equals() -> Result<()> {
        let store = store_with(
            (0..5)
                .map(|i| session("t", &format!("s{i}"), "same", "10.0.0.1", false, 1))
                .collect(),
        );
        let by_tenant = || -> Result<Vec<String>> {
            let page = store.query_all(&SessionQuery {
                sort: SortColumn::Tenant,
                ..Default::default()
            })?;
            Ok(page.rows.into_iter().map(|s| s.id).collect())
        };
        let before = by_tenant()?;
        let mut changed = session("t", &before[2], "same", "10.0.0.9", false, 1);
        changed.user_agent = Some("Other/1.0".into());
        let diff = store.apply(
            "t",
            PollUpdate::Delta {
                upserted: vec![
                    changed,
                    session("t", &before[0], "same", "10.0.0.1", false, 1),
                ],
                ended: Vec::new(),
                users: Vec::new(),
            },
            Duration::ZERO,
        )?;
        assert_eq!(
            (diff.started.len(), diff.updated),
            (0, 1),
            "one changed, one the same"
        );
        assert_eq!(by_tenant()?, before);
        assert_eq!(
            store.get("t", &before[2]).and_then(|s| s.ip),
            Some("10.0.0.9".into())
        );
        Ok(())
    }

    #[test]
    fn a_session_listed_twice_is_one_row_started_once_as_its_last_copy() -> Result<()> {
        let store = SessionStore::new();
        store.register_tenant(&Arc::from("t"), ConnectorKind::Vigil);
        let first = session("t", "1", "alice", "10.0.0.1", false, 1);
        let last = session("t", "1", "alice", "10.0.0.2", false, 1);
        let other = session("t", "2", "bob", "10.0.0.3", false, 2);
        let diff = store.apply(
            "t",
            PollUpdate::Full(vec![first, other, last]),
            Duration::ZERO,
        )?;
        let started: Vec<(&str, Option<&str>)> = diff
            .started
            .iter()
            .map(|s| (s.id.as_str(), s.ip.as_deref()))
            .collect();
        assert_eq!(started, [("1", Some("10.0.0.2")), ("2", Some("10.0.0.3"))]);
        let page = store.query_all(&SessionQuery::default())?;
        assert_eq!(page.total, 2);
        assert_eq!(
            store.get("t", "1").and_then(|s| s.ip),
            Some("10.0.0.2".into())
        );
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
            email: None,
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
    fn the_per_user_index_follows_every_change() -> Result<()> {
        let store = store_with(vec![
            session("t", "1", "alice", "10.0.0.1", false, 1),
            session("t", "2", "alice", "10.0.0.2", false, 2),
            session("t", "3", "bob", "10.0.0.3", false, 3),
        ]);
        assert_eq!(store.session_count_of("t", "u-alice"), 2);
        let mut moved = session("t", "3", "carol", "10.0.0.3", false, 3);
        moved.user_id = "u-alice".into();
        store.apply(
            "t",
            PollUpdate::Delta {
                upserted: vec![moved, session("t", "4", "bob", "10.0.0.4", false, 4)],
                ended: vec!["1".into()],
                users: vec![],
            },
            Duration::ZERO,
        )?;
        assert_eq!(store.session_count_of("t", "u-alice"), 2);
        assert_eq!(store.session_count_of("t", "u-bob"), 1);
        let users = HashSet::from(["u-alice"]);
        let mut ids: Vec<String> = store
            .rule_sessions("t", &users, None)
            .into_iter()
            .map(|s| s.id)
            .collect();
        ids.sort();
        assert_eq!(ids, ["2", "3"]);
        // Sessions past the age limit come too, once each.
        let old = DateTime::from_timestamp(1_700_000_000 + 10 * 60, 0);
        assert_eq!(store.rule_sessions("t", &users, old).len(), 3);
        assert_eq!(
            store.user_of("t", "u-bob").map(|u| u.username).as_deref(),
            Some("bob")
        );
        store.apply(
            "t",
            PollUpdate::Full(vec![session("t", "9", "dave", "10.0.0.9", false, 9)]),
            Duration::ZERO,
        )?;
        assert_eq!(store.session_count_of("t", "u-alice"), 0);
        assert_eq!(store.session_count_of("t", "u-dave"), 1);
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

    /// A listing known to be incomplete ends nothing: the sessions it did not see stay,
    /// no "ended" goes to history, and the tenant shows why until a complete poll.
    #[test]
    fn an_incomplete_listing_ends_nothing_and_says_so() -> Result<()> {
        let store = store_with(vec![
            session("t", "1", "alice", "10.0.0.1", false, 1),
            session("t", "2", "bob", "10.0.0.2", false, 2),
        ]);
        let diff = store.apply(
            "t",
            PollUpdate::Partial {
                sessions: vec![session("t", "3", "carol", "10.0.0.3", false, 3)],
                incomplete: "1,500 users were not read".into(),
            },
            Duration::ZERO,
        )?;
        assert!(diff.ended.is_empty(), "{diff:?}");
        assert_eq!(diff.started.len(), 1);
        assert_eq!(store.tenant_session_count("t"), 3);
        let h = store
            .health("t")
            .ok_or_else(|| Error::internal("no health"))?;
        assert_eq!(h.warning.as_deref(), Some("1,500 users were not read"));
        assert!(h.error.is_none() && !h.stale);
        // A complete listing ends what it does not show, and clears the warning.
        let diff = store.apply(
            "t",
            PollUpdate::Full(vec![session("t", "3", "carol", "10.0.0.3", false, 3)]),
            Duration::ZERO,
        )?;
        assert_eq!(diff.ended.len(), 2);
        assert!(store.health("t").is_some_and(|h| h.warning.is_none()));
        Ok(())
    }
}
