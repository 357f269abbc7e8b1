//! The guards of every action and every poll, in the core (so both shells have them),
//! against a tenant that is scripted here: what the tenant says is under test's control,
//! what Vigil does with it is what is checked. Each case failed before its fix.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use vigil_core::audit::{ActionKind, AuditFilter, AuditLog, ItemState};
use vigil_core::connector::{Connector, EndOutcome, PollUpdate};
use vigil_core::model::{Capabilities, ConnectorKind, Session, SessionRef, TenantCheck, User};
use vigil_core::tuning::AlertConfig;
use vigil_core::{Engine, ErrorCode, Result};

/// A tenant whose answers the test writes, and which records every request it gets.
struct Scripted {
    tenant: Arc<str>,
    sessions: Mutex<Vec<Session>>,
    users: Mutex<Vec<User>>,
    calls: Mutex<Vec<String>>,
    panic_on_poll: Mutex<bool>,
    /// When set, polls answer with a listing known to be incomplete.
    partial: Mutex<Option<String>>,
}

impl Scripted {
    fn new(name: &str) -> Arc<Self> {
        Arc::new(Self {
            tenant: Arc::from(name),
            sessions: Mutex::new(Vec::new()),
            users: Mutex::new(Vec::new()),
            calls: Mutex::new(Vec::new()),
            panic_on_poll: Mutex::new(false),
            partial: Mutex::new(None),
        })
    }

    fn session(&self, id: &str, user: &str) -> Session {
        Session::new(&self.tenant, id, user, user)
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn call(&self, what: String) {
        self.calls.lock().unwrap().push(what);
    }
}

#[async_trait]
impl Connector for Scripted {
    fn tenant(&self) -> &Arc<str> {
        &self.tenant
    }
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Vigil
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::FULL_LISTING
    }
    async fn poll(&self) -> Result<PollUpdate> {
        if *self.panic_on_poll.lock().unwrap() {
            // What an unchecked `Instant + Duration` on a tenant's number does.
            let at = std::time::Instant::now();
            let _ = at + Duration::from_secs(u64::MAX);
        }
        let sessions = self.sessions.lock().unwrap().clone();
        Ok(match self.partial.lock().unwrap().clone() {
            Some(incomplete) => PollUpdate::Partial {
                sessions,
                incomplete,
            },
            None => PollUpdate::Full(sessions),
        })
    }
    async fn reset(&self) {}
    async fn end_session(&self, id: &str) -> Result<EndOutcome> {
        self.call(format!("end_session {id}"));
        if id == "explodes" {
            panic!("a connector bug on this target");
        }
        self.sessions.lock().unwrap().retain(|s| &*s.id != id);
        Ok(EndOutcome::Ended)
    }
    async fn end_user_sessions(&self, user: &str) -> Result<u64> {
        self.call(format!("end_user_sessions {user}"));
        Ok(0)
    }
    async fn disable_user(&self, user: &str, _end: bool) -> Result<User> {
        self.call(format!("disable_user {user}"));
        Ok(User::new(user, user))
    }
    async fn enable_user(&self, user: &str) -> Result<User> {
        self.call(format!("enable_user {user}"));
        Ok(User::new(user, user))
    }
    async fn set_disabled(&self, user: &str, disabled: bool) -> Result<User> {
        self.call(format!("set_disabled {user} {disabled}"));
        Ok(User::new(user, user))
    }
    async fn find_user(&self, name: &str) -> Result<Option<User>> {
        Ok(self
            .users
            .lock()
            .unwrap()
            .iter()
            .find(|u| &*u.username == name)
            .cloned())
    }
    async fn check(&self) -> TenantCheck {
        TenantCheck::default()
    }
}

const INTERVAL: Duration = Duration::from_millis(200);

async fn polled(engine: &Engine, tenant: &str) {
    let store = engine.store().clone();
    common::wait_until("a poll", 20, || {
        store
            .health(tenant)
            .is_some_and(|h| h.last_poll_at.is_some())
    })
    .await;
}

fn target(tenant: &str, id: &str) -> SessionRef {
    SessionRef {
        tenant: tenant.into(),
        session_id: id.into(),
    }
}

