//! The connectors' contract tests in one test binary (one link instead of eleven): each
//! connector against wiremock servers answering as its vendor documents, against the
//! vendors' own machine-readable artifacts, and against arbitrary answers (`fuzz`).

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod artifact;
mod common;

mod auth0;
mod entra;
mod fuzz;
mod google;
mod keycloak;
mod kratos;
mod mattermost;
mod okta;
mod salesforce;
mod vendor_artifacts;
mod zitadel;
