//! vigil-core: the engine behind the Vigil app and the `vigil` CLI. No UI, no Tauri.
//!
//! Data flow: a [`connector::Connector`] turns a tenant's admin API into
//! [`connector::PollUpdate`]s; the [`poll`] supervisor applies them to the
//! [`store::SessionStore`], which answers queries and emits change events.

pub mod actions;
pub mod alerts;
pub mod api;
pub mod audit;
pub mod calendar;
pub mod config;
pub mod connector;
pub mod contain;
pub mod engine;
pub mod error;
pub mod export;
pub mod geoip;
pub mod limits;
pub mod model;
mod observer;
mod par;
pub mod people;
pub mod policy;
pub mod poll;
pub mod query;
pub mod routing;
pub mod secret;
pub mod secrets;
pub mod settings;
pub mod shared_audit;
pub mod store;
pub mod task;
pub mod tenants;
pub mod text;
pub mod tuning;
pub mod wire_time;

pub use engine::Engine;
pub use error::{Error, ErrorCode, ErrorPayload, Result};
pub use secret::SecretString;
