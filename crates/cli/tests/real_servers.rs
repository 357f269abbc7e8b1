//! The `vigil` CLI against the real Synapse and Better Auth servers that `scripts/test`
//! starts (tests/servers). Configured tenants need the keychain, so these run inside the
//! private D-Bus session too. They leave the servers' fixture as they found it (they end
//! only sessions they create), so the connector tests in vigil-core can count on it.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::HashMap;
use std::process::Output;

fn env_of(var: &str) -> HashMap<String, String> {
    let dir =
        std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set: run through scripts/test"));
    std::fs::read_to_string(std::path::Path::new(&dir).join("env"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn vigil(
    config: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
    secret: Option<&str>,
) -> Output {
    let mut cmd = common::vigil_command(config);
    cmd.args(args);
    if let Some(s) = secret {
        cmd.env("VIGIL_SECRET", s);
    }
    common::run(cmd, stdin)
}

fn ok(o: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    text
}

#[test]
#[ignore = "needs the real Synapse server and a Secret Service; scripts/test provides both"]
fn synapse_as_a_configured_tenant() {
    let env = env_of("VIGIL_TEST_SYNAPSE_DIR");
    let config = tempfile::tempdir().unwrap();
    let c = config.path();
    let name = format!("syn-{}", std::process::id());
    ok(&vigil(
        c,
        &[
            "tenant",
            "add",
            &name,
            "--kind",
            "synapse",
            "--url",
            &env["SYNAPSE_URL"],
            "--secret-stdin",
        ],
        Some(&env["SYNAPSE_ADMIN_TOKEN"]),
        None,
    ));
    let text = ok(&vigil(c, &["tenant", "test", &name], None, None));
    assert!(
        text.contains("credential:    accepted") && text.contains("server admin"),
        "{text}"
    );
    let out = vigil(c, &["sessions", "--tenant", &name, "--json"], None, None);
    ok(&out);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        rows.iter()
            .any(|r| r["username"] == "vigiladmin" && r["current"] == true)
    );
    assert!(rows.iter().any(|r| r["username"] == "bob"));
    // A fresh device of ops, ended through the CLI; its token is refused afterwards.
    let dir = std::env::var("VIGIL_TEST_SYNAPSE_DIR").unwrap();
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(std::path::Path::new(&dir).join("fixture.json")).unwrap(),
    )
    .unwrap();
    let ops = fixture["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["localpart"] == "ops")
        .unwrap();
    let password = ops["password"].as_str().unwrap().to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    let login: serde_json::Value = rt.block_on(async {
        let body = serde_json::json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": "ops"},
                                      "password": password, "device_id": "CLITEST"});
        let url = format!("{}/_matrix/client/v3/login", env["SYNAPSE_URL"]);
        http.post(url).json(&body).send().await.unwrap().json().await.unwrap()
    });
    let token = login["access_token"].as_str().unwrap().to_owned();
    let text = ok(&vigil(
        c,
        &["terminate", "--tenant", &name, "@ops:localhost|CLITEST"],
        None,
        None,
    ));
    assert!(text.contains("ended @ops:localhost|CLITEST"), "{text}");
    let status = rt.block_on(async {
        let url = format!("{}/_matrix/client/v3/account/whoami", env["SYNAPSE_URL"]);
        http.get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 401, "the ended device's token is refused");
    ok(&vigil(
        c,
        &["disable", "--tenant", &name, "mallory"],
        None,
        None,
    ));
    ok(&vigil(
        c,
        &["enable", "--tenant", &name, "mallory"],
        None,
        None,
    ));
    ok(&vigil(c, &["tenant", "remove", &name], None, None));
    // Nothing on disk holds the token.
    let file = std::fs::read_to_string(c.join("config.toml")).unwrap();
    assert!(!file.contains(&env["SYNAPSE_ADMIN_TOKEN"]));
}

#[test]
#[ignore = "needs the real Better Auth server; scripts/test starts it"]
fn better_auth_as_an_adhoc_tenant() {
    let env = env_of("VIGIL_TEST_BETTER_AUTH_DIR");
    let config = tempfile::tempdir().unwrap();
    let c = config.path();
    let url = &env["BETTER_AUTH_URL"];
    let token = Some(env["BETTER_AUTH_ADMIN_TOKEN"].as_str());
    let out = vigil(
        c,
        &["sessions", "--url", url, "--kind", "better-auth", "--json"],
        None,
        token,
    );
    ok(&out);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rows.iter().any(|r| r["username"] == "admin@example.org"
        && r["superuser"] == true
        && r["current"] == true));
    let dump = String::from_utf8_lossy(&out.stdout);
    assert!(
        !dump.contains(&env["BETTER_AUTH_ADMIN_TOKEN"]),
        "session tokens are never printed"
    );
    // A fresh session of bob, ended through the CLI.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let created: serde_json::Value = rt.block_on(async {
        let body = serde_json::json!({"email": "bob@example.org", "password": env["BETTER_AUTH_USER_PASSWORD"]});
        let resp = reqwest::Client::new().post(format!("{url}/sign-in/email")).json(&body).send().await.unwrap();
        resp.json().await.unwrap()
    });
    let new_token = created["token"].as_str().unwrap().to_owned();
    let bob = [
        "sessions",
        "--url",
        url,
        "--kind",
        "better-auth",
        "--json",
        "--user",
        "bob@example.org",
    ];
    let bobs: Vec<serde_json::Value> =
        serde_json::from_slice(&vigil(c, &bob, None, token).stdout).unwrap();
    // The new session is the one the admin API lists with the latest creation time.
    let newest = bobs
        .iter()
        .max_by_key(|r| {
            chrono::DateTime::parse_from_rfc3339(r["created_at"].as_str().unwrap()).unwrap()
        })
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let text = ok(&vigil(
        c,
        &["terminate", "--url", url, "--kind", "better-auth", &newest],
        None,
        token,
    ));
    assert!(text.contains(&format!("ended {newest}")), "{text}");
    let after: Vec<serde_json::Value> =
        serde_json::from_slice(&vigil(c, &bob, None, token).stdout).unwrap();
    assert_eq!(after.len(), bobs.len() - 1);
    let status = rt.block_on(async {
        let resp = reqwest::Client::new()
            .get(format!("{url}/list-sessions"))
            .bearer_auth(new_token)
            .send()
            .await;
        resp.unwrap().status()
    });
    assert_eq!(status, 401, "the ended session's token is refused");
    let out = vigil(
        c,
        &["sessions", "--url", url, "--kind", "better-auth"],
        None,
        Some("wrong"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("credential rejected (HTTP 401"));
}

