//! Salesforce connector against a local HTTP mock fed with payloads shaped like the REST
//! API's documented responses (SOQL query results with `nextRecordsUrl`, composite sObject
//! delete results, `limits`), the OAuth token endpoint for the JWT bearer and
//! client-credentials flows, and Salesforce's `[{"errorCode","message"}]` error bodies.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};
use vigil_connectors::model::{ConnectorKind, TenantSpec};
use vigil_connectors::salesforce::SalesforceConnector;
use vigil_connectors::{Connector, EndOutcome, PollUpdate};
use vigil_connectors::{ErrorCode, SecretString};
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_contains};
use wiremock::{Mock, MockServer, ResponseTemplate};

const V: &str = "/services/data/v62.0";
const ADA: &str = "005xx000001Sv6eAAC";
const BOB: &str = "005xx000001Sv6fAAC";

fn spec(s: &MockServer, jwt: bool) -> TenantSpec {
    let mut spec = TenantSpec::new("sf-acme", ConnectorKind::Salesforce, &s.uri()).unwrap();
    let mut o = BTreeMap::from([("client_id".to_owned(), "3MVG9-consumer-key".to_owned())]);
    if jwt {
        o.insert("username".into(), "vigil@acme.example".into());
        o.insert("login_url".into(), s.uri());
    }
    spec.options = o;
    spec
}

fn connector(s: &MockServer) -> SalesforceConnector {
    SalesforceConnector::new(&spec(s, false), SecretString::new("consumer-secret")).unwrap()
}

fn token_ok(n: usize) -> Value {
    json!({"access_token": format!("00Dxx0000001gPL!tok-{n}"), "signature": "sig", "scope": "api",
           "instance_url": "https://acme.my.salesforce.com", "id": "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001Sv6eAAC",
           "token_type": "Bearer", "issued_at": "1763800000000"})
}

async fn mount_client_credentials(s: &MockServer) {
    Mock::given(method("POST")).and(path("/services/oauth2/token"))
        .respond_with(move |req: &wiremock::Request| {
            let f = common::form(req);
            if f.get("grant_type").map(String::as_str) == Some("client_credentials")
                && f.get("client_id").map(String::as_str) == Some("3MVG9-consumer-key")
                && f.get("client_secret").map(String::as_str) == Some("consumer-secret")
            {
                ResponseTemplate::new(200).set_body_json(token_ok(1))
            } else {
                ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_client", "error_description": "invalid client credentials"}))
            }
        })
        .mount(s).await;
}

fn attrs(kind: &str, id: &str) -> Value {
    json!({"type": kind, "url": format!("{V}/sobjects/{kind}/{id}")})
}

fn auth_session(id: &str, user: &str, ip: &str, current: bool, history: &str) -> Value {
    json!({
        "attributes": attrs("AuthSession", id), "Id": id, "UsersId": user, "SessionType": "UI",
        "LoginType": "Application", "SourceIp": ip, "CreatedDate": "2026-11-22T08:00:00.000+0000",
        "LastModifiedDate": "2026-11-22T09:00:00.000+0000", "NumSecondsValid": 7200, "ParentId": null,
        "IsCurrent": current, "LoginHistoryId": history
    })
}

async fn query(s: &MockServer, contains: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(format!("{V}/query")))
        .and(query_param_contains("q", contains))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(s)
        .await;
}

