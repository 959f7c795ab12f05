use axum::extract::{Path, State};
use axum::Json;
use compliance_domain::ids::{FrameworkKey, OrgId};
use compliance_http::{
    page_by_size, resume_after, Admin, ApiError, AppState, Caller, JsonBody, Meta, Params,
    RESPONSE_BUDGET,
};
use compliance_services::attestations;
use compliance_services::audit_log::AuditAction;
use compliance_services::custom_frameworks::{self, CustomFramework, MAX_PER_ORG};
use compliance_services::settings::{self, Change, OrgSettings};
use compliance_store::keys;
use compliance_store::{Store, WriteOp};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::body::FrameworkBody;

fn summary(f: &CustomFramework) -> Value {
    json!({"name": f.name, "controls": f.controls.iter().map(|c| c.id.as_str()).collect::<Vec<_>>()})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The reference's `{"frameworks": [...]}`, in key order; at the documented maxima (50
/// frameworks of 200 controls) the list can outgrow a response, so it comes in pages within
/// the response budget, with `next_cursor` while frameworks remain.
#[derive(Serialize)]
pub struct ListResponse {
    pub frameworks: Vec<Box<RawValue>>,
    pub next_cursor: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Params(query): Params<ListQuery>,
) -> Result<Json<ListResponse>, ApiError> {
    let after = resume_after(query.cursor.as_deref())?;
    let frameworks = custom_frameworks::list(state.store.as_ref(), &principal.org_id).await?;
    let keyed = frameworks.iter().map(|f| (f.key.as_str(), f));
    let (page, next_cursor) = page_by_size(keyed, after.as_deref(), RESPONSE_BUDGET)?;
    Ok(Json(ListResponse {
        frameworks: page.into_iter().map(|(_, f)| f).collect(),
        next_cursor,
    }))
}

#[derive(Serialize)]
pub struct FrameworkSaved {
    pub message: &'static str,
    pub key: FrameworkKey,
    pub name: String,
}

#[derive(Serialize)]
pub struct Message {
    pub message: &'static str,
}

fn too_many() -> ApiError {
    ApiError::BadRequest(format!(
        "An org can have at most {MAX_PER_ORG} custom frameworks"
    ))
}

/// How many custom frameworks the org has: kept in its settings, or, in settings written before
/// the count was kept, counted once.
async fn counted(
    store: &dyn Store,
    org_id: &OrgId,
    settings: &OrgSettings,
) -> Result<u32, ApiError> {
    Ok(match settings.custom_frameworks {
        Some(n) => n,
        None => custom_frameworks::list(store, org_id).await?.len() as u32,
    })
}

/// Creates the framework, or updates the org's framework with that key.
pub async fn save(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    JsonBody(input): JsonBody<FrameworkBody>,
) -> Result<Json<FrameworkSaved>, ApiError> {
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let (previous, stored) = tokio::try_join!(
        custom_frameworks::get(store, org, &input.key),
        settings::load(store, org)
    )?;
    let counted = counted(store, org, &stored).await?;
    let id = match &previous {
        Some(p) => p.id,
        None => {
            if counted >= MAX_PER_ORG as u32 {
                return Err(too_many());
            }
            store
                .increment(&keys::custom_framework_counter(org), "value", 1)
                .await?
        }
    };
    let now = state.now();
    let framework = CustomFramework {
        id,
        key: input.key.clone(),
        name: input.name.clone(),
        description: input.description,
        controls: input.controls,
        created_at: previous.as_ref().map_or(now, |p| p.created_at),
        updated_at: now,
    };
    // Saving what is stored already changes nothing: no write, no audit entry.
    let unchanged = previous.as_ref().is_some_and(|p| {
        (&p.name, &p.description, &p.controls)
            == (&framework.name, &framework.description, &framework.controls)
    });
    let action = if previous.is_some() {
        AuditAction::ComplianceCustomFrameworkUpdated
    } else {
        AuditAction::ComplianceCustomFrameworkCreated
    };
    let ctx = state.audit(&principal, meta);
    settings::update(store, &ctx, action, |current| {
        let mut next = current.clone();
        if previous.is_none() {
            // Checked again on the settings this write is conditioned on: concurrent creations
            // cannot pass the limit together.
            let count = current.custom_frameworks.unwrap_or(counted);
            if count >= MAX_PER_ORG as u32 {
                return Err(too_many());
            }
            next.custom_frameworks = Some(count + 1);
            // "Appears immediately on the dashboard" when the org has an explicit selection.
            if let Some(keys) = &mut next.enabled_keys {
                if !keys.iter().any(|k| k == framework.key.as_str()) {
                    keys.push(framework.key.to_string());
                }
            }
        }
        // Controls that no longer exist cannot stay disabled.
        let kept: Vec<String> = current
            .disabled(framework.key.as_str())
            .iter()
            .filter(|id| framework.controls.iter().any(|c| &c.id == *id))
            .cloned()
            .collect();
        next.set_disabled(framework.key.as_str(), kept);
        // Nor keep a justification.
        let justified = current
            .justifications(framework.key.as_str())
            .map(|texts| {
                texts
                    .iter()
                    .filter(|(id, _)| framework.controls.iter().any(|c| &c.id == *id))
                    .map(|(id, text)| (id.clone(), text.clone()))
                    .collect()
            })
            .unwrap_or_default();
        next.set_justifications(framework.key.as_str(), justified);
        Ok::<_, ApiError>(Change {
            metadata: json!({
                "framework_key": framework.key,
                "framework_id": framework.id,
                "before": previous.as_ref().map(summary),
                "after": summary(&framework),
                "enabled_keys": {"before": current.enabled_keys, "after": next.enabled_keys},
            }),
            also: if unchanged {
                vec![]
            } else {
                vec![framework.write_op(org, previous.as_ref())]
            },
            next,
            outcome: (),
        })
    })
    .await?;
    Ok(Json(FrameworkSaved {
        message: "Framework saved",
        key: input.key,
        name: input.name,
    }))
}

pub async fn delete(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path(key): Path<String>,
) -> Result<Json<Message>, ApiError> {
    let not_found = || ApiError::NotFound("Framework not found".into());
    let key = FrameworkKey::parse(&key).map_err(|_| not_found())?;
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let (existing, stored) = tokio::try_join!(
        custom_frameworks::get(store, org, &key),
        settings::load(store, org)
    )?;
    let existing = existing.ok_or_else(not_found)?;
    let counted = counted(store, org, &stored).await?;
    let ctx = state.audit(&principal, meta);
    // Its attestations in force go with it (their versions stay, for the record): a framework
    // created again with the same key starts unattested.
    let attested: Vec<String> = attestations::all(store, org)
        .await?
        .into_iter()
        .filter(|a| a.framework == key)
        .map(|a| a.control_id)
        .collect();
    let mut removal = vec![existing.delete_op(org)];
    removal.extend(
        attested
            .iter()
            .map(|control| WriteOp::delete(keys::attestation(org, &key, control))),
    );
    settings::update(
        store,
        &ctx,
        AuditAction::ComplianceCustomFrameworkDeleted,
        |current| {
            let mut next = current.clone();
            next.forget_framework(key.as_str());
            let count = current.custom_frameworks.unwrap_or(counted);
            next.custom_frameworks = Some(count.saturating_sub(1));
            Ok::<_, ApiError>(Change {
                metadata: json!({
                    "framework_key": key,
                    "framework_id": existing.id,
                    "before": summary(&existing),
                    "after": null,
                    "enabled_keys": {"before": current.enabled_keys, "after": next.enabled_keys},
                    "disabled_controls_removed": current.disabled(key.as_str()),
                    "attestations_removed": attested,
                }),
                next,
                also: removal.clone(),
                outcome: (),
            })
        },
    )
    .await?;
    Ok(Json(Message {
        message: "Framework deleted",
    }))
}
