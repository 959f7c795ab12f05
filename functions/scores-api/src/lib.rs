//! Lambda `scores-api`: a repository's compliance scores against the org's enabled frameworks,
//! from its latest scan, and their trend (reference: Compliance Scores).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use compliance_domain::ids::{RepoId, ScanId};
use compliance_domain::scoring::{ExecutiveSummary, Posture};
use compliance_http::ids::{repo_in_path, repo_not_found, shown};
use compliance_http::{
    finish, page_by_size, resume_after, ApiError, AppState, Caller, FieldError, Params, Routes,
    RESPONSE_BUDGET,
};
use compliance_services::org_view::OrgView;
use compliance_services::scores::score_repo;
use compliance_services::trends::{Source, TrendPoint};
use compliance_services::{repos, scans, trends};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

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
    /// The `next_cursor` of the previous page of frameworks.
    cursor: Option<String>,
}

/// The reference's score shape, plus `next_cursor`: frameworks are answered whole, in key
/// order, as many as the response budget holds; the executive summary always covers them all.
#[derive(Serialize)]
pub struct ScoreResponse {
    pub repo_id: RepoId,
    pub repo_name: String,
    #[serde(with = "compliance_domain::time::micros")]
    pub evaluated_at: DateTime<Utc>,
    /// `YYYY-MM-DD HH:MM:SS`, UTC, as the reference shows it.
    pub last_scan: Option<String>,
    pub scan_id: Option<ScanId>,
    pub total_issues: u64,
    pub executive_summary: ExecutiveSummary,
    pub frameworks: BTreeMap<String, Box<RawValue>>,
    pub next_cursor: Option<String>,
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
) -> Result<Json<ScoreResponse>, ApiError> {
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let id = repo_in_path(&id)?;
    let (repo, view, latest) = tokio::try_join!(
        repos::get(store, org, id),
        OrgView::load(store, org),
        scans::latest(store, org, id),
    )?;
    let repo = repo.ok_or_else(repo_not_found)?;
    if let Some(key) = &query.framework {
        enabled_framework(&view, key)?;
    }
    let now = state.now();
    let after = resume_after(query.cursor.as_deref())?;
    let report = score_repo(&view, latest.as_ref(), query.framework.as_deref(), now);
    let frameworks = report.frameworks.iter().map(|(k, f)| (k.as_str(), f));
    let (page, next_cursor) = page_by_size(frameworks, after.as_deref(), RESPONSE_BUDGET)?;
    let frameworks = page.into_iter().map(|(k, f)| (k.to_string(), f)).collect();
    Ok(Json(ScoreResponse {
        repo_id: repo.repo_id,
        repo_name: repo.name,
        evaluated_at: now,
        last_scan: latest.as_ref().map(|s| last_scan_text(&s.scanned_at)),
        scan_id: latest.map(|s| s.scan_id),
        total_issues: report.total_issues,
        executive_summary: report.executive_summary,
        frameworks,
        next_cursor,
    }))
}

/// A framework the org scores against: 404 when unknown, 400 when not enabled.
fn enabled_framework(view: &OrgView, key: &str) -> Result<(), ApiError> {
    let Some(framework) = view.find(key) else {
        return Err(ApiError::NotFound(format!(
            "Unknown framework: {}",
            shown(key)
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

#[derive(Serialize)]
pub struct TrendPointView {
    #[serde(with = "compliance_domain::time::micros")]
    pub at: DateTime<Utc>,
    pub source: Source,
    pub scan_id: Option<ScanId>,
    /// The framework's score (`null` when all its controls were disabled), or the overall one.
    pub score: Option<u32>,
    pub overall_score: u32,
    pub posture: Posture,
}

impl TrendPointView {
    fn of(p: TrendPoint, framework: Option<&str>) -> Self {
        TrendPointView {
            score: match framework {
                Some(k) => p.frameworks.get(k).copied().flatten(),
                None => Some(p.overall_score),
            },
            at: p.at,
            source: p.source,
            scan_id: p.scan_id,
            overall_score: p.overall_score,
            posture: p.posture,
        }
    }
}

#[derive(Serialize)]
pub struct Trend {
    pub repo_id: RepoId,
    pub framework: Option<String>,
    pub days: u32,
    pub points: Vec<TrendPointView>,
}

/// Scores at each completed scan (and each daily snapshot) in the window, oldest first.
async fn trend(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    Params(query): Params<TrendQuery>,
) -> Result<Json<Trend>, ApiError> {
    let days = match query.days.as_deref() {
        None => DEFAULT_TREND_DAYS,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=MAX_TREND_DAYS).contains(d))
            .ok_or_else(|| {
                ApiError::InvalidQuery(vec![FieldError::at(
                    "days",
                    format!("must be an integer from 1 to {MAX_TREND_DAYS}"),
                )])
            })?,
    };
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let id = repo_in_path(&id)?;
    let repo = repos::get(store, org, id)
        .await?
        .ok_or_else(repo_not_found)?;
    if let Some(key) = &query.framework {
        enabled_framework(&OrgView::load_one(store, org, key).await?, key)?;
    }
    let from = state.now() - chrono::Duration::days(i64::from(days));
    let points = trends::since(store, org, repo.repo_id, from).await?;
    let framework = query.framework.as_deref();
    Ok(Json(Trend {
        repo_id: repo.repo_id,
        framework: query.framework.clone(),
        days,
        points: points
            .into_iter()
            .map(|p| TrendPointView::of(p, framework))
            .collect(),
    }))
}
