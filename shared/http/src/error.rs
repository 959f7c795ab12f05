//! The one error type of the HTTP layer and its mapping to responses. Two API families, two
//! documented shapes: the Compliance API answers `{"detail": ...}`; the Audits API answers
//! `{"error": CODE, "message": ..., "details": ...}`. A handler returns an [`ApiError`]; the
//! response carries it as an extension, and the Audits routers re-render it with
//! [`audits_error_shape`]. Internal detail is logged (with the request id), never sent.

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use serde_json::{json, Value};

use compliance_auth::AuthError;
use compliance_domain::plans::Plan;
use compliance_store::StoreError;

use crate::problem::{FieldError, Worded};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("Org admin role required")]
    AdminRequired,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("Invalid request body")]
    Validation(Vec<FieldError>),
    /// A query-string parameter that does not parse or is out of range.
    #[error("Invalid query parameters")]
    InvalidQuery(Vec<FieldError>),
    #[error("Framework '{framework_key}' requires the {} plan", required_plan.display_name())]
    PlanUpgradeRequired {
        framework_key: String,
        current_plan: Plan,
        required_plan: Plan,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    ServiceUnavailable(String),
    /// The string is for the log only.
    #[error("internal error")]
    Internal(String),
    /// An internal failure with a public message that says which operation failed (the
    /// Audits API's documented "Failed to create policy"); the detail is for the log only.
    #[error("{0}")]
    Failed(&'static str, String),
}

impl ApiError {
    /// A 400 naming one field of the body and what is wrong with it.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::at(field, message)])
    }

    /// A 400 naming one query parameter and what is wrong with it.
    pub fn query(field: &str, message: impl Into<String>) -> Self {
        ApiError::InvalidQuery(vec![FieldError::at(field, message)])
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::AdminRequired | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) | ApiError::Validation(_) | ApiError::InvalidQuery(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::PlanUpgradeRequired { .. } => StatusCode::PAYMENT_REQUIRED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) | ApiError::Failed(..) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The Compliance API's shape (FastAPI style): `{"detail": ...}`.
    fn detail_body(&self) -> Value {
        match self {
            ApiError::PlanUpgradeRequired {
                framework_key,
                current_plan,
                required_plan,
            } => json!({"detail": {
                "error": "plan_upgrade_required",
                "message": self.to_string(),
                "framework_key": framework_key,
                "current_plan": current_plan,
                "required_plan": required_plan,
            }}),
            ApiError::Validation(errors) | ApiError::InvalidQuery(errors) => {
                let worded: Vec<Worded> = errors
                    .iter()
                    .map(|e| e.worded(FieldError::compliance_words))
                    .collect();
                let summary = errors
                    .iter()
                    .zip(&worded)
                    .map(|(e, w)| match e.location() {
                        at if at.is_empty() => w.message.clone(),
                        at => format!("{at}: {}", w.message),
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                json!({"detail": summary, "errors": worded})
            }
            other => json!({"detail": other.to_string()}),
        }
    }

    /// The Audits API's shape: `{"error": CODE, "message": ..., "details": ...}`.
    fn audits_body(&self) -> Value {
        let code = match self {
            ApiError::Unauthorized(_) => "UNAUTHORIZED",
            ApiError::AdminRequired | ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::BadRequest(_) | ApiError::Validation(_) | ApiError::InvalidQuery(_) => {
                "VALIDATION_ERROR"
            }
            ApiError::PlanUpgradeRequired { .. } => "PLAN_UPGRADE_REQUIRED",
            ApiError::Conflict(_) => "CONFLICT",
            ApiError::Unprocessable(_) => "UNPROCESSABLE_ENTITY",
            ApiError::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            ApiError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::ServiceUnavailable(_) => "SERVICE_UNAVAILABLE",
            ApiError::Internal(_) | ApiError::Failed(..) => "INTERNAL_ERROR",
        };
        match self {
            ApiError::Unauthorized(_) => json!({
                "error": code, "message": "Not authenticated — no valid session found",
            }),
            ApiError::Validation(details) => json!({
                "error": code, "message": "Invalid request body",
                "details": details.iter().map(|e| e.worded(FieldError::audits_words)).collect::<Vec<_>>(),
            }),
            ApiError::InvalidQuery(details) => json!({
                "error": code, "message": "Invalid query parameters",
                "details": details.iter().map(|e| e.worded(FieldError::audits_words)).collect::<Vec<_>>(),
            }),
            ApiError::BadRequest(message) => json!({
                "error": code, "message": "Invalid request body",
                "details": [{"path": [], "message": message}],
            }),
            other => json!({"error": code, "message": other.to_string()}),
        }
    }

    /// The error as an upload's status shows it: the status and the body its direct request
    /// would have had, in the Compliance API's shape or (`audits`) the Audits API's.
    pub fn upload_problem(&self, audits: bool) -> compliance_uploads::UploadProblem {
        let body = if audits {
            self.audits_body()
        } else {
            self.detail_body()
        };
        let Value::Object(body) = body else {
            unreachable!("error bodies are objects")
        };
        compliance_uploads::UploadProblem {
            status: self.status().as_u16(),
            body,
        }
    }

    fn render(&self, body: Value) -> Response {
        if let ApiError::Internal(detail) | ApiError::Failed(_, detail) = self {
            // The span carries the request id (see `layers::request_id`).
            tracing::error!(error = %detail, "internal error");
        }
        let mut response = (self.status(), Json(body)).into_response();
        if matches!(self, ApiError::Unauthorized(_)) {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer, ApiKey"),
            );
        }
        if matches!(self, ApiError::ServiceUnavailable(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}

/// Marks an error response, so the family's layer can re-render it.
#[derive(Clone)]
struct Rendered(Arc<ApiError>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.render(self.detail_body());
        response.extensions_mut().insert(Rendered(Arc::new(self)));
        response
    }
}

/// Layer function for the Audits API's routers (`axum::middleware::map_response`).
pub async fn audits_error_shape(response: Response) -> Response {
    match response.extensions().get::<Rendered>().cloned() {
        Some(Rendered(error)) => {
            let mut out = error.render(error.audits_body());
            for name in [crate::REQUEST_ID_HEADER] {
                if let Some(v) = response.headers().get(name) {
                    out.headers_mut().insert(name, v.clone());
                }
            }
            out
        }
        None => response,
    }
}

/// What a 503 of an unreachable, throttling or stalled store says (the detail goes to the log).
pub const STORE_UNAVAILABLE: &str =
    "The data store (DynamoDB) is unavailable or throttling; retry after the time in Retry-After";

/// Seconds a client should wait before retrying a 503.
pub const RETRY_AFTER_SECONDS: u32 = 5;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => {
                ApiError::InvalidQuery(vec![FieldError::at("cursor", "invalid cursor")])
            }
            StoreError::Conflict | StoreError::ConditionFailed { .. } => {
                ApiError::Conflict("The resource was changed concurrently; retry".into())
            }
            StoreError::Unavailable(detail) => {
                tracing::warn!(error = %detail, "store unavailable");
                ApiError::ServiceUnavailable(STORE_UNAVAILABLE.into())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Store(e) => e.into(),
            AuthError::Unavailable => ApiError::ServiceUnavailable(
                "Authentication is temporarily unavailable; retry".into(),
            ),
            other => ApiError::Unauthorized(other.to_string()),
        }
    }
}

impl<E: Into<ApiError>> From<compliance_services::settings::UpdateError<E>> for ApiError {
    fn from(e: compliance_services::settings::UpdateError<E>) -> Self {
        use compliance_services::settings::UpdateError;
        match e {
            UpdateError::Rejected(e) => e.into(),
            UpdateError::Store(e) => e.into(),
            UpdateError::Contended => {
                ApiError::Conflict("Settings are being changed concurrently; retry".into())
            }
        }
    }
}

impl From<Vec<FieldError>> for ApiError {
    fn from(problems: Vec<FieldError>) -> Self {
        ApiError::Validation(problems)
    }
}