/// A Keycloak tenant added with the CLI: Test connection with the roles the README names,
/// and with too few, which it names; sessions listed, offline ones included.
#[test]
#[ignore = "needs the real Keycloak server and a Secret Service; scripts/test provides both"]
fn keycloak_as_a_configured_tenant() {
    let env = env_of("VIGIL_TEST_KEYCLOAK_DIR");
    let config = tempfile::tempdir().unwrap();
    let c = config.path();
    let add = |name: &str, client: &str, secret: &str| {
        ok(&vigil(
            c,
            &[
                "tenant",
                "add",
                name,
                "--kind",
                "keycloak",
                "--url",
                &env["KEYCLOAK_URL"],
                "--option",
                &format!("realm={}", env["KEYCLOAK_REALM"]),
                "--option",
                &format!("client_id={client}"),
                "--secret-stdin",
            ],
            Some(secret),
            None,
        ))
    };
    add(
        "kc",
        &env["KEYCLOAK_CLIENT_ID"],
        &env["KEYCLOAK_CLIENT_SECRET"],
    );
    add(
        "kc-weak",
        &env["KEYCLOAK_WEAK_CLIENT_ID"],
        &env["KEYCLOAK_WEAK_CLIENT_SECRET"],
    );
    let text = ok(&vigil(c, &["tenant", "test", "kc"], None, None));
    assert!(text.contains("credential:    accepted"), "{text}");
    let weak = vigil(c, &["tenant", "test", "kc-weak"], None, None);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&weak.stdout),
        String::from_utf8_lossy(&weak.stderr)
    );
    assert!(!weak.status.success(), "{text}");
    assert!(
        text.contains("view-realm") && text.contains("view-clients"),
        "Test connection names the missing roles: {text}"
    );
    let out = vigil(c, &["sessions", "--tenant", "kc", "--json"], None, None);
    ok(&out);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    // lilei signs in only offline, through a client with no online session at all.
    assert!(
        rows.iter().any(|r| r["username"] == "lilei"
            && r["session_type"] == "offline"
            && r["id"].as_str().unwrap().starts_with("offline:")),
        "{rows:?}"
    );
    let file = std::fs::read_to_string(c.join("config.toml")).unwrap();
    assert!(!file.contains(&env["KEYCLOAK_CLIENT_SECRET"]));
}
