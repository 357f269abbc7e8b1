//! Sessions derived from a sign-in log, for systems that list no live sessions (Okta,
//! Entra ID, Google Workspace).
//!
//! Each sign-in belongs to a *key*: the vendor's session id where the log carries one
//! (Okta's `externalSessionId`), otherwise user + IP + device, so repeated sign-ins from one
//! browser make one row. A key's session runs from its first sign-in after the last thing
//! that ended it (a logout event for the key, or an end-of-all-sessions for the user: from
//! the log, or done by Vigil) to its newest sign-in; it drops out when its newest sign-in is
//! older than the look-back window. The log is read incrementally: each poll asks only for
//! events since the newest one seen, less an overlap for late-arriving entries.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use crate::error::{ErrorCode, Result};
use crate::model::{Session, User};

/// One successful sign-in from the log.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub key: String,
    pub user_id: String,
    pub username: String,
    pub at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub location: Option<String>,
    pub login_type: Option<String>,
    pub session_type: Option<String>,
}

/// What a log entry means for derived sessions.
#[derive(Debug, Clone)]
pub enum LogEvent {
    Start(SignIn),
    /// The session with this key ended (a logout).
    End {
        key: String,
        at: DateTime<Utc>,
    },
    /// Every session of the user ended (an administrator cleared them).
    UserEnded {
        user_id: String,
        at: DateTime<Utc>,
    },
}

#[derive(Default)]
struct Derived {
    times: BTreeSet<DateTime<Utc>>,
    latest: Option<SignIn>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Derived>,
    ended: HashMap<String, DateTime<Utc>>,
    user_ended: HashMap<String, DateTime<Utc>>,
    /// The newest event time seen.
    cursor: Option<DateTime<Utc>>,
}

/// The derived sessions of one tenant.
pub struct SignInLog {
    lookback: chrono::Duration,
    overlap: chrono::Duration,
    state: Mutex<State>,
    /// Most keys kept: each poll is bounded, but a hostile log could add its bound of new
    /// keys every poll for a whole look-back window. Over it, the keys whose newest
    /// sign-in is oldest go first.
    max_keys: usize,
}

/// Keys (derived sessions) kept per tenant by default.
pub const MAX_KEYS: usize = 1_000_000;
/// Sign-in times kept per key: the newest ones (a session's start may then show later
/// than it was, never earlier).
const MAX_TIMES_PER_KEY: usize = 1_000;
/// Events dated further ahead than this are a broken or hostile clock: dropped, so one
/// "year 9999" entry cannot move the read cursor past every real event.
const MAX_FUTURE_SKEW_MINUTES: i64 = 10;

/// A short stable session id for a key (the key itself may hold IPs and device names).
pub fn key_id(prefix: &str, key: &str) -> String {
    // FNV-1a, 64 bit: stable across runs and platforms, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{prefix}-{h:016x}")
}

impl SignInLog {
    pub fn new(lookback: chrono::Duration, overlap: chrono::Duration) -> Self {
        Self {
            lookback,
            overlap,
            state: Mutex::new(State::default()),
            max_keys: MAX_KEYS,
        }
    }

