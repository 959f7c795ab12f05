//! `GET /api/audits/{audit_id}/runs/{run_id}/oscal`: an audit run as an OSCAL 1.1.3
//! assessment-results document (each rule of the pack a control; one observation and one
//! finding per rule that ran; the policy's other rules excluded as not active).

use axum::extract::{Path, State};
use axum::Json;
use compliance_http::{ApiError, AppState, Caller};
use compliance_oscal::model::Document;
use compliance_oscal::runs::{run_assessment, RuleRun, RunEvaluation};
use compliance_oscal::Org;
use compliance_services::orgs;

use crate::records;
use crate::reviewers::access;
use crate::runs::own_run;

pub async fn assessment_results(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((audit_id, run_id)): Path<(String, String)>,
) -> Result<Json<Document>, ApiError> {
    let store = state.store.as_ref();
    let org_id = &principal.org_id;
    let audit = access(&state, &principal, &audit_id).await?.audit;
    let (home, run) = own_run(&state, &principal, &audit_id, &run_id).await?;
    let (rules, org) = tokio::try_join!(
        records::rules(store, org_id, &home.owner, &audit.policy_id),
        orgs::get(store, org_id),
    )?;
    let org = org.ok_or_else(|| ApiError::Internal(format!("org {org_id} has no profile")))?;
    let summary = &run.summary;
    let ran = |id: &str| {
        summary
            .outcome
            .rules
            .iter()
            .any(|r| r.outcome.rule_id == id)
    };
    let section = |id: &str| {
        rules
            .iter()
            .find(|r| r.rule.rule_id == id)
            .map(|r| r.rule.policy_section.as_str())
    };
    let evaluation = RunEvaluation {
        org: Org {
            id: org_id.as_str(),
            name: &org.name,
        },
        audit_id: audit.audit_id.as_ref(),
        audit_name: &audit.name,
        run_id: summary.run_id.as_ref(),
        policy_type: summary.policy_type,
        started_at: summary.started_at,
        finished_at: summary.finished_at,
        records: summary.outcome.records,
        findings_total: summary.outcome.findings_total,
        rules: summary
            .outcome
            .rules
            .iter()
            .map(|r| RuleRun {
                outcome: &r.outcome,
                threshold: r.threshold,
                policy_section: section(&r.outcome.rule_id),
            })
            .collect(),
        inactive: rules
            .iter()
            .map(|r| r.rule.rule_id.as_str())
            .filter(|id| !ran(id))
            .collect(),
        generated_at: state.now(),
    };
    Ok(Json(run_assessment(&evaluation)))
}
