//! The storage port: a deliberately small slice of DynamoDB's semantics (get, query one partition,
//! an all-or-nothing conditional write of several items, an atomic counter), so that the same
//! single-table design (see [`crate::keys`]) runs unchanged on DynamoDB and on the embedded store.

pub mod aws;
pub mod change_feed;
pub mod config;
mod cursor;
pub mod dynamo;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod keys;
pub mod projection;
pub mod record;
pub mod stream;
pub mod table;

use std::collections::HashSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use change_feed::{Change, ChangeFeed, ChangeKind};
pub use cursor::Cursor;
pub use projection::Projection;
pub use record::{Record, Records};

/// One item: attribute name → JSON value. Every item carries `PK` and `SK` string attributes.
pub type Item = Map<String, Value>;

pub const PK: &str = "PK";
pub const SK: &str = "SK";

/// DynamoDB's own limits, enforced by both adapters so that the embedded store never accepts
/// what the real table would refuse.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
pub const MAX_TRANSACTION_OPS: usize = 100;
/// DynamoDB's limit on the aggregate size of the items of one transaction.
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;
/// DynamoDB's limit on the keys of one BatchGetItem.
pub const MAX_BATCH_GET: usize = 100;

/// Numbers the store instances of the process (see [`Store::instance`]).
static INSTANCES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

pub(crate) fn next_instance() -> u64 {
    INSTANCES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key of a stored item; `None` when the item lacks string `PK`/`SK`.
    pub fn of(item: &Item) -> Option<Key> {
        Some(Key::new(item.get(PK)?.as_str()?, item.get(SK)?.as_str()?))
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.pk, self.sk)
    }
}

/// Which sort keys of the partition a query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKeyRange {
    /// Every item of the partition.
    All,
    /// Sort keys starting with this prefix.
    Prefix(String),
    /// Sort keys between the two bounds, both inclusive.
    Between(String, String),
}

