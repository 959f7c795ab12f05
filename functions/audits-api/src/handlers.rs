use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use compliance_domain::ids::Uuid;
use compliance_http::{
    page_args, ApiError, AppState, Caller, Contributor, JsonBody, Meta, PageParams, Params,
};
use compliance_packs::{pack, Rule, RuleSeverity};
use compliance_store::StoreError;
use serde::{Deserialize, Serialize};

use crate::body::{normalise_category, CreateAudit};
use crate::records::{self, owner, AuditSession, NewAudit, Policy, PolicyRule};

fn failed(what: &'static str) -> impl Fn(StoreError) -> ApiError {
    move |e| ApiError::Failed(what, e.to_string())
}

fn new_id() -> Uuid {
    Uuid::parse(&uuid::Uuid::new_v4().to_string()).expect("a UUID")
}

/// The reference's answer to `POST /api/audits`.
#[derive(Serialize)]
pub struct AuditCreated<'a> {
    pub audit_id: Uuid,
    pub policy_id: Uuid,
    pub rules: Vec<&'a Rule>,
}

#[derive(Serialize)]
pub struct AuditList {
    pub audits: Vec<AuditSession>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize)]
pub struct AuditWithRules {
    #[serde(flatten)]
    pub audit: AuditSession,
    pub rules: Vec<PolicyRule>,
}

#[derive(Serialize)]
pub struct PolicyRules {
    pub policy_id: Uuid,
    pub policy: Policy,
    pub rules: Vec<PolicyRule>,
}

pub async fn create(
    State(state): State<AppState>,
    Contributor(principal): Contributor,
    Meta(meta): Meta,
    JsonBody(input): JsonBody<CreateAudit>,
) -> Result<Response, ApiError> {
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
        return Err(ApiError::field(
            "selected_categories",
            "No rules match the selected categories",
        ));
    }
    let created_at = state.now();
    let audit_id = new_id();
    let policy_id = new_id();
    let audit = AuditSession {
        audit_id: audit_id.clone(),
        policy_id: policy_id.clone(),
        name: input.name.clone(),
        policy_type: input.policy_type,
        selected_categories: input.categories.clone(),
        rule_count: rules.len(),
        status: "active".into(),
        created_at,
    };
    let policy = Policy {
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
    let created = AuditCreated {
        audit_id,
        policy_id,
        rules,
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Params(page): Params<PageParams>,
) -> Result<Json<AuditList>, ApiError> {
    let (limit, cursor) = page_args(page.limit, page.cursor.as_deref())?;
    let (audits, next) = records::list_audits(
        state.store.as_ref(),
        &principal.org_id,
        &owner(&principal),
        limit,
        cursor,
    )
    .await?;
    Ok(Json(AuditList {
        audits,
        next_cursor: next.map(|c| c.encode()),
    }))
}

pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(audit_id): Path<String>,
) -> Result<Json<AuditWithRules>, ApiError> {
    let not_found = || ApiError::NotFound("Audit not found".into());
    let audit_id = Uuid::parse(&audit_id).map_err(|_| not_found())?;
    let store = state.store.as_ref();
    let owner = owner(&principal);
    let audit = records::get_audit(store, &principal.org_id, &owner, &audit_id)
        .await?
        .ok_or_else(not_found)?;
    let rules = records::rules(store, &principal.org_id, &owner, &audit.policy_id).await?;
    Ok(Json(AuditWithRules { audit, rules }))
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
) -> Result<Json<PolicyRules>, ApiError> {
    let not_found = || ApiError::NotFound("Policy not found".into());
    let policy_id = Uuid::parse(&policy_id).map_err(|_| not_found())?;
    let severity = filter
        .severity
        .as_deref()
        .map(|s| {
            s.parse::<RuleSeverity>().map_err(|e| {
                ApiError::query(
                    "severity",
                    format!("Invalid enum value. Expected {}", e.expected_quoted()),
                )
            })
        })
        .transpose()?;
    let store = state.store.as_ref();
    let owner = owner(&principal);
    let policy = records::get_policy(store, &principal.org_id, &owner, &policy_id)
        .await?
        .ok_or_else(not_found)?;
    let rules: Vec<PolicyRule> =
        records::rules(store, &principal.org_id, &owner, &policy.policy_id)
            .await?
            .into_iter()
            .filter(|r| {
                filter
                    .category
                    .as_deref()
                    .is_none_or(|c| normalise_category(&r.rule.category) == normalise_category(c))
                    && severity.is_none_or(|s| r.rule.severity == s)
            })
            .collect();
    Ok(Json(PolicyRules {
        policy_id: policy.policy_id.clone(),
        policy,
        rules,
    }))
}
