//! Running blocking work (the audit database, the keychain, files) off the async workers,
//! for the engine and both shells alike.

use crate::error::{Error, Result};

/// Runs `f` on tokio's blocking pool; a panic in it is an internal error, not a crash.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("background task failed: {e}")))?
}
