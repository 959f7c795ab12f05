//! Lambda `frameworks-api`: which frameworks an org scores against, and which of their controls
//! it marks Not Applicable (reference: Framework Selection, Per-Control Selection), which
//! controls of which frameworks a weakness (CWE) maps to, and the org's attestations of controls.

mod attestation_files;
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
    document_routes().merge(file_routes())
}

/// The route that takes an attestation's evidence file: up to its own limit.
fn file_routes() -> Routes {
    Routes::new().put(
        "/api/compliance/frameworks/{framework_key}/controls/{control_id}/attestation/file",
        attestation_files::put,
    )
}

fn document_routes() -> Routes {
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
        .get(
            "/api/compliance/frameworks/{framework_key}/controls/{control_id}/attestation/file",
            attestation_files::get,
        )
        .get("/api/compliance/attestations", attestations::list)
        .get("/api/compliance/mappings", mappings::list)
        .get("/api/compliance/settings", org_settings::get)
        .put("/api/compliance/settings", org_settings::set)
}

pub fn router(state: AppState) -> Router {
    with_body_limit(document_routes().into_router(state.clone()), BODY_LIMIT).merge(
        with_body_limit(
            file_routes().into_router(state),
            attestation_files::BODY_LIMIT,
        ),
    )
}

pub fn app(state: AppState) -> Router {
    finish(router(state))
}
