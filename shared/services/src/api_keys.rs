//! API keys as org records: created (the secret returned once), listed, revoked. Used by the
//! HTTP API and the operator CLI alike, always through the audited write.

use chrono::{DateTime, Utc};
use compliance_domain::ids::{KeyId, OrgId};
use compliance_domain::plans::Role;
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Cursor, Key, Query, Store, StoreError, WriteOp};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit_log::{self, AuditAction, AuditContext};
use crate::key_secrets;

/// A key as listed: never the secret, never the hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub id: KeyId,
    pub name: String,
    pub role: Role,
    pub prefix: String,
    #[serde(with = "compliance_domain::time::micros")]
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    #[serde(with = "compliance_domain::time::micros::option")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A freshly created key: the only time the secret is seen.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub info: ApiKeyInfo,
    pub secret: String,
}

/// The key as stored in its org: the listing fields, the secret's hash, and a string status
/// (revocation's condition compares it, not the nullable timestamp).
#[derive(Serialize, Deserialize)]
struct StoredKey {
    #[serde(flatten)]
    info: ApiKeyInfo,
    org_id: OrgId,
    hash: String,
    status: KeyStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KeyStatus {
    Active,
    Revoked,
}

impl Record for StoredKey {
    const ENTITY: &'static str = "api_key";

    fn key(&self) -> Key {
        keys::api_key(&self.org_id, &self.info.id)
    }
}

impl StoredKey {
    fn new(info: ApiKeyInfo, org_id: &OrgId, hash: &str) -> Self {
        let status = if info.revoked_at.is_some() {
            KeyStatus::Revoked
        } else {
            KeyStatus::Active
        };
        StoredKey {
            info,
            org_id: org_id.clone(),
            hash: hash.to_string(),
            status,
        }
    }
}

/// The one global lookup of a key, by the hash of its secret: what authentication reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyLookup {
    #[serde(skip)]
    pub hash: String,
    pub org_id: OrgId,
    pub role: Role,
    pub key_id: KeyId,
}

impl Record for KeyLookup {
    const ENTITY: &'static str = "api_key_lookup";

    fn key(&self) -> Key {
        keys::api_key_lookup(&self.hash)
    }
}

/// The active key whose secret hashes to `hash`, if any.
pub async fn lookup(store: &dyn Store, hash: &str) -> Result<Option<KeyLookup>, StoreError> {
    let found: Option<KeyLookup> = store.get_record(&keys::api_key_lookup(hash)).await?;
    Ok(found.map(|l| KeyLookup {
        hash: hash.to_string(),
        ..l
    }))
}

pub async fn create(
    store: &dyn Store,
    ctx: &AuditContext,
    name: &str,
    role: Role,
) -> Result<CreatedKey, StoreError> {
    let new = key_secrets::generate();
    let info = ApiKeyInfo {
        id: KeyId::parse(&new.id).expect("generated key ids are valid"),
        name: name.to_string(),
        role,
        prefix: new.display_prefix.clone(),
        created_at: ctx.at,
        created_by: ctx.actor.id.clone(),
        revoked_at: None,
    };
    let lookup = KeyLookup {
        hash: new.hash.clone(),
        org_id: ctx.org_id.clone(),
        role,
        key_id: info.id.clone(),
    };
    let ops = vec![
        StoredKey::new(info.clone(), &ctx.org_id, &new.hash).put_if(Condition::NotExists),
        lookup.put_if(Condition::NotExists),
    ];
    let metadata = json!({"key_id": info.id, "after": {"name": info.name, "role": role, "prefix": info.prefix}});
    audit_log::commit(store, ops, ctx, AuditAction::ApiKeyCreated, metadata).await?;
    Ok(CreatedKey {
        info,
        secret: new.secret,
    })
}

pub async fn list(
    store: &dyn Store,
    org_id: &OrgId,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<ApiKeyInfo>, Option<Cursor>), StoreError> {
    let (pk, range) = keys::api_keys(org_id);
    let query = Query::new(pk, range).limit(limit).after(cursor);
    let (stored, next): (Vec<StoredKey>, _) = store.query_records(&query).await?;
    Ok((stored.into_iter().map(|s| s.info).collect(), next))
}

/// An active key of the org, by id.
pub async fn get(
    store: &dyn Store,
    org_id: &OrgId,
    key_id: &KeyId,
) -> Result<Option<ApiKeyInfo>, StoreError> {
    let found: Option<StoredKey> = store.get_record(&keys::api_key(org_id, key_id)).await?;
    Ok(found
        .filter(|k| k.status == KeyStatus::Active)
        .map(|k| k.info))
}

pub enum Revoked {
    Done {
        info: ApiKeyInfo,
        hash: String,
    },
    NotFound,
    /// The key holds a role above the one allowed to revoke it; nothing changed.
    AboveRole(Role),
}

/// Revokes an active key of the caller's org: the lookup item goes, the record stays (marked
/// revoked) for the audit log. `up_to`: the highest role the caller may revoke (its own; the
/// operator has no limit).
pub async fn revoke(
    store: &dyn Store,
    ctx: &AuditContext,
    key_id: &KeyId,
    up_to: Option<Role>,
) -> Result<Revoked, StoreError> {
    let Some(before) = store
        .get_record::<StoredKey>(&keys::api_key(&ctx.org_id, key_id))
        .await?
    else {
        return Ok(Revoked::NotFound);
    };
    if before.status == KeyStatus::Revoked {
        return Ok(Revoked::NotFound);
    }
    if up_to.is_some_and(|limit| before.info.role > limit) {
        return Ok(Revoked::AboveRole(before.info.role));
    }
    let after = ApiKeyInfo {
        revoked_at: Some(ctx.at),
        ..before.info.clone()
    };
    let ops = vec![
        // Only an active record may be revoked: a concurrent revocation makes this one fail.
        StoredKey::new(after.clone(), &ctx.org_id, &before.hash)
            .put_if(Condition::Equals("status".into(), json!(KeyStatus::Active))),
        WriteOp::delete_if(keys::api_key_lookup(&before.hash), Condition::Exists),
    ];
    let metadata = json!({
        "key_id": key_id,
        "before": {"name": before.info.name, "role": before.info.role, "revoked_at": null},
        "after": {"revoked_at": compliance_domain::time::rfc3339(ctx.at)},
    });
    match audit_log::commit(store, ops, ctx, AuditAction::ApiKeyRevoked, metadata).await {
        Ok(_) => Ok(Revoked::Done {
            info: after,
            hash: before.hash,
        }),
        Err(StoreError::ConditionFailed { .. }) => Ok(Revoked::NotFound),
        Err(e) => Err(e),
    }
}
