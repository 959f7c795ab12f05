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

use crate::audit_log::{self, AuditAction, AuditContext};
use compliance_domain::ids::{FrameworkKey, OrgId};
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Key, Query, Store, StoreError, WriteOp};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgSettings {
    /// `None`: the default, every framework enabled. `Some([])`: opted out of all.
    pub enabled_keys: Option<Vec<String>>,
    /// Framework key → control ids marked Not Applicable (never empty lists).
    pub disabled_controls: BTreeMap<String, Vec<String>>,
    /// Framework key → control id → the org's justification of the control's applicability
    /// (why it is excluded, or why it is included), for the Statement of Applicability (never
    /// empty maps). Kept in the framework's disabled-controls item.
    pub justifications: BTreeMap<String, BTreeMap<String, String>>,
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

    /// The org's justifications of the framework's controls (control id → text).
    pub fn justifications(&self, framework_key: &str) -> Option<&BTreeMap<String, String>> {
        self.justifications.get(framework_key)
    }

    pub fn set_justifications(&mut self, framework_key: &str, texts: BTreeMap<String, String>) {
        if texts.is_empty() {
            self.justifications.remove(framework_key);
        } else {
            self.justifications.insert(framework_key.to_string(), texts);
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
        self.justifications.remove(framework_key);
    }

    /// The writes that turn the stored settings (as read into `self`) into `next`, each
    /// conditioned on the version read; none when nothing changes.
    fn writes_to(&self, org_id: &OrgId, next: &OrgSettings) -> Result<Vec<WriteOp>, StoreError> {
        let mut ops = Vec::new();
        let stored = &self.stored;
        if stored.inline_disabled
            || next.enabled_keys != self.enabled_keys
            || next.custom_frameworks != self.custom_frameworks
        {
            let selection = Selection {
                org_id: org_id.clone(),
                enabled_keys: next.enabled_keys.clone(),
                custom_frameworks: next.custom_frameworks,
                version: stored.selection + 1,
                disabled_controls: BTreeMap::new(),
            };
            ops.push(selection.put_if(version_condition(stored.selection)));
        }
        let frameworks = self
            .disabled_controls
            .keys()
            .chain(self.justifications.keys())
            .chain(next.disabled_controls.keys())
            .chain(next.justifications.keys());
        let mut done = std::collections::BTreeSet::new();
        for framework_key in frameworks {
            if !done.insert(framework_key) {
                continue;
            }
            let version = stored.disabled.get(framework_key).copied().unwrap_or(0);
            let (before, after) = (self.disabled(framework_key), next.disabled(framework_key));
            let no_texts = BTreeMap::new();
            let texts_before = self.justifications(framework_key).unwrap_or(&no_texts);
            let texts_after = next.justifications(framework_key).unwrap_or(&no_texts);
            // A framework whose list only lived inline gets its own item on the move.
            let unmoved = stored.inline_disabled && version == 0 && !after.is_empty();
            if before == after && texts_before == texts_after && !unmoved {
                continue;
            }
            let framework_key = FrameworkKey::parse(framework_key)
                .map_err(|e| StoreError::Invalid(format!("{e}: {framework_key}")))?;
            // An emptied list stays as an empty item (a tombstone) rather than being deleted:
            // a deleted item would be created again at version 1, and a writer still holding
            // the version 1 it read before the delete would overwrite the new list (ABA).
            if version > 0 || !after.is_empty() || !texts_after.is_empty() {
                let record = Disabled {
                    org_id: org_id.clone(),
                    framework_key,
                    disabled: after.to_vec(),
                    justifications: texts_after.clone(),
                    version: version + 1,
                };
                ops.push(record.put_if(version_condition(version)));
            }
        }
        Ok(ops)
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

/// The selection item.
#[derive(Serialize, Deserialize)]
struct Selection {
    org_id: OrgId,
    enabled_keys: Option<Vec<String>>,
    #[serde(default)]
    custom_frameworks: Option<u32>,
    #[serde(default)]
    version: u64,
    /// Before the split (see [`Stored::inline_disabled`]); never written any more.
    #[serde(default, skip_serializing)]
    disabled_controls: BTreeMap<String, Vec<String>>,
}

impl Record for Selection {
    const ENTITY: &'static str = "settings";

    fn key(&self) -> Key {
        keys::org_settings(&self.org_id)
    }
}

/// One framework's disabled controls, and the org's justifications of its controls. Both empty
/// once emptied: the item stays for its version, and reads as nothing disabled.
#[derive(Serialize, Deserialize)]
struct Disabled {
    org_id: OrgId,
    framework_key: FrameworkKey,
    disabled: Vec<String>,
    /// Control id → text; absent in items written before justifications existed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    justifications: BTreeMap<String, String>,
    version: u64,
}

impl Record for Disabled {
    const ENTITY: &'static str = "disabled_controls";

    fn key(&self) -> Key {
        keys::disabled_controls(&self.org_id, &self.framework_key)
    }
}

/// More than the frameworks an org can have (6 built-in, 50 custom): one query page usually
/// reads them all. Justifications make an item larger (up to the controls endpoint's 64 KiB
/// body), so a page may stop at DynamoDB's 1 MB: the rest is read page by page.
const MAX_DISABLED_ITEMS: usize = 100;

/// Every framework's disabled-controls item, following the pages.
async fn disabled_items(store: &dyn Store, org_id: &OrgId) -> Result<Vec<Disabled>, StoreError> {
    let (pk, range) = keys::all_disabled_controls(org_id);
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let query = Query::new(pk.clone(), range.clone())
            .limit(MAX_DISABLED_ITEMS)
            .after(cursor);
        let (page, next) = store.query_records::<Disabled>(&query).await?;
        items.extend(page);
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// The selection item and every framework's disabled-controls item: one get and one query of
/// the org's partition (more pages only past DynamoDB's 1 MB), concurrently.
pub async fn load(store: &dyn Store, org_id: &OrgId) -> Result<OrgSettings, StoreError> {
    let selection_key = keys::org_settings(org_id);
    let (selection, disabled) = tokio::try_join!(
        store.get_record::<Selection>(&selection_key),
        disabled_items(store, org_id)
    )?;
    let mut settings = OrgSettings::default();
    if let Some(s) = selection {
        settings.enabled_keys = s.enabled_keys;
        settings.custom_frameworks = s.custom_frameworks;
        settings.stored.selection = s.version;
        settings.stored.inline_disabled = !s.disabled_controls.is_empty();
        settings.disabled_controls = s.disabled_controls;
    }
    for d in disabled {
        let key = d.framework_key.to_string();
        settings.stored.disabled.insert(key.clone(), d.version);
        // A framework's own item wins over what the selection item held inline.
        settings.set_disabled(&key, d.disabled);
        settings.set_justifications(&key, d.justifications);
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
    action: AuditAction,
    mut decide: F,
) -> Result<(T, Applied), UpdateError<E>>
where
    F: FnMut(OrgSettings) -> Result<Change<T>, E>,
{
    for attempt in 0..ATTEMPTS {
        let current = load(store, &ctx.org_id).await.map_err(UpdateError::Store)?;
        let change = decide(current.clone()).map_err(UpdateError::Rejected)?;
        let settings_ops = current
            .writes_to(&ctx.org_id, &change.next)
            .map_err(UpdateError::Store)?;
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
