//! Entra ID connector against a local HTTP mock fed with payloads shaped like Microsoft
//! Graph v1.0's documented responses (`signIn` with `@odata.nextLink`, `user`,
//! `directoryRole` members, `revokeSignInSessions`), the Microsoft identity platform token
//! endpoint (AADSTS errors) and Graph's error body with `Retry-After`.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use vigil_connectors::entra::EntraConnector;
use vigil_connectors::model::{ConnectorKind, TenantSpec};
use vigil_connectors::{Connector, PollUpdate};
use vigil_connectors::{ErrorCode, SecretString};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TENANT: &str = "contoso.onmicrosoft.com";

fn spec(s: &MockServer, extra: &[(&str, &str)]) -> TenantSpec {
    let mut spec = TenantSpec::new("contoso", ConnectorKind::Entra, &s.uri()).unwrap();
    let mut options = BTreeMap::from([
        ("tenant_id".to_owned(), TENANT.to_owned()),
        ("client_id".to_owned(), "app-123".to_owned()),
        ("login_url".to_owned(), s.uri()),
    ]);
    options.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    spec.options = options;
    spec
}

fn connector(s: &MockServer) -> EntraConnector {
    EntraConnector::new(&spec(s, &[]), SecretString::new("client~secret")).unwrap()
}

async fn mount_token(
    s: &MockServer,
    expires_in: u64,
) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    let (respond, issued) = common::token_endpoint(expires_in, |f| {
        let ok = f.get("grant_type").map(String::as_str) == Some("client_credentials")
            && f.get("client_id").map(String::as_str) == Some("app-123")
            && f.get("client_secret").map(String::as_str) == Some("client~secret")
            && f.get("scope").map(String::as_str) == Some("https://graph.microsoft.com/.default");
        if ok { Ok(()) } else { Err(format!("{f:?}")) }
    });
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(respond)
        .mount(s)
        .await;
    issued
}

fn sign_in(id: &str, user: &str, upn: &str, ip: &str, mins_ago: i64, error_code: i64) -> Value {
    json!({
        "id": id,
        "createdDateTime": (Utc::now() - Duration::minutes(mins_ago)).to_rfc3339_opts(SecondsFormat::Micros, true),
        "userDisplayName": "Megan Bowen", "userPrincipalName": upn, "userId": user,
        "appId": "de8bc8b5-d9f9-48b1-a8ad-b748da725064", "appDisplayName": "Graph Explorer",
        "ipAddress": ip, "clientAppUsed": "Browser", "correlationId": "d79f5bee-5860-4832-928f-3133e22ae912",
        "conditionalAccessStatus": "notApplied", "isInteractive": true, "riskDetail": "none",
        "riskLevelAggregated": "none", "riskLevelDuringSignIn": "none", "riskState": "none",
        "riskEventTypes": [], "riskEventTypes_v2": [], "resourceDisplayName": "Microsoft Graph",
        "resourceId": "00000003-0000-0000-c000-000000000000",
        "status": {"errorCode": error_code, "failureReason": if error_code == 0 { "Other." } else { "Invalid username or password." }, "additionalDetails": null},
        "deviceDetail": {"deviceId": "", "displayName": null, "operatingSystem": "Windows 10", "browser": "Edge 80.0.361",
                         "isCompliant": null, "isManaged": null, "trustType": null},
        "location": {"city": "Redmond", "state": "Washington", "countryOrRegion": "US",
                     "geoCoordinates": {"altitude": null, "latitude": 47.68, "longitude": -122.12}},
        "appliedConditionalAccessPolicies": []
    })
}

async fn mount_directory(s: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v1.0/directoryRoles"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryRoles",
            "value": [{"id": "role-ga", "deletedDateTime": null, "description": "Can manage all aspects of Microsoft Entra ID",
                       "displayName": "Global Administrator", "roleTemplateId": "62e90394-69f5-4237-9190-012177145e10"}]
        })))
        .mount(s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/directoryRoles/role-ga/members"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects(id)",
            "value": [{"@odata.type": "#microsoft.graph.user", "id": "u-megan"}]
        })))
        .mount(s)
        .await;
    for (id, upn, enabled) in [
        ("u-megan", "megan@contoso.com", true),
        ("u-alex", "alex@contoso.com", false),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/v1.0/users/{id}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,displayName,givenName,surname,department,companyName,accountEnabled)/$entity",
                "id": id, "userPrincipalName": upn, "displayName": "Megan Bowen", "givenName": "Megan",
                "surname": "Bowen", "department": "Marketing", "companyName": "Contoso", "accountEnabled": enabled
            })))
            .mount(s)
            .await;
    }
}

