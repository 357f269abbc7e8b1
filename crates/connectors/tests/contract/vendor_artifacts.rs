//! Connectors against mocks whose other side the vendor wrote: each request is checked
//! against the vendor's own machine-readable artifact, and each answer is built from that
//! artifact's schemas (see `artifact.rs`). `scripts/test` fetches the artifacts
//! with `tests/vendor/fetch.sh` and runs these with `--include-ignored`:
//!
//! | connector | artifact |
//! |---|---|
//! | Okta | `okta/api/openapi.yaml` of the Go module `github.com/okta/okta-sdk-golang/v5` v5.0.2, plus the query parameters of npm `@okta/okta-sdk-nodejs` 8.1.0 (newer: `forgetDevices`) |
//! | Google | `admin.directory_v1` and `admin.reports_v1` discovery documents of PyPI `google-api-python-client` 2.202.0 |
//! | Kratos | `api/openapi.yaml` of the Go module `github.com/ory/client-go` v1.22.92 |
//! | Salesforce | the standard objects of npm `jsforce` 3.10.26 (`lib/types/standard-schema.d.ts`: fields, types, nullability, relationships): every SOQL field and every record |
//! | Mattermost | the API v4 operations as npm `@mattermost/client` 11.9.0 sends them (its `Client4` run with a recording `fetch`), answers typed by `@mattermost/types` 11.9.0 (`tests/vendor/mattermost.mjs`) |
//! | Zitadel | the session v2, user v2, admin and management services built from the protobuf descriptors of npm `@zitadel/proto` 1.3.1 (HTTP rules, messages in proto3 JSON; `tests/vendor/zitadel.mjs`) |
//! | Auth0 | requests only: the Management API operations as npm `auth0` 7.1.0 sends them (its `ManagementClient` run with a recording `fetch`; `tests/vendor/auth0.mjs`); no registry package describes the answers |
//! | Entra ID | Graph v1.0 built by `tests/vendor/graph.py` from PyPI `msgraph-sdk` 1.65.0 (paths, methods, query parameters, body and answer types) and npm `@microsoft/microsoft-graph-types` 2.43.1 (entities, nullable properties) |

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::artifact::{Artifact, ArtifactMock, Kind, Reply, requested_scopes};
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use vigil_connectors::SecretString;
use vigil_connectors::model::{ConnectorKind, Session, TenantSpec};
use vigil_connectors::{Connector, PollUpdate};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn ago(mins: i64) -> String {
    (Utc::now() - Duration::minutes(mins)).to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn build(
    kind: ConnectorKind,
    s: &MockServer,
    options: &[(&str, &str)],
    secret: &str,
) -> Arc<dyn Connector> {
    let mut spec = TenantSpec::new("vendor", kind, &s.uri()).unwrap();
    spec.options = options
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect::<BTreeMap<_, _>>();
    vigil_connectors::build(&spec, SecretString::new(secret)).unwrap()
}

async fn full(c: &dyn Connector) -> Vec<Session> {
    match c.poll().await.unwrap() {
        PollUpdate::Full(s) => s,
        other => panic!("expected a full listing, got {other:?}"),
    }
}

/// A token endpoint (not in the vendors' API documents) that records the scopes asked for.
async fn token_endpoint(s: &MockServer, at: &str) -> Arc<Mutex<Vec<String>>> {
    let scopes = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&scopes);
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(move |req: &Request| {
            seen.lock().unwrap().extend(requested_scopes(req));
            ResponseTemplate::new(200).set_body_json(json!({
                "token_type": "Bearer", "expires_in": 3600, "access_token": "tok-1"
            }))
        })
        .with_priority(1)
        .mount(s)
        .await;
    scopes
}

fn last_segment(req: &Request, n_from_end: usize) -> String {
    let segs: Vec<&str> = req.url.path().split('/').collect();
    segs[segs.len() - 1 - n_from_end].to_owned()
}

// ------------------------------------------------------------------------------- Okta

fn okta_event(kind: &str, user: &str, login: &str, sid: &str, mins: i64, ip: &str) -> Value {
    json!({
        "uuid": format!("{kind}-{sid}-{mins}"),
        "published": ago(mins),
        "eventType": kind,
        "actor": {"id": user, "type": "User", "alternateId": login, "displayName": "Ada Lovelace"},
        "client": {"ipAddress": ip, "userAgent": {"rawUserAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"},
                   "geographicalContext": {"city": "Berlin", "state": "Land Berlin", "country": "Germany"}},
        "outcome": {"result": "SUCCESS"},
        "authenticationContext": {"externalSessionId": sid}
    })
}

