//! Alert triage: each run's findings open or update alerts, one per (rule, group value,
//! window); the creator and the reviewers work them (`open → investigating → closed`, an
//! assignee, comments, snoozes); a confirmed risk gets the investigator's recommendation and a
//! second principal's decision; every step is in the alert's hash-chained trail and the audit
//! log.

pub mod case;
pub mod model;
pub mod queue;
pub mod store;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use compliance_domain::identity::Principal;
use compliance_http::body::{FromBody, Object, Text};
use compliance_http::negotiate::wants_csv;
use compliance_http::{page_args, ApiError, AppState, Caller, Contributor, JsonBody, Meta, Params};
use compliance_packs::RuleSeverity;
use compliance_services::audit_log::{Actor, AuditAction};
use compliance_services::compliance_settings;
use compliance_store::Cursor;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::records;
use crate::reviewers::{access, AuditAccess};
use crate::runs;
use model::{
    Alert, AlertOutcome, AlertStatus, Decision, DecisionKind, Occurrence, Recommendation,
    RecommendationKind,
};
use store::{Changed, Snooze, TrailEntry};

/// The longest snooze.
pub const MAX_SNOOZE_DAYS: i64 = 180;
const MAX_REASON: usize = 2_000;
const MAX_NARRATIVE: usize = 10_000;
const MAX_COMMENT: usize = 4_000;
const MAX_NAME: usize = 200;

pub(crate) fn alert_not_found() -> ApiError {
    ApiError::NotFound("Alert not found".into())
}

