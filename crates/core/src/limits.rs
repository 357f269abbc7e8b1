//! The bounds and defaults the window must respect, in one place. A test writes them into
//! `ui/src/ipc/bindings/limits.json`, which the window imports instead of keeping copies
//! (and the test command fails when the committed file differs).
//!
//! A file rather than a command: the window needs them synchronously, in pure functions
//! and on its first render, before any call could answer.

use serde::Serialize;
use ts_rs::TS;

/// What the window reads from `limits.json`.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct WindowLimits {
    /// The most rows one query window holds.
    pub max_window: usize,
    /// The longest filter text a query takes.
    pub max_filter_text: usize,
    /// The most targets one action takes.
    pub max_targets: usize,
    /// The longest alert merge window, minutes.
    pub max_merge_minutes: u32,
    /// Alert settings' defaults and ranges.
    pub alerts: crate::alerts::AlertLimits,
}

impl WindowLimits {
    pub fn current() -> Self {
        Self {
            max_window: crate::query::MAX_WINDOW,
            max_filter_text: crate::query::MAX_FILTER_TEXT,
            max_targets: crate::actions::MAX_TARGETS,
            max_merge_minutes: crate::tuning::MAX_MERGE_MINUTES,
            alerts: crate::alerts::AlertLimits::current(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_s_limits_are_written_from_the_core() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/ipc/bindings");
        let mut text = serde_json::to_string_pretty(&WindowLimits::current()).unwrap_or_default();
        text.push('\n');
        std::fs::write(dir.join("limits.json"), text).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_file(dir.join("alertLimits.json"));
    }
}
