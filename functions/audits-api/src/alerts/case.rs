//! The case file of an alert: everything an examiner needs in one document (the alert, every
//! occurrence with the records' ids and the values that triggered it, the rule with its policy
//! section and excerpt, and the trail of every step), and a trail that proves itself: each
//! entry's `sha256` is SHA-256 over the previous entry's `sha256` (64 zeros for the first) and
//! the entry's `payload`, so an edit or a removal anywhere breaks the chain (docs/alerts.md).

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use compliance_domain::csv::CsvWriter;
use compliance_http::{ApiError, AppState, Caller};
use serde::Serialize;

use super::model::{Alert, Occurrence, GENESIS};
use super::store::{self, TrailEntry};
use super::AlertView;
use crate::records;
use crate::reviewers::access;

/// How to check the trail with the document alone.
pub const VERIFY: &str =
    "For each trail entry in order: prev_sha256 equals the previous entry's sha256 \
(64 zeros for the first), and sha256 equals the lowercase hex SHA-256 of the UTF-8 bytes of \
prev_sha256 followed by payload. The last entry's sha256 is trail_sha256.";

#[derive(Serialize)]
pub struct CaseRule {
    pub rule_id: String,
    pub name: String,
    pub description: String,
    pub severity: compliance_packs::RuleSeverity,
    pub category: String,
    pub policy_section: String,
    pub policy_excerpt: String,
    #[serde(serialize_with = "compliance_packs::serialize_threshold")]
    pub threshold: Option<f64>,
}

#[derive(Serialize)]
pub struct CaseFile {
    pub audit_id: compliance_domain::ids::Uuid,
    pub audit_name: String,
    pub policy_type: compliance_packs::PolicyType,
    pub alert: AlertView,
    /// The rule as the audit's policy holds it now (its threshold may have changed since an
    /// occurrence: each occurrence names the threshold it ran with).
    pub rule: Option<CaseRule>,
    /// Oldest first.
    pub occurrences: Vec<Occurrence>,
    pub trail: Vec<TrailEntry>,
    pub genesis_sha256: &'static str,
    pub trail_sha256: String,
    pub verification: &'static str,
    #[serde(with = "compliance_domain::time::micros")]
    pub generated_at: DateTime<Utc>,
}

/// `GET /api/audits/{audit_id}/alerts/{alert_id}/case`.
pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((audit_id, alert_id)): Path<(String, String)>,
) -> Result<Json<CaseFile>, ApiError> {
    let access = access(&state, &principal, &audit_id).await?;
    let store = state.store.as_ref();
    let home = &access.home;
    let alert = store::get(store, home, &alert_id)
        .await?
        .ok_or_else(super::alert_not_found)?;
    let (occurrences, trail, rules) = tokio::try_join!(
        store::occurrences(store, home, &alert_id),
        store::trail(store, home, &alert_id, alert.trail_length),
        records::rules(store, &home.org, &home.owner, &access.audit.policy_id),
    )?;
    let rule = rules
        .into_iter()
        .find(|r| r.rule.rule_id == alert.rule_id)
        .map(|r| CaseRule {
            rule_id: r.rule.rule_id,
            name: r.rule.name,
            description: r.rule.description,
            severity: r.rule.severity,
            category: r.rule.category,
            policy_section: r.rule.policy_section,
            policy_excerpt: r.rule.policy_excerpt,
            threshold: r.rule.threshold,
        });
    let now = state.now();
    Ok(Json(CaseFile {
        audit_id: access.audit.audit_id.clone(),
        audit_name: access.audit.name.clone(),
        policy_type: access.audit.policy_type,
        trail_sha256: alert.trail_sha256.clone(),
        alert: AlertView::of(alert, now, &principal),
        rule,
        occurrences,
        trail,
        genesis_sha256: GENESIS,
        verification: VERIFY,
        generated_at: now,
    }))
}

/// The queue's columns, one row per alert.
pub const QUEUE_CSV_HEADER: [&str; 18] = [
    "alert_id",
    "rule_id",
    "severity",
    "category",
    "group_value",
    "status",
    "outcome",
    "assignee",
    "first_seen_at",
    "last_seen_at",
    "occurrences",
    "snoozed_occurrences",
    "recommendation",
    "decision_due_at",
    "decision_overdue",
    "decision",
    "report_reference",
    "trail_sha256",
];

/// The alerts as CSV (the product's one writer: text quoted, formulas neutralised).
pub fn queue_csv(
    audit_id: &compliance_domain::ids::Uuid,
    alerts: &[Alert],
    now: DateTime<Utc>,
) -> Response {
    use compliance_domain::time::rfc3339;
    let mut csv = CsvWriter::with_capacity(300 * (alerts.len() + 1));
    csv.text_row(QUEUE_CSV_HEADER);
    for a in alerts {
        let rec = a.recommendation.as_ref();
        let dec = a.decision.as_ref();
        csv.text(&a.alert_id)
            .text(&a.rule_id)
            .text(a.severity.as_str())
            .text(&a.category)
            .text(&a.group_value)
            .text(a.status.as_str())
            .optional_text(a.outcome.map(|o| o.as_str()))
            .optional_text(a.assignee.as_deref())
            .text(&rfc3339(a.first_seen_at))
            .text(&rfc3339(a.last_seen_at))
            .number(a.occurrences)
            .number(a.snoozed_occurrences)
            .optional_text(rec.map(|r| r.recommendation.as_str()))
            .optional_text(rec.map(|r| rfc3339(r.decision_due_at)).as_deref())
            .text(if a.decision_overdue(now) { "yes" } else { "no" })
            .optional_text(dec.map(|d| d.decision.as_str()))
            .optional_text(dec.and_then(|d| d.reference.as_deref()))
            .text(&a.trail_sha256)
            .end_row();
    }
    let mut response = csv.finish().into_response();
    let h = response.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"alerts-{audit_id}.csv\""))
    {
        h.insert(CONTENT_DISPOSITION, v);
    }
    response
}
