//! Lambda `audits-api`: audits created from prebuilt policy packs (reference: POST
//! /api/audits), what a client needs next (the caller's audits, an audit with its rules, a
//! policy's rules, the packs and their categories), the rules tuned, and audits run over
//! records (runs, their findings, and dry runs of a pack), all in the Audits API's error shape.

pub mod alerts;
mod handlers;
mod oscal;

mod body;
pub mod envelope;
mod packs;
mod records;
mod reviewers;
pub mod runs;
mod thresholds;
mod tuning;
mod uploads;

use axum::middleware::map_response;
use axum::Router;
use compliance_http::{
    audits_error_shape, finish, with_body_limit, with_direct_body_limit, AppState, Routes,
};

/// A name, a pack and a few categories; a rule's switch and threshold.
const BODY_LIMIT: usize = 16 * 1024;

/// The routes whose bodies are small JSON documents.
fn document_routes() -> Routes {
    Routes::new()
        .get("/api/audits", handlers::list)
        .post("/api/audits", handlers::create)
        .get("/api/audits/{audit_id}", handlers::get)
        .get("/api/policies/{policy_id}/rules", handlers::rules)
        .patch("/api/policies/{policy_id}/rules/{rule_id}", tuning::update)
        .get("/api/policy-packs", packs::list)
        .get("/api/policy-packs/{policy_type}", packs::get)
        .get("/api/audits/{audit_id}/runs", runs::list)
        .get("/api/audits/{audit_id}/runs/{run_id}", runs::get)
        .get(
            "/api/audits/{audit_id}/runs/{run_id}/findings",
            runs::findings,
        )
        .get(
            "/api/audits/{audit_id}/runs/{run_id}/oscal",
            oscal::assessment_results,
        )
        .get("/api/audits/{audit_id}/reviewers", reviewers::get)
        .put("/api/audits/{audit_id}/reviewers", reviewers::set)
        .get("/api/audits/{audit_id}/alerts", alerts::list)
        .get("/api/audits/{audit_id}/alerts/{alert_id}", alerts::get)
        .get(
            "/api/audits/{audit_id}/alerts/{alert_id}/case",
            alerts::case::get,
        )
        .post(
            "/api/audits/{audit_id}/alerts/{alert_id}/transitions",
            alerts::transition,
        )
        .post(
            "/api/audits/{audit_id}/alerts/{alert_id}/assignment",
            alerts::assign,
        )
        .post(
            "/api/audits/{audit_id}/alerts/{alert_id}/comments",
            alerts::comment,
        )
        .post(
            "/api/audits/{audit_id}/alerts/{alert_id}/recommendation",
            alerts::recommend,
        )
        .post(
            "/api/audits/{audit_id}/alerts/{alert_id}/decision",
            alerts::decide,
        )
        .post("/api/audits/{audit_id}/snoozes", alerts::snooze)
        .get("/api/alerts/summary", alerts::queue::summary)
        .post("/api/audits/{audit_id}/uploads", uploads::announce)
        .get(
            "/api/audits/{audit_id}/uploads/{upload_id}",
            uploads::status,
        )
}

/// The routes that take records: as large as a scan report.
fn record_routes() -> Routes {
    Routes::new()
        .post("/api/audits/{audit_id}/runs", runs::create)
        .post("/api/policy-packs/{policy_type}/evaluate", packs::evaluate)
}

pub fn routes() -> Routes {
    document_routes().merge(record_routes())
}

pub fn router(state: AppState) -> Router {
    let documents = with_body_limit(document_routes().into_router(state.clone()), BODY_LIMIT);
    let records = with_direct_body_limit(
        record_routes().into_router(state),
        "/api/audits/{audit_id}/uploads",
    );
    documents
        .merge(records)
        .layer(map_response(audits_error_shape))
}

pub fn app(state: AppState) -> Router {
    finish(router(state))
}