async fn mount_users(s: &MockServer) {
    query(s, "FROM User WHERE Id IN", json!({"totalSize": 2, "done": true, "records": [
        {"attributes": attrs("User", ADA), "Id": ADA, "Username": "ada@acme.example", "Name": "Ada Lovelace", "FirstName": "Ada",
         "LastName": "Lovelace", "Department": "Finance", "CompanyName": "Acme", "IsActive": true},
        {"attributes": attrs("User", BOB), "Id": BOB, "Username": "bob@acme.example", "Name": "Bob Byte", "FirstName": "Bob",
         "LastName": "Byte", "Department": null, "CompanyName": null, "IsActive": true}
    ]})).await;
    // UserId is nillable (jsforce's schema types: `UserId: string | null`): a row without
    // one must not fail the whole listing.
    query(s, "FROM UserLogin WHERE UserId IN", json!({"totalSize": 3, "done": true, "records": [
        {"attributes": attrs("UserLogin", "0Ynxx0000000001CAA"), "Id": "0Ynxx0000000001CAA", "UserId": ADA, "IsFrozen": false},
        {"attributes": attrs("UserLogin", "0Ynxx0000000002CAA"), "Id": "0Ynxx0000000002CAA", "UserId": BOB, "IsFrozen": true},
        {"attributes": attrs("UserLogin", "0Ynxx0000000003CAA"), "Id": "0Ynxx0000000003CAA", "UserId": null, "IsFrozen": true}
    ]})).await;
    query(s, "FROM PermissionSetAssignment WHERE PermissionSet.PermissionsModifyAllData = true", json!({"totalSize": 1, "done": true, "records": [
        {"attributes": attrs("PermissionSetAssignment", "0Paxx0000000001AAA"), "AssigneeId": ADA}
    ]})).await;
}

#[tokio::test]
async fn queries_auth_sessions_across_pages_with_users_admins_and_history() {
    let s = MockServer::start().await;
    mount_client_credentials(&s).await;
    mount_users(&s).await;
    // UsersId is nillable (the object reference says so): one such row must not fail
    // the poll.
    let mut orphan = auth_session(
        "0Akxx0000000004AAA",
        BOB,
        "192.0.2.9",
        false,
        "0Yaxx0000000004AAA",
    );
    orphan["UsersId"] = Value::Null;
    Mock::given(method("GET"))
        .and(path(format!("{V}/query/01gxx000000MYPdAAO-2000")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"totalSize": 4, "done": true, "records": [
                auth_session("0Akxx0000000003AAA", BOB, "2001:db8::77", false, "0Yaxx0000000003AAA"),
                orphan
            ]}),
        ))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET")).and(path(format!("{V}/query")))
        .and(query_param("q", "SELECT Id, UsersId, SessionType, LoginType, SourceIp, CreatedDate, LastModifiedDate, NumSecondsValid, ParentId, IsCurrent, LoginHistoryId FROM AuthSession"))
        .and(header("authorization", "Bearer 00Dxx0000001gPL!tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"totalSize": 4, "done": false,
            "nextRecordsUrl": format!("{V}/query/01gxx000000MYPdAAO-2000"),
            "records": [auth_session("0Akxx0000000001AAA", ADA, "203.0.113.50", true, "0Yaxx0000000001AAA"),
                        auth_session("0Akxx0000000002AAA", ADA, "198.51.100.50", false, "0Yaxx0000000002AAA")]})))
        .expect(1).mount(&s).await;
    query(&s, "FROM LoginHistory WHERE Id IN", json!({"totalSize": 1, "done": true, "records": [
        {"attributes": attrs("LoginHistory", "0Yaxx0000000001AAA"), "Id": "0Yaxx0000000001AAA", "Browser": "Chrome 120", "Platform": "Mac OSX", "CountryIso": "DE"}
    ]})).await;

    let PollUpdate::Full(mut sessions) = connector(&s).poll().await.unwrap() else {
        panic!()
    };
    sessions.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(sessions.len(), 4);
    let orphan = &sessions[3];
    assert_eq!((&*orphan.user_id, &*orphan.username), ("", "(no user)"));
    assert_eq!(orphan.ip.as_deref(), Some("192.0.2.9"));
    let a = &sessions[0];
    assert_eq!(&*a.username, "ada@acme.example");
    assert_eq!(a.display_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(a.department.as_deref(), Some("Finance"));
    assert!(a.superuser && a.protected && !a.disabled && a.current);
    assert_eq!(a.ip.as_deref(), Some("203.0.113.50"));
    assert_eq!(a.user_agent.as_deref(), Some("Chrome 120 (Mac OSX)"));
    assert_eq!(a.location.as_deref(), Some("DE"));
    assert_eq!(
        (a.session_type.as_deref(), a.login_type.as_deref()),
        (Some("UI"), Some("Application"))
    );
    assert_eq!(
        a.created_at.unwrap().to_rfc3339(),
        "2026-11-22T08:00:00+00:00"
    );
    assert_eq!(
        a.expires_at.unwrap().to_rfc3339(),
        "2026-11-22T11:00:00+00:00",
        "LastModifiedDate + NumSecondsValid"
    );
    assert_eq!(a.idle_timeout_seconds, Some(7200));
    let b = &sessions[2];
    assert!(b.disabled && !b.superuser, "bob is frozen");
    assert_eq!(b.ip.as_deref(), Some("2001:db8::77"));
}

