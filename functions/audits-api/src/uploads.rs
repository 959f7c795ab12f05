//! `POST /api/audits/{audit_id}/uploads` and `GET …/uploads/{upload_id}`: records larger than a
//! request body (a day of a bank's transactions), sent to object storage with a signed form and
//! evaluated from there as a run of the audit.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use compliance_http::uploads::{self, AnnounceUpload, UploadForm, UploadView};
use compliance_http::{ApiError, AppState, Caller, Contributor, JsonBody, Meta};
use compliance_uploads::Target;

use crate::records::owner;
use crate::runs::own_audit;

pub async fn announce(
    State(state): State<AppState>,
    Contributor(principal): Contributor,
    Meta(meta): Meta,
    Path(audit_id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AnnounceUpload>,
) -> Result<(StatusCode, Json<UploadForm>), ApiError> {
    let audit = own_audit(&state, &principal, &audit_id).await?;
    let base = format!("/api/audits/{}/uploads", audit.audit_id);
    let target = Target::Run {
        audit_id: audit.audit_id,
        owner: owner(&principal),
    };
    uploads::announce(&state, &principal, meta, &headers, target, body, &base).await
}

pub async fn status(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((audit_id, upload_id)): Path<(String, String)>,
) -> Result<Json<UploadView>, ApiError> {
    let audit = own_audit(&state, &principal, &audit_id).await?;
    let target = Target::Run {
        audit_id: audit.audit_id,
        owner: owner(&principal),
    };
    uploads::status(&state, &principal.org_id, &upload_id, &target).await
}
