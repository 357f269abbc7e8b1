//! Keycloak connector edge cases a fresh real server does not produce (session counts as
//! numbers, remember-me sessions, user attributes, a rejected secret), against a local HTTP
//! mock whose payloads copy what Keycloak 26 answered in `tests/servers/keycloak`. Listing,
//! every action and Test connection are tested against the real server in
//! `real_servers.rs`.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::json;
use vigil_connectors::keycloak::KeycloakConnector;
use vigil_connectors::model::{ConnectorKind, TenantSpec};
use vigil_connectors::{Connector, PollUpdate};
use vigil_connectors::{ErrorCode, SecretString};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ADMIN: &str = "/admin/realms/acme";

fn jwt(roles: &[&str]) -> String {
    let enc = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.sig",
        enc(json!({"alg": "RS256", "typ": "JWT"})),
        enc(json!({"azp": "vigil", "resource_access": {"realm-management": {"roles": roles}}}))
    )
}

async fn server() -> (MockServer, String) {
    let s = MockServer::start().await;
    let token = jwt(&["manage-users", "view-clients", "view-realm", "view-users"]);
    Mock::given(method("POST"))
        .and(path("/realms/acme/protocol/openid-connect/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_id=vigil"))
        .and(body_string_contains("client_secret=s3cret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token, "expires_in": 300, "refresh_expires_in": 0,
            "token_type": "Bearer", "not-before-policy": 0, "scope": "profile email"
        })))
        .mount(&s)
        .await;
    (s, token)
}

fn connector(s: &MockServer) -> KeycloakConnector {
    let mut spec = TenantSpec::new("kc", ConnectorKind::Keycloak, &s.uri()).unwrap();
    spec.options = BTreeMap::from([
        ("realm".into(), "acme".into()),
        ("client_id".into(), "vigil".into()),
    ]);
    KeycloakConnector::new(&spec, SecretString::new("s3cret")).unwrap()
}

async fn mount_get(s: &MockServer, p: &str, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(s)
        .await;
}

