//! vigil-core: the engine behind the Vigil app and the `vigil` CLI. No UI, no Tauri.
//!
//! Data flow: a [`connector::Connector`] turns a tenant's admin API into
//! [`connector::PollUpdate`]s; the [`poll`] supervisor applies them to the
//! [`store::SessionStore`], which answers queries and emits change events.

// The connectors crate, and the model, error, secret and text types it defines, under the
// paths every part of Vigil uses.
pub use vigil_connectors as connector;
pub use vigil_connectors::{error, model, secret, text};

pub mod actions;
pub mod alerts;
pub mod audit;
pub mod calendar;
pub mod config;
pub mod contain;
pub mod engine;
pub mod export;
pub mod geoip;
pub mod limits;
mod observer;
pub mod people;
pub mod policy;
pub mod poll;
pub mod query;
pub mod routing;
pub mod secrets;
pub mod settings;
pub mod shared_audit;
pub mod store;
pub mod task;
pub mod tenants;
pub mod tuning;

pub use engine::Engine;
pub use error::{Error, ErrorCode, ErrorPayload, Result};
pub use secret::SecretString;
