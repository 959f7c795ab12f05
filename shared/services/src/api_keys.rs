//! API keys as org records: created (the secret returned once), listed, revoked. Used by the
//! HTTP API and the operator CLI alike, always through the audited write.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::audit_log::{self, actions, AuditContext};
use crate::key_secrets;
use compliance_domain::plans::Role;
use compliance_store::keys;
use compliance_store::{Condition, Cursor, Item, Query, Store, StoreError, WriteOp};

/// A key as listed: never the secret, never the hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub prefix: String,
    pub created_at: String,
    pub created_by: String,
    pub revoked_at: Option<String>,
}

/// The answer to a creation: the only time the secret is seen.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub info: ApiKeyInfo,
    pub key: String,
}

fn record_item(info: &ApiKeyInfo, org_id: &str, hash: &str) -> Item {
    let key = keys::api_key(org_id, &info.id);
    let mut item = match serde_json::to_value(info) {
        Ok(Value::Object(m)) => m,
        _ => unreachable!("ApiKeyInfo serialises to an object"),
    };
    item.insert("PK".into(), key.pk.into());
    item.insert("SK".into(), key.sk.into());
    item.insert(keys::ENTITY.into(), json!("api_key"));
    item.insert("org_id".into(), json!(org_id));
    item.insert("hash".into(), json!(hash));
    // A string status (not the nullable timestamp) is what revocation's condition compares.
    let status = if info.revoked_at.is_some() {
        "revoked"
    } else {
        "active"
    };
    item.insert("status".into(), json!(status));
    item
}

fn info_of(item: &Item) -> Result<ApiKeyInfo, StoreError> {
    serde_json::from_value(Value::Object(item.clone()))
        .map_err(|e| StoreError::Backend(format!("malformed API key item: {e}")))
}

pub async fn create(
    store: &dyn Store,
    ctx: &AuditContext,
    name: &str,
    role: Role,
) -> Result<CreatedKey, StoreError> {
    let new = key_secrets::generate();
    let info = ApiKeyInfo {
        id: new.id.clone(),
        name: name.to_string(),
        role,
        prefix: new.display_prefix.clone(),
        created_at: compliance_domain::time::rfc3339(ctx.at),
        created_by: ctx.actor.id.clone(),
        revoked_at: None,
    };
    let lookup = keys::api_key_lookup(&new.hash);
    let Value::Object(mut lookup_item) = json!({
        "org_id": ctx.org_id, "role": role, "key_id": new.id, keys::ENTITY: "api_key_lookup",
    }) else {
        unreachable!("json! object literal")
    };
    lookup_item.insert("PK".into(), lookup.pk.into());
    lookup_item.insert("SK".into(), lookup.sk.into());
    let ops = vec![
        WriteOp::put_if(
            record_item(&info, &ctx.org_id, &new.hash),
            Condition::NotExists,
        ),
        WriteOp::put_if(lookup_item, Condition::NotExists),
    ];
    let metadata = json!({"key_id": info.id, "after": {"name": info.name, "role": role, "prefix": info.prefix}});
    audit_log::commit(store, ops, ctx, actions::API_KEY_CREATED, metadata).await?;
    Ok(CreatedKey {
        info,
        key: new.secret,
    })
}

pub async fn list(
    store: &dyn Store,
    org_id: &str,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<ApiKeyInfo>, Option<Cursor>), StoreError> {
    let (pk, range) = keys::api_keys(org_id);
    let page = store
        .query(&Query::new(pk, range).limit(limit).after(cursor))
        .await?;
    let keys = page.items.iter().map(info_of).collect::<Result<_, _>>()?;
    Ok((keys, page.next))
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
/// revoked) for the audit trail. `up_to`: the highest role the caller may revoke (its own; the
/// operator has no limit).
pub async fn revoke(
    store: &dyn Store,
    ctx: &AuditContext,
    key_id: &str,
    up_to: Option<Role>,
) -> Result<Revoked, StoreError> {
    let key = keys::api_key(&ctx.org_id, key_id);
    let Some(item) = store.get(&key).await? else {
        return Ok(Revoked::NotFound);
    };
    let before = info_of(&item)?;
    if before.revoked_at.is_some() {
        return Ok(Revoked::NotFound);
    }
    if up_to.is_some_and(|limit| before.role > limit) {
        return Ok(Revoked::AboveRole(before.role));
    }
    let hash = item
        .get("hash")
        .and_then(Value::as_str)
        .ok_or_else(|| StoreError::Backend("API key record without hash".into()))?
        .to_string();
    let revoked_at = compliance_domain::time::rfc3339(ctx.at);
    let after = ApiKeyInfo {
        revoked_at: Some(revoked_at.clone()),
        ..before.clone()
    };
    let ops = vec![
        // Only an active record may be revoked: a concurrent revocation makes this one fail.
        WriteOp::put_if(
            record_item(&after, &ctx.org_id, &hash),
            Condition::Equals("status".into(), json!("active")),
        ),
        WriteOp::delete_if(keys::api_key_lookup(&hash), Condition::Exists),
    ];
    let metadata = json!({"key_id": key_id, "before": {"name": before.name, "role": before.role, "revoked_at": null}, "after": {"revoked_at": revoked_at}});
    match audit_log::commit(store, ops, ctx, actions::API_KEY_REVOKED, metadata).await {
        Ok(_) => Ok(Revoked::Done { info: after, hash }),
        Err(StoreError::ConditionFailed { .. }) => Ok(Revoked::NotFound),
        Err(e) => Err(e),
    }
}
