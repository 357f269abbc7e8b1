//! Tenants with secrets in the real OS keychain (Secret Service on Linux), driven through
//! the `vigil` binary. These need a running, unlocked Secret Service, so they are ignored
//! by a plain `cargo test`; `scripts/test` runs them with `--include-ignored` inside a
//! private D-Bus session with gnome-keyring (tests/e2e/headless.sh).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;
use common::{BIN, Demo};

fn demo(token: &str) -> Demo {
    common::demo(200, "0", token)
}

/// Runs `vigil` with a config dir, full logging, and optional stdin; keeps every byte it printed.
fn vigil(config: &Path, args: &[&str], stdin: Option<&str>, log: &mut Vec<u8>) -> Output {
    let mut cmd = common::vigil_command(config);
    cmd.args(args).env("VIGIL_LOG", "trace");
    let out = common::run(cmd, stdin);
    log.extend_from_slice(&out.stdout);
    log.extend_from_slice(&out.stderr);
    out
}

fn secret_tool_lookup(tenant: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "app.vigil.desktop", "username", tenant])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[test]
#[ignore = "needs a Secret Service; scripts/test runs it in a private D-Bus session"]
fn a_tenant_lives_in_the_config_file_and_its_secret_only_in_the_keychain() {
    let secret = format!("kc-secret-{}-{}", std::process::id(), chrono_free_nonce());
    let tenant = format!("kc-{}", std::process::id());
    let d = demo(&secret);
    let config = tempfile::tempdir().unwrap();
    let mut log = Vec::new();

    let add = [
        "tenant",
        "add",
        &tenant,
        "--kind",
        "vigil",
        "--url",
        &d.url,
        "--timezone",
        "Europe/Berlin",
        "--hours",
        "mon-fri 08:00-18:00",
        "--tag",
        "eu",
        "--poll-interval",
        "15",
        "--secret-stdin",
    ];
    let out = vigil(config.path(), &add, Some(&format!("{secret}\n")), &mut log);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        secret_tool_lookup(&tenant).as_deref(),
        Some(secret.as_str()),
        "the keychain holds the secret"
    );

    // Adding it twice is refused, and the keychain entry stays.
    let out = vigil(config.path(), &add, Some(&secret), &mut log);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    let out = vigil(config.path(), &["tenant", "list", "--json"], None, &mut log);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["name"], tenant.as_str());
    assert_eq!(list[0]["poll_interval_secs"], 15);

    let out = vigil(config.path(), &["tenant", "test", &tenant], None, &mut log);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("credential:    accepted"),
        "{}",
        text(&out)
    );

    let out = vigil(
        config.path(),
        &["sessions", "--tenant", &tenant, "--json"],
        None,
        &mut log,
    );
    assert!(out.status.success(), "{}", text(&out));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 200);
    assert!(rows.iter().all(|r| r["tenant"] == tenant.as_str()));
    // All configured tenants by default.
    let out = vigil(config.path(), &["sessions", "--csv"], None, &mut log);
    assert!(out.status.success(), "{}", text(&out));
    let id = rows[0]["id"].as_str().unwrap();
    let out = vigil(
        config.path(),
        &["terminate", "--tenant", &tenant, id],
        None,
        &mut log,
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = vigil(
        config.path(),
        &["logout", "--tenant", &tenant, "helpdesk"],
        None,
        &mut log,
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = vigil(
        config.path(),
        &["sessions", "--tenant", "nope"],
        None,
        &mut log,
    );
    assert_eq!(out.status.code(), Some(2));

    // Every other command, so that all their outputs are scanned below.
    let victim = rows
        .iter()
        .find(|r| r["protected"] == false && r["username"] != "helpdesk")
        .unwrap()["username"]
        .as_str()
        .unwrap()
        .to_owned();
    for args in [
        vec!["disable", "--tenant", tenant.as_str(), victim.as_str()],
        vec!["enable", "--tenant", tenant.as_str(), victim.as_str()],
        vec!["contain", "--tenant", tenant.as_str(), victim.as_str()],
        vec!["enable", "--tenant", tenant.as_str(), victim.as_str()],
        vec!["audit", "--json"],
        vec!["audit", "--csv"],
        vec!["audit", "--tenant", tenant.as_str()],
    ] {
        let out = vigil(config.path(), &args, None, &mut log);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
    }
    // `vigil watch` runs until interrupted: a few polls, then it is stopped.
    let watch = Command::new(BIN)
        .args(["watch", "--tenant", &tenant, "--alert-on-existing"])
        .env("VIGIL_CONFIG_DIR", config.path())
        .env("VIGIL_LOG", "trace")
        .env_remove("VIGIL_SECRET")
        .env("VIGIL_DATA_DIR", common::data_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let _ = Command::new("kill")
        .args(["-INT", &watch.id().to_string()])
        .status();
    let out = watch.wait_with_output().unwrap();
    log.extend_from_slice(&out.stdout);
    log.extend_from_slice(&out.stderr);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("watching tenant"),
        "{}",
        text(&out)
    );

    // The secret is nowhere but the keychain: not in the config dir, the data dir (audit
    // log and history database), or any output.
    for f in files_under(config.path())
        .into_iter()
        .chain(files_under(&common::data_dir()))
    {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&secret),
            "secret found in {}",
            f.display()
        );
    }
    assert!(
        !String::from_utf8_lossy(&log).contains(&secret),
        "secret found in the CLI's output or logs"
    );
    assert!(
        String::from_utf8_lossy(&log).contains("TRACE")
            || String::from_utf8_lossy(&log).contains("DEBUG")
            || !log.is_empty()
    );

    let out = vigil(
        config.path(),
        &["tenant", "remove", &tenant],
        None,
        &mut log,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        secret_tool_lookup(&tenant),
        None,
        "removing a tenant removes its secret"
    );
    let out = vigil(config.path(), &["tenant", "list", "--json"], None, &mut log);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
}

