//! Session policies across tenants: "end sessions idle longer than D, or older than D, in
//! these tenants, except protected accounts and these users".
//!
//! [`select`] decides from the store what a policy ends and what it spares (and why);
//! a dry run prints exactly that, a run ends exactly the selected sessions through the
//! audited action path (whose guards apply once more). `[[policies]]` in the config file
//! run on a schedule in the app and in `vigil watch`.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::actions::ActionReport;
use crate::audit::ActionKind;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::model::{Session, SessionRef};
use crate::people::{PeopleConfig, fold};
use crate::store::SessionStore;

/// Longest span a policy takes (ten years): larger values are a typo, not a policy.
const MAX_SPAN: Duration = Duration::from_secs(10 * 366 * 86_400);
/// Shortest schedule: a policy does not run more than once a minute.
pub const MIN_EVERY: Duration = Duration::from_secs(60);

/// A span such as `90s`, `30m`, `8h`, `30d`, `2w`.
pub fn parse_span(s: &str) -> Result<Duration> {
    let t = s.trim();
    let bad = || Error::invalid_input(format!("{s:?} is not a span like 30m, 8h or 30d"));
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let unit_secs: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    let secs = n.checked_mul(unit_secs).ok_or_else(bad)?;
    let d = Duration::from_secs(secs);
    if d.is_zero() || d > MAX_SPAN {
        return Err(Error::invalid_input(format!(
            "{s:?}: a span must be more than zero and at most ten years"
        )));
    }
    Ok(d)
}

/// A policy as written in `[[policies]]` or given on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PolicyConfig {
    /// Names the policy in the audit log and the window.
    #[serde(default)]
    pub name: String,
    /// End sessions without activity for longer than this (`8h`).
    #[serde(default)]
    pub idle_over: Option<String>,
    /// End sessions created longer ago than this (`30d`).
    #[serde(default)]
    pub older_than: Option<String>,
    /// Only these tenants (none named and no tags: every tenant).
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Only tenants with any of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Users (name, address or person) whose sessions are never ended by the policy.
    #[serde(default)]
    pub except: Vec<String>,
    /// Run on this schedule (`1h`) in the app and `vigil watch`; absent: only by hand.
    #[serde(default)]
    pub every: Option<String>,
}

/// A checked policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    pub idle_over: Option<Duration>,
    pub older_than: Option<Duration>,
    pub tenants: Vec<String>,
    pub tags: Vec<String>,
    /// Folded: compared with user names, addresses and person keys.
    pub except: BTreeSet<String>,
    pub every: Option<Duration>,
}

impl PolicyConfig {
    pub fn parse(&self) -> Result<Policy> {
        let name = if self.name.trim().is_empty() {
            "policy".to_owned()
        } else {
            self.name.trim().to_owned()
        };
        let ctx = |e: Error| e.context(format!("policy '{name}'"));
        let idle_over = self
            .idle_over
            .as_deref()
            .map(parse_span)
            .transpose()
            .map_err(ctx)?;
        let older_than = self
            .older_than
            .as_deref()
            .map(parse_span)
            .transpose()
            .map_err(ctx)?;
        if idle_over.is_none() && older_than.is_none() {
            return Err(ctx(Error::invalid_input(
                "say which sessions to end: idle_over (e.g. 8h) and/or older_than (e.g. 30d)",
            )));
        }
        let every = self
            .every
            .as_deref()
            .map(parse_span)
            .transpose()
            .map_err(ctx)?;
        if every.is_some_and(|e| e < MIN_EVERY) {
            return Err(ctx(Error::invalid_input("every: at least 1m")));
        }
        Ok(Policy {
            name,
            idle_over,
            older_than,
            tenants: self.tenants.clone(),
            tags: self.tags.clone(),
            except: self
                .except
                .iter()
                .map(|u| fold(u))
                .filter(|u| !u.is_empty())
                .collect(),
            every,
        })
    }
}

