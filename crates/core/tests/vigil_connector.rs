//! The Vigil connector and the engine against the real demo server over HTTP.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use vigil_core::connector::vigil::VigilConnector;
use vigil_core::connector::{Connector, EndOutcome, PollUpdate};
use vigil_core::model::{ConnectorKind, SessionRef, TenantSpec};
use vigil_core::store::{SessionFilter, SessionQuery};
use vigil_core::{Engine, ErrorCode, SecretString};
use vigil_demo::{DemoConfig, RunningDemo};

const TOKEN: &str = "test-token-5f1c";

async fn demo(sessions: usize, tick: Duration) -> RunningDemo {
    let config = DemoConfig {
        sessions,
        seed: 11,
        token: TOKEN.into(),
        tick,
        ..DemoConfig::default()
    };
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    vigil_demo::start(addr, config).await.unwrap()
}

fn connector(demo: &RunningDemo, token: &str, page: usize) -> VigilConnector {
    let spec = TenantSpec::new("demo", ConnectorKind::Vigil, &demo.url()).unwrap();
    VigilConnector::new(&spec, SecretString::new(token))
        .unwrap()
        .with_page_limit(page)
}

async fn sign_in(demo: &RunningDemo, username: &str) -> reqwest::Response {
    sign_in_from(demo, username, "203.0.113.9").await
}

async fn sign_in_from(demo: &RunningDemo, username: &str, ip: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/demo/v1/sign-ins", demo.url()))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"username": username, "ip": ip, "user_agent": "curl/8.5.0"}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn full_listing_pages_through_every_session_once() {
    let demo = demo(5_000, Duration::from_secs(3600)).await;
    let c = connector(&demo, TOKEN, 333);
    let PollUpdate::Full(sessions) = c.poll().await.unwrap() else {
        panic!("first poll must be a full listing");
    };
    let ids: HashSet<&str> = sessions.iter().map(|s| &*s.id).collect();
    assert_eq!((sessions.len(), ids.len()), (5_000, 5_000));
    // Users are joined onto sessions; nothing invented where the API is silent.
    assert!(
        sessions
            .iter()
            .all(|s| s.display_name.is_some() && s.department.is_some())
    );
    assert!(sessions.iter().any(|s| s.superuser));
    assert!(
        sessions
            .iter()
            .all(|s| s.created_at.is_some() && &*s.tenant == "demo")
    );
    demo.stop().await.unwrap();
}

#[tokio::test]
async fn later_polls_read_only_the_change_feed() {
    let demo = demo(300, Duration::from_secs(3600)).await;
    let c = connector(&demo, TOKEN, 100);
    let PollUpdate::Full(first) = c.poll().await.unwrap() else {
        panic!("full")
    };
    // Nothing happened: an empty delta.
    match c.poll().await.unwrap() {
        PollUpdate::Delta {
            upserted,
            ended,
            users,
        } => {
            assert!(upserted.is_empty() && ended.is_empty() && users.is_empty());
        }
        other => panic!("expected a delta, got {other:?}"),
    }
    let resp = sign_in(&demo, "helpdesk").await;
    assert_eq!(resp.status(), 201);
    let created: serde_json::Value = resp.json().await.unwrap();
    let victim = &first[0];
    assert_eq!(c.end_session(&victim.id).await.unwrap(), EndOutcome::Ended);
    assert_eq!(
        c.end_session(&victim.id).await.unwrap(),
        EndOutcome::AlreadyGone
    );
    match c.poll().await.unwrap() {
        PollUpdate::Delta {
            upserted, ended, ..
        } => {
            assert_eq!(upserted.len(), 1);
            assert_eq!(&*upserted[0].id, created["id"].as_str().unwrap());
            assert_eq!(upserted[0].ip.as_deref(), Some("203.0.113.9"));
            assert!(
                upserted[0].protected,
                "helpdesk is a protected helper account"
            );
            assert_eq!(ended, vec![victim.id.to_string()]);
        }
        other => panic!("expected a delta, got {other:?}"),
    }
    demo.stop().await.unwrap();
}

