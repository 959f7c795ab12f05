use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use compliance_domain::catalog::Framework;
use compliance_domain::plans::Plan;
use compliance_http::body::{FromBody, Object};
use compliance_http::{Admin, ApiError, AppState, Caller, JsonBody, Meta};
use compliance_services::audit_log::AuditAction;
use compliance_services::org_view::OrgView;
use compliance_services::settings::{self, Change};
use serde::Serialize;
use serde_json::json;

/// One entry of `available`: a framework the org can see, with its state for the org.
#[derive(Serialize)]
pub struct AvailableFramework<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub control_count: usize,
    pub custom: bool,
    pub enabled: bool,
    pub requires_plan: Option<Plan>,
    pub plan_locked: bool,
}

/// The legacy `frameworks` array: what the dashboard read before per-org selection existed;
/// only the frameworks that score for the org, with their controls' ids.
#[derive(Serialize)]
pub struct LegacyFramework<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub controls: Vec<&'a str>,
}

#[derive(Serialize)]
pub struct FrameworkListing<'a> {
    pub available: Vec<AvailableFramework<'a>>,
    pub enabled_keys: &'a Option<Vec<String>>,
    pub default_all_enabled: bool,
    pub frameworks: Vec<LegacyFramework<'a>>,
}

impl<'a> FrameworkListing<'a> {
    fn of(view: &'a OrgView) -> Self {
        let available = |f: &'a Framework| AvailableFramework {
            key: &f.key,
            name: &f.name,
            description: &f.description,
            control_count: f.controls.len(),
            custom: f.custom,
            enabled: view.enabled(f),
            requires_plan: f.requires_plan,
            plan_locked: view.plan_locked(f),
        };
        let legacy = |f: &'a Framework| LegacyFramework {
            key: &f.key,
            name: &f.name,
            controls: f.controls.iter().map(|c| c.id.as_str()).collect(),
        };
        FrameworkListing {
            available: view.frameworks.iter().map(available).collect(),
            enabled_keys: &view.settings.enabled_keys,
            default_all_enabled: view.settings.enabled_keys.is_none(),
            frameworks: view
                .frameworks
                .iter()
                .filter(|f| view.enabled(f))
                .map(legacy)
                .collect(),
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Response, ApiError> {
    let view = OrgView::load(state.store.as_ref(), &principal.org_id).await?;
    Ok(Json(FrameworkListing::of(&view)).into_response())
}

#[derive(Serialize)]
pub struct EnabledFrameworksUpdated {
    pub message: &'static str,
    pub enabled_keys: Option<Vec<String>>,
    pub default_all_enabled: bool,
}

/// More keys than any org can have frameworks is not a selection.
const MAX_KEYS: usize = 100;

/// `{"keys": [...] | [] | null}`: `keys` must be there, even as `null`.
pub struct EnabledBody {
    /// Each once, in the order given; `None`: the default selection.
    keys: Option<Vec<String>>,
}

impl FromBody for EnabledBody {
    fn from_body(body: &mut Object) -> Option<Self> {
        let keys = body.nullable("keys", |f| {
            f.array(0, MAX_KEYS, |k| k.string().map(str::to_string))
        })?;
        Some(EnabledBody {
            keys: keys.map(|list| {
                let mut unique: Vec<String> = Vec::with_capacity(list.len());
                for k in list {
                    if !unique.contains(&k) {
                        unique.push(k);
                    }
                }
                unique
            }),
        })
    }
}

pub async fn set_enabled(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<EnabledBody>,
) -> Result<Json<EnabledFrameworksUpdated>, ApiError> {
    let keys = body.keys;
    let store = state.store.as_ref();
    let view = OrgView::load(store, &principal.org_id).await?;
    if let Some(keys) = &keys {
        for key in keys {
            let Some(framework) = view.find(key) else {
                return Err(ApiError::BadRequest(format!("Unknown framework: {key}")));
            };
            if view.plan_locked(framework) {
                return Err(ApiError::PlanUpgradeRequired {
                    framework_key: key.clone(),
                    current_plan: view.plan,
                    required_plan: framework.requires_plan.unwrap_or(view.plan),
                });
            }
        }
    }
    let ctx = state.audit(&principal, meta);
    let saved = keys.clone();
    settings::update(
        store,
        &ctx,
        AuditAction::ComplianceFrameworksUpdated,
        |current| {
            let mut next = current.clone();
            next.enabled_keys = saved.clone();
            Ok::<_, ApiError>(Change {
                metadata: json!({
                    "before": {"enabled_keys": current.enabled_keys},
                    "after": {"enabled_keys": next.enabled_keys},
                }),
                next,
                also: vec![],
                outcome: (),
            })
        },
    )
    .await?;
    Ok(Json(EnabledFrameworksUpdated {
        message: "Enabled frameworks updated",
        default_all_enabled: keys.is_none(),
        enabled_keys: keys,
    }))
}
