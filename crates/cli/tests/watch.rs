//! `vigil watch` against the demo tenant: a scripted SuperUser sign-in at odd hours is
//! exactly one JSON line, and a restart does not repeat it.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::BIN;

const TOKEN: &str = "watch-test-token";

struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn watch(url: &str, data: &std::path::Path, extra: &[&str]) -> Watch {
    // Working hours on a weekday three days away never include "now": every
    // sign-in is at odd hours, whatever the date of the run.
    let away = chrono::Datelike::weekday(&(chrono::Utc::now() + chrono::Duration::days(3)));
    let hours = format!("{away} 00:00-00:01");
    let mut child = Command::new(BIN)
        .args([
            "watch",
            "--url",
            url,
            "--hours",
            &hours,
            "--timezone",
            "UTC",
            "--poll-interval",
            "0.3",
        ])
        .args(extra)
        .env("VIGIL_SECRET", TOKEN)
        .env("VIGIL_DATA_DIR", data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    Watch { child, lines }
}

fn collect(w: &Watch, for_: Duration) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + for_;
    let mut out = Vec::new();
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match w.lines.recv_timeout(left) {
            Ok(l) => {
                out.push(serde_json::from_str(&l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
            }
            Err(_) => break,
        }
    }
    out
}

#[test]
fn an_odd_hours_superuser_sign_in_is_one_alert_and_is_not_repeated() {
    let d = common::demo(200, "0", TOKEN);
    let data = tempfile::tempdir().unwrap();
    let w = watch(&d.url, data.path(), &[]);
    // The first poll's existing sessions are not announced.
    let before = collect(&w, Duration::from_secs(2));
    assert!(before.is_empty(), "{before:?}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let created: serde_json::Value = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/demo/v1/sign-ins", d.url))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({"username": "admin", "ip": "203.0.113.7", "user_agent": "curl/8.5.0"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let id = created["id"].as_str().unwrap().to_owned();
    let lines = collect(&w, Duration::from_secs(3));
    let mine: Vec<_> = lines
        .iter()
        .filter(|l| l["session_id"] == id.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{lines:?}");
    let a = mine[0];
    assert_eq!(a["rule"], "superuser_sign_in");
    assert_eq!(a["severity"], "high");
    let rules: Vec<&str> = a["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(rules.contains(&"odd_hours"), "{rules:?}");
    for key in ["tenant", "username", "ip", "user_agent", "at", "message"] {
        assert!(a[key].is_string(), "{key} in {a}");
    }
    assert_eq!(a["username"], "admin");
    assert_eq!(a["ip"], "203.0.113.7");
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .contains("a SuperUser signed in")
    );
    drop(w);

    // A restart, even one that looks at existing sessions, does not repeat it.
    let w = watch(&d.url, data.path(), &["--alert-on-existing"]);
    let lines = collect(&w, Duration::from_secs(3));
    assert!(!lines.is_empty(), "existing sessions were looked at");
    assert!(
        lines.iter().all(|l| l["session_id"] != id.as_str()),
        "{lines:?}"
    );
}
