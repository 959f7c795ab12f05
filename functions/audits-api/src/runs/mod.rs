//! Audit runs: an audit's active rules, with their current thresholds, evaluated over records
//! the caller sends; the run and its findings stored together; the runs and findings read back.

pub mod input;
pub mod model;
pub(crate) mod store;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use compliance_domain::ids::Uuid;
use compliance_http::{page_args, ApiError, AppState, Caller, Contributor, Meta, Params, RawBody};
use compliance_packs::{Rule, RuleSeverity};
use compliance_services::metrics::{self, Unit};
use compliance_store::Cursor;
use compliance_store::StoreError;
use serde::{Deserialize, Serialize};

use crate::alerts::store::{self as alert_store, AuditHome, MAX_ALERTS_PER_RUN};
pub use crate::records::AuditSession;
use crate::records::{self, owner};
use crate::reviewers::{access, audit_not_found};
use chrono::{DateTime, Utc};
use compliance_packs::engine::Evaluation;
use compliance_services::audit_log::AuditContext;
use compliance_store::WriteOp;
use model::{Outcome, RecordFormat, RunSummary, StoredFinding};

/// At most this many findings of a run are stored (the most severe first); all are counted.
pub const MAX_STORED_FINDINGS: usize = 10_000;

fn run_not_found() -> ApiError {
    ApiError::NotFound("Run not found".into())
}

pub fn new_run_id() -> Uuid {
    Uuid::parse(&uuid::Uuid::now_v7().to_string()).expect("a UUID")
}

/// The caller's own audit (anyone else's is a 404, as is a malformed id).
pub async fn own_audit(
    state: &AppState,
    principal: &compliance_domain::identity::Principal,
    audit_id: &str,
) -> Result<AuditSession, ApiError> {
    let audit_id = Uuid::parse(audit_id).map_err(|_| audit_not_found())?;
    records::get_audit(
        state.store.as_ref(),
        &principal.org_id,
        &owner(principal),
        &audit_id,
    )
    .await?
    .ok_or_else(audit_not_found)
}

/// `POST /api/audits/{audit_id}/runs`.
pub async fn create(
    State(state): State<AppState>,
    Contributor(principal): Contributor,
    Meta(meta): Meta,
    Path(audit_id): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let audit = own_audit(&state, &principal, &audit_id).await?;
    // Decompressing up to 64 MiB is CPU work: off the async workers, as the reading is.
    let upload = compliance_services::tasks::blocking(move || input::read(&headers, &body))
        .await
        .map_err(ApiError::internal)??;
    let active = active_rules(&state, &principal, &audit).await?;
    let (format, input_bytes) = (upload.format, upload.bytes.len() as u64);
    let started_at = state.now();
    let evaluation = input::evaluate(
        audit.policy_type,
        active.clone(),
        upload,
        started_at,
        MAX_STORED_FINDINGS,
    )
    .await?;
    let run = Evaluated {
        run_id: new_run_id(),
        rules: &active,
        evaluation,
        format,
        input_bytes,
        started_at,
        finished_at: state.now(),
    };
    let ctx = state.audit(&principal, meta);
    let stored = store_run(&state, &ctx, &principal, &audit, run, Vec::new()).await?;
    Ok((StatusCode::CREATED, Json(stored)).into_response())
}

/// The audit's active rules, with their current thresholds (409 when none is active).
pub async fn active_rules(
    state: &AppState,
    principal: &compliance_domain::identity::Principal,
    audit: &AuditSession,
) -> Result<Vec<Rule>, ApiError> {
    let store = state.store.as_ref();
    let active: Vec<Rule> = records::rules(
        store,
        &principal.org_id,
        &owner(principal),
        &audit.policy_id,
    )
    .await?
    .into_iter()
    .filter(|r| r.is_active)
    .map(|r| r.rule)
    .collect();
    if active.is_empty() {
        return Err(ApiError::Conflict(format!(
            "The audit has no active rules: activate one with PATCH /api/policies/{}/rules/{{rule_id}}",
            audit.policy_id
        )));
    }
    Ok(active)
}

/// A run evaluated, to be stored.
pub struct Evaluated<'r> {
    pub run_id: Uuid,
    /// The rules as they ran (their thresholds are the run's).
    pub rules: &'r [Rule],
    pub evaluation: Evaluation,
    pub format: RecordFormat,
    pub input_bytes: u64,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

