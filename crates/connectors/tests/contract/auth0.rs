//! Auth0 connector against a local HTTP mock fed with payloads shaped like the Management
//! API v2's documented responses (users with `include_totals`, user sessions with the
//! `next` checkpoint, roles), the `/oauth/token` client-credentials answer, Auth0's error
//! body and its `X-RateLimit-*` headers.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use chrono::Utc;
use serde_json::{Value, json};
use vigil_connectors::auth0::Auth0Connector;
use vigil_connectors::model::{ConnectorKind, TenantSpec};
use vigil_connectors::{Connector, EndOutcome, PollUpdate};
use vigil_connectors::{ErrorCode, SecretString};
use wiremock::matchers::{
    body_json, header, method, path, path_regex, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn spec(s: &MockServer) -> TenantSpec {
    let mut spec = TenantSpec::new("auth0-acme", ConnectorKind::Auth0, &s.uri()).unwrap();
    spec.options = BTreeMap::from([
        ("client_id".into(), "m2m-client".into()),
        ("admin_roles".into(), "Admin, Support Lead".into()),
    ]);
    spec
}

fn connector(s: &MockServer) -> Auth0Connector {
    Auth0Connector::new(&spec(s), SecretString::new("m2m-secret")).unwrap()
}

async fn mount_token(
    s: &MockServer,
    expires_in: u64,
) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    let audience = format!("{}/api/v2/", s.uri());
    let (respond, issued) = common::token_endpoint(expires_in, move |f| {
        let ok = f.get("grant_type").map(String::as_str) == Some("client_credentials")
            && f.get("client_id").map(String::as_str) == Some("m2m-client")
            && f.get("client_secret").map(String::as_str) == Some("m2m-secret")
            && f.get("audience") == Some(&audience);
        if ok { Ok(()) } else { Err(format!("{f:?}")) }
    });
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(respond)
        .mount(s)
        .await;
    issued
}

fn user(id: &str, email: &str, blocked: bool) -> Value {
    json!({
        "user_id": id, "email": email, "email_verified": true, "name": "Jane Doe", "nickname": "jane",
        "given_name": "Jane", "family_name": "Doe", "picture": "https://s.gravatar.com/avatar/x.png",
        "created_at": "2024-01-01T00:00:00.000Z", "updated_at": "2026-11-22T09:00:00.000Z",
        "identities": [{"connection": "Username-Password-Authentication", "provider": "auth0", "user_id": id.trim_start_matches("auth0|"), "isSocial": false}],
        "app_metadata": {"department": "Support"}, "user_metadata": {},
        "last_ip": "203.0.113.20", "last_login": "2026-11-22T09:00:00.000Z", "logins_count": 12, "blocked": blocked
    })
}

fn session(id: &str, user: &str, ip: &str) -> Value {
    json!({
        "id": id, "user_id": user,
        "created_at": "2026-11-22T08:00:00.000Z", "updated_at": "2026-11-22T09:30:00.000Z",
        "authenticated_at": "2026-11-22T08:00:00.000Z", "idle_expires_at": "2026-11-25T09:30:00.000Z",
        "expires_at": "2026-11-29T08:00:00.000Z", "last_interacted_at": "2026-11-22T09:30:00.000Z",
        "device": {"initial_user_agent": "Mozilla/5.0 (Macintosh) Safari/605.1.15", "initial_ip": "198.51.100.1", "initial_asn": "1234",
                   "last_user_agent": "Mozilla/5.0 (Macintosh) Safari/605.1.15", "last_ip": ip, "last_asn": "1234"},
        "clients": [{"client_id": "spa-client"}],
        "authentication": {"methods": [{"name": "pwd", "timestamp": "2026-11-22T08:00:00.000Z", "type": "password"}]},
        "cookie": {"mode": "persistent"}, "session_metadata": {}
    })
}

