//! A living population of users and sessions.
//!
//! Deterministic for a seed (same users, same initial sessions relative to "now"); then it
//! lives: sign-ins and sign-outs follow a working-day curve in the tenant's timezone,
//! sessions expire, activity moves, and now and then a SuperUser signs in at night or a
//! user signs in from a second, distant network. Every change is appended to an event log
//! that the `since` change feed reads.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vigil_session_api::{ApiSession, ApiUser, ChangePage, EndedSession};

use crate::data::{self, AGENTS, NETWORKS};

/// Why a demo operation failed; mapped to HTTP by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoError {
    NotFound(&'static str),
    Protected,
    Disabled,
    WatermarkExpired,
    BadRequest(String),
    /// A request body that is not `application/json`.
    UnsupportedMediaType,
}

struct DemoUser {
    api: ApiUser,
    /// Index into NETWORKS of where the user lives.
    home: usize,
    /// Index into AGENTS of the user's usual device.
    agent: usize,
}

#[derive(Debug, Clone)]
enum Event {
    Upsert(u64),
    Ended(EndedSession),
}

pub struct Population {
    rng: ChaCha8Rng,
    tz: Tz,
    target: usize,
    users: Vec<DemoUser>,
    user_index: HashMap<String, usize>,
    sessions: BTreeMap<u64, ApiSession>,
    /// Owner (user index) of each session.
    owner: HashMap<u64, usize>,
    /// Active session numbers, for uniform random picks.
    active: Vec<u64>,
    active_pos: HashMap<u64, usize>,
    expiry: BTreeSet<(DateTime<Utc>, u64)>,
    next_session: u64,
    events: VecDeque<(u64, Event)>,
    seq: u64,
    max_events: usize,
    /// Distinguishes this run's watermarks from another run's.
    epoch: String,
    users_version: u64,
}

const SESSION_PREFIX: &str = "ses_";

pub fn session_id(n: u64) -> String {
    format!("{SESSION_PREFIX}{n:08}")
}

/// The number behind a session id; only the canonical spelling resolves.
pub fn session_number(id: &str) -> Option<u64> {
    let n = id.strip_prefix(SESSION_PREFIX)?.parse().ok()?;
    (session_id(n) == id).then_some(n)
}

/// Relative sign-in activity at a local time: a working-day curve.
pub fn activity_curve(local_hour: f64, weekday: Weekday) -> f64 {
    let weekend = matches!(weekday, Weekday::Sat | Weekday::Sun);
    let day = match local_hour {
        h if h < 6.0 => 0.05,
        h if h < 8.0 => 0.05 + (h - 6.0) * 0.45,
        h if h < 12.0 => 1.0,
        h if h < 13.5 => 0.75,
        h if h < 17.0 => 1.0,
        h if h < 20.0 => 1.0 - (h - 17.0) * 0.28,
        _ => 0.1,
    };
    if weekend { day * 0.15 } else { day }
}

fn lifetime(session_type: &str) -> (Duration, Option<u32>) {
    match session_type {
        "mobile" => (Duration::days(14), None),
        "api" => (Duration::hours(1), Some(900)),
        "oauth" => (Duration::hours(24), None),
        _ => (Duration::hours(10), Some(1800)),
    }
}

