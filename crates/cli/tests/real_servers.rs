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

/// A GET with a bearer token, answered with JSON.
async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    token: &str,
) -> T {
    http.get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A person with accounts on the real Keycloak, Synapse and Better Auth servers, all
/// under one e-mail address, made for this test: `vigil person` finds them in all three,
/// `vigil contain --person` disables them, ends every session, revokes Keycloak's offline
/// grant and requires a new password everywhere, and each server confirms it on its own
/// side (tokens refused, accounts disabled, the old password refused); guards refuse
/// the administrators; `--reenable` undoes the disables. Other tests' users are untouched.
#[test]
#[ignore = "needs the real Keycloak, Synapse and Better Auth servers and a Secret Service; scripts/test provides them"]
fn a_person_is_found_and_contained_on_three_real_servers() {
    use serde_json::{Value, json};
    let kc = env_of("VIGIL_TEST_KEYCLOAK_DIR");
    let sy = env_of("VIGIL_TEST_SYNAPSE_DIR");
    let ba = env_of("VIGIL_TEST_BETTER_AUTH_DIR");
    let config = tempfile::tempdir().unwrap();
    let c = config.path();
    let local = format!("eve{}", std::process::id());
    let email = format!("{local}@example.org");
    let password = format!("{local}-Secret-pw-1");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();

    // Keycloak: the service account creates the user; a browser and an offline sign-in.
    let realm = &kc["KEYCLOAK_REALM"];
    let kc_url = kc["KEYCLOAK_URL"].trim_end_matches('/').to_owned();
    let kc_admin = |path: &str| format!("{kc_url}/admin/realms/{realm}/{path}");
    let kc_token = || -> String {
        rt.block_on(async {
            let r: Value = http
                .post(format!(
                    "{kc_url}/realms/{realm}/protocol/openid-connect/token"
                ))
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", kc["KEYCLOAK_CLIENT_ID"].as_str()),
                    ("client_secret", kc["KEYCLOAK_CLIENT_SECRET"].as_str()),
                ])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r["access_token"].as_str().unwrap().to_owned()
        })
    };
    let kc_sign_in = |client: &str, offline: bool| -> reqwest::StatusCode {
        rt.block_on(async {
            let mut form = vec![
                ("grant_type", "password"),
                ("client_id", client),
                ("username", local.as_str()),
                ("password", password.as_str()),
            ];
            if offline {
                form.push(("scope", "openid offline_access"));
            }
            http.post(format!(
                "{kc_url}/realms/{realm}/protocol/openid-connect/token"
            ))
            .header("X-Forwarded-For", "203.0.113.77")
            .form(&form)
            .send()
            .await
            .unwrap()
            .status()
        })
    };
    let token = kc_token();
    let kc_user: Value = rt.block_on(async {
        let status = http
            .post(kc_admin("users"))
            .bearer_auth(&token)
            .json(&json!({
                "username": local, "enabled": true, "email": email, "emailVerified": true,
                "firstName": "Eve", "lastName": "Example",
                "credentials": [{"type": "password", "value": password, "temporary": false}]
            }))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 201, "creating the Keycloak user");
        let found: Vec<Value> = get_json(
            &http,
            kc_admin(&format!("users?username={local}&exact=true")),
            &token,
        )
        .await;
        found[0].clone()
    });
    let kc_id = kc_user["id"].as_str().unwrap().to_owned();
    assert_eq!(kc_sign_in("app", false), 200);
    assert_eq!(kc_sign_in("batch", true), 200);

    // Synapse: the admin API creates the user with the address; one device logs in.
    let sy_url = sy["SYNAPSE_URL"].trim_end_matches('/').to_owned();
    let mxid = format!("@{local}:{}", sy["SYNAPSE_SERVER_NAME"]);
    let sy_admin = sy["SYNAPSE_ADMIN_TOKEN"].clone();
    let sy_login = || -> (reqwest::StatusCode, Value) {
        rt.block_on(async {
            let r = http
                .post(format!("{sy_url}/_matrix/client/v3/login"))
                .json(&json!({"type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": local},
                    "password": password, "initial_device_display_name": "eve-phone"}))
                .send()
                .await
                .unwrap();
            (r.status(), r.json().await.unwrap_or(Value::Null))
        })
    };
    rt.block_on(async {
        let status = http
            .put(format!("{sy_url}/_synapse/admin/v2/users/{mxid}"))
            .bearer_auth(&sy_admin)
            .json(&json!({"password": password, "displayname": "Eve Example",
                "threepids": [{"medium": "email", "address": email}]}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 201, "creating the Synapse user");
    });
    let (status, login) = sy_login();
    assert_eq!(status, 200, "{login}");
    let sy_device_token = login["access_token"].as_str().unwrap().to_owned();

    // Better Auth: sign up, then sign in.
    let ba_url = ba["BETTER_AUTH_URL"].trim_end_matches('/').to_owned();
    let ba_sign_in = || -> (reqwest::StatusCode, Value) {
        rt.block_on(async {
            let r = http
                .post(format!("{ba_url}/sign-in/email"))
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap();
            (r.status(), r.json().await.unwrap_or(Value::Null))
        })
    };
    rt.block_on(async {
        let status = http
            .post(format!("{ba_url}/sign-up/email"))
            .json(&json!({"email": email, "password": password, "name": "Eve Example"}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200, "signing up on Better Auth");
    });
    let (status, signed) = ba_sign_in();
    assert_eq!(status, 200, "{signed}");
    let ba_session_token = signed["token"].as_str().unwrap().to_owned();

    // The three tenants, configured with their secrets in the keychain.
    let add = |name: &str, kind: &str, url: &str, options: &[String], secret: &str| {
        let mut args = vec!["tenant", "add", name, "--kind", kind, "--url", url];
        for o in options {
            args.extend(["--option", o.as_str()]);
        }
        args.push("--secret-stdin");
        ok(&vigil(c, &args, Some(secret), None));
    };
    add(
        "kc",
        "keycloak",
        &kc["KEYCLOAK_URL"],
        &[
            format!("realm={realm}"),
            format!("client_id={}", kc["KEYCLOAK_CLIENT_ID"]),
        ],
        &kc["KEYCLOAK_CLIENT_SECRET"],
    );
    add("syn", "synapse", &sy["SYNAPSE_URL"], &[], &sy_admin);
    add(
        "ba",
        "better-auth",
        &ba["BETTER_AUTH_URL"],
        &[],
        &ba["BETTER_AUTH_ADMIN_TOKEN"],
    );

    // Found by e-mail, in any case, in all three tenants with their sessions.
    let out = vigil(c, &["person", &email.to_uppercase(), "--json"], None, None);
    let text = ok(&out);
    let person: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(person["key"], email.as_str(), "{text}");
    let accounts = person["accounts"].as_array().unwrap();
    let by_tenant = |t: &str| accounts.iter().find(|a| a["tenant"] == t).unwrap().clone();
    assert_eq!(accounts.len(), 3, "{text}");
    assert_eq!(
        by_tenant("kc")["sessions"].as_array().unwrap().len(),
        2,
        "{text}"
    );
    assert_eq!(
        by_tenant("syn")["sessions"].as_array().unwrap().len(),
        1,
        "{text}"
    );
    assert_eq!(
        by_tenant("ba")["sessions"].as_array().unwrap().len(),
        1,
        "{text}"
    );
    assert!(accounts.iter().all(|a| a["linked_by"] == "email"), "{text}");

    // The administrators' accounts are refused per tenant, named, before anything is sent.
    let out = vigil(
        c,
        &[
            "contain",
            "--person",
            "ops@example.org",
            "--dry-run",
            "--json",
        ],
        None,
        None,
    );
    let text = ok(&out);
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    for tenant in ["kc", "ba"] {
        let disable = plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["tenant"] == tenant && i["step"] == "disable_only")
            .unwrap_or_else(|| panic!("no disable step for ops in {tenant}: {text}"));
        assert_eq!(disable["outcome"]["state"], "refused", "{text}");
    }

    // Contained: one command, every item confirmed or settled, exit 0.
    let out = vigil(
        c,
        &["contain", "--person", &email, "--yes", "--json"],
        None,
        None,
    );
    let text = ok(&out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = report["items"].as_array().unwrap();
    let state = |tenant: &str, step: &str| {
        items
            .iter()
            .find(|i| i["tenant"] == tenant && i["step"] == step)
            .map(|i| i["outcome"]["state"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no {step} in {tenant}: {text}"))
    };
    for t in ["kc", "syn", "ba"] {
        assert_eq!(state(t, "disable_only"), "confirmed", "{text}");
        assert_eq!(state(t, "logout"), "confirmed", "{text}");
        assert_eq!(state(t, "require_password_change"), "accepted", "{text}");
    }
    assert_eq!(state("kc", "revoke_grants"), "accepted", "{text}");
    assert_eq!(state("syn", "revoke_grants"), "not_offered", "{text}");

    // From each server's side.
    let token = kc_token();
    rt.block_on(async {
        let u: Value = get_json(&http, kc_admin(&format!("users/{kc_id}")), &token).await;
        assert_eq!(u["enabled"], false, "{u}");
        assert_eq!(
            u["email"],
            email.as_str(),
            "nothing else of the user changed: {u}"
        );
        assert!(
            u["requiredActions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "UPDATE_PASSWORD"),
            "{u}"
        );
        for path in ["sessions", "consents"] {
            let list: Vec<Value> =
                get_json(&http, kc_admin(&format!("users/{kc_id}/{path}")), &token).await;
            assert!(list.is_empty(), "{path}: {list:?}");
        }
        let whoami = http
            .get(format!("{sy_url}/_matrix/client/v3/account/whoami"))
            .bearer_auth(&sy_device_token)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(whoami, 401, "the Matrix device's token is refused");
        let u: Value = get_json(
            &http,
            format!("{sy_url}/_synapse/admin/v2/users/{mxid}"),
            &sy_admin,
        )
        .await;
        assert_eq!(u["locked"], true, "{u}");
        let listed = http
            .get(format!("{ba_url}/list-sessions"))
            .bearer_auth(&ba_session_token)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(listed, 401, "the Better Auth session's token is refused");
    });
    assert_ne!(
        kc_sign_in("app", false),
        200,
        "Keycloak refuses the sign-in"
    );
    assert_ne!(sy_login().0, 200, "Synapse refuses the old password");
    assert_ne!(ba_sign_in().0, 200, "Better Auth refuses the old password");

    // Every step is in the audit log under one action.
    let out = vigil(c, &["audit", "--json", "--search", &local], None, None);
    ok(&out);
    let entries: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let action = report["action_id"].as_str().unwrap();
    let ours: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action_id"] == action)
        .collect();
    assert_eq!(ours.len(), 10, "{entries:?}");

    // Re-enabled everywhere.
    let out = vigil(
        c,
        &[
            "contain",
            "--person",
            &email,
            "--reenable",
            "--yes",
            "--json",
        ],
        None,
        None,
    );
    let text = ok(&out);
    let back: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        back["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["outcome"]["state"] == "accepted"),
        "{text}"
    );
    let token = kc_token();
    rt.block_on(async {
        let u: Value = get_json(&http, kc_admin(&format!("users/{kc_id}")), &token).await;
        assert_eq!(u["enabled"], true, "{u}");
    });
    let file = std::fs::read_to_string(c.join("config.toml")).unwrap();
    for secret in [
        kc["KEYCLOAK_CLIENT_SECRET"].as_str(),
        sy_admin.as_str(),
        ba["BETTER_AUTH_ADMIN_TOKEN"].as_str(),
    ] {
        assert!(!file.contains(secret));
    }
}

/// `vigil` with its own config and data dirs.
fn vigil_in(
    config: &std::path::Path,
    data: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = common::vigil_command(config);
    cmd.env("VIGIL_DATA_DIR", data).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    common::run(cmd, stdin)
}

fn fails(o: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.status.success(), "{text}");
    text
}

fn jsonl(path: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
#[ignore = "needs the real SMTP server, PostgreSQL and a Secret Service; scripts/test provides them"]
fn alert_routes_and_the_team_audit_from_the_terminal() {
    let smtp = env_of("VIGIL_TEST_SMTP_DIR");
    let pg = env_of("VIGIL_TEST_POSTGRES_DIR");
    let config = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let (c, d) = (config.path(), data.path());
    let file = c.join("config.toml");

    // A credential in the file is refused, naming the route.
    std::fs::write(&file, "[[alerts.routes]]\nname = \"chat\"\nkind = \"slack\"\nurl = \"https://hooks.slack.com/services/T/B/secret\"\n").unwrap();
    let text = fails(&vigil_in(c, d, &["route", "list"], None, &[]));
    assert!(
        text.contains("route 'chat'") && text.contains("keychain"),
        "{text}"
    );

    let route = format!(
        "[[alerts.routes]]\nname = \"mail\"\nkind = \"email\"\nsmtp_host = \"{}\"\nsmtp_port = {}\nusername = \"{}\"\nfrom = \"vigil@example.org\"\nto = [\"cli-soc@example.org\"]\nca_certificate = \"{}\"\n",
        smtp["SMTP_TLS_NAME"], smtp["SMTP_PORT"], smtp["SMTP_USER"], smtp["SMTP_CA"]
    );
    std::fs::write(&file, &route).unwrap();
    let text = ok(&vigil_in(c, d, &["route", "list"], None, &[]));
    assert!(
        text.contains("mail  email  medium+  20/min  every tenant"),
        "{text}"
    );
    // No password yet: the route says what is missing.
    let text = fails(&vigil_in(c, d, &["route", "test", "mail"], None, &[]));
    assert!(
        text.contains("route 'mail'") && text.contains("no SMTP password in the keychain"),
        "{text}"
    );
    ok(&vigil_in(
        c,
        d,
        &["route", "set-secret", "mail", "--secret-stdin"],
        Some(&smtp["SMTP_PASSWORD"]),
        &[],
    ));
    let before = jsonl(&smtp["SMTP_RECEIVED"]).len();
    let text = ok(&vigil_in(c, d, &["route", "test", "mail"], None, &[]));
    assert!(text.contains("test alert delivered"), "{text}");
    let mails = jsonl(&smtp["SMTP_RECEIVED"]);
    assert!(
        mails[before..]
            .iter()
            .any(|m| m["rcpt_tos"][0] == "cli-soc@example.org"
                && m["data"]
                    .as_str()
                    .unwrap()
                    .contains("Test alert from Vigil")),
        "{mails:?}"
    );
    let config_text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !config_text.contains(&smtp["SMTP_PASSWORD"]),
        "the password reached the file"
    );

    // The team audit: the owner lets op_alice in; this machine shares its audit.
    let split = |url: &str| {
        let rest = url.strip_prefix("postgres://").unwrap();
        let (cred, host) = rest.split_once('@').unwrap();
        let (user, pw) = cred.split_once(':').unwrap();
        (format!("postgres://{user}@{host}"), pw.to_owned())
    };
    let (owner, owner_pw) = split(&pg["PG_OWNER_URL"]);
    ok(&vigil_in(
        c,
        d,
        &["audit", "init", &owner, "--no-tls", "--grant", "op_alice"],
        None,
        &[("PGPASSWORD", &owner_pw)],
    ));
    let (alice, alice_pw) = split(&pg["PG_ALICE_URL"]);
    let text = fails(&vigil_in(
        c,
        d,
        &["audit", "share", &alice, "--no-tls", "--password-stdin"],
        Some("wrong-password"),
        &[],
    ));
    assert!(
        text.contains("shared audit") && !text.contains("wrong-password"),
        "{text}"
    );
    ok(&vigil_in(
        c,
        d,
        &["audit", "share", &alice, "--no-tls", "--password-stdin"],
        Some(&alice_pw),
        &[],
    ));
    let config_text = std::fs::read_to_string(&file).unwrap();
    assert!(
        config_text.contains("[audit.shared]") && !config_text.contains(&alice_pw),
        "{config_text}"
    );
    assert!(
        config_text.contains("name = \"mail\""),
        "the routes stay: {config_text}"
    );

    // An action: its events reach the shared store right after.
    let demo = common::demo(50, "0", "cli-shared-token");
    let out = vigil_in(
        c,
        d,
        &["sessions", "--url", &demo.url, "--json"],
        None,
        &[("VIGIL_SECRET", "cli-shared-token")],
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = rows[3]["id"].as_str().unwrap().to_owned();
    ok(&vigil_in(
        c,
        d,
        &["terminate", "--url", &demo.url, &id],
        None,
        &[("VIGIL_SECRET", "cli-shared-token")],
    ));
    let text = ok(&vigil_in(
        c,
        d,
        &["audit", "--shared", "--json", "--search", &id],
        None,
        &[],
    ));
    let events: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        events.iter().any(|e| e["target"] == id.as_str()
            && e["db_user"] == "op_alice"
            && e["state"] == "requested"),
        "{text}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["target"] == id.as_str() && e["state"] == "accepted"),
        "{text}"
    );
    let text = ok(&vigil_in(c, d, &["audit", "sync"], None, &[]));
    assert!(text.contains("0 waiting"), "{text}");
    let text = ok(&vigil_in(c, d, &["audit", "verify"], None, &[]));
    assert!(text.contains("intact"), "{text}");
}