/// The latest state of the audit item whose target is `target`.
fn item_state(audit: &AuditLog, target: &str) -> Option<ItemState> {
    audit
        .entries(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .find(|e| e.target == target)
        .map(|e| e.state)
}

fn refused(report: &vigil_core::actions::ActionReport) -> Vec<(String, ErrorCode)> {
    report
        .items
        .iter()
        .filter_map(|i| {
            i.error
                .as_ref()
                .map(|e| (i.target.session_id.clone(), e.code))
        })
        .collect()
}

/// Protected accounts are never disabled: not when the store does not know them (no
/// live session: the CLI looks the user up in the tenant), not when the tenant marks
/// them only as SuperUsers (Better Auth admins, Kratos roles), not when the store knows
/// nothing about them at all. And the account Vigil signs in with is neither logged out
/// nor disabled, whatever the tenant says of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_are_guarded_by_the_tenants_own_records() {
    let t = Scripted::new("t");
    {
        let mut s = t.sessions.lock().unwrap();
        let mut own = t.session("own-1", "svc");
        own.current = true;
        s.push(own);
        s.push(t.session("svc-2", "svc"));
        let mut admin = t.session("adm-1", "ba-admin");
        admin.superuser = true; // the tenant says SuperUser, never "protected"
        s.push(admin);
        s.push(t.session("bob-1", "bob"));
    }
    let engine = Engine::new(tokio::runtime::Handle::current());
    engine.add_tenant(t.clone(), INTERVAL).unwrap();
    polled(&engine, "t").await;

    // A protected admin with no session: the store does not know them; the tenant's own
    // record (as `vigil disable NAME` looks it up) says protected.
    let mut root = User::new("root-id", "root");
    root.protected = true;
    let users: HashMap<String, User> = [("root-id".to_owned(), root)].into();
    let r = engine
        .act_on_users(ActionKind::Disable, vec![target("t", "root-id")], &users)
        .await;
    assert_eq!(refused(&r), [("root-id".to_owned(), ErrorCode::Conflict)]);

    // A user neither knows: refused rather than guessed.
    let r = engine
        .act(ActionKind::DisableOnly, vec![target("t", "ghost")])
        .await;
    assert_eq!(refused(&r), [("ghost".to_owned(), ErrorCode::Conflict)]);

    // A SuperUser the tenant never marks protected.
    let r = engine
        .act(ActionKind::Disable, vec![target("t", "ba-admin")])
        .await;
    assert_eq!(refused(&r), [("ba-admin".to_owned(), ErrorCode::Conflict)]);
    // Also when a fresh lookup says otherwise (it could not read the admin roles):
    // protected if either record says so.
    let plain = User::new("ba-admin", "ba-admin");
    let users: HashMap<String, User> = [("ba-admin".to_owned(), plain)].into();
    let r = engine
        .act_on_users(ActionKind::Disable, vec![target("t", "ba-admin")], &users)
        .await;
    assert_eq!(refused(&r), [("ba-admin".to_owned(), ErrorCode::Conflict)]);

    // Vigil's own account: no force logout, no disabling, no ending its own session;
    // its other sessions can be ended one by one.
    for kind in [
        ActionKind::Logout,
        ActionKind::Disable,
        ActionKind::DisableOnly,
    ] {
        let r = engine.act(kind, vec![target("t", "svc")]).await;
        assert_eq!(
            refused(&r),
            [("svc".to_owned(), ErrorCode::Conflict)],
            "{kind:?}"
        );
    }
    let r = engine
        .act(ActionKind::EndSession, vec![target("t", "own-1")])
        .await;
    assert_eq!(refused(&r), [("own-1".to_owned(), ErrorCode::Conflict)]);

    // Ids that would address the parent resource, or carry escapes, never leave.
    let r = engine
        .act(
            ActionKind::EndSession,
            vec![
                target("t", ".."),
                target("t", "%2e%2E"),
                target("t", "."),
                target("t", "x\u{1b}[2J"),
            ],
        )
        .await;
    assert!(
        refused(&r)
            .iter()
            .all(|(_, c)| *c == ErrorCode::InvalidInput)
            && r.items.len() == 4,
        "{r:?}"
    );

    // Nothing above reached the tenant; ordinary targets do.
    assert_eq!(t.calls(), Vec::<String>::new());
    let r = engine
        .act(ActionKind::Logout, vec![target("t", "bob")])
        .await;
    assert_eq!(refused(&r), []);
    let r = engine
        .act(ActionKind::EndSession, vec![target("t", "svc-2")])
        .await;
    assert_eq!(refused(&r), []);
    assert_eq!(t.calls(), ["end_user_sessions bob", "end_session svc-2"]);
    engine.shutdown();
}

