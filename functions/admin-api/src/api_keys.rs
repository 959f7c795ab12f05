use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use compliance_domain::ids::is_safe_id;
use compliance_domain::plans::Role;
use compliance_http::{
    page_args, paged, Admin, ApiError, AppState, FieldError, JsonBody, Meta, PageParams, Params,
};
use compliance_services::api_keys::{self, Revoked};
use serde::Deserialize;
use serde_json::{json, Value};

const MAX_NAME: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    name: String,
    role: Role,
}

pub async fn create(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<CreateKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::Validation(vec![FieldError::at(
            "name",
            format!("must be 1 to {MAX_NAME} printable characters"),
        )]));
    }
    // Nobody hands out more power than they hold.
    if body.role > principal.role {
        return Err(ApiError::Forbidden(format!(
            "The {} role cannot create a key with the {} role",
            principal.role.as_str(),
            body.role.as_str()
        )));
    }
    let ctx = state.audit(&principal, meta);
    let created = api_keys::create(state.store.as_ref(), &ctx, name, body.role).await?;
    Ok((StatusCode::CREATED, Json(json!(created))))
}

pub async fn list(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Params(page): Params<PageParams>,
) -> Result<Json<Value>, ApiError> {
    let (limit, cursor) = page_args(page.limit, page.cursor.as_deref())?;
    let (keys, next) =
        api_keys::list(state.store.as_ref(), &principal.org_id, limit, cursor).await?;
    Ok(paged("api_keys", &keys, next))
}

pub async fn revoke(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path(key_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::NotFound(format!("No active API key with id {key_id}"));
    if !is_safe_id(&key_id) {
        return Err(not_found());
    }
    let ctx = state.audit(&principal, meta);
    match api_keys::revoke(state.store.as_ref(), &ctx, &key_id, Some(principal.role)).await? {
        Revoked::Done { info, hash } => {
            state.auth.forget_key(&hash);
            Ok(Json(json!({"message": "API key revoked", "api_key": info})))
        }
        Revoked::NotFound => Err(not_found()),
        // Nobody takes away more power than they hold.
        Revoked::AboveRole(role) => Err(ApiError::Forbidden(format!(
            "The {} role cannot revoke a key with the {} role",
            principal.role.as_str(),
            role.as_str()
        ))),
    }
}
