use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use compliance_http::{
    page_args, paged, ApiError, AppState, Caller, Contributor, FieldError, JsonBody, Meta,
    PageParams, Params,
};
use compliance_store::StoreError;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::records::{self, owner, AuditRecord, NewAudit, PolicyRecord};
use crate::validation::{normalise_category, validate};
use compliance_packs::{pack, packs as all_packs, Rule};

fn failed(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |e| ApiError::Failed(what, e.to_string())
}

fn valid_uuid(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok() && id.len() == 36
}

pub async fn create(
    State(state): State<AppState>,
    Contributor(principal): Contributor,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = validate(&body).map_err(ApiError::Validation)?;
    let pack = pack(input.policy_type);
    let rules: Vec<&Rule> = pack
        .rules
        .iter()
        .filter(|r| {
            input.categories.as_ref().is_none_or(|cs| {
                cs.iter()
                    .any(|c| normalise_category(c) == normalise_category(&r.category))
            })
        })
        .collect();
    if rules.is_empty() {
        return Err(ApiError::Validation(vec![FieldError::at(
            "selected_categories",
            "No rules match the selected categories",
        )]));
    }
    let created_at = compliance_domain::time::rfc3339(state.now());
    let audit_id = uuid::Uuid::new_v4().to_string();
    let policy_id = uuid::Uuid::new_v4().to_string();
    let audit = AuditRecord {
        audit_id: audit_id.clone(),
        policy_id: policy_id.clone(),
        name: input.name.clone(),
        policy_type: input.policy_type,
        selected_categories: input.categories.clone(),
        rule_count: rules.len(),
        status: "active".into(),
        created_at: created_at.clone(),
    };
    let policy = PolicyRecord {
        policy_id: policy_id.clone(),
        audit_id: audit_id.clone(),
        name: input.name,
        policy_type: input.policy_type,
        kind: "prebuilt".into(),
        status: "active".into(),
        rule_count: rules.len(),
        created_at,
    };
    let org = principal.org_id.clone();
    let owner = owner(&principal);
    let ctx = state.audit(&principal, meta);
    let new = NewAudit {
        org: &org,
        owner: &owner,
        audit,
        policy,
        rules: &rules,
    };
    records::create(state.store.as_ref(), &ctx, new)
        .await
        .map_err(failed("Failed to create policy"))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"audit_id": audit_id, "policy_id": policy_id, "rules": rules})),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Params(page): Params<PageParams>,
) -> Result<Json<Value>, ApiError> {
    let (limit, cursor) = page_args(page.limit, page.cursor.as_deref())?;
    let (audits, next) = records::list_audits(
        state.store.as_ref(),
        &principal.org_id,
        &owner(&principal),
        limit,
        cursor,
    )
    .await?;
    Ok(paged("audits", &audits, next))
}

pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(audit_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::NotFound("Audit not found".into());
    if !valid_uuid(&audit_id) {
        return Err(not_found());
    }
    let store = state.store.as_ref();
    let owner = owner(&principal);
    let audit = records::get_audit(store, &principal.org_id, &owner, &audit_id)
        .await?
        .ok_or_else(not_found)?;
    let rules = records::rules(store, &principal.org_id, &owner, &audit.policy_id).await?;
    let mut body = json!(audit);
    body["rules"] = json!(rules);
    Ok(Json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFilter {
    category: Option<String>,
    severity: Option<String>,
}

pub async fn rules(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(policy_id): Path<String>,
    Params(filter): Params<RuleFilter>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::NotFound("Policy not found".into());
    if !valid_uuid(&policy_id) {
        return Err(not_found());
    }
    if let Some(s) = &filter.severity {
        if !["low", "medium", "high", "critical"].contains(&s.as_str()) {
            return Err(ApiError::InvalidQuery(vec![FieldError::at(
                "severity",
                "Invalid enum value. Expected 'low' | 'medium' | 'high' | 'critical'",
            )]));
        }
    }
    let store = state.store.as_ref();
    let owner = owner(&principal);
    let policy = records::get_policy(store, &principal.org_id, &owner, &policy_id)
        .await?
        .ok_or_else(not_found)?;
    let rules: Vec<Value> = records::rules(store, &principal.org_id, &owner, &policy.policy_id)
        .await?
        .into_iter()
        .filter(|r| {
            filter.category.as_deref().is_none_or(|c| {
                r["category"].as_str().map(normalise_category) == Some(normalise_category(c))
            }) && filter
                .severity
                .as_deref()
                .is_none_or(|s| r["severity"] == s)
        })
        .collect();
    Ok(Json(
        json!({"policy_id": policy.policy_id, "policy": policy, "rules": rules}),
    ))
}

pub async fn packs(Caller(_): Caller) -> Json<Value> {
    let packs: Vec<Value> = all_packs()
        .iter()
        .map(|p| {
            let categories: Vec<Value> = p
                .categories()
                .into_iter()
                .map(|c| {
                    let n = p.rules.iter().filter(|r| r.category == c).count();
                    json!({"name": c, "rule_count": n})
                })
                .collect();
            json!({
                "policy_type": p.policy_type,
                "name": p.name,
                "description": p.description,
                "version": p.version,
                "rule_count": p.rules.len(),
                "categories": categories,
            })
        })
        .collect();
    Json(json!({"packs": packs}))
}