#[test]
#[ignore = "needs a Secret Service; scripts/test runs it in a private D-Bus session"]
fn a_wrong_secret_is_reported_by_test_and_sessions() {
    let d = demo("right-token");
    let config = tempfile::tempdir().unwrap();
    let tenant = format!("kcw-{}", std::process::id());
    let mut log = Vec::new();
    let out = vigil(
        config.path(),
        &[
            "tenant",
            "add",
            &tenant,
            "--kind",
            "vigil",
            "--url",
            &d.url,
            "--secret-stdin",
        ],
        Some("wrong-token"),
        &mut log,
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = vigil(config.path(), &["tenant", "test", &tenant], None, &mut log);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("credential rejected (HTTP 401"),
        "{}",
        text(&out)
    );
    let out = vigil(config.path(), &["sessions"], None, &mut log);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains(&format!("tenant '{tenant}'")),
        "{}",
        text(&out)
    );
    vigil(
        config.path(),
        &["tenant", "remove", &tenant],
        None,
        &mut log,
    );
    assert_eq!(secret_tool_lookup(&tenant), None);
}

#[test]
#[ignore = "needs a Secret Service; scripts/test runs it in a private D-Bus session"]
fn bad_config_files_and_a_missing_keychain_give_clear_errors_and_lose_nothing() {
    let config = tempfile::tempdir().unwrap();
    let path = config.path().join("config.toml");
    let corrupt = "[[tenants]]\nname = \"x\"\nkind = \"vigil\"\nurl = \"https://x.example\"\ntimezone = \"Mars/Olympus\"\nmine = 1\n";
    std::fs::write(&path, corrupt).unwrap();
    let mut log = Vec::new();
    let out = vigil(config.path(), &["tenant", "list"], None, &mut log);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("config.toml:5: tenant 'x': timezone"),
        "{}",
        text(&out)
    );
    let out = vigil(
        config.path(),
        &[
            "tenant",
            "add",
            "y",
            "--kind",
            "vigil",
            "--url",
            "https://y.example",
            "--secret-stdin",
        ],
        Some("s"),
        &mut log,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        corrupt,
        "a corrupt file is never overwritten"
    );
    assert_eq!(secret_tool_lookup("y"), None);

    // No Secret Service on the bus: a clear error, no fallback.
    std::fs::write(
        &path,
        "[[tenants]]\nname = \"z\"\nkind = \"vigil\"\nurl = \"https://z.example\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["sessions", "--tenant", "z"])
        .env("VIGIL_CONFIG_DIR", config.path())
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/vigil-test-bus",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("Secret Service not available"),
        "{}",
        text(&out)
    );
}

fn chrono_free_nonce() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
