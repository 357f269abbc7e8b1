//! Google Workspace connector against a local HTTP mock fed with payloads shaped like the
//! Admin SDK's documented responses (Reports API `admin#reports#activities` with
//! `nextPageToken`, Directory API `admin#directory#user`, `users.signOut`), Google's OAuth
//! token endpoint for a service account's JWT bearer grant, and Google's error bodies.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use vigil_connectors::google::GoogleConnector;
use vigil_connectors::model::{ConnectorKind, TenantSpec};
use vigil_connectors::{Connector, PollUpdate};
use vigil_connectors::{ErrorCode, SecretString};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const LOGIN: &str = "/admin/reports/v1/activity/users/all/applications/login";

fn key_json(s: &MockServer) -> String {
    json!({
        "type": "service_account", "project_id": "vigil-test",
        "private_key_id": "0123456789abcdef", "private_key": common::TEST_KEY,
        "client_email": "vigil@vigil-test.iam.gserviceaccount.com", "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": format!("{}/token", s.uri()),
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/vigil%40vigil-test.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com"
    })
    .to_string()
}

fn connector(s: &MockServer) -> GoogleConnector {
    let mut spec = TenantSpec::new("workspace", ConnectorKind::Google, &s.uri()).unwrap();
    spec.options = BTreeMap::from([("subject".into(), "admin@example.com".into())]);
    GoogleConnector::new(&spec, SecretString::new(key_json(s))).unwrap()
}

async fn mount_token(
    s: &MockServer,
    expires_in: u64,
) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    let aud = format!("{}/token", s.uri());
    let (respond, issued) = common::token_endpoint(expires_in, move |f| {
        if f.get("grant_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            return Err("grant_type".into());
        }
        let (header, claims) = common::verify_jwt(f.get("assertion").ok_or("no assertion")?)?;
        let ok = header["kid"] == "0123456789abcdef"
            && claims["iss"] == "vigil@vigil-test.iam.gserviceaccount.com"
            && claims["sub"] == "admin@example.com"
            && claims["aud"] == aud.as_str()
            // Per method, as the Admin SDK discovery documents list them
            // (google-api-python-client 2.202.0): activities.list needs
            // admin.reports.audit.readonly, users.get/update admin.directory.user, and
            // users.signOut admin.directory.user.security alone.
            && claims["scope"]
                == "https://www.googleapis.com/auth/admin.reports.audit.readonly https://www.googleapis.com/auth/admin.directory.user https://www.googleapis.com/auth/admin.directory.user.security";
        if ok {
            Ok(())
        } else {
            Err(format!("{header} {claims}"))
        }
    });
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(respond)
        .mount(s)
        .await;
    issued
}

fn activity(user: &str, email: &str, ip: &str, name: &str, mins_ago: i64) -> Value {
    json!({
        "kind": "admin#reports#activity",
        "id": {"time": (Utc::now() - Duration::minutes(mins_ago)).to_rfc3339_opts(SecondsFormat::Millis, true),
               "uniqueQualifier": format!("-58{mins_ago}"), "applicationName": "login", "customerId": "C03az79cb"},
        "etag": "\"abc/def\"",
        "actor": {"email": email, "profileId": user},
        "ipAddress": ip,
        "networkInfo": {"ipAsn": [3320], "regionCode": "DE", "subdivisionCode": "DE-BE"},
        "events": [{"type": "login", "name": name, "parameters": [
            {"name": "login_type", "value": "google_password"},
            {"name": "login_challenge_method", "multiValue": ["password"]},
            {"name": "is_suspicious", "boolValue": false}
        ]}]
    })
}

fn user(id: &str, email: &str, is_admin: bool, suspended: bool) -> Value {
    json!({
        "kind": "admin#directory#user", "id": id, "etag": "\"e\"", "primaryEmail": email,
        "name": {"givenName": "Liz", "familyName": "Doe", "fullName": "Liz Doe"},
        "isAdmin": is_admin, "isDelegatedAdmin": false, "lastLoginTime": "2026-11-22T09:00:00.000Z",
        "creationTime": "2020-01-01T00:00:00.000Z", "agreedToTerms": true, "suspended": suspended,
        "archived": false, "changePasswordAtNextLogin": false, "ipWhitelisted": false,
        "emails": [{"address": email, "primary": true}],
        "organizations": [{"name": "Example GmbH", "title": "Engineer", "primary": true, "customType": "", "department": "Platform"}],
        "customerId": "C03az79cb", "orgUnitPath": "/", "isMailboxSetup": true
    })
}

