//! Trend points: a repository's scores over time, one per completed scan (written by the
//! rescoring function) and one per day (the snapshot), in the repository's own partition.
//! Derived data written by the system, idempotently: a redelivered event or a re-run day finds
//! its point already there and changes nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use compliance_domain::ids::{OrgId, RepoId, ScanId};
use compliance_domain::labels;
use compliance_domain::scoring::{Posture, Report};
use compliance_domain::time::rfc3339;
use compliance_store::record::{Record, ENTITY};
use compliance_store::{keys, Condition, Key, Query, Store, StoreError, WriteOp};
use serde::{Deserialize, Serialize};

labels! {
    /// What wrote a point.
    pub enum Source as "trend source" {
        Scan => "scan",
        Snapshot => "snapshot",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// The instant the point describes: the scan's time, or the snapshot's run time.
    #[serde(with = "compliance_domain::time::micros")]
    pub at: DateTime<Utc>,
    pub source: Source,
    pub scan_id: Option<ScanId>,
    pub overall_score: u32,
    pub posture: Posture,
    /// Framework key → score (`None` when every control was disabled).
    pub frameworks: BTreeMap<String, Option<u32>>,
    /// Findings approved exceptions set aside when the point was scored (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excepted_findings: Option<u64>,
}

/// Most points one trend request reads (a year of daily snapshots and frequent scans).
pub const MAX_POINTS: usize = 5_000;

impl TrendPoint {
    pub fn from_report(
        report: &Report,
        at: DateTime<Utc>,
        source: Source,
        scan_id: Option<&ScanId>,
    ) -> Self {
        TrendPoint {
            at,
            source,
            scan_id: scan_id.cloned(),
            overall_score: report.executive_summary.overall_score,
            posture: report.executive_summary.posture,
            frameworks: report
                .frameworks
                .iter()
                .map(|(k, f)| (k.clone(), f.score))
                .collect(),
            excepted_findings: report
                .executive_summary
                .exceptions
                .map(|e| e.excepted_findings),
        }
    }
}

/// A point as stored in its repository's partition.
#[derive(Serialize, Deserialize)]
struct StoredPoint {
    #[serde(flatten)]
    point: TrendPoint,
    org_id: OrgId,
    repo_id: RepoId,
    /// The snapshot's day (its points are keyed by day, so a day is written once).
    #[serde(skip)]
    day: Option<NaiveDate>,
}

impl Record for StoredPoint {
    const ENTITY: &'static str = "trend";

    fn key(&self) -> Key {
        let p = &self.point;
        match (p.source, self.day, &p.scan_id) {
            (Source::Snapshot, Some(day), _) => {
                keys::trend_of_day(&self.org_id, self.repo_id, &day.to_string())
            }
            (_, _, Some(scan_id)) => {
                keys::trend_of_scan(&self.org_id, self.repo_id, &rfc3339(p.at), scan_id)
            }
            _ => unreachable!("a scan's point has its scan id, a snapshot's point its day"),
        }
    }
}

/// The write of the point unless it exists, to send alone ([`record`]) or with others in one
/// transaction. A snapshot's point is keyed by `snapshot_day`, a scan's by its scan.
pub fn put_new(
    org_id: &OrgId,
    repo_id: RepoId,
    point: &TrendPoint,
    snapshot_day: Option<NaiveDate>,
) -> WriteOp {
    let stored = StoredPoint {
        point: point.clone(),
        org_id: org_id.clone(),
        repo_id,
        day: snapshot_day,
    };
    stored.put_if(Condition::NotExists)
}

/// Writes the point unless it exists; `Ok(false)` when it was already there. A snapshot's
/// point is keyed by `snapshot_day`, a scan's by its scan.
pub async fn record(
    store: &dyn Store,
    org_id: &OrgId,
    repo_id: RepoId,
    point: &TrendPoint,
    snapshot_day: Option<NaiveDate>,
) -> Result<bool, StoreError> {
    let op = put_new(org_id, repo_id, point, snapshot_day);
    match store.write(vec![op]).await {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The points of a window, as many as one answer holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// The newest [`MAX_POINTS`] points of the window, oldest first.
    pub points: Vec<TrendPoint>,
    /// Older points of the window were left out.
    pub truncated: bool,
}

/// Marks, in the repository's own partition, that it exists ([`keys::repo_trend_marker`]):
/// written with the repository.
#[derive(Serialize, Deserialize)]
struct TrendMarker {
    org_id: OrgId,
    repo_id: RepoId,
}

impl Record for TrendMarker {
    const ENTITY: &'static str = "repo_trend_marker";

    fn key(&self) -> Key {
        keys::repo_trend_marker(&self.org_id, self.repo_id)
    }
}

/// The write of a new repository's marker (see [`window`]).
pub fn marker(org_id: &OrgId, repo_id: RepoId) -> WriteOp {
    TrendMarker {
        org_id: org_id.clone(),
        repo_id,
    }
    .put_if(Condition::NotExists)
}

/// The repository's trend points from `from` on, oldest first (at most [`MAX_POINTS`], the
/// newest), or `None` when the repository does not exist. One Query, newest first, that reads
/// the repository's marker before the points, so that it tells in the same request whether the
/// repository exists when the window holds no point. A repository created before markers were
/// written and without a point in the window is looked up (one more read).
pub async fn window(
    store: &dyn Store,
    org_id: &OrgId,
    repo_id: RepoId,
    from: DateTime<Utc>,
) -> Result<Option<Window>, StoreError> {
    let (pk, range) = keys::trend_since(org_id, repo_id, &rfc3339(from));
    // The marker, the points, and one more to tell that some were left out.
    let query = Query::new(pk, range).backward().limit(MAX_POINTS + 2);
    let page = store.query(&query).await?;
    let mut marked = false;
    let mut points = Vec::with_capacity(page.items.len());
    for item in page.items {
        match item.get(ENTITY).and_then(|e| e.as_str()) {
            Some(TrendMarker::ENTITY) => marked = true,
            _ => points.push(StoredPoint::from_item(item)?.point),
        }
    }
    if !marked && points.is_empty() && crate::repos::get(store, org_id, repo_id).await?.is_none() {
        return Ok(None);
    }
    let truncated = points.len() > MAX_POINTS;
    points.truncate(MAX_POINTS);
    points.sort_by_key(|p| p.at);
    Ok(Some(Window { points, truncated }))
}
