//! A store that passes every call on to another, letting a test watch the reads or refuse
//! writes (a counting store, a failing table) without restating the whole port.

use std::sync::Arc;

use async_trait::async_trait;
use compliance_store::{Item, Key, Page, Projection, Query, Store, StoreError, WriteOp};

/// What an [`Intercepted`] store does before passing a call on.
pub trait Intercept: Send + Sync + 'static {
    /// Sees the partition of each read (`get` and `query`).
    fn read(&self, _pk: &str) {}

    /// Sees each batch read (`get_many`): one call, whatever the number of keys.
    fn read_batch(&self, _keys: &[Key]) {}

    /// May refuse a write before it reaches the store.
    fn write(&self, _ops: &[WriteOp]) -> Result<(), StoreError> {
        Ok(())
    }
}

/// `inner` behind `hook`: every call goes to `inner` once `hook` has seen it (`increment`
/// untouched). The change marker is the port's default (`None`): nothing read through it is
/// reused on that ground.
pub struct Intercepted<I> {
    pub inner: Arc<dyn Store>,
    pub hook: I,
}

#[async_trait]
impl<I: Intercept> Store for Intercepted<I> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.hook.read(&key.pk);
        self.inner.get(key).await
    }

    async fn get_many(
        &self,
        keys: &[Key],
        projection: Option<&Projection>,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        self.hook.read_batch(keys);
        self.inner.get_many(keys, projection).await
    }

    /// The inner store's: what a cache above the port holds of it is shared.
    fn instance(&self) -> u64 {
        self.inner.instance()
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.hook.read(&query.pk);
        self.inner.query(query).await
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.hook.write(&ops)?;
        self.inner.write(ops).await
    }

    async fn increment(&self, key: &Key, attr: &str, by: i64) -> Result<i64, StoreError> {
        self.inner.increment(key, attr, by).await
    }
}
