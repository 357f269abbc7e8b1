//! People across tenants: which account of which tenant belongs to whom.
//!
//! An account belongs to a person by its e-mail address (case-insensitive), else by a
//! user name that is an address, else by its user name; links and unlinks made by hand
//! (`[[people.link]]`, `[[people.unlink]]` in the config file) come first. A person is
//! found from the store (accounts with sessions) and then, in each other tenant, from
//! the tenant's own directory, so that an account without a session is not missed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::connector::Connector;
use crate::error::ErrorPayload;
use crate::model::{Capabilities, ConnectorKind, Session, User};
use crate::store::SessionStore;

/// Tenants asked at once when looking a person up in the tenants' directories.
pub const LOOKUP_CONCURRENCY: usize = 8;
/// Names tried per tenant (addresses and user names the person is known by).
const NAMES_PER_TENANT: usize = 4;
/// Most candidates listed for an ambiguous query.
pub const MAX_CANDIDATES: usize = 50;

/// The `[people]` table: links made by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PeopleConfig {
    /// Accounts that belong to a person whatever their address says.
    #[serde(default)]
    pub link: Vec<Link>,
    /// Accounts that belong to no one else: their own person.
    #[serde(default)]
    pub unlink: Vec<AccountName>,
}

/// `[[people.link]]`: the account `user` (user name or id) of `tenant` is `person`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Link {
    /// The person's key: usually their e-mail address.
    pub person: String,
    pub tenant: String,
    pub user: String,
}

/// An account by tenant and user name (or id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AccountName {
    pub tenant: String,
    pub user: String,
}

/// Where a hand-made change puts an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "to", rename_all = "snake_case")]
#[ts(export)]
pub enum Assignment {
    /// To this person (their key, usually an address).
    Person { person: String },
    /// To no one else: the account is its own person.
    Own,
    /// Back to joining by address or name.
    Automatic,
}

/// Why an account belongs to its person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum LinkedBy {
    /// A `[[people.link]]`.
    Manual,
    /// The same e-mail address (or a user name that is one).
    Email,
    /// The same user name, for accounts without an address.
    Username,
    /// A `[[people.unlink]]`: the account is its own person.
    Unlinked,
}

/// Lower-cased and trimmed: how keys and names compare.
pub fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

fn looks_like_address(s: &str) -> bool {
    let s = s.trim();
    s.split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
}

fn names_account(name: &str, user_id: &str, username: &str) -> bool {
    name == user_id || fold(name) == fold(username)
}

impl PeopleConfig {
    /// The person an account belongs to, and why.
    pub fn person_of(
        &self,
        tenant: &str,
        user_id: &str,
        username: &str,
        email: Option<&str>,
    ) -> (String, LinkedBy) {
        if let Some(l) = self
            .link
            .iter()
            .find(|l| l.tenant == tenant && names_account(&l.user, user_id, username))
        {
            return (fold(&l.person), LinkedBy::Manual);
        }
        if self
            .unlink
            .iter()
            .any(|u| u.tenant == tenant && names_account(&u.user, user_id, username))
        {
            return (format!("{tenant}/{}", fold(username)), LinkedBy::Unlinked);
        }
        match email.filter(|e| looks_like_address(e)) {
            Some(e) => (fold(e), LinkedBy::Email),
            None if looks_like_address(username) => (fold(username), LinkedBy::Email),
            None => (fold(username), LinkedBy::Username),
        }
    }

    pub fn person_of_user(&self, tenant: &str, u: &User) -> (String, LinkedBy) {
        self.person_of(tenant, &u.id, &u.username, u.email.as_deref())
    }

    pub fn person_of_session(&self, s: &Session) -> (String, LinkedBy) {
        self.person_of(&s.tenant, &s.user_id, &s.username, s.email.as_deref())
    }

    /// Puts the account where `to` says; any earlier link or unlink of it goes.
    pub fn assign(mut self, account: AccountName, to: &Assignment) -> Self {
        self = self.automatic(&account);
        match to {
            Assignment::Person { person } => self.link.push(Link {
                person: fold(person),
                tenant: account.tenant,
                user: account.user,
            }),
            Assignment::Own => self.unlink.push(account),
            Assignment::Automatic => {}
        }
        self
    }

    /// Drops any link or unlink of `account`: it joins people by address or name again.
    pub fn automatic(mut self, account: &AccountName) -> Self {
        let same = |tenant: &str, user: &str| {
            tenant == account.tenant && fold(user) == fold(&account.user)
        };
        self.link.retain(|l| !same(&l.tenant, &l.user));
        self.unlink.retain(|u| !same(&u.tenant, &u.user));
        self
    }

