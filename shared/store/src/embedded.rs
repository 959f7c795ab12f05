//! The embedded adapter: one redb file holding the whole table, keyed by (PK, SK). redb's write
//! transactions are serialised and atomic, which gives the all-or-nothing conditional writes and
//! the atomic counter of the port; the file survives restarts. The same transaction appends a
//! record of every change to the change feed (see [`super::change_feed`]), so the local stream
//! functions never miss a committed change, whatever happens to the process.

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableTable, Table, TableDefinition};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::watch;

use super::change_feed::{Change, ChangeFeed, ChangeKind};
use super::record::ENTITY;
use super::{
    check_batch, prepare_write, Cursor, Item, Key, Page, Projection, Query, SortKeyRange, Store,
    StoreError, WriteOp, PK, SK,
};

const ITEMS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("items");
/// The change feed: sequence number → [`Change`] as JSON.
const CHANGES: TableDefinition<u64, &[u8]> = TableDefinition::new("changes");
/// The feed's counters: [`NEXT_SEQUENCE`] and one checkpoint per consumer.
const FEED_STATE: TableDefinition<&str, u64> = TableDefinition::new("feed_state");
const NEXT_SEQUENCE: &str = "next_sequence";

/// Sorts after every sort key this product writes (they are ASCII).
const SK_MAX: &str = "\u{10FFFF}";

#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    latest: Arc<watch::Sender<u64>>,
    /// This open database among those of the process ([`Store::change_marker`]).
    instance: u64,
}

impl EmbeddedStore {
    /// Opens (or creates) the database file, creating its parent folder when needed.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(backend)?;
        }
        let db = Database::create(path).map_err(backend)?;
        let txn = db.begin_write().map_err(backend)?;
        txn.open_table(ITEMS).map_err(backend)?;
        txn.open_table(CHANGES).map_err(backend)?;
        let next = next_sequence(&txn.open_table(FEED_STATE).map_err(backend)?)?;
        txn.commit().map_err(backend)?;
        let (latest, _) = watch::channel(next - 1);
        Ok(Self {
            db: Arc::new(db),
            latest: Arc::new(latest),
            instance: super::next_instance(),
        })
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(backend)?
    }

    /// Runs `f` in one write transaction with a change log to append to; commits both, then
    /// tells the feed's waiting consumers.
    async fn write_logged<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Table<(&str, &str), &[u8]>, &mut ChangeLog) -> Result<T, StoreError>
            + Send
            + 'static,
    {
        let (value, last) = self
            .blocking(move |db| {
                let txn = db.begin_write().map_err(backend)?;
                let (value, last) = {
                    let mut items = txn.open_table(ITEMS).map_err(backend)?;
                    let mut state = txn.open_table(FEED_STATE).map_err(backend)?;
                    let mut log = ChangeLog {
                        next: next_sequence(&state)?,
                        at: chrono::Utc::now().timestamp(),
                        changes: Vec::new(),
                    };
                    // An error drops the uncommitted transaction: nothing is written.
                    let value = f(&mut items, &mut log)?;
                    let mut changes = txn.open_table(CHANGES).map_err(backend)?;
                    for change in &log.changes {
                        let bytes = serde_json::to_vec(change).map_err(backend)?;
                        changes
                            .insert(change.sequence, bytes.as_slice())
                            .map_err(backend)?;
                    }
                    state.insert(NEXT_SEQUENCE, log.next).map_err(backend)?;
                    (value, log.next - 1)
                };
                txn.commit().map_err(backend)?;
                Ok((value, last))
            })
            .await?;
        self.latest.send_if_modified(|seen| {
            let newer = last > *seen;
            if newer {
                *seen = last;
            }
            newer
        });
        Ok(value)
    }
}

/// The changes of one write transaction, numbered as they happen.
struct ChangeLog {
    next: u64,
    at: i64,
    changes: Vec<Change>,
}

impl ChangeLog {
    fn record(&mut self, key: &Key, new_image: Option<Item>, old_image: Option<Item>) {
        let kind = match (&new_image, &old_image) {
            (Some(_), None) => ChangeKind::Insert,
            (Some(_), Some(_)) => ChangeKind::Modify,
            (None, Some(_)) => ChangeKind::Remove,
            // Deleting what does not exist changes nothing, and a stream says nothing of it.
            (None, None) => return,
        };
        self.changes.push(Change {
            sequence: self.next,
            at: self.at,
            kind,
            key: key.clone(),
            new_image,
            old_image,
        });
        self.next += 1;
    }
}

fn next_sequence(state: &impl ReadableTable<&'static str, u64>) -> Result<u64, StoreError> {
    Ok(state
        .get(NEXT_SEQUENCE)
        .map_err(backend)?
        .map_or(1, |v| v.value()))
}

