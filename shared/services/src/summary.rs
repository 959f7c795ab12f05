//! The org-wide view: a page of the org's repositories, each scored from its latest scan as the
//! org's settings stand, and per framework the average and the distribution over that page.
//!
//! Reads per page: one Query of the org's partition (the org's versions item on the first page,
//! then the `REPO#` range), which reads each listed repository with the pointer to its latest
//! scan kept beside it ([`crate::scans::LatestScanRecord`], written in the same atomic write as
//! the scan); the org's inputs ([`crate::org_inputs`]) and the scans ([`crate::latest`]) come
//! from the process when it holds them at the counts and pointers read, else from one more
//! request each. So a warm page costs one Query whatever its size, and never a Scan. Only a
//! repository created before pointers were kept and not scanned since has none; each such
//! repository on the page costs one more Query (`Limit 1`, newest first) of its own partition
//! ([`scans::latest`]), run concurrently.
//!
//! On DynamoDB the one Query may take several requests: a response stops at 1 MB and the
//! adapter follows `LastEvaluatedKey` within the call until the page is full; the page's cursor
//! is the last listed item's sort key, so pages neither skip nor repeat a repository.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use compliance_domain::ids::OrgId;
use compliance_domain::scoring::{Posture, Report};
use compliance_store::{Cursor, Store, StoreError};
use serde::Serialize;

use crate::latest;
use crate::org_inputs::{self, Versions};
use crate::org_view::OrgView;
use crate::repos::{self, Repo};
use crate::scans::{self, StoredScan};

/// A listed repository with its latest scan (none before its first).
pub struct RepoLatest {
    pub repo: Repo,
    pub scan: Option<Arc<StoredScan>>,
}

/// How many latest-scan queries (repositories without a pointer) one page runs at once.
const CONCURRENT_READS: usize = 16;

/// A page of the org's repositories (by id) with their latest scans, the org's view to score
/// them with, and the next page's cursor (see the module's reads).
pub async fn page(
    store: Arc<dyn Store>,
    org_id: &OrgId,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(OrgView, Vec<RepoLatest>, Option<Cursor>), StoreError> {
    let (after, versions) = match &cursor {
        None => (None, None),
        Some(c) => split_cursor(c)?,
    };
    let s = store.as_ref();
    let (view, (listed, next)) = match (after, versions) {
        (None, _) => {
            let (listed, next, versions) =
                repos::first_page_with_versions(s, org_id, limit).await?;
            let inputs = org_inputs::from_versions(s, org_id, Versions::of(versions.as_ref()));
            (OrgView::of(inputs.await?), (listed, next))
        }
        (Some(after), versions) => {
            let kept = versions.and_then(|v| org_inputs::kept_at(s, org_id, v));
            match kept {
                Some(inputs) => (
                    OrgView::of(inputs),
                    repos::list_with_latest(s, org_id, limit, Some(after)).await?,
                ),
                None => tokio::try_join!(
                    OrgView::load(s, org_id),
                    repos::list_with_latest(s, org_id, limit, Some(after)),
                )?,
            }
        }
    };
    let next = next
        .map(|n| Cursor::from_sort_key(format!("{}\n{}", n.sort_key(), view.versions.encode())));
    let mut page: Vec<RepoLatest> = Vec::with_capacity(listed.len());
    let mut without_pointer: Vec<usize> = Vec::new();
    let mut pointers = Vec::with_capacity(listed.len());
    let mut with_pointer = Vec::with_capacity(listed.len());
    for repos::Listed { repo, pointer } in listed {
        match pointer {
            Some(pointer) => {
                with_pointer.push(page.len());
                pointers.push(pointer);
            }
            None => without_pointer.push(page.len()),
        }
        page.push(RepoLatest { repo, scan: None });
    }
    let scans = latest::resolve(store.as_ref(), org_id, &pointers).await?;
    for (i, scan) in with_pointer.into_iter().zip(scans) {
        page[i].scan = scan;
    }
    for chunk in without_pointer.chunks(CONCURRENT_READS) {
        let mut reads = tokio::task::JoinSet::new();
        for &i in chunk {
            let (store, org, id) = (store.clone(), org_id.clone(), page[i].repo.repo_id);
            reads.spawn(crate::tasks::carried(async move {
                (i, scans::latest(store.as_ref(), &org, id).await)
            }));
        }
        while let Some(done) = reads.join_next().await {
            let (i, scan) = done.map_err(|e| StoreError::Backend(e.to_string()))?;
            page[i].scan = scan?.map(Arc::new);
        }
    }
    Ok((view, page, next))
}

/// A page's cursor: the sort key to list after and, after a line break (no sort key holds
/// one), the counts of the org's changes its first page was scored at. A cursor without them
/// (or whose counts the process no longer holds) scores with the org's inputs as they stand.
fn split_cursor(cursor: &Cursor) -> Result<(Option<Cursor>, Option<Versions>), StoreError> {
    let (sk, versions) = match cursor.sort_key().split_once('\n') {
        Some((sk, v)) => (sk, Versions::decode(v)),
        None => (cursor.sort_key(), None),
    };
    if sk.is_empty() {
        return Err(StoreError::InvalidCursor);
    }
    Ok((Some(Cursor::from_sort_key(sk)), versions))
}

/// Repositories per posture band (`Strong` ≥ 85, `Moderate` ≥ 70, `Weak` ≥ 50, `Critical` < 50).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Distribution {
    #[serde(rename = "Strong")]
    pub strong: u32,
    #[serde(rename = "Moderate")]
    pub moderate: u32,
    #[serde(rename = "Weak")]
    pub weak: u32,
    #[serde(rename = "Critical")]
    pub critical: u32,
}

