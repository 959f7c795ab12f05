//! The audit trail. Every mutation goes through [`commit`], which appends the audit entry to the
//! very same atomic write as the change: no change without its entry, no entry without its change.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use compliance_domain::identity::{ActorKind, Principal};
use compliance_domain::time;
use compliance_store::keys;
use compliance_store::{Item, Store, StoreError, WriteOp};

/// Action codes. The compliance ones are the reference's own.
pub mod actions {
    pub const API_KEY_CREATED: &str = "API_KEY_CREATED";
    pub const API_KEY_REVOKED: &str = "API_KEY_REVOKED";
    pub const ORG_CREATED: &str = "ORG_CREATED";
    pub const ORG_PLAN_CHANGED: &str = "ORG_PLAN_CHANGED";
    pub const COMPLIANCE_FRAMEWORKS_UPDATED: &str = "COMPLIANCE_FRAMEWORKS_UPDATED";
    pub const COMPLIANCE_CONTROLS_UPDATED: &str = "COMPLIANCE_CONTROLS_UPDATED";
    pub const COMPLIANCE_CUSTOM_FRAMEWORK_CREATED: &str = "COMPLIANCE_CUSTOM_FRAMEWORK_CREATED";
    /// Not in the reference: saving an existing key is an update, and says so.
    pub const COMPLIANCE_CUSTOM_FRAMEWORK_UPDATED: &str = "COMPLIANCE_CUSTOM_FRAMEWORK_UPDATED";
    pub const COMPLIANCE_CUSTOM_FRAMEWORK_DELETED: &str = "COMPLIANCE_CUSTOM_FRAMEWORK_DELETED";
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

/// Everything an audit entry needs besides the change itself.
#[derive(Debug, Clone)]
pub struct AuditContext {
    pub org_id: String,
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
    pub fn system(org_id: &str, kind: ActorKind, actor_id: &str, retention_days: i64) -> Self {
        AuditContext {
            org_id: org_id.to_string(),
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
    pub org_id: String,
    pub action: String,
    pub actor: Actor,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: String,
    /// What changed: `before` / `after` and whatever else identifies the change.
    pub metadata: Value,
    pub created_at: String,
}

impl AuditEntry {
    pub fn new(ctx: &AuditContext, action: &str, metadata: Value) -> Self {
        AuditEntry {
            id: uuid::Uuid::new_v4().to_string(),
            org_id: ctx.org_id.clone(),
            action: action.to_string(),
            actor: ctx.actor.clone(),
            source_ip: ctx.meta.source_ip.clone(),
            user_agent: ctx.meta.user_agent.clone(),
            request_id: ctx.meta.request_id.clone(),
            metadata,
            created_at: time::rfc3339(ctx.at),
        }
    }

    fn to_item(&self, ctx: &AuditContext) -> Item {
        let key = keys::audit_entry(&self.org_id, &self.created_at, &self.id);
        let expires_at = (ctx.at + Duration::days(ctx.retention_days)).timestamp();
        let mut item = match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => unreachable!("AuditEntry serialises to an object"),
        };
        item.insert("PK".into(), key.pk.into());
        item.insert("SK".into(), key.sk.into());
        item.insert(keys::ENTITY.into(), json!("audit"));
        item.insert(
            compliance_store::table::TTL_ATTRIBUTE.into(),
            json!(expires_at),
        );
        item
    }

    pub fn from_item(item: Item) -> Result<Self, StoreError> {
        serde_json::from_value(Value::Object(item))
            .map_err(|e| StoreError::Backend(format!("malformed audit item: {e}")))
    }
}

/// Writes `ops` and the audit entry for them in one all-or-nothing write.
pub async fn commit(
    store: &dyn Store,
    mut ops: Vec<WriteOp>,
    ctx: &AuditContext,
    action: &str,
    metadata: Value,
) -> Result<AuditEntry, StoreError> {
    let entry = AuditEntry::new(ctx, action, metadata);
    ops.push(WriteOp::put_if(
        entry.to_item(ctx),
        compliance_store::Condition::NotExists,
    ));
    store.write(ops).await?;
    Ok(entry)
}
