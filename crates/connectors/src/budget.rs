//! What one poll of one tenant may cost: response bytes and listed items.
//!
//! A tenant that answers every page with a thousand new users and a fresh cursor never
//! ends its listing; without a bound it takes the memory of the whole app (and so every
//! other tenant) with it. Each poll runs inside a [`Budget`] (a task-local, so the HTTP
//! layer charges every body it reads without each connector passing it along); bytes
//! are charged as they arrive, items as each page is taken in. Over either limit the
//! poll fails with [`ErrorCode::LimitExceeded`] naming the limit and the setting that
//! raises it, and what it read is dropped.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, ErrorCode, Result};
use crate::model::Limits;

/// What one poll has spent so far.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    bytes: AtomicU64,
    items: AtomicU64,
}

tokio::task_local! {
    static BUDGET: Arc<Budget>;
}

impl Budget {
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            bytes: AtomicU64::new(0),
            items: AtomicU64::new(0),
        })
    }

    fn charge(&self, bytes: u64, items: u64) -> Result<()> {
        let b = self
            .bytes
            .fetch_add(bytes, Ordering::Relaxed)
            .saturating_add(bytes);
        if b > self.limits.max_bytes {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!(
                    "the tenant sent more than {} MiB in one poll (the tenant's max_listing_mib); \
                     the listing was dropped",
                    self.limits.max_bytes / (1024 * 1024)
                ),
            ));
        }
        let i = self
            .items
            .fetch_add(items, Ordering::Relaxed)
            .saturating_add(items);
        if i > self.limits.max_items {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!(
                    "the tenant listed more than {} items in one poll (the tenant's max_listing_items); \
                     the listing was dropped",
                    self.limits.max_items
                ),
            ));
        }
        Ok(())
    }
}

/// Runs `f` (one poll) within a fresh budget of `limits`.
pub async fn scope<F: Future>(limits: Limits, f: F) -> F::Output {
    BUDGET.scope(Budget::new(limits), f).await
}

/// The budget of the poll this task belongs to, to carry into a task it spawns.
pub fn current() -> Option<Arc<Budget>> {
    BUDGET.try_with(Arc::clone).ok()
}

/// Runs `f` (in a spawned task) within `budget`, as the poll that spawned it does.
pub async fn within<F: Future>(budget: Option<Arc<Budget>>, f: F) -> F::Output {
    match budget {
        Some(b) => BUDGET.scope(b, f).await,
        None => f.await,
    }
}

/// Charges response bytes to the current poll (nothing outside a poll: actions and
/// checks read small, bounded answers).
pub fn charge_bytes(n: usize) -> Result<()> {
    BUDGET
        .try_with(|b| b.charge(u64::try_from(n).unwrap_or(u64::MAX), 0))
        .unwrap_or(Ok(()))
}

/// Charges listed items to the current poll.
pub fn charge_items(n: usize) -> Result<()> {
    BUDGET
        .try_with(|b| b.charge(0, u64::try_from(n).unwrap_or(u64::MAX)))
        .unwrap_or(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limits_hold_inside_a_poll_and_nowhere_else() {
        let limits = Limits {
            max_items: 10,
            max_bytes: 100,
        };
        let r = scope(limits, async {
            charge_items(10)?;
            charge_bytes(100)?;
            charge_items(1)
        })
        .await;
        let e = r.err().map(|e| (e.code, e.message));
        assert!(
            matches!(&e, Some((ErrorCode::LimitExceeded, m)) if m.contains("10 items")),
            "{e:?}"
        );
        let r = scope(limits, async { charge_bytes(usize::MAX) }).await;
        assert!(r.is_err());
        // A spawned task carries the budget along.
        let r = scope(limits, async {
            let b = current();
            tokio::spawn(within(b, async { charge_items(11) }))
                .await
                .map_err(|e| Error::internal(e.to_string()))?
        })
        .await;
        assert!(r.is_err());
        // Outside a poll nothing is charged.
        assert!(charge_items(usize::MAX).is_ok());
    }
}
