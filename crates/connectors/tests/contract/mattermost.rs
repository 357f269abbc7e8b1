//! Mattermost connector against a local HTTP mock fed with payloads shaped like the API
//! v4's documented responses (`User`, `Session` with its token, `Audit`, `StatusOK`) and
//! its `AppError` body.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;
use serde_json::{Value, json};
use vigil_connectors::mattermost::MattermostConnector;
use vigil_connectors::model::{ConnectorKind, TenantSpec};
use vigil_connectors::{Connector, EndOutcome, PollUpdate};
use vigil_connectors::{ErrorCode, SecretString};
use wiremock::matchers::{body_json, header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn connector(s: &MockServer) -> MattermostConnector {
    let spec = TenantSpec::new("chat", ConnectorKind::Mattermost, &s.uri()).unwrap();
    MattermostConnector::new(&spec, SecretString::new("pat-admin-token")).unwrap()
}

fn user(id: &str, username: &str, roles: &str, delete_at: i64) -> Value {
    json!({
        "id": id, "create_at": 1700000000000i64, "update_at": 1700000000000i64, "delete_at": delete_at,
        "username": username, "auth_data": "", "auth_service": "", "email": format!("{username}@chat.example"),
        "email_verified": true, "nickname": "", "first_name": "Grace", "last_name": "Hopper",
        "position": "Engineering", "roles": roles, "locale": "en", "timezone": {"useAutomaticTimezone": "true"},
        "is_bot": false, "disable_welcome_email": false
    })
}

fn session(id: &str, user: &str, kind: Option<&str>, device: &str) -> Value {
    let mut props = json!({"browser": "Chrome/120.0", "os": "Windows 10", "platform": "Windows", "csrf": "x1", "isSaml": "false", "is_mobile": "false", "is_guest": "false"});
    if let Some(k) = kind {
        props["type"] = json!(k);
    }
    json!({
        "id": id, "token": format!("SECRET-TOKEN-{id}"), "create_at": 1763800000000i64,
        "expires_at": 1766392000000i64, "last_activity_at": 1763803600000i64, "user_id": user,
        "device_id": device, "roles": "system_user", "is_oauth": false, "expired_notify": false,
        "props": props, "team_members": [], "local": false
    })
}

async fn mount_me(s: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .and(header("authorization", "Bearer pat-admin-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user(
            "u-admin",
            "admin",
            "system_user system_admin",
            0,
        )))
        .mount(s)
        .await;
}

#[tokio::test]
async fn lists_sessions_of_active_users_with_ips_and_never_their_tokens() {
    let s = MockServer::start().await;
    mount_me(&s).await;
    let mut first: Vec<Value> = (0..199)
        .map(|i| user(&format!("filler{i}"), &format!("f{i}"), "system_user", 0))
        .collect();
    first.push(user("u-admin", "admin", "system_user system_admin", 0));
    Mock::given(method("GET"))
        .and(path("/api/v4/users"))
        .and(query_param("page", "0"))
        .and(query_param("per_page", "200"))
        .respond_with(ResponseTemplate::new(200).set_body_json(first))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            user("u-grace", "grace", "system_user", 0),
            user("u-gone", "gone", "system_user", 1763000000000i64)
        ])))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v4/users/filler\d+/sessions$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(199)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/u-gone/sessions"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/u-admin/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([session(
            "s-pat",
            "u-admin",
            Some("UserAccessToken"),
            ""
        )])))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/u-grace/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            session("s-web", "u-grace", None, ""),
            session("s-phone", "u-grace", None, "apple_rn:abc")
        ])))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/u-admin/audits"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&s)
        .await;
    Mock::given(method("GET")).and(path("/api/v4/users/u-grace/audits"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "a3", "create_at": 1763803000000i64, "user_id": "u-grace", "action": "/api/v4/users/me", "extra_info": "", "ip_address": "203.0.113.80", "session_id": "s-web"},
            {"id": "a2", "create_at": 1763800000000i64, "user_id": "u-grace", "action": "/api/v4/users/login", "extra_info": "success session_user=u-grace", "ip_address": "203.0.113.1", "session_id": "s-web"},
            {"id": "a1", "create_at": 1763800000000i64, "user_id": "u-grace", "action": "/api/v4/users/login", "extra_info": "success", "ip_address": "::ffff:198.51.100.3", "session_id": "s-phone"}
        ]))).mount(&s).await;

    let PollUpdate::Full(mut sessions) = connector(&s).poll().await.unwrap() else {
        panic!()
    };
    sessions.sort_by(|a, b| a.id.cmp(&b.id));
    let ids: Vec<&str> = sessions.iter().map(|x| &*x.id).collect();
    assert_eq!(ids, ["s-pat", "s-phone", "s-web"]);
    let (pat, phone, web) = (&sessions[0], &sessions[1], &sessions[2]);
    assert!(
        pat.current && pat.superuser,
        "Vigil's own token session of a system admin"
    );
    assert_eq!(pat.session_type.as_deref(), Some("UserAccessToken"));
    assert_eq!(&*web.username, "grace");
    assert_eq!(web.display_name.as_deref(), Some("Grace Hopper"));
    assert_eq!(
        web.ip.as_deref(),
        Some("203.0.113.80"),
        "the newest audit entry wins"
    );
    assert_eq!(web.user_agent.as_deref(), Some("Chrome/120.0 (Windows 10)"));
    assert_eq!(web.session_type.as_deref(), Some("web"));
    assert_eq!(web.created_at.unwrap().timestamp_millis(), 1763800000000);
    assert_eq!(
        web.last_activity_at.unwrap().timestamp_millis(),
        1763803600000
    );
    assert_eq!(web.expires_at.unwrap().timestamp_millis(), 1766392000000);
    assert!(!web.superuser && !web.current);
    assert_eq!(phone.ip.as_deref(), Some("198.51.100.3"));
    assert_eq!(phone.session_type.as_deref(), Some("mobile"));
    let shown = serde_json::to_string(&sessions).unwrap();
    assert!(
        !shown.contains("SECRET-TOKEN"),
        "session tokens are dropped at parse time"
    );
    assert!(!format!("{sessions:?}").contains("SECRET-TOKEN"));
}

