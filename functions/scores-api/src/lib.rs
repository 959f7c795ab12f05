//! Lambda `scores-api`: a repository's compliance scores against the org's enabled frameworks,
//! from its latest scan (reference: Compliance Scores).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use compliance_core::http::{finish, ApiError, AppState, Caller, Params};
use compliance_core::org_view::OrgView;
use compliance_core::scoring::{self, FrameworkInput, ScanInput};
use compliance_core::{repos, scans};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/compliance/score/{repo_id}", get(score))
        .with_state(state)
}

pub fn app(state: AppState) -> Router {
    finish(router(state))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreQuery {
    framework: Option<String>,
}

fn repo_id(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .ok()
        .filter(|id| *id >= 1 && *id <= i64::MAX as u64)
        .ok_or_else(|| ApiError::NotFound("Repository not found".into()))
}

/// The reference shows `"last_scan": "2026-04-26 ..."`: date and time, UTC.
fn last_scan_text(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

async fn score(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    Params(query): Params<ScoreQuery>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let id = repo_id(&id)?;
    let (repo, view, latest) = tokio::try_join!(
        repos::get(store, org, id),
        OrgView::load(store, org),
        scans::latest(store, org, id),
    )?;
    let repo = repo.ok_or_else(|| ApiError::NotFound("Repository not found".into()))?;
    let mut enabled: Vec<_> = view.frameworks.iter().filter(|f| view.enabled(f)).collect();
    if let Some(key) = &query.framework {
        let Some(framework) = view.find(key) else {
            return Err(ApiError::NotFound(format!(
                "Unknown framework: {}",
                safe(key)
            )));
        };
        if !view.enabled(framework) {
            return Err(ApiError::BadRequest(format!(
                "Framework '{}' is not enabled for this org",
                framework.key
            )));
        }
        enabled.retain(|f| &f.key == key);
    }
    let inputs: Vec<FrameworkInput> = enabled
        .iter()
        .map(|f| FrameworkInput {
            framework: f,
            disabled: view.settings.disabled(&f.key),
        })
        .collect();
    let scanned_at = latest
        .as_ref()
        .and_then(|s| compliance_core::time::parse_instant(&s.scanned_at));
    let scan_input = match (&latest, scanned_at) {
        (Some(scan), Some(at)) => Some(ScanInput {
            summary: &scan.summary,
            completed_at: at,
        }),
        _ => None,
    };
    let now = Utc::now();
    let report = scoring::score(&inputs, scan_input.as_ref(), now);
    Ok(Json(json!({
        "repo_id": repo.repo_id,
        "repo_name": repo.name,
        "evaluated_at": compliance_core::time::rfc3339(now),
        "last_scan": scanned_at.as_ref().map(last_scan_text),
        "scan_id": latest.as_ref().map(|s| s.scan_id.as_str()),
        "total_issues": report.total_issues,
        "executive_summary": report.executive_summary,
        "frameworks": report.frameworks,
    })))
}

fn safe(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}
