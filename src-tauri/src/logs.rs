//! Logs: to standard error and to daily files in the OS log folder, seven days kept.
//! Nothing secret is ever logged: secrets are a type without `Display` or `Serialize`,
//! and the end-to-end tests search the log files for the secrets they used.

use std::path::PathBuf;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Log files kept, one per day.
pub const KEEP_FILES: usize = 7;

/// `$VIGIL_LOG_DIR`, else the OS convention: `~/Library/Logs/Vigil` on macOS,
/// `%LOCALAPPDATA%\vigil\logs` on Windows, `$XDG_STATE_HOME/vigil/logs` on Linux.
pub fn log_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("VIGIL_LOG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if cfg!(target_os = "macos") {
        return dirs::home_dir().map(|h| h.join("Library/Logs/Vigil"));
    }
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("vigil").join("logs"))
}

/// Starts logging. The guard flushes the file on drop: keep it for the app's life.
/// `VIGIL_LOG` sets the filter (default `info`). A log folder that cannot be created
/// leaves logging on standard error only, and says so.
pub fn init() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let filter = || EnvFilter::try_from_env("VIGIL_LOG").unwrap_or_else(|_| "info".into());
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter());
    let dir = log_dir();
    let appender = dir.as_ref().map(|dir| {
        std::fs::create_dir_all(dir)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                tracing_appender::rolling::Builder::new()
                    .rotation(tracing_appender::rolling::Rotation::DAILY)
                    .filename_prefix("vigil")
                    .filename_suffix("log")
                    .max_log_files(KEEP_FILES)
                    .build(dir)
                    .map_err(|e| e.to_string())
            })
    });
    match appender {
        Some(Ok(appender)) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let file = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter());
            tracing_subscriber::registry()
                .with(stderr)
                .with(file)
                .init();
            Some(guard)
        }
        other => {
            tracing_subscriber::registry().with(stderr).init();
            let why = match other {
                Some(Err(e)) => e,
                _ => "no log folder on this system (set VIGIL_LOG_DIR)".into(),
            };
            tracing::warn!(dir = ?dir, error = %why, "logging to standard error only");
            None
        }
    }
}
