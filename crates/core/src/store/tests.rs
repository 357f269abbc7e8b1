//! The store's queries: filters, facets, windows.

use super::testing::*;
use super::*;

#[test]
fn a_store_making_search_text_on_demand_answers_as_one_that_keeps_it() -> Result<()> {
    let listing = || {
        let mut a = session("a", "1", "alice", "10.0.0.1", false, 3);
        a.user_agent = Some("Mozilla/5.0 (X11; Linux) Firefox/128".into());
        let mut b = session("a", "2", "Ärger", "10.1.0.1", true, 1);
        b.department = Some("Finance".into());
        vec![a, b, session("b", "3", "carol", "2001:db8::1", false, 2)]
    };
    let kept = store_keeping(SearchText::Kept, listing());
    let on_demand = store_keeping(SearchText::OnDemand, listing());
    for needle in [
        None,
        Some("ali"),
        Some("FIREFOX"),
        Some("ärg"),
        Some("finance"),
        Some("b"),
        Some("zzz"),
    ] {
        let q = SessionQuery::of(SessionFilter {
            search: needle.map(str::to_owned),
            ..Default::default()
        });
        assert_eq!(
            ids(&kept.query(&q)?),
            ids(&on_demand.query(&q)?),
            "{needle:?}"
        );
    }
    let q = SessionQuery::of(SessionFilter {
        search: Some("x11; linux".into()),
        ..Default::default()
    });
    assert_eq!(ids(&on_demand.query(&q)?), ["1"]);
    let inner = on_demand.read();
    assert!(
        inner
            .tenants
            .values()
            .flat_map(|t| t.sessions.values())
            .all(|r| r.search.is_none()),
        "no row keeps its text"
    );
    Ok(())
}

#[test]
fn query_filters_sorts_and_windows() -> Result<()> {
    let store = store_with(vec![
        session("a", "1", "alice", "10.0.0.1", false, 3),
        session("a", "2", "bob", "10.1.0.1", true, 1),
        session("b", "3", "carol", "2001:db8::1", false, 2),
        session("b", "4", "alice", "192.168.1.1", false, 4),
    ]);
    let q = SessionQuery::default();
    assert_eq!(ids(&store.query(&q)?), ["4", "1", "3", "2"]);
    let q = SessionQuery {
        descending: false,
        offset: 1,
        limit: 2,
        ..Default::default()
    };
    let page = store.query(&q)?;
    assert_eq!((page.total, ids(&page)), (4, vec!["3", "1"]));
    let q = SessionQuery {
        filter: SessionFilter {
            search: Some("ALI".into()),
            ..Default::default()
        },
        sort: SortColumn::Tenant,
        descending: false,
        ..Default::default()
    };
    assert_eq!(ids(&store.query(&q)?), ["1", "4"]);
    let q = SessionQuery::of(SessionFilter {
        ip: Some("10.0.0.0/8".into()),
        ..Default::default()
    });
    assert_eq!(ids(&store.query(&q)?), ["1", "2"]);
    let q = SessionQuery::of(SessionFilter {
        ip: Some("2001:db8::/32".into()),
        ..Default::default()
    });
    assert_eq!(ids(&store.query(&q)?), ["3"]);
    let q = SessionQuery::of(SessionFilter {
        superuser_only: true,
        ..Default::default()
    });
    assert_eq!(ids(&store.query(&q)?), ["2"]);
    let q = SessionQuery::of(SessionFilter {
        tenants: vec!["b".into()],
        user: Some("alice".into()),
        ..Default::default()
    });
    assert_eq!(ids(&store.query(&q)?), ["4"]);
    let q = SessionQuery::of(SessionFilter {
        ip: Some("10.0.0.0/99".into()),
        ..Default::default()
    });
    assert!(store.query(&q).is_err());
    Ok(())
}

