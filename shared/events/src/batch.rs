//! Many independent writes (each a group that must be atomic on its own) packed into as few
//! transactions as the table allows: a delivery's three items, a claim's two. A transaction one
//! of whose conditions fails is replayed group by group, so each group's own outcome is known.
//! On the embedded store each transaction is one durable commit, so this is what lets the
//! deliverer keep up with a thousand deliveries a second.

use std::collections::HashSet;

use compliance_store::{item_size, Key, Store, StoreError, WriteOp};

/// Operations per transaction (DynamoDB's limit is 100).
const PACK_OPS: usize = 90;
/// Bytes of items per transaction (DynamoDB's limit is 4 MB).
const PACK_BYTES: usize = 3 * 1024 * 1024;

/// What became of one group.
#[derive(Debug)]
pub(crate) enum Written {
    Yes,
    /// One of its conditions failed; nothing of it was written.
    Refused,
    /// It could not be written (the store unavailable, a transaction conflict that persisted,
    /// an item over the limit); nothing of it was written.
    Failed(StoreError),
}

/// Tries of a group that meets transaction conflicts.
const CONFLICT_TRIES: usize = 3;

/// Writes every group; what became of each.
pub(crate) async fn write_groups(store: &dyn Store, groups: &[Vec<WriteOp>]) -> Vec<Written> {
    let mut written: Vec<Option<Written>> = groups.iter().map(|_| None).collect();
    let mut pack: Vec<usize> = Vec::new();
    let (mut ops, mut bytes) = (0, 0);
    let mut keys: HashSet<Key> = HashSet::new();
    for (i, group) in groups.iter().enumerate() {
        let size: usize = group.iter().map(op_bytes).sum();
        let group_keys: Vec<Key> = group.iter().filter_map(WriteOp::key).collect();
        let collides = group_keys.iter().any(|k| keys.contains(k));
        if !pack.is_empty()
            && (ops + group.len() > PACK_OPS || bytes + size > PACK_BYTES || collides)
        {
            flush(store, groups, &pack, &mut written).await;
            pack.clear();
            keys.clear();
            (ops, bytes) = (0, 0);
        }
        pack.push(i);
        keys.extend(group_keys);
        ops += group.len();
        bytes += size;
    }
    if !pack.is_empty() {
        flush(store, groups, &pack, &mut written).await;
    }
    written
        .into_iter()
        .map(|w| w.expect("every group was flushed"))
        .collect()
}

fn op_bytes(op: &WriteOp) -> usize {
    match op {
        WriteOp::Put { item, .. } => item_size(item),
        _ => 0,
    }
}

/// One transaction for the pack; when it fails, each group alone, so that one group's
/// condition or size never costs the others.
async fn flush(
    store: &dyn Store,
    groups: &[Vec<WriteOp>],
    pack: &[usize],
    written: &mut [Option<Written>],
) {
    if pack.len() > 1 {
        let all: Vec<WriteOp> = pack.iter().flat_map(|&i| groups[i].clone()).collect();
        if store.write(all).await.is_ok() {
            pack.iter().for_each(|&i| written[i] = Some(Written::Yes));
            return;
        }
    }
    for &i in pack {
        written[i] = Some(alone(store, &groups[i]).await);
    }
}

async fn alone(store: &dyn Store, group: &[WriteOp]) -> Written {
    let mut tries = 0;
    loop {
        tries += 1;
        match store.write(group.to_vec()).await {
            Ok(()) => return Written::Yes,
            Err(StoreError::ConditionFailed { .. }) => return Written::Refused,
            Err(StoreError::Conflict) if tries < CONFLICT_TRIES => {
                tokio::time::sleep(std::time::Duration::from_millis(20 * tries as u64)).await;
            }
            Err(e) => return Written::Failed(e),
        }
    }
}
