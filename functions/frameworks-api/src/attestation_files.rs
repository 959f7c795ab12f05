//! The file kept as an attestation's evidence: `PUT …/attestation/file` attaches one (a new
//! version of the attestation, with the file's SHA-256), `GET …/attestation/file` answers it as
//! it was attached, checked against that SHA-256.

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, ETAG, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use compliance_http::{Admin, ApiError, AppState, Caller, Meta, Params, RawBody};
use compliance_services::attestations::{self, Attached, NewFile, MAX_FILE_BYTES};
use serde::Deserialize;

use crate::attestations::{control_of, AttestationView};

/// What an auditor is handed as evidence: documents, images, exports. Nothing a browser would
/// run as a page of ours.
pub const FILE_TYPES: [&str; 9] = [
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/csv",
    "application/json",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];

/// The route's body limit: the largest file, and room for nothing else.
pub const BODY_LIMIT: usize = MAX_FILE_BYTES;

const MAX_NAME: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachQuery {
    /// The file's name as the auditor will see it (`evidence` when absent).
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    /// A version of the attestation (the one in force when absent).
    version: Option<u32>,
}

/// The media type of the request, when it is one of [`FILE_TYPES`].
fn file_type(headers: &HeaderMap) -> Result<&'static str, ApiError> {
    let sent = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    sent.as_deref()
        .and_then(|t| FILE_TYPES.iter().find(|f| **f == t).copied())
        .ok_or_else(|| {
            ApiError::UnsupportedMediaType(format!(
                "Content-Type must be one of {}",
                FILE_TYPES.join(", ")
            ))
        })
}

/// A name safe in a header and on a disk: printable, no path, no quotes.
fn file_name(name: Option<String>) -> Result<String, ApiError> {
    let name = name.unwrap_or_else(|| "evidence".into());
    // Printable ASCII only: a header carries it as is, and no right-to-left or other format
    // character can make `report.pdf` of a `…fdp.exe`.
    let bad = name.is_empty()
        || name.len() > MAX_NAME
        || name
            .chars()
            .any(|c| !(' '..='~').contains(&c) || matches!(c, '/' | '\\' | '"'));
    if bad {
        return Err(ApiError::query(
            "name",
            format!("1 to {MAX_NAME} printable ASCII characters, without slashes or quotes"),
        ));
    }
    Ok(name)
}

/// `PUT …/controls/{control_id}/attestation/file?name=` (admin): the body is the file.
pub async fn put(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path((key, control_id)): Path<(String, String)>,
    Params(query): Params<AttachQuery>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<AttestationView>, ApiError> {
    let content_type = file_type(&headers)?;
    let name = file_name(query.name)?;
    if body.is_empty() {
        return Err(ApiError::BadRequest("The file is empty".into()));
    }
    let framework = control_of(&state, &principal.org_id, &key, &control_id).await?;
    let file = NewFile {
        name,
        content_type: content_type.to_string(),
        bytes: body.to_vec(),
    };
    let ctx = state.audit(&principal, meta);
    let now = state.now();
    match attestations::attach(state.store.as_ref(), &ctx, &framework, &control_id, file).await? {
        Attached::Done(a) => Ok(Json(AttestationView::of(*a, now))),
        Attached::NotFound => Err(ApiError::NotFound(format!(
            "Control {control_id} of framework {key} has no attestation: record one first"
        ))),
        Attached::Conflict => Err(ApiError::Conflict(
            "The attestation changed while the file was attached: read it and try again".into(),
        )),
    }
}

/// `GET …/controls/{control_id}/attestation/file?version=`: the file as attached, with its
/// SHA-256 as the entity tag and in `Repr-Digest`.
pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((key, control_id)): Path<(String, String)>,
    Params(query): Params<FileQuery>,
) -> Result<Response, ApiError> {
    if query.version == Some(0) {
        return Err(ApiError::query("version", "versions are numbered from 1"));
    }
    let framework = control_of(&state, &principal.org_id, &key, &control_id).await?;
    let store = state.store.as_ref();
    let found = attestations::file(
        store,
        &principal.org_id,
        &framework,
        &control_id,
        query.version,
    )
    .await?;
    let Some((meta, bytes)) = found else {
        return Err(ApiError::NotFound(match query.version {
            Some(v) => format!("Version {v} of the attestation of {key} {control_id} has no file"),
            None => format!("The attestation of {key} {control_id} in force has no file"),
        }));
    };
    let digest = hex::decode(&meta.sha256).unwrap_or_default();
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    let header = |v: String| HeaderValue::from_str(&v).ok();
    if let Some(v) = header(meta.content_type) {
        h.insert(CONTENT_TYPE, v);
    }
    if let Some(v) = header(format!("attachment; filename=\"{}\"", meta.name)) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    if let Some(v) = header(format!("\"{}\"", meta.sha256)) {
        h.insert(ETAG, v);
    }
    if let Some(v) = header(format!(
        "sha-256=:{}:",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )) {
        h.insert("repr-digest", v);
    }
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}
