//! Tuning alerts the way a security team does (`[alerts]` in the config file): trusted
//! networks the network rules ignore, exclusions of users or rules with a reason and an
//! optional expiry, rules turned off per tenant or tag, and merging a user's alerts within
//! a window into one. What tuning silences is still stored, marked "suppressed by …",
//! for the alert centre's "all" view.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::alerts::{Alert, Rule};
use crate::error::{Error, Result};
use crate::routing::{RouteConfig, in_scope};

/// A network the several-networks, new-IP and impossible-travel rules ignore (VPN
/// egress, an office).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct TrustedNetwork {
    pub name: String,
    /// CIDRs, e.g. `203.0.113.0/24`, `2001:db8::/32`.
    pub cidrs: Vec<String>,
    /// Tenants (and tags) it applies to; both empty: every tenant.
    pub tenants: Vec<String>,
    pub tags: Vec<String>,
}

/// Alerts of a user (or of everyone), for some rules (or all), silenced with a reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct Exclusion {
    /// User name, user id or e-mail address (any case); empty: every user.
    pub user: String,
    /// Empty: every rule.
    pub rules: Vec<Rule>,
    pub tenants: Vec<String>,
    pub tags: Vec<String>,
    /// Why: shown on every alert it silences.
    pub reason: String,
    /// `YYYY-MM-DD` (through that day, UTC) or an RFC 3339 time; empty: no expiry.
    pub until: String,
}

/// Rules turned off (and a merge window) for some tenants or tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct RuleScope {
    pub tenants: Vec<String>,
    pub tags: Vec<String>,
    pub off: Vec<Rule>,
    /// Overrides `[alerts] merge_minutes` for these tenants.
    pub merge_minutes: Option<u32>,
}

/// The longest merge window, in minutes (a day).
pub const MAX_MERGE_MINUTES: u32 = 24 * 60;

/// `[alerts]` of the config file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default, deny_unknown_fields)]
#[ts(export)]
pub struct AlertsFile {
    /// A user's alerts within this many minutes of an earlier one merge into it; 0: off.
    pub merge_minutes: u32,
    pub routes: Vec<RouteConfig>,
    pub trusted_networks: Vec<TrustedNetwork>,
    pub exclusions: Vec<Exclusion>,
    pub rules: Vec<RuleScope>,
}

