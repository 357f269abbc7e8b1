//! Alert routes, tuning and the shared audit with real parts on the other side: an HTTP
//! sink for webhooks (generic, Slack- and Teams-shaped), a real SMTP server (aiosmtpd,
//! STARTTLS and AUTH), a real syslog daemon (rsyslog: UDP, TCP, TLS) and a real
//! PostgreSQL, started by `tests/servers/*/start.sh` (`scripts/test` exports
//! `VIGIL_TEST_<SERVER>_DIR` and runs these with `--include-ignored`).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use vigil_core::alerts::{AlertFilter, AlertSettings, DeliveryState, Rule};
use vigil_core::audit::{ActionKind, AuditLog, ItemState, NewItem};
use vigil_core::calendar::WorkingCalendar;
use vigil_core::connector::vigil::VigilConnector;
use vigil_core::model::{ConnectorKind, TenantSpec};
use vigil_core::routing::dispatch::Routes;
use vigil_core::routing::{RouteConfig, RouteKind, SmtpSecurity, SyslogFormat, SyslogTransport};
use vigil_core::secrets::SecretStore;
use vigil_core::tuning::{AlertConfig, AlertsFile, TrustedNetwork};
use vigil_core::{Engine, Result, SecretString};
use vigil_demo::{DemoConfig, RunningDemo};

const TOKEN: &str = "routes-token-81c2";