impl SortKeyRange {
    pub fn contains(&self, sk: &str) -> bool {
        match self {
            SortKeyRange::All => true,
            SortKeyRange::Prefix(p) => sk.starts_with(p.as_str()),
            SortKeyRange::Between(lo, hi) => sk >= lo.as_str() && sk <= hi.as_str(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Query {
    pub pk: String,
    pub range: SortKeyRange,
    /// `true`: ascending sort keys; `false`: descending.
    pub forward: bool,
    pub limit: usize,
    pub cursor: Option<Cursor>,
    /// Only these attributes of each item (`None`: all of them).
    pub projection: Option<Projection>,
}

impl Query {
    pub fn new(pk: impl Into<String>, range: SortKeyRange) -> Self {
        Self {
            pk: pk.into(),
            range,
            forward: true,
            limit: 100,
            cursor: None,
            projection: None,
        }
    }

    /// Only `projection`'s attributes of each item.
    pub fn project(mut self, projection: Projection) -> Self {
        self.projection = Some(projection);
        self
    }

    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }

    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }

    /// Checks what both adapters rely on: a positive limit, and a cursor that points inside the
    /// queried range (a cursor is client input; DynamoDB rejects a start key outside the range).
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        if self.limit == 0 {
            return Err(StoreError::Invalid("query limit must be positive".into()));
        }
        match &self.cursor {
            Some(c) if !self.range.contains(c.sort_key()) => Err(StoreError::InvalidCursor),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when more items follow; pass it back as [`Query::cursor`].
    pub next: Option<Cursor>,
}

/// A precondition on the current state of one item.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// No item with this key exists (create-once).
    NotExists,
    /// An item with this key exists.
    Exists,
    /// The item exists and the attribute equals the value (optimistic versioning).
    Equals(String, Value),
    /// The item exists without the attribute: the first versioned write of an item stored
    /// before it had a version.
    Missing(String),
}

impl Condition {
    pub fn holds(&self, current: Option<&Item>) -> bool {
        match (self, current) {
            (Condition::NotExists, current) => current.is_none(),
            (Condition::Exists, current) => current.is_some(),
            (Condition::Equals(attr, value), Some(item)) => item.get(attr) == Some(value),
            (Condition::Equals(..), None) => false,
            (Condition::Missing(attr), Some(item)) => !item.contains_key(attr),
            (Condition::Missing(_), None) => false,
        }
    }
}

#[derive(Debug, Clone)]
pub enum WriteOp {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    Check {
        key: Key,
        condition: Condition,
    },
    /// Adds one to each of the numeric attributes (an absent one counts from 0), creating the
    /// item when it is missing. Adds commute, so concurrent ones need no condition: what the
    /// org's change counters ([`keys::org_versions`]) are made of.
    Add {
        key: Key,
        attrs: Vec<&'static str>,
        /// The item's `entity` attribute, set with the adds.
        entity: &'static str,
    },
}

impl WriteOp {
    pub fn put(item: Item) -> Self {
        WriteOp::Put {
            item,
            condition: None,
        }
    }

    pub fn put_if(item: Item, condition: Condition) -> Self {
        WriteOp::Put {
            item,
            condition: Some(condition),
        }
    }

    pub fn delete(key: Key) -> Self {
        WriteOp::Delete {
            key,
            condition: None,
        }
    }

    pub fn delete_if(key: Key, condition: Condition) -> Self {
        WriteOp::Delete {
            key,
            condition: Some(condition),
        }
    }

    pub fn check(key: Key, condition: Condition) -> Self {
        WriteOp::Check { key, condition }
    }

    pub fn key(&self) -> Option<Key> {
        match self {
            WriteOp::Put { item, .. } => Key::of(item),
            WriteOp::Delete { key, .. } | WriteOp::Check { key, .. } | WriteOp::Add { key, .. } => {
                Some(key.clone())
            }
        }
    }

    pub fn condition(&self) -> Option<&Condition> {
        match self {
            WriteOp::Put { condition, .. } | WriteOp::Delete { condition, .. } => {
                condition.as_ref()
            }
            WriteOp::Check { condition, .. } => Some(condition),
            WriteOp::Add { .. } => None,
        }
    }
}

/// The write as the adapters apply it: the caller's operations, then one [`WriteOp::Add`] per
/// org whose scoring inputs they change ([`keys::counted_part`]), so that a reader holding
/// those inputs knows from the org's versions item alone whether they still hold. Done here,
/// under every write of both adapters, so no change can forget it. The caller's operations
/// keep their indexes (a failed condition names the same one).
pub(crate) fn prepare_write(mut ops: Vec<WriteOp>) -> Result<(Vec<WriteOp>, Vec<Key>), StoreError> {
    let mut counted: Vec<(Key, Vec<&'static str>)> = Vec::new();
    for op in &ops {
        if matches!(op, WriteOp::Check { .. } | WriteOp::Add { .. }) {
            continue;
        }
        let Some((versions, part)) = op.key().as_ref().and_then(keys::counted_part) else {
            continue;
        };
        match counted.iter_mut().find(|(k, _)| *k == versions) {
            Some((_, attrs)) if attrs.contains(&part.attr()) => {}
            Some((_, attrs)) => attrs.push(part.attr()),
            None => counted.push((versions, vec![part.attr()])),
        }
    }
    ops.extend(counted.into_iter().map(|(key, attrs)| WriteOp::Add {
        key,
        attrs,
        entity: keys::ORG_VERSIONS_ENTITY,
    }));
    let keys = validate_write(&ops)?;
    Ok((ops, keys))
}

/// Rejects, before anything is sent, a write that DynamoDB would refuse as malformed: no ops,
/// too many, an item without keys, twice the same item, an item over the size limit, or items
/// over the transaction's size limit.
pub(crate) fn validate_write(ops: &[WriteOp]) -> Result<Vec<Key>, StoreError> {
    if ops.is_empty() {
        return Err(StoreError::Invalid("empty write".into()));
    }
    if ops.len() > MAX_TRANSACTION_OPS {
        return Err(StoreError::Invalid(format!(
            "{} operations in one write (at most {MAX_TRANSACTION_OPS})",
            ops.len()
        )));
    }
    let mut seen = HashSet::new();
    let mut keys = Vec::with_capacity(ops.len());
    let mut total = 0;
    for (index, op) in ops.iter().enumerate() {
        let key = op
            .key()
            .ok_or_else(|| StoreError::Invalid(format!("operation {index} has no PK/SK")))?;
        if !seen.insert(key.clone()) {
            return Err(StoreError::Invalid(format!(
                "item {key} appears twice in one write"
            )));
        }
        if let WriteOp::Put { item, .. } = op {
            let size = item_size(item);
            if size > MAX_ITEM_BYTES {
                return Err(StoreError::ItemTooLarge { key, size });
            }
            total += size;
        }
        keys.push(key);
    }
    if total > MAX_TRANSACTION_BYTES {
        return Err(StoreError::Invalid(format!(
            "{total} bytes of items in one write (at most {MAX_TRANSACTION_BYTES})"
        )));
    }
    Ok(keys)
}

/// Rejects a batch read DynamoDB would refuse: too many keys.
pub(crate) fn check_batch(keys: &[Key]) -> Result<(), StoreError> {
    if keys.len() > MAX_BATCH_GET {
        return Err(StoreError::Invalid(format!(
            "{} keys in one batch read (at most {MAX_BATCH_GET})",
            keys.len()
        )));
    }
    Ok(())
}

/// An upper estimate of the item's stored size (DynamoDB counts attribute names and values).
pub fn item_size(item: &Item) -> usize {
    serde_json::to_vec(item)
        .map(|v| v.len())
        .unwrap_or(usize::MAX)
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition of an all-or-nothing write did not hold; nothing was written.
    #[error("condition failed on operation {index} ({key})")]
    ConditionFailed { index: usize, key: Key },
    /// Another write touched the same items at the same moment; nothing was written, retry.
    #[error("conflicting concurrent write")]
    Conflict,
    #[error("invalid cursor")]
    InvalidCursor,
    #[error("item {key} is {size} bytes, over the {MAX_ITEM_BYTES}-byte limit")]
    ItemTooLarge { key: Key, size: usize },
    #[error("invalid store request: {0}")]
    Invalid(String),
    #[error("storage backend error: {0}")]
    Backend(String),
    /// The store could not be reached, was throttling, or did not answer in time (after the
    /// client's bounded retries): an outage, not a bug; the caller may retry later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// The port. Implementations: `embedded::EmbeddedStore` (redb file, feature `embedded`) and
/// [`dynamo::DynamoStore`] (DynamoDB).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// Up to [`MAX_BATCH_GET`] items at once, strongly consistent, in the order of `keys`
    /// (`None` where absent), each with only `projection`'s attributes when given: on DynamoDB
    /// one BatchGetItem (more only for keys it leaves unprocessed under load).
    async fn get_many(
        &self,
        keys: &[Key],
        projection: Option<&Projection>,
    ) -> Result<Vec<Option<Item>>, StoreError>;

    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

    /// Applies every operation or none; a failed condition names the operation.
    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;

    /// Atomically adds `by` to the numeric attribute (created at 0) and returns the new value.
    async fn increment(&self, key: &Key, attr: &str, by: i64) -> Result<i64, StoreError>;

    /// Where the whole store stands, when the adapter can tell without a read: equal markers
    /// mean that nothing was committed in between, so what was read under the first still
    /// holds (a memo above the port may be reused). `None` (the default, DynamoDB's): it cannot
    /// tell, so nothing read may be reused on that ground.
    fn change_marker(&self) -> Option<ChangeMarker> {
        None
    }

    /// Tells this store apart from every other store of the process: what a cache of items
    /// above the port is keyed by (two tables may hold the same org with other contents).
    fn instance(&self) -> u64;

    /// The adapter's name, as a readiness check reports it.
    fn adapter(&self) -> &'static str {
        "store"
    }
}

/// See [`Store::change_marker`]: the store instance (unique within the process) and the
/// sequence number of the last change committed to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChangeMarker {
    pub store: u64,
    pub sequence: u64,
}
