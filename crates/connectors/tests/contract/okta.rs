//! Okta connector against a local HTTP mock fed with payloads shaped like Okta's documented
//! responses: System Log `LogEvent`s with `Link` paging, `User`, role assignments, the OAuth
//! token response, `E0000…` error bodies and `X-Rate-Limit-*` headers.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use vigil_connectors::model::{ConnectorKind, TenantSpec};
use vigil_connectors::okta::OktaConnector;
use vigil_connectors::{Connector, EndOutcome, PollUpdate};
use vigil_connectors::{ErrorCode, SecretString};
use wiremock::matchers::{header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn spec(s: &MockServer, options: &[(&str, &str)]) -> TenantSpec {
    let mut spec = TenantSpec::new("okta-acme", ConnectorKind::Okta, &s.uri()).unwrap();
    spec.options = options
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect::<BTreeMap<_, _>>();
    spec
}

fn connector(s: &MockServer) -> OktaConnector {
    OktaConnector::new(&spec(s, &[]), SecretString::new("00ssws-token")).unwrap()
}

fn ago(mins: i64) -> String {
    (Utc::now() - Duration::minutes(mins)).to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn event(kind: &str, user: &str, login: &str, sid: &str, mins_ago: i64, result: &str) -> Value {
    json!({
        "uuid": format!("uuid-{kind}-{sid}-{mins_ago}"),
        "published": ago(mins_ago),
        "eventType": kind, "version": "0", "severity": "INFO",
        "legacyEventType": "core.user_auth.login_success",
        "displayMessage": "User login to Okta",
        "actor": {"id": user, "type": "User", "alternateId": login, "displayName": "Ada Lovelace", "detailEntry": null},
        "client": {
            "userAgent": {"rawUserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0", "os": "Windows 10", "browser": "CHROME"},
            "zone": "null", "device": "Computer", "id": null, "ipAddress": "203.0.113.7",
            "geographicalContext": {"city": "Berlin", "state": "Land Berlin", "country": "Germany", "postalCode": "10117",
                                    "geolocation": {"lat": 52.52, "lon": 13.4}}
        },
        "outcome": {"result": result, "reason": null},
        "target": null,
        "transaction": {"type": "WEB", "id": "Wn4f-0RQ8D8lTSLkAmkKdQAADqo", "detail": {}},
        "debugContext": {"debugData": {"requestUri": "/idp/idx/identify"}},
        "authenticationContext": {"authenticationProvider": null, "credentialProvider": null,
            "credentialType": "PASSWORD", "issuer": null, "interface": null, "authenticationStep": 0,
            "externalSessionId": sid},
        "securityContext": {"asNumber": null, "asOrg": null, "isp": null, "domain": null, "isProxy": null},
        "request": {"ipChain": [{"ip": "203.0.113.7", "version": "V4"}]}
    })
}

fn user(id: &str, login: &str, status: &str) -> Value {
    json!({
        "id": id, "status": status, "created": "2024-01-01T00:00:00.000Z", "activated": null,
        "statusChanged": null, "lastLogin": "2026-11-22T09:00:00.000Z", "lastUpdated": "2026-11-22T09:00:00.000Z",
        "passwordChanged": null, "type": {"id": "oty1"},
        "profile": {"firstName": "Ada", "lastName": "Lovelace", "mobilePhone": null, "secondEmail": null,
                    "login": login, "email": login, "department": "Research", "organization": "Acme"},
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {"self": {"href": "https://acme.okta.com/api/v1/users/x"}}
    })
}

async fn mount_users(s: &MockServer) {
    for (id, login, status, roles) in [
        (
            "00u1",
            "ada@acme.example",
            "ACTIVE",
            json!([{"id": "ra1", "label": "Super Organization Administrator", "type": "SUPER_ADMIN", "status": "ACTIVE", "created": "2024-01-01T00:00:00.000Z", "lastUpdated": "2024-01-01T00:00:00.000Z", "assignmentType": "USER"}]),
        ),
        ("00u2", "bob@acme.example", "SUSPENDED", json!([])),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/api/v1/users/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(user(id, login, status)))
            .mount(s)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/api/v1/users/{id}/roles")))
            .respond_with(ResponseTemplate::new(200).set_body_json(roles))
            .mount(s)
            .await;
    }
}

#[tokio::test]
async fn sessions_are_derived_from_the_system_log_across_pages() {
    let s = MockServer::start().await;
    let next = format!("{}/api/v1/logs?after=cursor2&limit=1000", s.uri());
    Mock::given(method("GET"))
        .and(path("/api/v1/logs"))
        .and(query_param("after", "cursor2"))
        .and(header("authorization", "SSWS 00ssws-token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([
                    event(
                        "user.session.start",
                        "00u2",
                        "bob@acme.example",
                        "102bob",
                        20,
                        "SUCCESS"
                    ),
                    event(
                        "user.session.end",
                        "00u1",
                        "ada@acme.example",
                        "102ended",
                        5,
                        "SUCCESS"
                    ),
                ]))
                .insert_header(
                    "link",
                    format!("<{}/api/v1/logs?after=cursor3>; rel=\"next\"", s.uri()).as_str(),
                ),
        )
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/logs"))
        .and(query_param("after", "cursor3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/logs"))
        .and(query_param("sortOrder", "ASCENDING"))
        .and(query_param(
            "filter",
            "eventType eq \"user.session.start\" or eventType eq \"user.session.end\" or eventType eq \"user.session.clear\"",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([
                    event("user.session.start", "00u1", "ada@acme.example", "102ada", 30, "SUCCESS"),
                    event("user.session.start", "00u1", "ada@acme.example", "102failed", 29, "FAILURE"),
                    event("user.session.start", "00u1", "ada@acme.example", "102ended", 25, "SUCCESS"),
                    event("user.session.start", "00u1", "ada@acme.example", "102old", 60 * 30, "SUCCESS"),
                ]))
                .insert_header("link", format!("<{}/api/v1/logs?limit=1000>; rel=\"self\", <{next}>; rel=\"next\"", s.uri()).as_str())
                .insert_header("x-rate-limit-limit", "120")
                .insert_header("x-rate-limit-remaining", "118"),
        )
        .expect(1)
        .mount(&s)
        .await;
    mount_users(&s).await;

    let PollUpdate::Full(mut sessions) = connector(&s).poll().await.unwrap() else {
        panic!("full")
    };
    sessions.sort_by(|a, b| a.id.cmp(&b.id));
    let ids: Vec<&str> = sessions.iter().map(|x| &*x.id).collect();
    assert_eq!(
        ids,
        ["102ada", "102bob"],
        "failed, ended and too old sign-ins drop out"
    );
    let a = &sessions[0];
    assert_eq!(&*a.username, "ada@acme.example");
    assert_eq!(a.display_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(a.department.as_deref(), Some("Research"));
    assert!(a.superuser && !a.disabled);
    assert_eq!(a.ip.as_deref(), Some("203.0.113.7"));
    assert!(a.user_agent.as_deref().unwrap().contains("Chrome/120.0"));
    assert_eq!(a.location.as_deref(), Some("Berlin, Land Berlin, Germany"));
    assert_eq!(a.login_type.as_deref(), Some("password"));
    let age = Utc::now() - a.created_at.unwrap();
    assert!((29..=31).contains(&age.num_minutes()), "{age}");
    let b = &sessions[1];
    assert!(!b.superuser && b.disabled, "bob is suspended");
}

