//! `GET /api/alerts/summary`: the org's alert queue in numbers, over every audit that has
//! alerts (whoever created it: counts only, nothing of the audits themselves).

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use compliance_http::{ApiError, AppState, Caller};
use serde::Serialize;

use super::model::{Alert, AlertStatus};
use super::store;

#[derive(Debug, Default, Serialize)]
pub struct QueueCounts {
    /// Audits that have alerts.
    pub audits: u32,
    pub open: u32,
    pub investigating: u32,
    pub closed: u32,
    /// Recommendations waiting for their decision (overdue ones included).
    pub awaiting_decision: u32,
    /// Of those, past their due date.
    pub decisions_overdue: u32,
    /// When the oldest alert not closed was first seen (absent when none).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "compliance_domain::time::micros::option::serialize"
    )]
    pub oldest_open_since: Option<DateTime<Utc>>,
}

impl QueueCounts {
    fn add(&mut self, a: &Alert, now: DateTime<Utc>) {
        match a.status {
            AlertStatus::Open => self.open += 1,
            AlertStatus::Investigating => self.investigating += 1,
            AlertStatus::Closed => self.closed += 1,
        }
        if a.status != AlertStatus::Closed {
            let since = self
                .oldest_open_since
                .map_or(a.first_seen_at, |t| t.min(a.first_seen_at));
            self.oldest_open_since = Some(since);
        }
        if a.recommendation.is_some() && a.decision.is_none() {
            self.awaiting_decision += 1;
        }
        if a.decision_overdue(now) {
            self.decisions_overdue += 1;
        }
    }
}

/// Any role of the org.
pub async fn summary(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<QueueCounts>, ApiError> {
    let store = state.store.as_ref();
    let now = state.now();
    let mut counts = QueueCounts::default();
    for home in store::audits_with_alerts(store, &principal.org_id).await? {
        counts.audits += 1;
        for alert in store::all(store, &home).await? {
            counts.add(&alert, now);
        }
    }
    Ok(Json(counts))
}
