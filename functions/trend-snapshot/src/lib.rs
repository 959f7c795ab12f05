//! Lambda `trend-snapshot`: one trend point per repository per day, so the decay of
//! `scan_recency` shows even when no new scan arrives.
//!
//! It walks the sharded repository index (`REPOIDX#00` … `REPOIDX#31`, written with each
//! repository; no table Scan), a page at a time, scoring the repositories of a page with bounded
//! concurrency. Progress (shard and cursor) is saved after every page in `SYSTEM /
//! SNAPSHOT#{day}`, so a run cut off by its deadline is continued by the next one; the schedule
//! fires every 15 minutes and a run finds the day complete after the first full pass, at the
//! cost of one read. Points are written once per repository and day (idempotent).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use compliance_domain::ids::{OrgId, RepoId};
use compliance_services::exceptions::Exception;
use compliance_services::metrics::Unit;
use compliance_services::org_view::OrgView;
use compliance_services::repos::IndexEntry;
use compliance_services::scans;
use compliance_services::scores::{self, score_repo};
use compliance_services::trends::{self, Source, TrendPoint};
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Cursor, Key, Query, Store, StoreError};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, OnceCell};
use tokio::task::JoinSet;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Repositories scored at once.
    pub concurrency: usize,
    /// Index entries read per page (progress is saved after each).
    pub page: usize,
    /// Pages one run reads at most (besides the deadline).
    pub max_pages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            concurrency: 32,
            page: 200,
            max_pages: usize::MAX,
        }
    }
}

/// The day's progress, as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub day: String,
    pub shard: u32,
    pub cursor: Option<String>,
    pub repos_seen: u64,
    pub points_written: u64,
    pub complete: bool,
}

/// Progress records are kept a month, then DynamoDB's TTL removes them.
const PROGRESS_DAYS: i64 = 31;

impl Record for Progress {
    const ENTITY: &'static str = "snapshot_run";

    fn key(&self) -> Key {
        keys::snapshot_run(&self.day)
    }

    fn expires_at(&self) -> Option<i64> {
        Some((Utc::now() + chrono::Duration::days(PROGRESS_DAYS)).timestamp())
    }
}

async fn load_progress(store: &dyn Store, day: &str) -> Result<Progress, StoreError> {
    Ok(store
        .get_record(&keys::snapshot_run(day))
        .await?
        .unwrap_or_else(|| Progress {
            day: day.to_string(),
            ..Progress::default()
        }))
}

/// What scoring needs of an org: its view and the exceptions that apply at the run's time.
struct OrgInputs {
    view: OrgView,
    exceptions: Vec<Exception>,
}

/// Org inputs are read once per org and run, however many repositories the org has, and however
/// many of them are scored at the same moment: the first task to need an org's inputs loads
/// them, the others wait for that load (a failed load is retried by the next task that needs it).
type Views = Arc<Mutex<HashMap<OrgId, Arc<OnceCell<Arc<OrgInputs>>>>>>;

async fn inputs_of(
    store: &dyn Store,
    views: &Views,
    org: &OrgId,
    now: DateTime<Utc>,
) -> Result<Arc<OrgInputs>, StoreError> {
    let cell = views.lock().await.entry(org.clone()).or_default().clone();
    cell.get_or_try_init(|| async {
        let view = OrgView::load(store, org).await?;
        let exceptions = view.applying(now);
        Ok(Arc::new(OrgInputs { view, exceptions }))
    })
    .await
    .cloned()
}

/// Scores one repository and writes its point of the day; `Ok(false)` when it had no scan yet
/// (nothing to trend) or the point already existed.
async fn snapshot_repo(
    store: Arc<dyn Store>,
    views: Views,
    org: OrgId,
    repo_id: RepoId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Some(scan) = scans::latest(store.as_ref(), &org, repo_id).await? else {
        return Ok(false);
    };
    let inputs = inputs_of(store.as_ref(), &views, &org, now).await?;
    let excepting = scores::excepting(store.as_ref(), &org, &inputs.exceptions, &scan).await?;
    let report = score_repo(&inputs.view, Some(&scan), excepting.as_deref(), None, now);
    let point = TrendPoint::from_report(&report, now, Source::Snapshot, Some(&scan.scan_id));
    trends::record(
        store.as_ref(),
        &org,
        repo_id,
        &point,
        Some(now.date_naive()),
    )
    .await
}

