//! The demo tenant: a Vigil Session API v1 server with a living population.
//!
//! Used by `vigil demo serve`, by the desktop app when no tenant is configured, and by tests.

mod data;
pub mod faults;
pub mod population;
pub mod server;

pub use server::{DemoConfig, RunningDemo, serve, start};

/// A fresh random token for an embedded demo tenant (kept in memory only).
pub fn random_token() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..32)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)]))
        .collect()
}
