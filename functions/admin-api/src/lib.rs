//! Lambda `admin-api`: the org's API keys, its audit log and its webhooks, plus the health check.

mod api_keys;
mod audit_logs;
mod webhooks;

use axum::extract::State;
use axum::{Json, Router};
use compliance_http::{finish, with_body_limit, ApiError, AppState, Routes};
use serde::Serialize;

/// Request bodies here are a name and a role, or a webhook (a URL of at most 2,048 characters).
const BODY_LIMIT: usize = 16 * 1024;

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/health", health)
        .get("/api/ready", ready)
        .get("/api/openapi.json", openapi)
        .get("/api/api-keys", api_keys::list)
        .post("/api/api-keys", api_keys::create)
        .delete("/api/api-keys/{key_id}", api_keys::revoke)
        .get("/api/audit-logs", audit_logs::list)
        .get("/api/webhooks", webhooks::list)
        .post("/api/webhooks", webhooks::create)
        .get("/api/webhooks/{webhook_id}", webhooks::get)
        .patch("/api/webhooks/{webhook_id}", webhooks::update)
        .delete("/api/webhooks/{webhook_id}", webhooks::delete)
        .post("/api/webhooks/{webhook_id}/secret", webhooks::rotate_secret)
        .post("/api/webhooks/{webhook_id}/ping", webhooks::ping)
        .get(
            "/api/webhooks/{webhook_id}/deliveries",
            webhooks::list_deliveries,
        )
        .get(
            "/api/webhooks/{webhook_id}/deliveries/{delivery_id}",
            webhooks::get_delivery,
        )
        .post(
            "/api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
            webhooks::redeliver,
        )
}

pub fn router(state: AppState) -> Router {
    with_body_limit(routes().into_router(state), BODY_LIMIT)
}

/// The router as deployed: with the common layers and JSON fallbacks.
pub fn app(state: AppState) -> Router {
    finish(router(state))
}

/// The API's contract, kept in the repository (`openapi.json`) and served as it is.
const OPENAPI: &str = include_str!("../../../openapi.json");

async fn openapi() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
}

#[derive(Serialize)]
pub struct Health {
    pub status: &'static str,
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Serialize)]
pub struct Readiness {
    pub status: &'static str,
    pub store: &'static str,
}

/// One read of the store: 200 when it answers, 503 (with `Retry-After`) when it is unreachable,
/// throttling or stalled.
async fn ready(State(state): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    let store = state.store.as_ref();
    store
        .get(&compliance_store::keys::bootstrap_marker("readiness"))
        .await?;
    Ok(Json(Readiness {
        status: "ready",
        store: store.adapter(),
    }))
}