impl Population {
    pub fn new(seed: u64, target_sessions: usize, tz: Tz, now: DateTime<Utc>) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let user_count = (target_sessions * 3 / 5).max(24);
        let mut pop = Self {
            epoch: format!("{:08x}", rng.random::<u32>() ^ (now.timestamp() as u32)),
            rng,
            tz,
            target: target_sessions,
            users: Vec::with_capacity(user_count),
            user_index: HashMap::with_capacity(user_count),
            sessions: BTreeMap::new(),
            owner: HashMap::with_capacity(target_sessions),
            active: Vec::with_capacity(target_sessions),
            active_pos: HashMap::with_capacity(target_sessions),
            expiry: BTreeSet::new(),
            next_session: 1,
            events: VecDeque::new(),
            seq: 0,
            max_events: (target_sessions * 4).max(200_000),
            users_version: 1,
        };
        pop.make_users(user_count);
        pop.seed_sessions(now);
        pop
    }

    fn make_users(&mut self, count: usize) {
        // Administrative and helper accounts first: protected from being disabled.
        let fixed = [
            ("admin", "System", "Administrator", "IT", true, true),
            ("helpdesk", "Help", "Desk", "Support", false, true),
            ("secops", "Security", "Operations", "IT", true, false),
        ];
        for (username, first, last, dept, superuser, protected) in fixed {
            self.push_user(
                username.to_owned(),
                first,
                last,
                dept,
                "Head Office",
                superuser,
                protected,
            );
        }
        while self.users.len() < count {
            let first = pick(&mut self.rng, data::FIRST_NAMES);
            let last = pick(&mut self.rng, data::LAST_NAMES);
            let base: String = format!("{}{}", &first[..1], ascii_fold(last)).to_lowercase();
            let mut username = base.clone();
            let mut n = 2;
            while self.user_index.contains_key(&username) {
                username = format!("{base}{n}");
                n += 1;
            }
            let dept = pick(&mut self.rng, data::DEPARTMENTS);
            let org = pick(&mut self.rng, data::ORGANISATIONS);
            let superuser = self.rng.random_bool(0.015);
            self.push_user(username, first, last, dept, org, superuser, false);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_user(
        &mut self,
        username: String,
        first: &str,
        last: &str,
        dept: &str,
        org: &str,
        superuser: bool,
        protected: bool,
    ) {
        let idx = self.users.len();
        let home = weighted(&mut self.rng, NETWORKS.iter().map(|n| n.weight));
        let agent = weighted(&mut self.rng, AGENTS.iter().map(|a| a.weight));
        let api = ApiUser {
            id: format!("usr_{:06}", idx + 1),
            email: Some(format!("{username}@example.org")),
            username: username.clone(),
            first_name: Some(first.to_owned()),
            last_name: Some(last.to_owned()),
            display_name: Some(format!("{first} {last}")),
            department: Some(dept.to_owned()),
            organisation: Some(org.to_owned()),
            superuser,
            protected,
            disabled: false,
            last_login_at: None,
        };
        self.user_index.insert(username, idx);
        self.users.push(DemoUser { api, home, agent });
    }

    fn seed_sessions(&mut self, now: DateTime<Utc>) {
        for _ in 0..self.target {
            let user = self.pick_user(false);
            let (agent, session_type) = self.pick_agent(user);
            let (max_life, _) = lifetime(session_type);
            // Start times follow the activity curve over the session type's lifetime.
            let created = loop {
                let back = self.rng.random_range(0..max_life.num_seconds().max(60));
                let t = now - Duration::seconds(back);
                let local = t.with_timezone(&self.tz);
                let w = activity_curve(
                    f64::from(local.hour()) + f64::from(local.minute()) / 60.0,
                    local.weekday(),
                );
                if self.rng.random_bool(w.clamp(0.02, 1.0)) {
                    break t;
                }
            };
            let ip = self.pick_ip(user, false);
            self.insert_session(user, created, now, agent, ip, None, None, false);
        }
        // The initial population is the starting point, not a stream of changes.
        self.events.clear();
    }

    fn pick_user(&mut self, superuser_wanted: bool) -> usize {
        for _ in 0..1000 {
            let i = self.rng.random_range(0..self.users.len());
            let u = &self.users[i].api;
            if !u.disabled && (!superuser_wanted || u.superuser) {
                return i;
            }
        }
        0
    }

    fn pick_agent(&mut self, user: usize) -> (&'static str, &'static str) {
        let idx = if self.rng.random_bool(0.8) {
            self.users[user].agent
        } else {
            weighted(&mut self.rng, AGENTS.iter().map(|a| a.weight))
        };
        let a = &AGENTS[idx];
        (a.ua, a.session_type)
    }

    fn pick_ip(&mut self, user: usize, elsewhere: bool) -> IpAddr {
        if !elsewhere && self.rng.random_bool(0.25) {
            return random_v4(&mut self.rng, data::OFFICE_V4);
        }
        let home = self.users[user].home;
        let net = if elsewhere {
            // A distant network: any country but home.
            let mut n = self.rng.random_range(0..NETWORKS.len());
            if n == home {
                n = (n + 1 + self.rng.random_range(0..NETWORKS.len() - 1)) % NETWORKS.len();
            }
            n
        } else {
            home
        };
        if self.rng.random_bool(0.3) {
            random_v6(&mut self.rng, NETWORKS[net].v6)
        } else {
            random_v4(&mut self.rng, NETWORKS[net].v4)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_session(
        &mut self,
        user: usize,
        created: DateTime<Utc>,
        now: DateTime<Utc>,
        ua: &str,
        ip: IpAddr,
        session_type: Option<String>,
        login_type: Option<String>,
        fresh: bool,
    ) -> ApiSession {
        let n = self.next_session;
        self.next_session += 1;
        let agent_type = AGENTS
            .iter()
            .find(|a| a.ua == ua)
            .map_or("ui", |a| a.session_type);
        let session_type = session_type.unwrap_or_else(|| agent_type.to_owned());
        let (max_life, idle) = lifetime(&session_type);
        let login_type = login_type.unwrap_or_else(|| {
            match session_type.as_str() {
                "oauth" => "oauth",
                "api" => "api_key",
                _ if self.rng.random_bool(0.35) => "sso",
                _ => "password",
            }
            .to_owned()
        });
        let last_activity = if fresh {
            created
        } else {
            let span = (now - created).num_seconds().max(1);
            created + Duration::seconds(self.rng.random_range(span * 2 / 3..=span))
        };
        let u = &self.users[user].api;
        let session = ApiSession {
            id: session_id(n),
            user_id: u.id.clone(),
            username: u.username.clone(),
            created_at: Some(created),
            last_activity_at: Some(last_activity),
            expires_at: Some(created + max_life),
            idle_timeout_seconds: idle,
            ip: Some(ip.to_string()),
            user_agent: Some(ua.to_owned()),
            session_type: Some(session_type),
            login_type: Some(login_type),
            server_name: Some(pick(&mut self.rng, data::SERVERS).to_owned()),
            current: false,
        };
        self.expiry.insert((created + max_life, n));
        self.sessions.insert(n, session.clone());
        self.owner.insert(n, user);
        self.active_pos.insert(n, self.active.len());
        self.active.push(n);
        self.push_event(Event::Upsert(n));
        session
    }

    fn push_event(&mut self, e: Event) {
        self.seq += 1;
        self.events.push_back((self.seq, e));
        while self.events.len() > self.max_events {
            self.events.pop_front();
        }
    }

    fn end_session(&mut self, n: u64, now: DateTime<Utc>, reason: &str) -> bool {
        let Some(s) = self.sessions.remove(&n) else {
            return false;
        };
        self.owner.remove(&n);
        if let Some(exp) = s.expires_at {
            self.expiry.remove(&(exp, n));
        }
        if let Some(pos) = self.active_pos.remove(&n) {
            self.active.swap_remove(pos);
            if let Some(moved) = self.active.get(pos) {
                self.active_pos.insert(*moved, pos);
            }
        }
        self.push_event(Event::Ended(EndedSession {
            id: s.id,
            ended_at: Some(now),
            reason: Some(reason.to_owned()),
        }));
        true
    }

    /// Advances the simulation by `dt` seconds of wall time ending at `now`.
    pub fn tick(&mut self, now: DateTime<Utc>, dt: f64) {
        // Expiries.
        while let Some(&(at, n)) = self.expiry.first() {
            if at > now {
                break;
            }
            self.end_session(n, now, "expired");
        }
        let local = now.with_timezone(&self.tz);
        let hour = f64::from(local.hour()) + f64::from(local.minute()) / 60.0;
        let curve = activity_curve(hour, local.weekday());
        let current = self.sessions.len() as f64;
        let target = self.target as f64;
        // About one sign-in per population-hour at peak; the gap to the target pulls back.
        let base = target / 3600.0 * dt;
        let ins = base * (0.2 + curve) + ((target - current).max(0.0) * 0.02 * dt);
        let outs = base * 0.7 + ((current - target).max(0.0) * 0.02 * dt);
        for _ in 0..self.poisson(outs) {
            if let Some(n) = self.random_active() {
                self.end_session(n, now, "logout");
            }
        }
        for _ in 0..self.poisson(ins) {
            let user = self.pick_user(false);
            self.sign_in_user(user, now, None, None, None, None);
        }
        // Activity: a slice of sessions did something.
        for _ in 0..self.poisson(current / 2000.0 * dt) {
            if let Some(n) = self.random_active()
                && let Some(s) = self.sessions.get_mut(&n)
            {
                s.last_activity_at = Some(now);
                self.push_event(Event::Upsert(n));
            }
        }
        // Now and then: a SuperUser at night; a user from a second, distant network.
        let night =
            !(7.0..20.0).contains(&hour) || matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
        if night && self.rng.random_bool((dt / 900.0).min(1.0)) {
            let user = self.pick_user(true);
            self.sign_in_user(user, now, None, None, None, None);
        }
        if self.rng.random_bool((dt / 600.0).min(1.0))
            && let Some(n) = self.random_active()
            && let Some(&user) = self.owner.get(&n).filter(|u| !self.users[**u].api.disabled)
        {
            let ip = self.pick_ip(user, true);
            self.sign_in_user(user, now, Some(ip), None, None, None);
        }
    }

    fn poisson(&mut self, mean: f64) -> usize {
        // Good enough for a simulation: the integer part plus a Bernoulli remainder.
        let whole = mean.floor();
        let extra = usize::from(self.rng.random_bool((mean - whole).clamp(0.0, 1.0)));
        whole as usize + extra
    }

    fn random_active(&mut self) -> Option<u64> {
        if self.active.is_empty() {
            return None;
        }
        let i = self.rng.random_range(0..self.active.len());
        self.active.get(i).copied()
    }

    fn sign_in_user(
        &mut self,
        user: usize,
        now: DateTime<Utc>,
        ip: Option<IpAddr>,
        ua: Option<String>,
        session_type: Option<String>,
        login_type: Option<String>,
    ) -> ApiSession {
        let (agent, _) = self.pick_agent(user);
        let ip = ip.unwrap_or_else(|| self.pick_ip(user, false));
        let ua = ua.unwrap_or_else(|| agent.to_owned());
        self.insert_session(user, now, now, &ua, ip, session_type, login_type, true)
    }

    /// `POST /demo/v1/sign-ins`: signs a user in now.
    pub fn sign_in(
        &mut self,
        username: &str,
        ip: Option<&str>,
        ua: Option<&str>,
        session_type: Option<&str>,
        login_type: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ApiSession, DemoError> {
        let user = *self
            .user_index
            .get(username)
            .ok_or(DemoError::NotFound("unknown_user"))?;
        if self.users[user].api.disabled {
            return Err(DemoError::Disabled);
        }
        let ip = match ip {
            Some(raw) => Some(
                raw.parse::<IpAddr>()
                    .map_err(|_| DemoError::BadRequest(format!("invalid ip {raw:?}")))?,
            ),
            None => None,
        };
        Ok(self.sign_in_user(
            user,
            now,
            ip,
            ua.map(str::to_owned),
            session_type.map(str::to_owned),
            login_type.map(str::to_owned),
        ))
    }

    pub fn watermark(&self) -> String {
        format!("{}.{}", self.epoch, self.seq)
    }

    /// A version that changes whenever the session set changes (for ETags).
    pub fn sessions_version(&self) -> String {
        format!("{}-{}", self.epoch, self.seq)
    }

    pub fn users_version(&self) -> String {
        format!("{}-{}", self.epoch, self.users_version)
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// Keyset page: sessions after `cursor` in creation order.
    pub fn sessions_page(
        &self,
        cursor: Option<u64>,
        limit: usize,
    ) -> (Vec<ApiSession>, Option<u64>) {
        let start = cursor.map_or(0, |c| c.saturating_add(1));
        let mut page: Vec<ApiSession> = Vec::with_capacity(limit.min(self.sessions.len()));
        let mut last = None;
        let mut iter = self.sessions.range(start..);
        for (n, s) in iter.by_ref().take(limit) {
            page.push(s.clone());
            last = Some(*n);
        }
        let more = iter.next().is_some();
        (page, if more { last } else { None })
    }

    pub fn session(&self, id: &str) -> Option<&ApiSession> {
        self.sessions.get(&session_number(id)?)
    }

    /// The change feed after `since` (`epoch.seq`), at most `limit` events.
    pub fn changes(&self, since: &str, limit: usize) -> Result<ChangePage, DemoError> {
        let (epoch, seq) = since
            .split_once('.')
            .and_then(|(e, s)| Some((e, s.parse::<u64>().ok()?)))
            .ok_or_else(|| DemoError::BadRequest(format!("invalid watermark {since:?}")))?;
        if epoch != self.epoch || seq > self.seq {
            return Err(DemoError::WatermarkExpired);
        }
        let first = self.events.front().map_or(self.seq + 1, |(s, _)| *s);
        if seq + 1 < first {
            return Err(DemoError::WatermarkExpired);
        }
        let skip = usize::try_from(seq + 1 - first).unwrap_or(usize::MAX);
        let mut upserted: Vec<ApiSession> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut ended = Vec::new();
        let mut last = seq;
        for (s, e) in self.events.iter().skip(skip).take(limit) {
            last = *s;
            match e {
                Event::Upsert(n) => {
                    if let Some(sess) = self.sessions.get(n)
                        && seen.insert(*n)
                    {
                        upserted.push(sess.clone());
                    }
                }
                Event::Ended(end) => ended.push(end.clone()),
            }
        }
        Ok(ChangePage {
            upserted,
            ended,
            watermark: format!("{}.{}", self.epoch, last),
            has_more: last < self.seq,
        })
    }

    pub fn users(&self) -> impl Iterator<Item = &ApiUser> {
        self.users.iter().map(|u| &u.api)
    }

    fn user_idx(&self, id: &str) -> Result<usize, DemoError> {
        id.strip_prefix("usr_")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1))
            .filter(|i| self.users.get(*i).is_some_and(|u| u.api.id == id))
            .ok_or(DemoError::NotFound("unknown_user"))
    }

    pub fn user(&self, id: &str) -> Result<&ApiUser, DemoError> {
        Ok(&self.users[self.user_idx(id)?].api)
    }

    pub fn end(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), DemoError> {
        let n = session_number(id).ok_or(DemoError::NotFound("unknown_session"))?;
        if self.end_session(n, now, "terminated") {
            Ok(())
        } else {
            Err(DemoError::NotFound("unknown_session"))
        }
    }

    pub fn end_user_sessions(
        &mut self,
        user_id: &str,
        now: DateTime<Utc>,
        reason: &str,
    ) -> Result<u64, DemoError> {
        let idx = self.user_idx(user_id)?;
        let mine: Vec<u64> = self
            .owner
            .iter()
            .filter(|(_, u)| **u == idx)
            .map(|(n, _)| *n)
            .collect();
        let mut count = 0;
        for n in mine {
            count += u64::from(self.end_session(n, now, reason));
        }
        Ok(count)
    }

    pub fn set_disabled(
        &mut self,
        user_id: &str,
        disabled: bool,
        end_sessions: bool,
        now: DateTime<Utc>,
    ) -> Result<(ApiUser, u64), DemoError> {
        let idx = self.user_idx(user_id)?;
        if disabled && self.users[idx].api.protected {
            return Err(DemoError::Protected);
        }
        if self.users[idx].api.disabled != disabled {
            self.users[idx].api.disabled = disabled;
            self.users_version += 1;
        }
        let ended = if disabled && end_sessions {
            self.end_user_sessions(user_id, now, "disabled")?
        } else {
            0
        };
        Ok((self.users[idx].api.clone(), ended))
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }
}

fn ascii_fold(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'ü' => Some('u'),
            'ö' => Some('o'),
            'á' | 'à' => Some('a'),
            'é' | 'è' => Some('e'),
            'í' => Some('i'),
            'ó' => Some('o'),
            'ń' => Some('n'),
            'ł' => Some('l'),
            c if c.is_ascii_alphabetic() => Some(c),
            _ => None,
        })
        .collect()
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

fn weighted(rng: &mut ChaCha8Rng, weights: impl Iterator<Item = u32> + Clone) -> usize {
    let total: u32 = weights.clone().sum();
    let mut x = rng.random_range(0..total.max(1));
    for (i, w) in weights.enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    0
}

fn random_v4(rng: &mut ChaCha8Rng, (base, prefix): ([u8; 4], u8)) -> IpAddr {
    let base = u32::from_be_bytes(base);
    let host_bits = 32 - u32::from(prefix);
    let mask = if host_bits == 32 {
        u32::MAX
    } else {
        (1u32 << host_bits) - 1
    };
    // Avoid network and broadcast-looking addresses.
    let host = rng.random_range(1..mask.max(2));
    IpAddr::V4(Ipv4Addr::from(base | (host & mask)))
}

fn random_v6(rng: &mut ChaCha8Rng, (base, prefix): ([u16; 8], u8)) -> IpAddr {
    let mut b = 0u128;
    for seg in base {
        b = (b << 16) | u128::from(seg);
    }
    let host_bits = 128 - u32::from(prefix);
    let mask = (1u128 << host_bits) - 1;
    let host: u128 = rng.random::<u128>() & mask;
    IpAddr::V6(Ipv6Addr::from(b | host))
}

/// Wall time in the tenant's zone (used by the info endpoint).
pub fn local_now(tz: Tz) -> DateTime<Tz> {
    tz.from_utc_datetime(&Utc::now().naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_763_200_000, 0).unwrap_or_default()
    }

    #[test]
    fn same_seed_same_population() {
        let a = Population::new(7, 500, chrono_tz::Europe::Berlin, now());
        let b = Population::new(7, 500, chrono_tz::Europe::Berlin, now());
        let c = Population::new(8, 500, chrono_tz::Europe::Berlin, now());
        assert_eq!(a.sessions_page(None, 1000).0, b.sessions_page(None, 1000).0);
        assert_ne!(a.sessions_page(None, 1000).0, c.sessions_page(None, 1000).0);
        assert_eq!(a.session_count(), 500);
        assert!(a.users().any(|u| u.superuser));
        assert!(a.users().any(|u| u.protected));
    }

    #[test]
    fn population_lives_and_stays_near_target() {
        let mut p = Population::new(1, 2000, chrono_tz::Europe::Berlin, now());
        let w0 = p.watermark();
        for i in 1..=600 {
            p.tick(now() + Duration::seconds(i), 1.0);
        }
        let n = p.session_count();
        assert!((1500..=2500).contains(&n), "population drifted to {n}");
        let changes = p.changes(&w0, 1_000_000).unwrap_or_else(|_| panic!("feed"));
        assert!(!changes.upserted.is_empty() && !changes.ended.is_empty());
        assert!(!changes.has_more);
    }

    #[test]
    fn ending_and_disabling_change_what_is_listed() {
        let mut p = Population::new(3, 300, chrono_tz::UTC, now());
        let (page, _) = p.sessions_page(None, 1);
        let first = page[0].clone();
        assert_eq!(p.end(&first.id, now()), Ok(()));
        assert!(p.session(&first.id).is_none());
        assert_eq!(
            p.end(&first.id, now()),
            Err(DemoError::NotFound("unknown_session"))
        );
        let victim = p
            .users()
            .find(|u| !u.protected)
            .map(|u| (u.id.clone(), u.username.clone()));
        let (uid, uname) = victim.unwrap_or_default();
        let res = p.set_disabled(&uid, true, true, now());
        assert!(res.is_ok_and(|(u, _)| u.disabled));
        assert!(
            p.sessions_page(None, 10_000)
                .0
                .iter()
                .all(|s| s.user_id != uid)
        );
        assert_eq!(
            p.sign_in(&uname, None, None, None, None, now()).err(),
            Some(DemoError::Disabled)
        );
        assert_eq!(
            p.set_disabled("usr_000001", true, false, now()).err(),
            Some(DemoError::Protected)
        );
    }

    #[test]
    fn keyset_pages_tile_the_population() {
        let p = Population::new(5, 1234, chrono_tz::UTC, now());
        let mut cursor = None;
        let mut all = Vec::new();
        loop {
            let (page, next) = p.sessions_page(cursor, 100);
            all.extend(page.into_iter().map(|s| s.id));
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        let unique: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!((all.len(), unique.len()), (1234, 1234));
    }

    #[test]
    fn only_canonical_ids_resolve() {
        let p = Population::new(2, 50, chrono_tz::UTC, now());
        assert_eq!(session_number("ses_00000002"), Some(2));
        assert_eq!(session_number("ses_2"), None);
        assert_eq!(session_number("ses_+0000002"), None);
        assert!(p.user("usr_000003").is_ok());
        assert!(p.user("usr_3").is_err());
        assert!(p.user("usr_+00003").is_err());
    }

    #[test]
    fn curve_is_a_working_day() {
        assert!(activity_curve(10.0, Weekday::Tue) > 0.9);
        assert!(activity_curve(3.0, Weekday::Tue) < 0.1);
        assert!(activity_curve(10.0, Weekday::Sun) < 0.2);
    }
}
