//! Zitadel connector against a local HTTP mock fed with payloads shaped like Zitadel's
//! documented v2 responses (`ListSessions` with `details.totalResult`, `GetUserByID`,
//! `ListUsers`), the admin/management member searches, the JWT profile token grant and
//! Zitadel's gRPC-gateway error body.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::sync::atomic::Ordering;

use serde_json::{Value, json};
use vigil_connectors::model::{ConnectorKind, TenantSpec};
use vigil_connectors::zitadel::ZitadelConnector;
use vigil_connectors::{Connector, EndOutcome, PollUpdate};
use vigil_connectors::{ErrorCode, SecretString};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn connector(s: &MockServer) -> ZitadelConnector {
    let spec = TenantSpec::new("zitadel", ConnectorKind::Zitadel, &s.uri()).unwrap();
    ZitadelConnector::new(&spec, SecretString::new("pat-zitadel")).unwrap()
}

fn session(id: &str, user: &str, login: &str, ip: &str) -> Value {
    json!({
        "id": id, "creationDate": "2026-11-22T10:55:19.155093Z", "changeDate": "2026-11-22T11:05:00.000001Z",
        "sequence": "591",
        "factors": {
            "user": {"verifiedAt": "2026-11-22T10:55:19.155093Z", "id": user, "loginName": login,
                     "displayName": "Minnie Mouse", "organizationId": "218380657934999772"},
            "password": {"verifiedAt": "2026-11-22T10:55:19.155093Z"},
            "totp": {"verifiedAt": "2026-11-22T10:55:30.000000Z"}
        },
        "metadata": {},
        "userAgent": {"fingerprintId": "fp-1", "ip": ip, "description": "Chrome on macOS",
                      "header": {"user-agent": {"values": ["Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Chrome/120.0"]}}},
        "expirationDate": "2099-11-23T10:55:19.155093Z"
    })
}

fn user(id: &str, username: &str, state: &str) -> Value {
    json!({
        "userId": id, "details": {"sequence": "2", "changeDate": "2026-11-01T00:00:00Z", "resourceOwner": "218380657934999772"},
        "state": state, "username": username, "loginNames": [username], "preferredLoginName": username,
        "human": {"profile": {"givenName": "Minnie", "familyName": "Mouse", "nickName": "", "displayName": "Minnie Mouse",
                              "preferredLanguage": "en", "gender": "GENDER_FEMALE"},
                  "email": {"email": format!("{username}@mouse.example"), "isVerified": true}, "phone": {}}
    })
}

async fn mount_directory(s: &MockServer) {
    Mock::given(method("POST")).and(path("/admin/v1/members/_search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"details": {"totalResult": "1"},
            "result": [{"userId": "u-minnie", "roles": ["IAM_OWNER"], "preferredLoginName": "minnie", "displayName": "Minnie Mouse"}]})))
        .mount(s).await;
    Mock::given(method("POST")).and(path("/management/v1/orgs/me/members/_search"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"code": 7, "message": "No matching permissions found (AUTH-5mWD2)",
            "details": [{"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "id": "AUTH-5mWD2", "message": "No matching permissions found"}]})))
        .mount(s).await;
    for (id, name, state) in [
        ("u-minnie", "minnie", "USER_STATE_ACTIVE"),
        ("u-mickey", "mickey", "USER_STATE_INACTIVE"),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/v2/users/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"details": {"sequence": "2"}, "user": user(id, name, state)}),
            ))
            .mount(s)
            .await;
    }
}

