//! Runs as stored: the summary item and the findings in gzip-compressed chunks, all in the
//! audit's partition under its owner, written with the audit-log entry in one transaction (so a
//! run, its findings and `AUDIT_RUN_COMPLETED` become visible together, or not at all). Raw
//! records are never stored: only what the findings cite.

use std::io::{Read, Write};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use compliance_domain::ids::{OrgId, Uuid};
use compliance_services::audit_log::{self, AuditAction, AuditContext};
use compliance_store::record::{Record, Records};
use compliance_store::{
    item_size, keys, Condition, Cursor, Key, Query, Store, StoreError, WriteOp,
};
use compliance_store::{MAX_TRANSACTION_BYTES, MAX_TRANSACTION_OPS};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::model::{RunSummary, StoredFinding};
use crate::records::{owned, Owned};

/// A chunk's compressed findings stay under this, so the item (base64) stays under 400 KB.
const MAX_CHUNK_COMPRESSED: usize = 256 * 1024;
/// Findings per chunk, before a chunk that compresses too large is split.
const CHUNK_FINDINGS: usize = 500;
/// Room kept in the transaction for the audit-log entry.
const ENTRY_ALLOWANCE: usize = 64 * 1024;

/// The stored run: the summary the API shows, and where each findings chunk starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredRun {
    #[serde(flatten)]
    pub(crate) summary: RunSummary,
    pub(crate) chunk_starts: Vec<usize>,
}

impl Record for Owned<StoredRun> {
    const ENTITY: &'static str = "audit_run";

    fn key(&self) -> Key {
        let run = &self.record.summary;
        keys::audit_run(&self.org_id, &self.owner, &run.audit_id, &run.run_id)
    }
}

/// Findings `first..first + count` of a run, as gzip-compressed JSON (base64).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FindingsChunk {
    org_id: OrgId,
    owner: String,
    audit_id: Uuid,
    run_id: Uuid,
    chunk: usize,
    first: usize,
    count: usize,
    findings_gzip: String,
}

impl Record for FindingsChunk {
    const ENTITY: &'static str = "audit_run_findings";

    fn key(&self) -> Key {
        keys::audit_run_findings(
            &self.org_id,
            &self.owner,
            &self.audit_id,
            &self.run_id,
            self.chunk,
        )
    }
}

fn compress(findings: &[StoredFinding]) -> Vec<u8> {
    let json = serde_json::to_vec(findings).expect("findings serialise");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json).expect("writing to memory");
    gz.finish().expect("writing to memory")
}

fn decompress(text: &str) -> Result<Vec<StoredFinding>, StoreError> {
    let malformed = |e: String| StoreError::Backend(format!("malformed findings chunk: {e}"));
    let bytes = STANDARD
        .decode(text)
        .map_err(|e| malformed(e.to_string()))?;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(bytes.as_slice())
        .read_to_end(&mut json)
        .map_err(|e| malformed(e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| malformed(e.to_string()))
}

/// Compressed chunks of `findings`: `CHUNK_FINDINGS` at a time, halved while too large.
fn chunks(findings: &[StoredFinding]) -> Vec<(usize, usize, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending: Vec<(usize, usize)> = (0..findings.len())
        .step_by(CHUNK_FINDINGS)
        .map(|first| (first, CHUNK_FINDINGS.min(findings.len() - first)))
        .rev()
        .collect();
    while let Some((first, count)) = pending.pop() {
        let data = compress(&findings[first..first + count]);
        if data.len() > MAX_CHUNK_COMPRESSED && count > 1 {
            let half = count / 2;
            pending.push((first + half, count - half));
            pending.push((first, half));
        } else if data.len() <= MAX_CHUNK_COMPRESSED {
            out.push((first, count, data));
        }
        // A single finding that does not compress under the cap is left out: findings hold
        // bounded values (ids ≤ 256 characters, shown values ≤ 120), so this does not happen.
    }
    out
}

pub(crate) struct NewRun<'a> {
    pub(crate) org: &'a OrgId,
    pub(crate) owner: &'a str,
    pub(crate) summary: RunSummary,
    pub(crate) findings: Vec<StoredFinding>,
    /// Writes that happen with the run, or not at all (an upload's completion).
    pub(crate) also: Vec<WriteOp>,
}

