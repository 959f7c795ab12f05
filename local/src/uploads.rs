//! The local server as its own upload target: the form S3 takes (`multipart/form-data`, the
//! policy's fields first and `file` last), checked by the same rules S3 applies
//! (`compliance_uploads::policy::verify`: signature, expiry, key, content type, every field
//! covered) and the length range while the file streams to the data folder, then processed by
//! the same code as S3's `ObjectCreated` event runs in AWS. Refusals carry S3's error codes.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use compliance_http::AppState;
use compliance_uploads::objects::{FolderObjects, Objects};
use compliance_uploads::policy::{self, PolicyError};
use compliance_uploads::target::LOCAL_UPLOAD_PATH;
use compliance_uploads::UploadTarget;
use process_upload::Processor;
use serde_json::json;

/// The most form fields and field bytes taken before the file (S3's own form has a dozen).
const MAX_FIELDS: usize = 32;
const MAX_FIELD_BYTES: usize = 16 * 1024;

#[derive(Clone)]
pub struct LocalUploads {
    pub target: Arc<UploadTarget>,
    pub objects: Arc<FolderObjects>,
    pub processor: Processor,
}

impl LocalUploads {
    /// The local target of `state`, if its uploads go to one.
    pub fn of(state: &AppState) -> Option<Self> {
        let target = state.uploads.clone()?;
        let objects = FolderObjects::new(target.local_objects()?)
            .inspect_err(|e| tracing::error!(error = %e, "the uploads folder"))
            .ok()?;
        let objects = Arc::new(objects);
        Some(LocalUploads {
            target,
            processor: Processor {
                state: state.clone(),
                objects: objects.clone(),
                // The local server evaluates every run itself, on its thread pool.
                fanout: None,
            },
            objects,
        })
    }

    /// Processes the uploads a previous run of the server received but did not finish (killed
    /// mid-way): no other process reads this data folder, so their claims are taken over.
    pub fn resume(&self) {
        // What a killed server left in scratch space (a file half received, a run's partition
        // files) is nobody's now: the upload is processed again from its object.
        let scratch = self.objects.scratch();
        if let Err(e) =
            std::fs::remove_dir_all(scratch).and_then(|()| std::fs::create_dir_all(scratch))
        {
            tracing::warn!(error = %e, "clearing the uploads' scratch folder");
        }
        let local = self.clone();
        compliance_services::tasks::spawn(async move {
            let keys = match local
                .objects
                .list(compliance_uploads::model::UPLOADS_PREFIX)
                .await
            {
                Ok(keys) => keys,
                Err(e) => return tracing::error!(error = %e, "listing received uploads"),
            };
            for key in keys {
                if let Err(e) =
                    process_upload::process(&local.processor, &key, chrono::Duration::zero()).await
                {
                    tracing::error!(key, error = %e, "a received upload was not processed");
                }
            }
        });
    }

    pub fn router(self) -> Router {
        Router::new()
            .route(LOCAL_UPLOAD_PATH, post(receive))
            // The form's own policy bounds the file; the API's body limits do not apply.
            .layer(DefaultBodyLimit::disable())
            .with_state(self)
    }
}

/// A refusal as S3 words it (`code`), in the API's JSON.
fn refused(e: PolicyError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(json!({"code": e.code, "detail": e.message}))).into_response()
}

fn malformed(message: impl Into<String>) -> Response {
    refused(PolicyError {
        code: "MalformedPOSTRequest",
        message: message.into(),
    })
}

async fn receive(State(local): State<LocalUploads>, mut form: Multipart) -> Response {
    let mut fields = BTreeMap::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return malformed("The form has no field named 'file'"),
            Err(e) => return malformed(format!("The body is not a multipart form: {e}")),
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            return store_file(&local, &fields, field).await;
        }
        if fields.len() == MAX_FIELDS {
            return malformed("Too many form fields");
        }
        match field.text().await {
            Ok(value) if value.len() <= MAX_FIELD_BYTES => {
                fields.insert(name, value);
            }
            Ok(_) => return malformed(format!("Form field {name} is too long")),
            Err(e) => return malformed(format!("Form field {name}: {e}")),
        }
    }
}

async fn store_file(
    local: &LocalUploads,
    fields: &BTreeMap<String, String>,
    mut file: axum::extract::multipart::Field<'_>,
) -> Response {
    let Some(signer) = local.target.local_key() else {
        return malformed("This server is not an upload target");
    };
    let now = local.processor.state.now();
    let accepted = match policy::verify(signer, &local.target.bucket, fields, now) {
        Ok(accepted) => accepted,
        Err(e) => return refused(e),
    };
    let Some(path) = local.objects.path_of(&accepted.key) else {
        return refused(PolicyError {
            code: "InvalidArgument",
            message: "The key is not a valid object key".into(),
        });
    };
    let (min, max) = accepted.length_range.unwrap_or((0, u64::MAX));
    let incoming = match Incoming::create(local.objects.scratch()) {
        Ok(incoming) => incoming,
        Err(e) => return server_error(e),
    };
    let mut out = match std::fs::File::create(&incoming.0) {
        Ok(out) => std::io::BufWriter::with_capacity(1 << 20, out),
        Err(e) => return server_error(e),
    };
    let mut size = 0u64;
    loop {
        match file.chunk().await {
            Ok(Some(chunk)) => {
                size += chunk.len() as u64;
                if size > max {
                    return refused(PolicyError {
                        code: "EntityTooLarge",
                        message: format!(
                            "Your proposed upload exceeds the maximum allowed size ({max} bytes)"
                        ),
                    });
                }
                if let Err(e) = out.write_all(&chunk) {
                    return server_error(e);
                }
            }
            Ok(None) => break,
            Err(e) => return malformed(format!("The file could not be read: {e}")),
        }
    }
    if size < min {
        return refused(PolicyError {
            code: "EntityTooSmall",
            message: format!(
                "Your proposed upload is smaller than the minimum allowed size ({min} bytes)"
            ),
        });
    }
    let stored = out
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .and_then(|()| {
            std::fs::create_dir_all(path.parent().expect("an object key has a folder"))?;
            // The object appears whole or not at all, as an S3 object does.
            std::fs::rename(&incoming.0, &path)
        });
    if let Err(e) = stored {
        return server_error(e);
    }
    let processor = local.processor.clone();
    let key = accepted.key;
    compliance_services::tasks::spawn(async move {
        if let Err(e) = process_upload::process(&processor, &key, process_upload::lease()).await {
            tracing::error!(key, error = %e, "the upload was not processed (it will be at the next start)");
        }
    });
    StatusCode::NO_CONTENT.into_response()
}

fn server_error(e: std::io::Error) -> Response {
    tracing::error!(error = %e, "storing an upload");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"code": "InternalError", "detail": "The upload could not be stored"})),
    )
        .into_response()
}

/// A file being received, removed unless it was moved into place.
struct Incoming(PathBuf);

impl Incoming {
    fn create(dir: &std::path::Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Incoming(
            dir.join(format!("incoming-{}", uuid::Uuid::new_v4())),
        ))
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
