//! `POST /api/repos/{repo_id}/uploads` and `GET …/uploads/{upload_id}`: a report larger than a
//! request body, sent to object storage with a signed form and ingested from there as a scan.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use compliance_http::uploads::{self, AnnounceUpload, UploadForm, UploadView};
use compliance_http::{ApiError, AppState, Caller, Contributor, JsonBody, Meta};
use compliance_uploads::Target;

use crate::repos::owned;

pub async fn announce(
    State(state): State<AppState>,
    Contributor(principal): Contributor,
    Meta(meta): Meta,
    Path(repo): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AnnounceUpload>,
) -> Result<(StatusCode, Json<UploadForm>), ApiError> {
    let repo = owned(&state, &principal.org_id, &repo).await?;
    let target = Target::Scan {
        repo_id: repo.repo_id,
    };
    let base = format!("/api/repos/{}/uploads", repo.repo_id);
    uploads::announce(&state, &principal, meta, &headers, target, body, &base).await
}

pub async fn status(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((repo, upload_id)): Path<(String, String)>,
) -> Result<Json<UploadView>, ApiError> {
    let repo = owned(&state, &principal.org_id, &repo).await?;
    let target = Target::Scan {
        repo_id: repo.repo_id,
    };
    uploads::status(&state, &principal.org_id, &upload_id, &target).await
}
