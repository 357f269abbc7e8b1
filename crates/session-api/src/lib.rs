//! Wire types of the Vigil Session API v1 (`docs/session-api.openapi.yaml`).
//!
//! Shared by the connector that consumes the API and the demo tenant that serves it, so the
//! two cannot drift apart silently. Everything optional on the wire is `Option` here and
//! `#[serde(default)]`, and unknown fields are ignored: a newer server stays readable.

pub mod wire_time;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Path prefix of every v1 endpoint.
pub const PREFIX: &str = "/v1";
/// Largest page a client may ask for; servers clamp to it.
pub const MAX_PAGE_LIMIT: usize = 5_000;
/// Page size used when the client does not say.
pub const DEFAULT_PAGE_LIMIT: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiSession {
    pub id: String,
    pub user_id: String,
    pub username: String,
    #[serde(default, deserialize_with = "crate::wire_time::option")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::wire_time::option")]
    pub last_activity_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "crate::wire_time::option")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub idle_timeout_seconds: Option<u32>,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub session_type: Option<String>,
    #[serde(default)]
    pub login_type: Option<String>,
    #[serde(default)]
    pub server_name: Option<String>,
    /// True for the session that belongs to the credential making the request.
    #[serde(default)]
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiUser {
    pub id: String,
    pub username: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub organisation: Option<String>,
    #[serde(default)]
    pub superuser: bool,
    /// Administrative and helper accounts: their sessions may be ended, the account not disabled.
    #[serde(default)]
    pub protected: bool,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub last_login_at: Option<DateTime<Utc>>,
}

/// `GET /v1/sessions`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionPage {
    pub sessions: Vec<ApiSession>,
    /// Opaque; absent or null on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// Change-feed position when this page was served. A client keeps the watermark of the
    /// *first* page: after reading every page it asks
    /// `GET /v1/sessions/changes?since=<first watermark>` and misses nothing that changed
    /// while it paged (later pages carry later positions).
    pub watermark: String,
}

/// `GET /v1/users`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserPage {
    pub users: Vec<ApiUser>,
    #[serde(default)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedSession {
    pub id: String,
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    /// `logout`, `expired`, `terminated` (by an administrator), `disabled`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `GET /v1/sessions/changes?since=W`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangePage {
    /// Sessions started or changed since the watermark, in their current state.
    pub upserted: Vec<ApiSession>,
    /// Sessions that ended since the watermark.
    pub ended: Vec<EndedSession>,
    pub watermark: String,
    /// More changes are waiting: ask again with the new watermark.
    #[serde(default)]
    pub has_more: bool,
}

/// `GET /v1/info`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Info {
    pub api_version: String,
    #[serde(default)]
    pub name: Option<String>,
    pub server_time: DateTime<Utc>,
    #[serde(default)]
    pub timezone: Option<String>,
    /// Operations this credential may perform, e.g. `sessions:read`, `sessions:end`.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// `POST /v1/users/{id}/disable`
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DisableRequest {
    #[serde(default)]
    pub end_sessions: bool,
}

/// Response of disable / enable.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserResult {
    pub user: ApiUser,
    #[serde(default)]
    pub ended_sessions: u64,
}

/// `DELETE /v1/users/{id}/sessions`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndedCount {
    pub ended: u64,
}

/// The one error shape: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// `POST /demo/v1/sign-ins` (demo tenant only).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SignInRequest {
    pub username: String,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(default)]
    pub session_type: Option<String>,
    #[serde(default)]
    pub login_type: Option<String>,
}