async fn mount_users(s: &MockServer) {
    for (id, email, admin, suspended) in [
        ("111", "liz@example.com", true, false),
        ("222", "max@example.com", false, false),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/admin/directory/v1/users/{id}")))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(user(id, email, admin, suspended)),
            )
            .mount(s)
            .await;
    }
}

#[tokio::test]
async fn login_activity_becomes_sessions_across_pages() {
    let s = MockServer::start().await;
    let issued = mount_token(&s, 3599).await;
    mount_users(&s).await;
    Mock::given(method("GET"))
        .and(path(LOGIN))
        .and(query_param(
            "pageToken",
            "A:1764000000000000:-58:login:C03az79cb",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "admin#reports#activities", "etag": "\"p2\"",
            "items": [activity("222", "max@example.com", "198.51.100.4", "login_success", 50),
                      activity("222", "max@example.com", "198.51.100.4", "logout", 45)]
        })))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(LOGIN))
        .and(query_param("maxResults", "1000"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "admin#reports#activities", "etag": "\"p1\"",
            "items": [activity("111", "liz@example.com", "203.0.113.4", "login_success", 10),
                      activity("111", "liz@example.com", "203.0.113.4", "login_success", 70),
                      activity("111", "liz@example.com", "192.0.2.1", "login_failure", 5)],
            "nextPageToken": "A:1764000000000000:-58:login:C03az79cb"
        })))
        .mount(&s)
        .await;
    let PollUpdate::Full(sessions) = connector(&s).poll().await.unwrap() else {
        panic!()
    };
    assert_eq!(
        sessions.len(),
        1,
        "max logged out; a failure is no session: {sessions:?}"
    );
    let liz = &sessions[0];
    assert_eq!(&*liz.username, "liz@example.com");
    assert_eq!(liz.display_name.as_deref(), Some("Liz Doe"));
    assert_eq!(
        (liz.department.as_deref(), liz.organisation.as_deref()),
        (Some("Platform"), Some("Example GmbH"))
    );
    assert!(liz.superuser && !liz.disabled);
    assert_eq!(liz.ip.as_deref(), Some("203.0.113.4"));
    assert_eq!(liz.location.as_deref(), Some("DE-BE"));
    assert_eq!(liz.login_type.as_deref(), Some("google_password"));
    assert!(
        liz.user_agent.is_none(),
        "Google's login events carry no user agent"
    );
    assert_eq!((Utc::now() - liz.created_at.unwrap()).num_minutes(), 70);
    assert_eq!(issued.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn sign_out_suspend_and_unsuspend() {
    let s = MockServer::start().await;
    mount_token(&s, 3599).await;
    mount_users(&s).await;
    Mock::given(method("GET"))
        .and(path(LOGIN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "admin#reports#activities",
            "items": [activity("222", "max@example.com", "198.51.100.4", "login_success", 3)]
        })))
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/admin/directory/v1/users/222/signOut"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    for suspended in [true, false] {
        Mock::given(method("PUT"))
            .and(path("/admin/directory/v1/users/222"))
            .and(body_json(json!({"suspended": suspended})))
            .respond_with(ResponseTemplate::new(200).set_body_json(user(
                "222",
                "max@example.com",
                false,
                suspended,
            )))
            .expect(1)
            .mount(&s)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/admin/directory/v1/users/ghost@example.com"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {
            "code": 404, "message": "Resource Not Found: userKey",
            "errors": [{"message": "Resource Not Found: userKey", "domain": "global", "reason": "notFound"}]}})))
        .mount(&s)
        .await;
    let c = connector(&s);
    let PollUpdate::Full(before) = c.poll().await.unwrap() else {
        panic!()
    };
    assert_eq!(before.len(), 1);
    let err = c.end_session(&before[0].id).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unsupported);
    assert!(err.message.contains("users.signOut"));
    assert_eq!(c.end_user_sessions("222").await.unwrap(), 1);
    let PollUpdate::Full(after) = c.poll().await.unwrap() else {
        panic!()
    };
    assert!(after.is_empty());
    assert!(c.disable_user("222", false).await.unwrap().disabled);
    assert!(!c.enable_user("222").await.unwrap().disabled);
    assert!(c.find_user("ghost@example.com").await.unwrap().is_none());
}