#[tokio::test]
async fn sign_ins_become_sessions_per_user_ip_and_device() {
    let s = MockServer::start().await;
    let issued = mount_token(&s, 3599).await;
    mount_directory(&s).await;
    Mock::given(method("GET"))
        .and(path("/v1.0/auditLogs/signIns"))
        .and(query_param("$skiptoken", "page2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",
            "value": [sign_in("si-3", "u-alex", "alex@contoso.com", "2001:db8::5", 15, 0)]
        })))
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/auditLogs/signIns"))
        .and(query_param("$top", "1000"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",
            "value": [
                sign_in("si-1", "u-megan", "megan@contoso.com", "131.107.159.37", 5, 0),
                sign_in("si-2", "u-megan", "megan@contoso.com", "131.107.159.37", 40, 0),
                sign_in("si-f", "u-megan", "megan@contoso.com", "198.51.100.9", 3, 50126),
            ],
            "@odata.nextLink": format!("{}/v1.0/auditLogs/signIns?$top=1000&$skiptoken=page2", s.uri())
        })))
        .mount(&s)
        .await;
    let c = connector(&s);
    let PollUpdate::Full(mut sessions) = c.poll().await.unwrap() else {
        panic!()
    };
    sessions.sort_by(|a, b| a.username.cmp(&b.username));
    assert_eq!(
        sessions.len(),
        2,
        "two sign-ins from one browser are one session; failures none"
    );
    let (alex, megan) = (&sessions[0], &sessions[1]);
    assert_eq!(&*megan.username, "megan@contoso.com");
    assert!(megan.superuser && megan.protected && !megan.disabled);
    assert_eq!(megan.ip.as_deref(), Some("131.107.159.37"));
    assert_eq!(
        megan.user_agent.as_deref(),
        Some("Edge 80.0.361 (Windows 10)")
    );
    assert_eq!(megan.location.as_deref(), Some("Redmond, Washington, US"));
    assert_eq!(megan.login_type.as_deref(), Some("Browser"));
    assert_eq!(megan.department.as_deref(), Some("Marketing"));
    assert_eq!((Utc::now() - megan.created_at.unwrap()).num_minutes(), 40);
    assert_eq!(
        (Utc::now() - megan.last_activity_at.unwrap()).num_minutes(),
        5
    );
    assert!(megan.id.starts_with("entra-"));
    assert!(alex.disabled && !alex.superuser);
    assert_eq!(alex.ip.as_deref(), Some("2001:db8::5"));
    assert_eq!(issued.load(Ordering::SeqCst), 1, "the token is cached");
}

#[tokio::test]
async fn force_logout_revokes_and_the_derived_sessions_go() {
    let s = MockServer::start().await;
    mount_token(&s, 3599).await;
    mount_directory(&s).await;
    Mock::given(method("GET"))
        .and(path("/v1.0/auditLogs/signIns"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [sign_in("si-1", "u-megan", "megan@contoso.com", "131.107.159.37", 5, 0)]
        })))
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.0/users/u-megan/revokeSignInSessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean", "value": true
        })))
        .expect(1)
        .mount(&s)
        .await;
    for enabled in [false, true] {
        Mock::given(method("PATCH"))
            .and(path("/v1.0/users/u-alex"))
            .and(body_json(json!({"accountEnabled": enabled})))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&s)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/v1.0/users/nobody@contoso.com"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {
            "code": "Request_ResourceNotFound",
            "message": "Resource 'nobody@contoso.com' does not exist or one of its queried reference-property objects are not present.",
            "innerError": {"date": "2026-11-22T10:00:00", "request-id": "r1", "client-request-id": "r1"}}})))
        .mount(&s)
        .await;
    let c = connector(&s);
    let PollUpdate::Full(before) = c.poll().await.unwrap() else {
        panic!()
    };
    assert_eq!(before.len(), 1);
    let err = c.end_session(&before[0].id).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unsupported);
    assert!(
        err.message.contains("revokeSignInSessions"),
        "{}",
        err.message
    );
    assert!(!c.capabilities().end_session && c.capabilities().sign_in_log);
    assert_eq!(c.end_user_sessions("u-megan").await.unwrap(), 1);
    let PollUpdate::Full(after) = c.poll().await.unwrap() else {
        panic!()
    };
    assert!(after.is_empty(), "{after:?}");
    assert!(&*c.disable_user("u-alex", false).await.unwrap().username == "alex@contoso.com");
    c.enable_user("u-alex").await.unwrap();
    assert!(c.find_user("nobody@contoso.com").await.unwrap().is_none());
}