/// Continues (or starts) the snapshot of `now`'s day until it is complete or `deadline` nears.
pub async fn run(
    store: Arc<dyn Store>,
    now: DateTime<Utc>,
    deadline: Instant,
    limits: Limits,
) -> Result<Progress, StoreError> {
    let day = now.date_naive().to_string();
    let mut progress = load_progress(store.as_ref(), &day).await?;
    let views: Views = Arc::default();
    let mut pages = 0;
    let (started, seen_before) = (Instant::now(), progress.repos_seen);
    while !progress.complete {
        if Instant::now() >= deadline || pages == limits.max_pages {
            break;
        }
        pages += 1;
        let cursor = progress.cursor.as_deref().map(Cursor::decode).transpose()?;
        let (pk, range) = keys::repo_index(progress.shard);
        let query = Query::new(pk, range).limit(limits.page).after(cursor);
        let (entries, next): (Vec<IndexEntry>, _) = store.query_records(&query).await?;
        let seen = entries.len() as u64;
        let mut tasks = JoinSet::new();
        let mut written = 0u64;
        for IndexEntry {
            org_id: org,
            repo_id,
        } in entries
        {
            if tasks.len() >= limits.concurrency {
                if let Some(done) = tasks.join_next().await {
                    written += u64::from(done.map_err(|e| StoreError::Backend(e.to_string()))??);
                }
            }
            tasks.spawn(compliance_services::tasks::carried(snapshot_repo(
                store.clone(),
                views.clone(),
                org,
                repo_id,
                now,
            )));
        }
        while let Some(done) = tasks.join_next().await {
            written += u64::from(done.map_err(|e| StoreError::Backend(e.to_string()))??);
        }
        progress.repos_seen += seen;
        progress.points_written += written;
        match next {
            Some(next) => progress.cursor = Some(next.encode()),
            None if progress.shard + 1 < keys::REPO_INDEX_SHARDS => {
                progress.shard += 1;
                progress.cursor = None;
            }
            None => progress.complete = true,
        }
        store.write(vec![progress.put()]).await?;
    }
    tracing::info!(?progress, "snapshot run");
    let seen = progress.repos_seen - seen_before;
    if seen > 0 {
        let per_second = seen as f64 / started.elapsed().as_secs_f64().max(1e-3);
        compliance_services::metrics::emit(
            &[],
            &[("SnapshotReposPerSecond", Unit::CountPerSecond, per_second)],
            serde_json::json!({"repos": seen}),
        );
    }
    Ok(progress)
}

/// Time left before the invocation's deadline (epoch milliseconds from the runtime API).
/// Emulators that send the timeout itself rather than an instant (cargo lambda sends `600000`)
/// are read as such: no real deadline lies before 2001.
pub fn time_left(deadline_ms: u64) -> Duration {
    const EPOCH_2001_MS: u64 = 978_307_200_000;
    if deadline_ms < EPOCH_2001_MS {
        return Duration::from_millis(deadline_ms);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Duration::from_millis(deadline_ms).saturating_sub(now)
}

/// Time kept in reserve before Lambda's deadline to save progress and return: 30 s, or a
/// quarter of the time left when the function runs with a short timeout.
pub fn working_deadline(time_left: Duration) -> Instant {
    let margin = Duration::from_secs(30).min(time_left / 4);
    Instant::now() + time_left.saturating_sub(margin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_from_lambda_and_from_emulators() {
        assert_eq!(time_left(600_000), Duration::from_secs(600));
        assert_eq!(
            time_left(1_000_000_000_000),
            Duration::ZERO,
            "an instant in 2001: past"
        );
        let in_a_minute = (Utc::now() + chrono::Duration::seconds(60)).timestamp_millis() as u64;
        let left = time_left(in_a_minute);
        assert!(left > Duration::from_secs(50) && left <= Duration::from_secs(60));
        let start = Instant::now();
        let deadline = working_deadline(Duration::from_secs(8));
        assert!(
            deadline >= start + Duration::from_secs(6),
            "a quarter kept in reserve"
        );
    }
}