/// Stores the run, its findings and its `AUDIT_RUN_COMPLETED` entry in one write, with `also`
/// (an upload's completion) in the same write.
pub async fn store_run(
    state: &AppState,
    ctx: &AuditContext,
    principal: &compliance_domain::identity::Principal,
    audit: &AuditSession,
    run: Evaluated<'_>,
    also: Vec<WriteOp>,
) -> Result<RunSummary, ApiError> {
    let thresholds: Vec<Option<f64>> = run.rules.iter().map(|r| r.threshold).collect();
    let outcome = Outcome::of(&run.evaluation, &thresholds);
    let took = (run.finished_at - run.started_at).num_milliseconds().max(0);
    let records = outcome.records;
    let findings = StoredFinding::numbered(run.run_id.as_ref(), run.evaluation.findings);
    let summary = RunSummary {
        run_id: run.run_id,
        audit_id: audit.audit_id.clone(),
        policy_id: audit.policy_id.clone(),
        policy_type: audit.policy_type,
        started_at: run.started_at,
        finished_at: run.finished_at,
        format: run.format,
        input_bytes: run.input_bytes,
        outcome,
        findings_stored: 0,
    };
    let owner = owner(principal);
    let alerting: Vec<StoredFinding> = findings.iter().take(MAX_ALERTS_PER_RUN).cloned().collect();
    let new = store::NewRun {
        org: &principal.org_id,
        owner: &owner,
        summary,
        findings,
        also,
    };
    let stored = store::create(state.store.as_ref(), ctx, new)
        .await
        .map_err(|e| ApiError::Failed("Failed to store the run", e.to_string()))?;
    metrics::emit(
        &[],
        &[
            ("AuditRunRecords", Unit::Count, records as f64),
            ("AuditRunDuration", Unit::Milliseconds, took as f64),
        ],
        serde_json::json!({"policy_type": audit.policy_type}),
    );
    // The run stands; its alerts follow. A stop in between is caught up when alerts are read.
    let home = AuditHome {
        org: principal.org_id.clone(),
        owner,
        audit_id: audit.audit_id.clone(),
    };
    let kept = alerting
        .into_iter()
        .take(stored.findings_stored as usize)
        .collect();
    if let Err(e) =
        alert_store::take_in_run(state.store.clone(), &home, &system_actor(), &stored, kept).await
    {
        tracing::warn!(run_id = %stored.run_id, error = %e, "alerts not taken in yet");
    }
    Ok(stored)
}

/// Who opens and updates alerts from runs' findings.
fn system_actor() -> compliance_services::audit_log::Actor {
    compliance_services::audit_log::Actor {
        kind: compliance_domain::identity::ActorKind::System,
        id: "alerts".into(),
        email: None,
    }
}

/// Takes a stored run's findings into its audit's alerts (a catch-up after a stop).
pub(crate) async fn take_in_alerts(
    state: &AppState,
    home: &AuditHome,
    run_id: &Uuid,
) -> Result<(), ApiError> {
    let store = state.store.as_ref();
    let run = store::get(store, &home.org, &home.owner, &home.audit_id, run_id)
        .await?
        .ok_or_else(run_not_found)?;
    let (findings, _) =
        store::findings(store, home, &run, 0, MAX_ALERTS_PER_RUN, |_| true, None).await?;
    alert_store::take_in_run(
        state.store.clone(),
        home,
        &system_actor(),
        &run.summary,
        findings,
    )
    .await?;
    Ok(())
}

