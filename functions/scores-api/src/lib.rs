//! Lambda `scores-api`: a repository's compliance scores against the org's enabled frameworks,
//! from its latest scan, and their trend (reference: Compliance Scores).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use compliance_domain::ids::{RepoId, ScanId};
use compliance_domain::scoring::{ExecutiveSummary, Posture};
use compliance_http::ids::{repo_in_path, repo_not_found, shown};
use compliance_http::{
    finish, page_by_size, resume_after, ApiError, AppState, Caller, Params, Routes, RESPONSE_BUDGET,
};
use compliance_services::org_view::OrgView;
use compliance_services::scores::{self, evaluate_repo, ScoreMemo, Stamp};
use compliance_services::trends;
use compliance_services::trends::{Source, TrendPoint};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

mod oscal;

pub mod summary;

pub fn routes() -> Routes {
    Routes::new()
        .get("/api/compliance/score/{repo_id}", score)
        .get(
            "/api/compliance/score/{repo_id}/oscal",
            oscal::assessment_results,
        )
        .get("/api/compliance/trend/{repo_id}", trend)
        .get("/api/compliance/summary", summary::summary)
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

/// The fields of [`ScoreResponse`] before `evaluated_at`.
#[derive(Serialize)]
struct Head<'a> {
    repo_id: RepoId,
    repo_name: &'a str,
}

/// The fields of [`ScoreResponse`] after `evaluated_at`.
#[derive(Serialize)]
struct Tail<'a> {
    last_scan: Option<String>,
    scan_id: Option<&'a ScanId>,
    total_issues: u64,
    executive_summary: &'a ExecutiveSummary,
    frameworks: &'a BTreeMap<String, Box<RawValue>>,
    next_cursor: &'a Option<String>,
}