#[tokio::test]
async fn lists_users_page_by_page_and_their_sessions_by_checkpoint() {
    let s = MockServer::start().await;
    let issued = mount_token(&s, 86400).await;
    let mut first: Vec<Value> = (0..99)
        .map(|i| {
            user(
                &format!("auth0|filler{i}"),
                &format!("f{i}@acme.example"),
                false,
            )
        })
        .collect();
    first.insert(0, user("auth0|jane", "jane@acme.example", false));
    Mock::given(method("GET"))
        .and(path("/api/v2/users"))
        .and(query_param("page", "0"))
        .and(query_param("include_totals", "true"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"start": 0, "limit": 100, "length": 100, "total": 102, "users": first}),
        ))
        .mount(&s)
        .await;
    Mock::given(method("GET")).and(path("/api/v2/users")).and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"start": 100, "limit": 100, "length": 2, "total": 102,
            "users": [user("auth0|max", "max@acme.example", false), user("auth0|blocked", "b@acme.example", true)]})))
        .mount(&s).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/auth0%7Cjane/sessions"))
        .and(query_param("from", "cp-2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"sessions": [session("s-jane-2", "auth0|jane", "2001:db8::2")]}),
            ),
        )
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/auth0%7Cjane/sessions"))
        .and(query_param("take", "100"))
        .and(query_param_is_missing("from"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"sessions": [session("s-jane-1", "auth0|jane", "203.0.113.9")], "next": "cp-2"}),
        ))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/auth0%7Cmax/sessions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"sessions": [session("s-max", "auth0|max", "192.0.2.44")]})),
        )
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/auth0%7Cblocked/sessions"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v2/users/auth0%7Cfiller\d+/sessions$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sessions": []})))
        .expect(99)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/auth0%7Cjane/roles"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!([{"id": "rol_1", "name": "Support Lead", "description": "Leads support"}]),
        ))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users/auth0%7Cmax/roles"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": "rol_2", "name": "Viewer", "description": "Reads"}])),
        )
        .mount(&s)
        .await;

    let PollUpdate::Full(mut sessions) = connector(&s).poll().await.unwrap() else {
        panic!()
    };
    sessions.sort_by(|a, b| a.id.cmp(&b.id));
    let ids: Vec<&str> = sessions.iter().map(|x| &*x.id).collect();
    assert_eq!(ids, ["s-jane-1", "s-jane-2", "s-max"]);
    let j = &sessions[0];
    assert_eq!(&*j.username, "jane@acme.example");
    assert_eq!(j.display_name.as_deref(), Some("Jane Doe"));
    assert_eq!(j.department.as_deref(), Some("Support"));
    assert!(j.superuser, "Support Lead is an admin role by option");
    assert_eq!(j.ip.as_deref(), Some("203.0.113.9"));
    assert!(j.user_agent.as_deref().unwrap().contains("Safari"));
    assert_eq!(
        j.created_at.unwrap().to_rfc3339(),
        "2026-11-22T08:00:00+00:00"
    );
    assert_eq!(
        j.last_activity_at.unwrap().to_rfc3339(),
        "2026-11-22T09:30:00+00:00"
    );
    assert_eq!(
        j.expires_at.unwrap().to_rfc3339(),
        "2026-11-25T09:30:00+00:00",
        "the idle expiry comes first"
    );
    assert_eq!(j.login_type.as_deref(), Some("pwd"));
    assert_eq!(j.session_type.as_deref(), Some("persistent"));
    assert!(!sessions[2].superuser);
    assert_eq!(issued.load(Ordering::SeqCst), 1);
}

/// A mock of Auth0's users search as its documentation describes it: sorted by
/// `created_at`, `q=created_at:["…" TO *]` narrows it, and whatever `total` says, no query
/// returns more than 1,000 users.
fn users_search(users: Vec<(String, String)>) -> impl Fn(&wiremock::Request) -> ResponseTemplate {
    move |req| {
        let q: std::collections::HashMap<String, String> =
            req.url.query_pairs().into_owned().collect();
        assert_eq!(q.get("sort").map(String::as_str), Some("created_at:1"));
        assert_eq!(q.get("search_engine").map(String::as_str), Some("v3"));
        let from = q.get("q").map(|q| {
            q.strip_prefix("created_at:[\"")
                .and_then(|r| r.strip_suffix("\" TO *]"))
                .unwrap_or_else(|| panic!("unexpected q {q}"))
                .to_owned()
        });
        let mut matching: Vec<&(String, String)> = users
            .iter()
            .filter(|(_, c)| from.as_ref().is_none_or(|f| c >= f))
            .collect();
        matching.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let total = matching.len();
        let page: usize = q["page"].parse().unwrap();
        let per: usize = q["per_page"].parse().unwrap();
        let reachable = &matching[..total.min(1000)];
        let slice: Vec<Value> = reachable
            .iter()
            .skip(page * per)
            .take(per)
            .map(|(id, created)| {
                let mut u = user(id, &format!("{id}@acme.example"), false);
                u["created_at"] = json!(created);
                u
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({
            "start": page * per, "limit": per, "length": slice.len(), "total": total, "users": slice
        }))
    }
}

async fn mount_no_sessions(s: &MockServer) {
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v2/users/auth0%7Cu\d+/sessions$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sessions": []})))
        .mount(s)
        .await;
}

/// Auth0's users endpoint stops at 1,000 results. Past that the search is redefined by
/// creation time, so every user of a larger tenant is reached and the listing is complete.
#[tokio::test]
async fn every_user_of_a_tenant_larger_than_one_query_is_reached() {
    let s = MockServer::start().await;
    mount_token(&s, 86400).await;
    // 2,500 users, some created in the same millisecond across a window boundary.
    let users: Vec<(String, String)> = (0..2500)
        .map(|i| {
            (
                format!("auth0|u{i}"),
                format!(
                    "2026-01-01T00:{:02}:{:02}.000Z",
                    (i / 2) / 60 % 60,
                    (i / 2) % 60
                ),
            )
        })
        .collect();
    Mock::given(method("GET"))
        .and(path("/api/v2/users"))
        .respond_with(users_search(users))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v2/users/auth0%7Cu\d+/sessions$"))
        .respond_with(|req: &wiremock::Request| {
            let id = req
                .url
                .path()
                .split('/')
                .nth(4)
                .unwrap()
                .replace("auth0%7C", "auth0|");
            ResponseTemplate::new(200).set_body_json(json!({"sessions": [
                {"id": format!("s-{id}"), "user_id": id, "created_at": "2026-01-02T00:00:00.000Z"}
            ]}))
        })
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v2/users/.+/roles$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&s)
        .await;
    match connector(&s).poll().await.unwrap() {
        PollUpdate::Full(sessions) => {
            let users: std::collections::HashSet<_> =
                sessions.iter().map(|s| s.user_id.clone()).collect();
            assert_eq!(users.len(), 2500, "every user reached once");
            assert_eq!(sessions.len(), 2500);
        }
        other => panic!("expected a complete listing, got {other:?}"),
    }
}

