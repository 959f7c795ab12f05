use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use compliance_domain::ids::KeyId;
use compliance_domain::plans::Role;
use compliance_http::body::{FromBody, Object, Text};
use compliance_http::{page_args, Admin, ApiError, AppState, JsonBody, Meta, PageParams, Params};
use compliance_services::api_keys::{self, ApiKeyInfo, Revoked};
use serde::Serialize;

const MAX_NAME: usize = 100;

/// The answer to a creation: the only time the secret is seen.
#[derive(Serialize)]
pub struct CreatedKeyView {
    #[serde(flatten)]
    pub api_key: ApiKeyInfo,
    /// The secret.
    pub key: String,
}

#[derive(Serialize)]
pub struct ApiKeyList {
    pub api_keys: Vec<ApiKeyInfo>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize)]
pub struct RevokedKey {
    pub message: &'static str,
    pub api_key: ApiKeyInfo,
}

/// `{"name", "role"}`.
pub struct CreateKey {
    name: String,
    role: Role,
}

impl FromBody for CreateKey {
    fn from_body(body: &mut Object) -> Option<Self> {
        let name = body.required("name", |f| f.text(Text::chars(1, MAX_NAME)));
        let role = body.required("role", |f| f.label());
        Some(CreateKey {
            name: name?,
            role: role?,
        })
    }
}

pub async fn create(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<CreateKey>,
) -> Result<(StatusCode, Json<CreatedKeyView>), ApiError> {
    let name = &body.name;
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
    let view = CreatedKeyView {
        api_key: created.info,
        key: created.secret,
    };
    Ok((StatusCode::CREATED, Json(view)))
}

pub async fn list(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Params(page): Params<PageParams>,
) -> Result<Json<ApiKeyList>, ApiError> {
    let (limit, cursor) = page_args(page.limit, page.cursor.as_deref())?;
    let (keys, next) =
        api_keys::list(state.store.as_ref(), &principal.org_id, limit, cursor).await?;
    Ok(Json(ApiKeyList {
        api_keys: keys,
        next_cursor: next.map(|c| c.encode()),
    }))
}

pub async fn revoke(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path(key_id): Path<String>,
) -> Result<Json<RevokedKey>, ApiError> {
    let not_found = || ApiError::NotFound(format!("No active API key with id {key_id}"));
    let key_id = KeyId::parse(&key_id).map_err(|_| not_found())?;
    let ctx = state.audit(&principal, meta);
    match api_keys::revoke(state.store.as_ref(), &ctx, &key_id, Some(principal.role)).await? {
        Revoked::Done { info, hash } => {
            state.auth.forget_key(&hash);
            Ok(Json(RevokedKey {
                message: "API key revoked",
                api_key: info,
            }))
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