#[tokio::test]
#[ignore = "needs the vendors' artifacts; scripts/test fetches them"]
async fn okta_against_its_management_openapi_document() {
    let doc = Artifact::load_with_query(
        "okta-management.json",
        Kind::OpenApi,
        "okta-node-sdk-query.json",
    );
    let s = MockServer::start().await;
    let scopes = token_endpoint(&s, "/oauth2/v1/token").await;
    let base = s.uri();
    let mock = ArtifactMock::new(doc, move |op, req| match op.id.as_str() {
        "listLogEvents" if req.url.query_pairs().any(|(k, _)| k == "after") => {
            Some(Reply::ok(json!([])))
        }
        "listLogEvents" => Some(
            Reply::ok(json!([
                okta_event(
                    "user.session.start",
                    "00u1",
                    "ada@acme.example",
                    "102ada",
                    30,
                    "203.0.113.7"
                ),
                okta_event(
                    "user.session.start",
                    "00u2",
                    "bob@acme.example",
                    "102bob",
                    20,
                    "198.51.100.4"
                ),
            ]))
            .header(
                "link",
                &format!("<{base}/api/v1/logs?limit=1000>; rel=\"self\""),
            )
            .header(
                "link",
                &format!("<{base}/api/v1/logs?after=1&limit=1000>; rel=\"next\""),
            ),
        ),
        "getUser" => {
            let id = last_segment(req, 0);
            let (login, first) = if id == "00u1" {
                ("ada@acme.example", "Ada")
            } else {
                ("bob@acme.example", "Bob")
            };
            Some(Reply::ok(json!({
                "id": id, "status": "ACTIVE",
                // Only the login is set: the other nullable profile fields are null.
                "profile": {"login": login, "firstName": first, "email": login}
            })))
        }
        "listAssignedRolesForUser" if last_segment(req, 1) == "00u1" => {
            Some(Reply::ok(json!([{"type": "SUPER_ADMIN"}])))
        }
        "listAssignedRolesForUser" => Some(Reply::ok(json!([]))),
        "getWellknownOrgMetadata" => Some(Reply::ok(json!({"id": "00o1", "pipeline": "v1"}))),
        _ => None,
    });
    mock.mount(&s).await;
    let c = build(
        ConnectorKind::Okta,
        &s,
        &[("client_id", "0oa-vigil")],
        common::TEST_KEY,
    );
    let sessions = full(c.as_ref()).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let ada = sessions.iter().find(|x| &*x.user_id == "00u1").unwrap();
    assert!(ada.superuser && &*ada.username == "ada@acme.example");
    c.end_user_sessions("00u2").await.unwrap();
    c.disable_user("00u2", false).await.unwrap();
    c.enable_user("00u2").await.unwrap();
    // The playbook's steps: grants revoked, the password expired.
    c.revoke_grants("00u2").await.unwrap();
    c.require_password_change("00u2").await.unwrap();
    let _ = c.end_session("102ada").await;
    assert!(c.find_user("bob@acme.example").await.unwrap().is_some());
    assert!(c.check().await.error.is_none());
    mock.assert_clean();
    mock.assert_called(&[
        "listLogEvents",
        "getUser",
        "listAssignedRolesForUser",
        "revokeUserSessions",
        "suspendUser",
        "unsuspendUser",
        "revokeSession",
        "revokeUserGrants",
        "expirePassword",
    ]);
    mock.assert_scopes(&scopes.lock().unwrap());
}

// ----------------------------------------------------------------------------- Google

fn google_key(s: &MockServer) -> String {
    json!({
        "type": "service_account", "project_id": "vigil-test",
        "private_key_id": "0123456789abcdef", "private_key": common::TEST_KEY,
        "client_email": "vigil@vigil-test.iam.gserviceaccount.com", "client_id": "1234567890",
        "token_uri": format!("{}/token", s.uri())
    })
    .to_string()
}

fn google_login(user: &str, email: &str, ip: &str, name: &str, mins: i64) -> Value {
    json!({
        "id": {"time": ago(mins), "uniqueQualifier": format!("-{mins}"), "applicationName": "login", "customerId": "C03az79cb"},
        "actor": {"email": email, "profileId": user},
        "ipAddress": ip,
        "networkInfo": {"regionCode": "DE", "subdivisionCode": "DE-BE"},
        "events": [{"type": "login", "name": name,
                    "parameters": [{"name": "login_type", "value": "google_password"}]}]
    })
}

