//! A repository's latest scan, read as little as the data allows. The pointer to it in the
//! org's partition ([`LatestScanRecord`]: which scan, at which replacement) is read with the
//! repository, and the scan (a summary of up to 100 KB) is kept in the process by that
//! pointer: a scan never changes once stored. A process that does not hold it (a cold one, or
//! after a new scan) reads the scan items it lacks, in one request. So on DynamoDB a warm
//! request reads a few hundred bytes per repository where it read the whole summary, in time
//! and in read capacity (DynamoDB charges a read by the size of the whole item, whatever it
//! returns). Pointers written before they were slim held the whole scan: a projection reads
//! their pointer alone (their size is still charged until the repository's next scan).
//!
//! What is kept is bounded by the function's memory (an eighth of it under Lambda, 64 MiB
//! elsewhere), a scan weighed at three times its stored size (its structures in memory).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use compliance_domain::ids::{OrgId, RepoId};
use compliance_store::{item_size, keys, Store, StoreError, MAX_BATCH_GET};

use crate::scans::{self, LatestScanRecord, StoredScan};

/// The attributes of the pointer (a projection that reads it must name them).
pub const POINTER_ATTRIBUTES: [&str; 5] = [
    "org_id",
    "repo_id",
    "version",
    "latest.scan_id",
    "scan.scan_id",
];

/// Most bytes of scans kept (past it, the cache starts over): an eighth of a Lambda function's
/// memory, 64 MiB elsewhere.
fn max_bytes() -> usize {
    static MAX: LazyLock<usize> = LazyLock::new(|| {
        std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
            .ok()
            .and_then(|mb| mb.parse::<usize>().ok())
            .map_or(64 * 1024 * 1024, |mb| mb * 1024 * 1024 / 8)
    });
    *MAX
}

/// A scan in memory weighs about this many times its stored size.
const IN_MEMORY: usize = 3;

struct Held {
    scan: Arc<StoredScan>,
    bytes: usize,
}

#[derive(Default)]
struct Kept {
    by_repo: HashMap<(u64, OrgId, RepoId), Held>,
    bytes: usize,
}

static KEPT: LazyLock<Mutex<Kept>> = LazyLock::new(|| Mutex::new(Kept::default()));

fn kept(store: &dyn Store, org: &OrgId, pointer: &LatestScanRecord) -> Option<Arc<StoredScan>> {
    let scan_id = &pointer.named()?.scan_id;
    let kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
    kept.by_repo
        .get(&(store.instance(), org.clone(), pointer.repo_id))
        .filter(|h| &h.scan.scan_id == scan_id)
        .map(|h| h.scan.clone())
}

fn keep(store: &dyn Store, org: &OrgId, scan: Arc<StoredScan>, bytes: usize) {
    let mut kept = KEPT.lock().unwrap_or_else(|e| e.into_inner());
    if bytes > max_bytes() {
        return;
    }
    if kept.bytes + bytes > max_bytes() {
        kept.by_repo.clear();
        kept.bytes = 0;
    }
    let key = (store.instance(), org.clone(), scan.repo_id);
    // A pointer only moves to newer scans: a reader that met an older one keeps nothing.
    if kept
        .by_repo
        .get(&key)
        .is_some_and(|h| scans::is_newer(&h.scan.scan_id, &scan.scan_id))
    {
        return;
    }
    let held = Held { scan, bytes };
    kept.bytes += bytes;
    if let Some(old) = kept.by_repo.insert(key, held) {
        kept.bytes -= old.bytes;
    }
}

/// The latest scans the pointers name, in their order (`None`: never scanned): those the
/// process holds, and the others read whole, in one request per hundred.
pub async fn resolve(
    store: &dyn Store,
    org: &OrgId,
    pointers: &[LatestScanRecord],
) -> Result<Vec<Option<Arc<StoredScan>>>, StoreError> {
    let mut out: Vec<Option<Arc<StoredScan>>> = Vec::with_capacity(pointers.len());
    // (position, key of its scan) of each named scan the process does not hold.
    let mut missing = Vec::new();
    for (i, pointer) in pointers.iter().enumerate() {
        let held = kept(store, org, pointer);
        if let (None, Some(named)) = (&held, pointer.named()) {
            missing.push((i, keys::scan(org, pointer.repo_id, &named.scan_id)));
        }
        out.push(held);
    }
    for chunk in missing.chunks(MAX_BATCH_GET) {
        let wanted: Vec<_> = chunk.iter().map(|(_, key)| key.clone()).collect();
        let items = store.get_many(&wanted, None).await?;
        for ((i, _), item) in chunk.iter().zip(items) {
            let Some(item) = item else {
                continue;
            };
            let bytes = item_size(&item) * IN_MEMORY;
            let scan = Arc::new(scans::of_item(item)?);
            keep(store, org, scan.clone(), bytes);
            out[*i] = Some(scan);
        }
    }
    Ok(out)
}