fn server_env(var: &str) -> HashMap<String, String> {
    let dir = PathBuf::from(std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: run through scripts/test, which starts the server (tests/servers)"
        )
    }));
    std::fs::read_to_string(dir.join("env"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Route secrets for the test (the app keeps them in the OS keychain).
#[derive(Default)]
struct Secrets(Mutex<HashMap<String, SecretString>>);

impl SecretStore for Secrets {
    fn get(&self, name: &str) -> Result<Option<SecretString>> {
        Ok(self.0.lock().unwrap().get(name).cloned())
    }
    fn set(&self, name: &str, s: &SecretString) -> Result<()> {
        self.0.lock().unwrap().insert(name.into(), s.clone());
        Ok(())
    }
    fn delete(&self, name: &str) -> Result<()> {
        self.0.lock().unwrap().remove(name);
        Ok(())
    }
}

/// What the HTTP sink received: (path, headers, body).
type Received = Arc<Mutex<Vec<(String, HashMap<String, String>, Vec<u8>)>>>;

/// A local HTTP sink taking any POST; answers 200 "ok" (as Slack does).
async fn sink(addr: SocketAddr) -> (SocketAddr, Received, tokio::task::JoinHandle<()>) {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Uri};
    let got: Received = Arc::default();
    let g = Arc::clone(&got);
    let app = axum::Router::new().fallback(axum::routing::post(
        move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let g = Arc::clone(&g);
            async move {
                let h = headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                    .collect();
                g.lock()
                    .unwrap()
                    .push((uri.path().to_owned(), h, body.to_vec()));
                "ok"
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, got, task)
}

async fn demo(sessions: usize) -> RunningDemo {
    let config = DemoConfig {
        sessions,
        seed: 5,
        token: TOKEN.into(),
        tick: Duration::from_secs(3600),
        ..DemoConfig::default()
    };
    vigil_demo::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap()
}

async fn sign_in(demo: &RunningDemo, username: &str, ip: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/demo/v1/sign-ins", demo.url()))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"username": username, "ip": ip, "user_agent": "curl/8.5.0"}))
        .send()
        .await
        .unwrap();
    resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Working hours on a weekday three days away: now is always at night for the rules.
fn night() -> Option<WorkingCalendar> {
    let away = chrono::Datelike::weekday(&(chrono::Utc::now() + chrono::Duration::days(3)));
    WorkingCalendar::from_parts(Some("UTC"), Some(&format!("{away} 00:00-00:01")), &[]).unwrap()
}

async fn watch(engine: &Engine, demo: &RunningDemo, config: AlertConfig) {
    engine.set_alert_config("demo", config);
    let spec = TenantSpec::new("demo", ConnectorKind::Vigil, &demo.url()).unwrap();
    engine
        .add_tenant(
            Arc::new(VigilConnector::new(&spec, SecretString::new(TOKEN)).unwrap()),
            Duration::from_millis(200),
        )
        .unwrap();
    let store = engine.store().clone();
    common::wait_until("the first poll", 10, || {
        store.health("demo").and_then(|h| h.last_poll_at).is_some()
    })
    .await;
}

fn lines(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the real SMTP and syslog servers; scripts/test starts them"]
async fn a_superuser_sign_in_at_night_reaches_every_route_once() {
    let smtp = server_env("VIGIL_TEST_SMTP_DIR");
    let syslog = server_env("VIGIL_TEST_SYSLOG_DIR");
    let mails_before = lines(&smtp["SMTP_RECEIVED"]).len();
    let syslog_before = lines(&syslog["SYSLOG_RECEIVED"]).len();
    let (addr, got, _sink) = sink("127.0.0.1:0".parse().unwrap()).await;

    let secrets = Arc::new(Secrets::default());
    secrets
        .set("hook", &SecretString::new("signing-key-1"))
        .unwrap();
    secrets
        .set(
            "slack",
            &SecretString::new(format!("http://{addr}/services/T0/B0/XYZ")),
        )
        .unwrap();
    secrets
        .set(
            "teams",
            &SecretString::new(format!("http://{addr}/workflows/teams")),
        )
        .unwrap();
    secrets
        .set("mail", &SecretString::new(smtp["SMTP_PASSWORD"].clone()))
        .unwrap();
    let syslog_route = |name: &str, transport, port: &str, format| RouteConfig {
        name: name.into(),
        kind: RouteKind::Syslog,
        host: Some(if transport == SyslogTransport::Tls {
            syslog["SYSLOG_TLS_NAME"].clone()
        } else {
            "127.0.0.1".into()
        }),
        port: Some(syslog[port].parse().unwrap()),
        transport,
        format,
        facility: "local3".into(),
        ca_certificate: Some(syslog["SYSLOG_CA"].clone()),
        ..Default::default()
    };
    let routes = vec![
        RouteConfig {
            name: "hook".into(),
            url: Some(format!("http://{addr}/vigil")),
            min_severity: vigil_core::alerts::Severity::High,
            ..Default::default()
        },
        RouteConfig {
            name: "slack".into(),
            kind: RouteKind::Slack,
            ..Default::default()
        },
        RouteConfig {
            name: "teams".into(),
            kind: RouteKind::Teams,
            ..Default::default()
        },
        RouteConfig {
            name: "mail".into(),
            kind: RouteKind::Email,
            smtp_host: Some(smtp["SMTP_TLS_NAME"].clone()),
            smtp_port: Some(smtp["SMTP_PORT"].parse().unwrap()),
            security: SmtpSecurity::Starttls,
            username: Some(smtp["SMTP_USER"].clone()),
            from: Some("vigil@example.org".into()),
            to: vec!["soc@example.org".into()],
            ca_certificate: Some(smtp["SMTP_CA"].clone()),
            ..Default::default()
        },
        syslog_route(
            "syslog-udp",
            SyslogTransport::Udp,
            "SYSLOG_UDP_PORT",
            SyslogFormat::Cef,
        ),
        syslog_route(
            "syslog-tcp",
            SyslogTransport::Tcp,
            "SYSLOG_TCP_PORT",
            SyslogFormat::Json,
        ),
        syslog_route(
            "syslog-tls",
            SyslogTransport::Tls,
            "SYSLOG_TLS_PORT",
            SyslogFormat::Cef,
        ),
        // Out of scope: never used.
        RouteConfig {
            name: "other-tenants".into(),
            url: Some(format!("http://{addr}/other")),
            tenants: vec!["globex".into()],
            ..Default::default()
        },
    ];
    vigil_core::routing::validate_all(&routes).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(dir.path()).unwrap();
    let engine = Engine::with_audit(
        tokio::runtime::Handle::current(),
        Some(audit.clone()),
        "ops@host",
    );
    engine.set_routes(Routes {
        routes,
        tags: HashMap::new(),
    });
    engine.start_dispatcher(secrets.clone(), Duration::from_millis(300));
    let demo = demo(50).await;
    watch(
        &engine,
        &demo,
        AlertConfig {
            calendar: night(),
            ..Default::default()
        },
    )
    .await;
    let id = sign_in(&demo, "admin", "198.51.100.23").await;

    common::wait_until("every route delivered", 30, || {
        let stored = audit.alerts(&AlertFilter::default()).unwrap();
        stored
            .iter()
            .find(|s| s.alert.session_id.as_deref() == Some(id.as_str()))
            .is_some_and(|s| {
                s.deliveries.len() == 7
                    && s.deliveries
                        .iter()
                        .all(|d| d.state == DeliveryState::Delivered)
            })
    })
    .await;
    let stored = audit.alerts(&AlertFilter::default()).unwrap();
    let alert = stored
        .iter()
        .find(|s| s.alert.session_id.as_deref() == Some(id.as_str()))
        .unwrap();
    assert!(
        alert.alert.rules.contains(&Rule::SuperuserSignIn)
            && alert.alert.rules.contains(&Rule::OddHours),
        "{alert:?}"
    );
    let mut routes: Vec<&str> = alert.deliveries.iter().map(|d| d.route.as_str()).collect();
    routes.sort_unstable();
    assert_eq!(
        routes,
        [
            "hook",
            "mail",
            "slack",
            "syslog-tcp",
            "syslog-tls",
            "syslog-udp",
            "teams"
        ]
    );

    // The HTTP sink: one generic webhook (signed), one Slack, one Teams message.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = got.lock().unwrap().clone();
    let of = |p: &str| {
        got.iter()
            .filter(|(path, ..)| path.starts_with(p))
            .collect::<Vec<_>>()
    };
    let hooks = of("/vigil");
    assert_eq!(hooks.len(), 1, "{got:?}");
    let (_, headers, body) = hooks[0];
    let ts: i64 = headers["x-vigil-timestamp"].parse().unwrap();
    assert_eq!(
        headers["x-vigil-signature"],
        vigil_core::routing::payload::signature(b"signing-key-1", ts, body)
    );
    let v: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(v["alert"]["username"], "admin");
    assert_eq!(v["alert"]["rule"], "superuser_sign_in");
    assert!(!headers["x-vigil-delivery"].is_empty());
    let slack = of("/services");
    assert_eq!(slack.len(), 1, "{got:?}");
    let s: Value = serde_json::from_slice(&slack[0].2).unwrap();
    assert!(s["text"].as_str().unwrap().contains("admin"), "{s}");
    assert_eq!(s["blocks"][0]["type"], "header");
    let teams = of("/workflows");
    assert_eq!(teams.len(), 1, "{got:?}");
    let t: Value = serde_json::from_slice(&teams[0].2).unwrap();
    assert_eq!(
        t["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(t["attachments"][0]["content"]["type"], "AdaptiveCard");
    assert!(
        of("/other").is_empty(),
        "a route scoped to another tenant got it"
    );

    // The SMTP server: one message, authenticated, to the recipient.
    common::wait_until("the mail", 10, || {
        lines(&smtp["SMTP_RECEIVED"]).len() > mails_before
    })
    .await;
    let mails = lines(&smtp["SMTP_RECEIVED"]);
    let new: Vec<&Value> = mails[mails_before..]
        .iter()
        .filter(|m| m["data"].as_str().unwrap_or("").contains("admin"))
        .collect();
    assert_eq!(new.len(), 1, "{mails:?}");
    assert_eq!(new[0]["auth_user"], smtp["SMTP_USER"].as_str());
    assert_eq!(new[0]["rcpt_tos"][0], "soc@example.org");
    assert!(
        new[0]["data"]
            .as_str()
            .unwrap()
            .contains("Subject: Vigil [high] admin in demo"),
        "{}",
        new[0]["data"]
    );

    // rsyslog: one RFC 5424 message per transport, parsed by its RFC 5424 parser.
    common::wait_until("three syslog messages", 10, || {
        lines(&syslog["SYSLOG_RECEIVED"]).len() >= syslog_before + 3
    })
    .await;
    let msgs = lines(&syslog["SYSLOG_RECEIVED"]);
    let new = &msgs[syslog_before..];
    assert_eq!(new.len(), 3, "{new:?}");
    let mut inputs: Vec<&str> = new
        .iter()
        .map(|m| m["inputname"].as_str().unwrap())
        .collect();
    inputs.sort_unstable();
    assert_eq!(inputs, ["tcp", "tls", "udp"], "{new:?}");
    for m in new {
        assert_eq!(m["protocol_version"], "1", "{m}");
        assert_eq!(m["app_name"], "vigil", "{m}");
        assert_eq!(m["msgid"], "superuser_sign_in", "{m}");
        assert_eq!(m["facility"], 19, "local3: {m}");
        assert!(
            m["structured_data"]
                .as_str()
                .unwrap()
                .contains("user=\"admin\""),
            "{m}"
        );
        let msg = m["msg"].as_str().unwrap();
        if m["inputname"] == "tcp" {
            let body: Value = serde_json::from_str(msg).unwrap();
            assert_eq!(body["alert"]["username"], "admin");
        } else {
            assert!(
                msg.starts_with("CEF:0|Vigil|Vigil|") && msg.contains("suser=admin"),
                "{msg}"
            );
        }
    }
    engine.shutdown();
    demo.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_for_a_while_gets_every_alert_once_even_across_a_restart() {
    // A port with nothing behind it yet.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let routes = vec![RouteConfig {
        name: "hook".into(),
        url: Some(format!("http://{addr}/in")),
        min_severity: vigil_core::alerts::Severity::Low,
        ..Default::default()
    }];
    let secrets: Arc<Secrets> = Arc::default();
    let dir = tempfile::tempdir().unwrap();
    let demo = demo(50).await;
    let users = ["admin", "helpdesk", "secops"];
    let mut ids = Vec::new();
    {
        let audit = AuditLog::open(dir.path()).unwrap();
        let engine = Engine::with_audit(
            tokio::runtime::Handle::current(),
            Some(audit.clone()),
            "ops@host",
        );
        engine.set_routes(Routes {
            routes: routes.clone(),
            tags: HashMap::new(),
        });
        engine.start_dispatcher(secrets.clone(), Duration::from_millis(200));
        watch(
            &engine,
            &demo,
            AlertConfig {
                calendar: night(),
                ..Default::default()
            },
        )
        .await;
        for u in users {
            ids.push(sign_in(&demo, u, "198.51.100.9").await);
        }
        // Tried and failed, with the cause on each delivery.
        common::wait_until("failed attempts", 20, || {
            let d = audit.deliveries(Some("hook"), 100).unwrap();
            d.len() >= 3
                && d.iter()
                    .all(|d| d.attempts >= 1 && d.state == DeliveryState::Queued)
        })
        .await;
        let d = audit.deliveries(Some("hook"), 100).unwrap();
        let err = d[0].last_error.clone().unwrap();
        assert!(
            err.contains("route 'hook'") && err.contains("cannot connect"),
            "{err}"
        );
        engine.shutdown();
    }
    // A restart, and the receiver comes up.
    let (_, got, _sink) = sink(addr).await;
    let audit = AuditLog::open(dir.path()).unwrap();
    let engine = Engine::with_audit(
        tokio::runtime::Handle::current(),
        Some(audit.clone()),
        "ops@host",
    );
    engine.set_routes(Routes {
        routes,
        tags: HashMap::new(),
    });
    engine.start_dispatcher(secrets, Duration::from_millis(200));
    common::wait_until("delivered after the restart", 30, || {
        audit
            .deliveries(Some("hook"), 100)
            .unwrap()
            .iter()
            .all(|d| d.state == DeliveryState::Delivered)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = got.lock().unwrap().clone();
    let mut sessions: Vec<String> = got
        .iter()
        .map(|(_, _, b)| {
            serde_json::from_slice::<Value>(b).unwrap()["alert"]["session_id"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .filter(|s| ids.contains(s))
        .collect();
    sessions.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(sessions, want, "each alert once, none lost");
    engine.shutdown();
    demo.stop().await.unwrap();
}

#[tokio::test]
#[ignore = "needs the real SMTP server; scripts/test starts it"]
async fn a_wrong_smtp_password_is_a_clear_error_on_the_route() {
    let smtp = server_env("VIGIL_TEST_SMTP_DIR");
    let secrets = Arc::new(Secrets::default());
    secrets
        .set("mail", &SecretString::new("wrong-password-0000"))
        .unwrap();
    let route = RouteConfig {
        name: "mail".into(),
        kind: RouteKind::Email,
        smtp_host: Some(smtp["SMTP_TLS_NAME"].clone()),
        smtp_port: Some(smtp["SMTP_PORT"].parse().unwrap()),
        username: Some(smtp["SMTP_USER"].clone()),
        from: Some("vigil@example.org".into()),
        to: vec!["soc@example.org".into()],
        ca_certificate: Some(smtp["SMTP_CA"].clone()),
        ..Default::default()
    };
    let e = vigil_core::routing::dispatch::send_test(&route, secrets.clone())
        .await
        .unwrap_err();
    assert_eq!(e.code, vigil_core::ErrorCode::Unauthorized, "{e}");
    assert!(
        e.message.contains("route 'mail'") && e.message.contains("535"),
        "{e}"
    );
    assert!(
        !e.message.contains("wrong-password"),
        "the password leaked: {e}"
    );
    // Without the CA the server's certificate is refused, and said so.
    let untrusted = RouteConfig {
        ca_certificate: None,
        ..route.clone()
    };
    let e = vigil_core::routing::dispatch::send_test(&untrusted, secrets.clone())
        .await
        .unwrap_err();
    assert!(e.message.contains("route 'mail'"), "{e}");
    // The right password works.
    secrets
        .set("mail", &SecretString::new(smtp["SMTP_PASSWORD"].clone()))
        .unwrap();
    vigil_core::routing::dispatch::send_test(&route, secrets)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_network_silences_the_several_networks_rule_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let audit = AuditLog::open(dir.path()).unwrap();
    let (addr, got, _sink) = sink("127.0.0.1:0".parse().unwrap()).await;
    let engine = Engine::with_audit(
        tokio::runtime::Handle::current(),
        Some(audit.clone()),
        "ops@host",
    );
    engine.set_routes(Routes {
        routes: vec![RouteConfig {
            name: "hook".into(),
            url: Some(format!("http://{addr}/in")),
            min_severity: vigil_core::alerts::Severity::Low,
            ..Default::default()
        }],
        tags: HashMap::new(),
    });
    engine.start_dispatcher(Arc::new(Secrets::default()), Duration::from_millis(200));
    let file = AlertsFile {
        trusted_networks: vec![TrustedNetwork {
            name: "office".into(),
            cidrs: vec!["203.0.113.0/24".into()],
            ..Default::default()
        }],
        ..Default::default()
    };
    let settings = AlertSettings {
        superuser_sign_in: false,
        ..Default::default()
    };
    let demo = demo(0).await;
    watch(
        &engine,
        &demo,
        AlertConfig::new(settings, None, file.for_tenant("demo", &[])),
    )
    .await;
    let mut alerts = engine.subscribe_alerts();
    // helpdesk: two untrusted networks → an alert. secops: home and the office →
    // suppressed.
    let bob = [
        sign_in(&demo, "helpdesk", "198.51.100.7").await,
        sign_in(&demo, "helpdesk", "192.0.2.5").await,
    ];
    let alice = [
        sign_in(&demo, "secops", "198.51.100.8").await,
        sign_in(&demo, "secops", "203.0.113.9").await,
    ];
    let of_alice = |s: &Option<String>| s.as_ref().is_some_and(|s| alice.contains(s));
    let announced = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let a = alerts.recv().await.unwrap();
            if a.rules.contains(&Rule::MultipleNetworks) {
                break a;
            }
        }
    })
    .await
    .unwrap();
    assert!(
        announced
            .session_id
            .as_ref()
            .is_some_and(|s| bob.contains(s)),
        "{announced:?}"
    );
    common::wait_until("secops's suppressed alert", 10, || {
        audit
            .alerts(&AlertFilter::default())
            .unwrap()
            .iter()
            .any(|s| of_alice(&s.alert.session_id))
    })
    .await;
    let all = audit.alerts(&AlertFilter::default()).unwrap();
    let a = all.iter().find(|s| of_alice(&s.alert.session_id)).unwrap();
    assert_eq!(
        a.alert.suppressed_by.as_deref(),
        Some("trusted network office"),
        "{a:?}"
    );
    assert!(a.acknowledged && a.deliveries.is_empty(), "{a:?}");
    assert!(
        !audit
            .alerts(&AlertFilter {
                open_only: true,
                ..Default::default()
            })
            .unwrap()
            .iter()
            .any(|s| s.id == a.id),
        "a suppressed alert is not open"
    );
    common::wait_until("bob's alert delivered", 10, || {
        !got.lock().unwrap().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let got = got.lock().unwrap().clone();
    assert!(
        got.iter()
            .all(|(_, _, b)| !String::from_utf8_lossy(b).contains("secops")),
        "a suppressed alert was routed"
    );
    engine.shutdown();
    demo.stop().await.unwrap();
}

fn split_url(url: &str) -> (String, SecretString) {
    // postgres://user:pw@host:port/db → (postgres://user@host:port/db, pw)
    let rest = url.strip_prefix("postgres://").unwrap();
    let (cred, host) = rest.split_once('@').unwrap();
    let (user, pw) = cred.split_once(':').unwrap();
    (format!("postgres://{user}@{host}"), SecretString::new(pw))
}

fn item(operator: &str, target: &str) -> NewItem {
    NewItem {
        action_id: format!("act-{target}"),
        actor: operator.into(),
        tenant: "acme".into(),
        action: ActionKind::Logout,
        target: target.into(),
        target_user: Some(format!("user-{target}\u{0}\u{202e}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the real PostgreSQL server; scripts/test starts it"]
async fn two_operators_share_one_audit_that_survives_an_outage_and_proves_intact() {
    use vigil_core::shared_audit::{self, SharedAuditConfig};
    let pg = server_env("VIGIL_TEST_POSTGRES_DIR");
    let dir = PathBuf::from(std::env::var("VIGIL_TEST_POSTGRES_DIR").unwrap());
    let cfg_of = |url: &str| {
        let (u, pw) = split_url(url);
        let c = SharedAuditConfig {
            url: u,
            tls: false,
            ca_certificate: None,
        };
        c.validate().unwrap();
        (c, pw)
    };
    // The owner creates the table and lets both operators in.
    let (owner, owner_pw) = cfg_of(&pg["PG_OWNER_URL"]);
    let admin = shared_audit::connect(&owner, Some(&owner_pw))
        .await
        .unwrap();
    shared_audit::init(&admin, &["op_alice".into(), "op_bob".into()])
        .await
        .unwrap();
    shared_audit::init(&admin, &["op_alice".into()])
        .await
        .unwrap(); // idempotent
    let before = shared_audit::verify(&admin).await.unwrap().rows;

    let (alice_cfg, alice_pw) = cfg_of(&pg["PG_ALICE_URL"]);
    let (bob_cfg, bob_pw) = cfg_of(&pg["PG_BOB_URL"]);
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (alice, bob) = (
        AuditLog::open(da.path()).unwrap(),
        AuditLog::open(db.path()).unwrap(),
    );
    let ids = alice.begin(&[item("alice@laptop", "s1")]).unwrap();
    alice
        .record(ids[0], ItemState::Accepted, Some(204), None, None)
        .unwrap();
    let ids = bob.begin(&[item("bob@desk", "s2")]).unwrap();
    bob.record(
        ids[0],
        ItemState::Failed,
        Some(403),
        Some("forbidden"),
        Some("no"),
    )
    .unwrap();

    let mut ca = shared_audit::connect(&alice_cfg, Some(&alice_pw))
        .await
        .unwrap();
    let mut cb = shared_audit::connect(&bob_cfg, Some(&bob_pw))
        .await
        .unwrap();
    assert_eq!(shared_audit::replicate(&alice, &mut ca).await.unwrap(), 2);
    assert_eq!(shared_audit::replicate(&bob, &mut cb).await.unwrap(), 2);
    assert_eq!(
        shared_audit::replicate(&bob, &mut cb).await.unwrap(),
        0,
        "nothing twice"
    );

    // PostgreSQL stops mid-run: the local audit goes on; replication fails, then catches up.
    let ctl = |what: &str| {
        let ok = std::process::Command::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/servers/postgres/ctl.sh"
        ))
        .arg(&dir)
        .arg(what)
        .status()
        .unwrap()
        .success();
        assert!(ok, "ctl.sh {what}");
    };
    ctl("stop");
    let ids = alice.begin(&[item("alice@laptop", "s3")]).unwrap();
    alice
        .record(ids[0], ItemState::Confirmed, None, None, None)
        .unwrap();
    let e = shared_audit::replicate(&alice, &mut ca).await.unwrap_err();
    assert!(e.message.starts_with("shared audit:"), "{e}");
    assert_eq!(shared_audit::pending(&alice).unwrap(), 2);
    ctl("start");
    let mut ca = shared_audit::connect(&alice_cfg, Some(&alice_pw))
        .await
        .unwrap();
    assert_eq!(shared_audit::replicate(&alice, &mut ca).await.unwrap(), 2);
    assert_eq!(shared_audit::pending(&alice).unwrap(), 0);
    // Bob's connection did not outlive the restart either.
    let cb = shared_audit::connect(&bob_cfg, Some(&bob_pw))
        .await
        .unwrap();

    // One audit: both operators, as the database knows them.
    let events = shared_audit::list(&cb, Some("acme"), None, 100)
        .await
        .unwrap();
    let who: std::collections::BTreeSet<(&str, &str)> = events
        .iter()
        .map(|e| (e.operator.as_str(), e.db_user.as_str()))
        .collect();
    assert!(
        who.contains(&("alice@laptop", "op_alice")) && who.contains(&("bob@desk", "op_bob")),
        "{who:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.target == "s3" && e.state == "confirmed")
    );
    assert!(
        events
            .iter()
            .all(|e| !e.target_user.as_deref().unwrap_or("").contains('\0'))
    );
    let v = shared_audit::verify(&cb).await.unwrap();
    assert_eq!(v.rows, before + 6);

    // Operators cannot change or remove what is there.
    for sql in [
        "UPDATE vigil_audit SET message = 'x'",
        "DELETE FROM vigil_audit",
        "TRUNCATE vigil_audit",
    ] {
        let e = cb.batch_execute(sql).await.unwrap_err();
        assert!(
            e.to_string().contains("permission denied")
                || format!("{e:?}").contains("permission denied"),
            "{sql}: {e:?}"
        );
    }
    // Even the superuser, with the triggers off, cannot change a row unseen.
    let (sup, sup_pw) = cfg_of(&pg["PG_SUPER_URL"]);
    let root = shared_audit::connect(&sup, Some(&sup_pw)).await.unwrap();
    let victim = before + 2;
    root.batch_execute(&format!(
        "CREATE TEMP TABLE saved AS SELECT * FROM vigil_audit WHERE seq = {victim};
         ALTER TABLE vigil_audit DISABLE TRIGGER USER;
         UPDATE vigil_audit SET message = 'nothing happened' WHERE seq = {victim};"
    ))
    .await
    .unwrap();
    let e = shared_audit::verify(&cb).await.unwrap_err();
    assert!(
        e.message.contains(&format!("row {victim}")) && e.message.contains("changed"),
        "{e}"
    );
    // …nor remove one.
    root.batch_execute(&format!(
        "UPDATE vigil_audit v SET message = s.message FROM saved s WHERE v.seq = s.seq;
         DELETE FROM vigil_audit WHERE seq = {victim};"
    ))
    .await
    .unwrap();
    let e = shared_audit::verify(&cb).await.unwrap_err();
    assert!(
        e.message.contains(&format!("row {victim} is missing")),
        "{e}"
    );
    // Put back as it was, the chain is whole again.
    root.batch_execute(
        "INSERT INTO vigil_audit SELECT * FROM saved; ALTER TABLE vigil_audit ENABLE TRIGGER USER;",
    )
    .await
    .unwrap();
    assert_eq!(shared_audit::verify(&cb).await.unwrap().rows, before + 6);
}

/// The Slack and Teams payloads, hostile text included, compiled against the vendors'
/// own TypeScript types (npm @slack/webhook with @slack/types' Block Kit; adaptivecards'
/// schema types and botframework-schema's Activity for Teams) by the TypeScript compiler
/// that `tests/vendor/fetch.sh` installs beside them.
#[test]
#[ignore = "needs the vendors' artifacts; scripts/test fetches them (tests/vendor/fetch.sh)"]
fn slack_and_teams_payloads_match_the_vendors_types() {
    use vigil_core::alerts::{Alert, Severity};
    use vigil_core::routing::payload;
    let dir = PathBuf::from(std::env::var("VIGIL_VENDOR_ARTIFACTS").unwrap_or_else(|_| {
        panic!(
            "VIGIL_VENDOR_ARTIFACTS is not set: run through scripts/test (tests/vendor/fetch.sh)"
        )
    }))
    .join("route-types");
    let alerts = [
        Alert {
            rule: Rule::SuperuserSignIn,
            rules: vec![Rule::SuperuserSignIn, Rule::OddHours],
            severity: Severity::High,
            tenant: "acme|prod".into(),
            username: Some("<!channel> [x](https://evil.example) \u{202e}*bold*".into()),
            session_id: Some("s1".into()),
            ip: Some("203.0.113.9".into()),
            user_agent: Some("curl\x1b[2J".into()),
            at: chrono::Utc::now(),
            message: "x".repeat(5_000),
            count: 1,
            suppressed_by: None,
        },
        Alert {
            rule: Rule::TenantProblem,
            rules: vec![Rule::TenantProblem],
            severity: Severity::Low,
            tenant: "globex".into(),
            username: None,
            session_id: None,
            ip: None,
            user_agent: None,
            at: chrono::Utc::now(),
            message: "37 alerts".into(),
            count: 37,
            suppressed_by: None,
        },
    ];
    let mut ts = String::from(
        "import type { IncomingWebhookSendArguments } from \"@slack/webhook\";\n\
         import type { IAdaptiveCard } from \"adaptivecards/lib/schema\";\n\
         import type { Activity, Attachment } from \"botframework-schema\";\n",
    );
    for (i, a) in alerts.iter().enumerate() {
        let slack = payload::slack(a);
        // Slack refuses a header over 150 characters and a section text over 3,000.
        assert!(
            slack["blocks"][0]["text"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                <= 150
        );
        assert!(
            slack["blocks"][1]["text"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                <= 3000
        );
        let teams = payload::teams(a);
        let card = teams["attachments"][0]["content"].clone();
        let mut envelope = teams.clone();
        envelope["attachments"][0]["content"] = serde_json::json!({});
        ts.push_str(&format!(
            "export const slack{i} = {} satisfies IncomingWebhookSendArguments;\n\
             export const card{i} = {} satisfies IAdaptiveCard;\n\
             export const teams{i} = {} satisfies Partial<Activity> & {{ attachments: Attachment[] }};\n",
            serde_json::to_string_pretty(&slack).unwrap(),
            serde_json::to_string_pretty(&card).unwrap(),
            serde_json::to_string_pretty(&envelope).unwrap(),
        ));
    }
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("payloads.ts"), ts).unwrap();
    std::os::unix::fs::symlink(dir.join("node_modules"), work.path().join("node_modules")).unwrap();
    let out = std::process::Command::new("node")
        .arg(dir.join("node_modules/typescript/bin/tsc"))
        .args([
            "--noEmit",
            "--strict",
            "--exactOptionalPropertyTypes",
            "--target",
            "es2022",
            "--module",
            "nodenext",
            "--moduleResolution",
            "nodenext",
            "--skipLibCheck",
            "payloads.ts",
        ])
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