/// A panic while polling one tenant is that tenant's error, shown in its health; its
/// poller goes on (it recovers once the answer is sane), and the other tenants never
/// notice. A panic inside an action fails that item in the audit log instead of leaving
/// it `requested` forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_is_the_tenants_error_never_a_silent_stop() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(dir.path()).unwrap();
    let bad = Scripted::new("bad");
    let good = Scripted::new("good");
    bad.sessions
        .lock()
        .unwrap()
        .push(bad.session("explodes", "eve"));
    good.sessions
        .lock()
        .unwrap()
        .push(good.session("g1", "gail"));
    let engine = Engine::with_audit(tokio::runtime::Handle::current(), Some(audit.clone()), "t");
    engine.add_tenant(bad.clone(), INTERVAL).unwrap();
    engine.add_tenant(good.clone(), INTERVAL).unwrap();
    polled(&engine, "bad").await;

    let r = engine
        .act(ActionKind::EndSession, vec![target("bad", "explodes")])
        .await;
    let item = &r.items[0];
    assert!(!item.ok);
    assert_eq!(
        item.error.as_ref().map(|e| e.code),
        Some(ErrorCode::Internal)
    );
    let entries = audit.entries(&AuditFilter::default()).unwrap();
    assert_eq!(entries[0].state, ItemState::Failed, "{entries:?}");

    *bad.panic_on_poll.lock().unwrap() = true;
    engine.refresh(Some("bad"));
    let store = engine.store().clone();
    common::wait_until("the panic to show as the tenant's error", 20, || {
        store
            .health("bad")
            .and_then(|h| h.error)
            .is_some_and(|e| e.code == ErrorCode::Internal && e.message.contains("overflow"))
    })
    .await;
    let good_polls = store.health("good").unwrap().last_poll_at;
    tokio::time::sleep(INTERVAL * 4).await;
    assert!(store.health("good").unwrap().last_poll_at > good_polls);
    assert!(store.health("good").unwrap().error.is_none());
    // Still polling: a sane answer clears the error.
    *bad.panic_on_poll.lock().unwrap() = false;
    engine.refresh(Some("bad"));
    common::wait_until("the tenant to recover", 30, || {
        store.health("bad").is_some_and(|h| h.error.is_none())
    })
    .await;
    engine.shutdown();
}

/// When the audit database refuses writes, alerts still reach the admin (with one
/// alert saying the database fails), and the confirmations taken out of `pending` are
/// written once it works again. Before, one failed write dropped both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_audit_database_silences_nothing_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(dir.path()).unwrap();
    let t = Scripted::new("t");
    t.sessions.lock().unwrap().push(t.session("a1", "alice"));
    let engine = Engine::with_audit(tokio::runtime::Handle::current(), Some(audit.clone()), "t");
    engine.set_alert_config("t", AlertConfig::default());
    let mut alerts = engine.subscribe_alerts();
    engine.add_tenant(t.clone(), INTERVAL).unwrap();
    polled(&engine, "t").await;
    // From now on the database refuses confirmations, alerts and history rows (intents
    // and results still go in, so the action itself is taken and audited).
    let db = rusqlite::Connection::open(audit.path()).unwrap();
    let refuse = |table: &str, when: &str| {
        format!(
            "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} {when} BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;"
        )
    };
    db.execute_batch(&refuse("audit_events", "WHEN NEW.state = 'confirmed'"))
        .unwrap();
    for table in ["alerts", "alert_firings", "session_history"] {
        db.execute_batch(&refuse(table, "")).unwrap();
    }
    let r = engine
        .act(ActionKind::EndSession, vec![target("t", "a1")])
        .await;
    assert!(r.items[0].ok, "{r:?}");
    // A SuperUser signs in while it fails.
    let mut root = t.session("r1", "root");
    root.superuser = true;
    t.sessions.lock().unwrap().push(root);
    engine.refresh(Some("t"));
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.len() < 2 {
        match tokio::time::timeout_at(deadline, alerts.recv()).await {
            Ok(Ok(a)) => seen.push(a),
            other => panic!("alerts stopped: {other:?}; seen {seen:?}"),
        }
    }
    assert!(
        seen.iter().any(|a| a.username.as_deref() == Some("root")
            && a.rule == vigil_core::alerts::Rule::SuperuserSignIn),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|a| a.message.contains("audit database cannot be written")),
        "{seen:?}"
    );
    // The next polls saw a1 gone, but its confirmation could not be written: it waits.
    tokio::time::sleep(INTERVAL * 4).await;
    assert_eq!(item_state(&audit, "a1"), Some(ItemState::Accepted));
    // It lands once the database works again.
    for table in ["audit_events", "alerts", "alert_firings", "session_history"] {
        db.execute_batch(&format!("DROP TRIGGER refuse_{table};"))
            .unwrap();
    }
    engine.refresh(Some("t"));
    common::wait_until("the confirmation to be written", 20, || {
        item_state(&audit, "a1") == Some(ItemState::Confirmed)
    })
    .await;
    engine.shutdown();
}

