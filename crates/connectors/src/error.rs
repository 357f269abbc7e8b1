//! One error type for the engine. Every error has a stable [`ErrorCode`] that the UI and
//! the CLI switch on, and a message a person can act on. Messages never contain secrets:
//! the HTTP layer builds them from status codes and server-provided error codes only.

use serde::Serialize;
use ts_rs::TS;

/// Stable, machine-readable error codes shared with the UI (exported to TypeScript).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// The credential was rejected (HTTP 401).
    Unauthorized,
    /// The credential is valid but may not do this (HTTP 403).
    Forbidden,
    /// The target does not exist (HTTP 404).
    NotFound,
    /// The tenant refused because of the target's state (e.g. a protected account).
    Conflict,
    /// HTTP 429; retry later.
    RateLimited,
    /// The tenant's API cannot do this at all (its capability is false); the message says
    /// what the tenant allows instead.
    Unsupported,
    /// The tenant did not answer in time.
    Timeout,
    /// No connection could be made (DNS, refused, TLS).
    Unreachable,
    /// The tenant answered with a 5xx status.
    ServerError,
    /// The tenant answered something we cannot understand.
    MalformedResponse,
    /// The tenant sent more than its limits allow in one poll (items or bytes).
    LimitExceeded,
    /// Bad input from the user (CLI argument, IPC argument).
    InvalidInput,
    /// Bad configuration.
    Config,
    /// The OS keychain is unavailable, locked or failed.
    SecretStore,
    /// A bug or an unexpected local failure.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire and in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::RateLimited => "rate_limited",
            Self::Unsupported => "unsupported",
            Self::Timeout => "timeout",
            Self::Unreachable => "unreachable",
            Self::ServerError => "server_error",
            Self::MalformedResponse => "malformed_response",
            Self::LimitExceeded => "limit_exceeded",
            Self::InvalidInput => "invalid_input",
            Self::Config => "config",
            Self::SecretStore => "secret_store",
            Self::Internal => "internal",
        }
    }
}

/// An engine error: a code plus a human-readable cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds the tenant asked us to wait (429 / 503 `Retry-After`).
    pub retry_after_secs: Option<u64>,
    /// The HTTP status behind this error, when there was one.
    pub http_status: Option<u16>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_secs: None,
            http_status: None,
        }
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Config, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unsupported, message)
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::MalformedResponse, message)
    }

    /// Maps an HTTP error status to an error, with the server's own error code if it gave one.
    pub fn from_status(
        status: u16,
        server_code: Option<&str>,
        retry_after_secs: Option<u64>,
    ) -> Self {
        let (code, what) = match status {
            401 => (ErrorCode::Unauthorized, "credential rejected"),
            403 => (ErrorCode::Forbidden, "permission denied"),
            404 => (ErrorCode::NotFound, "not found"),
            409 => (ErrorCode::Conflict, "refused by the tenant"),
            429 => (ErrorCode::RateLimited, "rate limited"),
            408 | 504 => (ErrorCode::Timeout, "tenant timed out"),
            500..=599 => (ErrorCode::ServerError, "tenant server error"),
            _ => (ErrorCode::MalformedResponse, "unexpected response"),
        };
        let mut message = format!("{what} (HTTP {status}");
        if let Some(server_code) = server_code.filter(|c| is_safe_code(c)) {
            message.push_str(", ");
            message.push_str(server_code);
        }
        message.push(')');
        if let Some(secs) = retry_after_secs {
            message.push_str(&format!("; retry after {secs} s"));
        }
        Self {
            code,
            message,
            retry_after_secs,
            http_status: Some(status),
        }
    }

    /// Prefixes the message with context, keeping the code.
    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The payload sent to the UI and printed by the CLI's `--json` error output.
    pub fn payload(&self) -> ErrorPayload {
        ErrorPayload {
            code: self.code,
            message: self.message.clone(),
        }
    }
}

/// Server error codes are echoed into messages only when they look like identifiers, so a
/// hostile tenant cannot smuggle arbitrary text (or an echoed secret) into the UI.
pub(crate) fn is_safe_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

/// The one error shape crossing the IPC bridge: `{code, message}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[ts(export)]
pub struct ErrorPayload {
    pub code: ErrorCode,
    pub message: String,
}

impl From<Error> for ErrorPayload {
    fn from(e: Error) -> Self {
        Self {
            code: e.code,
            message: e.message,
        }
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        // reqwest's Display can include the URL; URLs never carry secrets in Vigil (tokens
        // travel in headers), but keep the message short and causal anyway.
        if e.is_timeout() {
            Self::new(ErrorCode::Timeout, "tenant timed out")
        } else if e.is_connect() {
            let cause = root_cause(&e);
            if cause.contains("certificate") {
                Self::new(
                    ErrorCode::Unreachable,
                    format!(
                        "TLS: the tenant's certificate is not trusted ({cause}); for a private CA, set the tenant's CA certificate"
                    ),
                )
            } else {
                Self::new(ErrorCode::Unreachable, format!("unreachable ({cause})"))
            }
        } else if e.is_decode() || e.is_body() {
            Self::malformed(format!("unreadable response body ({})", root_cause(&e)))
        } else if e.is_redirect() {
            Self::new(ErrorCode::Unreachable, "too many or unsafe redirects")
        } else {
            Self::new(
                ErrorCode::Unreachable,
                format!("request failed ({})", root_cause(&e)),
            )
        }
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_messages_name_the_cause() {
        let e = Error::from_status(401, Some("unauthorized"), None);
        assert_eq!(e.code, ErrorCode::Unauthorized);
        assert_eq!(e.message, "credential rejected (HTTP 401, unauthorized)");
        let e = Error::from_status(429, None, Some(30));
        assert_eq!(e.code, ErrorCode::RateLimited);
        assert_eq!(e.message, "rate limited (HTTP 429); retry after 30 s");
        assert_eq!(e.retry_after_secs, Some(30));
        assert_eq!(
            Error::from_status(503, None, None).code,
            ErrorCode::ServerError
        );
    }

    #[test]
    fn hostile_server_codes_are_not_echoed() {
        let e = Error::from_status(400, Some("<script>alert(1)</script>"), None);
        assert_eq!(e.message, "unexpected response (HTTP 400)");
    }

    #[test]
    fn codes_serialize_as_snake_case() {
        let json = serde_json::to_string(&ErrorCode::MalformedResponse).ok();
        assert_eq!(json.as_deref(), Some("\"malformed_response\""));
        assert_eq!(ErrorCode::RateLimited.as_str(), "rate_limited");
    }
}
