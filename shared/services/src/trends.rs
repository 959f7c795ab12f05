//! Trend points: a repository's scores over time, one per completed scan (written by the
//! rescoring function) and one per day (the snapshot), in the repository's own partition.
//! Derived data written by the system, idempotently: a redelivered event or a re-run day finds
//! its point already there and changes nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use compliance_domain::scoring::Report;
use compliance_store::keys;
use compliance_store::{Condition, Item, Query, SortKeyRange, Store, StoreError, WriteOp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Scan,
    Snapshot,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    /// The instant the point describes: the scan's time, or the snapshot's run time.
    pub at: String,
    pub source: Source,
    pub scan_id: Option<String>,
    pub overall_score: u32,
    pub posture: String,
    /// Framework key → score (`None` when every control was disabled).
    pub frameworks: BTreeMap<String, Option<u32>>,
}

/// Most points one trend request reads (a year of daily snapshots and frequent scans).
pub const MAX_POINTS: usize = 5_000;

impl TrendPoint {
    pub fn from_report(report: &Report, at: &str, source: Source, scan_id: Option<&str>) -> Self {
        TrendPoint {
            at: at.to_string(),
            source,
            scan_id: scan_id.map(str::to_string),
            overall_score: report.executive_summary.overall_score,
            posture: serde_json::to_value(report.executive_summary.posture)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            frameworks: report
                .frameworks
                .iter()
                .map(|(k, f)| (k.clone(), f.score))
                .collect(),
        }
    }
}

/// The sort key: the scan's time and id, or the snapshot's day, so a point is written once.
fn sort_key(point: &TrendPoint, day: Option<NaiveDate>) -> String {
    match (point.source, day) {
        (Source::Snapshot, Some(day)) => {
            format!("{}{}T00:00:00.000000Z#snapshot", keys::TREND_PREFIX, day)
        }
        _ => format!(
            "{}{}#scan#{}",
            keys::TREND_PREFIX,
            point.at,
            point.scan_id.as_deref().unwrap_or_default()
        ),
    }
}

/// Writes the point unless it exists; `Ok(false)` when it was already there.
pub async fn record(
    store: &dyn Store,
    org_id: &str,
    repo_id: u64,
    point: &TrendPoint,
    snapshot_day: Option<NaiveDate>,
) -> Result<bool, StoreError> {
    let mut item = match serde_json::to_value(point) {
        Ok(Value::Object(m)) => m,
        _ => unreachable!("TrendPoint serialises to an object"),
    };
    item.insert("PK".into(), json!(keys::repo_pk(org_id, repo_id)));
    item.insert("SK".into(), json!(sort_key(point, snapshot_day)));
    item.insert(keys::ENTITY.into(), json!("trend"));
    item.insert("org_id".into(), json!(org_id));
    item.insert("repo_id".into(), json!(repo_id));
    match store
        .write(vec![WriteOp::put_if(item, Condition::NotExists)])
        .await
    {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

fn from_item(item: Item) -> Result<TrendPoint, StoreError> {
    serde_json::from_value(Value::Object(item))
        .map_err(|e| StoreError::Backend(format!("malformed trend item: {e}")))
}

/// The points since `from`, oldest first.
pub async fn since(
    store: &dyn Store,
    org_id: &str,
    repo_id: u64,
    from: DateTime<Utc>,
) -> Result<Vec<TrendPoint>, StoreError> {
    let lo = format!(
        "{}{}",
        keys::TREND_PREFIX,
        compliance_domain::time::rfc3339(from)
    );
    let hi = format!("{}~", keys::TREND_PREFIX);
    let mut points = Vec::new();
    let mut cursor = None;
    loop {
        let query = Query::new(
            keys::repo_pk(org_id, repo_id),
            SortKeyRange::Between(lo.clone(), hi.clone()),
        )
        .limit(500)
        .after(cursor);
        let page = store.query(&query).await?;
        for item in page.items {
            points.push(from_item(item)?);
        }
        match page.next {
            Some(next) if points.len() < MAX_POINTS => cursor = Some(next),
            _ => break,
        }
    }
    points.truncate(MAX_POINTS);
    Ok(points)
}
