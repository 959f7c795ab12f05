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
use compliance_store::record::{Record, Records};
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

/// The newest [`MAX_POINTS`] points since `from`, oldest first, and whether older ones were
/// left out. Read newest first, so a window with more points than an answer holds loses its
/// oldest points rather than its latest scans.
pub async fn window(
    store: &dyn Store,
    org_id: &OrgId,
    repo_id: RepoId,
    from: DateTime<Utc>,
) -> Result<Window, StoreError> {
    let (pk, range) = keys::trend_since(org_id, repo_id, &rfc3339(from));
    let mut points = Vec::new();
    let mut cursor = None;
    // One point beyond the bound tells a full window from a truncated one (a cursor does not:
    // DynamoDB returns one when a page ends exactly at the last item).
    let wanted = MAX_POINTS + 1;
    loop {
        let query = Query::new(pk.clone(), range.clone())
            .backward()
            .limit(500.min(wanted - points.len()))
            .after(cursor);
        let (page, next): (Vec<StoredPoint>, _) = store.query_records(&query).await?;
        points.extend(page.into_iter().map(|p| p.point));
        match next {
            Some(next) if points.len() < wanted => cursor = Some(next),
            _ => break,
        }
    }
    let truncated = points.len() > MAX_POINTS;
    points.truncate(MAX_POINTS);
    // A snapshot is keyed by its day (so a day holds one), not by the time it was taken.
    points.sort_by_key(|p| p.at);
    Ok(Window { points, truncated })
}