    /// A log keeping at most `max_keys` derived sessions.
    pub fn with_max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys.max(1);
        self
    }

    pub fn lookback(&self) -> chrono::Duration {
        self.lookback
    }

    /// Where the next read of the log starts.
    pub async fn since(&self) -> DateTime<Utc> {
        let window_start = Utc::now() - self.lookback;
        match self.state.lock().await.cursor {
            Some(c) => c
                .checked_sub_signed(self.overlap)
                .unwrap_or(window_start)
                .max(window_start),
            None => window_start,
        }
    }

    /// Takes in events read from the log (in any order; reading one twice is harmless).
    pub async fn apply(&self, events: Vec<LogEvent>) {
        self.take_in(events, true).await;
    }

    /// Takes in the newest part of a log read newest first and cut short (a page limit):
    /// the read cursor stays, so that the older part is read again rather than skipped.
    pub async fn apply_cut_short(&self, events: Vec<LogEvent>) {
        self.take_in(events, false).await;
    }

    async fn take_in(&self, events: Vec<LogEvent>, advance: bool) {
        let mut st = self.state.lock().await;
        let now = Utc::now();
        let latest_plausible = now + chrono::Duration::minutes(MAX_FUTURE_SKEW_MINUTES);
        let mut implausible = 0usize;
        for event in events {
            let at = match &event {
                LogEvent::Start(s) => s.at,
                LogEvent::End { at, .. } | LogEvent::UserEnded { at, .. } => *at,
            };
            if at > latest_plausible {
                implausible += 1;
                continue;
            }
            if advance {
                st.cursor = Some(st.cursor.map_or(at, |c| c.max(at)));
            }
            match event {
                LogEvent::Start(s) => {
                    let d = st.keys.entry(s.key.clone()).or_default();
                    d.times.insert(s.at);
                    if d.times.len() > MAX_TIMES_PER_KEY {
                        d.times.pop_first();
                    }
                    if d.latest.as_ref().is_none_or(|l| l.at <= s.at) {
                        d.latest = Some(s);
                    }
                }
                LogEvent::End { key, at } => {
                    let e = st.ended.entry(key).or_insert(at);
                    *e = (*e).max(at);
                }
                LogEvent::UserEnded { user_id, at } => {
                    let e = st.user_ended.entry(user_id).or_insert(at);
                    *e = (*e).max(at);
                }
            }
        }
        let window_start = Utc::now() - self.lookback;
        st.keys.retain(|_, d| {
            d.times.retain(|t| *t >= window_start);
            !d.times.is_empty()
        });
        st.ended.retain(|_, t| *t >= window_start);
        st.user_ended.retain(|_, t| *t >= window_start);
        if implausible > 0 {
            tracing::warn!(
                implausible,
                "sign-in log events dated in the future were dropped"
            );
        }
        // End markers would grow as freely as keys: the newest are kept.
        keep_newest(&mut st.ended, self.max_keys, |t| *t);
        keep_newest(&mut st.user_ended, self.max_keys, |t| *t);
        let dropped = keep_newest(&mut st.keys, self.max_keys, |d| {
            d.times.last().copied().unwrap_or(now)
        });
        if dropped > 0 {
            tracing::warn!(
                dropped,
                kept = self.max_keys,
                "the sign-in log derives more sessions than Vigil keeps; the oldest were dropped"
            );
        }
    }

    /// Vigil ended every session of a user: sign-ins before now are over.
    pub async fn user_ended(&self, user_id: &str) {
        let mut st = self.state.lock().await;
        st.user_ended.insert(user_id.to_owned(), Utc::now());
    }

    /// Starts over with the next read (what Vigil ended itself is kept).
    pub async fn reset(&self) {
        let mut st = self.state.lock().await;
        st.keys.clear();
        st.ended.clear();
        st.cursor = None;
    }

    /// The sessions that are live by the log, with only what the log says filled in.
    /// Session ids are the keys themselves when `id_prefix` is `None` (the vendor's own
    /// session ids), else a short hash of the key.
    pub async fn sessions(&self, tenant: &Arc<str>, id_prefix: Option<&str>) -> Vec<Session> {
        let st = self.state.lock().await;
        let window_start = Utc::now() - self.lookback;
        let mut out = Vec::new();
        for (key, d) in &st.keys {
            let Some(latest) = &d.latest else { continue };
            let ended = st.ended.get(key).copied();
            let user_ended = st.user_ended.get(&latest.user_id).copied();
            let end = ended.max(user_ended);
            let Some(first) = d
                .times
                .iter()
                .copied()
                .find(|t| *t >= window_start && end.is_none_or(|e| *t > e))
            else {
                continue;
            };
            let last = d.times.last().copied().unwrap_or(first);
            let mut s = Session::new(
                tenant,
                id_prefix.map_or_else(|| key.clone(), |p| key_id(p, key)),
                latest.user_id.clone(),
                latest.username.clone(),
            );
            s.ip.clone_from(&latest.ip);
            s.user_agent = latest.user_agent.as_deref().map(Into::into);
            s.location = latest.location.as_deref().map(Into::into);
            s.login_type = latest.login_type.as_deref().map(Into::into);
            s.session_type = latest.session_type.as_deref().map(Into::into);
            s.created_at = Some(first);
            s.last_activity_at = Some(last);
            out.push(s);
        }
        out
    }
}

/// User details fetched one by one (the log names users; names, roles and state come from
/// the directory), kept for a while so a poll does not ask again for every user.
pub struct UserCache {
    ttl: Duration,
    users: Mutex<HashMap<String, (Instant, User)>>,
}

