//! Stored scans: one bounded summary per ingested report, in the repository's own partition,
//! written once with its idempotency records and its audit-log entry, and, when it is the
//! repository's newest, with the copy of the repository's latest scan in the org's partition
//! ([`LatestScanRecord`]). The stream carries each new scan item to the rescoring function.

use chrono::{DateTime, Duration, Utc};
use compliance_domain::ids::{OrgId, RepoId, ScanId};
use compliance_domain::ingest::{FindingKey, FindingKeys, ScanSummary};
use compliance_domain::labels;
use compliance_store::keys::{self, DedupBy};
use compliance_store::record::{Record, Records};
use compliance_store::{Condition, Cursor, Key, Query, Store, StoreError, WriteOp};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit_log::{self, AuditAction, AuditContext};
use crate::{chunks, paging};

/// How long a re-sent report (same bytes, or same `Idempotency-Key`) maps to the first scan.
pub const DEDUP_DAYS: i64 = 30;

labels! {
    /// How the report was written.
    pub enum ScanFormat as "scan format" {
        Sarif => "sarif",
        Native => "native",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredScan {
    pub scan_id: ScanId,
    pub repo_id: RepoId,
    /// When the scan ran (the report's own finish time when it has one), else `ingested_at`.
    #[serde(with = "compliance_domain::time::micros")]
    pub scanned_at: DateTime<Utc>,
    #[serde(with = "compliance_domain::time::micros")]
    pub ingested_at: DateTime<Utc>,
    pub format: ScanFormat,
    pub content_sha256: String,
    pub summary: ScanSummary,
    /// Where the keys of its counted findings are (`None` for scans stored before they were
    /// kept: exceptions then never apply to them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding_keys: Option<KeysStored>,
}

/// How many finding keys a scan keeps, in how many chunks, and how many it could not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeysStored {
    pub chunks: usize,
    pub stored: u64,
    /// Past the bound ([`FINDING_KEYS_MAX`](compliance_domain::ingest::FINDING_KEYS_MAX)) or
    /// the write's size: these findings always count.
    pub omitted: u64,
}

/// Finding keys per chunk, before a chunk that compresses too large is split.
const CHUNK_KEYS: usize = 2_000;
/// Room kept in the scan's write for everything but the keys.
const KEYS_ALLOWANCE: usize = 1024 * 1024;

/// A chunk of a scan's finding keys.
#[derive(Serialize, Deserialize)]
struct KeysChunk {
    org_id: OrgId,
    repo_id: RepoId,
    scan_id: ScanId,
    chunk: usize,
    first: usize,
    count: usize,
    keys_gzip: String,
}

impl Record for KeysChunk {
    const ENTITY: &'static str = "scan_finding_keys";

    fn key(&self) -> Key {
        keys::scan_finding_keys(&self.org_id, self.repo_id, &self.scan_id, self.chunk)
    }
}

/// The keys' chunks that fit the scan's write (the first ones), and what is stored of them.
fn keys_chunks(keys: &FindingKeys, allowance: usize) -> (Vec<chunks::Chunk>, KeysStored) {
    let mut parts = chunks::split(&keys.keys, CHUNK_KEYS);
    while parts.iter().map(chunks::Chunk::encoded_len).sum::<usize>() > allowance
        || parts.len() > MAX_KEY_CHUNKS
    {
        parts.pop();
    }
    let stored = parts.last().map_or(0, |c| c.first + c.count) as u64;
    let info = KeysStored {
        chunks: parts.len(),
        stored,
        omitted: keys.omitted + (keys.keys.len() as u64 - stored),
    };
    (parts, info)
}

/// Most chunks in a scan's write (the transaction holds 100 operations).
const MAX_KEY_CHUNKS: usize = 50;

/// The keys of the scan's counted findings that were stored (empty for a scan without them).
pub async fn finding_keys(
    store: &dyn Store,
    org: &OrgId,
    scan: &StoredScan,
) -> Result<Vec<FindingKey>, StoreError> {
    if scan.finding_keys.is_none_or(|k| k.chunks == 0) {
        return Ok(Vec::new());
    }
    let (pk, range) = keys::scan_finding_keys_all(org, scan.repo_id, &scan.scan_id);
    let all: Vec<KeysChunk> = paging::all(store, Query::new(pk, range)).await?;
    let mut out = Vec::new();
    for chunk in all {
        out.extend(chunks::decode::<FindingKey>(
            &chunk.keys_gzip,
            "finding keys",
        )?);
    }
    Ok(out)
}

/// A scan as stored: with its org, which the rescoring function reads from the stream image.
#[derive(Serialize, Deserialize)]
pub struct ScanRecord {
    #[serde(flatten)]
    pub scan: StoredScan,
    pub org_id: OrgId,
}

impl Record for ScanRecord {
    const ENTITY: &'static str = "scan";

    fn key(&self) -> Key {
        keys::scan(&self.org_id, self.scan.repo_id, &self.scan.scan_id)
    }
}

/// The pointer to a repository's latest scan, in the org's partition right after the repository
/// item ([`keys::repo_latest_scan`]), so that one Query of the org's repositories reads which
/// scan is each one's latest (the scans themselves are kept in the process by it:
/// [`crate::latest`]). Written empty with the repository; replaced in the same atomic write as
/// each scan newer than the one it names (newer in [`latest`]'s order: [`is_newer`]),
/// conditioned on the `version` read, so concurrent ingests never move it back. Repositories
/// created before pointers were kept have none until their next scan: [`latest`] answers for
/// them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatestScanRecord {
    pub org_id: OrgId,
    pub repo_id: RepoId,
    /// Incremented by each replacement; the condition of the next.
    pub version: u64,
    /// Which scan, `None` before the repository's first.
    #[serde(default)]
    pub latest: Option<LatestScan>,
    /// Always written null: releases before pointers read the whole scan here, and read a
    /// null as no scan (their org-wide summary shows the repository unscanned until its next
    /// scan, which they write whole, rather than failing on a pointer). Items they wrote hold
    /// the whole scan here, of which only the id is read.
    #[serde(default)]
    pub scan: Option<LatestScan>,
}

