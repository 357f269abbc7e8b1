//! Every connector against a server that answers anything: arbitrary JSON (often shaped
//! like the vendor's), junk bytes, any status. Each poll and each check must end in a
//! value or a clear error, within its timeout, and never panic. 48 cases per run in the
//! test command; longer: `PROPTEST_CASES=5000 cargo test -p vigil-core --test
//! connectors --release fuzz::`.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use vigil_connectors::Connector;
use vigil_connectors::SecretString;
use vigil_connectors::model::{ConnectorKind, TenantSpec};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// What the server answers next: (status, body), and whether token requests succeed.
#[derive(Clone)]
struct Script {
    status: u16,
    body: Vec<u8>,
    token_ok: bool,
    /// `expires_in` of token answers.
    expires_in: Value,
    /// A `Retry-After` header on every answer.
    retry_after: Option<&'static str>,
}

struct Answer(Arc<Mutex<Script>>, Arc<AtomicUsize>);

impl Respond for Answer {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.1.fetch_add(1, Ordering::SeqCst);
        let s = self.0.lock().unwrap().clone();
        if s.token_ok && req.url.path().contains("token") {
            return ResponseTemplate::new(200).set_body_json(
                json!({"access_token": "t", "token_type": "Bearer", "expires_in": s.expires_in}),
            );
        }
        let mut answer = ResponseTemplate::new(s.status).set_body_raw(s.body, "application/json");
        if let Some(r) = s.retry_after {
            answer = answer.insert_header("retry-after", r);
        }
        answer
    }
}

struct Rig {
    rt: tokio::runtime::Runtime,
    script: Arc<Mutex<Script>>,
    requests: Arc<AtomicUsize>,
    connectors: Vec<(ConnectorKind, Arc<dyn Connector>)>,
    _server: MockServer,
}

/// One server and one connector of every kind, built once for all cases of one test
/// (`which`: each test has its own, so tests running side by side do not interfere).
fn rig(which: usize) -> &'static Rig {
    static RIGS: [OnceLock<Rig>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    RIGS[which].get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let script = Arc::new(Mutex::new(Script {
            status: 200,
            body: b"{}".to_vec(),
            token_ok: true,
            expires_in: json!(3600),
            retry_after: None,
        }));
        let requests = Arc::new(AtomicUsize::new(0));
        let server = rt.block_on(async {
            let server = MockServer::start().await;
            Mock::given(wiremock::matchers::any())
                .respond_with(Answer(Arc::clone(&script), Arc::clone(&requests)))
                .mount(&server)
                .await;
            server
        });
        let mut connectors = Vec::new();
        for kind in ConnectorKind::ALL {
            let mut spec = TenantSpec::new("fuzz", *kind, &server.uri()).unwrap();
            spec.request_timeout = Duration::from_secs(2);
            for opt in vigil_connectors::kind_info(*kind).options {
                let value = match opt.key.as_str() {
                    // Token endpoints go to the same server, not to the vendor.
                    "login_url" => Some(server.uri()),
                    "audience" => Some(format!("{}/api/v2/", server.uri())),
                    "subject" => Some("admin@example.com".to_owned()),
                    _ if opt.required => Some("fuzz".to_owned()),
                    _ => None,
                };
                if let Some(v) = value {
                    spec.options.insert(opt.key.clone(), v);
                }
            }
            // Secrets of the three shapes the kinds take: a token or client secret, a PEM
            // key, and a Google service-account key whose token_uri is this server.
            let service_account = json!({
                "type": "service_account",
                "client_email": "vigil@fuzz.iam.gserviceaccount.com",
                "private_key": common::TEST_KEY,
                "token_uri": format!("{}/token", server.uri()),
            })
            .to_string();
            let built = vigil_connectors::build(&spec, SecretString::new("fuzz-secret"))
                .or_else(|_| vigil_connectors::build(&spec, SecretString::new(common::TEST_KEY)))
                .or_else(|_| vigil_connectors::build(&spec, SecretString::new(&service_account)));
            match built {
                Ok(c) => connectors.push((*kind, c)),
                Err(e) => panic!("{kind}: cannot build a connector to fuzz: {e}"),
            }
        }
        Rig {
            rt,
            script,
            requests,
            connectors,
            _server: server,
        }
    })
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,24}".prop_map(Value::String),
        prop::sample::select(vec![
            "9999-12-31T23:59:59Z",
            "2026-11-23T10:00:00Z",
            "1700000000000",
            "10.0.0.1",
            "user.session.start",
            "urn:ietf:params",
            "",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Keys the vendors use, so bodies often almost fit.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "sessions",
            "users",
            "value",
            "records",
            "items",
            "data",
            "events",
            "result",
            "next_cursor",
            "nextRecordsUrl",
            "@odata.nextLink",
            "nextPageToken",
            "next",
            "total",
            "totalSize",
            "done",
            "id",
            "user_id",
            "userId",
            "username",
            "email",
            "start",
            "lastAccess",
            "created_at",
            "createdDateTime",
            "ipAddress",
            "ip",
            "clientIp",
            "actor",
            "client",
            "outcome",
            "eventType",
            "published",
            "token",
            "access_token",
            "expires_in",
            "watermark",
            "identity",
            "devices",
            "last_seen",
            "last_seen_ts",
            "NumSecondsValid",
            "LastModifiedDate",
            "CreatedDate",
            "create_at",
            "last_activity_at",
            "expires_at",
            "expirationDate",
            "creationDate",
            "expiresAt",
            "createdAt",
            "idle_timeout_seconds",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z_@.]{1,12}",
    ]
}

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(48),
        // Failing cases are kept (crates/core/proptest-regressions/) and replayed first.
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(
                "proptest-regressions/fuzz_connectors.txt",
            ),
        )),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn every_connector_survives_any_answer(
        body in prop_oneof![
            4 => any_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
            1 => prop::collection::vec(any::<u8>(), 0..256),
        ],
        status in prop_oneof![8 => Just(200u16), 1 => Just(204u16), 1 => 400u16..600],
        token_ok in prop_oneof![4 => Just(true), 1 => Just(false)],
    ) {
        let rig = rig(0);
        *rig.script.lock().unwrap() = Script {
            status,
            body,
            token_ok,
            expires_in: json!(3600),
            retry_after: None,
        };
        run_all(rig, true)?;
    }

    /// Extreme numbers and dates where the vendors put numbers and dates: 0, negative,
    /// i64/u64 extremes, year 262143, epoch milliseconds past any calendar, and token
    /// lifetimes of the same. Every answer is read (status 200, no waits), and no
    /// connector may panic: the guard would turn a panic into an error, and the test
    /// fails on that error too, from the poll and from the check.
    #[test]
    fn every_connector_survives_extreme_numbers(
        body in extreme_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        expires_in in extreme_number(),
    ) {
        let rig = rig(1);
        *rig.script.lock().unwrap() = Script {
            status: 200,
            body,
            token_ok: true,
            expires_in,
            retry_after: None,
        };
        run_all(rig, true)?;
    }
}