/// Writes the run, as many of its findings as the transaction holds, and the audit-log entry;
/// returns the summary as stored (`findings_stored` says how many findings were kept).
pub(crate) async fn create(
    store: &dyn Store,
    ctx: &AuditContext,
    new: NewRun<'_>,
) -> Result<RunSummary, StoreError> {
    let NewRun {
        org,
        owner,
        mut summary,
        findings,
        also,
    } = new;
    let mut parts = chunks(&findings);
    let also_size: usize = also
        .iter()
        .map(|op| match op {
            WriteOp::Put { item, .. } => item_size(item),
            _ => 0,
        })
        .sum();
    // The transaction's limits: the run item, the chunks, the entry.
    let run_item_size = |summary: &RunSummary, starts: Vec<usize>| {
        item_size(
            &owned(
                StoredRun {
                    summary: summary.clone(),
                    chunk_starts: starts,
                },
                org,
                owner,
            )
            .to_item(),
        )
    };
    loop {
        let encoded: usize = parts.iter().map(|(_, _, d)| d.len() * 4 / 3 + 1024).sum();
        let starts = parts.iter().map(|(f, _, _)| *f).collect();
        let total = encoded + run_item_size(&summary, starts) + ENTRY_ALLOWANCE + also_size;
        if (total <= MAX_TRANSACTION_BYTES && parts.len() + 2 + also.len() <= MAX_TRANSACTION_OPS)
            || parts.is_empty()
        {
            break;
        }
        parts.pop();
    }
    summary.findings_stored = parts.last().map_or(0, |(f, c, _)| (f + c) as u64);
    let run = owned(
        StoredRun {
            summary: summary.clone(),
            chunk_starts: parts.iter().map(|(f, _, _)| *f).collect(),
        },
        org,
        owner,
    );
    let mut ops = vec![run.put_if(Condition::NotExists)];
    for (chunk, (first, count, data)) in parts.into_iter().enumerate() {
        let item = FindingsChunk {
            org_id: org.clone(),
            owner: owner.to_string(),
            audit_id: summary.audit_id.clone(),
            run_id: summary.run_id.clone(),
            chunk,
            first,
            count,
            findings_gzip: STANDARD.encode(data),
        };
        ops.push(item.put_if(Condition::NotExists));
    }
    ops.extend(also);
    let metadata = json!({
        "audit_id": summary.audit_id,
        "run_id": summary.run_id,
        "policy_type": summary.policy_type,
        "records": summary.outcome.records,
        "findings_total": summary.outcome.findings_total,
        "findings_stored": summary.findings_stored,
        "by_severity": summary.outcome.by_severity,
        "rules_failed": summary.outcome.rules.iter()
            .filter(|r| r.outcome.findings > 0)
            .map(|r| r.outcome.rule_id.as_str())
            .collect::<Vec<_>>(),
    });
    audit_log::commit(store, ops, ctx, AuditAction::AuditRunCompleted, metadata).await?;
    Ok(summary)
}

pub(crate) async fn get(
    store: &dyn Store,
    org: &OrgId,
    owner: &str,
    audit_id: &Uuid,
    run_id: &Uuid,
) -> Result<Option<StoredRun>, StoreError> {
    let key = keys::audit_run(org, owner, audit_id, run_id);
    let found: Option<Owned<StoredRun>> = store.get_record(&key).await?;
    Ok(found.map(|o| o.record))
}

/// Newest first.
pub(crate) async fn list(
    store: &dyn Store,
    org: &OrgId,
    owner: &str,
    audit_id: &Uuid,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<RunSummary>, Option<Cursor>), StoreError> {
    let (pk, range) = keys::audit_runs(org, owner, audit_id);
    let query = Query::new(pk, range).backward().limit(limit).after(cursor);
    let (runs, next): (Vec<Owned<StoredRun>>, _) = store.query_records(&query).await?;
    Ok((runs.into_iter().map(|o| o.record.summary).collect(), next))
}

/// The stored findings from index `from` on that `keep` accepts, at most `limit` of them, and
/// the index to continue from (`None`: no more).
pub(crate) async fn findings(
    store: &dyn Store,
    org: &OrgId,
    owner: &str,
    run: &StoredRun,
    from: usize,
    limit: usize,
    keep: impl Fn(&StoredFinding) -> bool,
) -> Result<(Vec<StoredFinding>, Option<usize>), StoreError> {
    let summary = &run.summary;
    let mut out = Vec::new();
    let first_chunk = run
        .chunk_starts
        .partition_point(|&s| s <= from)
        .saturating_sub(1);
    for chunk in first_chunk..run.chunk_starts.len() {
        let key = keys::audit_run_findings(org, owner, &summary.audit_id, &summary.run_id, chunk);
        let item: FindingsChunk = store
            .get_record(&key)
            .await?
            .ok_or_else(|| StoreError::Backend(format!("findings chunk {key} is missing")))?;
        for (offset, finding) in decompress(&item.findings_gzip)?.into_iter().enumerate() {
            let index = item.first + offset;
            if index < from || !keep(&finding) {
                continue;
            }
            if out.len() == limit {
                return Ok((out, Some(index)));
            }
            out.push(finding);
        }
    }
    Ok((out, None))
}
