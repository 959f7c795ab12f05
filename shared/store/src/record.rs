//! Stored item types. Every kind of item the product writes is a [`Record`]: its `entity` name,
//! its key (built by [`crate::keys`], the one place keys are made) and, when it expires, its TTL.
//! Turning a record into an item and back is done here once, for all of them.

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::table::TTL_ATTRIBUTE;
use crate::{Cursor, Item, Key, Query, Store, StoreError, WriteOp, PK, SK};

/// The attribute naming what an item is (stream filters and consumers match on it).
pub const ENTITY: &str = "entity";

pub trait Record: Serialize + DeserializeOwned + Send + Sync {
    /// The item's `entity` attribute.
    const ENTITY: &'static str;

    /// Where the item lives.
    fn key(&self) -> Key;

    /// When DynamoDB's TTL may delete it, in seconds since the epoch (`None`: never).
    fn expires_at(&self) -> Option<i64> {
        None
    }

    /// The item as stored: the record's fields with its key, entity and TTL.
    fn to_item(&self) -> Item {
        let Ok(Value::Object(mut item)) = serde_json::to_value(self) else {
            unreachable!("records are structs: they serialise to JSON objects")
        };
        let key = self.key();
        item.insert(PK.into(), key.pk.into());
        item.insert(SK.into(), key.sk.into());
        item.insert(ENTITY.into(), Self::ENTITY.into());
        if let Some(at) = self.expires_at() {
            item.insert(TTL_ATTRIBUTE.into(), at.into());
        }
        item
    }

    /// The record of a stored item (its key, entity and TTL attributes are ignored).
    fn from_item(item: Item) -> Result<Self, StoreError> {
        serde_json::from_value(Value::Object(item))
            .map_err(|e| StoreError::Backend(format!("malformed {} item: {e}", Self::ENTITY)))
    }

    /// An unconditional write of the record.
    fn put(&self) -> WriteOp {
        WriteOp::put(self.to_item())
    }

    /// A write of the record that holds only if `condition` does.
    fn put_if(&self, condition: crate::Condition) -> WriteOp {
        WriteOp::put_if(self.to_item(), condition)
    }
}

/// Reading records through the port.
#[async_trait]
pub trait Records {
    async fn get_record<T: Record>(&self, key: &Key) -> Result<Option<T>, StoreError>;

    /// One page of the query, as records.
    async fn query_records<T: Record>(
        &self,
        query: &Query,
    ) -> Result<(Vec<T>, Option<Cursor>), StoreError>;
}

#[async_trait]
impl<S: Store + ?Sized> Records for S {
    async fn get_record<T: Record>(&self, key: &Key) -> Result<Option<T>, StoreError> {
        self.get(key).await?.map(T::from_item).transpose()
    }

    async fn query_records<T: Record>(
        &self,
        query: &Query,
    ) -> Result<(Vec<T>, Option<Cursor>), StoreError> {
        let page = self.query(query).await?;
        let records = page
            .items
            .into_iter()
            .map(T::from_item)
            .collect::<Result<_, _>>()?;
        Ok((records, page.next))
    }
}
