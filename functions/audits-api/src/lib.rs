//! Lambda `audits-api`: audits created from prebuilt policy packs (reference: POST
//! /api/audits), what a client needs next (the caller's audits, an audit with its rules, a
//! policy's rules, the packs and their categories), all in the Audits API's error shape.

mod handlers;

mod body;
mod records;

use axum::middleware::map_response;
use axum::Router;
use compliance_http::{audits_error_shape, finish, with_body_limit, AppState, Routes};

/// A name, a pack and a few categories.
const BODY_LIMIT: usize = 16 * 1024;

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/audits", handlers::list)
        .post("/api/audits", handlers::create)
        .get("/api/audits/{audit_id}", handlers::get)
        .get("/api/policies/{policy_id}/rules", handlers::rules)
        .get("/api/policy-packs", handlers::packs)
}

pub fn router(state: AppState) -> Router {
    with_body_limit(routes().into_router(state), BODY_LIMIT).layer(map_response(audits_error_shape))
}

pub fn app(state: AppState) -> Router {
    finish(router(state))
}