fn checkpoint_name(consumer: &str) -> String {
    format!("checkpoint/{consumer}")
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn decode(bytes: &[u8]) -> Result<Item, StoreError> {
    serde_json::from_slice(bytes).map_err(backend)
}

fn read_item(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    key: &Key,
) -> Result<Option<Item>, StoreError> {
    match table
        .get((key.pk.as_str(), key.sk.as_str()))
        .map_err(backend)?
    {
        Some(guard) => Ok(Some(decode(guard.value())?)),
        None => Ok(None),
    }
}

fn put_item(
    table: &mut Table<(&str, &str), &[u8]>,
    log: &mut ChangeLog,
    key: &Key,
    item: &Item,
) -> Result<(), StoreError> {
    let old = read_item(table, key)?;
    let bytes = serde_json::to_vec(item).map_err(backend)?;
    table
        .insert((key.pk.as_str(), key.sk.as_str()), bytes.as_slice())
        .map_err(backend)?;
    log.record(key, Some(item.clone()), old);
    Ok(())
}

fn sort_key_bounds(query: &Query) -> (Bound<String>, Bound<String>) {
    let (lower, upper) = match &query.range {
        SortKeyRange::All => (String::new(), SK_MAX.to_string()),
        SortKeyRange::Prefix(p) => (p.clone(), format!("{p}{SK_MAX}")),
        SortKeyRange::Between(lo, hi) => (lo.clone(), hi.clone()),
    };
    match (&query.cursor, query.forward) {
        (Some(c), true) => (
            Bound::Excluded(c.sort_key().to_string()),
            Bound::Included(upper),
        ),
        (Some(c), false) => (
            Bound::Included(lower),
            Bound::Excluded(c.sort_key().to_string()),
        ),
        (None, _) => (Bound::Included(lower), Bound::Included(upper)),
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    fn adapter(&self) -> &'static str {
        "embedded"
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let key = key.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(backend)?;
            let table = txn.open_table(ITEMS).map_err(backend)?;
            read_item(&table, &key)
        })
        .await
    }

    async fn get_many(
        &self,
        keys: &[Key],
        projection: Option<&Projection>,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        check_batch(keys)?;
        let keys = keys.to_vec();
        let projection = projection.cloned();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(backend)?;
            let table = txn.open_table(ITEMS).map_err(backend)?;
            keys.iter()
                .map(|key| {
                    let item = read_item(&table, key)?;
                    Ok(match &projection {
                        Some(p) => item.map(|i| p.apply(i)),
                        None => item,
                    })
                })
                .collect()
        })
        .await
    }

    fn instance(&self) -> u64 {
        self.instance
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        query.validate()?;
        let query = query.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(backend)?;
            let table = txn.open_table(ITEMS).map_err(backend)?;
            let (lo, hi) = sort_key_bounds(&query);
            let pk = query.pk.as_str();
            fn with_pk<'a>(pk: &'a str, b: &'a Bound<String>) -> Bound<(&'a str, &'a str)> {
                match b {
                    Bound::Included(s) => Bound::Included((pk, s.as_str())),
                    Bound::Excluded(s) => Bound::Excluded((pk, s.as_str())),
                    Bound::Unbounded => Bound::Unbounded,
                }
            }
            if matches!((&lo, &hi), (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) if l > h)
            {
                return Ok(Page::default());
            }
            let range = table
                .range::<(&str, &str)>((with_pk(pk, &lo), with_pk(pk, &hi)))
                .map_err(backend)?;
            let rows: Box<dyn Iterator<Item = _>> = if query.forward {
                Box::new(range)
            } else {
                Box::new(range.rev())
            };
            let mut items = Vec::new();
            let mut more = false;
            for row in rows {
                let (k, v) = row.map_err(backend)?;
                if !query.range.contains(k.value().1) {
                    continue;
                }
                if items.len() == query.limit {
                    more = true;
                    break;
                }
                let item = decode(v.value())?;
                items.push(match &query.projection {
                    Some(p) => p.apply(item),
                    None => item,
                });
            }
            let next = if more {
                items
                    .last()
                    .and_then(Key::of)
                    .map(|k| Cursor::from_sort_key(k.sk))
            } else {
                None
            };
            Ok(Page { items, next })
        })
        .await
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let (ops, keys) = prepare_write(ops)?;
        self.write_logged(move |table, log| {
            for (index, (op, key)) in ops.iter().zip(&keys).enumerate() {
                if let Some(condition) = op.condition() {
                    let current = read_item(table, key)?;
                    if !condition.holds(current.as_ref()) {
                        return Err(StoreError::ConditionFailed {
                            index,
                            key: key.clone(),
                        });
                    }
                }
            }
            for (op, key) in ops.iter().zip(&keys) {
                match op {
                    WriteOp::Put { item, .. } => put_item(table, log, key, item)?,
                    WriteOp::Delete { .. } => {
                        let old = table
                            .remove((key.pk.as_str(), key.sk.as_str()))
                            .map_err(backend)?
                            .map(|guard| decode(guard.value()))
                            .transpose()?;
                        log.record(key, None, old);
                    }
                    WriteOp::Check { .. } => {}
                    WriteOp::Add { attrs, entity, .. } => {
                        let mut item = read_item(table, key)?.unwrap_or_else(|| keyed(key));
                        item.insert(ENTITY.into(), Value::from(*entity));
                        for attr in attrs {
                            let value = counter(&item, attr, key)? + 1;
                            item.insert((*attr).to_string(), Value::from(value));
                        }
                        put_item(table, log, key, &item)?;
                    }
                }
            }
            Ok(())
        })
        .await
    }

    async fn increment(&self, key: &Key, attr: &str, by: i64) -> Result<i64, StoreError> {
        let key = key.clone();
        let attr = attr.to_string();
        self.write_logged(move |table, log| {
            let mut item = read_item(table, &key)?.unwrap_or_else(|| keyed(&key));
            let value = counter(&item, &attr, &key)? + by;
            item.insert(attr.clone(), Value::from(value));
            put_item(table, log, &key, &item)?;
            Ok(value)
        })
        .await
    }

    /// Every change is committed through [`Self::write_logged`], which numbers it and publishes
    /// the last number after the commit; the file is this process's alone (redb locks it).
    fn change_marker(&self) -> Option<super::ChangeMarker> {
        Some(super::ChangeMarker {
            store: self.instance,
            sequence: *self.latest.borrow(),
        })
    }
}

