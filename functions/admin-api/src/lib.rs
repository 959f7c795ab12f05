//! Lambda `admin-api`: the org's API keys and its audit log, plus the health check.

mod api_keys;
mod audit_logs;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get};
use axum::{Json, Router};
use compliance_core::http::{finish, AppState};
use serde_json::{json, Value};

/// Request bodies here are a name and a role.
const BODY_LIMIT: usize = 16 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/api/api-keys/{key_id}", delete(api_keys::revoke))
        .route("/api/audit-logs", get(audit_logs::list))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// The router as deployed: with the common layers and JSON fallbacks.
pub fn app(state: AppState) -> Router {
    finish(router(state))
}

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}