#[tokio::test]
async fn tokens_refresh_on_expiry_and_a_certificate_signs_with_x5t() {
    let s = MockServer::start().await;
    let aud = format!("{}/{TENANT}/oauth2/v2.0/token", s.uri());
    let (respond, issued) = common::token_endpoint(0, move |f| {
        common::check_client_assertion(f, "app-123", &aud)?;
        let (header, _) = common::verify_jwt(&f["client_assertion"])?;
        if header["x5t"] != "obLD1OX2BxgpOktcbX6PkBI0Vng" {
            return Err(format!("x5t {header}"));
        }
        Ok(())
    });
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(respond)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.0/auditLogs/signIns"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": []})))
        .expect(2)
        .mount(&s)
        .await;
    let spec = spec(
        &s,
        &[(
            "certificate_thumbprint",
            "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678",
        )],
    );
    let c = EntraConnector::new(&spec, SecretString::new(common::TEST_KEY)).unwrap();
    c.poll().await.unwrap();
    c.poll().await.unwrap();
    assert_eq!(issued.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_wrong_client_secret_is_named() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/{TENANT}/oauth2/v2.0/token")))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.",
            "error_codes": [7000215], "timestamp": "2026-11-22 10:00:00Z",
            "trace_id": "t", "correlation_id": "c", "error_uri": "https://login.microsoftonline.com/error?code=7000215"
        })))
        .mount(&s)
        .await;
    let err = connector(&s).poll().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(
        err.message.contains(
            "tenant 'contoso': token endpoint rejected the client secret: invalid_client"
        ),
        "{}",
        err.message
    );
    assert!(!err.message.contains("client~secret"));
    let check = connector(&s).check().await;
    assert!(!check.authenticated && check.reachable);
}

#[tokio::test]
async fn graph_errors_are_mapped() {
    let graph_error = |code: &str| json!({"error": {"code": code, "message": "m", "innerError": {"date": "2026-11-22T10:00:00", "request-id": "r", "client-request-id": "r"}}});
    let cases = [
        (
            ResponseTemplate::new(401).set_body_json(graph_error("InvalidAuthenticationToken")),
            ErrorCode::Unauthorized,
            "freshly issued",
        ),
        (
            ResponseTemplate::new(403).set_body_json(graph_error(
                "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
            )),
            ErrorCode::Forbidden,
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        ),
        (
            ResponseTemplate::new(429)
                .set_body_json(graph_error("TooManyRequests"))
                .insert_header("retry-after", "12"),
            ErrorCode::RateLimited,
            "retry after 12 s",
        ),
        (
            ResponseTemplate::new(503).set_body_json(graph_error("ServiceUnavailable")),
            ErrorCode::ServerError,
            "HTTP 503",
        ),
        (
            ResponseTemplate::new(200).set_body_string("{\"value\": [ {\"id\""),
            ErrorCode::MalformedResponse,
            "invalid JSON",
        ),
    ];
    common::poll_errors(
        cases.into(),
        &common::PollError {
            method: "GET",
            path: "/v1.0/auditLogs/signIns".into(),
            starts_with: "reading the sign-in logs",
            retry_after: 12..=12,
            secret: "client~secret",
        },
        async |s| {
            mount_token(s, 3599).await;
        },
        connector,
    )
    .await;
}

#[tokio::test]
async fn a_revocation_graph_answers_false_is_not_a_success() {
    let s = MockServer::start().await;
    mount_token(&s, 3599).await;
    mount_directory(&s).await;
    Mock::given(method("POST"))
        .and(path("/v1.0/users/u-megan/revokeSignInSessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean", "value": false
        })))
        .mount(&s)
        .await;
    let err = connector(&s)
        .end_user_sessions("u-megan")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict, "{}", err.message);
    assert!(err.message.contains("value false"), "{}", err.message);
}

/// Sign-ins come newest first. More pages than the limit: the poll is incomplete and
/// says so, and the cursor stays, so the older sign-ins are not skipped for good.
#[tokio::test]
async fn sign_ins_longer_than_the_page_limit_are_incomplete() {
    let s = MockServer::start().await;
    mount_token(&s, 3599).await;
    mount_directory(&s).await;
    let next = format!("{}/v1.0/auditLogs/signIns?$skiptoken=more", s.uri());
    Mock::given(method("GET"))
        .and(path("/v1.0/auditLogs/signIns"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [sign_in("si-1", "u-megan", "megan@contoso.com", "131.107.159.37", 5, 0)],
            "@odata.nextLink": next
        })))
        .mount(&s)
        .await;
    match connector(&s).poll().await.unwrap() {
        PollUpdate::Partial {
            incomplete,
            sessions,
        } => {
            assert!(incomplete.contains("pages"), "{incomplete}");
            assert_eq!(sessions.len(), 1);
        }
        other => panic!("expected an incomplete listing, got {other:?}"),
    }
}
