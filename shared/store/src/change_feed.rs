//! The change feed: DynamoDB Streams' semantics for a store that has no stream of its own. Every
//! committed put and delete is recorded (with its new and old image) in the very write that
//! makes the change, so no change exists without its record; records carry a gap-free,
//! increasing sequence number and are kept for [`RETENTION_SECONDS`], as a stream keeps them.
//! Each consumer keeps its own checkpoint and resumes from it, so a crash between a commit and
//! its delivery loses nothing: the record is delivered when the consumer starts again.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::{Item, Key, StoreError};

/// How long records are kept (DynamoDB Streams: 24 hours).
pub const RETENTION_SECONDS: i64 = 24 * 60 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    Insert,
    Modify,
    Remove,
}

impl ChangeKind {
    /// The stream record's `eventName`.
    pub fn event_name(self) -> &'static str {
        match self {
            ChangeKind::Insert => "INSERT",
            ChangeKind::Modify => "MODIFY",
            ChangeKind::Remove => "REMOVE",
        }
    }
}

/// What one write did to one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub sequence: u64,
    /// When it was committed, in seconds since the epoch.
    pub at: i64,
    pub kind: ChangeKind,
    pub key: Key,
    pub new_image: Option<Item>,
    pub old_image: Option<Item>,
}

#[async_trait]
pub trait ChangeFeed: Send + Sync + 'static {
    /// The retained changes with a sequence number above `after`, oldest first, at most `limit`.
    async fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<Change>, StoreError>;

    /// The last sequence number the consumer finished with (0: none yet).
    async fn checkpoint(&self, consumer: &str) -> Result<u64, StoreError>;

    async fn set_checkpoint(&self, consumer: &str, sequence: u64) -> Result<(), StoreError>;

    /// Drops the changes committed before `before` (seconds since the epoch); returns how many.
    async fn trim(&self, before: i64) -> Result<usize, StoreError>;

    /// The latest committed sequence number, updated after every commit: consumers wait on it.
    fn latest(&self) -> watch::Receiver<u64>;
}