#[test]
fn every_column_filters() -> Result<()> {
    let mut a = session("a", "1", "alice", "10.0.0.1", false, 3);
    a.session_type = Some("api".into());
    a.protected = true;
    a.expires_at = DateTime::from_timestamp(1_800_000_000, 0);
    let mut b = session("a", "2", "bob", "10.1.0.1", true, 1);
    b.department = Some("Sales".into());
    b.login_type = Some("sso".into());
    b.current = true;
    b.user_agent = Some("curl/8.5".into());
    let mut c = session("b", "3", "carol", "2001:db8::1", false, 2);
    c.first_name = Some("Caroline".into());
    c.server_name = Some("node-7".into());
    c.disabled = true;
    let store = store_with(vec![
        a,
        b,
        c,
        session("b", "4", "alice", "192.168.1.1", false, 4),
    ]);
    let run = |f: SessionFilter| -> Result<Vec<String>> {
        let page = store.query(&SessionQuery {
            descending: false,
            ..SessionQuery::of(f)
        })?;
        Ok(page.rows.into_iter().map(|s| s.id.to_string()).collect())
    };
    let f = SessionFilter::default;
    assert_eq!(
        run(SessionFilter {
            username: Some("LIC".into()),
            ..f()
        })?,
        ["1", "4"]
    );
    assert_eq!(
        run(SessionFilter {
            name: Some("carol".into()),
            ..f()
        })?,
        ["3"]
    );
    assert_eq!(
        run(SessionFilter {
            department: Some("sal".into()),
            ..f()
        })?,
        ["2"]
    );
    assert_eq!(
        run(SessionFilter {
            user_agent: Some("CURL".into()),
            ..f()
        })?,
        ["2"]
    );
    assert_eq!(
        run(SessionFilter {
            server_name: Some("node".into()),
            ..f()
        })?,
        ["3"]
    );
    assert_eq!(
        run(SessionFilter {
            session_id: Some("4".into()),
            ..f()
        })?,
        ["4"]
    );
    assert_eq!(
        run(SessionFilter {
            ip: Some("192.168.".into()),
            ..f()
        })?,
        ["4"]
    );
    assert_eq!(
        run(SessionFilter {
            ip: Some("10.1.0.1".into()),
            ..f()
        })?,
        ["2"]
    );
    assert_eq!(
        run(SessionFilter {
            session_types: vec!["api".into()],
            ..f()
        })?,
        ["1"]
    );
    assert_eq!(
        run(SessionFilter {
            session_types: vec!["api".into(), "ui".into()],
            ..f()
        })?
        .len(),
        4
    );
    assert_eq!(
        run(SessionFilter {
            login_types: vec!["sso".into()],
            ..f()
        })?,
        ["2"]
    );
    assert_eq!(
        run(SessionFilter {
            protected: Some(true),
            ..f()
        })?,
        ["1"]
    );
    assert_eq!(
        run(SessionFilter {
            disabled: Some(true),
            ..f()
        })?,
        ["3"]
    );
    assert_eq!(
        run(SessionFilter {
            current: Some(false),
            ..f()
        })?,
        ["3", "1", "4"]
    );
    assert_eq!(
        run(SessionFilter {
            tenants: vec!["a".into(), "b".into()],
            ..f()
        })?
        .len(),
        4
    );
    assert_eq!(
        run(SessionFilter {
            user_id: Some("u-alice".into()),
            tenants: vec!["b".into()],
            ..f()
        })?,
        ["4"]
    );
    // Created in [minute 2, minute 4): sessions 3 (minute 2) and 1 (minute 3).
    let at = |m: i64| DateTime::from_timestamp(1_700_000_000 + m * 60, 0);
    assert_eq!(
        run(SessionFilter {
            created_from: at(2),
            created_to: at(4),
            ..f()
        })?,
        ["3", "1"]
    );
    // A session with no expiry never matches an expiry range.
    assert_eq!(
        run(SessionFilter {
            expires_from: at(0),
            ..f()
        })?,
        ["1"]
    );
    // Bad input is refused with a reason, not treated as "no match".
    for bad in [
        SessionFilter {
            ip: Some("10.0.0.0/99".into()),
            ..f()
        },
        SessionFilter {
            ip: Some("not an ip".into()),
            ..f()
        },
        SessionFilter {
            search: Some("x".repeat(300)),
            ..f()
        },
        SessionFilter {
            created_from: at(5),
            created_to: at(1),
            ..f()
        },
    ] {
        let e = store.query(&SessionQuery::of(bad));
        assert!(
            e.as_ref()
                .is_err_and(|e| e.code == crate::ErrorCode::InvalidInput),
            "{e:?}"
        );
    }
    Ok(())
}

#[test]
fn facets_and_refs_cover_the_filtered_set() -> Result<()> {
    let mut api = session("a", "1", "alice", "10.0.0.1", false, 3);
    api.session_type = Some("api".into());
    let store = store_with(vec![
        api,
        session("a", "2", "bob", "10.1.0.1", true, 1),
        session("b", "3", "carol", "10.2.0.1", false, 2),
    ]);
    let f = store.facets();
    let pairs = |v: &[FacetValue]| -> Vec<(String, usize)> {
        v.iter().map(|x| (x.value.clone(), x.count)).collect()
    };
    assert_eq!(pairs(&f.tenants), [("a".into(), 2), ("b".into(), 1)]);
    assert_eq!(
        pairs(&f.session_types),
        [("ui".into(), 2), ("api".into(), 1)]
    );
    let all = store.refs(&SessionFilter::default(), 2)?;
    assert_eq!((all.total, all.refs.len()), (3, 2));
    let some = store.refs(
        &SessionFilter {
            ip: Some("10.1.0.0/16".into()),
            ..Default::default()
        },
        10,
    )?;
    assert_eq!(some.total, 1);
    assert_eq!(
        some.refs,
        [SessionRef {
            tenant: "a".into(),
            session_id: "2".into()
        }]
    );
    Ok(())
}
