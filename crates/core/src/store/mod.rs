//! The session store: the live set of sessions of every tenant, versioned, with the query
//! the UI and the CLI use (filter + sort + window) and the diff each poll produces.
//!
//! Rows stay here; callers receive the window they display. This file holds the tenant
//! registry and the queries; beside it: `types` (what the store hands out), `row` (a
//! stored session and its derived search text and keys), `apply` (a poll applied to a
//! tenant's rows), `sort` (sort keys and windowing), `users` (the per-user view) and
//! `dict` (text ids for sorting), each with the tests of what it holds.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use ts_rs::TS;

use crate::connector::PollUpdate;
use crate::error::{Error, ErrorPayload, Result};
use crate::model::{ConnectorKind, Session, SessionRef, Text, User};
use crate::query::opt as compare_opt;
pub use crate::query::{
    FacetValue, Facets, MAX_WINDOW, SessionFilter, SessionQuery, SessionRefs, SortColumn, UserPage,
    UserQuery, UserRow, UserSortColumn,
};
use std::net::IpAddr;

use crate::query::{Filter, compare};

mod apply;
mod dict;
mod row;
mod sort;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
mod types;
mod users;

use apply::*;
pub use dict::SearchText;
use dict::{Dicts, Hasher, TextIds};
use row::*;
use sort::*;
pub use types::*;
use users::*;

/// Maps keyed by tenant-supplied strings.
type Map<K, V> = HashMap<K, V, Hasher>;

struct TenantData {
    sessions: Map<Text, Row>,
    /// User id → ids of that user's sessions: per-user questions without a scan.
    by_user: Map<Text, HashSet<Text, Hasher>>,
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
            if let Some(user) = self
                .sessions
                .get(id)
                .map(|r| Text::clone(&r.session.user_id))
            {
                self.index(&user, id);
            }
        }
        diff
    }

    fn index(&mut self, user_id: &Text, session_id: &Text) {
        self.by_user
            .entry(Text::clone(user_id))
            .or_default()
            .insert(Text::clone(session_id));
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
        let mut by_user: Map<Text, HashSet<Text, Hasher>> = Map::default();
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
        Self::keeping(SearchText::Kept)
    }

    /// A store whose rows keep their search text, or make it only for a query that
    /// searches (a store that answers one query: the CLI's listing).
    pub fn keeping(search: SearchText) -> Self {
        let (events, _) = broadcast::channel(256);
        let mut inner = Inner::default();
        inner.dicts.search = search;
        Self {
            inner: Arc::new(RwLock::new(inner)),
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
                    .filter(|s| !users.contains(&*s.user_id))
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
        let (total, rows, version) = self.select(q, MAX_WINDOW, |s| Session::clone(s))?;
        Ok(SessionPage {
            total,
            offset: q.offset,
            rows,
            version,
        })
    }

    /// Filter + sort with no cap on the window (exports, the CLI), the sessions shared
    /// with the store rather than copied: a listing of 100,000 is not held twice.
    pub fn query_all(&self, q: &SessionQuery) -> Result<SessionList> {
        let (total, rows, version) = self.select(q, usize::MAX, Arc::clone)?;
        Ok(SessionList {
            total,
            rows,
            version,
        })
    }

    /// The window of `q` (at most `cap` rows), each row as `pick` makes it, with the
    /// number of matching rows and the store's version.
    fn select<T>(
        &self,
        q: &SessionQuery,
        cap: usize,
        pick: impl Fn(&Arc<Session>) -> T,
    ) -> Result<(usize, Vec<T>, u64)> {
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
        let rows = window.iter().map(|k| pick(&k.3.session)).collect();
        Ok((total, rows, inner.version))
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
                    session_id: s.id.to_string(),
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
                users.insert(&*s.user_id);
                if s.superuser {
                    supers.insert(&*s.user_id);
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
    t.sessions.values().filter(|r| match &r.search {
        Some(text) => filter.matches(&r.session, text, r.ip),
        None if filter.searches() => filter.matches(&r.session, &search_text(&r.session), r.ip),
        None => filter.matches(&r.session, "", r.ip),
    })
}
