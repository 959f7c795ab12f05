//! Lambda `scans-api`: repositories and the scans sent for them (SARIF 2.1.0 or the native
//! document, optionally gzip-compressed).

mod body;
mod repos;
mod scans;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use compliance_core::http::{finish, AppState};

pub use body::{MAX_COMPRESSED_BYTES, MAX_REPORT_BYTES};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/repos", get(repos::list).post(repos::create))
        .route("/api/repos/{repo_id}", get(repos::get))
        .route(
            "/api/repos/{repo_id}/scans",
            get(scans::list).post(scans::ingest),
        )
        .route("/api/repos/{repo_id}/scans/{scan_id}", get(scans::get))
        .layer(DefaultBodyLimit::max(MAX_COMPRESSED_BYTES))
        .with_state(state)
}

pub fn app(state: AppState) -> Router {
    finish(router(state))
}
