//! The upload endpoints' common part: announcing an upload (a signed form answered), and its
//! status. The scans and audits functions each decide what the upload is for and who may send it.

use std::collections::BTreeMap;

use axum::http::header::HOST;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use compliance_domain::identity::Principal;
use compliance_domain::ids::{OrgId, ScanId, Uuid};
use compliance_services::audit_log::RequestMeta;
use compliance_services::orgs;
use compliance_uploads::policy::{self, PolicyTerms};
use compliance_uploads::{
    max_upload_bytes, object_key, records, Target, Upload, UploadContentType, UploadEncoding,
    UploadProblem, UploadResult, UploadStatus, Uploader,
};
use serde::Serialize;

use crate::body::{FromBody, Object};
use crate::{ApiError, AppState};

/// `{"content_type": …, "content_encoding": "gzip"}`, the encoding optional.
pub struct AnnounceUpload {
    pub content_type: UploadContentType,
    pub content_encoding: Option<UploadEncoding>,
}

impl FromBody for AnnounceUpload {
    fn from_body(body: &mut Object) -> Option<Self> {
        let content_type = body.required("content_type", |f| f.label());
        let content_encoding = body.optional("content_encoding", |f| f.label());
        Some(AnnounceUpload {
            content_type: content_type?,
            content_encoding: content_encoding?,
        })
    }
}

/// The signed form: post `fields`, then the file as the last field (`file`), to `url`.
#[derive(Serialize)]
pub struct UploadForm {
    pub upload_id: Uuid,
    pub url: String,
    pub fields: BTreeMap<String, String>,
    #[serde(with = "compliance_domain::time::micros")]
    pub expires_at: DateTime<Utc>,
    /// The largest file the form takes (the org's plan's).
    pub max_bytes: u64,
    pub status_url: String,
}

/// An upload as the API shows it.
#[derive(Serialize)]
pub struct UploadView {
    pub upload_id: Uuid,
    pub status: UploadStatus,
    pub content_type: UploadContentType,
    pub content_encoding: Option<UploadEncoding>,
    #[serde(with = "compliance_domain::time::micros")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "compliance_domain::time::micros")]
    pub expires_at: DateTime<Utc>,
    #[serde(with = "compliance_domain::time::micros")]
    pub updated_at: DateTime<Utc>,
    pub max_bytes: u64,
    /// The object's size, once it arrived.
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan_id: Option<ScanId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<Uuid>,
    /// Why it failed (the body a direct request with the same bytes would have had), or why
    /// it is still pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<UploadProblem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl UploadView {
    pub fn of(upload: Upload, now: DateTime<Utc>) -> Self {
        let (mut status, mut error, mut reason) = (upload.status, upload.error, None);
        // What ended an upload that nothing completes or fails any more, in its API's shape.
        let audits = matches!(upload.target, Target::Run { .. });
        let ended = |message: String| Some(ApiError::Conflict(message).upload_problem(audits));
        if status == UploadStatus::Pending {
            let expires = upload.expires_at.to_rfc3339();
            if now >= upload.expires_at {
                // No job needed: a form that expired unused can no longer bring anything.
                status = UploadStatus::Failed;
                error = ended(format!(
                    "No file arrived before the form expired at {expires}: announce a new upload"
                ));
            } else {
                reason = Some(format!(
                    "Waiting for the file: post it with the form's fields to its url before {expires}"
                ));
            }
        }
        let handed_over = upload.execution.is_some();
        if status == UploadStatus::Processing
            && !handed_over
            && now - upload.updated_at > records::lease()
        {
            // The process reading it died (out of time or memory) and no retry took it over.
            status = UploadStatus::Failed;
            error = ended(
                "Processing stopped before the upload was stored (it ran out of time or \
                 memory); nothing was stored: announce a new upload"
                    .to_string(),
            );
        }
        let (scan_id, duplicate, run_id) = match upload.result {
            Some(UploadResult::Scan { scan_id, duplicate }) => {
                (Some(scan_id), Some(duplicate), None)
            }
            Some(UploadResult::Run { run_id }) => (None, None, Some(run_id)),
            None => (None, None, None),
        };
        UploadView {
            upload_id: upload.upload_id,
            status,
            content_type: upload.content_type,
            content_encoding: upload.content_encoding,
            created_at: upload.created_at,
            expires_at: upload.expires_at,
            updated_at: upload.updated_at,
            max_bytes: upload.max_bytes,
            bytes: upload.bytes,
            scan_id,
            duplicate,
            run_id,
            error,
            reason,
        }
    }
}

