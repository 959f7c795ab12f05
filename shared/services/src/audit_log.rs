//! The audit log (the trail of every change, `GET /api/audit-logs`; not to be confused with the
//! audit sessions of the Audits API). Every mutation goes through [`commit`], which appends the
//! log entry to the very same atomic write as the change: no change without its entry, no entry
//! without its change.

use chrono::{DateTime, Duration, Utc};
use compliance_domain::identity::{ActorKind, Principal};
use compliance_domain::ids::OrgId;
use compliance_domain::labels;
use compliance_domain::time::rfc3339;
use compliance_store::record::Record;
use compliance_store::{keys, Condition, Cursor, Key, Query, Store, StoreError, WriteOp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::paging;

labels! {
    /// What a log entry records. The compliance ones are the reference's own codes.
    pub enum AuditAction as "audit action" {
        ApiKeyCreated => "API_KEY_CREATED",
        ApiKeyRevoked => "API_KEY_REVOKED",
        OrgCreated => "ORG_CREATED",
        OrgPlanChanged => "ORG_PLAN_CHANGED",
        ComplianceFrameworksUpdated => "COMPLIANCE_FRAMEWORKS_UPDATED",
        ComplianceControlsUpdated => "COMPLIANCE_CONTROLS_UPDATED",
        /// Not in the reference: the org's compliance settings (what suppressions do).
        ComplianceSettingsUpdated => "COMPLIANCE_SETTINGS_UPDATED",
        ComplianceCustomFrameworkCreated => "COMPLIANCE_CUSTOM_FRAMEWORK_CREATED",
        /// Not in the reference: saving an existing key is an update, and says so.
        ComplianceCustomFrameworkUpdated => "COMPLIANCE_CUSTOM_FRAMEWORK_UPDATED",
        ComplianceCustomFrameworkDeleted => "COMPLIANCE_CUSTOM_FRAMEWORK_DELETED",
        RepoCreated => "REPO_CREATED",
        ScanIngested => "SCAN_INGESTED",
        AuditCreated => "AUDIT_CREATED",
        /// A policy rule's `is_active` or `threshold` changed by its audit's creator.
        PolicyRuleUpdated => "POLICY_RULE_UPDATED",
        /// An audit was run against records; its findings are stored with it.
        AuditRunCompleted => "AUDIT_RUN_COMPLETED",
        /// An upload was announced (a presigned form issued); its scan or run follows later.
        UploadCreated => "UPLOAD_CREATED",
        /// An uploaded object could not be read: nothing was stored from it.
        UploadFailed => "UPLOAD_FAILED",
        /// An exception to findings was requested; a second person decides it.
        ExceptionRequested => "EXCEPTION_REQUESTED",
        ExceptionApproved => "EXCEPTION_APPROVED",
        ExceptionRejected => "EXCEPTION_REJECTED",
        ExceptionRevoked => "EXCEPTION_REVOKED",
        /// An approved exception closed: the repository's latest scan has none of its findings.
        ExceptionResolved => "EXCEPTION_RESOLVED",
        /// A control's attestation recorded or renewed (a new version).
        AttestationRecorded => "ATTESTATION_RECORDED",
        /// A control's attestation withdrawn: it is judged without one from then on.
        AttestationWithdrawn => "ATTESTATION_WITHDRAWN",
        /// An audit's creator named who else sees and works its runs and alerts.
        AuditReviewersUpdated => "AUDIT_REVIEWERS_UPDATED",
        /// An alert moved in its workflow (investigating, closed with an outcome, reopened).
        AlertTransitioned => "ALERT_TRANSITIONED",
        AlertAssigned => "ALERT_ASSIGNED",
        AlertCommented => "ALERT_COMMENTED",
        /// A (rule, group value) of an audit snoozed: its occurrences do not reopen alerts.
        AlertSnoozed => "ALERT_SNOOZED",
        /// The investigator's recommendation on a confirmed risk (file a report or not).
        AlertRecommended => "ALERT_RECOMMENDED",
        /// A second principal's decision on that recommendation.
        AlertDecided => "ALERT_DECIDED",
        WebhookCreated => "WEBHOOK_CREATED",
        /// Its URL, events, description or whether it is enabled changed.
        WebhookUpdated => "WEBHOOK_UPDATED",
        WebhookDeleted => "WEBHOOK_DELETED",
        /// A new signing secret; the previous one signs too for a day.
        WebhookSecretRotated => "WEBHOOK_SECRET_ROTATED",
        /// Disabled by the system: its deliveries had failed for days.
        WebhookDisabled => "WEBHOOK_DISABLED",
        WebhookPinged => "WEBHOOK_PINGED",
        WebhookRedelivered => "WEBHOOK_REDELIVERED",
    }
}

pub const DEFAULT_RETENTION_DAYS: i64 = 400;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: String,
    pub email: Option<String>,
}