/// The audit's alerts, after taking in any run whose findings were not (a stop in between).
async fn caught_up(state: &AppState, access: &AuditAccess) -> Result<(), ApiError> {
    let store = state.store.as_ref();
    for run_id in store::pending_runs(store, &access.home).await? {
        // A run that cannot be taken in now stays pending for the next read; the queue answers
        // with what it has.
        if let Err(e) = runs::take_in_alerts(state, &access.home, &run_id).await {
            tracing::warn!(run_id = %run_id, error = ?e, "alerts of a run not taken in yet");
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertFilters {
    status: Option<AlertStatus>,
    assignee: Option<String>,
    rule_id: Option<String>,
    severity: Option<RuleSeverity>,
    group_value: Option<String>,
    /// Only alerts first seen at least this many days ago.
    min_age_days: Option<u32>,
    /// Only alerts whose decision is overdue.
    decision_overdue: Option<bool>,
    limit: Option<u32>,
    cursor: Option<String>,
}

#[derive(Serialize)]
pub struct AlertView {
    #[serde(flatten)]
    pub alert: Alert,
    /// A recommendation waits for its decision past the due date.
    pub decision_overdue: bool,
    /// Whether the caller may decide its recommendation now (admin and above, not the
    /// principal who recommended, not decided yet).
    pub can_decide: bool,
}

impl AlertView {
    fn of(alert: Alert, now: DateTime<Utc>, caller: &Principal) -> AlertView {
        let can_decide = caller.is_admin()
            && alert.decision.is_none()
            && alert
                .recommendation
                .as_ref()
                .is_some_and(|r| !(r.by.kind == caller.kind && r.by.id == caller.actor_id));
        AlertView {
            decision_overdue: alert.decision_overdue(now),
            can_decide,
            alert,
        }
    }
}

#[derive(Serialize)]
pub struct AlertPage {
    pub alerts: Vec<AlertView>,
    pub next_cursor: Option<String>,
}

/// `GET /api/audits/{audit_id}/alerts`: by alert id, filtered; a page may hold fewer than
/// `limit` alerts when some were filtered out (follow `next_cursor`). With `Accept: text/csv`,
/// the whole queue as filtered, oldest first.
pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(audit_id): Path<String>,
    Params(q): Params<AlertFilters>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (limit, cursor) = page_args(q.limit, q.cursor.as_deref())?;
    if q.min_age_days.is_some_and(|d| d > 3650) {
        return Err(ApiError::query("min_age_days", "at most 3650"));
    }
    let access = access(&state, &principal, &audit_id).await?;
    caught_up(&state, &access).await?;
    let now = state.now();
    let keep = |a: &Alert| {
        q.status.is_none_or(|s| a.status == s)
            && q.assignee
                .as_ref()
                .is_none_or(|x| a.assignee.as_ref() == Some(x))
            && q.rule_id.as_ref().is_none_or(|r| &a.rule_id == r)
            && q.severity.is_none_or(|s| a.severity == s)
            && q.group_value.as_ref().is_none_or(|g| &a.group_value == g)
            && q.min_age_days
                .is_none_or(|d| a.first_seen_at <= now - Duration::days(i64::from(d)))
            && q.decision_overdue
                .is_none_or(|o| a.decision_overdue(now) == o)
    };
    if wants_csv(&headers) {
        // The whole queue as filtered, for a spreadsheet: no paging.
        let mut all = store::all(state.store.as_ref(), &access.home).await?;
        all.retain(|a| keep(a));
        all.sort_by(|a, b| (a.first_seen_at, &a.alert_id).cmp(&(b.first_seen_at, &b.alert_id)));
        return Ok(case::queue_csv(&access.home.audit_id, &all, now));
    }
    let (alerts, next) =
        store::page(state.store.as_ref(), &access.home, limit, cursor, keep).await?;
    Ok(Json(AlertPage {
        alerts: alerts
            .into_iter()
            .map(|a| AlertView::of(a, now, &principal))
            .collect(),
        next_cursor: next.map(|c: Cursor| c.encode()),
    })
    .into_response())
}

#[derive(Serialize)]
pub struct AlertDetail {
    pub alert: AlertView,
    /// Oldest first.
    pub occurrences: Vec<Occurrence>,
    /// Every step, oldest first, hash-chained.
    pub trail: Vec<TrailEntry>,
}

/// `GET /api/audits/{audit_id}/alerts/{alert_id}`: with its occurrences and trail.
pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((audit_id, alert_id)): Path<(String, String)>,
) -> Result<Json<AlertDetail>, ApiError> {
    let access = access(&state, &principal, &audit_id).await?;
    let store = state.store.as_ref();
    let home = &access.home;
    let alert = store::get(store, home, &alert_id)
        .await?
        .ok_or_else(alert_not_found)?;
    let (occurrences, trail) = tokio::try_join!(
        store::occurrences(store, home, &alert_id),
        store::trail(store, home, &alert_id, alert.trail_length),
    )?;
    Ok(Json(AlertDetail {
        alert: AlertView::of(alert, state.now(), &principal),
        occurrences,
        trail,
    }))
}

/// A person's step on one alert: who (member and above), from where, and which alert. Every
/// step handler takes it, then its own body.
pub struct AlertStep {
    state: AppState,
    principal: Principal,
    meta: compliance_services::audit_log::RequestMeta,
    audit_id: String,
    alert_id: String,
}

impl FromRequestParts<AppState> for AlertStep {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let Contributor(principal) = Contributor::from_request_parts(parts, state).await?;
        let Meta(meta) = Meta::from_request_parts(parts, state).await?;
        let Path((audit_id, alert_id)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| alert_not_found())?;
        Ok(AlertStep {
            state: state.clone(),
            principal,
            meta,
            audit_id,
            alert_id,
        })
    }
}

