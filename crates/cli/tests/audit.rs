//! Audited actions through the `vigil` binary: confirmation, `vigil audit`, the contain
//! playbook, and a kill -9 in the middle of a 500-session bulk action.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::collections::HashSet;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::BIN;

const TOKEN: &str = "audit-test-token";

fn vigil(data: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("VIGIL_SECRET", TOKEN)
        .env("VIGIL_DATA_DIR", data)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn audit_json(data: &std::path::Path) -> Vec<serde_json::Value> {
    let out = vigil(data, &["audit", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ids(data: &std::path::Path, url: &str) -> Vec<String> {
    let out = vigil(
        data,
        &["sessions", "--url", url, "--json", "--sort", "created"],
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.iter()
        .filter(|r| r["current"] == false)
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn actions_are_audited_and_confirmed() {
    let d = common::demo(300, "0", TOKEN);
    let data = tempfile::tempdir().unwrap();
    let targets = ids(data.path(), &d.url);
    let out = vigil(
        data.path(),
        &["terminate", "--url", &d.url, &targets[0], &targets[1]],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains(&format!("confirmed {}", targets[0])), "{t}");
    let entries = audit_json(data.path());
    assert_eq!(entries.len(), 2);
    for e in &entries {
        assert_eq!(e["state"], "confirmed");
        assert_eq!(e["action"], "end_session");
        assert_eq!(e["tenant"], "127.0.0.1");
        assert!(e["actor"].as_str().unwrap().contains('@'));
        assert!(e["target_user"].is_string());
    }
    // The playbook: force logout, then disable; each step is in the audit log.
    let out = vigil(data.path(), &["sessions", "--url", &d.url, "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let user = rows.iter().find(|r| r["protected"] == false).unwrap()["username"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = vigil(data.path(), &["contain", "--url", &d.url, &user]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    // Each step with what it means there; the Vigil Session API offers no revocation or
    // password step, and the plan says so.
    assert!(
        t.contains("disable_only: confirmed")
            && t.contains("logout: confirmed")
            && t.contains("revoke_grants: not offered")
            && t.contains(&format!("contained {user}")),
        "{t}"
    );
    let entries = audit_json(data.path());
    let actions: Vec<&str> = entries
        .iter()
        .filter(|e| e["target_user"] == user.as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"logout") && actions.contains(&"disable_only"),
        "{actions:?}"
    );
    let out = vigil(
        data.path(),
        &["sessions", "--url", &d.url, "--json", "--user", &user],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    // Exports and filters.
    let out = vigil(data.path(), &["audit", "--csv", "--search", &user]);
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.starts_with("id,action_id,requested_at,actor,tenant,action,target,")
            && csv.lines().count() >= 3,
        "{csv}"
    );
    assert_eq!(
        vigil(data.path(), &["audit", "--since", "yesterday"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_kill_in_the_middle_of_a_bulk_action_loses_nothing() {
    // 25 ms per request and 4 in flight: 500 sessions take about 3 s; the kill comes first.
    let d = common::demo_with(600, "0", TOKEN, &["--latency-ms", "25"]);
    let data = tempfile::tempdir().unwrap();
    let mut targets = ids(data.path(), &d.url);
    targets.truncate(500);
    assert_eq!(targets.len(), 500);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    let get = |path: String| {
        let req = http.get(format!("{}{path}", d.url)).bearer_auth(TOKEN);
        rt.block_on(async {
            req.send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        })
    };
    let watermark = get("/v1/sessions?limit=1".into())["watermark"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut args = vec!["terminate".to_owned(), "--url".into(), d.url.clone()];
    args.extend(targets.iter().cloned());
    let mut child = Command::new(BIN)
        .args(&args)
        .env("VIGIL_SECRET", TOKEN)
        .env("VIGIL_DATA_DIR", data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill once the server has ended some sessions.
    let started = Instant::now();
    loop {
        let feed = get(format!("/v1/sessions/changes?since={watermark}&limit=5000"));
        let ended = feed["ended"].as_array().map_or(0, Vec::len);
        if ended >= 40 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the bulk action never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300)); // requests already on the wire land

    let feed = get(format!("/v1/sessions/changes?since={watermark}&limit=5000"));
    let terminated: HashSet<String> = feed["ended"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == "terminated")
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !terminated.is_empty() && terminated.len() < 500,
        "killed mid-action: {} ended",
        terminated.len()
    );
    let entries = audit_json(data.path());
    let audited: HashSet<String> = entries
        .iter()
        .map(|e| e["target"].as_str().unwrap().to_owned())
        .collect();
    // Every request the server received has an entry — in fact all 500 intents were
    // written before the first request.
    assert!(
        terminated.is_subset(&audited),
        "unaudited: {:?}",
        terminated.difference(&audited).collect::<Vec<_>>()
    );
    assert_eq!(audited.len(), 500);
    let states: HashSet<&str> = entries
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert!(
        states.contains("requested"),
        "items cut off by the kill stay visible as requested: {states:?}"
    );
}
