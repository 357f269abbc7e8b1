//! Connectors against real, unmodified servers started by `tests/servers/*/start.sh`
//! (Better Auth from npm, Matrix Synapse from PyPI, Keycloak from Maven Central). `scripts/test` starts them, exports
//! `VIGIL_TEST_<SERVER>_DIR` and runs these with `--include-ignored`.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;
use vigil_core::connector::{self, Connector, EndOutcome, PollUpdate};
use vigil_core::model::{ConnectorKind, Session, TenantSpec, normalize_ip};
use vigil_core::{ErrorCode, SecretString};

struct Fixture {
    env: HashMap<String, String>,
    json: Value,
}

fn fixture(var: &str) -> Fixture {
    let dir = PathBuf::from(std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: run through scripts/test, which starts the server (tests/servers)"
        )
    }));
    let env = std::fs::read_to_string(dir.join("env"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let json =
        serde_json::from_str(&std::fs::read_to_string(dir.join("fixture.json")).unwrap()).unwrap();
    Fixture { env, json }
}

fn build(kind: ConnectorKind, url: &str, secret: &str) -> std::sync::Arc<dyn Connector> {
    let spec = TenantSpec::new("real", kind, url).unwrap();
    connector::build(&spec, SecretString::new(secret)).unwrap()
}

async fn full(c: &dyn Connector) -> HashMap<String, Session> {
    match c.poll().await.unwrap() {
        PollUpdate::Full(s) => s.into_iter().map(|s| (s.id.to_string(), s)).collect(),
        other => panic!("expected a complete full listing, got {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs the real Better Auth server; scripts/test starts it"]
async fn better_auth_real_server() {
    let f = fixture("VIGIL_TEST_BETTER_AUTH_DIR");
    let url = &f.env["BETTER_AUTH_URL"];
    let admin_token = &f.env["BETTER_AUTH_ADMIN_TOKEN"];
    let c = build(ConnectorKind::BetterAuth, url, admin_token);

    let check = c.check().await;
    assert!(
        check.reachable && check.authenticated && check.error.is_none(),
        "{check:?}"
    );
    assert!(
        check.permissions.iter().any(|p| p == "role: admin"),
        "{:?}",
        check.permissions
    );

    let sessions = full(c.as_ref()).await;
    let expected: usize = f.env["BETTER_AUTH_EXPECTED_SESSIONS"].parse().unwrap();
    assert_eq!(sessions.len(), expected);
    let mut by_email: HashMap<String, (String, Vec<String>)> = HashMap::new();
    for u in f.json["users"].as_array().unwrap() {
        let email = u["email"].as_str().unwrap().to_owned();
        let mut ids = Vec::new();
        for fs in u["sessions"].as_array().unwrap() {
            let id = fs["id"].as_str().unwrap();
            let s = sessions
                .get(id)
                .unwrap_or_else(|| panic!("session {id} of {email} missing"));
            assert_eq!(*s.username, *email);
            assert_eq!(s.email.as_deref(), Some(email.as_str()));
            assert_eq!(s.display_name.as_deref(), u["name"].as_str());
            assert_eq!(s.superuser, u["role"] == "admin");
            assert_eq!(
                s.ip,
                normalize_ip(fs["sentIp"].as_str().unwrap()),
                "canonical IP for {id}"
            );
            assert_eq!(s.user_agent.as_deref(), fs["ua"].as_str());
            assert_eq!(
                s.created_at
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                    .as_deref(),
                fs["createdAt"].as_str()
            );
            assert!(s.expires_at.is_some() && s.last_activity_at.is_none());
            assert_eq!(
                s.current,
                fs["isAdminToken"] == true,
                "only Vigil's own session is current"
            );
            ids.push(id.to_owned());
        }
        by_email.insert(email, (u["id"].as_str().unwrap().to_owned(), ids));
    }
    let dump = format!("{sessions:?}");
    assert!(
        !dump.contains(admin_token.as_str()),
        "session tokens never reach the model"
    );

    // End one session (by its token, which only the connector holds).
    let (_, alice) = &by_email["alice@example.org"];
    assert_eq!(c.end_session(&alice[0]).await.unwrap(), EndOutcome::Ended);
    let after = full(c.as_ref()).await;
    assert!(!after.contains_key(&alice[0]) && after.contains_key(&alice[1]));
    assert_eq!(
        c.end_session(&alice[0]).await.unwrap(),
        EndOutcome::AlreadyGone
    );

    // End all sessions of a user.
    let (carol_id, carol) = &by_email["carol@example.org"];
    assert_eq!(
        c.end_user_sessions(carol_id).await.unwrap(),
        carol.len() as u64
    );
    let after = full(c.as_ref()).await;
    assert!(carol.iter().all(|id| !after.contains_key(id)));

    // Disable (ban) and re-enable; a banned user cannot sign in.
    let (mallory_id, mallory) = &by_email["mallory@example.org"];
    let u = c.disable_user(mallory_id, true).await.unwrap();
    assert!(u.disabled);
    let after = full(c.as_ref()).await;
    assert!(mallory.iter().all(|id| !after.contains_key(id)));
    let http = reqwest::Client::new();
    let sign_in = |email: &str| {
        http.post(format!("{url}/sign-in/email"))
            .json(&serde_json::json!({"email": email, "password": f.env["BETTER_AUTH_USER_PASSWORD"]}))
            .send()
    };
    assert_eq!(sign_in("mallory@example.org").await.unwrap().status(), 403);
    assert!(!c.enable_user(mallory_id).await.unwrap().disabled);
    assert_eq!(sign_in("mallory@example.org").await.unwrap().status(), 200);

    // Verified from the server's side with tokens of our own: ending one session makes
    // that token fail, force logout makes every token fail.
    let own_sessions = |token: String| {
        http.get(format!("{url}/list-sessions"))
            .bearer_auth(token)
            .send()
    };
    let token_of = |resp: Value| resp["token"].as_str().unwrap().to_owned();
    let t1 = token_of(
        sign_in("bob@example.org")
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    let t2 = token_of(
        sign_in("bob@example.org")
            .await
            .unwrap()
            .json()
            .await
            .unwrap(),
    );
    assert_eq!(own_sessions(t1.clone()).await.unwrap().status(), 200);
    let listed = full(c.as_ref()).await;
    let bob_id = &by_email["bob@example.org"].0;
    let newest = listed
        .values()
        .filter(|s| *s.user_id == **bob_id)
        .max_by_key(|s| s.created_at)
        .map(|s| s.id.clone())
        .unwrap();
    assert_eq!(c.end_session(&newest).await.unwrap(), EndOutcome::Ended);
    assert_eq!(
        own_sessions(t2.clone()).await.unwrap().status(),
        401,
        "the ended session's token is refused"
    );
    assert_eq!(
        own_sessions(t1.clone()).await.unwrap().status(),
        200,
        "the other session still works"
    );
    c.end_user_sessions(bob_id).await.unwrap();
    assert_eq!(
        own_sessions(t1).await.unwrap().status(),
        401,
        "force logout ends every session"
    );

    let bob = c.find_user("bob@example.org").await.unwrap().unwrap();
    assert_eq!(*bob.id, *by_email["bob@example.org"].0);
    assert!(c.find_user("nobody@example.org").await.unwrap().is_none());

    // A non-admin's token is authenticated but refused the admin API.
    let resp: Value = sign_in("bob@example.org")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bob_token = resp["token"].as_str().unwrap();
    let err = build(ConnectorKind::BetterAuth, url, bob_token)
        .poll()
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden, "{}", err.message);
    let check = build(ConnectorKind::BetterAuth, url, bob_token)
        .check()
        .await;
    assert!(check.authenticated && check.error.is_some());

    // A wrong token is a clear error that does not echo any secret.
    let err = build(ConnectorKind::BetterAuth, url, "not-a-token")
        .poll()
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(
        err.message.contains("credential rejected (HTTP 401"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("not-a-token"));
    let check = build(ConnectorKind::BetterAuth, url, "not-a-token")
        .check()
        .await;
    assert!(check.reachable && !check.authenticated);
}

#[tokio::test]
#[ignore = "needs the real Synapse server; scripts/test starts it"]
async fn synapse_real_server() {
    let f = fixture("VIGIL_TEST_SYNAPSE_DIR");
    let url = &f.env["SYNAPSE_URL"];
    let admin_token = &f.env["SYNAPSE_ADMIN_TOKEN"];
    let c = build(ConnectorKind::Synapse, url, admin_token);

    let check = c.check().await;
    assert!(
        check.reachable && check.authenticated && check.error.is_none(),
        "{check:?}"
    );
    assert!(
        check.permissions.iter().any(|p| p == "server admin"),
        "{:?}",
        check.permissions
    );

    let sessions = full(c.as_ref()).await;
    let expected: usize = f.env["SYNAPSE_EXPECTED_DEVICES"].parse().unwrap();
    assert_eq!(sessions.len(), expected);
    let mut devices: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for u in f.json["users"].as_array().unwrap() {
        let uid = u["user_id"].as_str().unwrap();
        for d in u["devices"].as_array().unwrap() {
            let dev = d["device_id"].as_str().unwrap();
            let id = format!("{uid}|{dev}");
            let s = sessions
                .get(&id)
                .unwrap_or_else(|| panic!("device {id} missing"));
            assert_eq!(&*s.user_id, uid);
            assert_eq!(&*s.username, u["localpart"].as_str().unwrap());
            assert_eq!(s.superuser, u["admin"] == true);
            assert_eq!(s.display_name.as_deref(), u["displayname"].as_str());
            // The listing has no address; the user's details (threepids) do.
            assert_eq!(
                s.email.as_deref(),
                Some(format!("{}@example.org", u["localpart"].as_str().unwrap()).as_str())
            );
            assert!(
                s.created_at.is_none(),
                "Synapse keeps no creation time; nothing is invented"
            );
            assert!(s.last_activity_at.is_some());
            if dev == f.env["SYNAPSE_ADMIN_DEVICE"] {
                assert!(s.current, "Vigil's own device is the current session");
            } else {
                assert!(!s.current);
                assert_eq!(s.ip, normalize_ip(d["ip"].as_str().unwrap()), "{id}");
                assert_eq!(s.user_agent.as_deref(), d["user_agent"].as_str(), "{id}");
            }
            devices
                .entry(u["localpart"].as_str().unwrap().to_owned())
                .or_default()
                .push((
                    id,
                    d["access_token"].as_str().unwrap_or_default().to_owned(),
                ));
        }
    }

    // Vigil's own device is never ended.
    let own = format!(
        "{}|{}",
        f.env["SYNAPSE_ADMIN_USER"], f.env["SYNAPSE_ADMIN_DEVICE"]
    );
    assert_eq!(
        c.end_session(&own).await.unwrap_err().code,
        ErrorCode::Conflict
    );

    let http = reqwest::Client::new();
    let whoami = |token: String| {
        http.get(format!("{url}/_matrix/client/v3/account/whoami"))
            .bearer_auth(token)
            .send()
    };
    let alice = &devices["alice"];
    assert_eq!(whoami(alice[0].1.clone()).await.unwrap().status(), 200);
    assert_eq!(c.end_session(&alice[0].0).await.unwrap(), EndOutcome::Ended);
    assert_eq!(
        whoami(alice[0].1.clone()).await.unwrap().status(),
        401,
        "the ended device's token is refused"
    );
    assert_eq!(
        whoami(alice[1].1.clone()).await.unwrap().status(),
        200,
        "the other device still works"
    );
    let after = full(c.as_ref()).await;
    assert!(!after.contains_key(&alice[0].0) && after.contains_key(&alice[1].0));
    assert_eq!(
        c.end_session(&alice[0].0).await.unwrap(),
        EndOutcome::AlreadyGone
    );

    let carol = &devices["carol"];
    assert_eq!(
        c.end_user_sessions("@carol:localhost").await.unwrap(),
        carol.len() as u64
    );
    let after = full(c.as_ref()).await;
    assert!(carol.iter().all(|(id, _)| !after.contains_key(id)));

    // Locking is reversible: the token stops working, then works again.
    let http = reqwest::Client::new();
    let whoami = |token: String| {
        http.get(format!("{url}/_matrix/client/v3/account/whoami"))
            .bearer_auth(token)
            .send()
    };
    let mallory_token = devices["mallory"][0].1.clone();
    assert_eq!(whoami(mallory_token.clone()).await.unwrap().status(), 200);
    let u = c.disable_user("@mallory:localhost", false).await.unwrap();
    assert!(u.disabled);
    let resp = whoami(mallory_token.clone()).await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("M_USER_LOCKED"));
    let after = full(c.as_ref()).await;
    assert!(
        after
            .values()
            .filter(|s| &*s.user_id == "@mallory:localhost")
            .all(|s| s.disabled)
    );
    assert!(!c.enable_user("@mallory:localhost").await.unwrap().disabled);
    assert_eq!(whoami(mallory_token).await.unwrap().status(), 200);
    // Vigil's own account cannot be locked through Vigil.
    assert_eq!(
        c.disable_user(&f.env["SYNAPSE_ADMIN_USER"], false)
            .await
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );

    assert_eq!(
        c.find_user("bob").await.unwrap().map(|u| u.id).as_deref(),
        Some("@bob:localhost")
    );
    assert!(c.find_user("nobody").await.unwrap().is_none());

    // A non-admin's token is authenticated but refused the admin API.
    let bob_token = &devices["bob"][0].1;
    let err = build(ConnectorKind::Synapse, url, bob_token)
        .poll()
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden, "{}", err.message);
    assert!(err.message.contains("M_FORBIDDEN"), "{}", err.message);
    let check = build(ConnectorKind::Synapse, url, bob_token).check().await;
    assert!(check.authenticated && check.error.is_some());

    let err = build(ConnectorKind::Synapse, url, "syt_wrong")
        .poll()
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(
        err.message.contains("M_UNKNOWN_TOKEN") && !err.message.contains("syt_wrong"),
        "{}",
        err.message
    );
}

fn keycloak(f: &Fixture, client_id: &str, secret: &str) -> std::sync::Arc<dyn Connector> {
    let mut spec =
        TenantSpec::new("real", ConnectorKind::Keycloak, &f.env["KEYCLOAK_URL"]).unwrap();
    spec.options = std::collections::BTreeMap::from([
        ("realm".into(), f.env["KEYCLOAK_REALM"].clone()),
        ("client_id".into(), client_id.into()),
    ]);
    connector::build(&spec, SecretString::new(secret)).unwrap()
}

/// The Keycloak session id Vigil shows for a seeded sign-in.
fn kc_id(s: &Value) -> String {
    let id = s["id"].as_str().unwrap();
    if s["offline"] == true {
        format!("offline:{id}")
    } else {
        id.to_owned()
    }
}

#[tokio::test]
#[ignore = "needs the real Keycloak server; scripts/test starts it"]
async fn keycloak_real_server() {
    let f = fixture("VIGIL_TEST_KEYCLOAK_DIR");
    let url = f.env["KEYCLOAK_URL"].clone();
    let realm = f.env["KEYCLOAK_REALM"].clone();
    let secret = &f.env["KEYCLOAK_CLIENT_SECRET"];
    let c = keycloak(&f, &f.env["KEYCLOAK_CLIENT_ID"], secret);

    // The roles the README names are enough: Test connection is green and lists them.
    let check = c.check().await;
    assert!(
        check.reachable && check.authenticated && check.error.is_none(),
        "{check:?}"
    );
    for role in f.json["readme_roles"].as_array().unwrap() {
        assert!(
            check.permissions.iter().any(|p| role == p.as_str()),
            "{role} not in {:?}",
            check.permissions
        );
    }

    // Every session, online and offline, with IP, start, last access and client.
    let sessions = full(c.as_ref()).await;
    let expected: usize = f.env["KEYCLOAK_EXPECTED_SESSIONS"].parse().unwrap();
    assert_eq!(sessions.len(), expected, "{:?}", sessions.keys());
    let mut users: HashMap<String, Value> = HashMap::new();
    for u in f.json["users"].as_array().unwrap() {
        let name = u["username"].as_str().unwrap();
        for fs in u["sessions"].as_array().unwrap() {
            let id = kc_id(fs);
            let s = sessions
                .get(&id)
                .unwrap_or_else(|| panic!("session {id} of {name} missing"));
            assert_eq!(&*s.user_id, u["id"].as_str().unwrap());
            assert_eq!(&*s.username, name);
            assert_eq!(
                s.email.as_deref(),
                Some(format!("{name}@example.org").as_str())
            );
            assert_eq!(
                s.display_name.as_deref(),
                Some(
                    format!(
                        "{} {}",
                        u["first"].as_str().unwrap(),
                        u["last"].as_str().unwrap()
                    )
                    .as_str()
                )
            );
            assert_eq!(s.superuser, u["realm_admin"] == true, "{name}");
            assert_eq!(s.protected, s.superuser);
            assert_eq!(s.ip, normalize_ip(fs["ip"].as_str().unwrap()), "{id}");
            assert!(
                s.created_at.is_some() && s.last_activity_at.is_some(),
                "{s:?}"
            );
            let offline = fs["offline"] == true;
            assert_eq!(
                s.session_type.as_deref(),
                Some(if offline { "offline" } else { "browser" }),
                "{id}"
            );
            assert_eq!(s.server_name.as_deref(), fs["client"].as_str(), "{id}");
        }
        users.insert(name.to_owned(), u.clone());
    }

    // Verified from Keycloak's side: a session's refresh token works while the session
    // lives, and is refused once it is ended.
    let http = reqwest::Client::new();
    let token_url = format!("{url}/realms/{realm}/protocol/openid-connect/token");
    let refresh = |s: &Value| {
        http.post(&token_url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", s["client"].as_str().unwrap()),
                ("refresh_token", s["refresh_token"].as_str().unwrap()),
            ])
            .send()
    };
    let sign_in = |u: &Value| {
        http.post(&token_url)
            .form(&[
                ("grant_type", "password"),
                ("client_id", "app"),
                ("username", u["username"].as_str().unwrap()),
                ("password", u["password"].as_str().unwrap()),
            ])
            .send()
    };
    let session = |user: &str, i: usize| users[user]["sessions"][i].clone();

    // End one session: that one's token is refused, another of the same user still works.
    let (online, offline) = (session("alice", 0), session("alice", 1));
    assert_eq!(refresh(&online).await.unwrap().status(), 200);
    assert_eq!(
        c.end_session(&kc_id(&online)).await.unwrap(),
        EndOutcome::Ended
    );
    assert_eq!(
        refresh(&online).await.unwrap().status(),
        400,
        "ended session"
    );
    assert_eq!(
        refresh(&offline).await.unwrap().status(),
        200,
        "other session"
    );
    assert_eq!(
        c.end_session(&kc_id(&online)).await.unwrap(),
        EndOutcome::AlreadyGone
    );
    // An offline session is ended as one too.
    assert_eq!(
        c.end_session(&kc_id(&offline)).await.unwrap(),
        EndOutcome::Ended
    );
    assert_eq!(
        refresh(&offline).await.unwrap().status(),
        400,
        "ended offline session"
    );
    let after = full(c.as_ref()).await;
    assert!(!after.contains_key(&kc_id(&online)) && !after.contains_key(&kc_id(&offline)));

    // Force logout: every session of the user, offline ones included, is refused.
    let carol = users["carol"]["sessions"].as_array().unwrap().clone();
    let carol_id = users["carol"]["id"].as_str().unwrap();
    assert_eq!(
        c.end_user_sessions(carol_id).await.unwrap(),
        carol.len() as u64
    );
    for s in &carol {
        assert_eq!(refresh(s).await.unwrap().status(), 400, "{s}");
    }
    let after = full(c.as_ref()).await;
    assert!(carol.iter().all(|s| !after.contains_key(&kc_id(s))));
    assert!(
        after.contains_key(&kc_id(&session("bob", 0))),
        "others untouched"
    );

    // Disable: the sessions end and a new sign-in fails; re-enable: it works again.
    let mallory = users["mallory"].clone();
    let mallory_id = mallory["id"].as_str().unwrap();
    assert_eq!(sign_in(&mallory).await.unwrap().status(), 200);
    let u = c.disable_user(mallory_id, true).await.unwrap();
    assert!(u.disabled);
    let resp = sign_in(&mallory).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error"],
        "invalid_grant",
        "a disabled account cannot sign in"
    );
    assert_eq!(refresh(&session("mallory", 0)).await.unwrap().status(), 400);
    let after = full(c.as_ref()).await;
    assert!(after.values().all(|s| &*s.user_id != mallory_id));
    assert!(!c.enable_user(mallory_id).await.unwrap().disabled);
    assert_eq!(sign_in(&mallory).await.unwrap().status(), 200);

    let ops = c.find_user("ops").await.unwrap().unwrap();
    assert!(ops.superuser && ops.protected, "{ops:?}");
    assert_eq!(
        c.find_user("bob").await.unwrap().map(|u| u.id).as_deref(),
        users["bob"]["id"].as_str()
    );
    assert!(c.find_user("nobody").await.unwrap().is_none());

    // A client lacking roles: Test connection names each missing one; the poll fails
    // with an error naming the role, never a silent empty list.
    let weak = keycloak(
        &f,
        &f.env["KEYCLOAK_WEAK_CLIENT_ID"],
        &f.env["KEYCLOAK_WEAK_CLIENT_SECRET"],
    );
    let check = weak.check().await;
    let err = check.error.clone().unwrap_or_else(|| panic!("{check:?}"));
    assert!(check.reachable && check.authenticated);
    assert_eq!(err.code, ErrorCode::Forbidden);
    assert!(
        err.message.contains("view-realm") && err.message.contains("view-clients"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("view-users ("), "{}", err.message);
    let err = weak.poll().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden, "{}", err.message);
    assert!(
        err.message.contains("realm-management role view-"),
        "{}",
        err.message
    );

    // A wrong secret is a clear error that does not echo it.
    let wrong = keycloak(&f, &f.env["KEYCLOAK_CLIENT_ID"], "not-the-secret");
    let err = wrong.poll().await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized, "{}", err.message);
    assert!(!err.message.contains("not-the-secret"), "{}", err.message);
    let check = wrong.check().await;
    assert!(check.reachable && !check.authenticated, "{check:?}");
    let dump = format!("{sessions:?}");
    assert!(!dump.contains(secret.as_str()));
}
