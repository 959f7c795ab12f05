//! An upload as stored: what the client announced, where the object goes, who asked (the scan or
//! run it makes is theirs, with their audit entries), and how far its processing went.

use chrono::{DateTime, Utc};
use compliance_domain::identity::{ActorKind, Principal};
use compliance_domain::ids::{OrgId, RepoId, ScanId, Uuid};
use compliance_domain::labels;
use compliance_domain::plans::{Plan, Role};
use compliance_services::audit_log::{AuditContext, RequestMeta};
use compliance_store::keys;
use compliance_store::record::Record;
use compliance_store::Key;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where upload objects live, under the bucket (or the local data folder): one prefix, which the
/// S3 event notification filters on and the functions' permissions are scoped to.
pub const UPLOADS_PREFIX: &str = "uploads/";

/// How long a presigned policy may be used.
pub const POLICY_MINUTES: i64 = 15;

/// How long an upload's record is kept (its status stays readable after the object is gone).
pub const RECORD_DAYS: i64 = 30;

labels! {
    /// Where an upload is in its life.
    pub enum UploadStatus as "upload status" {
        /// Announced; no object has arrived (after `expires_at`, none can).
        Pending => "pending",
        /// The object arrived and is being read.
        Processing => "processing",
        /// Stored: `scan_id` or `run_id` names what it made.
        Complete => "complete",
        /// Refused: `error` says why, as a direct request's 4xx body would; nothing was stored.
        Failed => "failed",
    }
}

labels! {
    /// What an upload may carry.
    pub enum UploadContentType as "content type" {
        Sarif => "application/sarif+json",
        Json => "application/json",
        Ndjson => "application/x-ndjson",
        Csv => "text/csv",
    }
}

labels! {
    /// How an upload's bytes are encoded.
    pub enum UploadEncoding as "content encoding" {
        Gzip => "gzip",
    }
}

/// What the upload becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UploadTarget {
    /// A scan of a repository (SARIF or the native document).
    Scan { repo_id: RepoId },
    /// A run of an audit, owned by `owner` (the audit's creator: the uploader).
    Run { audit_id: Uuid, owner: String },
}

impl UploadTarget {
    /// The content types this target takes.
    pub fn accepts(&self, content_type: UploadContentType) -> bool {
        use UploadContentType::*;
        match self {
            UploadTarget::Scan { .. } => matches!(content_type, Sarif | Json),
            UploadTarget::Run { .. } => matches!(content_type, Ndjson | Csv),
        }
    }
}

/// Who announced the upload, as their request's audit context knew them: the scan or run is
/// stored under their name when the object is processed, minutes later and in another process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploader {
    pub kind: ActorKind,
    pub actor_id: String,
    pub email: Option<String>,
    pub role: Role,
    pub meta: RequestMeta,
}

impl Uploader {
    pub fn of(principal: &Principal, meta: RequestMeta) -> Self {
        Uploader {
            kind: principal.kind,
            actor_id: principal.actor_id.clone(),
            email: principal.email.clone(),
            role: principal.role,
            meta,
        }
    }

    pub fn principal(&self, org_id: &OrgId) -> Principal {
        Principal {
            org_id: org_id.clone(),
            role: self.role,
            actor_id: self.actor_id.clone(),
            email: self.email.clone(),
            kind: self.kind,
        }
    }

    /// The audit context of what the upload stores, at `at`.
    pub fn audit(&self, org_id: &OrgId, retention_days: i64, at: DateTime<Utc>) -> AuditContext {
        AuditContext::for_principal(
            &self.principal(org_id),
            self.meta.clone(),
            retention_days,
            at,
        )
    }
}

/// What an upload made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UploadResult {
    Scan {
        scan_id: ScanId,
        /// The same report was stored before (by content): the first scan.
        duplicate: bool,
    },
    Run {
        run_id: Uuid,
    },
}

