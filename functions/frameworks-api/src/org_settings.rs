//! `GET` and `PUT /api/compliance/settings`: the org's compliance settings beyond its framework
//! selection (what accepted SARIF suppressions do, how long an exception may run, when an alert's
//! decision is due).

use axum::extract::State;
use axum::Json;
use compliance_http::body::{FromBody, Object};
use compliance_http::{Admin, ApiError, AppState, Caller, JsonBody, Meta};
use compliance_services::compliance_settings::{
    self, ComplianceSettings, MAX_ALERT_DECISION_DAYS, MAX_EXCEPTION_MAX_DAYS,
};

/// `{"suppressions"?, "exception_max_days"?, "alert_decision_days"?}`: the fields given change,
/// the others stay.
pub struct SetSettings {
    suppressions: Option<compliance_domain::ingest::SuppressionPolicy>,
    exception_max_days: Option<u32>,
    alert_decision_days: Option<u32>,
}

impl FromBody for SetSettings {
    fn from_body(body: &mut Object) -> Option<Self> {
        let suppressions = body.optional("suppressions", |f| f.label());
        let max = body.optional("exception_max_days", |f| {
            f.integer(1, i64::from(MAX_EXCEPTION_MAX_DAYS))
                .map(|n| n as u32)
        });
        let decision = body.optional("alert_decision_days", |f| {
            f.integer(1, i64::from(MAX_ALERT_DECISION_DAYS))
                .map(|n| n as u32)
        });
        Some(SetSettings {
            suppressions: suppressions?,
            exception_max_days: max?,
            alert_decision_days: decision?,
        })
    }
}

pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<ComplianceSettings>, ApiError> {
    let settings = compliance_settings::get(state.store.as_ref(), &principal.org_id).await?;
    Ok(Json(settings))
}

pub async fn set(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<SetSettings>,
) -> Result<Json<ComplianceSettings>, ApiError> {
    let store = state.store.as_ref();
    let current = compliance_settings::get(store, &principal.org_id).await?;
    let to = ComplianceSettings {
        suppressions: body.suppressions.unwrap_or(current.suppressions),
        exception_max_days: body
            .exception_max_days
            .unwrap_or(current.exception_max_days),
        alert_decision_days: body
            .alert_decision_days
            .unwrap_or(current.alert_decision_days),
    };
    let ctx = state.audit(&principal, meta);
    compliance_settings::set(store, &ctx, to).await?;
    Ok(Json(to))
}