#[tokio::test]
#[ignore = "needs the vendors' artifacts; scripts/test fetches them"]
async fn google_against_its_discovery_documents() {
    let s = MockServer::start().await;
    let scopes = token_endpoint(&s, "/token").await;
    let reports = ArtifactMock::new(
        Artifact::load("google-admin-reports_v1.json", Kind::Discovery),
        |op, _req| match op.id.as_str() {
            "reports.activities.list" => Some(Reply::ok(json!({
                "items": [google_login("111", "liz@example.com", "203.0.113.4", "login_success", 30),
                          google_login("222", "max@example.com", "198.51.100.4", "login_success", 20)],
                "nextPageToken": crate::artifact::ABSENT
            }))),
            _ => None,
        },
    );
    let directory = ArtifactMock::new(
        Artifact::load("google-admin-directory_v1.json", Kind::Discovery),
        |op, req| match op.id.as_str() {
            "directory.users.get" | "directory.users.update" => {
                let key = last_segment(req, 0);
                let (id, email, admin) = if key == "111" || key == "liz@example.com" {
                    ("111", "liz@example.com", true)
                } else {
                    ("222", "max@example.com", false)
                };
                Some(Reply::ok(json!({
                    "id": id, "primaryEmail": email, "isAdmin": admin, "isDelegatedAdmin": false,
                    "suspended": false, "name": {"fullName": "Liz Doe", "givenName": "Liz", "familyName": "Doe"}
                })))
            }
            "directory.users.signOut" => Some(Reply::status(204)),
            _ => None,
        },
    );
    // Vigil calls the Reports API and the Directory API on one host: each path belongs to
    // one document; route by prefix.
    Mock::given(wiremock::matchers::path_regex("^/admin/reports/"))
        .respond_with(reports.clone())
        .with_priority(10)
        .mount(&s)
        .await;
    directory.mount(&s).await;
    let c = build(
        ConnectorKind::Google,
        &s,
        &[("subject", "admin@example.com")],
        &google_key(&s),
    );
    let sessions = full(c.as_ref()).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert!(
        sessions
            .iter()
            .any(|x| &*x.username == "liz@example.com" && x.superuser)
    );
    c.end_user_sessions("222").await.unwrap();
    c.disable_user("222", false).await.unwrap();
    c.enable_user("222").await.unwrap();
    c.revoke_grants("222").await.unwrap();
    c.require_password_change("222").await.unwrap();
    assert!(c.find_user("max@example.com").await.unwrap().is_some());
    assert!(c.check().await.error.is_none());
    reports.assert_clean();
    directory.assert_clean();
    reports.assert_called(&["reports.activities.list"]);
    directory.assert_called(&[
        "directory.users.get",
        "directory.users.update",
        "directory.users.signOut",
        "directory.tokens.list",
        "directory.tokens.delete",
    ]);
    let granted = scopes.lock().unwrap().clone();
    reports.assert_scopes(&granted);
    directory.assert_scopes(&granted);
}

// ----------------------------------------------------------------------------- Kratos

fn kratos_session(id: &str, identity: &str, email: &str, admin: bool, ip: &str) -> Value {
    json!({
        "id": id, "active": true,
        "authenticated_at": ago(40), "issued_at": ago(40), "expires_at": "2099-01-01T00:00:00Z",
        "authenticator_assurance_level": "aal1",
        "authentication_methods": [{"method": "password"}],
        "devices": [{"id": format!("dev-{id}"), "ip_address": ip, "user_agent": "Mozilla/5.0 (Macintosh) Safari/605.1.15"}],
        "identity": {
            "id": identity, "state": "active", "schema_id": "default", "schema_url": "https://kratos.example/schemas/default",
            "traits": {"email": email, "name": {"first": "Grace", "last": "Hopper"}},
            "metadata_public": if admin { json!({"role": "admin"}) } else { Value::Null }
        }
    })
}

#[tokio::test]
#[ignore = "needs the vendors' artifacts; scripts/test fetches them"]
async fn kratos_against_ory_openapi_document() {
    let doc = Artifact::load("ory-kratos.json", Kind::OpenApi);
    let s = MockServer::start().await;
    let base = s.uri();
    let identity = |id: &str, state: &str| {
        json!({"id": id, "state": state, "schema_id": "default", "schema_url": "https://kratos.example/schemas/default",
               "traits": {"email": "grace@example.com"}})
    };
    let mock = ArtifactMock::new(doc, move |op, req| {
        let paged = req.url.query_pairs().any(|(k, _)| k == "page_token");
        match op.id.as_str() {
            "listSessions" if paged => Some(Reply::ok(json!([
                kratos_session("s-3", "i-2", "linus@example.com", false, "198.51.100.9"),
            ]))),
            "listSessions" => Some(
                Reply::ok(json!([
                    kratos_session("s-1", "i-1", "grace@example.com", true, "203.0.113.5"),
                    kratos_session("s-2", "i-1", "grace@example.com", true, "2001:db8::5"),
                ]))
                .header("link", &format!("<{base}/admin/sessions?page_size=500&page_token=p2>; rel=\"next\"")),
            ),
            // Two pages of one identity's sessions: a force logout counts them all.
            "listIdentitySessions" if paged => Some(Reply::ok(json!([{"id": "s-2", "active": true}]))),
            "listIdentitySessions" => Some(
                Reply::ok(json!([{"id": "s-1", "active": true}]))
                    .header("link", &format!("<{base}/admin/identities/i-1/sessions?page_size=500&page_token=p2>; rel=\"next\"")),
            ),
            "deleteIdentitySessions" | "disableSession" => Some(Reply::status(204)),
            "patchIdentity" => Some(Reply::ok(identity(&last_segment(req, 0), "inactive"))),
            "listIdentities" => Some(Reply::ok(json!([identity("i-1", "active")]))),
            _ => None,
        }
    });
    mock.mount(&s).await;
    let c = build(ConnectorKind::Kratos, &s, &[], "ory_pat_test");
    let sessions = full(c.as_ref()).await;
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    assert!(sessions.iter().any(|x| &*x.id == "s-1" && x.superuser));
    assert!(sessions.iter().any(|x| &*x.id == "s-3" && !x.superuser));
    assert_eq!(
        c.end_user_sessions("i-1").await.unwrap(),
        2,
        "both pages counted"
    );
    c.end_session("s-3").await.unwrap();
    c.disable_user("i-2", false).await.unwrap();
    c.enable_user("i-2").await.unwrap();
    assert!(c.find_user("grace@example.com").await.unwrap().is_some());
    assert!(c.check().await.error.is_none());
    mock.assert_clean();
    mock.assert_called(&[
        "listSessions",
        "listIdentitySessions",
        "deleteIdentitySessions",
        "disableSession",
        "patchIdentity",
        "listIdentities",
    ]);
}