impl AlertStep {
    /// Runs the change (audited as `action`) and answers the alert after it.
    async fn apply(
        self,
        action: AuditAction,
        change: impl FnOnce(
            &mut Alert,
            &Actor,
            DateTime<Utc>,
        ) -> Result<(&'static str, Value), ApiError>,
    ) -> Result<Json<AlertView>, ApiError> {
        let access = access(&self.state, &self.principal, &self.audit_id).await?;
        let ctx = self.state.audit(&self.principal, self.meta);
        let (actor, at) = (ctx.actor.clone(), ctx.at);
        let store = self.state.store.as_ref();
        let done = store::change(store, &access.home, &ctx, &self.alert_id, action, |a| {
            change(a, &actor, at)
        })
        .await??;
        match done {
            Changed::Done(a) => Ok(Json(AlertView::of(*a, at, &self.principal))),
            Changed::NotFound => Err(alert_not_found()),
            Changed::Conflict => Err(ApiError::Conflict(
                "The alert changed meanwhile: read it and try again".into(),
            )),
        }
    }
}

/// `{"to": "investigating" | "closed" | "open", "outcome"?, "reason"?}`.
pub struct Transition {
    to: AlertStatus,
    outcome: Option<AlertOutcome>,
    reason: Option<String>,
}

impl FromBody for Transition {
    fn from_body(body: &mut Object) -> Option<Self> {
        let to = body.required("to", |f| f.label());
        let outcome = body.optional("outcome", |f| f.label());
        let reason = body.optional("reason", |f| {
            f.text(Text::chars(1, MAX_REASON).with_newlines())
        });
        Some(Transition {
            to: to?,
            outcome: outcome?,
            reason: reason?,
        })
    }
}

/// `POST …/alerts/{alert_id}/transitions` (member and above): closing needs an outcome and a
/// reason; reopening a reason; an outcome only when closing.
pub async fn transition(
    step: AlertStep,
    JsonBody(body): JsonBody<Transition>,
) -> Result<Json<AlertView>, ApiError> {
    match (body.to, &body.outcome, &body.reason) {
        (AlertStatus::Closed, None, _) => {
            return Err(ApiError::field("outcome", "required to close"))
        }
        (AlertStatus::Closed, _, None) => {
            return Err(ApiError::field("reason", "required to close"))
        }
        (AlertStatus::Open | AlertStatus::Investigating, Some(_), _) => {
            return Err(ApiError::field("outcome", "only when closing"))
        }
        _ => {}
    }
    let action = AuditAction::AlertTransitioned;
    step.apply(action, |a, _, _| {
        if a.status == body.to {
            return Err(ApiError::Conflict(format!(
                "The alert is {} already",
                a.status
            )));
        }
        let reopening = a.status == AlertStatus::Closed;
        if reopening && body.reason.is_none() {
            return Err(ApiError::field("reason", "required to reopen"));
        }
        let from = a.status;
        if reopening {
            a.reopen();
        }
        a.status = body.to;
        a.outcome = body.outcome;
        Ok((
            "transition",
            json!({"from": from, "to": body.to, "outcome": body.outcome, "reason": body.reason}),
        ))
    })
    .await
}

/// `{"assignee": "<a principal's name>" | null}`.
pub struct Assignment {
    assignee: Option<String>,
}

impl FromBody for Assignment {
    fn from_body(body: &mut Object) -> Option<Self> {
        let assignee = body.nullable("assignee", |f| f.text(Text::chars(1, MAX_NAME)));
        Some(Assignment {
            assignee: assignee?,
        })
    }
}

/// `POST …/alerts/{alert_id}/assignment` (member and above): `null` unassigns.
pub async fn assign(
    step: AlertStep,
    JsonBody(body): JsonBody<Assignment>,
) -> Result<Json<AlertView>, ApiError> {
    let action = AuditAction::AlertAssigned;
    step.apply(action, |a, _, _| {
        let from = std::mem::replace(&mut a.assignee, body.assignee.clone());
        Ok(("assignment", json!({"from": from, "to": body.assignee})))
    })
    .await
}

/// `{"text": "…"}`.
pub struct Comment {
    text: String,
}

impl FromBody for Comment {
    fn from_body(body: &mut Object) -> Option<Self> {
        let text = body.required("text", |f| {
            f.text(Text::chars(1, MAX_COMMENT).with_newlines())
        });
        Some(Comment { text: text? })
    }
}

/// `POST …/alerts/{alert_id}/comments` (member and above): a comment in the trail.
pub async fn comment(
    step: AlertStep,
    JsonBody(body): JsonBody<Comment>,
) -> Result<Json<AlertView>, ApiError> {
    let action = AuditAction::AlertCommented;
    step.apply(action, |_, _, _| {
        Ok(("comment", json!({"text": body.text})))
    })
    .await
}

/// `{"recommendation": "file_report" | "do_not_file", "narrative": "…"}`.
pub struct Recommend {
    recommendation: RecommendationKind,
    narrative: String,
}

impl FromBody for Recommend {
    fn from_body(body: &mut Object) -> Option<Self> {
        let recommendation = body.required("recommendation", |f| f.label());
        let narrative = body.required("narrative", |f| {
            f.text(Text::chars(1, MAX_NARRATIVE).with_newlines())
        });
        Some(Recommend {
            recommendation: recommendation?,
            narrative: narrative?,
        })
    }
}

/// `POST …/alerts/{alert_id}/recommendation` (member and above): on an alert closed as a
/// confirmed risk, once; a decision falls due the org's `alert_decision_days` later (30 by
/// default).
pub async fn recommend(
    step: AlertStep,
    JsonBody(body): JsonBody<Recommend>,
) -> Result<Json<AlertView>, ApiError> {
    let settings =
        compliance_settings::get(step.state.store.as_ref(), &step.principal.org_id).await?;
    let due_days = i64::from(settings.alert_decision_days);
    let action = AuditAction::AlertRecommended;
    step.apply(action, |a, actor, at| {
        if a.outcome != Some(AlertOutcome::ConfirmedRisk) {
            return Err(ApiError::Conflict(
                "A recommendation follows closing the alert as confirmed_risk".into(),
            ));
        }
        if a.recommendation.is_some() {
            return Err(ApiError::Conflict(
                "The alert has a recommendation already".into(),
            ));
        }
        let due = at + Duration::days(due_days);
        a.recommendation = Some(Recommendation {
            recommendation: body.recommendation,
            narrative: body.narrative.clone(),
            by: actor.clone(),
            at,
            decision_due_at: due,
        });
        Ok((
            "recommendation",
            json!({"recommendation": body.recommendation, "narrative": body.narrative,
                   "decision_due_at": compliance_domain::time::rfc3339(due)}),
        ))
    })
    .await
}

/// `{"decision": "report_filed", "reference", "filed_on"}` or `{"decision": "declined",
/// "reason"}`.
pub struct Decide {
    decision: DecisionKind,
    reference: Option<String>,
    filed_on: Option<NaiveDate>,
    reason: Option<String>,
}

impl FromBody for Decide {
    fn from_body(body: &mut Object) -> Option<Self> {
        let decision = body.required("decision", |f| f.label());
        let reference = body.optional("reference", |f| f.text(Text::chars(1, MAX_NAME)));
        let filed_on = body.optional("filed_on", |f| {
            f.parsed(|s| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| "must be a date (2026-12-01)")
            })
        });
        let reason = body.optional("reason", |f| {
            f.text(Text::chars(1, MAX_REASON).with_newlines())
        });
        Some(Decide {
            decision: decision?,
            reference: reference?,
            filed_on: filed_on?,
            reason: reason?,
        })
    }
}

