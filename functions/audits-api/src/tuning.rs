//! `PATCH /api/policies/{policy_id}/rules/{rule_id}`: the audit's creator switches a rule on or
//! off, or sets its threshold; later runs use it. Audited (`POLICY_RULE_UPDATED`), with the
//! values before and after; a change to nothing writes nothing.

use axum::extract::{Path, State};
use axum::Json;
use compliance_domain::ids::Uuid;
use compliance_http::body::{FromBody, Object};
use compliance_http::{ApiError, AppState, Contributor, FieldError, JsonBody, Meta};
use compliance_store::StoreError;
use serde_json::json;

use crate::records::{self, owner, PolicyRule};
use crate::thresholds::with_threshold;

/// The body: at least one of the two.
pub struct RuleChange {
    is_active: Option<bool>,
    threshold: Option<f64>,
}

impl FromBody for RuleChange {
    fn from_body(body: &mut Object) -> Option<Self> {
        let is_active = body.optional("is_active", |f| f.boolean());
        let threshold = body.optional("threshold", |f| f.number());
        Some(RuleChange {
            is_active: is_active?,
            threshold: threshold?,
        })
    }
}

pub async fn update(
    State(state): State<AppState>,
    Contributor(principal): Contributor,
    Meta(meta): Meta,
    Path((policy_id, rule_id)): Path<(String, String)>,
    JsonBody(change): JsonBody<RuleChange>,
) -> Result<Json<PolicyRule>, ApiError> {
    let policy_not_found = || ApiError::NotFound("Policy not found".into());
    let policy_id = Uuid::parse(&policy_id).map_err(|_| policy_not_found())?;
    let store = state.store.as_ref();
    let owner = owner(&principal);
    let policy = records::get_policy(store, &principal.org_id, &owner, &policy_id)
        .await?
        .ok_or_else(policy_not_found)?;
    let stored = records::stored_rules(store, &principal.org_id, &owner, &policy.policy_id)
        .await?
        .into_iter()
        .find(|s| s.rule().rule.rule_id == rule_id)
        .ok_or_else(|| ApiError::NotFound("Rule not found".into()))?;
    if change.is_active.is_none() && change.threshold.is_none() {
        return Err(ApiError::Validation(vec![FieldError::new(
            vec![],
            "Provide is_active, threshold or both",
        )]));
    }
    let before = stored.rule().clone();
    let mut after = before.clone();
    if let Some(active) = change.is_active {
        after.is_active = active;
    }
    if let Some(value) = change.threshold {
        after.rule =
            with_threshold(&before.rule, value).map_err(|e| ApiError::field("threshold", e))?;
    }
    if after == before {
        return Ok(Json(after));
    }
    let metadata = json!({
        "audit_id": policy.audit_id, "policy_id": policy.policy_id, "rule_id": before.rule.rule_id,
        "before": {"is_active": before.is_active, "threshold": before.rule.threshold},
        "after": {"is_active": after.is_active, "threshold": after.rule.threshold},
    });
    let ctx = state.audit(&principal, meta);
    records::update_rule(store, &ctx, &stored, after.clone(), metadata)
        .await
        .map_err(|e| match e {
            // A version that moved, or DynamoDB cancelling one of two transactions on the item.
            StoreError::ConditionFailed { .. } | StoreError::Conflict => ApiError::Conflict(
                "The rule was changed by another request at the same time; read it and retry"
                    .into(),
            ),
            other => ApiError::Failed("Failed to update the rule", other.to_string()),
        })?;
    Ok(Json(after))
}