#[tokio::test]
async fn disabling_ends_sessions_blocks_sign_in_and_reaches_the_next_poll() {
    let demo = demo(300, Duration::from_secs(3600)).await;
    let c = connector(&demo, TOKEN, 1000);
    let PollUpdate::Full(first) = c.poll().await.unwrap() else {
        panic!("full")
    };
    let victim = first.iter().find(|s| !s.protected).unwrap().clone();
    let user = c.disable_user(&victim.user_id, true).await.unwrap();
    assert!(user.disabled);
    assert_eq!(sign_in(&demo, &victim.username).await.status(), 403);
    match c.poll().await.unwrap() {
        PollUpdate::Delta { ended, users, .. } => {
            assert!(ended.iter().any(|e| **e == *victim.id));
            assert!(users.iter().any(|u| u.id == victim.user_id && u.disabled));
        }
        other => panic!("expected a delta, got {other:?}"),
    }
    let again = c.enable_user(&victim.user_id).await.unwrap();
    assert!(!again.disabled);
    assert_eq!(sign_in(&demo, &victim.username).await.status(), 201);
    // Protected accounts can have sessions ended but cannot be disabled.
    let admin = c.find_user("admin").await.unwrap().unwrap();
    assert!(admin.protected);
    let err = c.disable_user(&admin.id, false).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(err.message.contains("protected_account"), "{}", err.message);
    assert!(c.end_user_sessions(&admin.id).await.is_ok());
    assert!(c.find_user("nobody-here").await.unwrap().is_none());
    demo.stop().await.unwrap();
}

#[tokio::test]
async fn a_wrong_token_is_a_clear_error() {
    let demo = demo(50, Duration::from_secs(3600)).await;
    let err = connector(&demo, "wrong", 100).poll().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(
        err.message.contains("credential rejected (HTTP 401"),
        "{}",
        err.message
    );
    assert!(!err.message.contains(TOKEN));
    demo.stop().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_tenant_is_a_clear_error() {
    // Bind and drop to find a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spec = TenantSpec::new(
        "gone",
        ConnectorKind::Vigil,
        &format!("http://127.0.0.1:{port}"),
    )
    .unwrap();
    let c = VigilConnector::new(&spec, SecretString::new(TOKEN)).unwrap();
    let err = c.poll().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unreachable, "{}", err.message);
}

