//! An org's compliance settings: which frameworks are enabled and which controls are marked Not
//! Applicable. Stored as one small item for the selection and one item per framework for its
//! disabled controls, so every item stays bounded whatever the documented limits allow (50
//! custom frameworks of 200 controls), and writers of different frameworks never contend.
//! Every item is versioned: a change is written conditioned on the versions it read, with its
//! audit entry, and re-applied to fresh settings on a conflict, so no update is ever lost.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::audit_log::{self, AuditContext};
use compliance_store::keys;
use compliance_store::{Condition, Item, Query, Store, StoreError, WriteOp};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgSettings {
    /// `None`: the default, every framework enabled. `Some([])`: opted out of all.
    pub enabled_keys: Option<Vec<String>>,
    /// Framework key → control ids marked Not Applicable (never empty lists).
    pub disabled_controls: BTreeMap<String, Vec<String>>,
    /// How many custom frameworks the org has, kept with every creation and deletion in the
    /// same write, so the limit holds under concurrent creations without reading them all.
    /// `None` in settings written before the count was kept.
    pub custom_frameworks: Option<u32>,
    /// The versions of the stored items these settings were read from.
    stored: Stored,
}

/// What was read, to condition the write on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Stored {
    /// The selection item's version (0: never written).
    selection: u64,
    /// Framework key → its disabled-controls item's version.
    disabled: BTreeMap<String, u64>,
    /// Settings written before the split kept every framework's disabled controls inside the
    /// selection item; the first write moves them to their own items.
    inline_disabled: bool,
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

    /// The writes that turn the stored settings (as read into `self`) into `next`, each
    /// conditioned on the version read; none when nothing changes.
    fn writes_to(&self, org_id: &str, next: &OrgSettings) -> Vec<WriteOp> {
        let mut ops = Vec::new();
        let stored = &self.stored;
        if stored.inline_disabled
            || next.enabled_keys != self.enabled_keys
            || next.custom_frameworks != self.custom_frameworks
        {
            let item = selection_item(org_id, next, stored.selection + 1);
            ops.push(WriteOp::put_if(item, version_condition(stored.selection)));
        }
        let frameworks = self
            .disabled_controls
            .keys()
            .chain(next.disabled_controls.keys());
        let mut done = std::collections::BTreeSet::new();
        for framework_key in frameworks {
            if !done.insert(framework_key) {
                continue;
            }
            let version = stored.disabled.get(framework_key).copied().unwrap_or(0);
            let (before, after) = (self.disabled(framework_key), next.disabled(framework_key));
            // A framework whose list only lived inline gets its own item on the move.
            let unmoved = stored.inline_disabled && version == 0 && !after.is_empty();
            if before == after && !unmoved {
                continue;
            }
            let key = keys::disabled_controls(org_id, framework_key);
            let condition = version_condition(version);
            if !after.is_empty() {
                let item = disabled_item(org_id, framework_key, after, version + 1);
                ops.push(WriteOp::put_if(item, condition));
            } else if version > 0 {
                ops.push(WriteOp::delete_if(key, condition));
            }
        }
        ops
    }
}

/// Create-once when never written, else exactly the version read.
fn version_condition(read: u64) -> Condition {
    if read == 0 {
        Condition::NotExists
    } else {
        Condition::Equals("version".into(), json!(read))
    }
}

fn with_key(key: compliance_store::Key, entity: &str, org_id: &str, body: Value) -> Item {
    let Value::Object(mut item) = body else {
        unreachable!("settings items are objects")
    };
    item.insert("PK".into(), key.pk.into());
    item.insert("SK".into(), key.sk.into());
    item.insert(keys::ENTITY.into(), json!(entity));
    item.insert("org_id".into(), json!(org_id));
    item
}

fn selection_item(org_id: &str, settings: &OrgSettings, version: u64) -> Item {
    with_key(
        keys::org_settings(org_id),
        "settings",
        org_id,
        json!({
            "enabled_keys": settings.enabled_keys,
            "custom_frameworks": settings.custom_frameworks,
            "version": version,
        }),
    )
}

fn disabled_item(org_id: &str, framework_key: &str, ids: &[String], version: u64) -> Item {
    with_key(
        keys::disabled_controls(org_id, framework_key),
        "disabled_controls",
        org_id,
        json!({"framework_key": framework_key, "disabled": ids, "version": version}),
    )
}