/// `Retry-After` no clock can hold, on throttling and on server errors: every connector
/// answers with a clear error and waits at most an hour, never panics. Before the fix the
/// OAuth connectors' pause overflowed an `Instant`.
#[test]
fn every_connector_survives_a_retry_after_of_u64_max() {
    let rig = rig(2);
    for (status, retry_after) in [
        (429, "18446744073709551615"),
        (503, "99999999999999999999999999"),
        (429, "Fri, 31 Dec 9999 23:59:59 GMT"),
    ] {
        *rig.script.lock().unwrap() = Script {
            status,
            body: b"{}".to_vec(),
            token_ok: true,
            expires_in: json!(3600),
            retry_after: Some(retry_after),
        };
        // A connector already waiting out the first answer may rightly not ask again.
        if let Err(e) = run_all(rig, false) {
            panic!("{status} / {retry_after}: {e}");
        }
    }
}

/// Polls and checks every connector once against the scripted answer.
fn run_all(rig: &Rig, must_ask: bool) -> Result<(), TestCaseError> {
    {
        for (kind, c) in &rig.connectors {
            let before = rig.requests.load(Ordering::SeqCst);
            let outcome = rig.rt.block_on(async {
                c.reset().await;
                tokio::time::timeout(Duration::from_secs(20), async {
                    let polled = c.poll().await.map(|_| ());
                    let checked = c.check().await;
                    (polled, checked.error)
                })
                .await
            });
            let outcome = outcome.map(|(polled, check_error)| {
                // A panic during the check is as much a failure as one during the poll.
                match check_error {
                    Some(e) if e.message.contains("failed on the tenant's answer") => {
                        Err(vigil_connectors::Error::internal(e.message))
                    }
                    _ => polled,
                }
            });
            match outcome {
                Err(_) => prop_assert!(false, "{kind}: the poll did not end within its timeouts"),
                Ok(Err(e)) => {
                    prop_assert!(!e.message.is_empty(), "{kind}: an empty error");
                    prop_assert!(
                        !e.message.contains("failed on the tenant's answer"),
                        "{kind}: the connector panicked: {e}"
                    );
                }
                Ok(Ok(())) => {}
            }
            prop_assert!(
                !must_ask || rig.requests.load(Ordering::SeqCst) > before,
                "{kind}: the answer was never asked for"
            );
        }
    }
    Ok(())
}

fn extreme_number() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!(0),
        json!(-1),
        json!(i64::MIN),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1e308),
        json!(-1e308),
        json!(4_294_967_296u64),
        json!("18446744073709551615"),
        json!("-9223372036854775808"),
    ])
}

/// JSON shaped like the vendors' answers whose numbers and dates are extremes.
fn extreme_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        3 => extreme_number(),
        3 => prop::sample::select(vec![
            "+262142-12-31T23:59:59Z",
            "-262143-01-01T00:00:00Z",
            "262143-12-31T23:59:59Z",
            "9999-12-31T23:59:59.999999999Z",
            "0000-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "2026-11-23T10:00:00+23:59",
            "9223372036854775807",
            "10.0.0.1",
            "",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        1 => Just(Value::Null),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 1..10)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}