#[tokio::test]
async fn actions_delete_sessions_and_freeze() {
    let s = MockServer::start().await;
    mount_client_credentials(&s).await;
    mount_users(&s).await;
    Mock::given(method("DELETE"))
        .and(path(format!("{V}/sobjects/AuthSession/0Akxx0000000001AAA")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE")).and(path(format!("{V}/sobjects/AuthSession/0Akxx0000000009AAA")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!([{"errorCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}])))
        .mount(&s).await;
    query(
        &s,
        &format!("FROM AuthSession WHERE UsersId = '{BOB}'"),
        json!({"totalSize": 3, "done": true, "records": [
            {"attributes": attrs("AuthSession", "0Akxx0000000003AAA"), "Id": "0Akxx0000000003AAA"},
            {"attributes": attrs("AuthSession", "0Akxx0000000004AAA"), "Id": "0Akxx0000000004AAA"},
            {"attributes": attrs("AuthSession", "0Akxx0000000005AAA"), "Id": "0Akxx0000000005AAA"}
        ]}),
    )
    .await;
    Mock::given(method("DELETE")).and(path(format!("{V}/composite/sobjects")))
        .and(query_param("ids", "0Akxx0000000003AAA,0Akxx0000000004AAA,0Akxx0000000005AAA"))
        .and(query_param("allOrNone", "false"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "0Akxx0000000003AAA", "success": true, "errors": []},
            {"id": "0Akxx0000000004AAA", "success": true, "errors": []},
            {"success": false, "errors": [{"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}]}
        ]))).expect(1).mount(&s).await;
    query(&s, &format!("FROM UserLogin WHERE UserId = '{BOB}'"), json!({"totalSize": 1, "done": true, "records": [
        {"attributes": attrs("UserLogin", "0Ynxx0000000002CAA"), "Id": "0Ynxx0000000002CAA", "UserId": BOB, "IsFrozen": false}
    ]})).await;
    for frozen in [true, false] {
        Mock::given(method("PATCH"))
            .and(path(format!("{V}/sobjects/UserLogin/0Ynxx0000000002CAA")))
            .and(body_json(json!({"IsFrozen": frozen})))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&s)
            .await;
    }
    query(
        &s,
        "FROM User WHERE Username = 'o\\'brien@acme.example'",
        json!({"totalSize": 0, "done": true, "records": []}),
    )
    .await;

    let c = connector(&s);
    assert_eq!(
        c.end_session("0Akxx0000000001AAA").await.unwrap(),
        EndOutcome::Ended
    );
    assert_eq!(
        c.end_session("0Akxx0000000009AAA").await.unwrap(),
        EndOutcome::AlreadyGone
    );
    assert_eq!(
        c.end_session("x' OR Id != '").await.unwrap_err().code,
        ErrorCode::InvalidInput
    );
    assert_eq!(
        c.end_user_sessions(BOB).await.unwrap(),
        2,
        "two deleted, one already gone"
    );
    assert_eq!(
        &*c.disable_user(BOB, false).await.unwrap().username,
        "bob@acme.example"
    );
    c.enable_user(BOB).await.unwrap();
    assert!(
        c.find_user("o'brien@acme.example").await.unwrap().is_none(),
        "quotes are escaped"
    );
}

