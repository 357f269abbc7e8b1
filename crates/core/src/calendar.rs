//! A tenant's working week: `mon-fri 08:00-18:00; sat 09:00-12:00`, plus holidays, in
//! the tenant's own timezone. Odd-hours alerts ask [`WorkingCalendar::is_working_time`].

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::error::{Error, Result};

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

/// Working hours per weekday (index 0 = Monday). Ranges are `[start, end)`; an end of
/// `24:00` (or `00:00` after the start) means midnight.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkingHours {
    days: [Vec<(NaiveTime, Option<NaiveTime>)>; 7],
}

impl WorkingHours {
    /// Parses `DAYS RANGES[; DAYS RANGES]...`, where DAYS is `mon`, `mon-fri` or
    /// `mon,wed,fri` and RANGES is `08:00-12:00,13:00-17:00`.
    pub fn parse(spec: &str) -> Result<Self> {
        let mut hours = Self::default();
        let bad = |why: String| Error::invalid_input(format!("working hours {spec:?}: {why}"));
        for clause in spec.split(';').map(str::trim).filter(|c| !c.is_empty()) {
            let (days, ranges) = clause.split_once(char::is_whitespace).ok_or_else(|| {
                bad(format!(
                    "{clause:?} needs days and times, e.g. 'mon-fri 08:00-18:00'"
                ))
            })?;
            let mut selected = Vec::new();
            for part in days.split(',') {
                match part.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (
                            day_index(a).ok_or_else(|| bad(format!("unknown day {a:?}")))?,
                            day_index(b).ok_or_else(|| bad(format!("unknown day {b:?}")))?,
                        );
                        let mut d = a;
                        loop {
                            selected.push(d);
                            if d == b {
                                break;
                            }
                            d = (d + 1) % 7;
                        }
                    }
                    None => selected
                        .push(day_index(part).ok_or_else(|| bad(format!("unknown day {part:?}")))?),
                }
            }
            for range in ranges.split(',').map(str::trim) {
                let (start, end) = range.split_once('-').ok_or_else(|| {
                    bad(format!("{range:?} is not a time range like 08:00-18:00"))
                })?;
                let start =
                    parse_time(start).ok_or_else(|| bad(format!("invalid time {start:?}")))?;
                let end = match end.trim() {
                    "24:00" => None,
                    e => Some(parse_time(e).ok_or_else(|| bad(format!("invalid time {e:?}")))?),
                };
                if end.is_some_and(|e| e <= start && e != NaiveTime::MIN) {
                    return Err(bad(format!("{range:?} ends before it starts")));
                }
                let end = end.filter(|e| *e != NaiveTime::MIN);
                for &d in &selected {
                    hours.days[d].push((start, end));
                }
            }
        }
        Ok(hours)
    }

    /// True when `time` (local wall-clock) on `day` falls inside a working range.
    pub fn contains(&self, day: Weekday, time: NaiveTime) -> bool {
        self.days[day.num_days_from_monday() as usize]
            .iter()
            .any(|(s, e)| time >= *s && e.is_none_or(|e| time < e))
    }
}

fn day_index(s: &str) -> Option<usize> {
    let s = s.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|(name, _)| s.starts_with(name) && name.len() <= s.len())
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

/// Parses an IANA timezone name.
pub fn parse_timezone(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        Error::invalid_input(format!(
            "{name:?} is not an IANA timezone (e.g. Europe/Berlin, America/New_York)"
        ))
    })
}

/// Parses a holiday date (`YYYY-MM-DD`).
pub fn parse_holiday(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::invalid_input(format!("{s:?} is not a date like 2026-12-25")))
}

/// A tenant's working calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkingCalendar {
    pub timezone: Tz,
    pub hours: WorkingHours,
    pub holidays: Vec<NaiveDate>,
}

impl WorkingCalendar {
    /// From config values; no hours means no calendar (nothing is "odd hours").
    pub fn from_parts(
        timezone: Option<&str>,
        hours: Option<&str>,
        holidays: &[String],
    ) -> Result<Option<Self>> {
        let Some(hours) = hours.filter(|h| !h.trim().is_empty()) else {
            return Ok(None);
        };
        Ok(Some(Self {
            timezone: parse_timezone(timezone.unwrap_or("UTC"))?,
            hours: WorkingHours::parse(hours)?,
            holidays: holidays
                .iter()
                .map(|h| parse_holiday(h))
                .collect::<Result<_>>()?,
        }))
    }

    /// Whether `at` is inside working hours in the tenant's timezone (DST handled by chrono-tz).
    pub fn is_working_time(&self, at: DateTime<Utc>) -> bool {
        let local = self.timezone.from_utc_datetime(&at.naive_utc());
        !self.holidays.contains(&local.date_naive())
            && self.hours.contains(local.weekday(), local.time())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
    }

    #[test]
    fn parses_days_and_ranges() -> Result<()> {
        let w = WorkingHours::parse("mon-fri 08:00-12:00,13:00-18:00; sat 09:00-24:00")?;
        assert!(w.contains(Weekday::Mon, t(8, 0)));
        assert!(!w.contains(Weekday::Mon, t(12, 30)));
        assert!(!w.contains(Weekday::Fri, t(18, 0)));
        assert!(w.contains(Weekday::Sat, t(23, 59)));
        assert!(!w.contains(Weekday::Sun, t(10, 0)));
        let w = WorkingHours::parse("fri-mon 22:00-24:00")?;
        assert!(w.contains(Weekday::Sun, t(23, 0)) && !w.contains(Weekday::Wed, t(23, 0)));
        assert!(WorkingHours::parse("")?.days.iter().all(Vec::is_empty));
        Ok(())
    }

    #[test]
    fn rejects_nonsense_with_the_reason() {
        for (spec, why) in [
            ("mon-fri", "needs days and times"),
            ("xyz 08:00-10:00", "unknown day"),
            ("mon 8-10", "invalid time"),
            ("mon 10:00-08:00", "ends before it starts"),
            ("mon 10:00", "not a time range"),
        ] {
            let e = WorkingHours::parse(spec)
                .err()
                .map(|e| e.message)
                .unwrap_or_default();
            assert!(e.contains(why), "{spec}: {e}");
        }
    }

    #[test]
    fn calendar_uses_the_tenant_timezone_and_holidays() -> Result<()> {
        let cal = WorkingCalendar {
            timezone: parse_timezone("Europe/Berlin")?,
            hours: WorkingHours::parse("mon-fri 08:00-18:00")?,
            holidays: vec![parse_holiday("2026-12-25")?],
        };
        // 07:30 UTC in winter is 08:30 in Berlin: working time on a Tuesday.
        let at = |s: &str| DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc));
        assert!(cal.is_working_time(
            at("2026-12-01T07:30:00Z").map_err(|e| Error::internal(e.to_string()))?
        ));
        assert!(!cal.is_working_time(
            at("2026-12-01T06:30:00Z").map_err(|e| Error::internal(e.to_string()))?
        ));
        // Summer time: 06:30 UTC is 08:30 CEST.
        assert!(cal.is_working_time(
            at("2026-07-01T06:30:00Z").map_err(|e| Error::internal(e.to_string()))?
        ));
        // Christmas is a Friday in 2026, and a holiday.
        assert!(!cal.is_working_time(
            at("2026-12-25T10:00:00Z").map_err(|e| Error::internal(e.to_string()))?
        ));
        assert!(parse_timezone("Mars/Base").is_err());
        assert!(parse_holiday("2026-13-01").is_err());
        Ok(())
    }
}