#[tokio::test]
async fn the_engine_polls_a_living_tenant_and_ends_sessions() {
    let demo = demo(2_000, Duration::from_millis(200)).await;
    let engine = Engine::new(tokio::runtime::Handle::current());
    let c: Arc<dyn Connector> = Arc::new(connector(&demo, TOKEN, 500));
    engine.add_tenant(c, Duration::from_millis(300)).unwrap();
    let store = engine.store().clone();
    let mut events = store.subscribe();
    tokio::time::timeout(Duration::from_secs(10), events.recv())
        .await
        .unwrap()
        .unwrap();
    let summary = store.summary();
    assert!(summary.total.active_sessions > 1_500, "{summary:?}");
    assert!(summary.total.active_users > 500 && summary.total.superusers_online > 0);
    assert!(!summary.tenants[0].health.stale);

    let page = store
        .query(&SessionQuery {
            limit: 3,
            ..Default::default()
        })
        .unwrap();
    let targets: Vec<SessionRef> = page
        .rows
        .iter()
        .map(|s| SessionRef {
            tenant: "demo".into(),
            session_id: s.id.to_string(),
        })
        .collect();
    let report = engine.end_sessions(targets.clone()).await;
    assert!(
        report.items.iter().all(|i| i.ok && !i.already_gone),
        "{report:?}"
    );
    // Gone on a following poll.
    common::wait_until("the ended sessions to leave the listing", 10, || {
        targets
            .iter()
            .all(|t| store.get("demo", &t.session_id).is_none())
    })
    .await;
    // Unknown tenants and sessions report per item.
    let report = engine
        .end_sessions(vec![
            SessionRef {
                tenant: "demo".into(),
                session_id: targets[0].session_id.clone(),
            },
            SessionRef {
                tenant: "nope".into(),
                session_id: "x".into(),
            },
        ])
        .await;
    assert!(report.items.iter().any(|i| i.ok && i.already_gone));
    assert!(
        report
            .items
            .iter()
            .any(|i| !i.ok && i.target.tenant == "nope")
    );

    // A broken tenant beside it is marked stale with the cause; the good one keeps going.
    let spec = TenantSpec::new("broken", ConnectorKind::Vigil, &demo.url()).unwrap();
    let bad: Arc<dyn Connector> =
        Arc::new(VigilConnector::new(&spec, SecretString::new("nope")).unwrap());
    engine.add_tenant(bad, Duration::from_millis(300)).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let h = store.health("broken").unwrap();
        if let Some(e) = h.error {
            assert!(h.stale);
            assert_eq!(e.code, ErrorCode::Unauthorized);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = store.health("demo").unwrap().last_poll_at;
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(store.health("demo").unwrap().last_poll_at > before);
    engine.shutdown();
    demo.stop().await.unwrap();
}

#[tokio::test]
async fn audited_actions_move_to_confirmed_and_history_says_who_ended_them() {
    use vigil_core::audit::{ActionKind, AuditFilter, AuditLog, ItemState};
    let demo = demo(400, Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(dir.path()).unwrap();
    let engine = Engine::with_audit(
        tokio::runtime::Handle::current(),
        Some(audit.clone()),
        "tester@host",
    );
    let c: Arc<dyn Connector> = Arc::new(connector(&demo, TOKEN, 500));
    engine.add_tenant(c, Duration::from_millis(200)).unwrap();
    let store = engine.store().clone();
    common::wait_until("the first rows", 10, || {
        store.summary().total.active_sessions > 0
    })
    .await;
    let page = store
        .query(&SessionQuery {
            limit: 3,
            ..Default::default()
        })
        .unwrap();
    let targets: Vec<SessionRef> = page
        .rows
        .iter()
        .map(|s| SessionRef {
            tenant: "demo".into(),
            session_id: s.id.to_string(),
        })
        .collect();
    let report = engine.end_sessions(targets.clone()).await;
    assert!(
        report.items.iter().all(|i| i.ok && i.audit_id.is_some()),
        "{report:?}"
    );
    // A protected account cannot be disabled: refused before any request, and audited.
    let helpdesk = store
        .query(&SessionQuery::of(SessionFilter {
            user: Some("helpdesk".into()),
            ..Default::default()
        }))
        .unwrap()
        .rows
        .first()
        .map(|s| s.user_id.clone());
    if let Some(uid) = helpdesk {
        let r = engine
            .act(
                ActionKind::Disable,
                vec![SessionRef {
                    tenant: "demo".into(),
                    session_id: uid.to_string(),
                }],
            )
            .await;
        assert!(!r.items[0].ok && r.items[0].error.as_ref().unwrap().code == ErrorCode::Conflict);
    }
    let filter = AuditFilter {
        action_id: Some(report.action_id.clone()),
        ..Default::default()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let entries = audit.entries(&filter).unwrap();
        assert_eq!(entries.len(), 3);
        if entries.iter().all(|e| e.state == ItemState::Confirmed) {
            assert!(
                entries
                    .iter()
                    .all(|e| e.actor == "tester@host" && e.action == ActionKind::EndSession)
            );
            assert!(entries.iter().all(|e| e.target_user.is_some()));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not confirmed: {entries:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let history = audit.history(Some("demo"), None, 10_000).unwrap();
        let ended: Vec<_> = history
            .iter()
            .filter(|h| targets.iter().any(|t| t.session_id == h.session_id))
            .collect();
        if ended.len() == 3 && ended.iter().all(|h| h.ended_by.as_deref() == Some("vigil")) {
            assert!(
                history.len() >= 400,
                "every observed session is in the history"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "history: {ended:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    engine.shutdown();
    demo.stop().await.unwrap();
}

#[tokio::test]
async fn fifty_sessions_across_two_tenants_end_and_are_each_confirmed() {
    use vigil_core::audit::{AuditFilter, AuditLog, ItemState};
    let (a, b) = (
        demo(300, Duration::from_secs(3600)).await,
        demo(300, Duration::from_secs(3600)).await,
    );
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(dir.path()).unwrap();
    let engine = Engine::with_audit(
        tokio::runtime::Handle::current(),
        Some(audit.clone()),
        "tester@host",
    );
    for (name, d) in [("east", &a), ("west", &b)] {
        let spec = TenantSpec::new(name, ConnectorKind::Vigil, &d.url()).unwrap();
        let c: Arc<dyn Connector> =
            Arc::new(VigilConnector::new(&spec, SecretString::new(TOKEN)).unwrap());
        engine.add_tenant(c, Duration::from_millis(300)).unwrap();
    }
    let store = engine.store().clone();
    common::wait_until("rows from both tenants", 10, || {
        store
            .summary()
            .tenants
            .iter()
            .filter(|t| t.counts.active_sessions > 0)
            .count()
            >= 2
    })
    .await;
    let mut targets = Vec::new();
    for tenant in ["east", "west"] {
        let page = store
            .query(&SessionQuery {
                filter: SessionFilter {
                    tenants: vec![tenant.into()],
                    ..Default::default()
                },
                limit: 25,
                ..Default::default()
            })
            .unwrap();
        targets.extend(page.rows.iter().map(|s| SessionRef {
            tenant: tenant.into(),
            session_id: s.id.to_string(),
        }));
    }
    assert_eq!(targets.len(), 50);
    let report = engine.end_sessions(targets).await;
    assert_eq!(
        report.items.iter().filter(|i| i.ok).count(),
        50,
        "{report:?}"
    );
    let filter = AuditFilter {
        action_id: Some(report.action_id.clone()),
        ..Default::default()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let entries = audit.entries(&filter).unwrap();
        assert_eq!(entries.len(), 50);
        if entries.iter().all(|e| e.state == ItemState::Confirmed) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            entries.iter().map(|e| e.state).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    engine.shutdown();
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn alerts_are_stored_snoozed_rules_are_dropped_and_acknowledging_closes_them() {
    use vigil_core::alerts::{AlertFilter, Rule};
    use vigil_core::audit::AuditLog;
    use vigil_core::calendar::WorkingCalendar;
    use vigil_core::tuning::AlertConfig;
    let demo = demo(100, Duration::from_secs(3600)).await;
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(dir.path()).unwrap();
    // The snooze is set before a restart: the engine that runs finds it in vigil.db.
    {
        let before = Engine::with_audit(
            tokio::runtime::Handle::current(),
            Some(AuditLog::open(dir.path()).unwrap()),
            "tester@host",
        );
        before.snooze("demo", Rule::SuperuserSignIn, 60);
        before.snooze("demo", Rule::LongSession, 60);
        before.snooze("demo", Rule::LongSession, 0);
        before.shutdown();
    }
    let stored = audit.snoozes(chrono::Utc::now()).unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        (stored[0].0.as_str(), stored[0].1),
        ("demo", Rule::SuperuserSignIn)
    );
    assert!(
        audit
            .snoozes(chrono::Utc::now() + chrono::Duration::hours(2))
            .unwrap()
            .is_empty()
    );
    audit
        .set_snooze(
            "demo",
            Rule::SuperuserSignIn,
            Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        )
        .unwrap();
    let engine = Engine::with_audit(
        tokio::runtime::Handle::current(),
        Some(audit.clone()),
        "tester@host",
    );
    // Working hours on a weekday three days away: now is at odd hours whatever the date.
    let away = chrono::Datelike::weekday(&(chrono::Utc::now() + chrono::Duration::days(3)));
    let hours = format!("{away} 00:00-00:01");
    let calendar = WorkingCalendar::from_parts(Some("UTC"), Some(&hours), &[]).unwrap();
    engine.set_alert_config(
        "demo",
        AlertConfig {
            calendar,
            ..Default::default()
        },
    );
    let mut alerts = engine.subscribe_alerts();
    engine
        .add_tenant(
            Arc::new(connector(&demo, TOKEN, 500)),
            Duration::from_millis(200),
        )
        .unwrap();
    let store = engine.store().clone();
    common::wait_until("the first poll", 10, || {
        store.health("demo").and_then(|h| h.last_poll_at).is_some()
    })
    .await;
    let resp = sign_in(&demo, "admin").await;
    let id = resp.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let alert = loop {
        let a = tokio::time::timeout(Duration::from_secs(10), alerts.recv())
            .await
            .unwrap()
            .unwrap();
        if a.session_id.as_deref() == Some(id.as_str()) {
            break a;
        }
    };
    assert!(
        !alert.rules.contains(&Rule::SuperuserSignIn),
        "snoozed: {:?}",
        alert.rules
    );
    assert!(
        alert.rules.contains(&Rule::OddHours) && alert.rule != Rule::SuperuserSignIn,
        "{alert:?}"
    );
    let open = audit
        .alerts(&AlertFilter {
            open_only: true,
            ..Default::default()
        })
        .unwrap();
    let stored = open
        .iter()
        .find(|s| s.alert.session_id.as_deref() == Some(id.as_str()))
        .unwrap();
    let count_before = audit.open_alert_count().unwrap();
    assert_eq!(count_before, open.len() as u64);
    assert_eq!(audit.acknowledge_alerts(&[stored.id]).unwrap(), 1);
    assert_eq!(audit.open_alert_count().unwrap(), count_before - 1);
    let open = audit
        .alerts(&AlertFilter {
            open_only: true,
            ..Default::default()
        })
        .unwrap();
    assert!(open.iter().all(|s| s.id != stored.id));
    assert!(
        audit
            .alerts(&AlertFilter::default())
            .unwrap()
            .iter()
            .any(|s| s.id == stored.id && s.acknowledged)
    );
    engine.shutdown();
    demo.stop().await.unwrap();
}

#[tokio::test]
async fn a_paused_engine_does_not_poll_until_resumed_or_refreshed() {
    let demo = demo(200, Duration::from_millis(100)).await;
    let engine = Engine::new(tokio::runtime::Handle::current());
    let c: Arc<dyn Connector> = Arc::new(connector(&demo, TOKEN, 500));
    engine.add_tenant(c, Duration::from_millis(100)).unwrap();
    let store = engine.store().clone();
    let last_poll = || store.summary().tenants[0].health.last_poll_at;
    common::wait_until("the first poll", 10, || last_poll().is_some()).await;
    engine.set_paused(true);
    assert!(engine.is_paused());
    // A poll already under way may still land; after that, nothing.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let frozen = last_poll();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(last_poll(), frozen, "polled while paused");

    engine.refresh(None);
    common::wait_until("a poll on refresh while paused", 5, || {
        last_poll() != frozen
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_refresh = last_poll();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(last_poll(), after_refresh, "a refresh resumed polling");

    engine.set_paused(false);
    common::wait_until("a poll after resuming", 5, || last_poll() != after_refresh).await;
    engine.shutdown();
}

#[tokio::test]
async fn with_a_geoip_database_sessions_get_places_and_impossible_travel_alerts() {
    use vigil_core::alerts::Rule;
    let demo = demo(50, Duration::from_secs(3600)).await;
    let engine = Engine::with_audit(
        tokio::runtime::Handle::current(),
        Some(vigil_core::audit::AuditLog::open(tempfile::tempdir().unwrap().path()).unwrap()),
        "tester@host",
    );
    let geo = vigil_core::geoip::GeoIp::open(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/geoip/city-test.mmdb"),
    )
    .unwrap();
    engine.set_geoip(Some(Arc::new(geo)));
    let mut alerts = engine.subscribe_alerts();
    engine
        .add_tenant(
            Arc::new(connector(&demo, TOKEN, 500)),
            Duration::from_millis(200),
        )
        .unwrap();
    let store = engine.store().clone();
    common::wait_until("the first poll", 10, || {
        store.health("demo").and_then(|h| h.last_poll_at).is_some()
    })
    .await;
    let session_from = |ip: &'static str| {
        let demo = &demo;
        async move {
            let v: serde_json::Value = sign_in_from(demo, "admin", ip).await.json().await.unwrap();
            v["id"].as_str().unwrap().to_owned()
        }
    };
    let berlin = session_from("198.51.100.20").await;
    common::wait_until("the Berlin session", 10, || {
        store.get("demo", &berlin).is_some()
    })
    .await;
    let located = store.get("demo", &berlin).unwrap();
    assert_eq!(located.location.as_deref(), Some("Berlin, DE"));
    let sydney = session_from("203.0.113.20").await;
    let alert = loop {
        let a = tokio::time::timeout(Duration::from_secs(10), alerts.recv())
            .await
            .expect("no impossible-travel alert")
            .unwrap();
        if a.session_id.as_deref() == Some(sydney.as_str()) {
            break a;
        }
    };
    assert!(alert.rules.contains(&Rule::ImpossibleTravel), "{alert:?}");
    assert!(
        alert.message.contains("Berlin, DE → Sydney, AU"),
        "{}",
        alert.message
    );
    engine.shutdown();
    demo.stop().await.unwrap();
}

/// An audited engine polling each named demo every 300 ms, once each has been polled;
/// the directory holds its audit database.
async fn polled(
    tenants: &[(&str, &RunningDemo)],
) -> (Engine, vigil_core::audit::AuditLog, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let audit = vigil_core::audit::AuditLog::open(dir.path()).unwrap();
    let engine = Engine::with_audit(
        tokio::runtime::Handle::current(),
        Some(audit.clone()),
        "tester@host",
    );
    for (name, d) in tenants {
        let spec = TenantSpec::new(name, ConnectorKind::Vigil, &d.url()).unwrap();
        let c = VigilConnector::new(&spec, SecretString::new(TOKEN)).unwrap();
        engine
            .add_tenant(Arc::new(c), Duration::from_millis(300))
            .unwrap();
    }
    let store = engine.store().clone();
    common::wait_until("the first polls", 15, || {
        tenants
            .iter()
            .all(|(n, _)| store.health(n).and_then(|h| h.last_poll_at).is_some())
    })
    .await;
    (engine, audit, dir)
}

/// Three demo tenants with the same seed share their people. A person is found by
/// e-mail address in all three; containing them disables and signs them out in the two
/// that answer, which later reads confirm from the servers' side; the third goes down
/// before the action and is a failed, audited part of it, named; protected accounts are
/// refused per tenant before anything is sent.
#[tokio::test]
async fn a_person_is_contained_in_every_tenant_and_a_tenant_down_mid_way_is_an_audited_partial_result()
 {
    use vigil_core::audit::{ActionKind, AuditFilter, ItemState};
    use vigil_core::contain::{self, ContainOptions, Outcome};
    use vigil_core::people::{self, PeopleConfig, PersonMatch};
    let demos = [
        demo(300, Duration::from_secs(3600)).await,
        demo(300, Duration::from_secs(3600)).await,
        demo(300, Duration::from_secs(3600)).await,
    ];
    let names = ["north", "south", "west"];
    let (engine, audit, _dir) = polled(&[
        (names[0], &demos[0]),
        (names[1], &demos[1]),
        (names[2], &demos[2]),
    ])
    .await;
    let store = engine.store().clone();
    // A plain user with sessions in the first tenant.
    let mut plain = None;
    store.for_each_session(|s| {
        if plain.is_none() && &*s.tenant == "north" && !s.protected && !s.superuser {
            plain = Some((s.username.clone(), s.email.clone().unwrap()));
        }
    });
    let (username, email) = plain.unwrap();
    let links = PeopleConfig::default();
    let PersonMatch::Found { person } =
        people::find(&email.to_uppercase(), &links, &store, &engine.connectors()).await
    else {
        panic!("{email} not found");
    };
    assert_eq!(*person.key, *email);
    let tenants: Vec<&str> = person.accounts.iter().map(|a| a.tenant.as_str()).collect();
    assert_eq!(tenants, names, "{person:?}");
    assert!(person.accounts.iter().all(|a| a.user.username == username));

    // Guards are applied per tenant and named before anything is sent.
    let PersonMatch::Found { person: admin } =
        people::find("admin@example.org", &links, &store, &engine.connectors()).await
    else {
        panic!("admin not found");
    };
    let guarded = contain::plan(&engine, &admin, ContainOptions::default());
    for name in names {
        let disable = guarded
            .items
            .iter()
            .find(|i| i.tenant == name && i.step == ActionKind::DisableOnly)
            .unwrap();
        assert!(
            matches!(&disable.outcome, Outcome::Refused { reason } if reason.contains("protected")),
            "{disable:?}"
        );
    }

    // The plan: disable and sign out everywhere; the Vigil Session API offers neither a
    // password step nor a token revocation, and the plan says so.
    let plan = contain::plan(&engine, &person, ContainOptions::default());
    assert_eq!(plan.items.len(), 12, "{plan:?}");
    assert!(plan.items.iter().all(|i| match i.step {
        ActionKind::DisableOnly | ActionKind::Logout => i.outcome == Outcome::Planned,
        _ => matches!(i.outcome, Outcome::NotOffered { .. }),
    }));
    // The third tenant goes down after the person was found.
    let [north, south, west] = demos;
    west.stop().await.unwrap();
    let report = contain::run(&engine, &person, plan, Duration::from_secs(10)).await;
    assert!(!report.settled(), "{report:?}");
    for i in &report.items {
        match (i.tenant.as_str(), i.step) {
            (_, ActionKind::RevokeGrants | ActionKind::RequirePasswordChange) => {
                assert!(matches!(i.outcome, Outcome::NotOffered { .. }), "{i:?}")
            }
            ("west", _) => assert!(matches!(i.outcome, Outcome::Failed { .. }), "{i:?}"),
            _ => assert_eq!(i.outcome, Outcome::Confirmed, "{i:?}"),
        }
    }
    // From the servers' side: disabled, and no session of theirs listed.
    for d in [&north, &south] {
        let c = connector(d, TOKEN, 500);
        let u = c.find_user(&username).await.unwrap().unwrap();
        assert!(u.disabled, "{u:?}");
        let PollUpdate::Full(sessions) = c.poll().await.unwrap() else {
            panic!("full listing expected");
        };
        assert!(sessions.iter().all(|s| s.username != username));
    }
    // Every item that was sent is in the audit log with its outcome, the failed ones too.
    let entries = audit
        .entries(&AuditFilter {
            action_id: report.action_id.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(entries.len(), 6, "{entries:?}");
    for e in &entries {
        let want = if e.tenant == "west" {
            ItemState::Failed
        } else {
            ItemState::Confirmed
        };
        assert_eq!(e.state, want, "{e:?}");
        assert_eq!(e.target_user.as_deref(), Some(&*username));
    }
    // The person's own record: the actions on their accounts, the failed ones too, and
    // the sessions Vigil saw.
    let recorded = people::with_records(person.clone(), &audit).unwrap();
    assert_eq!(recorded.actions.len(), 6, "{:?}", recorded.actions);
    assert!(!recorded.history.is_empty());
    assert!(recorded.history.iter().all(|h| *h.username == *username));
    // Re-enable everywhere undoes the disables where the tenant answers.
    let back = contain::reenable(&engine, &person).await;
    for i in &back.items {
        match i.tenant.as_str() {
            "west" => assert!(matches!(i.outcome, Outcome::Failed { .. }), "{i:?}"),
            _ => assert_eq!(i.outcome, Outcome::Accepted, "{i:?}"),
        }
    }
    let u = connector(&north, TOKEN, 500)
        .find_user(&username)
        .await
        .unwrap()
        .unwrap();
    assert!(!u.disabled);
    engine.shutdown();
    north.stop().await.unwrap();
    south.stop().await.unwrap();
}

/// An idle-session policy: its dry run lists exactly what its run ends, spares
/// protected accounts, Vigil's own session and the users excepted, and the run is audited.
#[tokio::test]
async fn an_idle_policy_ends_exactly_what_its_dry_run_lists() {
    use vigil_core::policy::{self, PolicyConfig};
    let demo = demo(400, Duration::from_secs(3600)).await;
    let (engine, _audit, _dir) = polled(&[("demo", &demo)]).await;
    let store = engine.store().clone();
    // Idle over 30 minutes, except one user who is.
    let mut idle_users = Vec::new();
    let cutoff = chrono::Utc::now() - chrono::Duration::minutes(30);
    store.for_each_session(|s| {
        if s.last_activity_at.is_some_and(|a| a < cutoff) && !s.protected && !s.superuser {
            idle_users.push(s.username.clone());
        }
    });
    assert!(idle_users.len() > 2, "the demo has idle sessions");
    let spared = idle_users[0].clone();
    let p = PolicyConfig {
        name: "idle".into(),
        idle_over: Some("30m".into()),
        except: vec![spared.to_uppercase()],
        ..Default::default()
    }
    .parse()
    .unwrap();
    let scope = p.scope([("demo", &[][..])]);
    let links = Default::default();
    let dry = policy::select(&p, &scope, &store, &links, chrono::Utc::now());
    assert!(!dry.end.is_empty());
    assert!(dry.end.iter().all(|i| *i.username != *spared));
    assert!(
        dry.spared
            .iter()
            .any(|i| *i.username == *spared && i.reason.contains("exception"))
    );
    let report = policy::run(&engine, &dry).await;
    let ended: Vec<&str> = report
        .items
        .iter()
        .filter(|i| i.ok)
        .map(|i| i.target.session_id.as_str())
        .collect();
    let listed: Vec<&str> = dry.end.iter().map(|i| i.session_id.as_str()).collect();
    assert_eq!(
        ended, listed,
        "the run ends exactly what the dry run listed"
    );
    let ended: HashSet<String> = ended.into_iter().map(str::to_owned).collect();
    common::wait_until("the ended sessions to leave the listing", 10, || {
        ended.iter().all(|id| store.get("demo", id).is_none())
    })
    .await;
    // The spared user's sessions are still there.
    let mut still = false;
    store.for_each_session(|s| still |= s.username == spared);
    assert!(still);
    engine.shutdown();
    demo.stop().await.unwrap();
}

/// A scheduled policy runs one period after start, not before, and ends what it selects.
#[tokio::test]
async fn a_scheduled_policy_runs_when_due() {
    use vigil_core::policy::{PolicyConfig, Schedule};
    let demo = demo(200, Duration::from_secs(3600)).await;
    let (engine, _audit, _dir) = polled(&[("demo", &demo)]).await;
    let p = PolicyConfig {
        name: "old".into(),
        older_than: Some("1h".into()),
        every: Some("10m".into()),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let policies = vec![(p.clone(), p.scope([("demo", &[][..])]))];
    let links = Default::default();
    let mut schedule = Schedule::default();
    let t0 = std::time::Instant::now();
    assert!(
        schedule
            .tick_at(&engine, &policies, &links, t0)
            .await
            .is_empty()
    );
    let early = t0 + Duration::from_secs(599);
    assert!(
        schedule
            .tick_at(&engine, &policies, &links, early)
            .await
            .is_empty()
    );
    let due = t0 + Duration::from_secs(601);
    let runs = schedule.tick_at(&engine, &policies, &links, due).await;
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert!(!run.selection.end.is_empty());
    assert_eq!(run.report.items.len(), run.selection.end.len());
    assert_eq!(run.report.failed(), 0, "{:?}", run.report);
    // Not again until another period has passed.
    let soon = due + Duration::from_secs(60);
    assert!(
        schedule
            .tick_at(&engine, &policies, &links, soon)
            .await
            .is_empty()
    );
    engine.shutdown();
    demo.stop().await.unwrap();
}