/// Why an upload failed: the status and body a direct request with the same bytes would have
/// been answered with, in its API's error shape (the scan's `{"detail", "errors"}`, the run's
/// `{"error", "message", "details"}`), naming the line and field at fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadProblem {
    pub status: u16,
    #[serde(flatten)]
    pub body: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upload {
    pub org_id: OrgId,
    pub upload_id: Uuid,
    pub target: UploadTarget,
    pub content_type: UploadContentType,
    pub content_encoding: Option<UploadEncoding>,
    /// The object's key in the bucket (or under the local data folder's `uploads/`).
    pub object_key: String,
    /// The policy's `content-length-range` maximum: the org's plan's.
    pub max_bytes: u64,
    /// The plan when the upload was announced (how wide a large run may fan out).
    pub plan: Plan,
    #[serde(with = "compliance_domain::time::micros")]
    pub created_at: DateTime<Utc>,
    /// The policy's expiry: no object can arrive after it. (Stored under another name:
    /// `expires_at` is the table's TTL attribute, the record's own expiry.)
    #[serde(rename = "form_expires_at", with = "compliance_domain::time::micros")]
    pub expires_at: DateTime<Utc>,
    pub uploader: Uploader,
    pub status: UploadStatus,
    /// Incremented by every change; the condition of the next.
    pub version: u64,
    #[serde(with = "compliance_domain::time::micros")]
    pub updated_at: DateTime<Utc>,
    /// The object's size, once it arrived.
    #[serde(default)]
    pub bytes: Option<u64>,
    #[serde(default)]
    pub result: Option<UploadResult>,
    #[serde(default)]
    pub error: Option<UploadProblem>,
    /// The partitioned evaluation it was handed to (a Step Functions execution), which
    /// completes or fails it.
    #[serde(default)]
    pub execution: Option<String>,
}

impl Record for Upload {
    const ENTITY: &'static str = "upload";

    fn key(&self) -> Key {
        keys::upload(&self.org_id, &self.upload_id)
    }

    fn expires_at(&self) -> Option<i64> {
        Some((self.created_at + chrono::Duration::days(RECORD_DAYS)).timestamp())
    }
}

/// The object key of an upload: the org and the upload's id, nothing a client chose.
pub fn object_key(org: &OrgId, upload_id: &Uuid) -> String {
    format!("{UPLOADS_PREFIX}{org}/{upload_id}")
}

/// The org and upload of an object key; `None` for a key this product did not make.
pub fn parse_object_key(key: &str) -> Option<(OrgId, Uuid)> {
    let rest = key.strip_prefix(UPLOADS_PREFIX)?;
    let (org, id) = rest.split_once('/')?;
    Some((OrgId::parse(org).ok()?, Uuid::parse(id).ok()?))
}

/// The largest upload a plan allows: what one function (or the local server) reads and evaluates
/// within its time, partitioned past that for runs.
pub fn max_upload_bytes(plan: Plan) -> u64 {
    const MIB: u64 = 1024 * 1024;
    match plan {
        Plan::Free => 64 * MIB,
        Plan::Team => 256 * MIB,
        Plan::Business => 1024 * MIB,
        Plan::Enterprise => 4096 * MIB,
    }
}

/// How many partitions of a large run a plan evaluates at once in AWS (the distributed map's
/// `MaxConcurrency`).
pub fn max_concurrency(plan: Plan) -> u32 {
    match plan {
        Plan::Free => 2,
        Plan::Team => 4,
        Plan::Business => 10,
        Plan::Enterprise => 40,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys_round_trip_and_foreign_keys_are_not_ours() {
        let org = OrgId::parse("o1").unwrap();
        let id = Uuid::parse("00000000-0000-0000-0000-000000000001").unwrap();
        let key = object_key(&org, &id);
        assert_eq!(parse_object_key(&key), Some((org, id)));
        for foreign in [
            "uploads/o1",
            "uploads/o1/not-a-uuid",
            "partitions/o1/00000000-0000-0000-0000-000000000001",
            "uploads/o#1/00000000-0000-0000-0000-000000000001",
        ] {
            assert_eq!(parse_object_key(foreign), None, "{foreign}");
        }
    }
}
