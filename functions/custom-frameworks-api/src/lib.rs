//! Lambda `custom-frameworks-api`: org-defined frameworks (reference: Custom Frameworks).

mod body;
mod handlers;

use axum::Router;
use compliance_http::{finish, with_body_limit, AppState, Routes};

/// 200 controls of a few hundred bytes each, with room to spare.
const BODY_LIMIT: usize = 256 * 1024;

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/compliance/custom-frameworks", handlers::list)
        .post("/api/compliance/custom-frameworks", handlers::save)
        .delete(
            "/api/compliance/custom-frameworks/{framework_key}",
            handlers::delete,
        )
}

pub fn router(state: AppState) -> Router {
    with_body_limit(routes().into_router(state), BODY_LIMIT)
}

pub fn app(state: AppState) -> Router {
    finish(router(state))
}
