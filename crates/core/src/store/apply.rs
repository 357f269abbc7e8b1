//! Applying a poll to a tenant's rows: a full listing or a change feed's delta.

use super::*;

pub(super) fn apply_full(
    current: &mut Map<Text, Row>,
    mut sessions: Vec<Session>,
    dicts: &mut Dicts,
) -> Diff {
    let mut diff = Diff::default();
    let mut next: Map<Text, Row> = Map::with_capacity_and_hasher(sessions.len(), Hasher::default());
    let mut derived = derive_changed(&sessions, current, dicts.search);
    // New rows take sequence numbers in the listing's order (equal keys sort that way).
    let count = u64::try_from(sessions.len()).unwrap_or(u64::MAX);
    let base = NEXT_SEQ.fetch_add(count, std::sync::atomic::Ordering::Relaxed);
    // From the back: the listing's memory is given back as its sessions move into rows
    // (a large listing would otherwise be held twice at the peak, as sessions and as
    // rows), and the first copy met of a session listed twice is its last, which wins.
    while let Some(s) = sessions.pop() {
        let d = derived.pop().flatten();
        let at = sessions.len();
        if at.is_multiple_of(RELEASE_EVERY) {
            sessions.shrink_to_fit();
            derived.shrink_to_fit();
        }
        if next.contains_key(&*s.id) {
            continue; // an earlier copy of a session the listing repeats
        }
        let row = match current.remove(&s.id) {
            None => {
                let d = d.unwrap_or_else(|| Derived::of(&s, dicts.search));
                let seq = base.saturating_add(u64::try_from(at).unwrap_or(u64::MAX));
                let row = Row::from_parts(s, seq, d, dicts);
                diff.started.push(Arc::clone(&row.session));
                row
            }
            Some(old) if *old.session != s => {
                diff.updated += 1;
                dicts.release(&old.text);
                let d = d.unwrap_or_else(|| Derived::of(&s, dicts.search));
                Row::from_parts(s, old.seq, d, dicts)
            }
            Some(old) => old,
        };
        next.insert(Text::clone(&row.session.id), row);
    }
    // In the listing's order (a repeated session at its last place).
    diff.started.reverse();
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

/// While a full listing moves into rows, its vector is shrunk every this many sessions:
/// the system takes back the tail of a large allocation in place.
const RELEASE_EVERY: usize = 8192;

/// Applies a delta; also returns the sessions that changed user: (previous user, id).
pub(super) fn apply_delta(
    current: &mut Map<Text, Row>,
    upserted: Vec<Session>,
    ended: Vec<String>,
    users: &[User],
    dicts: &mut Dicts,
) -> (Diff, Vec<(Text, Text)>) {
    let mut diff = Diff::default();
    let mut moved = Vec::new();
    if !users.is_empty() {
        let by_id: HashMap<&str, &User> = users.iter().map(|u| (&*u.id, u)).collect();
        for row in current.values_mut() {
            if let Some(u) = by_id.get(&*row.session.user_id) {
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
                *old = Row::with_seq(s, old.seq, dicts);
                diff.updated += 1;
            }
            None => {
                let row = Row::new(s, dicts);
                diff.started.push(Arc::clone(&row.session));
                current.insert(Text::clone(&row.session.id), row);
            }
        }
    }
    for id in ended {
        if let Some(r) = current.remove(id.as_str()) {
            dicts.release(&r.text);
            diff.ended.push(r.session);
        }
    }
    (diff, moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::*;

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
            .map(|s| (&*s.id, s.ip.as_deref()))
            .collect();
        assert_eq!(started, [("2", Some("10.0.0.3")), ("1", Some("10.0.0.2"))]);
        let page = store.query_all(&SessionQuery::default())?;
        assert_eq!(page.total, 2);
        assert_eq!(
            store.get("t", "1").and_then(|s| s.ip),
            Some("10.0.0.2".into())
        );
        Ok(())
    }

    #[test]
    fn a_known_session_listed_twice_is_judged_by_its_last_copy() -> Result<()> {
        let store = SessionStore::new();
        store.register_tenant(&Arc::from("t"), ConnectorKind::Vigil);
        let known = session("t", "1", "alice", "10.0.0.1", false, 1);
        store.apply("t", PollUpdate::Full(vec![known.clone()]), Duration::ZERO)?;
        let moved = session("t", "1", "alice", "10.0.0.2", false, 1);
        let diff = store.apply("t", PollUpdate::Full(vec![moved, known]), Duration::ZERO)?;
        // The last copy is the one the store had: nothing started, nothing changed.
        assert!(diff.started.is_empty(), "{:?}", diff.started);
        assert_eq!((diff.updated, diff.ended.len()), (0, 0));
        assert_eq!(
            store.get("t", "1").and_then(|s| s.ip),
            Some("10.0.0.1".into())
        );
        Ok(())
    }

    #[test]
    fn a_large_listing_keeps_its_order_for_equal_keys_and_every_session() -> Result<()> {
        let store = SessionStore::new();
        store.register_tenant(&Arc::from("t"), ConnectorKind::Vigil);
        // More than a few release steps, all with the same start time.
        let n = RELEASE_EVERY * 3 + 17;
        let listing: Vec<Session> = (0..n)
            .map(|i| session("t", &format!("s{i:06}"), "alice", "10.0.0.1", false, 1))
            .collect();
        let diff = store.apply("t", PollUpdate::Full(listing), Duration::ZERO)?;
        assert_eq!(diff.started.len(), n);
        assert!(
            diff.started.windows(2).all(|w| w[0].id < w[1].id),
            "listing order"
        );
        let page = store.query_all(&SessionQuery {
            descending: false,
            ..SessionQuery::default()
        })?;
        assert_eq!(page.total, n);
        // Equal start times: the listing's order.
        assert!(page.rows.windows(2).all(|w| w[0].id < w[1].id));
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
            diff.started.iter().map(|s| &*s.id).collect::<Vec<_>>(),
            ["3"]
        );
        assert_eq!(diff.ended.iter().map(|s| &*s.id).collect::<Vec<_>>(), ["1"]);
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
            .map(|s| s.id.to_string())
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