/// The checks themselves: a request outside the artifact is refused and recorded.
#[tokio::test]
#[ignore = "needs the vendors' artifacts; scripts/test fetches them"]
async fn the_mock_refuses_what_the_artifact_does_not_define() {
    let mock = ArtifactMock::new(
        Artifact::load("okta-management.json", Kind::OpenApi),
        |_, _| None,
    );
    let s = MockServer::start().await;
    mock.mount(&s).await;
    let http = reqwest::Client::new();
    let get = |p: &str| http.get(format!("{}{p}", s.uri())).send();
    assert_eq!(
        get("/api/v1/logs?limit=5&since=2026-01-01T00:00:00Z")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(get("/api/v1/logs?pageSize=5").await.unwrap().status(), 599);
    assert_eq!(get("/api/v1/no-such-thing").await.unwrap().status(), 599);
    let resp = http
        .post(format!("{}/api/v1/users/00u1/lifecycle/suspend", s.uri()))
        .json(&json!({"x": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 599, "suspendUser takes no body");
    let v = mock.violations.lock().unwrap().clone();
    assert_eq!(v.len(), 3, "{v:?}");
    assert!(
        v[0].contains("`pageSize` is not defined for listLogEvents"),
        "{v:?}"
    );
    // An answer holds every property of the schema.
    let events: Value = get("/api/v1/logs").await.unwrap().json().await.unwrap();
    for key in [
        "uuid",
        "published",
        "eventType",
        "actor",
        "client",
        "authenticationContext",
    ] {
        assert!(events[0].get(key).is_some(), "{key} missing from {events}");
    }
}

// ----------------------------------------------------------------------------- Entra

fn graph_sign_in(id: &str, user: &str, upn: &str, ip: &str, mins: i64) -> Value {
    json!({
        "id": id, "createdDateTime": ago(mins), "userId": user, "userPrincipalName": upn,
        "userDisplayName": "Megan Bowen", "ipAddress": ip, "clientAppUsed": "Browser",
        "appDisplayName": "Graph Explorer",
        "status": {"errorCode": 0},
        "deviceDetail": {"browser": "Edge 120", "operatingSystem": "Windows 10"},
        "location": {"city": "Redmond", "state": "Washington", "countryOrRegion": "US"}
    })
}

#[tokio::test]
#[ignore = "needs the vendors' artifacts; scripts/test fetches them"]
async fn entra_against_graph_built_from_microsofts_sdk_and_types() {
    let doc = Artifact::load("graph.json", Kind::OpenApi);
    let s = MockServer::start().await;
    token_endpoint(&s, "/contoso.onmicrosoft.com/oauth2/v2.0/token").await;
    let user = |id: &str, upn: &str, enabled: bool| {
        json!({"id": id, "userPrincipalName": upn, "displayName": "Megan Bowen", "givenName": "Megan",
               "surname": "Bowen", "accountEnabled": enabled, "department": "Sales", "companyName": "Contoso"})
    };
    let mock = ArtifactMock::new(doc, move |op, req| match op.id.as_str() {
        "GET /auditLogs/signIns" => Some(Reply::ok(json!({
            "value": [
                graph_sign_in("si-1", "u-megan", "megan@contoso.com", "131.107.159.37", 30),
                graph_sign_in("si-2", "u-alex", "alex@contoso.com", "2001:db8::7", 20),
            ],
            "@odata.nextLink": crate::artifact::ABSENT
        }))),
        "GET /directoryRoles" => Some(Reply::ok(json!({
            "value": [{"id": "role-ga", "displayName": "Global Administrator"}],
            "@odata.nextLink": crate::artifact::ABSENT
        }))),
        "GET /directoryRoles/{directoryRole-id}/members" => Some(Reply::ok(json!({
            "value": [{"id": "u-megan"}], "@odata.nextLink": crate::artifact::ABSENT
        }))),
        "GET /users/{user-id}" => {
            let key = last_segment(req, 0);
            Some(Reply::ok(if key.contains("alex") {
                user("u-alex", "alex@contoso.com", true)
            } else {
                user("u-megan", "megan@contoso.com", true)
            }))
        }
        "PATCH /users/{user-id}" => Some(Reply::status(204)),
        "POST /users/{user-id}/revokeSignInSessions" => Some(Reply::ok(json!({"value": true}))),
        _ => None,
    });
    mock.mount(&s).await;
    let c = build(
        ConnectorKind::Entra,
        &s,
        &[
            ("tenant_id", "contoso.onmicrosoft.com"),
            ("client_id", "app-123"),
            ("login_url", &s.uri()),
        ],
        "client~secret",
    );
    let sessions = full(c.as_ref()).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert!(
        sessions
            .iter()
            .any(|x| &*x.user_id == "u-megan" && x.superuser)
    );
    c.end_user_sessions("u-alex").await.unwrap();
    c.disable_user("u-alex", false).await.unwrap();
    c.enable_user("u-alex").await.unwrap();
    c.require_password_change("u-alex").await.unwrap();
    assert!(c.find_user("alex@contoso.com").await.unwrap().is_some());
    assert!(c.check().await.error.is_none());
    mock.assert_clean();
    mock.assert_called(&[
        "GET /auditLogs/signIns",
        "GET /directoryRoles",
        "GET /directoryRoles/{directoryRole-id}/members",
        "GET /users/{user-id}",
        "PATCH /users/{user-id}",
        "POST /users/{user-id}/revokeSignInSessions",
    ]);
}

// ------------------------------------------------------------------------- Salesforce

/// Salesforce's standard objects as jsforce's generated schema types give them: fields
/// with their types and nullability, and parent relationships.
struct SfObjects(Value);

impl SfObjects {
    fn load() -> Self {
        let path = crate::artifact::dir().join("salesforce-objects.json");
        Self(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap())
    }

    /// The field a path (`Name`, `PermissionSet.PermissionsModifyAllData`) names, from
    /// `object`.
    fn field(&self, object: &str, path: &str) -> Result<Value, String> {
        let mut obj = object.to_owned();
        let parts: Vec<&str> = path.split('.').collect();
        for rel in &parts[..parts.len() - 1] {
            obj = self.0[&obj]["parents"][*rel]
                .as_str()
                .ok_or_else(|| format!("{obj} has no parent relationship {rel}"))?
                .to_owned();
        }
        let last = parts[parts.len() - 1];
        let f = &self.0[&obj]["fields"][last];
        if f.is_null() {
            return Err(format!("{obj} has no field {last}"));
        }
        Ok(f.clone())
    }
}

/// `SELECT a, b FROM Obj WHERE …`: the object, the selected fields and the fields the
/// condition names.
fn soql(q: &str) -> (String, Vec<String>, Vec<String>) {
    let rest = q
        .trim()
        .strip_prefix("SELECT ")
        .unwrap_or_else(|| panic!("not a SELECT: {q}"));
    let (fields, rest) = rest.split_once(" FROM ").unwrap();
    let (object, cond) = rest.split_once(" WHERE ").unwrap_or((rest, ""));
    let fields = fields.split(',').map(|f| f.trim().to_owned()).collect();
    let mut named = Vec::new();
    let words: Vec<&str> = cond.split_whitespace().collect();
    for pair in words.windows(2) {
        if matches!(
            pair[1],
            "=" | "!=" | "IN" | "<" | ">" | "<=" | ">=" | "LIKE"
        ) {
            named.push(pair[0].trim_start_matches('(').to_owned());
        }
    }
    (object.trim().to_owned(), fields, named)
}

#[tokio::test]
#[ignore = "needs the vendors' artifacts; scripts/test fetches them"]
async fn salesforce_against_jsforces_standard_object_schema() {
    const ADA: &str = "005xx000001Sv6eAAC";
    const BOB: &str = "005xx000001Sv6fAAC";
    let objects = Arc::new(SfObjects::load());
    let violations = Arc::new(Mutex::new(Vec::<String>::new()));
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "00Dxx0000001gPL!tok", "instance_url": "https://acme.my.salesforce.com",
            "token_type": "Bearer", "issued_at": "1763800000000", "signature": "sig"
        })))
        .mount(&s)
        .await;
    // Rows a test gives per object; every other selected field is built from its type, and
    // nullable ones are null in every second row.
    let rows = |object: &str| -> Vec<Value> {
        match object {
            "AuthSession" => vec![
                json!({"Id": "0Akxx0000001AAA", "UsersId": ADA, "SourceIp": "203.0.113.5", "CreatedDate": "2026-12-06T08:00:00.000+0000",
                       "LastModifiedDate": "2026-12-06T09:00:00.000+0000", "NumSecondsValid": 7200, "IsCurrent": false}),
                json!({"Id": "0Akxx0000001AAB", "UsersId": BOB, "SourceIp": "2001:db8::5", "CreatedDate": "2026-12-06T08:30:00.000+0000",
                       "LastModifiedDate": "2026-12-06T09:10:00.000+0000", "NumSecondsValid": 7200, "IsCurrent": false}),
                // UsersId is nillable: a row without a user.
                json!({"Id": "0Akxx0000001AAC", "SourceIp": "198.51.100.1", "CreatedDate": "2026-12-06T08:40:00.000+0000",
                       "LastModifiedDate": "2026-12-06T09:20:00.000+0000", "NumSecondsValid": 7200, "IsCurrent": false, "UsersId": null}),
            ],
            "User" => vec![
                json!({"Id": ADA, "Username": "ada@acme.example", "Name": "Ada Lovelace", "IsActive": true}),
                json!({"Id": BOB, "Username": "bob@acme.example", "Name": "Bob Byte", "IsActive": true}),
            ],
            "UserLogin" => vec![
                json!({"Id": "0Ynxx0000000001CAA", "UserId": ADA, "IsFrozen": false}),
                json!({"Id": "0Ynxx0000000002CAA", "UserId": null, "IsFrozen": false}),
            ],
            "PermissionSetAssignment" => vec![json!({"AssigneeId": ADA})],
            _ => Vec::new(),
        }
    };
    let (objs, seen) = (Arc::clone(&objects), Arc::clone(&violations));
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex("^/services/data/v[0-9.]+/query$"))
        .respond_with(move |req: &Request| {
            let q = req.url.query_pairs().find(|(k, _)| k == "q").unwrap().1.into_owned();
            let (object, fields, named) = soql(&q);
            for f in fields.iter().chain(&named) {
                if let Err(why) = objs.field(&object, f) {
                    seen.lock().unwrap().push(format!("{q}: {why}"));
                }
            }
            let records: Vec<Value> = rows(&object)
                .into_iter()
                .enumerate()
                .map(|(i, row)| {
                    let mut rec = serde_json::Map::new();
                    rec.insert("attributes".into(), json!({"type": object, "url": format!("/services/data/v62.0/sobjects/{object}/x")}));
                    for f in &fields {
                        if f.contains('.') {
                            continue;
                        }
                        let spec = objs.field(&object, f).unwrap_or_default();
                        let v = row.get(f).cloned().unwrap_or_else(|| {
                            if spec["nullable"] == true && i % 2 == 1 {
                                Value::Null
                            } else {
                                match spec["type"].as_str() {
                                    Some("number") => json!(1),
                                    Some("boolean") => json!(false),
                                    Some("DateString") => json!("2026-12-06T08:00:00.000+0000"),
                                    _ => json!("x"),
                                }
                            }
                        });
                        rec.insert(f.clone(), v);
                    }
                    for k in row.as_object().into_iter().flat_map(|r| r.keys()) {
                        if let Err(why) = objs.field(&object, k) {
                            seen.lock().unwrap().push(format!("the test's row: {why}"));
                        }
                    }
                    Value::Object(rec)
                })
                .collect();
            ResponseTemplate::new(200)
                .set_body_json(json!({"totalSize": records.len(), "done": true, "records": records}))
        })
        .mount(&s)
        .await;
    let (objs, seen) = (Arc::clone(&objects), Arc::clone(&violations));
    Mock::given(method("PATCH"))
        .and(wiremock::matchers::path_regex(
            "^/services/data/v[0-9.]+/sobjects/UserLogin/",
        ))
        .respond_with(move |req: &Request| {
            let body: Value = serde_json::from_slice(&req.body).unwrap();
            for (k, v) in body.as_object().unwrap() {
                match objs.field("UserLogin", k) {
                    Ok(f) if f["type"] == "boolean" && v.is_boolean() => {}
                    Ok(f) => seen
                        .lock()
                        .unwrap()
                        .push(format!("UserLogin.{k} is {f}, sent {v}")),
                    Err(why) => seen.lock().unwrap().push(why),
                }
            }
            ResponseTemplate::new(204)
        })
        .mount(&s)
        .await;
    Mock::given(method("DELETE"))
        .and(wiremock::matchers::path_regex(
            "^/services/data/v[0-9.]+/(sobjects/AuthSession/|composite/sobjects)",
        ))
        .respond_with(|req: &Request| {
            if req.url.path().contains("composite") {
                let ids = req
                    .url
                    .query_pairs()
                    .find(|(k, _)| k == "ids")
                    .unwrap()
                    .1
                    .into_owned();
                let results: Vec<Value> = ids
                    .split(',')
                    .map(|id| json!({"id": id, "success": true, "errors": []}))
                    .collect();
                ResponseTemplate::new(200).set_body_json(results)
            } else {
                ResponseTemplate::new(204)
            }
        })
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            "^/services/data/v[0-9.]+/limits$",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"DailyApiRequests": {"Max": 15000, "Remaining": 14998}})),
        )
        .mount(&s)
        .await;
    let c = build(
        ConnectorKind::Salesforce,
        &s,
        &[("client_id", "3MVG9-consumer-key")],
        "consumer-secret",
    );
    let sessions = full(c.as_ref()).await;
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    assert!(sessions.iter().any(|x| &*x.user_id == ADA && x.superuser));
    c.end_session("0Akxx0000001AAA").await.unwrap();
    c.end_user_sessions(BOB).await.unwrap();
    c.disable_user(ADA, false).await.unwrap();
    assert!(c.check().await.error.is_none());
    let v = violations.lock().unwrap();
    assert!(
        v.is_empty(),
        "requests jsforce's schema of the objects does not allow:\n{}",
        v.join("\n")
    );
}