#[derive(Serialize)]
pub struct RunList {
    pub runs: Vec<RunSummary>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunPage {
    limit: Option<u32>,
    cursor: Option<String>,
}

/// `GET /api/audits/{audit_id}/runs`: newest first.
pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(audit_id): Path<String>,
    Params(page): Params<RunPage>,
) -> Result<Json<RunList>, ApiError> {
    let (limit, cursor) = page_args(page.limit, page.cursor.as_deref())?;
    let store = state.store.as_ref();
    // Runs in the caller's own partition of the audit prove the caller created it (audits are
    // never deleted): one Query. Otherwise the access check first (a reviewer's runs are in the
    // creator's partition; an unknown audit is a 404).
    let mine = match Uuid::parse(&audit_id) {
        Ok(id) => {
            let org = &principal.org_id;
            store::list(store, org, &owner(&principal), &id, limit, cursor.clone()).await
        }
        Err(_) => Ok((Vec::new(), None)),
    };
    let (runs, next) = match mine {
        Ok(mine) if !mine.0.is_empty() => mine,
        // Nothing of the caller's own (or a cursor it refused): the access check answers
        // first, so an unknown audit is a 404 whatever the cursor.
        Ok(_) | Err(StoreError::InvalidCursor) => {
            let home = access(&state, &principal, &audit_id).await?.home;
            let (org, owner, id) = (&home.org, &home.owner, &home.audit_id);
            store::list(store, org, owner, id, limit, cursor).await?
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Json(RunList {
        runs,
        next_cursor: next.map(|c| c.encode()),
    }))
}

pub(crate) async fn own_run(
    state: &AppState,
    principal: &compliance_domain::identity::Principal,
    audit_id: &str,
    run_id: &str,
) -> Result<(AuditHome, store::StoredRun), ApiError> {
    let (home, run, _) = run_with_chunk(state, principal, audit_id, run_id, None).await?;
    Ok((home, run))
}

/// The run as [`own_run`] reads it, with its findings chunk `chunk` when the caller created
/// the audit: then one request (the audit, the run and the chunk); a reviewer's access is
/// looked up first (see [`access`]).
async fn run_with_chunk(
    state: &AppState,
    principal: &compliance_domain::identity::Principal,
    audit_id: &str,
    run_id: &str,
    chunk: Option<usize>,
) -> Result<
    (
        AuditHome,
        store::StoredRun,
        Option<(usize, store::FindingsChunk)>,
    ),
    ApiError,
> {
    if let (Ok(audit), Ok(run)) = (Uuid::parse(audit_id), Uuid::parse(run_id)) {
        let (org, me) = (&principal.org_id, owner(principal));
        let read = store::read_run(state.store.as_ref(), org, &me, &audit, &run, chunk).await?;
        if read.audit_here {
            let run = read.run.ok_or_else(run_not_found)?;
            let home = AuditHome {
                org: org.clone(),
                owner: me,
                audit_id: audit,
            };
            return Ok((home, run, read.chunk));
        }
    }
    let home = access(state, principal, audit_id).await?.home;
    let run_id = Uuid::parse(run_id).map_err(|_| run_not_found())?;
    let run = store::get(
        state.store.as_ref(),
        &home.org,
        &home.owner,
        &home.audit_id,
        &run_id,
    )
    .await?
    .ok_or_else(run_not_found)?;
    Ok((home, run, None))
}

/// `GET /api/audits/{audit_id}/runs/{run_id}`.
pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((audit_id, run_id)): Path<(String, String)>,
) -> Result<Json<RunSummary>, ApiError> {
    let (_, run) = own_run(&state, &principal, &audit_id, &run_id).await?;
    Ok(Json(run.summary))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingsQuery {
    rule_id: Option<String>,
    severity: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize)]
pub struct FindingsPage {
    pub run_id: Uuid,
    pub findings: Vec<StoredFinding>,
    pub findings_total: u64,
    pub findings_stored: u64,
    pub next_cursor: Option<String>,
}

/// `GET /api/audits/{audit_id}/runs/{run_id}/findings`: the stored findings in order (most
/// severe first), filtered by rule and severity.
pub async fn findings(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((audit_id, run_id)): Path<(String, String)>,
    Params(query): Params<FindingsQuery>,
) -> Result<Json<FindingsPage>, ApiError> {
    let (limit, cursor) = page_args(query.limit, query.cursor.as_deref())?;
    let (from, chunk) = match cursor {
        None => (0, 0),
        Some(c) => finding_index(&c).ok_or_else(|| ApiError::query("cursor", "invalid cursor"))?,
    };
    let severity = query
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
    let (home, run, read) =
        run_with_chunk(&state, &principal, &audit_id, &run_id, Some(chunk)).await?;
    let summary = &run.summary;
    if let Some(rule_id) = &query.rule_id {
        if !summary
            .outcome
            .rules
            .iter()
            .any(|r| &r.outcome.rule_id == rule_id)
        {
            let ids: Vec<&str> = summary
                .outcome
                .rules
                .iter()
                .map(|r| r.outcome.rule_id.as_str())
                .collect();
            return Err(ApiError::query(
                "rule_id",
                format!("Not a rule of this run. Expected one of {}", ids.join(", ")),
            ));
        }
    }
    let (findings, next) = store::findings(
        state.store.as_ref(),
        &home,
        &run,
        from,
        limit,
        |f| {
            query
                .rule_id
                .as_ref()
                .is_none_or(|r| &f.finding.rule_id == r)
                && severity.is_none_or(|s| f.finding.severity == s)
        },
        read,
    )
    .await?;
    Ok(Json(FindingsPage {
        run_id: summary.run_id.clone(),
        findings,
        findings_total: summary.outcome.findings_total,
        findings_stored: summary.findings_stored,
        next_cursor: next.map(|i| {
            let chunk = store::chunk_of(&run, i);
            Cursor::from_sort_key(format!("finding:{i}@{chunk}")).encode()
        }),
    }))
}

/// The index of the next finding, and the chunk that holds it (read with the run; a cursor
/// without it, or with a wrong one, costs one more read, never a wrong page).
fn finding_index(cursor: &Cursor) -> Option<(usize, usize)> {
    let at = cursor.sort_key().strip_prefix("finding:")?;
    match at.split_once('@') {
        Some((index, chunk)) => Some((index.parse().ok()?, chunk.parse().ok()?)),
        None => Some((at.parse().ok()?, 0)),
    }
}