/// An item holding only its key.
fn keyed(key: &Key) -> Item {
    let mut item = Item::new();
    item.insert(PK.into(), Value::from(key.pk.clone()));
    item.insert(SK.into(), Value::from(key.sk.clone()));
    item
}

/// The numeric attribute's value (0 when absent).
fn counter(item: &Item, attr: &str, key: &Key) -> Result<i64, StoreError> {
    match item.get(attr) {
        None => Ok(0),
        Some(v) => v.as_i64().ok_or_else(|| {
            StoreError::Invalid(format!("attribute {attr} of {key} is not an integer"))
        }),
    }
}

/// Only the commit time of a stored change, for trimming.
#[derive(Deserialize)]
struct CommittedAt {
    at: i64,
}

#[async_trait]
impl ChangeFeed for EmbeddedStore {
    async fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<Change>, StoreError> {
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(backend)?;
            let table = txn.open_table(CHANGES).map_err(backend)?;
            let mut out = Vec::new();
            for row in table.range(after.saturating_add(1)..).map_err(backend)? {
                if out.len() == limit {
                    break;
                }
                let (_, v) = row.map_err(backend)?;
                out.push(serde_json::from_slice(v.value()).map_err(backend)?);
            }
            Ok(out)
        })
        .await
    }

    async fn checkpoint(&self, consumer: &str) -> Result<u64, StoreError> {
        let name = checkpoint_name(consumer);
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(backend)?;
            let state = txn.open_table(FEED_STATE).map_err(backend)?;
            Ok(state
                .get(name.as_str())
                .map_err(backend)?
                .map_or(0, |v| v.value()))
        })
        .await
    }

    async fn set_checkpoint(&self, consumer: &str, sequence: u64) -> Result<(), StoreError> {
        let name = checkpoint_name(consumer);
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(backend)?;
            txn.open_table(FEED_STATE)
                .map_err(backend)?
                .insert(name.as_str(), sequence)
                .map_err(backend)?;
            txn.commit().map_err(backend)
        })
        .await
    }

    async fn trim(&self, before: i64) -> Result<usize, StoreError> {
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(backend)?;
            let removed = {
                let mut table = txn.open_table(CHANGES).map_err(backend)?;
                // Sequence numbers grow with commit time: the old ones are a prefix.
                let mut old = 0;
                let mut last_old = None;
                for row in table.iter().map_err(backend)? {
                    let (k, v) = row.map_err(backend)?;
                    let change: CommittedAt = serde_json::from_slice(v.value()).map_err(backend)?;
                    if change.at >= before {
                        break;
                    }
                    old += 1;
                    last_old = Some(k.value());
                }
                if let Some(last) = last_old {
                    table.retain_in(..=last, |_, _| false).map_err(backend)?;
                }
                old
            };
            txn.commit().map_err(backend)?;
            Ok(removed)
        })
        .await
    }

    fn latest(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }
}
