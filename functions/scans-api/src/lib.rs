//! Lambda `scans-api`: repositories and the scans sent for them (SARIF 2.1.0 or the native
//! document, optionally gzip-compressed).

pub mod body;
mod exceptions;
mod repos;
pub mod scans;
mod uploads;

use axum::Router;
use compliance_http::{finish, with_direct_body_limit, AppState, Routes};

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/repos", repos::list)
        .post("/api/repos", repos::create)
        .get("/api/repos/{repo_id}", repos::get)
        .get("/api/repos/{repo_id}/scans", scans::list)
        .post("/api/repos/{repo_id}/scans", scans::ingest)
        .get("/api/repos/{repo_id}/scans/{scan_id}", scans::get)
        .post("/api/repos/{repo_id}/uploads", uploads::announce)
        .get("/api/repos/{repo_id}/uploads/{upload_id}", uploads::status)
        .merge(exception_routes())
}

/// Exceptions to findings: a repository's, and the org's (every repository's).
fn exception_routes() -> Routes {
    use exceptions::*;
    Routes::new()
        .post("/api/repos/{repo_id}/exceptions", request_for_repo)
        .get("/api/repos/{repo_id}/exceptions", list_for_repo)
        .get(
            "/api/repos/{repo_id}/exceptions/{exception_id}",
            get_for_repo,
        )
        .post(
            "/api/repos/{repo_id}/exceptions/{exception_id}/approve",
            approve_for_repo,
        )
        .post(
            "/api/repos/{repo_id}/exceptions/{exception_id}/reject",
            reject_for_repo,
        )
        .post(
            "/api/repos/{repo_id}/exceptions/{exception_id}/revoke",
            revoke_for_repo,
        )
        .post("/api/compliance/exceptions", request_for_org)
        .get("/api/compliance/exceptions", list_for_org)
        .get("/api/compliance/exceptions/{exception_id}", get_for_org)
        .post(
            "/api/compliance/exceptions/{exception_id}/approve",
            approve_for_org,
        )
        .post(
            "/api/compliance/exceptions/{exception_id}/reject",
            reject_for_org,
        )
        .post(
            "/api/compliance/exceptions/{exception_id}/revoke",
            revoke_for_org,
        )
}

pub fn router(state: AppState) -> Router {
    with_direct_body_limit(routes().into_router(state), "/api/repos/{repo_id}/uploads")
}

pub fn app(state: AppState) -> Router {
    finish(router(state))
}
