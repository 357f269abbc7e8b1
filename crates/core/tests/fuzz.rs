//! Property tests over everything a tenant, a config file or the window can hand Vigil:
//! whatever the input, parsing returns a value or a clear error, and never panics.
//! The test command runs a short pass (256 cases per property); a longer one:
//! `PROPTEST_CASES=100000 cargo test -p vigil-core --test fuzz --release`.
//! A failing case is written to `proptest-regressions/` and replayed first from then on.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use vigil_core::calendar::{WorkingHours, parse_holiday, parse_timezone};
use vigil_core::config::ConfigFile;
use vigil_core::connector::PollUpdate;
use vigil_core::connector::http::decode_slice;
use vigil_core::model::{ConnectorKind, Session, parse_base_url};
use vigil_core::store::{SessionQuery, SessionStore, UserQuery};
use vigil_session_api::{ApiSession, ChangePage, SessionPage, UserPage};

/// Any JSON value, a few levels deep, with the strings a hostile server would pick.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("9999-12-31T23:59:59Z"),
            Just("0000-01-01T00:00:00Z"),
            Just("2026-02-30T25:61:61Z"),
            Just("-1"),
            Just("::ffff:10.0.0.1"),
            Just("10.0.0.0/99"),
            Just("\u{0000}\u{202e}"),
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(field_name(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Field names of the wire types (so objects often almost fit), or anything.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "sessions",
            "users",
            "next_cursor",
            "watermark",
            "id",
            "user_id",
            "username",
            "created_at",
            "last_activity_at",
            "expires_at",
            "idle_timeout_seconds",
            "ip",
            "user_agent",
            "session_type",
            "login_type",
            "server_name",
            "current",
            "superuser",
            "protected",
            "disabled",
            "started",
            "ended",
            "reason",
            "ended_at",
            "position",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,12}",
    ]
}

/// A session as a tenant might describe it, every field arbitrary.
fn any_api_session() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(field_name(), any_json(), 0..14).prop_map(|mut m| {
        m.entry("id".into()).or_insert(json!("s"));
        m.entry("user_id".into()).or_insert(json!("u"));
        m.entry("username".into()).or_insert(json!("n"));
        Value::Object(m.into_iter().collect())
    })
}

/// A session with the right types and odd values: duplicate and empty ids, far dates,
/// any address, long and strange text.
fn plausible_session() -> impl Strategy<Value = Value> {
    let date = prop_oneof![
        Just("9999-12-31T23:59:59Z".to_owned()),
        Just("1970-01-01T00:00:00Z".to_owned()),
        (-62_000_000_000i64..250_000_000_000i64).prop_map(|t| {
            chrono::DateTime::from_timestamp(t, 0)
                .map(|d| d.to_rfc3339())
                .unwrap_or_else(|| "2026-01-01T00:00:00Z".into())
        }),
    ];
    let ip = prop_oneof![
        any::<[u8; 4]>().prop_map(|o| std::net::Ipv4Addr::from(o).to_string()),
        any::<[u16; 8]>().prop_map(|s| std::net::Ipv6Addr::from(s).to_string()),
        ".{0,20}",
    ];
    (
        prop_oneof![Just("dup".to_owned()), Just(String::new()), ".{0,24}"],
        prop_oneof![Just("u1".to_owned()), ".{0,24}"],
        ".{0,40}",
        prop::option::of(date.clone()),
        prop::option::of(date.clone()),
        prop::option::of(date),
        prop::option::of(ip),
        prop::option::of(".{0,120}"),
        prop::option::of(any::<u32>()),
        any::<bool>(),
    )
        .prop_map(
            |(id, user, name, created, last, expires, ip, ua, idle, current)| {
                json!({
                    "id": id, "user_id": user, "username": name, "created_at": created,
                    "last_activity_at": last, "expires_at": expires, "ip": ip, "user_agent": ua,
                    "idle_timeout_seconds": idle, "current": current,
                })
            },
        )
}

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256),
        // Failing cases are kept (crates/core/proptest-regressions/) and replayed first.
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("proptest-regressions/fuzz.txt"),
        )),
        ..ProptestConfig::default()
    }
}