// ------------------------------------------------------------------------- Mattermost

#[tokio::test]
#[ignore = "needs the vendors' artifacts; scripts/test fetches them"]
async fn mattermost_against_its_own_client_and_types() {
    let doc = Artifact::load("mattermost.json", Kind::OpenApi);
    let s = MockServer::start().await;
    let user = |id: &str, name: &str, roles: &str| {
        json!({"id": id, "username": name, "first_name": "Grace", "last_name": "Hopper",
               "position": "Engineering", "roles": roles, "delete_at": 0, "is_bot": false,
               "email": format!("{name}@chat.example")})
    };
    let session = |id: &str, user: &str| {
        json!({"id": id, "token": format!("SECRET-{id}"), "user_id": user, "create_at": 1763800000000i64,
               "expires_at": 4102444800000i64, "last_activity_at": 1763803600000i64, "device_id": "",
               "is_oauth": false, "props": {"browser": "Chrome/120.0", "os": "Windows 10"}})
    };
    let mock = ArtifactMock::new(doc, move |op, req| match op.id.as_str() {
        "getMe" => Some(Reply::ok(user(
            "u-admin",
            "admin",
            "system_user system_admin",
        ))),
        "getProfiles" if req.url.query_pairs().any(|(k, v)| k == "page" && v != "0") => {
            Some(Reply::ok(json!([])))
        }
        "getProfiles" => Some(Reply::ok(json!([
            user("u-admin", "admin", "system_user system_admin"),
            user("u-grace", "grace", "system_user"),
        ]))),
        "getSessions" if last_segment(req, 1) == "u-grace" => Some(Reply::ok(json!([
            session("s-1", "u-grace"),
            session("s-2", "u-grace")
        ]))),
        "getSessions" => Some(Reply::ok(json!([session("s-admin", "u-admin")]))),
        "getUserAudits" => Some(Reply::ok(json!([
            {"id": "a1", "create_at": 1763803000000i64, "user_id": "u-grace", "action": "/api/v4/users/login",
             "extra_info": "", "ip_address": "203.0.113.80", "session_id": "s-1"}
        ]))),
        "getUser" | "getUserByUsername" => Some(Reply::ok(user("u-grace", "grace", "system_user"))),
        "revokeSession" | "revokeAllSessionsForUser" | "updateUserActive" => {
            Some(Reply::ok(json!({"status": "OK"})))
        }
        _ => None,
    });
    mock.mount(&s).await;
    let c = build(ConnectorKind::Mattermost, &s, &[], "pat-admin-token");
    let sessions = full(c.as_ref()).await;
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    assert!(
        !format!("{sessions:?}").contains("SECRET-"),
        "session tokens never reach the model"
    );
    assert!(
        sessions
            .iter()
            .any(|x| &*x.id == "s-1" && x.ip.as_deref() == Some("203.0.113.80"))
    );
    c.end_session("s-2").await.unwrap();
    c.end_user_sessions("u-grace").await.unwrap();
    c.disable_user("u-grace", false).await.unwrap();
    c.enable_user("u-grace").await.unwrap();
    assert!(c.find_user("grace").await.unwrap().is_some());
    assert!(c.check().await.error.is_none());
    mock.assert_clean();
    mock.assert_called(&[
        "getMe",
        "getProfiles",
        "getSessions",
        "getUserAudits",
        "revokeSession",
        "revokeAllSessionsForUser",
        "updateUserActive",
        "getUserByUsername",
    ]);
}

