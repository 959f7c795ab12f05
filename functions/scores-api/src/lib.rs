//! Lambda `scores-api`: a repository's compliance scores against the org's enabled frameworks,
//! from its latest scan, and their trend (reference: Compliance Scores).

use axum::extract::{Path, State};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use compliance_core::evaluation::evaluate;
use compliance_core::http::{finish, ApiError, AppState, Caller, FieldError, Params, Routes};
use compliance_core::org_view::OrgView;
use compliance_core::{repos, scans, trends};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/compliance/score/{repo_id}", score)
        .get("/api/compliance/trend/{repo_id}", trend)
}

pub fn router(state: AppState) -> Router {
    routes().into_router(state)
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
    if let Some(key) = &query.framework {
        enabled_framework(&view, key)?;
    }
    let scanned_at = latest
        .as_ref()
        .and_then(|s| compliance_core::time::parse_instant(&s.scanned_at));
    let now = state.now();
    let report = evaluate(&view, latest.as_ref(), query.framework.as_deref(), now);
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

/// A framework the org scores against: 404 when unknown, 400 when not enabled.
fn enabled_framework(view: &OrgView, key: &str) -> Result<(), ApiError> {
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
    Ok(())
}

pub const DEFAULT_TREND_DAYS: u32 = 30;
pub const MAX_TREND_DAYS: u32 = 365;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendQuery {
    framework: Option<String>,
    days: Option<String>,
}

/// Scores at each completed scan (and each daily snapshot) in the window, oldest first.
async fn trend(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    Params(query): Params<TrendQuery>,
) -> Result<Json<Value>, ApiError> {
    let days = match query.days.as_deref() {
        None => DEFAULT_TREND_DAYS,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=MAX_TREND_DAYS).contains(d))
            .ok_or_else(|| {
                ApiError::Validation(vec![FieldError::at(
                    "days",
                    format!("must be an integer from 1 to {MAX_TREND_DAYS}"),
                )])
            })?,
    };
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let id = repo_id(&id)?;
    let (repo, view) = tokio::try_join!(repos::get(store, org, id), OrgView::load(store, org))?;
    let repo = repo.ok_or_else(|| ApiError::NotFound("Repository not found".into()))?;
    if let Some(key) = &query.framework {
        enabled_framework(&view, key)?;
    }
    let from = state.now() - chrono::Duration::days(i64::from(days));
    let points = trends::since(store, org, repo.repo_id, from).await?;
    let points: Vec<Value> = points
        .iter()
        .map(|p| {
            json!({
                "at": p.at,
                "source": p.source,
                "scan_id": p.scan_id,
                "score": match &query.framework {
                    Some(k) => json!(p.frameworks.get(k).copied().flatten()),
                    None => json!(p.overall_score),
                },
                "overall_score": p.overall_score,
                "posture": p.posture,
            })
        })
        .collect();
    Ok(Json(json!({
        "repo_id": repo.repo_id,
        "framework": query.framework,
        "days": days,
        "points": points,
    })))
}

fn safe(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}
