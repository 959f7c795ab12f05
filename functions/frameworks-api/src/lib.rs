//! Lambda `frameworks-api`: which frameworks an org scores against, and which of their controls
//! it marks Not Applicable (reference: Framework Selection, Per-Control Selection), which
//! controls of which frameworks a weakness (CWE) maps to, and the org's attestations of controls.

mod attestations;
mod controls;
mod mappings;
mod org_settings;
mod selection;
mod soa;

use axum::Router;
use compliance_http::{finish, with_body_limit, AppState, Routes};

/// Bodies here are lists of keys or control ids, or an attestation's statement.
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
        .put(
            "/api/compliance/frameworks/{framework_key}/controls/{control_id}/attestation",
            attestations::put,
        )
        .get(
            "/api/compliance/frameworks/{framework_key}/controls/{control_id}/attestation",
            attestations::get,
        )
        .delete(
            "/api/compliance/frameworks/{framework_key}/controls/{control_id}/attestation",
            attestations::delete,
        )
        .get("/api/compliance/attestations", attestations::list)
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
