//! An uploaded object becomes the scan or run it was announced for: read from object storage as
//! a stream (decompressed as it is read when it is gzip), through the same parsers as a direct
//! request, stored exactly as one (same records, audit entries, rescoring, trend point), the
//! upload completed in that same write; or, when it cannot be read, the upload failed with the
//! error a direct request would have got, and nothing stored. The object is deleted either way.
//!
//! The Lambda (`main.rs`) runs it on S3's `ObjectCreated` events; the local server runs it on
//! the files its own upload target receives.
//!
//! - `decoded`: an object's bytes as the parsers read them (gunzipped, capped).
//! - `scan` and `run`: what each target makes of them.

mod decoded;
pub mod event;
pub mod fanout;
mod run;
mod scan;

use std::sync::Arc;

use chrono::Duration;
use compliance_http::{ApiError, AppState};
use compliance_store::StoreError;
use compliance_uploads::objects::{ObjectError, Objects};
use compliance_uploads::records::{self, Claim};
use compliance_uploads::{parse_object_key, Target, Upload, UploadResult, UploadStatus};

/// What processing needs: the API's state (the store, the clock, the retention) and where the
/// objects are.
#[derive(Clone)]
pub struct Processor {
    pub state: AppState,
    pub objects: Arc<dyn Objects>,
    /// Where runs past one function's reach are handed (`None`: every run is evaluated here,
    /// as the local server does, on its thread pool).
    pub fanout: Option<fanout::Fanout>,
}

/// What became of an object.
#[derive(Debug, PartialEq)]
pub enum Processed {
    Complete(UploadResult),
    /// Handed to the partitioned evaluation (its execution), which completes the upload.
    HandedOver(String),
    Failed(u16),
    /// Nothing to do: not an upload of ours, a redelivery of one done, or one another process
    /// is reading.
    Skipped(&'static str),
}

/// A failure that leaves the object in place to be processed again (the store or the object
/// storage unavailable); the upload's own faults are [`Processed::Failed`].
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Objects(#[from] ObjectError),
    #[error("{0}")]
    Internal(String),
}

impl ProcessError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ProcessError::Internal(e.to_string())
    }
}

/// How long a claim holds before another process may take the upload over.
pub use compliance_uploads::records::lease;

/// Processes the object at `key`. `lease`: how old a claim must be before it is taken over
/// ([`lease()`]; zero when the caller knows no other process runs, as the local server does at
/// start-up, after a kill).
pub async fn process(p: &Processor, key: &str, lease: Duration) -> Result<Processed, ProcessError> {
    let Some((org, upload_id)) = parse_object_key(key) else {
        tracing::warn!(key, "an object that is no upload of ours: deleted");
        p.objects.delete(key).await?;
        return Ok(Processed::Skipped("not an upload"));
    };
    let store = p.state.store.as_ref();
    let Some(upload) = records::get(store, &org, &upload_id).await? else {
        tracing::warn!(key, "an object without its upload record: deleted");
        p.objects.delete(key).await?;
        return Ok(Processed::Skipped("no such upload"));
    };
    let fetched = match p.objects.fetch(key).await {
        Ok(fetched) => fetched,
        // A redelivered event for an object already processed and deleted.
        Err(ObjectError::NotFound(_)) => return Ok(Processed::Skipped("object gone")),
        Err(e) => return Err(e.into()),
    };
    let now = p.state.now();
    let claimed = match records::claim(store, upload, fetched.size, now, lease).await? {
        Claim::Mine(claimed) => claimed,
        Claim::Busy => return Ok(Processed::Skipped("being processed")),
        Claim::Done(_) => {
            p.objects.delete(key).await?;
            return Ok(Processed::Skipped("already processed"));
        }
    };
    let outcome = read_and_store(p, &claimed, &fetched.path, fetched.size).await;
    drop(fetched);
    let processed = match outcome {
        Ok(Done::Stored(result)) => Processed::Complete(result),
        Ok(Done::HandedOver(execution)) => {
            records::hand_over(store, &claimed, execution.clone(), p.state.now()).await?;
            Processed::HandedOver(execution)
        }
        Err(Outcome::Refused(e)) => {
            let audits = matches!(claimed.target, Target::Run { .. });
            let problem = e.upload_problem(audits);
            let status = problem.status;
            let ctx = claimed
                .uploader
                .audit(&org, p.state.audit_retention_days, p.state.now());
            records::fail(store, &ctx, &claimed, problem).await?;
            Processed::Failed(status)
        }
        Err(Outcome::Retry(e)) => return Err(e),
    };
    p.objects.delete(key).await?;
    tracing::info!(key, ?processed, "upload processed");
    Ok(processed)
}

/// What reading did: stored the scan or run, or handed the records to the partitioned
/// evaluation.
enum Done {
    Stored(UploadResult),
    HandedOver(String),
}

/// Why reading and storing did not complete: the upload's fault (it fails, as a direct request
/// would have been refused), or a passing one (the object stays, to be processed again).
enum Outcome {
    Refused(ApiError),
    Retry(ProcessError),
}

impl From<ApiError> for Outcome {
    fn from(e: ApiError) -> Self {
        match e {
            // A bug, or the store unavailable for now: try again later.
            ApiError::Internal(detail)
            | ApiError::Failed(_, detail)
            | ApiError::ServiceUnavailable(detail) => {
                Outcome::Retry(ProcessError::Internal(detail))
            }
            // A concurrent change (the upload completed by another process, a write
            // contended): read it all again later.
            ApiError::Conflict(detail) if detail.contains("concurrently") => {
                Outcome::Retry(ProcessError::Internal(detail))
            }
            refused => Outcome::Refused(refused),
        }
    }
}

impl From<StoreError> for Outcome {
    fn from(e: StoreError) -> Self {
        Outcome::Retry(e.into())
    }
}

async fn read_and_store(
    p: &Processor,
    claimed: &Upload,
    path: &std::path::Path,
    size: u64,
) -> Result<Done, Outcome> {
    debug_assert_eq!(claimed.status, UploadStatus::Processing);
    if size > claimed.max_bytes {
        // The policy's range makes this impossible; a stand-in that does not enforce it must not
        // make it possible either.
        return Err(ApiError::PayloadTooLarge(format!(
            "The upload is {size} bytes, over the {} bytes its form allowed",
            claimed.max_bytes
        ))
        .into());
    }
    let source = decoded::Source::new(path, claimed.content_encoding, claimed.max_bytes);
    match &claimed.target {
        Target::Scan { repo_id } => scan::store(p, claimed, *repo_id, source)
            .await
            .map(Done::Stored),
        Target::Run { audit_id, .. } => run::store(p, claimed, audit_id, source, size).await,
    }
}