#[tokio::test]
async fn lists_sessions_of_every_client_once_with_users_and_admins() {
    let (s, token) = server().await;
    mount_get(
        &s,
        &format!("{ADMIN}/clients"),
        json!([{"id": "rm-uuid", "clientId": "realm-management"}]),
    )
    .await;
    mount_get(
        &s,
        &format!("{ADMIN}/clients/rm-uuid/roles/realm-admin/users"),
        json!([{"id": "u-admin", "username": "admin"}]),
    )
    .await;
    Mock::given(method("GET"))
        .and(path(format!("{ADMIN}/roles/admin/users")))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"error": "Could not find role"})),
        )
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{ADMIN}/users")))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "u-admin", "username": "admin", "enabled": true, "firstName": "Ada", "lastName": "Admin",
             "email": "admin@acme.example", "emailVerified": true, "createdTimestamp": 1700000000000u64,
             "attributes": {"department": ["IT"]}},
            {"id": "u-bob", "username": "bob", "enabled": false, "firstName": "Bob", "createdTimestamp": 1700000000000u64}
        ])))
        .mount(&s).await;
    mount_get(
        &s,
        &format!("{ADMIN}/client-session-stats"),
        json!([
            {"id": "c-account", "clientId": "account", "active": 2, "offline": 0},
            {"id": "c-portal", "clientId": "portal", "active": "1", "offline": "0"}
        ]),
    )
    .await;
    mount_get(
        &s,
        &format!("{ADMIN}/clients/c-account/user-sessions"),
        json!([
            {"id": "s-1", "username": "admin", "userId": "u-admin", "ipAddress": "203.0.113.5",
             "start": 1763800000000i64, "lastAccess": 1763803600000i64, "rememberMe": false,
             "clients": {"c-account": "account"}, "transientUser": false},
            {"id": "s-2", "username": "bob", "userId": "u-bob", "ipAddress": "2001:db8::7",
             "start": 1763800100000i64, "lastAccess": 1763800200000i64, "rememberMe": true,
             "clients": {"c-account": "account", "c-portal": "portal"}}
        ]),
    )
    .await;
    mount_get(
        &s,
        &format!("{ADMIN}/clients/c-portal/user-sessions"),
        json!([
            {"id": "s-2", "username": "bob", "userId": "u-bob", "ipAddress": "2001:db8::7",
             "start": 1763800100000i64, "lastAccess": 1763800200000i64, "rememberMe": true,
             "clients": {"c-account": "account", "c-portal": "portal"}}
        ]),
    )
    .await;

    // Effective roles of the users with sessions who are not direct members (bob).
    mount_get(
        &s,
        &format!("{ADMIN}/users/u-bob/role-mappings/clients/rm-uuid/composite"),
        json!([{"id": "r-view", "name": "view-profile", "composite": false, "clientRole": true}]),
    )
    .await;
    mount_get(
        &s,
        &format!("{ADMIN}/users/u-bob/role-mappings/realm/composite"),
        json!([{"id": "r-off", "name": "offline_access", "composite": false, "clientRole": false}]),
    )
    .await;
    let PollUpdate::Full(mut sessions) = connector(&s).poll().await.unwrap() else {
        panic!("full")
    };
    sessions.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        sessions.len(),
        2,
        "s-2 is listed by two clients but is one session"
    );
    let a = &sessions[0];
    assert_eq!(
        (&*a.username, a.ip.as_deref()),
        ("admin", Some("203.0.113.5"))
    );
    assert!(a.superuser && a.protected && !a.disabled);
    assert_eq!(a.display_name.as_deref(), Some("Ada Admin"));
    assert_eq!(a.department.as_deref(), Some("IT"));
    assert_eq!(
        a.created_at.map(|t| t.timestamp_millis()),
        Some(1763800000000)
    );
    assert_eq!(
        a.last_activity_at.map(|t| t.timestamp_millis()),
        Some(1763803600000)
    );
    assert!(
        a.user_agent.is_none() && a.expires_at.is_none(),
        "Keycloak does not know these"
    );
    let b = &sessions[1];
    assert!(!b.superuser && b.disabled);
    assert_eq!(b.session_type.as_deref(), Some("remember-me"));
}

#[tokio::test]
async fn a_rejected_client_secret_and_a_stale_token_are_handled() {
    let s = MockServer::start().await;
    Mock::given(method("POST")).and(path("/realms/acme/protocol/openid-connect/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "unauthorized_client", "error_description": "Invalid client or Invalid client credentials"})))
        .mount(&s).await;
    let err = connector(&s).poll().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(
        err.message.contains("getting an access token") && err.message.contains("HTTP 401"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("s3cret"));
    let check = connector(&s).check().await;
    assert!(check.reachable && !check.authenticated);

    // Test connection reports the roles in the token and the server clock.
    let (s, _) = server().await;
    Mock::given(method("GET"))
        .and(path(format!("{ADMIN}/users/count")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!(42))
                .insert_header("date", "Sun, 22 Nov 2026 20:00:00 GMT"),
        )
        .mount(&s)
        .await;
    mount_get(&s, &format!("{ADMIN}/client-session-stats"), json!([])).await;
    mount_get(
        &s,
        &format!("{ADMIN}/clients"),
        json!([{"id": "rm-uuid", "clientId": "realm-management"}]),
    )
    .await;
    mount_get(
        &s,
        &format!("{ADMIN}/clients/rm-uuid/user-sessions"),
        json!([]),
    )
    .await;
    let check = connector(&s).check().await;
    assert!(check.authenticated && check.error.is_none(), "{check:?}");
    assert_eq!(
        check.permissions,
        vec!["manage-users", "view-clients", "view-realm", "view-users"]
    );
    assert!(check.clock_offset_ms.is_some());
}
