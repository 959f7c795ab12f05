//! Lambda `frameworks-api`: which frameworks an org scores against, and which of their controls
//! it marks Not Applicable (reference: Framework Selection, Per-Control Selection), and which
//! controls of which frameworks a weakness (CWE) maps to.

mod controls;
mod mappings;
mod org_settings;
mod selection;
mod soa;

use axum::Router;
use compliance_http::{finish, with_body_limit, AppState, Routes};

/// Bodies here are lists of keys or control ids.
const BODY_LIMIT: usize = 64 * 1024;

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/compliance/frameworks", selection::list)
        .put("/api/compliance/frameworks/enabled", selection::set_enabled)
        .get(
            "/api/compliance/frameworks/{framework_key}/controls",
            controls::list,
        )
        .put(
            "/api/compliance/frameworks/{framework_key}/controls",
            controls::set_disabled,
        )
        .get("/api/compliance/frameworks/{framework_key}/soa", soa::get)
        .get("/api/compliance/mappings", mappings::list)
        .get("/api/compliance/settings", org_settings::get)
        .put("/api/compliance/settings", org_settings::set)
}

pub fn router(state: AppState) -> Router {
    with_body_limit(routes().into_router(state), BODY_LIMIT)
}

pub fn app(state: AppState) -> Router {
    finish(router(state))
}