#[tokio::test]
async fn actions_use_the_sessions_and_lifecycle_endpoints() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/logs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            event(
                "user.session.start",
                "00u2",
                "bob@acme.example",
                "102bob",
                10,
                "SUCCESS"
            ),
            event(
                "user.session.start",
                "00u2",
                "bob@acme.example",
                "102bob2",
                8,
                "SUCCESS"
            ),
        ])))
        .mount(&s)
        .await;
    mount_users(&s).await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/sessions/102bob"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/sessions/102gone"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "errorCode": "E0000007", "errorSummary": "Not found: Resource not found: 102gone (Session)",
            "errorLink": "E0000007", "errorId": "oaeXyz", "errorCauses": []
        })))
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/users/00u2/sessions"))
        .and(query_param("oauthTokens", "true"))
        // Deliberately: remembered MFA devices are kept (Okta's default wipes them).
        .and(query_param("forgetDevices", "false"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    for step in ["suspend", "unsuspend"] {
        Mock::given(method("POST"))
            .and(path(format!("/api/v1/users/00u2/lifecycle/{step}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
            .expect(1)
            .mount(&s)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/api/v1/users/nobody@acme.example"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "errorCode": "E0000007", "errorSummary": "Not found: Resource not found: nobody@acme.example (User)",
            "errorLink": "E0000007", "errorId": "oae1", "errorCauses": []
        })))
        .mount(&s)
        .await;

    let c = connector(&s);
    assert!(c.capabilities().sign_in_log && !c.capabilities().list_sessions);
    let PollUpdate::Full(before) = c.poll().await.unwrap() else {
        panic!()
    };
    assert_eq!(before.len(), 2);
    assert_eq!(c.end_session("102bob").await.unwrap(), EndOutcome::Ended);
    // A 404 is not "already gone": an Identity Engine session answers the same and
    // lives on. The item fails, saying what to do instead.
    let e = c.end_session("102gone").await.unwrap_err();
    assert_eq!(e.code, vigil_connectors::ErrorCode::Unsupported);
    assert!(e.message.contains("Force logout"), "{e}");
    assert_eq!(c.end_user_sessions("00u2").await.unwrap(), 2);
    let PollUpdate::Full(after) = c.poll().await.unwrap() else {
        panic!()
    };
    assert!(
        after.is_empty(),
        "sessions that started before the revoke are gone: {after:?}"
    );
    assert!(c.disable_user("00u2", false).await.unwrap().disabled);
    c.enable_user("00u2").await.unwrap();
    assert!(c.find_user("nobody@acme.example").await.unwrap().is_none());
    assert_eq!(
        c.find_user("00u1")
            .await
            .unwrap()
            .map(|u| u.username)
            .as_deref(),
        Some("ada@acme.example")
    );
}

#[tokio::test]
async fn a_service_app_signs_a_client_assertion_and_refreshes_its_token() {
    let s = MockServer::start().await;
    let aud = format!("{}/oauth2/v1/token", s.uri());
    let (respond, issued) = common::token_endpoint(0, move |f| {
        common::check_client_assertion(f, "0oa-vigil", &aud)?;
        if f.get("scope").map(String::as_str)
            != Some(
                "okta.logs.read okta.users.read okta.users.manage okta.sessions.manage okta.roles.read",
            )
        {
            return Err("scope".into());
        }
        Ok(())
    });
    Mock::given(method("POST"))
        .and(path("/oauth2/v1/token"))
        .respond_with(respond)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/logs"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/logs"))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&s)
        .await;
    let spec = spec(&s, &[("client_id", "0oa-vigil"), ("key_id", "kid-1")]);
    let c = OktaConnector::new(&spec, SecretString::new(common::TEST_KEY)).unwrap();
    c.poll().await.unwrap();
    c.poll().await.unwrap();
    assert_eq!(
        issued.load(Ordering::SeqCst),
        2,
        "an expired token is fetched again"
    );

    // The token endpoint rejects the key: a clear per-tenant Unauthorized error.
    let s2 = MockServer::start().await;
    let (respond, _) = common::token_endpoint(3600, |_| {
        Err("The client_assertion signature is invalid.".into())
    });
    Mock::given(method("POST"))
        .and(path("/oauth2/v1/token"))
        .respond_with(respond)
        .mount(&s2)
        .await;
    let c = OktaConnector::new(&spec_for(&s2), SecretString::new(common::TEST_KEY)).unwrap();
    let err = c.poll().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(
        err.message.contains(
            "tenant 'okta-acme': token endpoint rejected the client assertion: invalid_client"
        ),
        "{}",
        err.message
    );
    assert!(!err.message.contains("BEGIN"));
    assert!(!format!("{c:?}", c = err).contains("PRIVATE"));
}

