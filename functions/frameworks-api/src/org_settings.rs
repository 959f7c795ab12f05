//! `GET` and `PUT /api/compliance/settings`: the org's compliance settings beyond its framework
//! selection (what accepted SARIF suppressions do).

use axum::extract::State;
use axum::Json;
use compliance_domain::ingest::SuppressionPolicy;
use compliance_http::body::{FromBody, Object};
use compliance_http::{Admin, ApiError, AppState, Caller, JsonBody, Meta};
use compliance_services::suppressions;
use serde::Serialize;

#[derive(Serialize)]
pub struct ComplianceSettings {
    /// `require_approval` (the default): a suppressed result counts and its suppression is a
    /// requested exception; `honour`: it is excluded, as the tool asked.
    pub suppressions: SuppressionPolicy,
}

/// `{"suppressions": "require_approval" | "honour"}`.
pub struct SetSettings {
    suppressions: SuppressionPolicy,
}

impl FromBody for SetSettings {
    fn from_body(body: &mut Object) -> Option<Self> {
        let suppressions = body.required("suppressions", |f| f.label());
        Some(SetSettings {
            suppressions: suppressions?,
        })
    }
}

pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<ComplianceSettings>, ApiError> {
    let policy = suppressions::policy(state.store.as_ref(), &principal.org_id).await?;
    Ok(Json(ComplianceSettings {
        suppressions: policy,
    }))
}

pub async fn set(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<SetSettings>,
) -> Result<Json<ComplianceSettings>, ApiError> {
    let ctx = state.audit(&principal, meta);
    suppressions::set_policy(state.store.as_ref(), &ctx, body.suppressions).await?;
    Ok(Json(ComplianceSettings {
        suppressions: body.suppressions,
    }))
}
