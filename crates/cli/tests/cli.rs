//! The `vigil` binary end to end against `vigil demo serve`.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::collections::HashSet;
use std::process::{Command, Output};

const TOKEN: &str = "cli-test-token-81f2";

mod common;
use common::{BIN, Demo};

fn demo(sessions: u32, tick: &str) -> Demo {
    common::demo(sessions, tick, TOKEN)
}

fn vigil(args: &[&str], secret: Option<&str>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("VIGIL_SECRET")
        .env("VIGIL_DATA_DIR", common::data_dir());
    if let Some(s) = secret {
        cmd.env("VIGIL_SECRET", s);
    }
    cmd.output().unwrap()
}

fn sessions_json(url: &str) -> Vec<serde_json::Value> {
    let out = vigil(&["sessions", "--url", url, "--json"], Some(TOKEN));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn lists_the_whole_population_through_pagination() {
    let d = demo(5_000, "0");
    let rows = sessions_json(&d.url);
    let ids: HashSet<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!((rows.len(), ids.len()), (5_000, 5_000));
    for r in &rows {
        for key in ["id", "tenant", "username", "ip", "user_agent"] {
            assert!(r[key].is_string(), "{key} missing in {r}");
        }
        assert!(r["superuser"].is_boolean());
        let created = r["created_at"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(created).is_ok(),
            "{created}"
        );
    }
    assert!(rows.iter().any(|r| r["superuser"] == true));
}

#[test]
fn a_living_population_lists_without_duplicates() {
    let d = demo(5_000, "0.01");
    let rows = sessions_json(&d.url);
    let ids: HashSet<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(rows.len(), ids.len());
    assert!((4_500..=5_500).contains(&rows.len()), "{}", rows.len());
}

#[test]
fn terminate_ends_a_session_for_good() {
    let d = demo(500, "0");
    let rows = sessions_json(&d.url);
    let id = rows[7]["id"].as_str().unwrap().to_owned();
    let out = vigil(&["terminate", "--url", &d.url, &id], Some(TOKEN));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("ended {id}")));
    let after = sessions_json(&d.url);
    assert_eq!(after.len(), 499);
    assert!(after.iter().all(|r| r["id"] != id.as_str()));
    // Again: already gone is success.
    let out = vigil(&["terminate", "--url", &d.url, &id], Some(TOKEN));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("already gone"));
}

#[test]
fn filters_and_csv() {
    let d = demo(800, "0");
    let out = vigil(
        &["sessions", "--url", &d.url, "--superuser", "--json"],
        Some(TOKEN),
    );
    let supers: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!supers.is_empty() && supers.iter().all(|r| r["superuser"] == true));
    let out = vigil(
        &[
            "sessions",
            "--url",
            &d.url,
            "--ip",
            "10.20.0.0/16",
            "--json",
        ],
        Some(TOKEN),
    );
    let office: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        !office.is_empty()
            && office
                .iter()
                .all(|r| r["ip"].as_str().unwrap().starts_with("10.20."))
    );
    let out = vigil(&["sessions", "--url", &d.url, "--csv"], Some(TOKEN));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("tenant,id,username,"));
    assert_eq!(text.lines().count(), 801);
}