fn parse_until(s: &str) -> Option<DateTime<Utc>> {
    if s.is_empty() {
        return None;
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d
            .succ_opt()
            .and_then(|n| n.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

impl AlertsFile {
    /// Checks every part; the error names what is wrong.
    pub fn validate(&self) -> Result<()> {
        crate::routing::validate_all(&self.routes)?;
        if self.merge_minutes > MAX_MERGE_MINUTES {
            return Err(Error::config(
                "[alerts] merge_minutes: at most 1440 (a day)",
            ));
        }
        for n in &self.trusted_networks {
            if n.cidrs.is_empty() {
                return Err(Error::config(format!(
                    "trusted network '{}': cidrs: at least one network",
                    n.name
                )));
            }
            for c in &n.cidrs {
                c.parse::<ipnet::IpNet>().map_err(|e| {
                    Error::config(format!(
                        "trusted network '{}': cidrs: '{}': {e}",
                        n.name,
                        crate::text::visible(c)
                    ))
                })?;
            }
        }
        for x in &self.exclusions {
            if x.reason.trim().is_empty() {
                return Err(Error::config(format!(
                    "exclusion of '{}': reason: say why (it is shown on every alert it silences)",
                    x.user
                )));
            }
            if !x.until.is_empty() && parse_until(&x.until).is_none() {
                return Err(Error::config(format!(
                    "exclusion of '{}': until: '{}' is neither YYYY-MM-DD nor an RFC 3339 time",
                    x.user,
                    crate::text::visible(&x.until)
                )));
            }
            if x.user.is_empty() && x.rules.is_empty() {
                return Err(Error::config(
                    "an exclusion needs a user or rules (one of everyone for every rule silences all alerts)",
                ));
            }
        }
        for r in &self.rules {
            if r.merge_minutes.is_some_and(|m| m > MAX_MERGE_MINUTES) {
                return Err(Error::config(
                    "[[alerts.rules]] merge_minutes: at most 1440 (a day)",
                ));
            }
        }
        Ok(())
    }

    /// The tuning of one tenant.
    pub fn for_tenant(&self, tenant: &str, tags: &[String]) -> Tuning {
        let mut t = Tuning {
            merge: (self.merge_minutes > 0)
                .then(|| chrono::Duration::minutes(i64::from(self.merge_minutes))),
            ..Default::default()
        };
        for n in &self.trusted_networks {
            if in_scope(&n.tenants, &n.tags, tenant, tags) {
                for c in &n.cidrs {
                    if let Ok(net) = c.parse::<ipnet::IpNet>() {
                        t.trusted.push((net, n.name.clone()));
                    }
                }
            }
        }
        for x in &self.exclusions {
            if in_scope(&x.tenants, &x.tags, tenant, tags) {
                t.exclusions.push(x.clone());
            }
        }
        for r in &self.rules {
            if in_scope(&r.tenants, &r.tags, tenant, tags) {
                t.off.extend(r.off.iter().copied());
                if let Some(m) = r.merge_minutes {
                    t.merge = (m > 0).then(|| chrono::Duration::minutes(i64::from(m)));
                }
            }
        }
        t
    }
}

/// How a tenant's sessions are judged: its rule settings, working hours and tuning.
#[derive(Debug, Clone, Default)]
pub struct AlertConfig {
    pub settings: crate::alerts::AlertSettings,
    pub calendar: Option<crate::calendar::WorkingCalendar>,
    pub tuning: Tuning,
}

impl AlertConfig {
    /// `settings` with the rules `tuning` turns off muted.
    pub fn new(
        mut settings: crate::alerts::AlertSettings,
        calendar: Option<crate::calendar::WorkingCalendar>,
        tuning: Tuning,
    ) -> Self {
        for r in &tuning.off {
            if !settings.muted.contains(r) {
                settings.muted.push(*r);
            }
        }
        Self {
            settings,
            calendar,
            tuning,
        }
    }
}

/// The tuning in force for one tenant.
#[derive(Debug, Clone, Default)]
pub struct Tuning {
    pub trusted: Vec<(ipnet::IpNet, String)>,
    pub exclusions: Vec<Exclusion>,
    pub off: Vec<Rule>,
    pub merge: Option<chrono::Duration>,
}

impl Tuning {
    /// The name of the trusted network an address is in.
    pub fn trusted(&self, ip: &str) -> Option<&str> {
        let ip: std::net::IpAddr = ip.parse().ok()?;
        self.trusted
            .iter()
            .find(|(net, _)| net.contains(&ip))
            .map(|(_, name)| name.as_str())
    }

    /// Applies the exclusions in force at `now` to `alert` (with the user's id and
    /// e-mail address when known): rules excluded are taken out; when none is left, the
    /// alert is marked suppressed with the exclusion's reason.
    pub fn exclude(
        &self,
        alert: &mut Alert,
        user_id: Option<&str>,
        email: Option<&str>,
        now: DateTime<Utc>,
    ) {
        if alert.suppressed_by.is_some() {
            return;
        }
        let names: Vec<String> = [alert.username.as_deref(), user_id, email]
            .into_iter()
            .flatten()
            .map(str::to_lowercase)
            .collect();
        let mut reasons = Vec::new();
        for x in &self.exclusions {
            if parse_until(&x.until).is_some_and(|u| u <= now) {
                continue;
            }
            if !x.user.is_empty() && !names.contains(&x.user.to_lowercase()) {
                continue;
            }
            let before = alert.rules.len();
            if x.rules.is_empty() {
                alert.rules.clear();
            } else {
                alert.rules.retain(|r| !x.rules.contains(r));
            }
            if alert.rules.len() < before {
                let who = if x.user.is_empty() {
                    "everyone".to_owned()
                } else {
                    x.user.clone()
                };
                let until = if x.until.is_empty() {
                    String::new()
                } else {
                    format!(", until {}", x.until)
                };
                reasons.push(format!("exclusion of {who}: {}{until}", x.reason));
            }
            if alert.rules.is_empty() {
                break;
            }
        }
        match alert.rules.first() {
            Some(first) => alert.rule = *first,
            None => alert.suppressed_by = Some(reasons.join("; ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(user: &str, rules: &[Rule]) -> Alert {
        let mut a =
            crate::alerts::tenant_problem("acme", &Error::config("x").payload(), Utc::now());
        a.username = Some(user.into());
        a.rules = rules.to_vec();
        a.rule = rules[0];
        a
    }

    #[test]
    fn exclusions_take_rules_out_until_they_expire() {
        let file = AlertsFile {
            exclusions: vec![
                Exclusion {
                    user: "svc-backup".into(),
                    rules: vec![Rule::OddHours],
                    reason: "the backup job runs at night".into(),
                    until: "2030-01-31".into(),
                    ..Default::default()
                },
                Exclusion {
                    user: "Old".into(),
                    reason: "left".into(),
                    until: "2020-01-01".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        file.validate().unwrap();
        let t = file.for_tenant("acme", &[]);
        let now = Utc::now();
        let mut a = alert("SVC-Backup", &[Rule::OddHours]);
        t.exclude(&mut a, None, None, now);
        assert_eq!(
            a.suppressed_by.as_deref(),
            Some("exclusion of svc-backup: the backup job runs at night, until 2030-01-31")
        );
        let mut b = alert("svc-backup", &[Rule::SuperuserSignIn, Rule::OddHours]);
        t.exclude(&mut b, None, None, now);
        assert_eq!(
            (b.suppressed_by, b.rules),
            (None, vec![Rule::SuperuserSignIn])
        );
        let mut c = alert("old", &[Rule::OddHours]);
        t.exclude(&mut c, None, None, now);
        assert!(
            c.suppressed_by.is_none(),
            "an expired exclusion silences nothing"
        );
    }

    #[test]
    fn scopes_pick_networks_rules_and_merge_windows() {
        let file = AlertsFile {
            merge_minutes: 10,
            trusted_networks: vec![TrustedNetwork {
                name: "office".into(),
                cidrs: vec!["203.0.113.0/24".into()],
                tags: vec!["prod".into()],
                ..Default::default()
            }],
            rules: vec![RuleScope {
                tenants: vec!["lab".into()],
                off: vec![Rule::NewIp],
                merge_minutes: Some(0),
                ..Default::default()
            }],
            ..Default::default()
        };
        file.validate().unwrap();
        let prod = file.for_tenant("acme", &["prod".into()]);
        assert_eq!(prod.trusted("203.0.113.9"), Some("office"));
        assert_eq!(prod.trusted("198.51.100.1"), None);
        assert_eq!(prod.merge, Some(chrono::Duration::minutes(10)));
        let lab = file.for_tenant("lab", &[]);
        assert!(lab.trusted.is_empty());
        assert_eq!((lab.off, lab.merge), (vec![Rule::NewIp], None));
        let bad = AlertsFile {
            trusted_networks: vec![TrustedNetwork {
                name: "x".into(),
                cidrs: vec!["10.0.0.0/33".into()],
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .message
                .contains("trusted network 'x'")
        );
        let no_reason = AlertsFile {
            exclusions: vec![Exclusion {
                user: "a".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(no_reason.validate().unwrap_err().message.contains("reason"));
    }
}