    /// Checks the links: tenant and user named, person not empty.
    pub fn validate(&self) -> crate::error::Result<()> {
        for l in &self.link {
            if l.person.trim().is_empty() || l.tenant.is_empty() || l.user.trim().is_empty() {
                return Err(crate::error::Error::config(
                    "[[people.link]] needs person, tenant and user",
                ));
            }
        }
        if self
            .unlink
            .iter()
            .any(|u| u.tenant.is_empty() || u.user.trim().is_empty())
        {
            return Err(crate::error::Error::config(
                "[[people.unlink]] needs tenant and user",
            ));
        }
        Ok(())
    }
}

/// One account of a person in one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PersonAccount {
    pub tenant: String,
    pub kind: Option<ConnectorKind>,
    pub user: User,
    pub linked_by: LinkedBy,
    /// Its active sessions, newest first.
    pub sessions: Vec<Session>,
    /// What the tenant's connector can do (absent for a tenant that is not running).
    pub capabilities: Option<Capabilities>,
    /// Whether the account is the one Vigil signs in with on the tenant.
    pub own: bool,
}

/// A tenant where the person could not be looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TenantError {
    pub tenant: String,
    pub error: ErrorPayload,
}

/// A person and every account they have in the tenants Vigil watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Person {
    /// The person's key (an e-mail address, or a user name).
    pub key: String,
    pub display_name: Option<String>,
    pub emails: Vec<String>,
    pub accounts: Vec<PersonAccount>,
    /// Tenants whose directory could not be asked: the person may have an account there.
    pub lookup_errors: Vec<TenantError>,
    /// When the person was looked up.
    pub at: DateTime<Utc>,
    /// Their recent sessions as Vigil saw them (ended ones with how they ended), newest
    /// first, from every account; filled by [`with_records`].
    #[serde(default)]
    pub history: Vec<crate::audit::HistoryEntry>,
    /// Recent audited actions on their accounts, newest first; filled by [`with_records`].
    #[serde(default)]
    pub actions: Vec<crate::audit::AuditEntry>,
}

/// How many history entries and actions a person carries.
pub const RECENT: usize = 20;

/// Adds the person's recent session history and audited actions from the local
/// database (blocking: run it off the async workers).
pub fn with_records(mut p: Person, audit: &crate::audit::AuditLog) -> crate::error::Result<Person> {
    let mut history = Vec::new();
    let mut actions = Vec::new();
    for a in &p.accounts {
        history.extend(audit.history(Some(&a.tenant), Some(&a.user.username), RECENT as u32)?);
        let entries = audit.entries(&crate::audit::AuditFilter {
            tenant: Some(a.tenant.clone()),
            search: Some(a.user.username.to_string()),
            limit: Some(500),
            ..Default::default()
        })?;
        actions.extend(entries.into_iter().filter(|e| {
            *e.target == *a.user.id || e.target_user.as_deref() == Some(&*a.user.username)
        }));
    }
    history.sort_by_key(|h| std::cmp::Reverse(h.last_seen));
    history.truncate(RECENT);
    actions.sort_by(|x, y| y.requested_at.cmp(&x.requested_at).then(y.id.cmp(&x.id)));
    actions.dedup_by_key(|e| e.id);
    actions.truncate(RECENT);
    p.history = history;
    p.actions = actions;
    Ok(p)
}

impl Person {
    pub fn session_count(&self) -> usize {
        self.accounts.iter().map(|a| a.sessions.len()).sum()
    }

    /// Names to ask other tenants' directories by: addresses, user names, then the
    /// local parts of the addresses (many directories find users by name only; what is
    /// found counts only if it belongs to this person). Each once, a few at most.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let mut add = |n: &str| {
            if !n.is_empty() && !names.iter().any(|x| fold(x) == fold(n)) {
                names.push(n.to_owned());
            }
        };
        for e in &self.emails {
            add(e);
        }
        for a in &self.accounts {
            add(&a.user.username);
        }
        if !self.key.contains('/') {
            add(&self.key);
        }
        for e in &self.emails {
            if let Some((local, _)) = e.split_once('@') {
                add(local);
            }
        }
        names.truncate(NAMES_PER_TENANT);
        names
    }
}

/// A person a query may mean, for listing when it means more than one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Candidate {
    pub key: String,
    pub display_name: Option<String>,
    pub usernames: Vec<String>,
    pub tenants: Vec<String>,
}