/// Which scan is a repository's latest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestScan {
    pub scan_id: ScanId,
}

impl Record for LatestScanRecord {
    const ENTITY: &'static str = "repo_latest_scan";

    fn key(&self) -> Key {
        keys::repo_latest_scan(&self.org_id, self.repo_id)
    }
}

impl LatestScanRecord {
    /// The scan it names: the pointer, or the id of the scan an earlier release wrote whole.
    pub fn named(&self) -> Option<&LatestScan> {
        self.latest.as_ref().or(self.scan.as_ref())
    }

    /// The pointer of a repository without scans, written with the repository.
    pub fn empty(org_id: &OrgId, repo_id: RepoId) -> Self {
        LatestScanRecord {
            org_id: org_id.clone(),
            repo_id,
            version: 0,
            latest: None,
            scan: None,
        }
    }
}

/// Whether scan `a` comes after scan `b` in [`latest`]'s order: the repository's scans sorted
/// by sort key (`SCAN#{scan_id}`), so by id. Ids are fixed-width lowercase hex, compared
/// bytewise as the table compares sort keys.
pub fn is_newer(a: &ScanId, b: &ScanId) -> bool {
    a.as_str() > b.as_str()
}

/// How many times an ingest re-reads the latest-scan copy after a concurrent ingest replaced
/// it between the read and the write (each retry means another scan of the repository won).
const COPY_ATTEMPTS: usize = 10;

/// The write that makes `scan` its repository's latest-scan copy, conditioned on the copy as
/// read now (create-once when there is none); `None` when the copy already holds `scan` or a
/// newer scan (a copy only moves forward, so no condition is needed then).
async fn copy_as_latest(
    store: &dyn Store,
    org_id: &OrgId,
    scan: &StoredScan,
) -> Result<Option<WriteOp>, StoreError> {
    let current: Option<LatestScanRecord> = store
        .get_record(&keys::repo_latest_scan(org_id, scan.repo_id))
        .await?;
    let condition = match &current {
        Some(copy) => {
            if let Some(held) = copy.named() {
                if !is_newer(&scan.scan_id, &held.scan_id) {
                    return Ok(None);
                }
            }
            Condition::Equals("version".into(), json!(copy.version))
        }
        None => Condition::NotExists,
    };
    let copy = LatestScanRecord {
        org_id: org_id.clone(),
        repo_id: scan.repo_id,
        version: current.map_or(0, |c| c.version) + 1,
        latest: Some(LatestScan {
            scan_id: scan.scan_id.clone(),
        }),
        scan: None,
    };
    Ok(Some(copy.put_if(condition)))
}

