//! What the store hands out: pages, counts, tenant health, the summary, and a poll's
//! diff.

use super::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SessionPage {
    /// Rows matching the filter (not just this window).
    pub total: usize,
    pub offset: usize,
    pub rows: Vec<Session>,
    /// Store version the page was cut from.
    pub version: u64,
}

/// Every matching session in order, shared with the store rather than copied.
#[derive(Debug, Clone)]
pub struct SessionList {
    /// Rows matching the filter.
    pub total: usize,
    pub rows: Vec<Arc<Session>>,
    /// Store version the list was cut from.
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Counts {
    pub active_users: usize,
    pub active_sessions: usize,
    pub superusers_online: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TenantHealth {
    pub tenant: String,
    pub kind: ConnectorKind,
    pub last_poll_at: Option<DateTime<Utc>>,
    pub latency_ms: Option<u64>,
    pub error: Option<ErrorPayload>,
    /// The sessions shown are not from the latest poll attempt (it failed, or none succeeded yet).
    pub stale: bool,
    /// What the tenant's connector can do (none until a connector is attached); e.g.
    /// `sign_in_log`: its sessions are derived from a sign-in log, not a live list.
    #[serde(default)]
    pub capabilities: Option<crate::model::Capabilities>,
    /// The last poll succeeded but is known to be incomplete (a vendor's cap, a skipped
    /// part): what it did not see was kept, not ended. Says what was missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub warning: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TenantSummary {
    pub health: TenantHealth,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Summary {
    pub total: Counts,
    pub tenants: Vec<TenantSummary>,
}

/// Emitted after a tenant's sessions or health changed. Carries no rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SessionsChanged {
    pub tenant: String,
    pub version: u64,
}

/// What one poll changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    /// Shared with the store's rows: a diff of 100,000 sessions copies no session.
    pub started: Vec<Arc<Session>>,
    pub ended: Vec<Arc<Session>>,
    /// Sessions that still exist but whose fields changed.
    pub updated: usize,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.started.is_empty() && self.ended.is_empty() && self.updated == 0
    }
}