impl Policy {
    /// The tenants the policy applies to, out of `(name, tags)` of every tenant.
    pub fn scope<'a>(
        &self,
        tenants: impl IntoIterator<Item = (&'a str, &'a [String])>,
    ) -> BTreeSet<String> {
        tenants
            .into_iter()
            .filter(|(name, tags)| {
                (self.tenants.is_empty() && self.tags.is_empty())
                    || self.tenants.iter().any(|t| t == name)
                    || tags.iter().any(|t| self.tags.contains(t))
            })
            .map(|(name, _)| name.to_owned())
            .collect()
    }
}

/// One session a policy looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PolicyItem {
    pub tenant: String,
    pub session_id: String,
    pub user_id: String,
    pub username: String,
    pub created_at: Option<DateTime<Utc>>,
    pub last_activity_at: Option<DateTime<Utc>>,
    /// Why it is ended ("idle 9h 12m", "older than 30d"), or why it is spared.
    pub reason: String,
}

/// What a policy ends now, and what it spares that it would otherwise end.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Selection {
    pub policy: String,
    pub at: Option<DateTime<Utc>>,
    pub tenants: Vec<String>,
    pub end: Vec<PolicyItem>,
    pub spared: Vec<PolicyItem>,
}

fn span_text(d: chrono::Duration) -> String {
    let m = d.num_minutes().max(0);
    match (m / 1440, (m % 1440) / 60, m % 60) {
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// Why `s` is due under `p` at `now`, if it is.
fn due(p: &Policy, s: &Session, now: DateTime<Utc>) -> Option<String> {
    let older = |d: Duration| {
        chrono::Duration::from_std(d)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
    };
    let mut why = Vec::new();
    if let (Some(limit), Some(active)) = (p.idle_over.and_then(older), s.last_activity_at)
        && active < limit
    {
        why.push(format!("idle {}", span_text(now - active)));
    }
    if let (Some(limit), Some(created)) = (p.older_than.and_then(older), s.created_at)
        && created < limit
    {
        why.push(format!("{} old", span_text(now - created)));
    }
    (!why.is_empty()).then(|| why.join(", "))
}

/// What `policy` ends in `scope` at `now`, from what the store holds.
pub fn select(
    policy: &Policy,
    scope: &BTreeSet<String>,
    store: &SessionStore,
    people: &PeopleConfig,
    now: DateTime<Utc>,
) -> Selection {
    let mut sel = Selection {
        policy: policy.name.clone(),
        at: Some(now),
        tenants: scope.iter().cloned().collect(),
        ..Default::default()
    };
    store.for_each_session(|s| {
        if !scope.contains(&*s.tenant) {
            return;
        }
        let item = |reason: String| PolicyItem {
            tenant: s.tenant.to_string(),
            session_id: s.id.to_string(),
            user_id: s.user_id.to_string(),
            username: s.username.to_string(),
            created_at: s.created_at,
            last_activity_at: s.last_activity_at,
            reason,
        };
        let Some(why) = due(policy, s, now) else {
            if policy.idle_over.is_some()
                && policy.older_than.is_none()
                && s.last_activity_at.is_none()
            {
                sel.spared
                    .push(item("the tenant reports no last activity".to_owned()));
            }
            return;
        };
        let excepted = || {
            policy.except.contains(&fold(&s.username))
                || s.email
                    .as_deref()
                    .is_some_and(|e| policy.except.contains(&fold(e)))
                || policy.except.contains(&people.person_of_session(s).0)
        };
        let spare = if s.current {
            Some("Vigil's own session".to_owned())
        } else if s.protected || s.superuser {
            Some(format!("{why}; a protected account"))
        } else if excepted() {
            Some(format!("{why}; on the policy's exception list"))
        } else {
            None
        };
        match spare {
            Some(r) => sel.spared.push(item(r)),
            None => sel.end.push(item(why)),
        }
    });
    let order = |a: &PolicyItem, b: &PolicyItem| {
        (
            a.tenant.as_str(),
            a.username.as_str(),
            a.session_id.as_str(),
        )
            .cmp(&(
                b.tenant.as_str(),
                b.username.as_str(),
                b.session_id.as_str(),
            ))
    };
    sel.end.sort_by(order);
    sel.spared.sort_by(order);
    sel
}

/// Ends exactly the sessions of `selection`, audited (the action guards apply again).
pub async fn run(engine: &Engine, selection: &Selection) -> ActionReport {
    let targets = selection
        .end
        .iter()
        .map(|i| SessionRef {
            tenant: i.tenant.clone(),
            session_id: i.session_id.clone(),
        })
        .collect();
    engine.act(ActionKind::EndSession, targets).await
}

/// Runs scheduled policies when they are due; the shells call [`Schedule::tick`] often
/// (every few seconds) and it does the rest.
#[derive(Default)]
pub struct Schedule {
    last: std::collections::HashMap<String, std::time::Instant>,
}

/// What a policy selected and what ending it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PolicyRun {
    pub selection: Selection,
    pub report: ActionReport,
}

/// One scheduled run: the policy's name, what it selected and the action's report.
pub struct ScheduledRun {
    pub selection: Selection,
    pub report: ActionReport,
}

impl Schedule {
    /// Runs each policy whose `every` has passed since its last run (the first run comes
    /// one period after start, so a fresh store is never judged half-polled).
    pub async fn tick(
        &mut self,
        engine: &Engine,
        policies: &[(Policy, BTreeSet<String>)],
        people: &PeopleConfig,
    ) -> Vec<ScheduledRun> {
        self.tick_at(engine, policies, people, std::time::Instant::now())
            .await
    }

    /// [`Schedule::tick`] as if it were `now`.
    pub async fn tick_at(
        &mut self,
        engine: &Engine,
        policies: &[(Policy, BTreeSet<String>)],
        people: &PeopleConfig,
        now: std::time::Instant,
    ) -> Vec<ScheduledRun> {
        let mut runs = Vec::new();
        for (p, scope) in policies {
            let Some(every) = p.every else { continue };
            let last = *self.last.entry(p.name.clone()).or_insert(now);
            if now.saturating_duration_since(last) < every {
                continue;
            }
            self.last.insert(p.name.clone(), now);
            let selection = select(p, scope, engine.store(), people, Utc::now());
            if selection.end.is_empty() {
                continue;
            }
            let report = run(engine, &selection).await;
            runs.push(ScheduledRun { selection, report });
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_parse_and_nonsense_is_refused() {
        assert_eq!(parse_span("8h").ok(), Some(Duration::from_secs(8 * 3600)));
        assert_eq!(
            parse_span(" 30d ").ok(),
            Some(Duration::from_secs(30 * 86_400))
        );
        for bad in [
            "",
            "h",
            "8",
            "8x",
            "-1h",
            "0m",
            "99999999999999999999d",
            "18446744073709551615w",
        ] {
            assert!(parse_span(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_policy_says_what_to_end() {
        let p = PolicyConfig {
            name: "night".into(),
            ..Default::default()
        };
        assert!(p.parse().is_err());
        let p = PolicyConfig {
            idle_over: Some("8h".into()),
            every: Some("10s".into()),
            ..Default::default()
        };
        assert!(p.parse().is_err(), "every below a minute");
    }

    #[test]
    fn scope_by_names_and_tags() {
        let p = PolicyConfig {
            idle_over: Some("8h".into()),
            tenants: vec!["a".into()],
            tags: vec!["eu".into()],
            ..Default::default()
        }
        .parse()
        .unwrap();
        let eu = ["eu".to_owned()];
        let none: Vec<String> = Vec::new();
        let scope = p.scope([("a", &none[..]), ("b", &eu[..]), ("c", &none[..])]);
        assert_eq!(scope.into_iter().collect::<Vec<_>>(), ["a", "b"]);
    }
}
