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

/// Writes every group; for each, whether it was written (`false`: one of its conditions
/// failed, and nothing of it was written).
pub(crate) async fn write_groups(
    store: &dyn Store,
    groups: &[Vec<WriteOp>],
) -> Result<Vec<bool>, StoreError> {
    let mut written = vec![false; groups.len()];
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
            flush(store, groups, &pack, &mut written).await?;
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
        flush(store, groups, &pack, &mut written).await?;
    }
    Ok(written)
}

fn op_bytes(op: &WriteOp) -> usize {
    match op {
        WriteOp::Put { item, .. } => item_size(item),
        _ => 0,
    }
}

async fn flush(
    store: &dyn Store,
    groups: &[Vec<WriteOp>],
    pack: &[usize],
    written: &mut [bool],
) -> Result<(), StoreError> {
    let all: Vec<WriteOp> = pack.iter().flat_map(|&i| groups[i].clone()).collect();
    match store.write(all).await {
        Ok(()) => pack.iter().for_each(|&i| written[i] = true),
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {
            for &i in pack {
                written[i] = match store.write(groups[i].clone()).await {
                    Ok(()) => true,
                    Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => false,
                    Err(e) => return Err(e),
                };
            }
        }
        Err(e) => return Err(e),
    }
    Ok(())
}