/// `POST …/alerts/{alert_id}/decision` (admin and above, never the recommender: 403 whatever
/// the role): decides the recommendation, once.
pub async fn decide(
    step: AlertStep,
    JsonBody(body): JsonBody<Decide>,
) -> Result<Json<AlertView>, ApiError> {
    if !step.principal.is_admin() {
        return Err(ApiError::AdminRequired);
    }
    match body.decision {
        DecisionKind::ReportFiled if body.reference.is_none() => {
            return Err(ApiError::field(
                "reference",
                "required when a report was filed",
            ))
        }
        DecisionKind::ReportFiled if body.filed_on.is_none() => {
            return Err(ApiError::field(
                "filed_on",
                "required when a report was filed",
            ))
        }
        DecisionKind::Declined if body.reason.is_none() => {
            return Err(ApiError::field("reason", "required to decline"))
        }
        _ => {}
    }
    let action = AuditAction::AlertDecided;
    step.apply(action, |a, actor, at| {
        let Some(rec) = &a.recommendation else {
            return Err(ApiError::Conflict(
                "The alert has no recommendation to decide".into(),
            ));
        };
        if rec.by.kind == actor.kind && rec.by.id == actor.id {
            return Err(ApiError::Forbidden(
                "Four eyes: the investigator who recommended cannot decide".into(),
            ));
        }
        if a.decision.is_some() {
            return Err(ApiError::Conflict(
                "The recommendation is decided already".into(),
            ));
        }
        a.decision = Some(Decision {
            decision: body.decision,
            reference: body.reference.clone(),
            filed_on: body.filed_on,
            reason: body.reason.clone(),
            by: actor.clone(),
            at,
        });
        Ok((
            "decision",
            json!({"decision": body.decision, "reference": body.reference,
                   "filed_on": body.filed_on.map(|d| d.to_string()), "reason": body.reason}),
        ))
    })
    .await
}

