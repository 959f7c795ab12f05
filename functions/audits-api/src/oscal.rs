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

use std::collections::{BTreeMap, HashSet};

use crate::alerts::model::{alert_id, AlertOutcome, AlertStatus};
use crate::alerts::store::{self as alert_store, AuditHome};
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
    let (rules, org, alerts) = tokio::try_join!(
        records::rules(store, org_id, &home.owner, &audit.policy_id),
        orgs::get(store, org_id),
        alert_store::all(store, &home),
    )?;
    let false_positives = false_positives(&state, &home, &run, &alerts).await?;
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
                false_positives: false_positives
                    .get(r.outcome.rule_id.as_str())
                    .copied()
                    .unwrap_or(0),
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

/// By rule, the run's stored findings whose alert is closed as a false positive.
async fn false_positives(
    state: &AppState,
    home: &AuditHome,
    run: &crate::runs::store::StoredRun,
    alerts: &[crate::alerts::model::Alert],
) -> Result<BTreeMap<String, u64>, ApiError> {
    let dismissed: HashSet<&str> = alerts
        .iter()
        .filter(|a| {
            a.status == AlertStatus::Closed && a.outcome == Some(AlertOutcome::FalsePositive)
        })
        .map(|a| a.alert_id.as_str())
        .collect();
    let mut out = BTreeMap::new();
    if dismissed.is_empty() {
        return Ok(out);
    }
    let store = state.store.as_ref();
    let (findings, _) = crate::runs::store::findings(
        store,
        home,
        run,
        0,
        usize::MAX,
        |f| dismissed.contains(alert_id(&f.finding).as_str()),
        None,
    )
    .await?;
    for f in findings {
        *out.entry(f.finding.rule_id).or_insert(0) += 1;
    }
    Ok(out)
}