/// What a query found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "result", rename_all = "snake_case")]
#[ts(export)]
pub enum PersonMatch {
    Found {
        person: Person,
    },
    /// Several people match: listed, not guessed.
    Ambiguous {
        candidates: Vec<Candidate>,
    },
    NotFound,
}

/// How well a session's account matches a query: exact key, address or user name beats
/// a display name; a display name beats nothing.
fn strength(q: &str, key: &str, s: &Session) -> u8 {
    if q == key
        || s.email.as_deref().is_some_and(|e| fold(e) == q)
        || fold(&s.username) == q
        || &*s.user_id == q
    {
        2
    } else if s.display_name.as_deref().is_some_and(|d| fold(d) == q) {
        1
    } else {
        0
    }
}

/// Finds the person `query` names (an e-mail address, user name, display name or person
/// key): from the store first, then in each tenant's directory where the store has no
/// account of theirs. `tenants` are the running connectors to ask.
pub async fn find(
    query: &str,
    people: &PeopleConfig,
    store: &SessionStore,
    tenants: &HashMap<String, Arc<dyn Connector>>,
) -> PersonMatch {
    let q = fold(query);
    if q.is_empty() {
        return PersonMatch::NotFound;
    }
    // Every person whose account matches, with the strongest match per person.
    let mut matched: BTreeMap<String, u8> = BTreeMap::new();
    store.for_each_session(|s| {
        let (key, _) = people.person_of_session(s);
        let m = strength(&q, &key, s);
        if m > 0 {
            let e = matched.entry(key).or_default();
            *e = (*e).max(m);
        }
    });
    let best = matched.values().copied().max().unwrap_or(0);
    let keys: Vec<String> = matched
        .into_iter()
        .filter(|(_, m)| *m == best)
        .map(|(k, _)| k)
        .collect();
    match keys.len() {
        0 => {}
        1 => {
            return PersonMatch::Found {
                person: person(&keys[0], people, store, tenants).await,
            };
        }
        _ => {
            return PersonMatch::Ambiguous {
                candidates: candidates(&keys, people, store),
            };
        }
    }
    // No session anywhere: ask the directories by the query itself, and for an address
    // by its local part too (many directories find users by name only); an account
    // found by the local part counts only if its own address is the query.
    let mut names = vec![query.trim().to_owned()];
    let key = looks_like_address(&q).then(|| q.clone());
    if let Some((local, _)) = q.split_once('@').filter(|_| key.is_some()) {
        names.push(local.to_owned());
    }
    let found = lookup(&names, key.as_deref(), people, tenants, &[]).await;
    let keys: BTreeSet<String> = found.0.iter().map(|(k, _)| k.clone()).collect();
    match keys.len() {
        0 => PersonMatch::NotFound,
        1 => {
            let key = keys.into_iter().next().unwrap_or_default();
            PersonMatch::Found {
                person: person(&key, people, store, tenants).await,
            }
        }
        _ => PersonMatch::Ambiguous {
            candidates: keys
                .into_iter()
                .map(|key| {
                    let accounts: Vec<&(String, PersonAccount)> =
                        found.0.iter().filter(|(k, _)| *k == key).collect();
                    Candidate {
                        display_name: accounts
                            .iter()
                            .find_map(|(_, a)| a.user.display_name.as_deref().map(str::to_owned)),
                        usernames: accounts
                            .iter()
                            .map(|(_, a)| a.user.username.to_string())
                            .collect(),
                        tenants: accounts.iter().map(|(_, a)| a.tenant.clone()).collect(),
                        key,
                    }
                })
                .take(MAX_CANDIDATES)
                .collect(),
        },
    }
}

fn candidates(keys: &[String], people: &PeopleConfig, store: &SessionStore) -> Vec<Candidate> {
    let wanted: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
    let mut by_key: BTreeMap<String, Candidate> = BTreeMap::new();
    store.for_each_session(|s| {
        let (key, _) = people.person_of_session(s);
        if !wanted.contains(key.as_str()) {
            return;
        }
        let c = by_key.entry(key.clone()).or_insert_with(|| Candidate {
            key,
            display_name: None,
            usernames: Vec::new(),
            tenants: Vec::new(),
        });
        if c.display_name.is_none() {
            c.display_name = s.display_name.as_deref().map(str::to_owned);
        }
        if !c.usernames.iter().any(|u| **u == *s.username) {
            c.usernames.push(s.username.to_string());
        }
        if !c.tenants.iter().any(|t| **t == *s.tenant) {
            c.tenants.push(s.tenant.to_string());
        }
    });
    by_key.into_values().take(MAX_CANDIDATES).collect()
}

