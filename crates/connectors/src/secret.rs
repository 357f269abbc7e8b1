//! Secrets are a type: no `Debug` content, no `Serialize`, wiped on drop.

use zeroize::Zeroize;

/// An API token, client secret or password held in memory only as long as needed.
///
/// It deliberately implements neither `Serialize` nor `Display`, and its `Debug` prints a
/// placeholder, so it cannot reach a log line, a JSON payload or a file by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Call this only where it is put on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl Drop for SecretString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = SecretString::new("hunter2-token");
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"));
        assert_eq!(s.expose(), "hunter2-token");
    }
}