#[derive(Deserialize)]
struct SelectionItem {
    enabled_keys: Option<Vec<String>>,
    #[serde(default)]
    custom_frameworks: Option<u32>,
    #[serde(default)]
    version: u64,
    /// Before the split (see [`Stored::inline_disabled`]).
    #[serde(default)]
    disabled_controls: BTreeMap<String, Vec<String>>,
}

#[derive(Serialize, Deserialize)]
struct DisabledItem {
    framework_key: String,
    disabled: Vec<String>,
    version: u64,
}

fn malformed(what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Backend(format!("malformed {what} item: {e}"))
}

/// More than the frameworks an org can have (6 built-in, 50 custom): one query page reads them
/// all (each item holds at most 200 ids, so the page stays far below DynamoDB's 1 MB).
const MAX_DISABLED_ITEMS: usize = 100;

/// The selection item and every framework's disabled-controls item: one get and one query of
/// the org's partition, concurrently.
pub async fn load(store: &dyn Store, org_id: &str) -> Result<OrgSettings, StoreError> {
    let (pk, range) = keys::all_disabled_controls(org_id);
    let query = Query::new(pk, range).limit(MAX_DISABLED_ITEMS);
    let selection_key = keys::org_settings(org_id);
    let (selection, disabled) = tokio::try_join!(store.get(&selection_key), store.query(&query))?;
    let mut settings = OrgSettings::default();
    if let Some(item) = selection {
        let s: SelectionItem =
            serde_json::from_value(Value::Object(item)).map_err(|e| malformed("settings", e))?;
        settings.enabled_keys = s.enabled_keys;
        settings.custom_frameworks = s.custom_frameworks;
        settings.stored.selection = s.version;
        settings.stored.inline_disabled = !s.disabled_controls.is_empty();
        settings.disabled_controls = s.disabled_controls;
    }
    for item in disabled.items {
        let d: DisabledItem = serde_json::from_value(Value::Object(item))
            .map_err(|e| malformed("disabled controls", e))?;
        settings
            .stored
            .disabled
            .insert(d.framework_key.clone(), d.version);
        // A framework's own item wins over what the selection item held inline.
        settings.set_disabled(&d.framework_key, d.disabled);
    }
    Ok(settings)
}

/// How many times a change is re-applied to fresh settings before answering 409.
const ATTEMPTS: u32 = 24;
/// Backoff between attempts: full jitter over an exponentially growing ceiling.
const BACKOFF_BASE: Duration = Duration::from_millis(4);
const BACKOFF_CAP: Duration = Duration::from_millis(250);

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

/// What [`update`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Written with its audit entry.
    Changed,
    /// The change asked for what was already stored: nothing written, no audit entry.
    Unchanged,
}

/// Reads the settings, lets `decide` compute the change, and writes it with its audit entry in
/// one atomic write conditioned on the versions read; on a concurrent change, starts over with
/// the fresh settings. Each applied change leaves exactly one audit entry; a change that
/// changes nothing (settings and `also` alike) writes nothing and leaves none.
pub async fn update<T, E, F>(
    store: &dyn Store,
    ctx: &AuditContext,
    action: &str,
    mut decide: F,
) -> Result<(T, Applied), UpdateError<E>>
where
    F: FnMut(OrgSettings) -> Result<Change<T>, E>,
{
    for attempt in 0..ATTEMPTS {
        let current = load(store, &ctx.org_id).await.map_err(UpdateError::Store)?;
        let writes = |next: &OrgSettings| current.writes_to(&ctx.org_id, next);
        let change = decide(current.clone()).map_err(UpdateError::Rejected)?;
        let settings_ops = writes(&change.next);
        if settings_ops.is_empty() && change.also.is_empty() {
            return Ok((change.outcome, Applied::Unchanged));
        }
        let first_settings_op = change.also.len();
        let mut ops = change.also;
        ops.extend(settings_ops);
        match audit_log::commit(store, ops, ctx, action, change.metadata).await {
            Ok(_) => return Ok((change.outcome, Applied::Changed)),
            Err(StoreError::ConditionFailed { index, .. }) if index >= first_settings_op => {}
            Err(StoreError::Conflict) => {}
            Err(e) => return Err(UpdateError::Store(e)),
        }
        tokio::time::sleep(backoff(attempt)).await;
    }
    Err(UpdateError::Contended)
}

/// A random wait up to `base × 2^attempt` (at most the cap), so writers that collided spread.
fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1 << attempt.min(16))
        .min(BACKOFF_CAP);
    ceiling.mul_f64(rand::random::<f64>())
}