// ---------------------------------------------------------------------------- Zitadel

#[tokio::test]
#[ignore = "needs the vendors' artifacts; scripts/test fetches them"]
async fn zitadel_against_its_protobuf_descriptors() {
    let doc = Artifact::load("zitadel.json", Kind::OpenApi);
    let s = MockServer::start().await;
    let session = |id: &str, user: &str, login: &str, ip: &str| {
        json!({
            "id": id, "creationDate": ago(30), "changeDate": ago(5), "expirationDate": "2099-01-01T00:00:00Z",
            "factors": {
                "user": {"verifiedAt": ago(30), "id": user, "loginName": login, "displayName": "Ada Lovelace", "organizationId": "org-1"},
                "password": {"verifiedAt": ago(30)}
            },
            "userAgent": {"ip": ip, "description": "Chrome on Windows", "header": {"user-agent": {"values": ["Mozilla/5.0 Chrome/120.0"]}}}
        })
    };
    let user = |id: &str, name: &str, state: &str| {
        json!({"userId": id, "state": state, "username": name, "preferredLoginName": name,
               "human": {"profile": {"givenName": "Ada", "familyName": "Lovelace", "displayName": "Ada Lovelace"}}})
    };
    let mock = ArtifactMock::new(doc, move |op, req| match op.id.as_str() {
        "SessionService.ListSessions" => Some(Reply::ok(json!({
            "details": {"totalResult": "2"},
            "sessions": [session("s-1", "u-ada", "ada@acme", "203.0.113.9"), session("s-2", "u-bob", "bob@acme", "2001:db8::9")]
        }))),
        "SessionService.DeleteSession" => Some(Reply::ok(json!({}))),
        "UserService.GetUserByID" => {
            let id = last_segment(req, 0);
            Some(Reply::ok(
                json!({"user": user(&id, &format!("{id}@acme"), "USER_STATE_ACTIVE")}),
            ))
        }
        "UserService.ListUsers" => Some(Reply::ok(
            json!({"result": [user("u-bob", "bob@acme", "USER_STATE_ACTIVE")]}),
        )),
        "UserService.DeactivateUser" | "UserService.ReactivateUser" => Some(Reply::ok(json!({}))),
        "AdminService.ListIAMMembers" => Some(Reply::ok(json!({"result": [{"userId": "u-ada"}]}))),
        "ManagementService.ListOrgMembers" => Some(Reply::ok(json!({"result": []}))),
        _ => None,
    });
    mock.mount(&s).await;
    let c = build(ConnectorKind::Zitadel, &s, &[], "pat-zitadel");
    let sessions = full(c.as_ref()).await;
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert!(
        sessions
            .iter()
            .any(|x| &*x.user_id == "u-ada" && x.superuser)
    );
    c.end_session("s-2").await.unwrap();
    c.end_user_sessions("u-bob").await.unwrap();
    c.disable_user("u-bob", false).await.unwrap();
    c.enable_user("u-bob").await.unwrap();
    assert!(c.find_user("bob@acme").await.unwrap().is_some());
    assert!(c.check().await.error.is_none());
    mock.assert_clean();
    mock.assert_called(&[
        "SessionService.ListSessions",
        "SessionService.DeleteSession",
        "UserService.GetUserByID",
        "UserService.ListUsers",
        "UserService.DeactivateUser",
        "UserService.ReactivateUser",
        "AdminService.ListIAMMembers",
        "ManagementService.ListOrgMembers",
    ]);
}