#[derive(Serialize)]
struct EvaluatedAt(#[serde(with = "compliance_domain::time::micros")] DateTime<Utc>);

/// A score response rendered but for its evaluation time (the one thing a request adds to
/// what is memoised): the JSON of [`ScoreResponse`] is `head`, the time, `tail`.
struct Rendered {
    /// `{"repo_id":…,"repo_name":…,"evaluated_at":`
    head: Vec<u8>,
    /// `,"last_scan":…,"next_cursor":…}`
    tail: Vec<u8>,
}

impl Rendered {
    fn new(head: &Head, tail: &Tail) -> serde_json::Result<Self> {
        // Compact JSON of a struct is `{` fields joined by `,` `}`: cut and joined again, the
        // pieces are byte for byte the JSON of the whole (checked in debug builds).
        let mut head_json = serde_json::to_vec(head)?;
        head_json.pop();
        head_json.extend_from_slice(b",\"evaluated_at\":");
        let mut tail_json = serde_json::to_vec(tail)?;
        tail_json[0] = b',';
        Ok(Rendered {
            head: head_json,
            tail: tail_json,
        })
    }

    fn bytes(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// The response at `now`.
    fn respond(&self, now: DateTime<Utc>) -> Response {
        let at = serde_json::to_vec(&EvaluatedAt(now)).unwrap_or_default();
        let mut body = Vec::with_capacity(self.head.len() + at.len() + self.tail.len());
        body.extend_from_slice(&self.head);
        body.extend_from_slice(&at);
        body.extend_from_slice(&self.tail);
        ([(CONTENT_TYPE, "application/json")], body).into_response()
    }
}

/// Rendered scores, reused while nothing they were made of changed (see [`ScoreMemo`]).
static MEMO: LazyLock<ScoreMemo<Rendered>> = LazyLock::new(ScoreMemo::new);

async fn score(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    Params(query): Params<ScoreQuery>,
) -> Result<Response, ApiError> {
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let id = repo_in_path(&id)?;
    let now = state.now();
    let variant = |after: &Option<String>| format!("{:?} {:?}", query.framework, after);
    let after = resume_after(query.cursor.as_deref());
    let ticket = match &after {
        Ok(after) => match MEMO.get(store, org, id, &variant(after), now) {
            Ok(rendered) => return Ok(rendered.respond(now)),
            Err(ticket) => ticket,
        },
        // Answered below, after the checks that come first.
        Err(_) => None,
    };
    let (view, repo, latest) = scores::read_repo(store, org, id).await?;
    let repo = repo.ok_or_else(repo_not_found)?;
    if let Some(key) = &query.framework {
        enabled_framework(&view, key)?;
    }
    let after = after?;
    // A store that cannot tell a change without a read (DynamoDB): the memo by what was read.
    let ticket = match ticket {
        Some(ticket) => ticket,
        None => {
            let stamp = Stamp::of_read(&view, &repo, latest.as_deref());
            match MEMO.get_read(store, org, id, &variant(&after), stamp, now) {
                Ok(rendered) => return Ok(rendered.respond(now)),
                Err(ticket) => ticket,
            }
        }
    };
    let applying = view.applying(now);
    let excepting = match &latest {
        Some(scan) => scores::excepting(store, org, &applying, scan).await?,
        None => None,
    };
    let report = evaluate_repo(
        &view,
        latest.as_deref(),
        excepting.as_deref(),
        query.framework.as_deref(),
        now,
    );
    let frameworks = report.frameworks.iter().map(|(k, f)| (*k, f));
    let (page, next_cursor) = page_by_size(frameworks, after.as_deref(), RESPONSE_BUDGET)?;
    let frameworks: BTreeMap<String, Box<RawValue>> =
        page.into_iter().map(|(k, f)| (k.to_string(), f)).collect();
    let head = Head {
        repo_id: repo.repo_id,
        repo_name: &repo.name,
    };
    let tail = Tail {
        last_scan: latest.as_ref().map(|s| last_scan_text(&s.scanned_at)),
        scan_id: latest.as_ref().map(|s| &s.scan_id),
        total_issues: report.total_issues,
        executive_summary: &report.executive_summary,
        frameworks: &frameworks,
        next_cursor: &next_cursor,
    };
    let scanned_at = latest.as_ref().map(|s| s.scanned_at);
    let rendered = Rendered::new(&head, &tail).map_err(ApiError::internal)?;
    let response = rendered.respond(now);
    #[cfg(debug_assertions)]
    check_rendered(&rendered, now, &head, &tail);
    let bytes = rendered.bytes();
    // Held until an exception it applied ends or an attestation changes state.
    let until = [
        excepting.as_ref().and_then(|e| e.until),
        view.attestations_change_at(now),
    ]
    .into_iter()
    .flatten()
    .min();
    MEMO.put(ticket, scanned_at, until, now, Arc::new(rendered), bytes);
    Ok(response)
}

/// The rendered pieces joined are the JSON of the whole [`ScoreResponse`].
#[cfg(debug_assertions)]
fn check_rendered(rendered: &Rendered, now: DateTime<Utc>, head: &Head, tail: &Tail) {
    let whole = ScoreResponse {
        repo_id: head.repo_id,
        repo_name: head.repo_name.to_string(),
        evaluated_at: now,
        last_scan: tail.last_scan.clone(),
        scan_id: tail.scan_id.cloned(),
        total_issues: tail.total_issues,
        executive_summary: tail.executive_summary.clone(),
        frameworks: tail.frameworks.clone(),
        next_cursor: tail.next_cursor.clone(),
    };
    let mut joined = rendered.head.clone();
    joined.extend(serde_json::to_vec(&EvaluatedAt(now)).unwrap_or_default());
    joined.extend_from_slice(&rendered.tail);
    let expected = serde_json::to_vec(&whole).unwrap_or_default();
    debug_assert!(
        joined == expected,
        "rendered {} instead of {}",
        String::from_utf8_lossy(&joined),
        String::from_utf8_lossy(&expected)
    );
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
    /// Findings approved exceptions set aside at that point (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excepted_findings: Option<u64>,
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
            excepted_findings: p.excepted_findings,
        }
    }
}

#[derive(Serialize)]
pub struct Trend {
    pub repo_id: RepoId,
    pub framework: Option<String>,
    pub days: u32,
    pub points: Vec<TrendPointView>,
    /// The window held more points than one answer does: its oldest were left out.
    pub truncated: bool,
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
                ApiError::query(
                    "days",
                    format!("must be an integer from 1 to {MAX_TREND_DAYS}"),
                )
            })?,
    };
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let id = repo_in_path(&id)?;
    let from = state.now() - chrono::Duration::days(i64::from(days));
    // One Query of the repository's partition; with a framework, the org's view beside it.
    let (window, view) = match &query.framework {
        None => (trends::window(store, org, id, from).await?, None),
        Some(key) => {
            let (window, view) = tokio::try_join!(
                trends::window(store, org, id, from),
                OrgView::load_one(store, org, key),
            )?;
            (window, Some(view))
        }
    };
    let window = window.ok_or_else(repo_not_found)?;
    if let (Some(key), Some(view)) = (&query.framework, &view) {
        enabled_framework(view, key)?;
    }
    let framework = query.framework.as_deref();
    Ok(Json(Trend {
        repo_id: id,
        framework: query.framework.clone(),
        days,
        points: window
            .points
            .into_iter()
            .map(|p| TrendPointView::of(p, framework))
            .collect(),
        truncated: window.truncated,
    }))
}