/// Maps a re-sent report (its bytes' hash, or its `Idempotency-Key`'s) to the first scan.
#[derive(Serialize, Deserialize)]
struct DedupRecord {
    org_id: OrgId,
    repo_id: RepoId,
    by: DedupBy,
    hash: String,
    scan_id: ScanId,
    #[serde(skip)]
    expires_at: i64,
}

impl Record for DedupRecord {
    const ENTITY: &'static str = "scan_dedup";

    fn key(&self) -> Key {
        keys::scan_dedup(&self.org_id, self.repo_id, self.by, &self.hash)
    }

    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// Time-ordered and unique: milliseconds since the epoch (13 hex digits) and 32 random bits.
pub fn new_scan_id(at: DateTime<Utc>) -> ScanId {
    let mut random = [0u8; 4];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let id = format!(
        "{:013x}{}",
        at.timestamp_millis().max(0),
        hex::encode(random)
    );
    ScanId::parse(&id).expect("13 + 8 lowercase hex digits")
}

pub enum Stored {
    New(StoredScan),
    /// The same report was sent before: the first scan, unchanged.
    Duplicate(StoredScan),
    /// The `Idempotency-Key` was first used with another report (the first scan); the new
    /// report is not stored.
    KeyReused(StoredScan),
}

pub struct NewScan<'a> {
    pub repo_id: RepoId,
    pub format: ScanFormat,
    pub content_sha256: String,
    /// The SHA-256 of the client's `Idempotency-Key`, if it sent one.
    pub idempotency_key: Option<&'a str>,
    pub scanned_at: Option<DateTime<Utc>>,
    pub summary: ScanSummary,
    /// The keys of its counted findings, kept beside it for exceptions.
    pub finding_keys: FindingKeys,
    /// A write that happens with the new scan, or not at all (an upload's completion, which
    /// names the scan).
    pub also: Option<&'a (dyn Fn(&StoredScan) -> WriteOp + Send + Sync)>,
}

/// What an earlier scan says of this report: the same `Idempotency-Key` (checked first: a key
/// names one report), else the same bytes.
async fn existing(
    store: &dyn Store,
    org_id: &OrgId,
    repo_id: RepoId,
    dedup: &[Key],
    content_sha256: &str,
) -> Result<Option<Stored>, StoreError> {
    for key in dedup.iter().rev() {
        let Some(record) = store.get_record::<DedupRecord>(key).await? else {
            continue;
        };
        if let Some(scan) = get(store, org_id, repo_id, &record.scan_id).await? {
            return Ok(Some(if scan.content_sha256 == content_sha256 {
                Stored::Duplicate(scan)
            } else {
                Stored::KeyReused(scan)
            }));
        }
    }
    Ok(None)
}

