//! Attestations of controls no scanner can prove: `PUT`, `GET` and `DELETE
//! /api/compliance/frameworks/{framework_key}/controls/{control_id}/attestation`, and the org's
//! attestations by state at `GET /api/compliance/attestations` (what is due).

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use compliance_domain::ids::FrameworkKey;
use compliance_domain::scoring::attesting::CLOCK_SKEW_MINUTES;
use compliance_domain::scoring::{AttestationState, ReviewInterval};
use compliance_http::body::{FromBody, Object, Text};
use compliance_http::{Admin, ApiError, AppState, Caller, JsonBody, Meta, Params};
use compliance_services::attestations::{
    self, Attestation, NewAttestation, StateCounts, Withdrawn,
};
use compliance_services::org_view::OrgView;
use serde::{Deserialize, Serialize};

use crate::controls::framework;

const MAX_STATEMENT: usize = 4_000;
const MAX_OWNER: usize = 200;

/// `{"statement", "owner", "effective_at", "review_interval"}`.
pub struct RecordAttestation {
    statement: String,
    owner: String,
    effective_at: DateTime<Utc>,
    review_interval: ReviewInterval,
}

impl FromBody for RecordAttestation {
    fn from_body(body: &mut Object) -> Option<Self> {
        let statement = body.required("statement", |f| {
            f.text(Text {
                newlines: true,
                ..Text::chars(1, MAX_STATEMENT)
            })
        });
        let owner = body.required("owner", |f| f.text(Text::chars(1, MAX_OWNER)));
        let effective_at = body.required("effective_at", |f| {
            f.parsed(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| "must be an RFC 3339 date-time (2026-11-01T00:00:00Z)")
            })
        });
        let review_interval = body.required("review_interval", |f| f.label());
        Some(RecordAttestation {
            statement: statement?,
            owner: owner?,
            effective_at: effective_at?,
            review_interval: review_interval?,
        })
    }
}

/// An attestation as answered: as recorded, and its state now.
#[derive(Debug, Serialize)]
pub struct AttestationView {
    #[serde(flatten)]
    pub attestation: Attestation,
    /// `current`, `due_soon` (within 30 days of `due_at`) or `overdue` (counts for nothing).
    pub state: AttestationState,
}

impl AttestationView {
    pub(crate) fn of(attestation: Attestation, now: DateTime<Utc>) -> AttestationView {
        AttestationView {
            state: attestation.state_at(now),
            attestation,
        }
    }
}

/// A control's attestation in force (`null`: none) and every version of it, oldest first.
#[derive(Serialize)]
pub struct ControlAttestation {
    pub framework_key: String,
    pub control_id: String,
    pub attestation: Option<AttestationView>,
    pub history: Vec<AttestationView>,
}

/// The framework's key and the control's id, once both are known to the org.
pub(crate) async fn control_of(
    state: &AppState,
    principal_org: &compliance_domain::ids::OrgId,
    key: &str,
    control_id: &str,
) -> Result<FrameworkKey, ApiError> {
    let view = OrgView::load_one(state.store.as_ref(), principal_org, key).await?;
    let framework = framework(&view, key)?;
    if framework.control(control_id).is_none() {
        return Err(ApiError::NotFound(format!(
            "Unknown control in framework {key}: {}",
            printable(control_id)
        )));
    }
    FrameworkKey::parse(key).map_err(|_| ApiError::NotFound("Unknown framework".into()))
}

/// The id as sent, when it is printable (never raw control characters in an answer).
fn printable(id: &str) -> &str {
    if id.chars().any(char::is_control) || id.len() > 100 {
        "(invalid id)"
    } else {
        id
    }
}

/// `PUT …/controls/{control_id}/attestation` (admin): records or renews the attestation.
pub async fn put(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path((key, control_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<RecordAttestation>,
) -> Result<Json<AttestationView>, ApiError> {
    let framework = control_of(&state, &principal.org_id, &key, &control_id).await?;
    let now = state.now();
    if body.effective_at > now + Duration::minutes(CLOCK_SKEW_MINUTES) {
        return Err(ApiError::field(
            "effective_at",
            "must not be in the future: it is when the evidence became true",
        ));
    }
    let new = NewAttestation {
        statement: body.statement,
        owner: body.owner,
        effective_at: body.effective_at,
        review_interval: body.review_interval,
    };
    let ctx = state.audit(&principal, meta);
    let store = state.store.as_ref();
    match attestations::record(store, &ctx, &framework, &control_id, new).await? {
        Some(recorded) => Ok(Json(AttestationView::of(recorded, now))),
        None => Err(ApiError::Conflict(
            "The attestation changed while this one was recorded: read it and try again".into(),
        )),
    }
}

/// `GET …/controls/{control_id}/attestation`: the attestation in force and its history.
pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((key, control_id)): Path<(String, String)>,
) -> Result<Json<ControlAttestation>, ApiError> {
    let framework = control_of(&state, &principal.org_id, &key, &control_id).await?;
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let (current, history) = tokio::try_join!(
        attestations::get(store, org, &framework, &control_id),
        attestations::history(store, org, &framework, &control_id),
    )?;
    let now = state.now();
    Ok(Json(ControlAttestation {
        framework_key: key,
        control_id,
        attestation: current.map(|a| AttestationView::of(a, now)),
        history: history
            .into_iter()
            .map(|a| AttestationView::of(a, now))
            .collect(),
    }))
}

/// `DELETE …/controls/{control_id}/attestation` (admin): withdraws it; the version that says
/// so is answered.
pub async fn delete(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path((key, control_id)): Path<(String, String)>,
) -> Result<Json<AttestationView>, ApiError> {
    let framework = control_of(&state, &principal.org_id, &key, &control_id).await?;
    let ctx = state.audit(&principal, meta);
    let now = state.now();
    match attestations::withdraw(state.store.as_ref(), &ctx, &framework, &control_id).await? {
        Withdrawn::Done(a) => Ok(Json(AttestationView::of(*a, now))),
        Withdrawn::NotFound => Err(ApiError::NotFound(format!(
            "Control {control_id} of framework {key} has no attestation"
        ))),
        Withdrawn::Conflict => Err(ApiError::Conflict(
            "The attestation changed while it was withdrawn: read it and try again".into(),
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<AttestationState>,
    framework: Option<String>,
}

#[derive(Serialize)]
pub struct AttestationListing {
    /// Soonest due first.
    pub attestations: Vec<AttestationView>,
    /// Over every attestation of the org (the filters aside).
    pub counts: StateCounts,
}

/// `GET /api/compliance/attestations`: the org's attestations in force, soonest due first,
/// filtered by `state` and `framework`.
pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Params(query): Params<ListQuery>,
) -> Result<Json<AttestationListing>, ApiError> {
    if let Some(key) = &query.framework {
        FrameworkKey::parse(key).map_err(|e| ApiError::query("framework", e.to_string()))?;
    }
    // Through the org's view: attestations of removed frameworks or controls are not listed.
    let all = OrgView::load(state.store.as_ref(), &principal.org_id)
        .await?
        .attestations;
    let now = state.now();
    let mut counts = StateCounts::default();
    let mut listed: Vec<AttestationView> = Vec::new();
    for a in all {
        counts.add(&a, now);
        let at = a.state_at(now);
        let keep = query.state.is_none_or(|s| s == at)
            && query
                .framework
                .as_deref()
                .is_none_or(|k| k == a.framework.as_str());
        if keep {
            listed.push(AttestationView::of(a, now));
        }
    }
    listed.sort_by_key(|a| a.attestation.due_at);
    Ok(Json(AttestationListing {
        attestations: listed,
        counts,
    }))
}