fn new_upload_id() -> Uuid {
    Uuid::parse(&uuid::Uuid::now_v7().to_string()).expect("a UUID")
}

/// The scheme and host a client reached the API by (the local target's form URL is there too).
fn reached_at(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(HOST)?.to_str().ok()?;
    let safe = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    safe.then(|| format!("http://{host}"))
}

/// Announces an upload for `target`: the record (with its `UPLOAD_CREATED` entry) and the form.
/// `status_base` is the collection's path (`/api/repos/7/uploads`).
pub async fn announce(
    state: &AppState,
    principal: &Principal,
    meta: RequestMeta,
    headers: &HeaderMap,
    target: Target,
    body: AnnounceUpload,
    status_base: &str,
) -> Result<(StatusCode, Json<UploadForm>), ApiError> {
    let Some(uploads) = state.uploads.as_ref() else {
        return Err(ApiError::ServiceUnavailable(
            "Uploads are not configured on this deployment (no UPLOADS_BUCKET): send the body \
             directly, within the direct limit"
                .into(),
        ));
    };
    if !target.accepts(body.content_type) {
        let allowed = match target {
            Target::Scan { .. } => "application/sarif+json or application/json",
            Target::Run { .. } => "application/x-ndjson or text/csv",
        };
        return Err(ApiError::field(
            "content_type",
            format!("must be {allowed} here"),
        ));
    }
    let org = orgs::get(state.store.as_ref(), &principal.org_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Org not found".into()))?;
    let now = state.now();
    let upload_id = new_upload_id();
    let key = object_key(&principal.org_id, &upload_id);
    let expires_at = compliance_uploads::UploadTarget::expiry(now);
    let max_bytes = max_upload_bytes(org.plan);
    let signer = uploads.signing_key().await.map_err(ApiError::internal)?;
    let fields = policy::sign(
        &signer,
        &PolicyTerms {
            bucket: &uploads.bucket,
            key: &key,
            content_type: body.content_type.as_str(),
            max_bytes,
            expires_at,
        },
        now,
    );
    let upload = Upload {
        org_id: principal.org_id.clone(),
        upload_id: upload_id.clone(),
        target,
        content_type: body.content_type,
        content_encoding: body.content_encoding,
        object_key: key,
        max_bytes,
        plan: org.plan,
        created_at: now,
        expires_at,
        uploader: Uploader::of(principal, meta.clone()),
        status: UploadStatus::Pending,
        version: 0,
        updated_at: now,
        bytes: None,
        result: None,
        error: None,
        execution: None,
    };
    let ctx = state.audit(principal, meta);
    records::create(state.store.as_ref(), &ctx, &upload).await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadForm {
            url: uploads.form_url(reached_at(headers).as_deref()),
            status_url: format!("{status_base}/{upload_id}"),
            upload_id,
            fields,
            expires_at,
            max_bytes,
        }),
    ))
}

/// The upload `upload_id` of the org, if it is for `target` (any other is a 404).
pub async fn status(
    state: &AppState,
    org: &OrgId,
    upload_id: &str,
    target: &Target,
) -> Result<Json<UploadView>, ApiError> {
    let not_found = || ApiError::NotFound("Upload not found".into());
    let upload_id = Uuid::parse(upload_id).map_err(|_| not_found())?;
    let upload = records::get(state.store.as_ref(), org, &upload_id)
        .await?
        .filter(|u| &u.target == target)
        .ok_or_else(not_found)?;
    Ok(Json(UploadView::of(upload, state.now())))
}