/// `{"rule_id", "group_value", "until", "reason"}`.
pub struct SnoozeRequest {
    rule_id: String,
    group_value: String,
    until: DateTime<Utc>,
    reason: String,
}

impl FromBody for SnoozeRequest {
    fn from_body(body: &mut Object) -> Option<Self> {
        let rule_id = body.required("rule_id", |f| f.text(Text::chars(1, MAX_NAME)));
        let group_value = body.required("group_value", |f| f.text(Text::chars(1, 1_000)));
        let until = body.required("until", |f| {
            f.parsed(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| "must be an RFC 3339 date-time (2027-01-31T00:00:00Z)")
            })
        });
        let reason = body.required("reason", |f| {
            f.text(Text::chars(1, MAX_REASON).with_newlines())
        });
        Some(SnoozeRequest {
            rule_id: rule_id?,
            group_value: group_value?,
            until: until?,
            reason: reason?,
        })
    }
}

/// `POST /api/audits/{audit_id}/snoozes` (member and above): until at most 180 days ahead.
pub async fn snooze(
    State(state): State<AppState>,
    Contributor(principal): Contributor,
    Meta(meta): Meta,
    Path(audit_id): Path<String>,
    JsonBody(body): JsonBody<SnoozeRequest>,
) -> Result<(axum::http::StatusCode, Json<Snooze>), ApiError> {
    let now = state.now();
    if body.until <= now {
        return Err(ApiError::field("until", "must be in the future"));
    }
    if body.until > now + Duration::days(MAX_SNOOZE_DAYS) {
        return Err(ApiError::field("until", "at most 180 days from now"));
    }
    let access = access(&state, &principal, &audit_id).await?;
    let home = &access.home;
    let rules = records::rules(
        state.store.as_ref(),
        &home.org,
        &home.owner,
        &access.audit.policy_id,
    )
    .await?;
    if !rules.iter().any(|r| r.rule.rule_id == body.rule_id) {
        return Err(ApiError::field(
            "rule_id",
            "not a rule of this audit's policy",
        ));
    }
    let ctx = state.audit(&principal, meta);
    let snooze = Snooze {
        rule_id: body.rule_id,
        group_value: body.group_value,
        until: body.until,
        reason: body.reason,
        by: ctx.actor.clone(),
        at: ctx.at,
    };
    store::snooze(state.store.as_ref(), &access.home, &ctx, snooze.clone()).await?;
    Ok((axum::http::StatusCode::CREATED, Json(snooze)))
}