#[tokio::test]
async fn the_jwt_bearer_flow_is_signed_and_a_stale_token_is_replaced() {
    let s = MockServer::start().await;
    // The token request goes to the login URL (here the mock, as a My Domain would be);
    // the audience stays Salesforce's login server, as Salesforce documents it.
    let aud = "https://login.salesforce.com";
    let (respond, issued) = common::token_endpoint(3600, move |f| {
        if f.get("grant_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
        {
            return Err("grant_type".into());
        }
        let (_, claims) = common::verify_jwt(&f["assertion"])?;
        if claims["iss"] != "3MVG9-consumer-key"
            || claims["sub"] != "vigil@acme.example"
            || claims["aud"] != aud
        {
            return Err(format!("{claims}"));
        }
        Ok(())
    });
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .respond_with(respond)
        .mount(&s)
        .await;
    // The first token has expired on Salesforce's side (session timeout): one 401, then a new one.
    Mock::given(method("GET"))
        .and(path(format!("{V}/query")))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]),
        ))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{V}/query")))
        .and(header("authorization", "Bearer tok-2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"totalSize": 0, "done": true, "records": []})),
        )
        .expect(1)
        .mount(&s)
        .await;
    let c = SalesforceConnector::new(&spec(&s, true), SecretString::new(common::TEST_KEY)).unwrap();
    let PollUpdate::Full(sessions) = c.poll().await.unwrap() else {
        panic!()
    };
    assert!(sessions.is_empty());
    assert_eq!(issued.load(Ordering::SeqCst), 2);

    let s = MockServer::start().await;
    Mock::given(method("POST")).and(path("/services/oauth2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant", "error_description": "user hasn't approved this consumer"})))
        .mount(&s).await;
    let err = SalesforceConnector::new(&spec(&s, true), SecretString::new(common::TEST_KEY))
        .unwrap()
        .poll()
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(
        err.message.contains(
            "tenant 'sf-acme': token endpoint rejected the JWT bearer assertion: invalid_grant"
        ),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn errors_and_the_spent_api_allowance_are_mapped() {
    let sf = |code: &str| json!([{"message": "m", "errorCode": code}]);
    let cases = [
        (
            ResponseTemplate::new(401).set_body_json(sf("INVALID_SESSION_ID")),
            ErrorCode::Unauthorized,
            "INVALID_SESSION_ID",
        ),
        (
            ResponseTemplate::new(403).set_body_json(sf("INSUFFICIENT_ACCESS")),
            ErrorCode::Forbidden,
            "INSUFFICIENT_ACCESS",
        ),
        (
            ResponseTemplate::new(403).set_body_json(sf("REQUEST_LIMIT_EXCEEDED")),
            ErrorCode::RateLimited,
            "allowance is spent",
        ),
        (
            ResponseTemplate::new(429)
                .set_body_json(sf("REQUEST_LIMIT_EXCEEDED"))
                .insert_header("retry-after", "120"),
            ErrorCode::RateLimited,
            "retry after 120 s",
        ),
        (
            ResponseTemplate::new(500).set_body_json(sf("UNKNOWN_EXCEPTION")),
            ErrorCode::ServerError,
            "UNKNOWN_EXCEPTION",
        ),
        (
            ResponseTemplate::new(200).set_body_string("{\"totalSize\": 1, \"records\": [{"),
            ErrorCode::MalformedResponse,
            "invalid JSON",
        ),
    ];
    common::poll_errors(
        cases.into(),
        &common::PollError {
            method: "GET",
            path: format!("{V}/query"),
            starts_with: "querying AuthSession",
            retry_after: 120..=120,
            secret: "consumer-secret",
        },
        async |s| {
            mount_client_credentials(s).await;
        },
        connector,
    )
    .await;
    // Test connection reports what is left of the daily allowance.
    let s = MockServer::start().await;
    mount_client_credentials(&s).await;
    Mock::given(method("GET")).and(path(format!("{V}/limits")))
        .respond_with(ResponseTemplate::new(200)
            .set_body_json(json!({"DailyApiRequests": {"Max": 15000, "Remaining": 14990}, "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000}}))
            .insert_header("sforce-limit-info", "api-usage=10/15000"))
        .mount(&s).await;
    let check = connector(&s).check().await;
    assert!(check.authenticated && check.error.is_none(), "{check:?}");
    assert_eq!(
        check.permissions,
        ["API requests left today: 14990 of 15000"]
    );
}
