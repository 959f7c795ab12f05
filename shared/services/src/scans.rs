//! Stored scans: one bounded summary per ingested report, in the repository's own partition,
//! written once with its idempotency records and its audit entry. The stream carries each new
//! scan item to the rescoring function.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::audit_log::{self, AuditContext};
use compliance_domain::ingest::ScanSummary;
use compliance_store::keys;
use compliance_store::{
    Condition, Cursor, Item, Key, Query, SortKeyRange, Store, StoreError, WriteOp,
};

pub const SCAN_INGESTED: &str = "SCAN_INGESTED";

/// How long a re-sent report (same bytes, or same `Idempotency-Key`) maps to the first scan.
pub const DEDUP_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredScan {
    pub scan_id: String,
    pub repo_id: u64,
    /// When the scan ran (the report's own finish time when it has one), else `ingested_at`.
    pub scanned_at: String,
    pub ingested_at: String,
    pub format: String,
    pub content_sha256: String,
    pub summary: ScanSummary,
}

/// Time-ordered and unique: milliseconds since the epoch (13 hex digits) and 32 random bits.
pub fn new_scan_id(at: DateTime<Utc>) -> String {
    let mut random = [0u8; 4];
    rand::rngs::OsRng.fill_bytes(&mut random);
    format!(
        "{:013x}{}",
        at.timestamp_millis().max(0),
        hex::encode(random)
    )
}

pub fn valid_scan_id(id: &str) -> bool {
    id.len() == 21
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl StoredScan {
    fn to_item(&self, org_id: &str) -> Item {
        let key = keys::scan(org_id, self.repo_id, &self.scan_id);
        let mut item = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => unreachable!("StoredScan serialises to an object"),
        };
        item.insert("PK".into(), key.pk.into());
        item.insert("SK".into(), key.sk.into());
        item.insert(keys::ENTITY.into(), json!("scan"));
        item.insert("org_id".into(), json!(org_id));
        item
    }

    pub fn from_item(item: Item) -> Result<StoredScan, StoreError> {
        serde_json::from_value(Value::Object(item))
            .map_err(|e| StoreError::Backend(format!("malformed scan item: {e}")))
    }
}

fn dedup_item(key: Key, scan_id: &str, expires_at: i64) -> Item {
    let mut item = Item::new();
    item.insert("PK".into(), key.pk.into());
    item.insert("SK".into(), key.sk.into());
    item.insert(keys::ENTITY.into(), json!("scan_dedup"));
    item.insert("scan_id".into(), json!(scan_id));
    item.insert(
        compliance_store::table::TTL_ATTRIBUTE.into(),
        json!(expires_at),
    );
    item
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
    pub repo_id: u64,
    pub format: &'a str,
    pub content_sha256: String,
    pub idempotency_key: Option<&'a str>,
    pub scanned_at: Option<DateTime<Utc>>,
    pub summary: ScanSummary,
}

/// What an earlier scan says of this report: the same `Idempotency-Key` (checked first: a key
/// names one report), else the same bytes.
async fn existing(
    store: &dyn Store,
    org_id: &str,
    repo_id: u64,
    dedup: &[Key],
    content_sha256: &str,
) -> Result<Option<Stored>, StoreError> {
    for key in dedup.iter().rev() {
        if let Some(item) = store.get(key).await? {
            if let Some(scan_id) = item.get("scan_id").and_then(Value::as_str) {
                if let Some(scan) = get(store, org_id, repo_id, scan_id).await? {
                    return Ok(Some(if scan.content_sha256 == content_sha256 {
                        Stored::Duplicate(scan)
                    } else {
                        Stored::KeyReused(scan)
                    }));
                }
            }
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
    let mut dedup = vec![keys::scan_dedup(
        org,
        new.repo_id,
        "sha256",
        &new.content_sha256,
    )];
    if let Some(k) = new.idempotency_key {
        dedup.push(keys::scan_dedup(org, new.repo_id, "key", k));
    }
    if let Some(earlier) = existing(store, org, new.repo_id, &dedup, &new.content_sha256).await? {
        return Ok(earlier);
    }
    let now = ctx.at;
    let ingested_at = compliance_domain::time::rfc3339(now);
    // A report cannot have finished in the future; clocks that say so are not trusted.
    let scanned_at = new
        .scanned_at
        .filter(|t| *t <= now)
        .map(compliance_domain::time::rfc3339)
        .unwrap_or_else(|| ingested_at.clone());
    let scan = StoredScan {
        scan_id: new_scan_id(now),
        repo_id: new.repo_id,
        scanned_at,
        ingested_at,
        format: new.format.to_string(),
        content_sha256: new.content_sha256,
        summary: new.summary,
    };
    let expires_at = (now + Duration::days(DEDUP_DAYS)).timestamp();
    let mut ops = vec![WriteOp::put_if(scan.to_item(org), Condition::NotExists)];
    ops.extend(dedup.iter().map(|k| {
        WriteOp::put_if(
            dedup_item(k.clone(), &scan.scan_id, expires_at),
            Condition::NotExists,
        )
    }));
    let metadata = json!({
        "repo_id": scan.repo_id, "scan_id": scan.scan_id, "format": scan.format,
        "content_sha256": scan.content_sha256, "findings": scan.summary.totals.findings,
        "tools": scan.summary.tools.iter().map(|t| t.tool.as_str()).collect::<Vec<_>>(),
    });
    match audit_log::commit(store, ops, ctx, SCAN_INGESTED, metadata).await {
        Ok(_) => Ok(Stored::New(scan)),
        // The same report arrived twice at the same moment: the other one won.
        Err(StoreError::ConditionFailed { index, .. }) if index >= 1 && index <= dedup.len() => {
            existing(store, org, new.repo_id, &dedup, &scan.content_sha256)
                .await?
                .ok_or(StoreError::Conflict)
        }
        Err(e) => Err(e),
    }
}

pub async fn get(
    store: &dyn Store,
    org_id: &str,
    repo_id: u64,
    scan_id: &str,
) -> Result<Option<StoredScan>, StoreError> {
    store
        .get(&keys::scan(org_id, repo_id, scan_id))
        .await?
        .map(StoredScan::from_item)
        .transpose()
}

/// Newest first.
pub async fn list(
    store: &dyn Store,
    org_id: &str,
    repo_id: u64,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<StoredScan>, Option<Cursor>), StoreError> {
    let query = Query::new(
        keys::repo_pk(org_id, repo_id),
        SortKeyRange::Prefix(keys::SCAN_PREFIX.into()),
    )
    .backward()
    .limit(limit)
    .after(cursor);
    let page = store.query(&query).await?;
    let scans = page
        .items
        .into_iter()
        .map(StoredScan::from_item)
        .collect::<Result<_, _>>()?;
    Ok((scans, page.next))
}

pub async fn latest(
    store: &dyn Store,
    org_id: &str,
    repo_id: u64,
) -> Result<Option<StoredScan>, StoreError> {
    Ok(list(store, org_id, repo_id, 1, None)
        .await?
        .0
        .into_iter()
        .next())
}
