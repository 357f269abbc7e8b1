//! RFC 3339 timestamps on the wire, decoded fast: a listing of 100,000 sessions carries
//! 300,000 of them. The common shape (`2025-03-14T09:26:53.123Z`, or with a `±HH:MM`
//! offset) is read directly; anything else goes to chrono's parser, which decides what is
//! valid and words the error.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use serde::Deserializer;
use serde::de::{self, Visitor};

/// Parses an RFC 3339 timestamp into UTC.
pub fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match fast(s.as_bytes()) {
        Some(t) => Ok(t),
        None => s
            .parse::<DateTime<FixedOffset>>()
            .map(|t| t.with_timezone(&Utc)),
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; none for anything else (including leap
/// seconds and fractions finer than nanoseconds), which chrono then handles.
fn fast(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(digits(&b[0..4])?).ok()?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )?;
    let (h, m, sec) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let mut rest = &b[19..];
    let mut nanos = 0;
    if let Some(frac) = rest.strip_prefix(b".") {
        let len = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 || len > 9 {
            return None;
        }
        nanos = digits(&frac[..len])? * 10u32.pow(9 - u32::try_from(len).ok()?);
        rest = &frac[len..];
    }
    let offset_secs = match rest {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), oh1, oh2, b':', om1, om2] => {
            let (oh, om) = (digits(&[*oh1, *oh2])?, digits(&[*om1, *om2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = i64::from(oh * 3600 + om * 60);
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(h, m, sec.min(59), nanos)?;
    if sec > 59 {
        return None;
    }
    let local = NaiveDateTime::new(date, time);
    let utc = local.checked_sub_signed(TimeDelta::seconds(offset_secs))?;
    Some(utc.and_utc())
}

struct TimeVisitor;

impl Visitor<'_> for TimeVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date and time")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse(v).map_err(E::custom)
    }
}

struct OptionVisitor;

impl<'de> Visitor<'de> for OptionVisitor {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date and time, or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(TimeVisitor).map(Some)
    }
}

/// `#[serde(deserialize_with = "crate::wire_time::option")]` for `Option<DateTime<Utc>>`.
pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    d.deserialize_option(OptionVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chrono(s: &str) -> Option<DateTime<Utc>> {
        s.parse::<DateTime<FixedOffset>>()
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    #[test]
    fn the_common_shapes_read_as_chrono_reads_them() {
        for s in [
            "2025-03-14T09:26:53Z",
            "2025-03-14T09:26:53.1Z",
            "2025-03-14T09:26:53.123456789Z",
            "2025-03-14T09:26:53+05:30",
            "2025-03-14T00:10:00-08:00",
            "2024-02-29T23:59:59.999+14:00",
            "1970-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert!(fast(s.as_bytes()).is_some(), "{s} takes the fast path");
            assert_eq!(parse(s).ok(), chrono(s), "{s}");
        }
    }

    #[test]
    fn anything_else_is_chronos_to_judge() {
        for s in [
            "2025-03-14 09:26:53Z",
            "2025-03-14t09:26:53z",
            "2016-12-31T23:59:60Z",
            "2025-03-14T09:26:53.1234567891Z",
            "2025-02-30T09:26:53Z",
            "2025-03-14T24:00:00Z",
            "2025-03-14T09:26:53",
            "2025-03-14T09:26:53+24:00",
            "2025-03-14T09:26:53.Z",
            "２０２５-03-14T09:26:53Z",
            "",
            "not a time",
        ] {
            assert_eq!(parse(s).ok(), chrono(s), "{s}");
        }
    }

    #[test]
    fn options_decode_from_json() {
        #[derive(serde::Deserialize)]
        struct T {
            #[serde(default, deserialize_with = "option")]
            at: Option<DateTime<Utc>>,
        }
        let t: T = serde_json::from_str(r#"{"at": "2025-03-14T09:26:53Z"}"#).unwrap();
        assert_eq!(t.at, chrono("2025-03-14T09:26:53Z"));
        let t: T = serde_json::from_str(r#"{"at": null}"#).unwrap();
        assert_eq!(t.at, None);
        let t: T = serde_json::from_str("{}").unwrap();
        assert_eq!(t.at, None);
        let t: T = serde_json::from_str(r#"{"at": "2025-03-14T09:26:53\u002B01:00"}"#).unwrap();
        assert_eq!(t.at, chrono("2025-03-14T09:26:53+01:00"), "escaped text");
        assert!(serde_json::from_str::<T>(r#"{"at": 12}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"at": "yesterday"}"#).is_err());
    }

    proptest! {
        #[test]
        fn fast_and_chrono_agree_on_any_timestamp_shape(
            y in 0u32..10_000, mo in 0u32..14, d in 0u32..33, h in 0u32..26, mi in 0u32..61,
            s in 0u32..62, frac in proptest::option::of("[0-9]{0,11}"),
            zone in prop_oneof![Just("Z".to_owned()), "[+-][0-9]{2}:[0-9]{2}", Just("z".to_owned())],
        ) {
            let text = format!(
                "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{}{zone}",
                frac.map(|f| format!(".{f}")).unwrap_or_default()
            );
            prop_assert_eq!(parse(&text).ok(), chrono(&text), "{}", text);
        }
    }
}
