//! The app's own settings: the `[app]` table of `config.toml`. No secrets ever live here.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::alerts::Severity;
use crate::error::{Error, ErrorCode, Result};

/// Light, dark, or whatever the OS says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }
}

/// Settings of the app (not of a tenant). Missing keys take their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
#[serde(default)]
pub struct AppSettings {
    /// Poll interval, in seconds, offered for a new tenant.
    pub default_poll_interval_secs: u64,
    /// Native notifications for new alerts (the alert centre always gets them).
    pub notifications: bool,
    /// Only alerts of this severity or higher notify natively.
    pub notify_min_severity: Severity,
    /// A MaxMind `.mmdb` city database (GeoLite2 or GeoIP2): locations and impossible
    /// travel. Empty: none.
    pub geoip_database: String,
    /// Days of session history to keep; older history is pruned (the audit log never is).
    pub history_retention_days: u32,
    pub theme: Theme,
    /// Start Vigil (in the tray) when the user logs in.
    pub start_at_login: bool,
    /// Closing the window keeps Vigil polling in the tray; Quit is in the tray menu.
    pub keep_running_in_tray: bool,
}

/// Seconds between polls of a tenant that does not say.
pub const DEFAULT_POLL_INTERVAL_SECS: u64 = 30;
pub const DEFAULT_HISTORY_RETENTION_DAYS: u32 = 90;
/// Seconds between polls, for the default and for each tenant's own interval.
pub const POLL_INTERVAL_RANGE: std::ops::RangeInclusive<u64> = 2..=86_400;
pub const RETENTION_RANGE: std::ops::RangeInclusive<u32> = 1..=3_650;

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            default_poll_interval_secs: DEFAULT_POLL_INTERVAL_SECS,
            notifications: true,
            notify_min_severity: Severity::Low,
            geoip_database: String::new(),
            history_retention_days: DEFAULT_HISTORY_RETENTION_DAYS,
            theme: Theme::System,
            start_at_login: false,
            keep_running_in_tray: true,
        }
    }
}

fn invalid(field: &str, message: String) -> Error {
    Error::new(ErrorCode::InvalidInput, format!("{field}: {message}"))
}

impl AppSettings {
    /// Checks ranges and that a GeoIP database, if named, is a readable file.
    pub fn validate(&self) -> Result<()> {
        if !POLL_INTERVAL_RANGE.contains(&self.default_poll_interval_secs) {
            return Err(invalid(
                "default_poll_interval_secs",
                format!(
                    "must be between {} and {} seconds, not {}",
                    POLL_INTERVAL_RANGE.start(),
                    POLL_INTERVAL_RANGE.end(),
                    self.default_poll_interval_secs
                ),
            ));
        }
        if !RETENTION_RANGE.contains(&self.history_retention_days) {
            return Err(invalid(
                "history_retention_days",
                format!(
                    "must be between {} and {} days, not {}",
                    RETENTION_RANGE.start(),
                    RETENTION_RANGE.end(),
                    self.history_retention_days
                ),
            ));
        }
        let geoip = self.geoip_database.trim();
        if !geoip.is_empty() {
            let path = std::path::Path::new(geoip);
            if !path.is_absolute() {
                return Err(invalid(
                    "geoip_database",
                    format!("{geoip}: give the full path of the .mmdb file"),
                ));
            }
            match std::fs::metadata(path) {
                Ok(m) if m.is_file() => {}
                Ok(_) => {
                    return Err(invalid("geoip_database", format!("{geoip}: not a file")));
                }
                Err(e) => {
                    return Err(invalid("geoip_database", format!("{geoip}: {e}")));
                }
            }
        }
        Ok(())
    }

    /// The settings with text fields trimmed.
    pub fn normalized(mut self) -> Self {
        self.geoip_database = self.geoip_database.trim().to_string();
        self
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_are_valid() {
        AppSettings::default().validate().unwrap();
    }

    #[test]
    fn out_of_range_values_name_the_field() {
        let s = AppSettings {
            default_poll_interval_secs: 1,
            ..AppSettings::default()
        };
        let e = s.validate().unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(e.message.starts_with("default_poll_interval_secs:"), "{e}");
        let s = AppSettings {
            history_retention_days: 0,
            ..AppSettings::default()
        };
        assert!(
            s.validate()
                .unwrap_err()
                .message
                .starts_with("history_retention_days:")
        );
    }

    #[test]
    fn a_geoip_database_must_be_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let relative = AppSettings {
            geoip_database: "GeoLite2-City.mmdb".into(),
            ..AppSettings::default()
        };
        assert!(
            relative
                .validate()
                .unwrap_err()
                .message
                .contains("full path")
        );
        let missing = AppSettings {
            geoip_database: dir.path().join("none.mmdb").display().to_string(),
            ..AppSettings::default()
        };
        assert!(
            missing
                .validate()
                .unwrap_err()
                .message
                .starts_with("geoip_database:")
        );
        let a_dir = AppSettings {
            geoip_database: dir.path().display().to_string(),
            ..AppSettings::default()
        };
        assert!(a_dir.validate().unwrap_err().message.contains("not a file"));
        let file = dir.path().join("city.mmdb");
        std::fs::write(&file, b"x").unwrap();
        AppSettings {
            geoip_database: file.display().to_string(),
            ..AppSettings::default()
        }
        .validate()
        .unwrap();
    }
}
