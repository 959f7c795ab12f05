//! An upload's record through its life: announced (with its audit entry), claimed by the one
//! process that reads its object, then complete in the very write that stores its scan or run, or
//! failed (with its audit entry). Each change is conditioned on the version read, so of two
//! processes handed the same object (S3 delivers events at least once) one claims it, and a scan
//! or run is stored at most once per upload.

use chrono::{DateTime, Duration, Utc};
use compliance_domain::ids::{OrgId, Uuid};
use compliance_services::audit_log::{self, AuditAction, AuditContext};
use compliance_store::keys;
use compliance_store::record::{Record, Records};
use compliance_store::{Condition, Store, StoreError, WriteOp};
use serde_json::json;

use crate::model::{Upload, UploadProblem, UploadResult, UploadStatus};

/// A claim older than this is taken to be a process that died (kill -9, a Lambda timeout): its
/// upload may be claimed again. Longer than any function runs (15 minutes).
pub const CLAIM_LEASE_MINUTES: i64 = 20;

/// [`CLAIM_LEASE_MINUTES`] as a duration.
pub fn lease() -> Duration {
    Duration::minutes(CLAIM_LEASE_MINUTES)
}

fn versioned(upload: &Upload) -> Condition {
    Condition::Equals("version".into(), json!(upload.version))
}

/// Writes the announced upload with its `UPLOAD_CREATED` entry.
pub async fn create(
    store: &dyn Store,
    ctx: &AuditContext,
    upload: &Upload,
) -> Result<(), StoreError> {
    let metadata = json!({
        "upload_id": upload.upload_id,
        "target": upload.target,
        "content_type": upload.content_type,
        "content_encoding": upload.content_encoding,
        "max_bytes": upload.max_bytes,
        "expires_at": upload.expires_at,
    });
    audit_log::commit(
        store,
        vec![upload.put_if(Condition::NotExists)],
        ctx,
        AuditAction::UploadCreated,
        metadata,
    )
    .await?;
    Ok(())
}

pub async fn get(
    store: &dyn Store,
    org: &OrgId,
    upload_id: &Uuid,
) -> Result<Option<Upload>, StoreError> {
    store.get_record(&keys::upload(org, upload_id)).await
}

/// What a process handed an object may do with its upload.
#[derive(Debug)]
pub enum Claim {
    /// This process reads the object; the record as claimed.
    Mine(Upload),
    /// Another process is reading it (its claim is fresh).
    Busy,
    /// It is complete or failed already: the object is a redelivery, to be deleted.
    Done(Upload),
}

/// Claims the upload for processing, `bytes` being the object's size; a claim younger than
/// `lease` is another process's.
pub async fn claim(
    store: &dyn Store,
    upload: Upload,
    bytes: u64,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Claim, StoreError> {
    match upload.status {
        UploadStatus::Complete | UploadStatus::Failed => return Ok(Claim::Done(upload)),
        UploadStatus::Processing if now - upload.updated_at < lease => return Ok(Claim::Busy),
        UploadStatus::Pending | UploadStatus::Processing => {}
    }
    let mut claimed = upload.clone();
    claimed.status = UploadStatus::Processing;
    claimed.version += 1;
    claimed.updated_at = now;
    claimed.bytes = Some(bytes);
    match store.write(vec![claimed.put_if(versioned(&upload))]).await {
        Ok(()) => Ok(Claim::Mine(claimed)),
        // Another process claimed it between the read and the write.
        Err(StoreError::ConditionFailed { .. }) => Ok(Claim::Busy),
        Err(e) => Err(e),
    }
}

/// The write that completes a claimed upload with what it made: part of the write that stores the
/// scan or run, so both happen or neither.
pub fn complete_op(claimed: &Upload, result: UploadResult, now: DateTime<Utc>) -> WriteOp {
    let mut done = claimed.clone();
    done.status = UploadStatus::Complete;
    done.version += 1;
    done.updated_at = now;
    done.result = Some(result);
    done.put_if(versioned(claimed))
}

/// Completes a claimed upload that stored nothing new (its report was stored before).
pub async fn complete(
    store: &dyn Store,
    claimed: &Upload,
    result: UploadResult,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store.write(vec![complete_op(claimed, result, now)]).await
}

/// Hands a claimed upload over to the partitioned evaluation `execution`; answers the record as
/// written, which the evaluation's last step completes or fails.
pub async fn hand_over(
    store: &dyn Store,
    claimed: &Upload,
    execution: String,
    now: DateTime<Utc>,
) -> Result<Upload, StoreError> {
    let mut handed = claimed.clone();
    handed.version += 1;
    handed.updated_at = now;
    handed.execution = Some(execution);
    store.write(vec![handed.put_if(versioned(claimed))]).await?;
    Ok(handed)
}

/// Marks a claimed upload failed, with its `UPLOAD_FAILED` entry; nothing else was stored.
pub async fn fail(
    store: &dyn Store,
    ctx: &AuditContext,
    claimed: &Upload,
    problem: UploadProblem,
) -> Result<(), StoreError> {
    let mut failed = claimed.clone();
    failed.status = UploadStatus::Failed;
    failed.version += 1;
    failed.updated_at = ctx.at;
    let metadata = json!({
        "upload_id": claimed.upload_id,
        "target": claimed.target,
        "bytes": claimed.bytes,
        "status": problem.status,
        "error": problem.body,
    });
    failed.error = Some(problem);
    audit_log::commit(
        store,
        vec![failed.put_if(versioned(claimed))],
        ctx,
        AuditAction::UploadFailed,
        metadata,
    )
    .await?;
    Ok(())
}
