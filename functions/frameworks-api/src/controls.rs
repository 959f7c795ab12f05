use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use compliance_domain::catalog::{
    CheckType, Control, Domain, Framework, PassCondition, Recommendation, WeaknessMapping,
};
use compliance_domain::ids::FrameworkKey;
use compliance_domain::ingest::ScanSummary;
use compliance_domain::scoring::refine_recommendation;
use compliance_http::body::{FieldError, FromBody, Object, Text};
use compliance_http::ids::{repo_in_query, repo_not_found};
use std::collections::BTreeMap;

use compliance_http::{Admin, ApiError, AppState, Caller, JsonBody, Meta, Params};
use compliance_services::audit_log::AuditAction;
use compliance_services::org_view::OrgView;
use compliance_services::settings::{self, Change};
use compliance_services::{repos, scans};
use serde::{Deserialize, Serialize};
use serde_json::json;

fn unknown_framework(key: &str) -> ApiError {
    // The key is echoed only when it is a well-formed key (never raw control characters).
    if FrameworkKey::parse(key).is_ok() {
        ApiError::NotFound(format!("Unknown framework: {key}"))
    } else {
        ApiError::NotFound("Unknown framework".into())
    }
}

pub(crate) fn framework<'v>(view: &'v OrgView, key: &str) -> Result<&'v Framework, ApiError> {
    view.find(key).ok_or_else(|| unknown_framework(key))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlsQuery {
    repo_id: Option<String>,
}

/// One control of the listing, its recommendation refined by the repository's latest scan.
#[derive(Serialize)]
pub struct ControlView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub category: &'a str,
    pub description: &'a str,
    pub check_type: CheckType,
    pub pass_condition: PassCondition,
    pub domain: Domain,
    pub disabled: bool,
    pub recommendation: Recommendation,
    pub recommendation_reason: String,
    /// The weaknesses (CWE ids) the control covers, with the mapping's source; absent when it
    /// is judged by its check type alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weaknesses: Option<&'a WeaknessMapping>,
    /// The org's justification of the control's applicability, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<&'a str>,
}

impl<'a> ControlView<'a> {
    fn of(
        control: &'a Control,
        disabled: bool,
        justification: Option<&'a str>,
        summary: Option<&ScanSummary>,
    ) -> Self {
        let (recommendation, recommendation_reason) = refine_recommendation(control, summary);
        ControlView {
            id: &control.id,
            name: &control.name,
            category: &control.category,
            description: &control.description,
            check_type: control.check_type,
            pass_condition: control.pass_condition,
            domain: control.domain,
            disabled,
            recommendation,
            recommendation_reason,
            weaknesses: control.weaknesses.as_ref(),
            justification,
        }
    }
}

#[derive(Serialize)]
pub struct ControlListing<'a> {
    pub framework_key: &'a str,
    pub framework_name: &'a str,
    pub custom: bool,
    pub controls: Vec<ControlView<'a>>,
    pub disabled_count: usize,
}

#[derive(Serialize)]
pub struct DisabledControlsUpdated {
    pub message: &'static str,
    pub framework_key: String,
    pub disabled: Vec<String>,
    /// The framework's justifications as stored after the change (control id → text), when
    /// the request carried `justifications` (the reference's body gets the reference's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justifications: Option<BTreeMap<String, String>>,
}

pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(key): Path<String>,
    Params(query): Params<ControlsQuery>,
) -> Result<Response, ApiError> {
    let repo_id = query.repo_id.as_deref().map(repo_in_query).transpose()?;
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let view = OrgView::load_one(store, org, &key).await?;
    // With a repository, its latest scan refines the recommendations.
    let latest = match repo_id {
        None => None,
        Some(id) => {
            if repos::get(store, org, id).await?.is_none() {
                return Err(repo_not_found());
            }
            scans::latest(store, org, id).await?
        }
    };
    let summary = latest.as_ref().map(|s| &s.summary);
    let framework = framework(&view, &key)?;
    let disabled = view.settings.disabled(&framework.key);
    let justifications = view.settings.justifications(&framework.key);
    let listing = ControlListing {
        framework_key: &framework.key,
        framework_name: &framework.name,
        custom: framework.custom,
        controls: framework
            .controls
            .iter()
            .map(|c| {
                let justification = justifications
                    .and_then(|j| j.get(&c.id))
                    .map(String::as_str);
                ControlView::of(c, disabled.contains(&c.id), justification, summary)
            })
            .collect(),
        disabled_count: disabled.len(),
    };
    Ok(Json(listing).into_response())
}

