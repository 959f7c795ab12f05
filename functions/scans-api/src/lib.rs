//! Lambda `scans-api`: repositories and the scans sent for them (SARIF 2.1.0 or the native
//! document, optionally gzip-compressed).

pub mod body;
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
}

pub fn router(state: AppState) -> Router {
    with_direct_body_limit(routes().into_router(state), "/api/repos/{repo_id}/uploads")
}

pub fn app(state: AppState) -> Router {
    finish(router(state))
}
