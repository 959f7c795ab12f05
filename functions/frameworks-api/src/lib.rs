//! Lambda `frameworks-api`: which frameworks an org scores against, and which of their controls
//! it marks Not Applicable (reference: Framework Selection, Per-Control Selection).

mod controls;
mod selection;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, put};
use axum::Router;
use compliance_core::http::{finish, AppState};

/// Bodies here are lists of keys or control ids.
const BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/compliance/frameworks", get(selection::list))
        .route(
            "/api/compliance/frameworks/enabled",
            put(selection::set_enabled),
        )
        .route(
            "/api/compliance/frameworks/{framework_key}/controls",
            get(controls::list).put(controls::set_disabled),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

pub fn app(state: AppState) -> Router {
    finish(router(state))
}