#[tokio::test]
async fn searches_sessions_page_by_page() {
    let s = MockServer::start().await;
    mount_directory(&s).await;
    let mut first: Vec<Value> = (0..98)
        .map(|i| session(&format!("s-{i:03}"), "u-minnie", "minnie", "203.0.113.3"))
        .collect();
    // Zitadel keeps a session listed after it expired, until someone deletes it.
    let mut expired = session("s-expired", "u-minnie", "minnie", "203.0.113.3");
    expired["expirationDate"] = json!("2026-11-23T10:55:19.155093Z");
    first.push(expired);
    first.push(json!({"id": "s-pending", "creationDate": "2026-11-22T10:00:00Z", "changeDate": "2026-11-22T10:00:00Z", "sequence": "1", "factors": {}, "metadata": {}}));
    Mock::given(method("POST")).and(path("/v2/sessions/search"))
        .and(header("authorization", "Bearer pat-zitadel"))
        .and(body_partial_json(json!({"query": {"offset": "0", "limit": 100, "asc": true}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"details": {"totalResult": "101", "timestamp": "2026-11-22T11:10:00Z"}, "sessions": first})))
        .expect(1).mount(&s).await;
    Mock::given(method("POST")).and(path("/v2/sessions/search"))
        .and(body_partial_json(json!({"query": {"offset": "100"}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"details": {"totalResult": "101"}, "sessions": [session("s-mickey", "u-mickey", "mickey", "2001:db8::9")]})))
        .expect(1).mount(&s).await;

    let PollUpdate::Full(mut sessions) = connector(&s).poll().await.unwrap() else {
        panic!()
    };
    sessions.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        sessions.len(),
        99,
        "98 + 1 across two pages; the one without a user and the expired one are skipped"
    );
    assert!(sessions.iter().all(|s| &*s.id != "s-expired"));
    let m = &sessions[0];
    assert_eq!(&*m.id, "s-000");
    assert_eq!(&*m.username, "minnie");
    assert_eq!(
        (m.first_name.as_deref(), m.last_name.as_deref()),
        (Some("Minnie"), Some("Mouse"))
    );
    assert!(m.superuser, "an IAM member");
    assert_eq!(m.ip.as_deref(), Some("203.0.113.3"));
    assert!(m.user_agent.as_deref().unwrap().contains("Chrome/120.0"));
    assert_eq!(m.login_type.as_deref(), Some("password+totp"));
    assert_eq!(
        m.created_at.unwrap().to_rfc3339(),
        "2026-11-22T10:55:19.155093+00:00"
    );
    assert_eq!(
        m.expires_at.unwrap().to_rfc3339(),
        "2099-11-23T10:55:19.155093+00:00"
    );
    let mickey = sessions.iter().find(|x| &*x.id == "s-mickey").unwrap();
    assert!(mickey.disabled && !mickey.superuser);
    assert_eq!(mickey.ip.as_deref(), Some("2001:db8::9"));
}