/// Where a request came from, as API Gateway (or the local server) saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestMeta {
    pub request_id: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Everything a log entry needs besides the change itself.
#[derive(Debug, Clone)]
pub struct AuditContext {
    pub org_id: OrgId,
    pub actor: Actor,
    pub meta: RequestMeta,
    pub retention_days: i64,
    /// When the change happens: the time its entry (and what it creates) is stamped with.
    pub at: DateTime<Utc>,
}

impl AuditContext {
    pub fn for_principal(
        principal: &Principal,
        meta: RequestMeta,
        retention_days: i64,
        at: DateTime<Utc>,
    ) -> Self {
        AuditContext {
            org_id: principal.org_id.clone(),
            actor: Actor {
                kind: principal.kind,
                id: principal.actor_id.clone(),
                email: principal.email.clone(),
            },
            meta,
            retention_days,
            at,
        }
    }

    /// The operator CLI and background functions act without an HTTP request.
    pub fn system(org_id: &OrgId, kind: ActorKind, actor_id: &str, retention_days: i64) -> Self {
        AuditContext {
            org_id: org_id.clone(),
            actor: Actor {
                kind,
                id: actor_id.to_string(),
                email: None,
            },
            meta: RequestMeta {
                request_id: uuid::Uuid::new_v4().to_string(),
                ..RequestMeta::default()
            },
            retention_days,
            at: Utc::now(),
        }
    }
}

/// One entry as stored and as returned by `GET /api/audit-logs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub org_id: OrgId,
    pub action: AuditAction,
    pub actor: Actor,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: String,
    /// What changed: `before` / `after` and whatever else identifies the change.
    pub metadata: Value,
    #[serde(with = "compliance_domain::time::micros")]
    pub created_at: DateTime<Utc>,
}

/// An entry as stored: with the time the table's TTL removes it.
#[derive(Serialize, Deserialize)]
pub struct AuditLogItem {
    #[serde(flatten)]
    pub entry: AuditEntry,
    #[serde(skip)]
    expires_at: i64,
}

impl Record for AuditLogItem {
    const ENTITY: &'static str = "audit";

    fn key(&self) -> Key {
        self.entry.key()
    }

    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

impl AuditEntry {
    /// Where the entry is stored.
    pub fn key(&self) -> Key {
        keys::audit_log_entry(&self.org_id, &rfc3339(self.created_at), &self.id)
    }

    pub fn new(ctx: &AuditContext, action: AuditAction, metadata: Value) -> Self {
        AuditEntry {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: ctx.org_id.clone(),
            action,
            actor: ctx.actor.clone(),
            source_ip: ctx.meta.source_ip.clone(),
            user_agent: ctx.meta.user_agent.clone(),
            request_id: ctx.meta.request_id.clone(),
            metadata,
            created_at: ctx.at,
        }
    }
}

/// Writes `ops` and the log entry for them in one all-or-nothing write.
pub async fn commit(
    store: &dyn Store,
    mut ops: Vec<WriteOp>,
    ctx: &AuditContext,
    action: AuditAction,
    metadata: Value,
) -> Result<AuditEntry, StoreError> {
    let stored = AuditLogItem {
        entry: AuditEntry::new(ctx, action, metadata),
        expires_at: (ctx.at + Duration::days(ctx.retention_days)).timestamp(),
    };
    ops.push(stored.put_if(Condition::NotExists));
    store.write(ops).await?;
    Ok(stored.entry)
}

/// The org's entries between two instants (both inclusive), newest first, only those of
/// `action` when given: at most `limit`, and the cursor of the rest (with an action filter, one
/// listing reads at most [`paging::MAX_SCANNED`] entries before it answers).
pub async fn list(
    store: &dyn Store,
    org_id: &OrgId,
    action: Option<&str>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<AuditEntry>, Option<Cursor>), StoreError> {
    let (pk, range) = keys::audit_log_between(org_id, &rfc3339(from), &rfc3339(to));
    let query = Query::new(pk, range).backward();
    let (page, next) = paging::filtered(store, query, limit, cursor, |item: &AuditLogItem| {
        action.is_none_or(|a| a == item.entry.action.as_str())
    })
    .await?;
    Ok((page.into_iter().map(|item| item.entry).collect(), next))
}