pub async fn store_scan(
    store: &dyn Store,
    ctx: &AuditContext,
    new: NewScan<'_>,
) -> Result<Stored, StoreError> {
    let org = &ctx.org_id;
    let mut by = vec![(DedupBy::Content, new.content_sha256.clone())];
    if let Some(k) = new.idempotency_key {
        by.push((DedupBy::ClientKey, k.to_string()));
    }
    let dedup: Vec<Key> = by
        .iter()
        .map(|(kind, hash)| keys::scan_dedup(org, new.repo_id, *kind, hash))
        .collect();
    if let Some(earlier) = existing(store, org, new.repo_id, &dedup, &new.content_sha256).await? {
        return Ok(earlier);
    }
    let now = ctx.at;
    // A report cannot have finished in the future; clocks that say so are not trusted.
    let scanned_at = new.scanned_at.filter(|t| *t <= now).unwrap_or(now);
    let scan_id = new_scan_id(now);
    let (key_chunks, keys_stored) = keys_chunks(&new.finding_keys, KEYS_ALLOWANCE);
    let scan = StoredScan {
        scan_id,
        repo_id: new.repo_id,
        scanned_at,
        ingested_at: now,
        format: new.format,
        content_sha256: new.content_sha256,
        summary: new.summary,
        finding_keys: Some(keys_stored),
    };
    let keys_ops: Vec<WriteOp> = key_chunks
        .iter()
        .enumerate()
        .map(|(chunk, part)| {
            KeysChunk {
                org_id: org.clone(),
                repo_id: scan.repo_id,
                scan_id: scan.scan_id.clone(),
                chunk,
                first: part.first,
                count: part.count,
                keys_gzip: part.encoded(),
            }
            .put_if(Condition::NotExists)
        })
        .collect();
    let expires_at = (now + Duration::days(DEDUP_DAYS)).timestamp();
    let record = ScanRecord {
        scan: scan.clone(),
        org_id: org.clone(),
    };
    let dedup_ops: Vec<WriteOp> = by
        .into_iter()
        .map(|(by, hash)| {
            DedupRecord {
                org_id: org.clone(),
                repo_id: scan.repo_id,
                by,
                hash,
                scan_id: scan.scan_id.clone(),
                expires_at,
            }
            .put_if(Condition::NotExists)
        })
        .collect();
    let metadata = json!({
        "repo_id": scan.repo_id, "scan_id": scan.scan_id, "format": scan.format,
        "content_sha256": scan.content_sha256, "findings": scan.summary.totals.findings,
        "tools": scan.summary.tools.iter().map(|t| t.tool.as_str()).collect::<Vec<_>>(),
    });
    for _ in 0..COPY_ATTEMPTS {
        // The scan, its idempotency records and (when it is the newest) the copy: one write.
        let mut ops = vec![record.put_if(Condition::NotExists)];
        ops.extend(dedup_ops.iter().cloned());
        let copy = copy_as_latest(store, org, &scan).await?;
        let copy_index = copy.as_ref().map(|_| ops.len());
        ops.extend(copy);
        ops.extend(new.also.map(|also| also(&scan)));
        ops.extend(keys_ops.iter().cloned());
        let action = AuditAction::ScanIngested;
        match audit_log::commit(store, ops, ctx, action, metadata.clone()).await {
            Ok(_) => return Ok(Stored::New(scan)),
            // Another scan of the repository replaced the copy since it was read: read again.
            Err(StoreError::ConditionFailed { index, .. }) if Some(index) == copy_index => continue,
            // The same report arrived twice at the same moment: the other one won.
            Err(StoreError::ConditionFailed { index, .. })
                if index >= 1 && index <= dedup.len() =>
            {
                return existing(store, org, new.repo_id, &dedup, &scan.content_sha256)
                    .await?
                    .ok_or(StoreError::Conflict);
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}

pub async fn get(
    store: &dyn Store,
    org_id: &OrgId,
    repo_id: RepoId,
    scan_id: &ScanId,
) -> Result<Option<StoredScan>, StoreError> {
    let record: Option<ScanRecord> = store
        .get_record(&keys::scan(org_id, repo_id, scan_id))
        .await?;
    Ok(record.map(|r| r.scan))
}

/// Newest first.
pub async fn list(
    store: &dyn Store,
    org_id: &OrgId,
    repo_id: RepoId,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<StoredScan>, Option<Cursor>), StoreError> {
    let (pk, range) = keys::scans(org_id, repo_id);
    let query = Query::new(pk, range).backward().limit(limit).after(cursor);
    let (records, next): (Vec<ScanRecord>, _) = store.query_records(&query).await?;
    Ok((records.into_iter().map(|r| r.scan).collect(), next))
}

/// The scan of a stored scan item (read with others, in one request).
pub fn of_item(item: compliance_store::Item) -> Result<StoredScan, StoreError> {
    Ok(ScanRecord::from_item(item)?.scan)
}

pub async fn latest(
    store: &dyn Store,
    org_id: &OrgId,
    repo_id: RepoId,
) -> Result<Option<StoredScan>, StoreError> {
    Ok(list(store, org_id, repo_id, 1, None)
        .await?
        .0
        .into_iter()
        .next())
}