#[tokio::test]
async fn tokens_are_refreshed_and_a_missing_delegation_is_named() {
    let s = MockServer::start().await;
    let issued = mount_token(&s, 0).await;
    Mock::given(method("GET"))
        .and(path(LOGIN))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"kind": "admin#reports#activities"})),
        )
        .expect(2)
        .mount(&s)
        .await;
    let c = connector(&s);
    c.poll().await.unwrap();
    c.poll().await.unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2);

    let s = MockServer::start().await;
    Mock::given(method("POST")).and(path("/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "unauthorized_client",
            "error_description": "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."
        })))
        .mount(&s).await;
    let err = connector(&s).poll().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(err.message.contains("tenant 'workspace': token endpoint rejected the JWT bearer assertion: unauthorized_client"), "{}", err.message);
    assert!(!err.message.contains("PRIVATE KEY"));

    // A secret that is not a service account key is a configuration error.
    let mut spec = TenantSpec::new("workspace", ConnectorKind::Google, &s.uri()).unwrap();
    spec.options = BTreeMap::from([("subject".into(), "admin@example.com".into())]);
    let err = GoogleConnector::new(&spec, SecretString::new("ya29.not-a-key"))
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::Config);
    assert!(!err.message.contains("ya29"));
}

#[tokio::test]
async fn google_errors_are_mapped() {
    let google_error = |code: u16, status: &str| json!({"error": {"code": code, "message": "m", "errors": [{"message": "m", "domain": "global", "reason": "r"}], "status": status}});
    let cases = [
        (
            ResponseTemplate::new(401).set_body_json(google_error(401, "UNAUTHENTICATED")),
            ErrorCode::Unauthorized,
            "freshly issued",
        ),
        (
            ResponseTemplate::new(403).set_body_json(google_error(403, "PERMISSION_DENIED")),
            ErrorCode::Forbidden,
            "PERMISSION_DENIED",
        ),
        (
            ResponseTemplate::new(429)
                .set_body_json(google_error(429, "RESOURCE_EXHAUSTED"))
                .insert_header("retry-after", "20"),
            ErrorCode::RateLimited,
            "retry after 20 s",
        ),
        (
            ResponseTemplate::new(500).set_body_json(google_error(500, "INTERNAL")),
            ErrorCode::ServerError,
            "HTTP 500",
        ),
        (
            ResponseTemplate::new(200).set_body_string("{\"items\": [{"),
            ErrorCode::MalformedResponse,
            "invalid JSON",
        ),
    ];
    common::poll_errors(
        cases.into(),
        &common::PollError {
            method: "GET",
            path: LOGIN.into(),
            starts_with: "reading login activity",
            retry_after: 20..=20,
            secret: "BEGIN PRIVATE KEY",
        },
        async |s| {
            mount_token(s, 3599).await;
        },
        connector,
    )
    .await;
}

/// Login activity comes newest first. A log longer than the page limit is cut short: the
/// poll says the listing is incomplete, and the read cursor stays where it was, so the
/// older part is read again instead of skipped for good.
#[tokio::test]
async fn a_log_longer_than_the_page_limit_is_incomplete_and_not_skipped() {
    let s = MockServer::start().await;
    mount_token(&s, 3599).await;
    mount_users(&s).await;
    Mock::given(method("GET"))
        .and(path(LOGIN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "admin#reports#activities",
            "items": [activity("111", "liz@example.com", "203.0.113.4", "login_success", 10)],
            "nextPageToken": "more"
        })))
        .mount(&s)
        .await;
    let c = connector(&s);
    for _ in 0..2 {
        match c.poll().await.unwrap() {
            PollUpdate::Partial { incomplete, .. } => {
                assert!(incomplete.contains("200 pages"), "{incomplete}");
            }
            other => panic!("expected an incomplete listing, got {other:?}"),
        }
    }
    let starts: Vec<String> = s
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == LOGIN && !r.url.query_pairs().any(|(k, _)| k == "pageToken"))
        .map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "startTime")
                .unwrap()
                .1
                .into_owned()
        })
        .collect();
    assert_eq!(starts.len(), 2);
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap();
    assert!(
        (t(&starts[1]) - t(&starts[0])).num_seconds() < 5,
        "the cursor did not jump to the newest entry read: {starts:?}"
    );
}
