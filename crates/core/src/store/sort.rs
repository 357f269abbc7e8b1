//! Sort keys and windowing: the sorted window of a query without sorting every row.

use super::*;

/// A row with its sort key: (kind of value, value, sequence number, row). Kinds order
/// known values before unknown ones in ascending order.
pub(super) type Keyed<'a> = (u8, u128, u64, &'a Row);

/// How a row's sort key is computed.
pub(super) type KeyFn<'a> = Box<dyn Fn(&Row) -> (u8, u128) + 'a>;

/// Unknown values: after every known one in ascending order.
pub(super) const UNKNOWN: u8 = 9;

pub(super) fn sort_keys<'a>(rows: Vec<&'a Row>, col: SortColumn, inner: &Inner) -> Vec<Keyed<'a>> {
    let time = |t: Option<DateTime<Utc>>| match t {
        // Order-preserving map of a signed timestamp onto an unsigned key.
        Some(t) => (
            0,
            (i128::from(t.timestamp_micros()) - i128::from(i64::MIN)) as u128,
        ),
        None => (UNKNOWN, 0),
    };
    let key: KeyFn<'_> = match col {
        SortColumn::CreatedAt => Box::new(move |r| time(r.created_at)),
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
pub(super) fn window<T, F>(rows: &mut [T], offset: usize, limit: usize, cmp: F) -> &[T]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::*;

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
            s.user_agent = (!i.is_multiple_of(17)).then(|| format!("Agent/{round}.{i}").into());
            s.department = (!i.is_multiple_of(4))
                .then(|| ["Finance", "finance", "Ops", "HR"][(i % 4) as usize].into());
            s.server_name = (i.is_multiple_of(6)).then(|| format!("srv{}", i % 3).into());
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
        let mut renamed = User::new("u-Uuser2", "Aaron");
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
            Ok(page.rows.iter().map(|s| s.id.to_string()).collect())
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
}
