//! Runs as stored: the summary item and the findings in gzip-compressed chunks, all in the
//! audit's partition under its owner, written with the audit-log entry in one transaction (so a
//! run, its findings and `AUDIT_RUN_COMPLETED` become visible together, or not at all). Raw
//! records are never stored: only what the findings cite.

use compliance_domain::ids::{OrgId, Uuid};
use compliance_services::audit_log::{self, AuditAction, AuditContext};
use compliance_services::chunks;
use compliance_store::record::{Record, Records};
use compliance_store::{
    item_size, keys, Condition, Cursor, Key, Query, Store, StoreError, WriteOp,
};
use compliance_store::{MAX_TRANSACTION_BYTES, MAX_TRANSACTION_OPS};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::model::{RunSummary, StoredFinding};
use crate::records::{owned, Owned};

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
pub(crate) struct FindingsChunk {
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
    let mut parts = chunks::split(&findings, CHUNK_FINDINGS);
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
        let encoded: usize = parts.iter().map(chunks::Chunk::encoded_len).sum();
        let starts = parts.iter().map(|c| c.first).collect();
        let total = encoded + run_item_size(&summary, starts) + ENTRY_ALLOWANCE + also_size;
        if (total <= MAX_TRANSACTION_BYTES && parts.len() + 2 + also.len() <= MAX_TRANSACTION_OPS)
            || parts.is_empty()
        {
            break;
        }
        parts.pop();
    }
    summary.findings_stored = parts.last().map_or(0, |c| (c.first + c.count) as u64);
    let run = owned(
        StoredRun {
            summary: summary.clone(),
            chunk_starts: parts.iter().map(|c| c.first).collect(),
        },
        org,
        owner,
    );
    let mut ops = vec![run.put_if(Condition::NotExists)];
    for (chunk, part) in parts.into_iter().enumerate() {
        let item = FindingsChunk {
            org_id: org.clone(),
            owner: owner.to_string(),
            audit_id: summary.audit_id.clone(),
            run_id: summary.run_id.clone(),
            chunk,
            first: part.first,
            count: part.count,
            findings_gzip: part.encoded(),
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

/// The chunk that holds finding `index`.
pub(crate) fn chunk_of(run: &StoredRun, index: usize) -> usize {
    run.chunk_starts
        .partition_point(|&s| s <= index)
        .saturating_sub(1)
}

/// What a run's reader needs, read in one request (BatchGetItem) from `owner`'s partitions:
/// whether `owner` created the audit, the run, and its findings chunk `chunk` when asked.
pub(crate) struct RunRead {
    pub(crate) audit_here: bool,
    pub(crate) run: Option<StoredRun>,
    pub(crate) chunk: Option<(usize, FindingsChunk)>,
}

pub(crate) async fn read_run(
    store: &dyn Store,
    org: &OrgId,
    owner: &str,
    audit_id: &Uuid,
    run_id: &Uuid,
    chunk: Option<usize>,
) -> Result<RunRead, StoreError> {
    let mut wanted = vec![
        keys::audit_session(org, owner, audit_id),
        keys::audit_run(org, owner, audit_id, run_id),
    ];
    wanted.extend(chunk.map(|c| keys::audit_run_findings(org, owner, audit_id, run_id, c)));
    let mut read = store.get_many(&wanted, None).await?.into_iter();
    let (audit, run, found) = (
        read.next().flatten(),
        read.next().flatten(),
        read.next().flatten(),
    );
    Ok(RunRead {
        audit_here: audit.is_some(),
        run: run
            .map(Owned::<StoredRun>::from_item)
            .transpose()?
            .map(|o| o.record),
        chunk: found
            .map(FindingsChunk::from_item)
            .transpose()?
            .zip(chunk)
            .map(|(c, index)| (index, c)),
    })
}

/// Every run of the audit, oldest first (their ids only).
pub(crate) async fn run_ids(
    store: &dyn Store,
    org: &OrgId,
    owner: &str,
    audit_id: &Uuid,
) -> Result<Vec<Uuid>, StoreError> {
    let (pk, range) = keys::audit_runs(org, owner, audit_id);
    let all: Vec<Owned<StoredRun>> =
        compliance_services::paging::all(store, Query::new(pk, range)).await?;
    Ok(all.into_iter().map(|o| o.record.summary.run_id).collect())
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
    home: &crate::alerts::store::AuditHome,
    run: &StoredRun,
    from: usize,
    limit: usize,
    keep: impl Fn(&StoredFinding) -> bool,
    mut read: Option<(usize, FindingsChunk)>,
) -> Result<(Vec<StoredFinding>, Option<usize>), StoreError> {
    let summary = &run.summary;
    let mut out = Vec::new();
    for chunk in chunk_of(run, from)..run.chunk_starts.len() {
        let (org, owner) = (&home.org, home.owner.as_str());
        let key = keys::audit_run_findings(org, owner, &summary.audit_id, &summary.run_id, chunk);
        let item: FindingsChunk = match read.take().filter(|(index, _)| *index == chunk) {
            Some((_, item)) => item,
            None => store
                .get_record(&key)
                .await?
                .ok_or_else(|| StoreError::Backend(format!("findings chunk {key} is missing")))?,
        };
        let decoded: Vec<StoredFinding> = chunks::decode(&item.findings_gzip, "findings")?;
        for (offset, finding) in decoded.into_iter().enumerate() {
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
