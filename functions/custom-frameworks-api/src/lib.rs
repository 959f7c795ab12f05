//! Lambda `custom-frameworks-api`: org-defined frameworks (reference: Custom Frameworks).

mod handlers;
mod validation;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get};
use axum::Router;
use compliance_core::http::{finish, AppState};

/// 200 controls of a few hundred bytes each, with room to spare.
const BODY_LIMIT: usize = 256 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/compliance/custom-frameworks",
            get(handlers::list).post(handlers::save),
        )
        .route(
            "/api/compliance/custom-frameworks/{framework_key}",
            delete(handlers::delete),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

pub fn app(state: AppState) -> Router {
    finish(router(state))
}
