//! The embedded adapter: one redb file holding the whole table, keyed by (PK, SK). redb's write
//! transactions are serialised and atomic, which gives the all-or-nothing conditional writes and
//! the atomic counter of the port; the file survives restarts.

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{Database, ReadableTable, TableDefinition};
use serde_json::Value;

use super::{
    validate_write, Cursor, Item, Key, Page, Query, SortKeyRange, Store, StoreError, WriteOp, PK,
    SK,
};

const ITEMS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("items");

/// Sorts after every sort key this product writes (they are ASCII).
const SK_MAX: &str = "\u{10FFFF}";

#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
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
        txn.commit().map_err(backend)?;
        Ok(Self { db: Arc::new(db) })
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
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let key = key.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(backend)?;
            let table = txn.open_table(ITEMS).map_err(backend)?;
            read_item(&table, &key)
        })
        .await
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
                items.push(decode(v.value())?);
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
        let keys = validate_write(&ops)?;
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(backend)?;
            {
                let mut table = txn.open_table(ITEMS).map_err(backend)?;
                for (index, (op, key)) in ops.iter().zip(&keys).enumerate() {
                    if let Some(condition) = op.condition() {
                        let current = read_item(&table, key)?;
                        if !condition.holds(current.as_ref()) {
                            // Dropping the uncommitted transaction discards nothing-yet-written.
                            return Err(StoreError::ConditionFailed {
                                index,
                                key: key.clone(),
                            });
                        }
                    }
                }
                for (op, key) in ops.iter().zip(&keys) {
                    let k = (key.pk.as_str(), key.sk.as_str());
                    match op {
                        WriteOp::Put { item, .. } => {
                            let bytes = serde_json::to_vec(item).map_err(backend)?;
                            table.insert(k, bytes.as_slice()).map_err(backend)?;
                        }
                        WriteOp::Delete { .. } => {
                            table.remove(k).map_err(backend)?;
                        }
                        WriteOp::Check { .. } => {}
                    }
                }
            }
            txn.commit().map_err(backend)
        })
        .await
    }

    async fn increment(&self, key: &Key, attr: &str, by: i64) -> Result<i64, StoreError> {
        let key = key.clone();
        let attr = attr.to_string();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(backend)?;
            let value = {
                let mut table = txn.open_table(ITEMS).map_err(backend)?;
                let mut item = read_item(&table, &key)?.unwrap_or_else(|| {
                    let mut item = Item::new();
                    item.insert(PK.into(), Value::from(key.pk.clone()));
                    item.insert(SK.into(), Value::from(key.sk.clone()));
                    item
                });
                let current = match item.get(&attr) {
                    None => 0,
                    Some(v) => v.as_i64().ok_or_else(|| {
                        StoreError::Invalid(format!("attribute {attr} of {key} is not an integer"))
                    })?,
                };
                let value = current + by;
                item.insert(attr.clone(), Value::from(value));
                let bytes = serde_json::to_vec(&item).map_err(backend)?;
                table
                    .insert((key.pk.as_str(), key.sk.as_str()), bytes.as_slice())
                    .map_err(backend)?;
                value
            };
            txn.commit().map_err(backend)?;
            Ok(value)
        })
        .await
    }
}
