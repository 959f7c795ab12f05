//! `GET /api/compliance/summary`: the org-wide view. A page of the org's repositories (by id),
//! each with its overall score, posture, latest scan and worst framework, scored exactly as
//! `GET /api/compliance/score/{repo_id}` scores it; and per enabled framework (and overall) the
//! average and the distribution over the page's repositories, with the sums that let a client
//! combine pages exactly. Reads: see `compliance_services::summary`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use compliance_http::{page_args, ApiError, AppState, Caller, PageParams, Params};
use compliance_services::attestations::StateCounts;
use compliance_services::scores::{self, score_repo};
use compliance_services::summary::{self, Aggregate, FrameworkAggregate, RepoLatest, RepoSummary};
use serde::Serialize;

#[derive(Serialize)]
pub struct Summary {
    #[serde(with = "compliance_domain::time::micros")]
    pub evaluated_at: DateTime<Utc>,
    /// The page's repositories, by id.
    pub repos: Vec<RepoSummary>,
    /// What `overall` and `frameworks` cover: the repositories of this page.
    pub page_repos: u32,
    /// Repositories of the page without a scan yet.
    pub unscanned: u32,
    /// The overall scores of the page's repositories.
    pub overall: Aggregate,
    /// Every enabled framework, by key.
    pub frameworks: BTreeMap<String, FrameworkAggregate>,
    pub next_cursor: Option<String>,
    /// The org's attestations by state (of every page), and the soonest due.
    pub attestations: StateCounts,
}

pub async fn summary(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Params(page): Params<PageParams>,
) -> Result<Json<Summary>, ApiError> {
    let (limit, cursor) = page_args(page.limit, page.cursor.as_deref())?;
    let org = &principal.org_id;
    let now = state.now();
    let store = state.store.as_ref();
    let (view, entries, next) = summary::page(state.store.clone(), org, limit, cursor).await?;
    let applying = view.applying(now);
    let mut reports = Vec::with_capacity(entries.len());
    for e in &entries {
        let e: &RepoLatest = e;
        let excepting = match &e.scan {
            Some(scan) => scores::excepting(store, org, &applying, scan).await?,
            None => None,
        };
        reports.push(score_repo(
            &view,
            e.scan.as_deref(),
            excepting.as_deref(),
            None,
            now,
        ));
    }
    let enabled = view
        .frameworks
        .iter()
        .filter(|f| view.enabled(f))
        .map(|f| (f.key.as_str(), f.name.as_str()));
    let aggregates = summary::aggregate(
        enabled,
        entries
            .iter()
            .zip(&reports)
            .map(|(e, r)| (e.scan.is_some(), r)),
    );
    Ok(Json(Summary {
        evaluated_at: now,
        repos: entries
            .iter()
            .zip(&reports)
            .map(|(e, r)| summary::repo_summary(e, r))
            .collect(),
        page_repos: entries.len() as u32,
        unscanned: aggregates.unscanned,
        overall: aggregates.overall,
        frameworks: aggregates.frameworks,
        next_cursor: next.map(|c| c.encode()),
        attestations: StateCounts::of(&view.attestations, now),
    }))
}
