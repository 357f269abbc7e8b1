//! Shared by the CLI's integration tests: a `vigil demo serve` child process.

#![allow(clippy::unwrap_used, dead_code)] // helpers; not every test file uses every one

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_vigil");

/// A running demo tenant, killed on drop.
pub struct Demo {
    child: Child,
    pub url: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `vigil demo serve` on a free loopback port and waits for its first line.
pub fn demo(sessions: u32, tick: &str, token: &str) -> Demo {
    demo_with(sessions, tick, token, &[])
}

/// Like [`demo`], with extra `demo serve` arguments.
pub fn demo_with(sessions: u32, tick: &str, token: &str, extra: &[&str]) -> Demo {
    let mut child = Command::new(BIN)
        .args([
            "demo",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--token",
            token,
            "--tick",
            tick,
        ])
        .args(["--sessions", &sessions.to_string()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    Demo { child, url }
}

/// A data directory (audit log) private to this test process, so tests never write to
/// the developer's own.
pub fn data_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vigil-cli-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `vigil` with a config dir of its own, the test's data dir and no `$VIGIL_SECRET`.
pub fn vigil_command(config: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env("VIGIL_CONFIG_DIR", config)
        .env_remove("VIGIL_SECRET")
        .env("VIGIL_DATA_DIR", data_dir());
    cmd
}

/// Runs `cmd` with `stdin` written to it; keeps everything it printed.
pub fn run(mut cmd: Command, stdin: Option<&str>) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        input.write_all(s.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}
