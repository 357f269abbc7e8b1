//! Where tenant secrets live: the OS keychain (macOS Keychain, Windows Credential
//! Manager, the Secret Service on Linux), one entry per tenant. Never a file.

use crate::error::{Error, ErrorCode, Result};
use crate::secret::SecretString;

/// The keychain service every Vigil entry is stored under (the account is the tenant).
pub const SERVICE: &str = "app.vigil.desktop";

/// A place to keep tenant secrets.
pub trait SecretStore: Send + Sync {
    /// The tenant's secret; `Ok(None)` when there is none.
    fn get(&self, tenant: &str) -> Result<Option<SecretString>>;
    fn set(&self, tenant: &str, secret: &SecretString) -> Result<()>;
    /// Deletes the tenant's secret; deleting a missing one is not an error.
    fn delete(&self, tenant: &str) -> Result<()>;
}

/// The OS keychain through the `keyring` crate, with the platform stores enabled
/// explicitly (no in-memory fallback exists in this build).
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
}

impl Default for KeyringStore {
    fn default() -> Self {
        Self::new(SERVICE)
    }
}

impl KeyringStore {
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_owned(),
        }
    }

    fn entry(&self, tenant: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, tenant).map_err(|e| map_error(e, tenant))
    }

    /// Whether the platform store can be used at all (for diagnostics and set-up checks).
    pub fn available() -> Result<()> {
        keyring::Entry::store_status()
            .as_ref()
            .map(|_| ())
            .map_err(|e| map_error_ref(e, "-"))
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, tenant: &str) -> Result<Option<SecretString>> {
        match self.entry(tenant)?.get_password() {
            Ok(s) => Ok(Some(SecretString::new(s))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e, tenant)),
        }
    }

    fn set(&self, tenant: &str, secret: &SecretString) -> Result<()> {
        if secret.is_empty() {
            return Err(Error::invalid_input(format!(
                "tenant '{tenant}': the secret is empty"
            )));
        }
        self.entry(tenant)?
            .set_password(secret.expose())
            .map_err(|e| map_error(e, tenant))
    }

    fn delete(&self, tenant: &str) -> Result<()> {
        match self.entry(tenant)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(e, tenant)),
        }
    }
}

fn map_error(e: keyring::Error, tenant: &str) -> Error {
    map_error_ref(&e, tenant)
}

fn map_error_ref(e: &keyring::Error, tenant: &str) -> Error {
    use keyring::Error as K;
    let unavailable = |detail: String| {
        Error::new(
            ErrorCode::SecretStore,
            format!(
                "Secret Service not available: {detail}. Vigil keeps credentials only in the OS keychain \
                 (on Linux: a running, unlocked Secret Service such as gnome-keyring or KWallet); \
                 it never falls back to a file"
            ),
        )
    };
    match e {
        K::NoDefaultStore => unavailable(
            "no keychain could be opened (is a Secret Service running on this D-Bus session?)"
                .into(),
        ),
        K::PlatformFailure(inner) => unavailable(format!("the keychain failed ({inner})")),
        K::NoStorageAccess(inner) => Error::new(
            ErrorCode::SecretStore,
            format!(
                "the keychain is locked or refused access for tenant '{tenant}' ({inner}); unlock it and try again"
            ),
        ),
        K::TooLong(field, max) => Error::invalid_input(format!(
            "tenant '{tenant}': {field} is longer than the keychain allows ({max})"
        )),
        K::Ambiguous(_) => Error::new(
            ErrorCode::SecretStore,
            format!("the keychain holds several entries for tenant '{tenant}'; remove the extras"),
        ),
        other => Error::new(
            ErrorCode::SecretStore,
            format!("keychain error for tenant '{tenant}': {other}"),
        ),
    }
}

/// An in-memory store for tests of code that needs a [`SecretStore`]. Never used by the
/// app or the CLI.
#[cfg(any(test, feature = "memory-secrets"))]
#[derive(Default)]
pub struct MemoryStore(std::sync::Mutex<std::collections::HashMap<String, SecretString>>);

#[cfg(any(test, feature = "memory-secrets"))]
impl SecretStore for MemoryStore {
    fn get(&self, tenant: &str) -> Result<Option<SecretString>> {
        Ok(self
            .0
            .lock()
            .map_err(|_| Error::internal("poisoned"))?
            .get(tenant)
            .cloned())
    }
    fn set(&self, tenant: &str, secret: &SecretString) -> Result<()> {
        self.0
            .lock()
            .map_err(|_| Error::internal("poisoned"))?
            .insert(tenant.to_owned(), secret.clone());
        Ok(())
    }
    fn delete(&self, tenant: &str) -> Result<()> {
        self.0
            .lock()
            .map_err(|_| Error::internal("poisoned"))?
            .remove(tenant);
        Ok(())
    }
}

/// Moves a secret from one tenant name to another (a rename).
pub fn rename(store: &dyn SecretStore, from: &str, to: &str) -> Result<()> {
    if from == to {
        return Ok(());
    }
    if let Some(s) = store.get(from)? {
        store.set(to, &s)?;
        store.delete(from)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_and_rename() -> Result<()> {
        let s = MemoryStore::default();
        assert!(s.get("a")?.is_none());
        s.set("a", &SecretString::new("x"))?;
        rename(&s, "a", "b")?;
        assert!(s.get("a")?.is_none());
        assert_eq!(
            s.get("b")?.map(|v| v.expose().to_owned()).as_deref(),
            Some("x")
        );
        s.delete("b")?;
        s.delete("b")?;
        Ok(())
    }
}