fn session_of(api: ApiSession) -> Session {
    let tenant: Arc<str> = Arc::from("fuzz");
    let mut s = Session::new(&tenant, api.id, api.user_id, api.username);
    s.created_at = api.created_at;
    s.last_activity_at = api.last_activity_at;
    s.expires_at = api.expires_at;
    s.ip = api.ip;
    s.user_agent = api.user_agent.map(Into::into);
    s.server_name = api.server_name.map(Into::into);
    s.session_type = api.session_type.map(Into::into);
    s
}

proptest! {
    #![proptest_config(cases())]

    /// Listing pages, change feeds and user pages: decoded, or a clear error.
    #[test]
    fn wire_pages_decode_or_fail_clearly(body in any_json(), junk in prop::collection::vec(any::<u8>(), 0..64)) {
        let bytes = serde_json::to_vec(&body).unwrap();
        for input in [bytes.clone(), junk.clone(), [bytes.as_slice(), junk.as_slice()].concat()] {
            for e in [
                decode_slice::<SessionPage>(&input).err(),
                decode_slice::<ChangePage>(&input).err(),
                decode_slice::<UserPage>(&input).err(),
            ]
            .into_iter()
            .flatten()
            {
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    /// Sessions that decode go through the store and every query without a panic.
    #[test]
    fn odd_sessions_survive_the_store_and_its_queries(
        raw in prop::collection::vec(
            prop_oneof![4 => plausible_session(), 1 => any_api_session()],
            0..24,
        ),
        query in prop::collection::btree_map(
            prop::sample::select(vec![
                "search", "tenants", "superuser_only", "user", "username", "ip", "user_agent",
                "session_id", "session_types", "created_from", "created_to", "sort",
                "descending", "offset", "limit",
            ]).prop_map(str::to_owned),
            any_json(),
            0..6,
        ),
    ) {
        let page = json!({"sessions": raw, "watermark": "0"});
        let Ok(page) = serde_json::from_value::<SessionPage>(page) else { return Ok(()); };
        let store = SessionStore::new();
        let tenant: Arc<str> = Arc::from("fuzz");
        store.register_tenant(&tenant, ConnectorKind::Vigil);
        let sessions: Vec<Session> = page.sessions.into_iter().map(session_of).collect();
        store.apply("fuzz", PollUpdate::Full(sessions), Duration::ZERO).unwrap();
        let q = Value::Object(query.into_iter().collect());
        if let Ok(q) = serde_json::from_value::<SessionQuery>(q.clone())
            && let Err(e) = store.query(&q) {
                prop_assert!(!e.message.is_empty());
            }
        if let Ok(q) = serde_json::from_value::<UserQuery>(q)
            && let Err(e) = store.query_users(&q) {
                prop_assert!(!e.message.is_empty());
            }
        let _ = store.summary();
        let _ = store.facets();
    }

    /// Config files: loaded, or an error that names the file.
    #[test]
    fn config_files_load_or_name_the_file(text in prop_oneof![
        ".{0,200}",
        (field_name(), any_json()).prop_map(|(k, v)| format!("[[tenants]]\nname = \"a\"\nkind = \"vigil\"\nurl = \"https://a.example\"\n{k} = {v}\n")),
        any_json().prop_map(|v| format!("[app]\ntheme = {v}\nhistory_retention_days = {v}\n")),
    ]) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(vigil_core::config::FILE_NAME), &text).unwrap();
        if let Err(e) = ConfigFile::load(dir.path()) {
            prop_assert!(e.message.contains("config.toml"), "{}", e.message);
        }
    }

    /// The small parsers behind tenant settings and filters.
    #[test]
    fn setting_parsers_never_panic(s in ".{0,80}") {
        let _ = WorkingHours::parse(&s);
        let _ = parse_holiday(&s);
        let _ = parse_timezone(&s);
        let _ = parse_base_url(&s);
        let _ = vigil_core::alerts::network_of(&s);
    }
}
