//! An org's compliance settings: which frameworks are enabled and which controls are marked Not
//! Applicable. One item, versioned: every change is an optimistic write conditioned on the
//! version it read, retried on a conflict, so concurrent writers never lose an update.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::audit::{self, AuditContext};
use crate::keys;
use crate::store::{Condition, Item, Store, StoreError, WriteOp};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSettings {
    /// `None`: the default, every framework enabled. `Some([])`: opted out of all.
    pub enabled_keys: Option<Vec<String>>,
    /// Framework key → control ids marked Not Applicable (never empty lists).
    #[serde(default)]
    pub disabled_controls: BTreeMap<String, Vec<String>>,
    /// 0 when never written.
    #[serde(default)]
    pub version: u64,
}

impl OrgSettings {
    pub fn disabled(&self, framework_key: &str) -> &[String] {
        self.disabled_controls
            .get(framework_key)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn set_disabled(&mut self, framework_key: &str, ids: Vec<String>) {
        if ids.is_empty() {
            self.disabled_controls.remove(framework_key);
        } else {
            self.disabled_controls
                .insert(framework_key.to_string(), ids);
        }
    }

    /// Whether the selection (ignoring plan locks) includes the framework.
    pub fn selects(&self, framework_key: &str) -> bool {
        self.enabled_keys
            .as_ref()
            .is_none_or(|keys| keys.iter().any(|k| k == framework_key))
    }

    /// Drops every reference to a framework that no longer exists.
    pub fn forget_framework(&mut self, framework_key: &str) {
        if let Some(keys) = &mut self.enabled_keys {
            keys.retain(|k| k != framework_key);
        }
        self.disabled_controls.remove(framework_key);
    }

    /// The fields an audit entry shows as before / after.
    pub fn audit_view(&self) -> Value {
        json!({"enabled_keys": self.enabled_keys, "disabled_controls": self.disabled_controls})
    }

    fn to_item(&self, org_id: &str) -> Item {
        let key = keys::org_settings(org_id);
        let Value::Object(mut item) = json!({
            "enabled_keys": self.enabled_keys,
            "disabled_controls": self.disabled_controls,
            "version": self.version,
        }) else {
            unreachable!("json! object literal")
        };
        item.insert("PK".into(), key.pk.into());
        item.insert("SK".into(), key.sk.into());
        item.insert(keys::ENTITY.into(), json!("settings"));
        item.insert("org_id".into(), json!(org_id));
        item
    }
}

pub async fn load(store: &dyn Store, org_id: &str) -> Result<OrgSettings, StoreError> {
    match store.get(&keys::org_settings(org_id)).await? {
        None => Ok(OrgSettings::default()),
        Some(item) => serde_json::from_value(Value::Object(item))
            .map_err(|e| StoreError::Backend(format!("malformed settings item: {e}"))),
    }
}

/// The write of `next`, valid only if the stored settings are still at `read_version`.
pub fn write_op(org_id: &str, read_version: u64, next: &OrgSettings) -> WriteOp {
    let mut next = next.clone();
    next.version = read_version + 1;
    let condition = if read_version == 0 {
        Condition::NotExists
    } else {
        Condition::Equals("version".into(), json!(read_version))
    };
    WriteOp::put_if(next.to_item(org_id), condition)
}

/// How many times a change is re-applied to fresh settings before answering 409.
const ATTEMPTS: usize = 8;

/// What a settings change decided, given the settings it read.
pub struct Change<T> {
    pub next: OrgSettings,
    /// Other items written in the same atomic write (e.g. a custom framework).
    pub also: Vec<WriteOp>,
    pub metadata: Value,
    pub outcome: T,
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    #[error(transparent)]
    Rejected(E),
    #[error(transparent)]
    Store(StoreError),
    #[error("settings changed concurrently too many times")]
    Contended,
}

/// Reads the settings, lets `decide` compute the change, and writes it with its audit entry in
/// one atomic write conditioned on the version read; on a concurrent change, starts over with
/// the fresh settings. Each applied change leaves exactly one audit entry.
pub async fn update<T, E, F>(
    store: &dyn Store,
    ctx: &AuditContext,
    action: &str,
    mut decide: F,
) -> Result<T, UpdateError<E>>
where
    F: FnMut(OrgSettings) -> Result<Change<T>, E>,
{
    for attempt in 0..ATTEMPTS {
        let current = load(store, &ctx.org_id).await.map_err(UpdateError::Store)?;
        let read_version = current.version;
        let change = decide(current).map_err(UpdateError::Rejected)?;
        let mut ops = change.also;
        let settings_index = ops.len();
        ops.push(write_op(&ctx.org_id, read_version, &change.next));
        match audit::commit(store, ops, ctx, action, change.metadata).await {
            Ok(_) => return Ok(change.outcome),
            Err(StoreError::ConditionFailed { index, .. }) if index == settings_index => {}
            Err(StoreError::Conflict) => {}
            Err(e) => return Err(UpdateError::Store(e)),
        }
        // Spread the retries of writers that collided.
        let jitter = rand::random::<u64>() % (5 * (attempt as u64 + 1));
        tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
    }
    Err(UpdateError::Contended)
}