impl UserCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            users: Mutex::new(HashMap::new()),
        }
    }

    /// The users with these ids: cached ones, and the rest fetched with at most `limit` in
    /// flight. A user the directory no longer has is left out.
    pub async fn resolve<F, Fut>(
        &self,
        ids: impl IntoIterator<Item = String>,
        limit: usize,
        fetch: F,
    ) -> Result<HashMap<String, User>>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<User>>,
    {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        let mut asked = std::collections::HashSet::new();
        {
            let cache = self.users.lock().await;
            for id in ids {
                match cache.get(&id) {
                    Some((at, u)) if at.elapsed() < self.ttl => {
                        found.insert(id, u.clone());
                    }
                    _ if asked.insert(id.clone()) => missing.push(id),
                    _ => {}
                }
            }
        }
        let fetched = super::http::bounded(missing, limit, |id| {
            let f = fetch(id.clone());
            async move { (id, f.await) }
        })
        .await;
        let mut cache = self.users.lock().await;
        // Expired entries go; a cache past its cap starts over (it is only a cache).
        let ttl = self.ttl;
        cache.retain(|_, (at, _)| at.elapsed() < ttl);
        if cache.len() > MAX_KEYS {
            cache.clear();
        }
        for (id, r) in fetched {
            match r {
                Ok(u) => {
                    cache.insert(id.clone(), (Instant::now(), u.clone()));
                    found.insert(id, u);
                }
                Err(e) if e.code == ErrorCode::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }

    pub async fn put(&self, user: User) {
        self.users
            .lock()
            .await
            .insert(user.id.to_string(), (Instant::now(), user));
    }

    pub async fn clear(&self) {
        self.users.lock().await.clear();
    }
}

/// Drops the entries of `map` beyond `max` whose `age` is oldest; returns how many.
fn keep_newest<V>(
    map: &mut HashMap<String, V>,
    max: usize,
    age: impl Fn(&V) -> DateTime<Utc>,
) -> usize {
    if map.len() <= max {
        return 0;
    }
    let excess = map.len() - max;
    let mut by_age: Vec<(DateTime<Utc>, String)> =
        map.iter().map(|(k, v)| (age(v), k.clone())).collect();
    by_age.select_nth_unstable(excess - 1);
    for (_, k) in by_age.into_iter().take(excess) {
        map.remove(&k);
    }
    excess
}

/// A place from its parts (city, region, country), skipping empty ones.
pub fn place(parts: &[Option<&str>]) -> Option<String> {
    let parts: Vec<&str> = parts
        .iter()
        .flatten()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Sessions annotated with their users; sessions of users the directory no longer has keep
/// what the log said.
pub fn annotate(sessions: &mut [Session], users: &HashMap<String, User>) {
    for s in sessions {
        if let Some(u) = users.get(&*s.user_id) {
            s.annotate(u);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Text;

    fn sign_in(key: &str, user: &str, mins_ago: i64) -> LogEvent {
        LogEvent::Start(SignIn {
            key: key.into(),
            user_id: user.into(),
            username: format!("{user}@example.com"),
            at: Utc::now() - chrono::Duration::minutes(mins_ago),
            ip: Some("203.0.113.1".into()),
            user_agent: None,
            location: None,
            login_type: None,
            session_type: None,
        })
    }

    /// A hostile log: an entry dated in year 9999 must not move the read cursor past every
    /// real event (the tenant would go blind), and new keys every poll must not grow the
    /// state without bound.
    #[tokio::test]
    async fn a_hostile_log_cannot_blind_or_bloat_the_tenant() {
        let log = SignInLog::new(chrono::Duration::hours(1), chrono::Duration::minutes(5))
            .with_max_keys(100);
        let tenant: Arc<str> = Arc::from("t");
        let mut far = sign_in("future", "u9", 0);
        if let LogEvent::Start(s) = &mut far {
            s.at = DateTime::<Utc>::MAX_UTC;
        }
        log.apply(vec![far, sign_in("a", "u1", 10)]).await;
        assert!(
            log.since().await <= Utc::now(),
            "the cursor moved to the future"
        );
        let ids: Vec<Text> = log
            .sessions(&tenant, None)
            .await
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, [Text::from("a")]);
        for round in 0..5 {
            let events = (0..100)
                .map(|i| sign_in(&format!("k{round}-{i}"), "u", 50 - i64::from(round) * 10))
                .collect();
            log.apply(events).await;
        }
        let s = log.sessions(&tenant, None).await;
        assert_eq!(s.len(), 100);
        // The newest keys are the ones kept.
        assert!(s.iter().all(|s| s.id.starts_with("k4-")), "{:?}", s[0].id);
    }

    #[tokio::test]
    async fn sessions_follow_the_log_and_vigils_own_revocations() {
        let log = SignInLog::new(chrono::Duration::hours(1), chrono::Duration::minutes(5));
        let tenant: Arc<str> = Arc::from("t");
        log.apply(vec![
            sign_in("a", "u1", 30),
            sign_in("a", "u1", 10),
            sign_in("b", "u2", 20),
            sign_in("old", "u3", 90),
            LogEvent::End {
                key: "b".into(),
                at: Utc::now() - chrono::Duration::minutes(5),
            },
        ])
        .await;
        let s = log.sessions(&tenant, Some("x")).await;
        assert_eq!(s.len(), 1, "b ended, old is out of the window");
        assert_eq!(&*s[0].id, key_id("x", "a"));
        let created = s[0].created_at.map(|t| (Utc::now() - t).num_minutes());
        assert_eq!(created, Some(30));
        log.user_ended("u1").await;
        assert!(log.sessions(&tenant, Some("x")).await.is_empty());
        log.apply(vec![sign_in("a", "u1", 0)]).await;
        let s = log.sessions(&tenant, Some("x")).await;
        assert_eq!(
            s.len(),
            1,
            "a sign-in after the revocation is a new session"
        );
        assert_eq!(
            s[0].created_at.map(|t| (Utc::now() - t).num_minutes()),
            Some(0)
        );
        assert!(log.since().await > Utc::now() - chrono::Duration::minutes(6));
    }
}