// ------------------------------------------------------------------------------ Auth0

/// Requests only: no registry package carries Auth0's API document, so the answers are
/// the test's own JSON; every request must be one Auth0's own Node SDK sends.
#[tokio::test]
#[ignore = "needs the vendors' artifacts; scripts/test fetches them"]
async fn auth0_requests_are_ones_its_own_sdk_sends() {
    let doc = Artifact::load("auth0.json", Kind::OpenApi);
    let s = MockServer::start().await;
    token_endpoint(&s, "/oauth/token").await;
    let user = |id: &str, email: &str| {
        json!({"user_id": id, "email": email, "name": "Jane Doe", "blocked": false,
                                            "created_at": "2026-01-01T00:00:00.000Z"})
    };
    let mock = ArtifactMock::new(doc, move |op, req| match op.id.as_str() {
        "users.list" if req.url.query_pairs().any(|(k, _)| k == "sort") => Some(Reply::ok(json!({
            "start": 0, "limit": 100, "length": 2, "total": 2,
            "users": [user("auth0|jane", "jane@acme.example"), user("auth0|max", "max@acme.example")]
        }))),
        "users.list" => Some(Reply::ok(json!([user("auth0|jane", "jane@acme.example")]))),
        "users.listUsersByEmail" => Some(Reply::ok(json!([user("auth0|max", "max@acme.example")]))),
        "users.sessions.list" => {
            let id = last_segment(req, 1).replace("%7C", "|");
            Some(Reply::ok(
                json!({"sessions": [{"id": format!("s-{id}"), "user_id": id,
                "created_at": "2026-12-06T08:00:00.000Z", "device": {"last_ip": "203.0.113.9"}}]}),
            ))
        }
        "users.roles.list" => Some(Reply::ok(json!([]))),
        "users.update" => Some(Reply::ok(user("auth0|max", "max@acme.example"))),
        "users.sessions.delete"
        | "sessions.revoke"
        | "sessions.delete"
        | "users.refreshToken.delete" => Some(Reply::status(204)),
        _ => None,
    });
    mock.mount(&s).await;
    let c = build(
        ConnectorKind::Auth0,
        &s,
        &[("client_id", "m2m")],
        "m2m-secret",
    );
    assert_eq!(full(c.as_ref()).await.len(), 2);
    c.end_session("s-auth0|jane").await.unwrap();
    c.end_user_sessions("auth0|max").await.unwrap();
    c.disable_user("auth0|max", false).await.unwrap();
    c.revoke_grants("auth0|max").await.unwrap();
    assert!(c.find_user("max@acme.example").await.unwrap().is_some());
    assert!(c.find_user("jane").await.unwrap().is_some());
    mock.assert_clean();
    mock.assert_called(&[
        "users.list",
        "users.sessions.list",
        "sessions.revoke",
        "users.sessions.delete",
        "users.update",
        "users.roles.list",
        "users.listUsersByEmail",
        "users.refreshToken.delete",
    ]);
}
