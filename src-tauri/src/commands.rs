//! Tauri commands: deserialize, validate, call the core, map the error. Nothing more.

use tauri::State;
use vigil_core::actions::ActionReport;
use vigil_core::model::SessionRef;
use vigil_core::store::{MAX_WINDOW, SessionPage, SessionQuery, Summary};
use vigil_core::{Error, ErrorPayload};

use crate::state::AppState;

/// Longest search text accepted from the window.
const MAX_SEARCH: usize = 256;
/// Most sessions one action may target.
const MAX_TARGETS: usize = 10_000;

#[tauri::command]
pub async fn query_sessions(
    state: State<'_, AppState>,
    query: SessionQuery,
) -> Result<SessionPage, ErrorPayload> {
    if query.limit > MAX_WINDOW {
        return Err(
            Error::invalid_input(format!("limit {} exceeds {MAX_WINDOW}", query.limit)).into(),
        );
    }
    let too_long = |s: &Option<String>| s.as_ref().is_some_and(|s| s.len() > MAX_SEARCH);
    if too_long(&query.search)
        || too_long(&query.user)
        || too_long(&query.ip)
        || too_long(&query.tenant)
    {
        return Err(Error::invalid_input("filter text too long").into());
    }
    state.engine.store().query(&query).map_err(Into::into)
}

#[tauri::command]
pub async fn summary(state: State<'_, AppState>) -> Result<Summary, ErrorPayload> {
    Ok(state.engine.store().summary())
}

#[tauri::command]
pub async fn end_sessions(
    state: State<'_, AppState>,
    targets: Vec<SessionRef>,
) -> Result<ActionReport, ErrorPayload> {
    if targets.is_empty() || targets.len() > MAX_TARGETS {
        return Err(Error::invalid_input(format!(
            "between 1 and {MAX_TARGETS} sessions per action"
        ))
        .into());
    }
    Ok(state.engine.end_sessions(targets).await)
}

#[tauri::command]
pub async fn refresh(state: State<'_, AppState>) -> Result<(), ErrorPayload> {
    state.engine.refresh(None);
    Ok(())
}