#[tokio::test]
async fn actions_revoke_through_the_user_and_deactivate() {
    let s = MockServer::start().await;
    mount_me(&s).await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([user(
            "u-grace",
            "grace",
            "system_user",
            0
        )])))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/u-grace/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            session("s-web", "u-grace", None, ""),
            session("s-old", "u-grace", None, "")
        ])))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/u-grace/audits"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v4/users/u-grace/sessions/revoke"))
        .and(body_json(json!({"session_id": "s-web"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "OK"})))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST")).and(path("/api/v4/users/u-grace/sessions/revoke")).and(body_json(json!({"session_id": "s-old"})))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"id": "app.session.get.app_error", "message": "We couldn't find the existing session.", "detailed_error": "", "request_id": "r1", "status_code": 404})))
        .mount(&s).await;
    Mock::given(method("POST"))
        .and(path("/api/v4/users/u-grace/sessions/revoke/all"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "OK"})))
        .expect(1)
        .mount(&s)
        .await;
    for active in [false, true] {
        Mock::given(method("PUT"))
            .and(path("/api/v4/users/u-grace/active"))
            .and(body_json(json!({"active": active})))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "OK"})))
            .expect(1)
            .mount(&s)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/api/v4/users/u-grace"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user(
            "u-grace",
            "grace",
            "system_user",
            1763900000000i64,
        )))
        .mount(&s)
        .await;
    Mock::given(method("GET")).and(path("/api/v4/users/username/nobody"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"id": "app.user.missing_account.const", "message": "Unable to find the user.", "detailed_error": "", "request_id": "r2", "status_code": 404})))
        .mount(&s).await;

    let c = connector(&s);
    let err = c.end_session("s-web").await.unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::InvalidInput,
        "unknown before a poll: {}",
        err.message
    );
    c.poll().await.unwrap();
    assert_eq!(c.end_session("s-web").await.unwrap(), EndOutcome::Ended);
    assert_eq!(
        c.end_session("s-old").await.unwrap(),
        EndOutcome::AlreadyGone
    );
    assert_eq!(c.end_user_sessions("u-grace").await.unwrap(), 2);
    assert!(c.disable_user("u-grace", false).await.unwrap().disabled);
    c.enable_user("u-grace").await.unwrap();
    assert!(c.find_user("nobody").await.unwrap().is_none());
}

#[tokio::test]
async fn errors_name_the_cause() {
    let app_error = |id: &str, status: u16| json!({"id": id, "message": "m", "detailed_error": "", "request_id": "r", "status_code": status});
    let cases = [
        (
            ResponseTemplate::new(401)
                .set_body_json(app_error("api.context.session_expired.app_error", 401)),
            ErrorCode::Unauthorized,
            "tenant 'chat': the personal access token was rejected",
        ),
        (
            ResponseTemplate::new(403)
                .set_body_json(app_error("api.context.permissions.app_error", 403)),
            ErrorCode::Forbidden,
            "api.context.permissions.app_error",
        ),
        (
            ResponseTemplate::new(429)
                .set_body_json(app_error("api.context.rate_limit.app_error", 429))
                .insert_header("retry-after", "3")
                .insert_header("x-ratelimit-remaining", "0"),
            ErrorCode::RateLimited,
            "retry after 3 s",
        ),
        (
            ResponseTemplate::new(500).set_body_json(app_error("app.user.get.app_error", 500)),
            ErrorCode::ServerError,
            "HTTP 500",
        ),
        (
            ResponseTemplate::new(200).set_body_string("[{\"id\": 1"),
            ErrorCode::MalformedResponse,
            "invalid JSON",
        ),
    ];
    common::poll_errors(
        cases.into(),
        &common::PollError {
            method: "GET",
            path: "/api/v4/users".into(),
            starts_with: "listing users",
            retry_after: 3..=3,
            secret: "pat-admin-token",
        },
        async |s| {
            mount_me(s).await;
        },
        connector,
    )
    .await;
    // Test connection flags a token that is not a system admin's.
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user(
            "u-bob",
            "bob",
            "system_user",
            0,
        )))
        .mount(&s)
        .await;
    let check = connector(&s).check().await;
    assert!(check.authenticated);
    assert_eq!(check.permissions, ["system_user"]);
    assert_eq!(check.error.map(|e| e.code), Some(ErrorCode::Forbidden));
}
