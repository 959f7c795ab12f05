use axum::extract::{Path, State};
use axum::Json;
use compliance_core::audit::actions;
use compliance_core::custom_frameworks::{self, CustomFramework, MAX_PER_ORG};
use compliance_core::http::{Admin, ApiError, AppState, Caller, JsonBody, Meta};
use compliance_core::keys;
use compliance_core::settings::{self, Change};
use compliance_core::store::Condition;
use compliance_core::store::WriteOp;
use serde_json::{json, Value};

use crate::validation::{valid_key, validate};

fn summary(f: &CustomFramework) -> Value {
    json!({"name": f.name, "controls": f.controls.iter().map(|c| c.id.as_str()).collect::<Vec<_>>()})
}

pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> Result<Json<Value>, ApiError> {
    let frameworks = custom_frameworks::list(state.store.as_ref(), &principal.org_id).await?;
    Ok(Json(json!({"frameworks": frameworks})))
}

/// Creates the framework, or updates the org's framework with that key.
pub async fn save(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let input = validate(&body).map_err(ApiError::Validation)?;
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let previous = custom_frameworks::get(store, org, &input.key).await?;
    let id = match &previous {
        Some(p) => p.id,
        None => {
            if custom_frameworks::list(store, org).await?.len() >= MAX_PER_ORG {
                return Err(ApiError::BadRequest(format!(
                    "An org can have at most {MAX_PER_ORG} custom frameworks"
                )));
            }
            store
                .increment(&keys::counter(org, "CUSTOMFW"), "value", 1)
                .await?
        }
    };
    let now = compliance_core::time::rfc3339(state.now());
    let framework = CustomFramework {
        id,
        key: input.key.clone(),
        name: input.name.clone(),
        description: input.description,
        controls: input.controls,
        created_at: previous
            .as_ref()
            .map_or(now.clone(), |p| p.created_at.clone()),
        updated_at: now,
    };
    let action = if previous.is_some() {
        actions::COMPLIANCE_CUSTOM_FRAMEWORK_UPDATED
    } else {
        actions::COMPLIANCE_CUSTOM_FRAMEWORK_CREATED
    };
    let ctx = state.audit(&principal, meta);
    settings::update(store, &ctx, action, |current| {
        let mut next = current.clone();
        if previous.is_none() {
            // "Appears immediately on the dashboard" when the org has an explicit selection.
            if let Some(keys) = &mut next.enabled_keys {
                if !keys.contains(&framework.key) {
                    keys.push(framework.key.clone());
                }
            }
        }
        // Controls that no longer exist cannot stay disabled.
        let kept: Vec<String> = current
            .disabled(&framework.key)
            .iter()
            .filter(|id| framework.controls.iter().any(|c| &c.id == *id))
            .cloned()
            .collect();
        next.set_disabled(&framework.key, kept);
        Ok::<_, ApiError>(Change {
            metadata: json!({
                "framework_key": framework.key,
                "framework_id": framework.id,
                "before": previous.as_ref().map(summary),
                "after": summary(&framework),
                "enabled_keys": {"before": current.enabled_keys, "after": next.enabled_keys},
            }),
            also: vec![framework.write_op(org, previous.as_ref())],
            next,
            outcome: (),
        })
    })
    .await?;
    Ok(Json(json!({
        "message": "Framework saved",
        "key": input.key,
        "name": input.name,
    })))
}

pub async fn delete(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::NotFound("Framework not found".into());
    if !valid_key(&key) {
        return Err(not_found());
    }
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let existing = custom_frameworks::get(store, org, &key)
        .await?
        .ok_or_else(not_found)?;
    let ctx = state.audit(&principal, meta);
    let removal = WriteOp::delete_if(
        keys::custom_framework(org, &key),
        Condition::Equals("updated_at".into(), json!(existing.updated_at)),
    );
    settings::update(
        store,
        &ctx,
        actions::COMPLIANCE_CUSTOM_FRAMEWORK_DELETED,
        |current| {
            let mut next = current.clone();
            next.forget_framework(&key);
            Ok::<_, ApiError>(Change {
                metadata: json!({
                    "framework_key": key,
                    "framework_id": existing.id,
                    "before": summary(&existing),
                    "after": null,
                    "enabled_keys": {"before": current.enabled_keys, "after": next.enabled_keys},
                    "disabled_controls_removed": current.disabled(&key),
                }),
                next,
                also: vec![removal.clone()],
                outcome: (),
            })
        },
    )
    .await?;
    Ok(Json(json!({"message": "Framework deleted"})))
}