impl Distribution {
    fn add(&mut self, score: u32) {
        match Posture::for_score(score) {
            Posture::Strong => self.strong += 1,
            Posture::Moderate => self.moderate += 1,
            Posture::Weak => self.weak += 1,
            Posture::Critical => self.critical += 1,
        }
    }
}

/// Scores of one framework (or the overall score) over the repositories of a page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Aggregate {
    /// Repositories with a score (a framework whose controls are all disabled has none).
    pub scored: u32,
    /// The sum of their scores: pages combine exactly (Σ `score_sum` ÷ Σ `scored`).
    pub score_sum: u64,
    /// `score_sum ÷ scored`, rounded halves up; `null` when nothing is scored.
    pub average: Option<u32>,
    pub distribution: Distribution,
}

impl Aggregate {
    fn add(&mut self, score: Option<u32>) {
        if let Some(s) = score {
            self.scored += 1;
            self.score_sum += u64::from(s);
            self.distribution.add(s);
        }
    }

    fn finish(&mut self) {
        self.average = (self.scored > 0).then(|| {
            let (sum, n) = (self.score_sum, u64::from(self.scored));
            ((2 * sum + n) / (2 * n)) as u32
        });
    }
}

/// The framework whose score is lowest (the first in key order among equals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorstFramework {
    pub key: String,
    pub name: String,
    pub score: u32,
}

/// One repository's line of the view.
#[derive(Debug, Clone, Serialize)]
pub struct RepoSummary {
    pub repo_id: compliance_domain::ids::RepoId,
    pub name: String,
    pub overall_score: u32,
    pub posture: Posture,
    /// When the latest scan ran; `null` before the first scan.
    #[serde(with = "compliance_domain::time::micros::option")]
    pub last_scan_at: Option<DateTime<Utc>>,
    pub scan_id: Option<compliance_domain::ids::ScanId>,
    /// `null` when no framework is scored.
    pub worst_framework: Option<WorstFramework>,
    /// Every enabled framework's score (`null` when all its controls are disabled).
    pub frameworks: BTreeMap<String, Option<u32>>,
}

/// A framework's line of the page's aggregates.
#[derive(Debug, Clone, Serialize)]
pub struct FrameworkAggregate {
    pub name: String,
    #[serde(flatten)]
    pub aggregate: Aggregate,
}

/// The aggregates of a page of scored repositories.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PageAggregates {
    /// The overall scores.
    pub overall: Aggregate,
    /// Repositories on the page without any scan yet (scored on no evidence, so 0).
    pub unscanned: u32,
    pub frameworks: BTreeMap<String, FrameworkAggregate>,
}

/// One repository's line from its report.
pub fn repo_summary(entry: &RepoLatest, report: &Report) -> RepoSummary {
    let worst = report
        .frameworks
        .values()
        .filter_map(|f| f.score.map(|s| (s, f)))
        .min_by_key(|(s, _)| *s)
        .map(|(score, f)| WorstFramework {
            key: f.key.clone(),
            name: f.name.clone(),
            score,
        });
    RepoSummary {
        repo_id: entry.repo.repo_id,
        name: entry.repo.name.clone(),
        overall_score: report.executive_summary.overall_score,
        posture: report.executive_summary.posture,
        last_scan_at: entry.scan.as_ref().map(|s| s.scanned_at),
        scan_id: entry.scan.as_ref().map(|s| s.scan_id.clone()),
        worst_framework: worst,
        frameworks: report
            .frameworks
            .iter()
            .map(|(k, f)| (k.clone(), f.score))
            .collect(),
    }
}

/// The aggregates over `reports` (each repository's, with whether it had a scan). Every
/// framework of `frameworks` (key → name: the enabled ones) gets a line, scored or not.
pub fn aggregate<'a>(
    frameworks: impl IntoIterator<Item = (&'a str, &'a str)>,
    reports: impl IntoIterator<Item = (bool, &'a Report)>,
) -> PageAggregates {
    let mut out = PageAggregates {
        frameworks: frameworks
            .into_iter()
            .map(|(k, name)| {
                (
                    k.to_string(),
                    FrameworkAggregate {
                        name: name.to_string(),
                        aggregate: Aggregate::default(),
                    },
                )
            })
            .collect(),
        ..PageAggregates::default()
    };
    for (scanned, report) in reports {
        if !scanned {
            out.unscanned += 1;
        }
        out.overall
            .add(Some(report.executive_summary.overall_score));
        for (key, f) in &report.frameworks {
            if let Some(line) = out.frameworks.get_mut(key) {
                line.aggregate.add(f.score);
            }
        }
    }
    out.overall.finish();
    for line in out.frameworks.values_mut() {
        line.aggregate.finish();
    }
    out
}