/// The person with key `key`: their accounts with sessions from the store, then the
/// other tenants' directories asked by the names the person is known by.
pub async fn person(
    key: &str,
    people: &PeopleConfig,
    store: &SessionStore,
    tenants: &HashMap<String, Arc<dyn Connector>>,
) -> Person {
    let mut accounts: BTreeMap<(String, String), PersonAccount> = BTreeMap::new();
    store.for_each_session(|s| {
        let (k, linked_by) = people.person_of_session(s);
        if k != key {
            return;
        }
        let a = accounts
            .entry((s.tenant.to_string(), s.user_id.to_string()))
            .or_insert_with(|| PersonAccount {
                tenant: s.tenant.to_string(),
                kind: tenants.get(&*s.tenant).map(|c| c.kind()),
                user: User::of_session(s),
                linked_by,
                sessions: Vec::new(),
                capabilities: tenants.get(&*s.tenant).map(|c| c.capabilities()),
                own: false,
            });
        a.own |= s.current;
        a.sessions.push(s.clone());
    });
    let mut p = Person {
        key: key.to_owned(),
        display_name: None,
        emails: Vec::new(),
        accounts: Vec::new(),
        lookup_errors: Vec::new(),
        at: Utc::now(),
        history: Vec::new(),
        actions: Vec::new(),
    };
    p.accounts = accounts.into_values().collect();
    fill_names(&mut p);
    // Tenants without an account of the person in the store: ask their directories.
    let have: BTreeSet<String> = p.accounts.iter().map(|a| a.tenant.clone()).collect();
    let skip: Vec<String> = have.into_iter().collect();
    let (found, errors) = lookup(&p.names(), Some(key), people, tenants, &skip).await;
    p.accounts.extend(found.into_iter().map(|(_, a)| a));
    p.lookup_errors = errors;
    for a in &mut p.accounts {
        a.sessions
            .sort_by(|x, y| y.created_at.cmp(&x.created_at).then(x.id.cmp(&y.id)));
    }
    p.accounts
        .sort_by(|a, b| a.tenant.cmp(&b.tenant).then(a.user.id.cmp(&b.user.id)));
    fill_names(&mut p);
    p
}

/// The person of one known account of one tenant (its sessions from the store), for
/// acting in that tenant alone.
pub fn of_account(
    connector: &dyn Connector,
    user: User,
    people: &PeopleConfig,
    store: &SessionStore,
) -> Person {
    let tenant = connector.tenant().to_string();
    let (key, linked_by) = people.person_of_user(&tenant, &user);
    let mut sessions = Vec::new();
    store.for_each_session(|s| {
        if *s.tenant == *tenant && s.user_id == user.id {
            sessions.push(s.clone());
        }
    });
    let mut p = Person {
        key,
        display_name: None,
        emails: Vec::new(),
        accounts: vec![PersonAccount {
            tenant,
            kind: Some(connector.kind()),
            own: sessions.iter().any(|s| s.current),
            user,
            linked_by,
            sessions,
            capabilities: Some(connector.capabilities()),
        }],
        lookup_errors: Vec::new(),
        at: Utc::now(),
        history: Vec::new(),
        actions: Vec::new(),
    };
    fill_names(&mut p);
    p
}

fn fill_names(p: &mut Person) {
    p.display_name = p
        .accounts
        .iter()
        .find_map(|a| a.user.display_name.as_deref().map(str::to_owned));
    let mut emails: Vec<String> = Vec::new();
    for e in p.accounts.iter().filter_map(|a| a.user.email.as_deref()) {
        if !emails.iter().any(|x| fold(x) == fold(e)) {
            emails.push(e.to_owned());
        }
    }
    if emails.is_empty() && looks_like_address(&p.key) {
        emails.push(p.key.clone());
    }
    p.emails = emails;
}

type Found = (Vec<(String, PersonAccount)>, Vec<TenantError>);

/// The accounts one tenant has under any of `names`.
async fn lookup_one(
    c: Arc<dyn Connector>,
    names: Arc<[String]>,
) -> (String, Result<Vec<User>, crate::error::Error>) {
    let tenant = c.tenant().to_string();
    let mut users: Vec<User> = Vec::new();
    for name in names.iter() {
        match c.find_user(name).await {
            Ok(Some(u)) if !users.iter().any(|x| x.id == u.id) => users.push(u),
            Ok(_) => {}
            // A name the tenant cannot take (a guard refused it) is not an account
            // there; anything else is the tenant's error.
            Err(e) if e.code == crate::error::ErrorCode::InvalidInput => {}
            Err(e) => return (tenant, Err(e)),
        }
    }
    (tenant, Ok(users))
}

