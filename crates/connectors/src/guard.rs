//! The guard every connector runs behind ([`guard`]; [`super::build`] and the engine put
//! it in front of every tenant). Whatever a connector does with a hostile tenant's
//! answer, the guard makes sure that:
//!
//! - a poll stays within the tenant's [`Limits`] (bytes and items), and its result is
//!   made plausible (times outside 1970 … now + 100 years dropped, SuperUsers protected);
//! - a panic inside a connector (an overflow on a tenant's number) is that tenant's
//!   error, never a silent stop of its poller or a crash of the others;
//! - no action leaves with a target id that is empty, absurdly long, carries control
//!   characters, or is a `.` / `..` path segment (which `Url::join` would resolve to the
//!   parent resource: `DELETE …/sessions/..` is the realm).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;
use futures::FutureExt as _;

use super::budget;
use super::{Connector, EndOutcome, PollUpdate};
use crate::error::{Error, Result};
use crate::model::Limits;
use crate::model::{Capabilities, ConnectorKind, TenantCheck, User};

/// The longest target id or user name an action accepts.
pub const MAX_ID_LEN: usize = 512;

/// A connector behind the guard.
pub struct Guarded {
    inner: Arc<dyn Connector>,
    limits: Limits,
}

/// Puts `inner` behind the guard with `limits` per poll (once: a guarded connector is
/// returned as it is).
pub fn guard(inner: Arc<dyn Connector>, limits: Limits) -> Arc<dyn Connector> {
    if inner.is_guarded() {
        return inner;
    }
    Arc::new(Guarded { inner, limits })
}

/// Runs `f`, turning a panic into an internal error of this tenant.
pub async fn caught<T>(tenant: &str, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    match AssertUnwindSafe(f).catch_unwind().await {
        Ok(r) => r,
        Err(panic) => {
            let what = panic_message(panic.as_ref());
            tracing::error!(%tenant, panic = %what, "a connector failed unexpectedly");
            Err(Error::internal(format!(
                "the connector failed on the tenant's answer ({what}); nothing was changed"
            )))
        }
    }
}

/// What a caught panic says (its `&str` or `String` payload), with visible escapes: a
/// panic message may quote the tenant's text, and it goes to logs and the window.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let raw = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown cause".into());
    crate::text::visible(&raw).into_owned()
}

/// Checks a target id (session or user) before any request is made for it.
pub fn check_id(id: &str) -> Result<()> {
    let why = if id.is_empty() {
        "it is empty"
    } else if id.len() > MAX_ID_LEN {
        "it is longer than 512 bytes"
    } else if id.chars().any(crate::text::is_unsafe) {
        "it contains control characters"
    } else if is_dot_segment(id) {
        "`.` and `..` name no session or user (they would address the parent resource)"
    } else {
        return Ok(());
    };
    Err(Error::invalid_input(format!(
        "invalid target {:?}: {why}",
        crate::text::visible(&truncated(id))
    )))
}

fn truncated(id: &str) -> String {
    id.chars().take(64).collect()
}

/// True for the segments a URL parser resolves to "this" or "the parent": `.`, `..`,
/// and their percent-encoded spellings (`%2e`, `.%2E` …).
pub fn is_dot_segment(s: &str) -> bool {
    let lower = s.to_ascii_lowercase().replace("%2e", ".");
    lower == "." || lower == ".."
}

/// Timestamps outside 1970 … now + 100 years are nonsense from the tenant ("year 9999"
/// for "never"); they are dropped (shown as unknown) rather than breaking countdowns and
/// sorting. Returns how many were dropped.
pub fn drop_implausible_times(update: &mut PollUpdate) -> usize {
    let sessions = match update {
        PollUpdate::Full(s) | PollUpdate::Partial { sessions: s, .. } => s,
        PollUpdate::Delta { upserted, .. } => upserted,
    };
    let earliest = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    let latest = chrono::Utc::now()
        .checked_add_signed(chrono::Duration::days(365 * 100))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
    let mut dropped = 0;
    for s in sessions.iter_mut() {
        for t in [
            &mut s.created_at,
            &mut s.last_activity_at,
            &mut s.expires_at,
        ] {
            if t.is_some_and(|t| t < earliest || t > latest) {
                *t = None;
                dropped += 1;
            }
        }
    }
    dropped
}