#[tokio::test]
async fn actions_delete_sessions_and_deactivate_users() {
    let s = MockServer::start().await;
    mount_directory(&s).await;
    Mock::given(method("DELETE"))
        .and(path("/v2/sessions/s-1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"details": {"sequence": "600"}})),
        )
        .expect(2)
        .mount(&s)
        .await;
    Mock::given(method("DELETE")).and(path("/v2/sessions/s-gone"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"code": 5, "message": "Session not found (QUERY-SJ42s)",
            "details": [{"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "id": "QUERY-SJ42s", "message": "Errors.Session.NotFound"}]})))
        .mount(&s).await;
    Mock::given(method("POST")).and(path("/v2/sessions/search"))
        .and(body_partial_json(json!({"queries": [{"userIdQuery": {"id": "u-mickey"}}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"details": {"totalResult": "2"},
            "sessions": [session("s-1", "u-mickey", "mickey", "192.0.2.1"), session("s-gone", "u-mickey", "mickey", "192.0.2.2")]})))
        .mount(&s).await;
    for step in ["deactivate", "reactivate"] {
        Mock::given(method("POST"))
            .and(path(format!("/v2/users/u-mickey/{step}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"details": {"sequence": "7", "changeDate": "2026-11-22T12:00:00Z"}}),
            ))
            .expect(1)
            .mount(&s)
            .await;
    }
    Mock::given(method("POST")).and(path("/v2/users"))
        .and(body_partial_json(json!({"queries": [{"userNameQuery": {"userName": "minnie", "method": "TEXT_QUERY_METHOD_EQUALS"}}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"details": {"totalResult": "1"}, "result": [user("u-minnie", "minnie", "USER_STATE_ACTIVE")]})))
        .mount(&s).await;

    let c = connector(&s);
    assert_eq!(c.end_session("s-1").await.unwrap(), EndOutcome::Ended);
    assert_eq!(
        c.end_session("s-gone").await.unwrap(),
        EndOutcome::AlreadyGone
    );
    assert_eq!(
        c.end_user_sessions("u-mickey").await.unwrap(),
        1,
        "one ended, one already gone"
    );
    assert!(c.disable_user("u-mickey", false).await.unwrap().disabled);
    c.enable_user("u-mickey").await.unwrap();
    let minnie = c.find_user("minnie").await.unwrap().unwrap();
    assert!(minnie.superuser && &*minnie.id == "u-minnie");
}

#[tokio::test]
async fn a_service_user_key_signs_a_jwt_profile_grant() {
    let s = MockServer::start().await;
    let issuer = s.uri();
    let (respond, issued) = common::token_endpoint(0, move |f| {
        if f.get("grant_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            return Err("grant_type".into());
        }
        if f.get("scope").map(String::as_str)
            != Some("openid urn:zitadel:iam:org:project:id:zitadel:aud")
        {
            return Err("scope".into());
        }
        let (header, claims) = common::verify_jwt(&f["assertion"])?;
        let ok = header["kid"] == "key-1"
            && claims["iss"] == "svc-1"
            && claims["sub"] == "svc-1"
            && claims["aud"] == issuer.as_str();
        if ok {
            Ok(())
        } else {
            Err(format!("{header} {claims}"))
        }
    });
    Mock::given(method("POST"))
        .and(path("/oauth/v2/token"))
        .respond_with(respond)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/sessions/search"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"details": {"totalResult": "0"}, "sessions": []})),
        )
        .expect(2)
        .mount(&s)
        .await;
    let key = json!({"type": "serviceaccount", "keyId": "key-1", "key": common::TEST_KEY_PKCS1, "expirationDate": "2030-01-01T00:00:00Z", "userId": "svc-1"});
    let spec = TenantSpec::new("zitadel", ConnectorKind::Zitadel, &s.uri()).unwrap();
    let c = ZitadelConnector::new(&spec, SecretString::new(key.to_string())).unwrap();
    c.poll().await.unwrap();
    c.poll().await.unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2);

    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/v2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "assertion invalid"}),
        ))
        .mount(&s)
        .await;
    let spec = TenantSpec::new("zitadel", ConnectorKind::Zitadel, &s.uri()).unwrap();
    let err = ZitadelConnector::new(&spec, SecretString::new(key.to_string()))
        .unwrap()
        .poll()
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(
        err.message.contains(
            "tenant 'zitadel': token endpoint rejected the JWT bearer assertion: invalid_grant"
        ),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn errors_are_mapped() {
    let z = |code: u8, id: &str| json!({"code": code, "message": format!("m ({id})"), "details": [{"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "id": id, "message": "m"}]});
    let cases = [
        (
            ResponseTemplate::new(401).set_body_json(z(16, "AUTH-7fs1e")),
            ErrorCode::Unauthorized,
            "tenant 'zitadel': the personal access token was rejected",
        ),
        (
            ResponseTemplate::new(403).set_body_json(z(7, "AUTH-5mWD2")),
            ErrorCode::Forbidden,
            "AUTH-5mWD2",
        ),
        (
            ResponseTemplate::new(429)
                .set_body_json(z(8, "QUOTA-limit"))
                .insert_header("retry-after", "60"),
            ErrorCode::RateLimited,
            "retry after 60 s",
        ),
        (
            ResponseTemplate::new(503).set_body_string("upstream connect error"),
            ErrorCode::ServerError,
            "HTTP 503",
        ),
        (
            ResponseTemplate::new(200).set_body_string("{\"sessions\": [}"),
            ErrorCode::MalformedResponse,
            "invalid JSON",
        ),
    ];
    common::poll_errors(
        cases.into(),
        &common::PollError {
            method: "POST",
            path: "/v2/sessions/search".into(),
            starts_with: "searching sessions",
            retry_after: 60..=60,
            secret: "pat-zitadel",
        },
        async |_| {},
        connector,
    )
    .await;
}