#[test]
fn user_actions_logout_disable_enable() {
    let d = demo(300, "0");
    let rows = sessions_json(&d.url);
    let victim = rows.iter().find(|r| r["protected"] == false).unwrap()["username"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = vigil(
        &["disable", "--url", &d.url, "--end-sessions", &victim],
        Some(TOKEN),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        sessions_json(&d.url)
            .iter()
            .all(|r| r["username"] != victim.as_str())
    );
    let out = vigil(&["enable", "--url", &d.url, &victim], Some(TOKEN));
    assert!(out.status.success());
    // Partial failure: the protected account is refused, the other is disabled; exit 1.
    let other = rows
        .iter()
        .rev()
        .find(|r| r["protected"] == false && r["username"] != victim.as_str())
        .unwrap()["username"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = vigil(&["disable", "--url", &d.url, "admin", &other], Some(TOKEN));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("disabled {other}")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 of 2 targets failed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = vigil(&["disable", "--url", &d.url, "admin"], Some(TOKEN));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("protected"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = vigil(
        &["logout", "--url", &d.url, "admin", "no-such-user"],
        Some(TOKEN),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no user named \"no-such-user\""), "{err}");
}

#[test]
fn errors_name_the_tenant_and_the_cause_with_exit_codes() {
    let d = demo(50, "0");
    let out = vigil(&["sessions", "--url", &d.url], Some("wrong-token"));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tenant '127.0.0.1'") && err.contains("credential rejected (HTTP 401"),
        "{err}"
    );
    assert!(!err.contains("wrong-token"));
    // Usage errors exit 2.
    assert_eq!(
        vigil(&["sessions", "--url", &d.url], None).status.code(),
        Some(2)
    );
    assert_eq!(vigil(&["sessions"], Some(TOKEN)).status.code(), Some(2));
    assert_eq!(
        vigil(&["sessions", "--url", "http://example.com"], Some(TOKEN))
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        vigil(
            &["sessions", "--url", &d.url, "--kind", "nope"],
            Some(TOKEN)
        )
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        vigil(
            &["sessions", "--url", &d.url, "--ip", "1.2.3.4/77"],
            Some(TOKEN)
        )
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        vigil(&["demo", "serve", "--timezone", "Mars/Base"], None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(vigil(&["bogus"], None).status.code(), Some(2));
}

/// `vigil person` and `vigil policy run` on an ad-hoc tenant: the person found by
/// address (any case) with their sessions; the policy's run ends exactly what its dry
/// run listed; a contain without --yes and without a terminal asks for --yes.
#[test]
fn person_and_policy_from_the_terminal() {
    let d = demo(400, "0");
    let rows = sessions_json(&d.url);
    let plain = rows
        .iter()
        .find(|r| r["protected"] == false && r["superuser"] == false)
        .unwrap();
    let user = plain["username"].as_str().unwrap();
    let email = format!("{user}@EXAMPLE.org");
    let out = vigil(&["person", "--url", &d.url, &email, "--json"], Some(TOKEN));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["key"], format!("{user}@example.org").as_str());
    let sessions = p["accounts"][0]["sessions"].as_array().unwrap();
    let listed = rows.iter().filter(|r| r["username"] == user).count();
    assert_eq!(sessions.len(), listed);
    // Nobody matches: exit 1, said.
    let out = vigil(&["person", "--url", &d.url, "nobody-at-all"], Some(TOKEN));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no person matches"));
    // Containing asks first; without a terminal it needs --yes, and sends nothing.
    let out = vigil(
        &["contain", "--url", &d.url, "--person", &email],
        Some(TOKEN),
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    let after = sessions_json(&d.url);
    assert_eq!(
        after.iter().filter(|r| r["username"] == user).count(),
        listed
    );

    // The policy: dry run, then run; the same sessions.
    let policy = [
        "policy",
        "run",
        "--url",
        &d.url,
        "--idle-over",
        "30m",
        "--json",
    ];
    let out = vigil(&[&policy[..], &["--dry-run"]].concat(), Some(TOKEN));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dry: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let would: Vec<&str> = dry["selection"]["end"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["session_id"].as_str().unwrap())
        .collect();
    assert!(!would.is_empty());
    assert!(dry["report"].is_null(), "a dry run sends nothing");
    let out = vigil(&policy, Some(TOKEN));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ended: Vec<&str> = run["report"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["ok"] == true)
        .map(|i| i["target"]["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(ended, would, "the run ends exactly what the dry run listed");
    let left: HashSet<String> = sessions_json(&d.url)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(would.iter().all(|id| !left.contains(*id)));
    // A span that is not one is a usage error.
    let out = vigil(
        &["policy", "run", "--url", &d.url, "--idle-over", "soon"],
        Some(TOKEN),
    );
    assert_eq!(out.status.code(), Some(2));
}

/// `vigil people`: links and unlinks by hand, kept in the config file.
#[test]
fn people_links_are_kept_in_the_config_file() {
    let config = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut cmd = common::vigil_command(config.path());
        cmd.args(args);
        let out = common::run(cmd, None);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&[
        "people",
        "link",
        "--tenant",
        "chat",
        "--person",
        "Ann@Example.org",
        "ann2",
    ]);
    run(&["people", "unlink", "--tenant", "ops", "admin"]);
    let list = run(&["people", "list"]);
    assert!(
        list.contains("link   chat ann2 -> ann@example.org"),
        "{list}"
    );
    assert!(list.contains("unlink ops admin"), "{list}");
    run(&["people", "auto", "--tenant", "chat", "ANN2"]);
    let list = run(&["people", "list"]);
    assert!(
        !list.contains("ann2") && list.contains("unlink ops admin"),
        "{list}"
    );
    let mut cmd = common::vigil_command(config.path());
    cmd.args(["people", "unlink", "--tenant", "../x", "admin"]);
    assert_eq!(common::run(cmd, None).status.code(), Some(2));
}

/// Log lines on a piped stderr are plain text: no colour codes for a file or a SIEM pipe
/// to carry (and none that a reader could mistake for a tenant's escapes).
#[test]
fn log_lines_on_a_pipe_carry_no_escape_codes() {
    let d = demo(20, "0");
    let out = Command::new(BIN)
        .args(["sessions", "--url", &d.url, "--json"])
        .env_remove("VIGIL_SECRET")
        .env("VIGIL_SECRET", TOKEN)
        .env("VIGIL_DATA_DIR", common::data_dir())
        .env("VIGIL_LOG", "debug")
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DEBUG"), "no log line to look at: {err}");
    assert!(!err.contains('\x1b'), "{err:?}");
}
