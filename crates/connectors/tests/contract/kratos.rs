//! Ory Kratos connector against a local HTTP mock fed with payloads shaped exactly like
//! the Kratos admin API's documented responses (session list with `Link` pagination,
//! identities, JSON Patch on state).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;
use serde_json::json;
use vigil_connectors::kratos::KratosConnector;
use vigil_connectors::model::{ConnectorKind, TenantSpec};
use vigil_connectors::{Connector, EndOutcome, PollUpdate};
use vigil_connectors::{ErrorCode, SecretString};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn connector(s: &MockServer) -> KratosConnector {
    let spec = TenantSpec::new("ory", ConnectorKind::Kratos, &s.uri()).unwrap();
    KratosConnector::new(&spec, SecretString::new("ory_pat_xyz")).unwrap()
}

fn session(
    id: &str,
    identity: &str,
    email: &str,
    ip: &str,
    role: Option<&str>,
) -> serde_json::Value {
    json!({
        "id": id, "active": true,
        "expires_at": "2026-11-23T10:00:00.000000Z",
        "authenticated_at": "2026-11-22T10:00:00.123456Z",
        "issued_at": "2026-11-22T10:00:00.123456Z",
        "authenticator_assurance_level": "aal1",
        "authentication_methods": [{"method": "password", "aal": "aal1", "completed_at": "2026-11-22T10:00:00Z"}],
        "devices": [{"id": "d-1", "ip_address": ip, "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", "location": "Berlin, DE"}],
        "identity": {
            "id": identity, "schema_id": "default", "state": "active",
            "traits": {"email": email, "name": {"first": "Ada", "last": "Lovelace"}},
            "metadata_public": role.map(|r| json!({"role": r}))
        }
    })
}

#[tokio::test]
async fn pages_through_link_headers_and_maps_sessions() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/admin/sessions"))
        .and(query_param("page_token", "p2"))
        .and(header("authorization", "Bearer ory_pat_xyz"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([session(
            "s-3",
            "i-2",
            "bob@example.org",
            "198.51.100.2",
            None
        )])))
        .mount(&s)
        .await;
    Mock::given(method("GET")).and(path("/admin/sessions")).and(query_param("active", "true"))
        .and(query_param("expand", "identity"))
        .respond_with(ResponseTemplate::new(200)
            .set_body_json(json!([
                session("s-1", "i-1", "ada@example.org", "203.0.113.9", Some("admin")),
                session("s-2", "i-1", "ada@example.org", "2001:db8::1", Some("admin")),
            ]))
            .insert_header("link", "</admin/sessions?page_size=2&page_token=p2&active=true&expand=identity&expand=devices>; rel=\"next\""))
        .up_to_n_times(1)
        .mount(&s).await;
    let PollUpdate::Full(mut sessions) = connector(&s).poll().await.unwrap() else {
        panic!("full")
    };
    sessions.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        sessions.iter().map(|x| &*x.id).collect::<Vec<_>>(),
        ["s-1", "s-2", "s-3"]
    );
    let a = &sessions[0];
    assert_eq!(&*a.username, "ada@example.org");
    assert_eq!(a.display_name.as_deref(), Some("Ada Lovelace"));
    assert!(a.superuser);
    assert_eq!(a.ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(a.login_type.as_deref(), Some("password"));
    assert_eq!(a.server_name.as_deref(), Some("Berlin, DE"));
    assert!(a.created_at.is_some() && a.expires_at.is_some());
    assert!(!sessions[2].superuser);
}

#[tokio::test]
async fn a_link_to_another_host_is_refused() {
    let s = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/admin/sessions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([]))
                .insert_header(
                    "link",
                    "<https://evil.example/admin/sessions?page_token=x>; rel=\"next\"",
                ),
        )
        .mount(&s)
        .await;
    let err = connector(&s).poll().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::MalformedResponse);
    assert!(err.message.contains("another host"), "{}", err.message);
}

#[tokio::test]
async fn actions_use_the_admin_endpoints() {
    let s = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/admin/sessions/s-1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("DELETE")).and(path("/admin/sessions/gone"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": {"code": 404, "status": "Not Found", "message": "Unable to locate the resource"}})))
        .mount(&s).await;
    Mock::given(method("GET"))
        .and(path("/admin/identities/i-1/sessions"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([{"id": "s-1"}, {"id": "s-2"}])),
        )
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/admin/identities/i-1/sessions"))
        .respond_with(ResponseTemplate::new(204))
        .expect(2)
        .mount(&s)
        .await;
    let identity =
        |state: &str| json!({"id": "i-1", "state": state, "traits": {"email": "ada@example.org"}});
    Mock::given(method("PATCH"))
        .and(path("/admin/identities/i-1"))
        .and(body_json(
            json!([{"op": "replace", "path": "/state", "value": "inactive"}]),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(identity("inactive")))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/admin/identities/i-1"))
        .and(body_json(
            json!([{"op": "replace", "path": "/state", "value": "active"}]),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(identity("active")))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/admin/identities"))
        .and(query_param("credentials_identifier", "ada@example.org"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([identity("active")])))
        .mount(&s)
        .await;

    let c = connector(&s);
    assert_eq!(c.end_session("s-1").await.unwrap(), EndOutcome::Ended);
    assert_eq!(
        c.end_session("gone").await.unwrap(),
        EndOutcome::AlreadyGone
    );
    assert_eq!(c.end_user_sessions("i-1").await.unwrap(), 2);
    assert!(c.disable_user("i-1", true).await.unwrap().disabled);
    assert!(!c.enable_user("i-1").await.unwrap().disabled);
    assert_eq!(
        c.find_user("ada@example.org")
            .await
            .unwrap()
            .map(|u| u.id)
            .as_deref(),
        Some("i-1")
    );
}

#[tokio::test]
async fn bad_answers_are_clear_per_tenant_errors() {
    let cases = [
        (
            ResponseTemplate::new(429)
                .insert_header("retry-after", "30")
                .set_body_json(json!({"error": {"code": 429, "status": "Too Many Requests"}})),
            ErrorCode::RateLimited,
            "rate limited (HTTP 429",
        ),
        (
            ResponseTemplate::new(503).set_body_string("upstream down"),
            ErrorCode::ServerError,
            "tenant server error (HTTP 503)",
        ),
        (
            ResponseTemplate::new(403)
                .set_body_json(json!({"error": {"code": 403, "status": "Forbidden"}})),
            ErrorCode::Forbidden,
            "permission denied (HTTP 403, Forbidden)",
        ),
        (
            ResponseTemplate::new(200).set_body_string("[{\"id\": \"s-1\", "),
            ErrorCode::MalformedResponse,
            "invalid JSON",
        ),
        (
            ResponseTemplate::new(200).set_body_json(json!({"not": "a list"})),
            ErrorCode::MalformedResponse,
            "unexpected shape",
        ),
    ];
    common::poll_errors(
        cases.into(),
        &common::PollError {
            method: "GET",
            path: "/admin/sessions".into(),
            starts_with: "listing sessions: ",
            retry_after: 30..=30,
            secret: "ory_pat_xyz",
        },
        async |_| {},
        connector,
    )
    .await;
}
