//! A repository's posture per framework, as its latest scan and the scan before it stand: both
//! scored when the latest was rescored, with the same settings, exceptions and attestations and
//! at the same time, so that what differs between the two is what the scan changed. One item per
//! framework in the repository's partition (a repository with many large custom frameworks
//! stays far from the item size limit); the rescoring function replaces them with each newer
//! scan, and the events consumer tells `score.changed` from each new image whose two sides
//! differ.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use compliance_domain::ids::{FrameworkKey, OrgId, RepoId, ScanId};
use compliance_domain::scoring::{ControlStatus, FrameworkResult, Posture, Report};
use compliance_store::record::Record;
use compliance_store::{item_size, keys, Condition, Key, Query, Store, StoreError, WriteOp};
use serde::{Deserialize, Serialize};

use crate::paging;
use crate::scans::is_newer;

/// Postures written at once, and their bytes at most.
const WRITE_CHUNK: usize = 16;
const WRITE_BYTES: usize = 3 * 1024 * 1024;

/// One framework of a repository, as of its latest scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoPosture {
    pub org_id: OrgId,
    pub repo_id: RepoId,
    pub framework: FrameworkKey,
    pub framework_name: String,
    pub scan_id: ScanId,
    /// When both sides were scored.
    #[serde(with = "compliance_domain::time::micros")]
    pub scored_at: DateTime<Utc>,
    pub current: Side,
    /// The scan before it, by the same rules (`None` for the repository's first scan, or a
    /// framework the previous scan's scoring did not have).
    pub previous: Option<Side>,
}

/// What one scan says of the framework.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    pub scan_id: ScanId,
    pub score: Option<u32>,
    pub overall_score: u32,
    pub posture: Posture,
    /// Control id → its name and status.
    pub controls: BTreeMap<String, ControlPosture>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlPosture {
    pub name: String,
    pub status: ControlStatus,
}

impl Record for RepoPosture {
    const ENTITY: &'static str = "repo_posture";

    fn key(&self) -> Key {
        keys::repo_posture(&self.org_id, self.repo_id, &self.framework)
    }
}

impl Side {
    fn of(scan_id: &ScanId, report: &Report, framework: &FrameworkResult) -> Side {
        let controls = framework
            .controls
            .iter()
            .map(|c| {
                let control = ControlPosture {
                    name: c.name.clone(),
                    status: c.status,
                };
                (c.id.clone(), control)
            })
            .collect();
        Side {
            scan_id: scan_id.clone(),
            score: framework.score,
            overall_score: report.executive_summary.overall_score,
            posture: report.executive_summary.posture,
            controls,
        }
    }

    /// Whether the framework stands the same on both (score and every control's status).
    pub fn same_as(&self, other: &Side) -> bool {
        self.score == other.score
            && self.controls.len() == other.controls.len()
            && self
                .controls
                .iter()
                .all(|(id, c)| other.controls.get(id).is_some_and(|o| o.status == c.status))
    }
}

/// A scan and its report, as the rescoring function scored it.
pub struct Scored<'a> {
    pub scan_id: &'a ScanId,
    pub report: &'a Report,
}

/// The posture items of `current` (and the scan before it, `previous`), one per framework of
/// `current`'s report.
pub fn of(
    org_id: &OrgId,
    repo_id: RepoId,
    current: Scored,
    previous: Option<Scored>,
    scored_at: DateTime<Utc>,
) -> Vec<RepoPosture> {
    current
        .report
        .frameworks
        .iter()
        .filter_map(|(key, framework)| {
            let framework_key = FrameworkKey::parse(key).ok()?;
            let before = previous.as_ref().and_then(|p| {
                let f = p.report.frameworks.get(key)?;
                Some(Side::of(p.scan_id, p.report, f))
            });
            Some(RepoPosture {
                org_id: org_id.clone(),
                repo_id,
                framework: framework_key,
                framework_name: framework.name.clone(),
                scan_id: current.scan_id.clone(),
                scored_at,
                current: Side::of(current.scan_id, current.report, framework),
                previous: before,
            })
        })
        .collect()
}

/// Writes each framework's posture unless the stored one is of this scan or a newer one; how
/// many were written. Each write is conditioned on the scan it read, so two scans scored at once
/// never move a posture back (the loser fails, and the stream retries its record).
pub async fn replace(store: &dyn Store, postures: &[RepoPosture]) -> Result<usize, StoreError> {
    let Some(first) = postures.first() else {
        return Ok(0);
    };
    let (pk, range) = keys::repo_postures(&first.org_id, first.repo_id);
    let read: Vec<StoredScanOf> = paging::all(store, Query::new(pk, range)).await?;
    let stored: BTreeMap<String, ScanId> =
        read.into_iter().map(|p| (p.framework, p.scan_id)).collect();
    let mut ops = Vec::new();
    for posture in postures {
        let condition = match stored.get(posture.framework.as_str()) {
            Some(s) if *s == posture.scan_id || is_newer(s, &posture.scan_id) => continue,
            Some(s) => Condition::Equals("scan_id".into(), serde_json::json!(s)),
            None => Condition::NotExists,
        };
        ops.push(posture.put_if(condition));
    }
    let written = ops.len();
    // A few frameworks a write: an item may be hundreds of kilobytes, a write holds 4 MB.
    let mut chunk: Vec<WriteOp> = Vec::new();
    let mut bytes = 0;
    for op in ops {
        let size = match &op {
            WriteOp::Put { item, .. } => item_size(item),
            _ => 0,
        };
        if !chunk.is_empty() && (chunk.len() == WRITE_CHUNK || bytes + size > WRITE_BYTES) {
            store.write(std::mem::take(&mut chunk)).await?;
            bytes = 0;
        }
        bytes += size;
        chunk.push(op);
    }
    if !chunk.is_empty() {
        store.write(chunk).await?;
    }
    Ok(written)
}

/// What [`replace`] reads of a stored posture.
#[derive(Deserialize, Serialize)]
struct StoredScanOf {
    org_id: OrgId,
    repo_id: RepoId,
    framework: String,
    scan_id: ScanId,
}

impl Record for StoredScanOf {
    const ENTITY: &'static str = "repo_posture";

    fn key(&self) -> Key {
        let framework = FrameworkKey::parse(&self.framework).expect("a stored framework key");
        keys::repo_posture(&self.org_id, self.repo_id, &framework)
    }
}