/// When more than 1,000 users share one creation time no narrower search exists: the
/// listing is known to be incomplete and says how many users it could not read, and the
/// sessions of the unread ones are never recorded as ended.
#[tokio::test]
async fn users_no_search_can_reach_make_an_incomplete_listing() {
    let s = MockServer::start().await;
    mount_token(&s, 86400).await;
    let users: Vec<(String, String)> = (0..1500)
        .map(|i| (format!("auth0|u{i}"), "2026-01-01T00:00:00.000Z".to_owned()))
        .collect();
    Mock::given(method("GET"))
        .and(path("/api/v2/users"))
        .respond_with(users_search(users))
        .mount(&s)
        .await;
    mount_no_sessions(&s).await;
    match connector(&s).poll().await.unwrap() {
        PollUpdate::Partial { incomplete, .. } => {
            assert!(incomplete.contains("500 of 1500 users"), "{incomplete}");
        }
        other => panic!("expected an incomplete listing, got {other:?}"),
    }
}

#[tokio::test]
async fn actions_use_the_session_and_user_endpoints() {
    let s = MockServer::start().await;
    mount_token(&s, 86400).await;
    // Revoke ends the session and its refresh tokens; DELETE is only the fallback.
    Mock::given(method("POST"))
        .and(path("/api/v2/sessions/s-1/revoke"))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v2/sessions/s-1"))
        .respond_with(ResponseTemplate::new(202))
        .expect(0)
        .mount(&s)
        .await;
    Mock::given(method("DELETE")).and(path("/api/v2/sessions/s-gone"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"statusCode": 404, "error": "Not Found", "message": "The session does not exist", "errorCode": "inexistent_session"})))
        .mount(&s).await;
    Mock::given(method("GET")).and(path("/api/v2/users/auth0%7Cmax/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sessions": [session("a", "auth0|max", "192.0.2.1"), session("b", "auth0|max", "192.0.2.2")]})))
        .mount(&s).await;
    Mock::given(method("DELETE"))
        .and(path("/api/v2/users/auth0%7Cmax/sessions"))
        .respond_with(ResponseTemplate::new(202))
        .expect(2)
        .mount(&s)
        .await;
    for blocked in [true, false] {
        Mock::given(method("PATCH"))
            .and(path("/api/v2/users/auth0%7Cmax"))
            .and(body_json(json!({"blocked": blocked})))
            .respond_with(ResponseTemplate::new(200).set_body_json(user(
                "auth0|max",
                "max@acme.example",
                blocked,
            )))
            .expect(1)
            .mount(&s)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/api/v2/users/auth0%7Cmax/roles"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"id": "rol_9", "name": "admin", "description": ""}])),
        )
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users-by-email"))
        .and(query_param("email", "max@acme.example"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([user(
            "auth0|max",
            "max@acme.example",
            false
        )])))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users"))
        .and(query_param("q", "username:\"ghost\""))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&s)
        .await;

    // User ids travel URL-encoded (auth0|max → auth0%7Cmax), as Auth0 requires.
    let c = connector(&s);
    assert_eq!(c.end_session("s-1").await.unwrap(), EndOutcome::Ended);
    assert_eq!(
        c.end_session("s-gone").await.unwrap(),
        EndOutcome::AlreadyGone
    );
    assert_eq!(c.end_user_sessions("auth0|max").await.unwrap(), 2);
    let u = c.disable_user("auth0|max", true).await.unwrap();
    assert!(u.disabled && u.superuser);
    assert!(!c.enable_user("auth0|max").await.unwrap().disabled);
    assert_eq!(
        c.find_user("max@acme.example")
            .await
            .unwrap()
            .map(|u| u.id)
            .as_deref(),
        Some("auth0|max")
    );
    assert!(c.find_user("ghost").await.unwrap().is_none());
}