/// Asks each tenant not in `skip` for an account by each of `names`; keeps accounts
/// that belong to `key` (any person when `key` is `None`).
async fn lookup(
    names: &[String],
    key: Option<&str>,
    people: &PeopleConfig,
    tenants: &HashMap<String, Arc<dyn Connector>>,
    skip: &[String],
) -> Found {
    let asked: Vec<Arc<dyn Connector>> = tenants
        .iter()
        .filter(|(name, _)| !skip.contains(name))
        .map(|(_, c)| Arc::clone(c))
        .collect();
    let names: Arc<[String]> = names.into();
    // The futures are made before they are streamed: a closure inside the stream would
    // make the whole future too particular about lifetimes to be sent between threads.
    let asks: Vec<_> = asked
        .into_iter()
        .map(|c| lookup_one(c, Arc::clone(&names)))
        .collect();
    let results: Vec<(String, Result<Vec<User>, crate::error::Error>)> =
        futures::stream::iter(asks)
            .buffer_unordered(LOOKUP_CONCURRENCY)
            .collect()
            .await;
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for (tenant, r) in results {
        match r {
            Ok(users) => {
                for u in users {
                    let (k, linked_by) = people.person_of_user(&tenant, &u);
                    if key.is_some_and(|key| key != k) {
                        continue;
                    }
                    let c = tenants.get(&tenant);
                    found.push((
                        k,
                        PersonAccount {
                            kind: c.map(|c| c.kind()),
                            capabilities: c.map(|c| c.capabilities()),
                            tenant: tenant.clone(),
                            user: u,
                            linked_by,
                            sessions: Vec::new(),
                            own: false,
                        },
                    ));
                }
            }
            Err(e) => errors.push(TenantError {
                tenant,
                error: e.context("looking the person up").payload(),
            }),
        }
    }
    errors.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    (found, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> PeopleConfig {
        PeopleConfig {
            link: vec![Link {
                person: "Alice@Example.org".into(),
                tenant: "chat".into(),
                user: "ali".into(),
            }],
            unlink: vec![AccountName {
                tenant: "ops".into(),
                user: "admin".into(),
            }],
        }
    }

    #[test]
    fn accounts_join_by_address_then_name_and_links_come_first() {
        let c = cfg();
        assert_eq!(
            c.person_of("sso", "1", "alice", Some(" ALICE@example.org ")),
            ("alice@example.org".into(), LinkedBy::Email)
        );
        // A user name that is an address is one.
        assert_eq!(
            c.person_of("ba", "x", "Alice@example.org", None),
            ("alice@example.org".into(), LinkedBy::Email)
        );
        assert_eq!(
            c.person_of("chat", "@ali:hs", "ali", None),
            ("alice@example.org".into(), LinkedBy::Manual)
        );
        assert_eq!(
            c.person_of("other", "7", "Bob", None),
            ("bob".into(), LinkedBy::Username)
        );
        // An unlinked account is its own person, even with a shared address.
        assert_eq!(
            c.person_of("ops", "1", "admin", Some("admin@example.org")),
            ("ops/admin".into(), LinkedBy::Unlinked)
        );
        // Not an address: no domain with a dot.
        assert_eq!(
            c.person_of("t", "1", "a@b", Some("@")).1,
            LinkedBy::Username
        );
    }

    #[test]
    fn a_hand_made_change_replaces_the_earlier_one() {
        let ali = AccountName {
            tenant: "chat".into(),
            user: "ALI".into(),
        };
        let c = cfg().assign(ali.clone(), &Assignment::Own);
        assert!(c.link.is_empty(), "the link of chat/ali went: {c:?}");
        assert_eq!(c.person_of("chat", "1", "ali", None).1, LinkedBy::Unlinked);
        let c = c.assign(
            ali.clone(),
            &Assignment::Person {
                person: "Ann@Example.org".into(),
            },
        );
        assert_eq!(
            c.person_of("chat", "1", "ali", None),
            ("ann@example.org".into(), LinkedBy::Manual)
        );
        assert_eq!(c.unlink.len(), 1, "ops/admin stays unlinked");
        let c = c.automatic(&ali);
        assert_eq!(c.person_of("chat", "1", "ali", None).1, LinkedBy::Username);
    }

    #[test]
    fn links_need_every_field() {
        let mut c = cfg();
        assert!(c.validate().is_ok());
        c.link[0].person = " ".into();
        assert!(c.validate().is_err());
    }
}