const MAX_IDS: usize = 1000;

/// A justification: one line of text (the 64 KiB body bounds them all together).
pub const JUSTIFICATION: Text = Text::chars(1, 1000);

/// `{"disabled": [...], "justifications"?: {"CC8.1": "No physical premises"}}`.
pub struct DisabledBody {
    disabled: Vec<String>,
    /// `None`: keep the stored justifications; `Some`: replace them (`{}` clears them).
    justifications: Option<Vec<(String, String)>>,
}

impl FromBody for DisabledBody {
    fn from_body(body: &mut Object) -> Option<Self> {
        let disabled = body.required("disabled", |f| {
            f.array(0, MAX_IDS, |id| id.string().map(str::to_string))
        });
        let justifications = body.optional("justifications", |f| {
            f.entries(MAX_IDS, |_, text| text.text(JUSTIFICATION))
        });
        Some(DisabledBody {
            disabled: disabled?,
            justifications: justifications?,
        })
    }
}

pub async fn set_disabled(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path(key): Path<String>,
    JsonBody(body): JsonBody<DisabledBody>,
) -> Result<Json<DisabledControlsUpdated>, ApiError> {
    let store = state.store.as_ref();
    let view = OrgView::load_one(store, &principal.org_id, &key).await?;
    let framework = framework(&view, &key)?;
    let shown = |id: &str| -> String { id.chars().filter(|c| !c.is_control()).take(64).collect() };
    let mut ids: Vec<String> = Vec::with_capacity(body.disabled.len());
    for id in body.disabled {
        if framework.control(&id).is_none() {
            return Err(ApiError::BadRequest(format!(
                "Unknown control: {}",
                shown(&id)
            )));
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    // Justifications name controls of the framework, like `disabled`.
    let answer_justifications = body.justifications.is_some();
    let justifications: Option<BTreeMap<String, String>> = match body.justifications {
        None => None,
        Some(entries) => {
            let unknown: Vec<FieldError> = entries
                .iter()
                .filter(|(id, _)| framework.control(id).is_none())
                .map(|(id, _)| {
                    FieldError::new(
                        vec![json!("justifications"), json!(shown(id))],
                        format!("Unknown control: {}", shown(id)),
                    )
                })
                .collect();
            if !unknown.is_empty() {
                return Err(ApiError::Validation(unknown));
            }
            Some(entries.into_iter().collect())
        }
    };
    let ctx = state.audit(&principal, meta);
    let framework_key = framework.key.clone();
    let saved = ids.clone();
    let (stored, _) = settings::update(
        store,
        &ctx,
        AuditAction::ComplianceControlsUpdated,
        |current| {
            let mut next = current.clone();
            next.set_disabled(&framework_key, saved.clone());
            if let Some(texts) = &justifications {
                next.set_justifications(&framework_key, texts.clone());
            }
            let texts = |s: &settings::OrgSettings| {
                s.justifications(&framework_key)
                    .cloned()
                    .unwrap_or_default()
            };
            let (before, after) = (texts(&current), texts(&next));
            let mut metadata = json!({
                "framework_key": framework_key,
                "before": {"disabled": current.disabled(&framework_key)},
                "after": {"disabled": saved},
            });
            // Justifications are in the entry when they change (the reference's entry else).
            if before != after {
                metadata["before"]["justifications"] = json!(before);
                metadata["after"]["justifications"] = json!(after);
            }
            Ok::<_, ApiError>(Change {
                metadata,
                next,
                also: vec![],
                outcome: after,
            })
        },
    )
    .await?;
    Ok(Json(DisabledControlsUpdated {
        message: "Control selection updated",
        framework_key: key,
        disabled: ids,
        justifications: answer_justifications.then_some(stored),
    }))
}
