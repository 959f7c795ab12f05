//! `GET /api/compliance/score/{repo_id}/oscal`: the repository's latest evaluation (the one the
//! score endpoint answers) as an OSCAL 1.1.3 assessment-results document, for GRC tools.

use axum::extract::{Path, State};
use axum::Json;
use compliance_http::ids::{repo_in_path, repo_not_found};
use compliance_http::{ApiError, AppState, Caller, Params};
use compliance_oscal::model::Document;
use compliance_oscal::scores::{
    repo_assessment, AttestationInput, ExceptionEvidence, FrameworkInput, RepoEvaluation,
    ScanEvidence,
};
use compliance_oscal::Org;
use compliance_services::audit_log::Actor;
use compliance_services::exceptions::{Exception, Scope};
use compliance_services::scores::{self, score_repo};
use serde::Deserialize;

/// The operation takes no query parameter: any is a 400, as everywhere.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

pub async fn assessment_results(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    Params(_): Params<NoQuery>,
) -> Result<Json<Document>, ApiError> {
    let store = state.store.as_ref();
    let org_id = &principal.org_id;
    let id = repo_in_path(&id)?;
    let (view, repo, latest) = scores::read_repo(store, org_id, id).await?;
    let repo = repo.ok_or_else(repo_not_found)?;
    let org = view.org.clone();
    let now = state.now();
    let applying = view.applying(now);
    let excepting = match &latest {
        Some(scan) => scores::excepting(store, org_id, &applying, scan).await?,
        None => None,
    };
    let report = score_repo(&view, latest.as_deref(), excepting.as_deref(), None, now);
    let exceptions: Vec<ExceptionEvidence> = match (&latest, &excepting) {
        (Some(scan), Some(excepting)) => applying
            .iter()
            .filter(|e| e.repo_id.is_none_or(|r| r == scan.repo_id))
            .map(|e| {
                evidence(
                    e,
                    scores::exception_controls(&view, scan, &excepting.keys, e),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let frameworks = view
        .frameworks
        .iter()
        .filter(|f| view.enabled(f))
        .map(|f| FrameworkInput {
            framework: f,
            justifications: view.settings.justifications(&f.key),
        })
        .collect();
    let attestations = view
        .attestations
        .iter()
        .filter(|a| {
            view.find(a.framework.as_str())
                .is_some_and(|f| view.enabled(f))
        })
        .map(|a| AttestationInput {
            framework: a.framework.as_str(),
            control_id: &a.control_id,
            statement: &a.statement,
            owner: &a.owner,
            review_interval: a.review_interval.as_str(),
            state: a.state_at(now).as_str(),
            effective_at: a.effective_at,
            due_at: a.due_at,
            recorded_by: who(&a.recorded_by),
            version: a.version,
            file_sha256: a.file.as_ref().map(|f| f.sha256.as_str()),
        })
        .collect();
    let evaluation = RepoEvaluation {
        org: Org {
            id: org_id.as_str(),
            name: &org.name,
        },
        repo_id: repo.repo_id.get(),
        repo_name: &repo.name,
        scan: latest.as_ref().map(|s| ScanEvidence {
            scan_id: s.scan_id.as_str(),
            scanned_at: s.scanned_at,
            summary: &s.summary,
        }),
        frameworks,
        report: &report,
        evaluated_at: now,
        exceptions,
        attestations,
    };
    Ok(Json(repo_assessment(&evaluation)))
}

/// A principal as the export names it (`api_key 9f…`, `user alice`).
fn who(a: &Actor) -> String {
    format!("{} {}", a.kind.as_str(), a.id)
}

/// An applying exception as the export shows it (approved: it applies, so it has a decision).
fn evidence(e: &Exception, controls: Vec<(String, String)>) -> ExceptionEvidence<'_> {
    let scope = match &e.scope {
        Scope::Fingerprints { fingerprints } => {
            format!("{} finding(s) by fingerprint", fingerprints.len())
        }
        Scope::Rule {
            rule_id,
            path: Some(path),
        } => format!("rule {rule_id} in {path}"),
        Scope::Rule {
            rule_id,
            path: None,
        } => format!("rule {rule_id}"),
        Scope::Cwe { cwe } => format!("CWE-{cwe}"),
    };
    ExceptionEvidence {
        exception_id: e.exception_id.as_str(),
        kind: e.kind.as_str(),
        scope,
        justification: &e.justification,
        expires_at: e.expires_at,
        requested_by: who(&e.requested_by),
        requested_at: e.requested_at,
        approved_by: e
            .decided_by
            .as_ref()
            .map_or_else(|| "unknown".to_string(), who),
        approved_at: e.decided_at.unwrap_or(e.requested_at),
        controls,
    }
}