/// One rule of "protected" for every kind: what the tenant marks protected, every
/// SuperUser, and the user whose session Vigil itself uses (disabling or logging out
/// that user would cut Vigil off).
pub fn protect(update: &mut PollUpdate) {
    let (sessions, users) = match update {
        PollUpdate::Full(s) | PollUpdate::Partial { sessions: s, .. } => (s, None),
        PollUpdate::Delta {
            upserted, users, ..
        } => (upserted, Some(users)),
    };
    let own: std::collections::HashSet<crate::model::Text> = sessions
        .iter()
        .filter(|s| s.current)
        .map(|s| s.user_id.clone())
        .collect();
    for s in sessions.iter_mut() {
        s.protected |= s.superuser || own.contains(&s.user_id);
    }
    for u in users.into_iter().flatten() {
        protect_user(u);
    }
}

/// [`protect`] for one user record.
pub fn protect_user(u: &mut User) {
    u.protected |= u.superuser;
}

#[async_trait]
impl Connector for Guarded {
    fn tenant(&self) -> &Arc<str> {
        self.inner.tenant()
    }

    fn kind(&self) -> ConnectorKind {
        self.inner.kind()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    fn is_guarded(&self) -> bool {
        true
    }

    fn limits(&self) -> Limits {
        self.limits
    }

    async fn poll(&self) -> Result<PollUpdate> {
        let tenant = self.inner.tenant();
        let mut update = caught(tenant, budget::scope(self.limits, self.inner.poll())).await?;
        let dropped = drop_implausible_times(&mut update);
        if dropped > 0 {
            tracing::warn!(%tenant, dropped, "implausible session times from the tenant were dropped");
        }
        protect(&mut update);
        Ok(update)
    }

    async fn reset(&self) {
        let tenant = self.inner.tenant();
        let _ = caught(tenant, async {
            self.inner.reset().await;
            Ok(())
        })
        .await;
    }

    async fn end_session(&self, session_id: &str) -> Result<EndOutcome> {
        check_id(session_id)?;
        caught(self.inner.tenant(), self.inner.end_session(session_id)).await
    }

    async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        check_id(user_id)?;
        caught(self.inner.tenant(), self.inner.end_user_sessions(user_id)).await
    }

    async fn disable_user(&self, user_id: &str, end_sessions: bool) -> Result<User> {
        check_id(user_id)?;
        caught(
            self.inner.tenant(),
            self.inner.disable_user(user_id, end_sessions),
        )
        .await
    }

    async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<User> {
        check_id(user_id)?;
        caught(
            self.inner.tenant(),
            self.inner.set_disabled(user_id, disabled),
        )
        .await
    }

    async fn enable_user(&self, user_id: &str) -> Result<User> {
        check_id(user_id)?;
        caught(self.inner.tenant(), self.inner.enable_user(user_id)).await
    }

    async fn revoke_grants(&self, user_id: &str) -> Result<u64> {
        check_id(user_id)?;
        caught(self.inner.tenant(), self.inner.revoke_grants(user_id)).await
    }

    async fn require_password_change(&self, user_id: &str) -> Result<()> {
        check_id(user_id)?;
        caught(
            self.inner.tenant(),
            self.inner.require_password_change(user_id),
        )
        .await
    }

    async fn find_user(&self, username: &str) -> Result<Option<User>> {
        check_id(username)?;
        let found = caught(self.inner.tenant(), self.inner.find_user(username)).await?;
        Ok(found.map(|mut u| {
            protect_user(&mut u);
            u
        }))
    }

    async fn check(&self) -> TenantCheck {
        let tenant = self.inner.tenant();
        caught(tenant, async { Ok(self.inner.check().await) })
            .await
            .unwrap_or_else(|e| TenantCheck::failed(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_and_odd_ids_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "%2e",
            "%2E%2e",
            ".%2e",
            "a\u{1b}[2J",
            "x\u{202e}",
            "\n",
        ] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
        assert!(check_id(&"x".repeat(513)).is_err());
        for good in [
            "s1",
            "auth0|abc",
            "@alice:example.org",
            "a/b",
            "...",
            "..a",
            "山田",
        ] {
            assert!(check_id(good).is_ok(), "{good:?}");
        }
    }
}
