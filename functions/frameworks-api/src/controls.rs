use axum::extract::{Path, State};
use axum::Json;
use compliance_domain::catalog::{Control, Framework};
use compliance_domain::ingest::ScanSummary;
use compliance_domain::scoring::refine_recommendation;
use compliance_http::{Admin, ApiError, AppState, Caller, FieldError, JsonBody, Meta, Params};
use compliance_services::audit_log::actions;
use compliance_services::org_view::OrgView;
use compliance_services::settings::{self, Change};
use compliance_services::{repos, scans};
use serde::Deserialize;
use serde_json::{json, Value};

fn unknown_framework(key: &str) -> ApiError {
    // The key is echoed only when it is a plausible key (never raw control characters).
    if compliance_domain::ids::is_safe_id(key) {
        ApiError::NotFound(format!("Unknown framework: {key}"))
    } else {
        ApiError::NotFound("Unknown framework".into())
    }
}

fn framework<'v>(view: &'v OrgView, key: &str) -> Result<&'v Framework, ApiError> {
    view.find(key).ok_or_else(|| unknown_framework(key))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlsQuery {
    repo_id: Option<String>,
}

/// A repository id: a positive integer.
pub fn parse_repo_id(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .ok()
        .filter(|id| (1..=i64::MAX as u64).contains(id))
        .ok_or_else(|| {
            ApiError::InvalidQuery(vec![FieldError::at(
                "repo_id",
                "must be a positive integer",
            )])
        })
}

fn control_view(control: &Control, disabled: bool, summary: Option<&ScanSummary>) -> Value {
    let (recommendation, reason) = refine_recommendation(control, summary);
    json!({
        "id": control.id,
        "name": control.name,
        "category": control.category,
        "description": control.description,
        "check_type": control.check_type,
        "pass_condition": control.pass_condition,
        "domain": control.domain,
        "disabled": disabled,
        "recommendation": recommendation,
        "recommendation_reason": reason,
    })
}

pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(key): Path<String>,
    Params(query): Params<ControlsQuery>,
) -> Result<Json<Value>, ApiError> {
    let repo_id = query.repo_id.as_deref().map(parse_repo_id).transpose()?;
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let view = OrgView::load_one(store, org, &key).await?;
    // With a repository, its latest scan refines the recommendations.
    let latest = match repo_id {
        None => None,
        Some(id) => {
            if repos::get(store, org, id).await?.is_none() {
                return Err(ApiError::NotFound("Repository not found".into()));
            }
            scans::latest(store, org, id).await?
        }
    };
    let summary = latest.as_ref().map(|s| &s.summary);
    let framework = framework(&view, &key)?;
    let disabled = view.settings.disabled(&framework.key);
    let controls: Vec<Value> = framework
        .controls
        .iter()
        .map(|c| control_view(c, disabled.contains(&c.id), summary))
        .collect();
    Ok(Json(json!({
        "framework_key": framework.key,
        "framework_name": framework.name,
        "custom": framework.custom,
        "controls": controls,
        "disabled_count": disabled.len(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisabledBody {
    disabled: Vec<String>,
}

const MAX_IDS: usize = 1000;

pub async fn set_disabled(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path(key): Path<String>,
    JsonBody(body): JsonBody<DisabledBody>,
) -> Result<Json<Value>, ApiError> {
    if body.disabled.len() > MAX_IDS {
        return Err(ApiError::Validation(vec![FieldError::at(
            "disabled",
            format!("at most {MAX_IDS} control ids"),
        )]));
    }
    let store = state.store.as_ref();
    let view = OrgView::load_one(store, &principal.org_id, &key).await?;
    let framework = framework(&view, &key)?;
    let mut ids: Vec<String> = Vec::with_capacity(body.disabled.len());
    for id in body.disabled {
        if framework.control(&id).is_none() {
            let shown: String = id.chars().filter(|c| !c.is_control()).take(64).collect();
            return Err(ApiError::BadRequest(format!("Unknown control: {shown}")));
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let ctx = state.audit(&principal, meta);
    let framework_key = framework.key.clone();
    let saved = ids.clone();
    settings::update(
        store,
        &ctx,
        actions::COMPLIANCE_CONTROLS_UPDATED,
        |current| {
            let mut next = current.clone();
            next.set_disabled(&framework_key, saved.clone());
            Ok::<_, ApiError>(Change {
                metadata: json!({
                    "framework_key": framework_key,
                    "before": {"disabled": current.disabled(&framework_key)},
                    "after": {"disabled": saved},
                }),
                next,
                also: vec![],
                outcome: (),
            })
        },
    )
    .await?;
    Ok(Json(json!({
        "message": "Control selection updated",
        "framework_key": key,
        "disabled": ids,
    })))
}