fn spec_for(s: &MockServer) -> TenantSpec {
    spec(s, &[("client_id", "0oa-vigil")])
}

#[tokio::test]
async fn a_revoked_token_is_refreshed_once_then_reported() {
    let s = MockServer::start().await;
    let (respond, issued) = common::token_endpoint(3600, |_| Ok(()));
    Mock::given(method("POST"))
        .and(path("/oauth2/v1/token"))
        .respond_with(respond)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/logs"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "errorCode": "E0000011", "errorSummary": "Invalid token provided", "errorLink": "E0000011",
            "errorId": "oae2", "errorCauses": []
        })))
        .expect(2)
        .mount(&s)
        .await;
    let c = OktaConnector::new(&spec_for(&s), SecretString::new(common::TEST_KEY_PKCS1)).unwrap();
    let err = c.poll().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(
        err.message
            .contains("rejected a freshly issued access token")
            && err.message.contains("E0000011"),
        "{}",
        err.message
    );
    assert_eq!(issued.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn errors_are_per_tenant_and_name_the_cause() {
    let reset = (Utc::now().timestamp() + 30).to_string();
    let okta_error = |code: &str, summary: &str| json!({"errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": "oae3", "errorCauses": []});
    let cases = [
        (
            ResponseTemplate::new(401)
                .set_body_json(okta_error("E0000011", "Invalid token provided")),
            ErrorCode::Unauthorized,
            "the API token was rejected",
        ),
        (
            ResponseTemplate::new(403).set_body_json(okta_error(
                "E0000006",
                "You do not have permission to perform the requested action",
            )),
            ErrorCode::Forbidden,
            "E0000006",
        ),
        (
            ResponseTemplate::new(429)
                .set_body_json(okta_error(
                    "E0000047",
                    "API call exceeded rate limit due to too many requests.",
                ))
                .insert_header("x-rate-limit-limit", "120")
                .insert_header("x-rate-limit-remaining", "0")
                .insert_header("x-rate-limit-reset", reset.as_str()),
            ErrorCode::RateLimited,
            "E0000047",
        ),
        (
            ResponseTemplate::new(500)
                .set_body_json(okta_error("E0000009", "Internal Server Error")),
            ErrorCode::ServerError,
            "HTTP 500",
        ),
        (
            ResponseTemplate::new(200).set_body_string("[{\"uuid\": "),
            ErrorCode::MalformedResponse,
            "invalid JSON",
        ),
    ];
    let seen = common::poll_errors(
        cases.into(),
        &common::PollError {
            method: "GET",
            path: "/api/v1/logs".into(),
            starts_with: "reading the System Log",
            retry_after: 29..=30,
            secret: "00ssws-token",
        },
        async |_| {},
        connector,
    )
    .await;
    // The spent window holds further requests of this tenant without asking again.
    let (s, c, _) = seen
        .iter()
        .find(|(_, _, e)| e.code == ErrorCode::RateLimited)
        .unwrap();
    let again = c.poll().await.unwrap_err();
    assert_eq!(again.code, ErrorCode::RateLimited);
    assert!(again.retry_after_secs.unwrap() >= 28);
    let log_reads = s
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/v1/logs")
        .count();
    assert_eq!(log_reads, 1);
}

/// An Identity Engine org (`pipeline: idx` in its well-known metadata): the System Log's
/// session id cannot end one session there, so the capability is withdrawn and the action
/// says so without calling Okta; force logout stays.
#[tokio::test]
async fn an_identity_engine_org_offers_no_single_session_end() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/okta-organization"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "00o1", "pipeline": "idx",
            "_links": {"organization": {"href": "https://acme.okta.com"}}
        })))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/logs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([event(
            "user.session.start",
            "00u2",
            "bob@acme.example",
            "102bob",
            10,
            "SUCCESS"
        )])))
        .mount(&s)
        .await;
    mount_users(&s).await;
    Mock::given(method("DELETE"))
        .and(path_regex("^/api/v1/sessions/"))
        .respond_with(ResponseTemplate::new(404))
        .expect(0)
        .mount(&s)
        .await;
    let c = connector(&s);
    let PollUpdate::Full(before) = c.poll().await.unwrap() else {
        panic!()
    };
    assert_eq!(before.len(), 1);
    assert!(!c.capabilities().end_session && c.capabilities().end_user_sessions);
    let e = c.end_session("102bob").await.unwrap_err();
    assert_eq!(e.code, vigil_connectors::ErrorCode::Unsupported);
    assert!(e.message.contains("Identity Engine"), "{e}");
}