/// A listing known to be incomplete (a vendor's cap, a skipped part) turns nothing it did
/// not see into "ended": the row stays, no history says it ended, an action on it is
/// neither confirmed nor flagged as reappeared, and the tenant shows a warning. A
/// complete listing then settles it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incomplete_listing_ends_and_confirms_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(dir.path()).unwrap();
    let t = Scripted::new("t");
    t.sessions.lock().unwrap().push(t.session("a1", "alice"));
    t.sessions.lock().unwrap().push(t.session("b1", "bob"));
    let engine = Engine::with_audit(tokio::runtime::Handle::current(), Some(audit.clone()), "t");
    engine.add_tenant(t.clone(), INTERVAL).unwrap();
    polled(&engine, "t").await;
    *t.partial.lock().unwrap() = Some("the vendor lists at most 1,000 users".into());
    let r = engine
        .act(ActionKind::EndSession, vec![target("t", "a1")])
        .await;
    assert!(r.items[0].ok, "{r:?}");
    // b1 also vanishes from the (incomplete) listing.
    t.sessions.lock().unwrap().retain(|s| &*s.id != "b1");
    let store = engine.store().clone();
    common::wait_until("the warning", 20, || {
        store
            .health("t")
            .and_then(|h| h.warning)
            .is_some_and(|w| w.contains("1,000 users"))
    })
    .await;
    tokio::time::sleep(INTERVAL * 5).await;
    assert_eq!(
        item_state(&audit, "a1"),
        Some(ItemState::Accepted),
        "neither confirmed nor reappeared"
    );
    assert!(store.get("t", "a1").is_some() && store.get("t", "b1").is_some());
    // Complete again: a1 is confirmed ended, b1 ended elsewhere, the warning goes.
    *t.partial.lock().unwrap() = None;
    common::wait_until("the confirmation", 20, || {
        item_state(&audit, "a1") == Some(ItemState::Confirmed)
    })
    .await;
    common::wait_until("the complete listing", 20, || {
        store.get("t", "b1").is_none() && store.health("t").is_some_and(|h| h.warning.is_none())
    })
    .await;
    engine.shutdown();
}

/// A bulk action against a real connector (Kratos, over HTTP): each target's outcome is
/// reported on its own, and every one of them, failed or not, is in the audit log.
#[tokio::test]
async fn a_bulk_action_reports_each_item_and_audits_every_outcome() {
    use vigil_core::actions::{Context, run};
    use vigil_core::connector::kratos::KratosConnector;
    use vigil_core::model::TenantSpec;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let s = MockServer::start().await;
    for (id, status) in [
        ("ok-1", 204),
        ("ok-2", 204),
        ("denied", 403),
        ("busy", 429),
        ("broken", 503),
        ("gone", 404),
    ] {
        Mock::given(method("DELETE"))
            .and(path(format!("/admin/sessions/{id}")))
            .respond_with(ResponseTemplate::new(status).insert_header("retry-after", "5"))
            .mount(&s)
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(dir.path()).unwrap();
    let spec = TenantSpec::new("ory", ConnectorKind::Kratos, &s.uri()).unwrap();
    let kratos = KratosConnector::new(&spec, vigil_core::SecretString::new("ory_pat_xyz")).unwrap();
    let c: Arc<dyn Connector> = Arc::new(kratos);
    let connectors = HashMap::from([("ory".to_owned(), c)]);
    let ctx = Context {
        connectors: &connectors,
        store: None,
        audit: Some(&audit),
        actor: "t@h",
    };
    let targets = ["ok-1", "ok-2", "denied", "busy", "broken", "gone"]
        .iter()
        .map(|id| SessionRef {
            tenant: "ory".into(),
            session_id: (*id).into(),
        })
        .collect();
    let report = run(&ctx, ActionKind::EndSession, targets, &HashMap::new()).await;
    let by = |id: &str| {
        report
            .items
            .iter()
            .find(|i| i.target.session_id == id)
            .unwrap()
    };
    assert!(by("ok-1").ok && by("ok-2").ok && by("gone").ok && by("gone").already_gone);
    assert_eq!(
        by("denied").error.as_ref().unwrap().code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        by("busy").error.as_ref().unwrap().code,
        ErrorCode::RateLimited
    );
    assert_eq!(
        by("broken").error.as_ref().unwrap().code,
        ErrorCode::ServerError
    );
    assert_eq!(report.failed(), 3);
    let entries = audit.entries(&AuditFilter::default()).unwrap();
    assert_eq!(entries.len(), 6);
    let e = |id: &str| entries.iter().find(|e| e.target == id).unwrap();
    assert_eq!(
        (e("ok-1").state, e("gone").state),
        (ItemState::Accepted, ItemState::Accepted)
    );
    assert_eq!(
        (e("denied").state, e("denied").http_status),
        (ItemState::Failed, Some(403))
    );
    assert_eq!(
        (e("busy").state, e("busy").http_status),
        (ItemState::Failed, Some(429))
    );
    assert_eq!(e("broken").http_status, Some(503));
}