#[tokio::test]
async fn tokens_refresh_and_private_key_jwt_is_signed() {
    let s = MockServer::start().await;
    let aud = format!("{}/", s.uri());
    let audience = format!("{}/api/v2/", s.uri());
    let (respond, issued) = common::token_endpoint(0, move |f| {
        common::check_client_assertion(f, "m2m-client", &aud)?;
        if f.get("audience") != Some(&audience) {
            return Err("audience".into());
        }
        Ok(())
    });
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(respond)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/users"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"start": 0, "limit": 100, "length": 0, "total": 0, "users": []}),
            ),
        )
        .expect(2)
        .mount(&s)
        .await;
    let c = Auth0Connector::new(&spec(&s), SecretString::new(common::TEST_KEY)).unwrap();
    c.poll().await.unwrap();
    c.poll().await.unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2);

    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(
                json!({"error": "access_denied", "error_description": "Unauthorized"}),
            ),
        )
        .mount(&s)
        .await;
    let err = connector(&s).poll().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(
        err.message.contains(
            "tenant 'auth0-acme': token endpoint rejected the client secret: access_denied"
        ),
        "{}",
        err.message
    );

    // A token endpoint that is down or throttling is not a rejected credential.
    let s = MockServer::start().await;
    Mock::given(method("POST")).and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7").set_body_json(json!({"error": "too_many_requests", "error_description": "Global limit has been reached"})))
        .mount(&s).await;
    let err = connector(&s).poll().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited, "{}", err.message);
    assert_eq!(err.retry_after_secs, Some(7));
    assert!(
        err.message
            .starts_with("listing users: getting an access token: rate limited"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn management_api_errors_are_mapped() {
    let reset = (Utc::now().timestamp() + 9).to_string();
    let a0 = |status: u16, error: &str, code: &str| json!({"statusCode": status, "error": error, "message": "m", "errorCode": code});
    let cases = [
        (
            ResponseTemplate::new(401).set_body_json(a0(401, "Unauthorized", "invalid_token")),
            ErrorCode::Unauthorized,
            "invalid_token",
        ),
        (
            ResponseTemplate::new(403).set_body_json(a0(403, "Forbidden", "insufficient_scope")),
            ErrorCode::Forbidden,
            "insufficient_scope",
        ),
        (
            ResponseTemplate::new(429)
                .set_body_json(a0(429, "Too Many Requests", "too_many_requests"))
                .insert_header("x-ratelimit-limit", "50")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.as_str()),
            ErrorCode::RateLimited,
            "too_many_requests",
        ),
        (
            ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"),
            ErrorCode::ServerError,
            "HTTP 502",
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"users": "nope"})),
            ErrorCode::MalformedResponse,
            "unexpected shape",
        ),
    ];
    common::poll_errors(
        cases.into(),
        &common::PollError {
            method: "GET",
            path: "/api/v2/users".into(),
            starts_with: "listing users",
            retry_after: 8..=9,
            secret: "m2m-secret",
        },
        async |s| {
            mount_token(s, 86400).await;
        },
        connector,
    )
    .await;
}

#[tokio::test]
async fn concurrent_requests_share_one_token_fetch_and_are_capped() {
    let s = MockServer::start().await;
    let issued = mount_token(&s, 86400).await;
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/api/v2/sessions/s-\d$"))
        .respond_with(ResponseTemplate::new(202).set_delay(std::time::Duration::from_millis(50)))
        .expect(8)
        .mount(&s)
        .await;
    let c = connector(&s);
    let ids: Vec<String> = (0..8).map(|i| format!("s-{i}")).collect();
    let started = std::time::Instant::now();
    let results = futures::future::join_all(ids.iter().map(|id| c.end_session(id))).await;
    // At most four requests of one tenant are in flight: eight 50 ms answers take two rounds.
    assert!(started.elapsed() >= std::time::Duration::from_millis(100));
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().ok() == Some(&EndOutcome::Ended))
    );
    assert_eq!(
        issued.load(Ordering::SeqCst),
        1,
        "one token for eight concurrent requests"
    );
}
