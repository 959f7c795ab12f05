//! Lambda `rescore`: the table's stream, filtered to newly stored scans, scores each scan as the
//! org's settings stand and stores a trend point for it, and the repository's posture when the
//! scan is its latest (the events consumer tells its change as `score.changed`). Idempotent (a redelivered record finds
//! its point written); a record that fails is reported as a batch item failure, so Lambda
//! retries from it and nothing after it is lost.

use chrono::Utc;
use compliance_domain::identity::ActorKind;
use compliance_domain::ids::OrgId;
use compliance_services::audit_log::{AuditContext, DEFAULT_RETENTION_DAYS};
use compliance_services::exceptions::{self, Exception};
use compliance_services::org_view::OrgView;
use compliance_services::posture::{self, Scored};
use compliance_services::scans::{self, ScanRecord, StoredScan};
use compliance_services::scores::{self, score_repo};
use compliance_services::trends::{self, Source, TrendPoint};
use compliance_store::stream::{each_record, inserted, DynamoDbEventResponse, Event, EventRecord};
use compliance_store::{Store, StoreError};

async fn rescore(store: &dyn Store, record: EventRecord) -> Result<(), StoreError> {
    let Some(ScanRecord { scan, org_id }) = inserted::<ScanRecord>(&record)? else {
        return Ok(());
    };
    let view = OrgView::load(store, &org_id).await?;
    // Scored as of the scan itself, so a retried record writes the very same point.
    let applying = exceptions::applying(store, &org_id, scan.scanned_at).await?;
    let excepting = scores::excepting(store, &org_id, &applying, &scan).await?;
    let report = score_repo(
        &view,
        Some(&scan),
        excepting.as_deref(),
        None,
        scan.scanned_at,
    );
    let point =
        TrendPoint::from_report(&report, scan.scanned_at, Source::Scan, Some(&scan.scan_id));
    let written = trends::record(store, &org_id, scan.repo_id, &point, None).await?;
    let postures = postures(store, &org_id, &view, &scan).await?;
    let resolved = resolve_absent(store, &org_id, &scan, &applying).await?;
    tracing::info!(
        %org_id,
        repo_id = %scan.repo_id,
        scan_id = %scan.scan_id,
        written,
        postures,
        resolved,
        "rescored"
    );
    Ok(())
}

/// When `scan` is its repository's latest: each framework's posture, the scan before it scored
/// by the same rules (settings, exceptions and attestations now) at the same time, so that the
/// two differ by what the scan changed. How many were written.
async fn postures(
    store: &dyn Store,
    org_id: &OrgId,
    view: &OrgView,
    scan: &StoredScan,
) -> Result<usize, StoreError> {
    let (latest, _) = scans::list(store, org_id, scan.repo_id, 2, None).await?;
    if latest.first().is_none_or(|l| l.scan_id != scan.scan_id) {
        return Ok(0);
    }
    let now = Utc::now();
    let applying = exceptions::applying(store, org_id, now).await?;
    let mut reports = Vec::new();
    for s in &latest {
        let excepting = scores::excepting(store, org_id, &applying, s).await?;
        reports.push(score_repo(view, Some(s), excepting.as_deref(), None, now));
    }
    let scored = |i: usize| {
        Some(Scored {
            scan_id: &latest.get(i)?.scan_id,
            report: reports.get(i)?,
        })
    };
    let current = scored(0).expect("the latest scan was scored");
    let made = posture::of(org_id, scan.repo_id, current, scored(1), now);
    posture::replace(store, &made).await
}

/// When `scan` is the repository's latest and holds the keys of all its counted findings,
/// closes the repository's approved exceptions none of whose findings it has; how many.
async fn resolve_absent(
    store: &dyn Store,
    org_id: &OrgId,
    scan: &StoredScan,
    applying: &[Exception],
) -> Result<usize, StoreError> {
    let own = applying.iter().any(|e| e.repo_id == Some(scan.repo_id));
    let complete = scan.finding_keys.is_some_and(|k| k.omitted == 0);
    if !own || !complete {
        return Ok(0);
    }
    let latest = scans::latest(store, org_id, scan.repo_id).await?;
    if latest.is_none_or(|l| l.scan_id != scan.scan_id) {
        return Ok(0);
    }
    let keys = scans::finding_keys(store, org_id, scan).await?;
    let ctx = AuditContext::system(org_id, ActorKind::System, "rescore", DEFAULT_RETENTION_DAYS);
    let closed = exceptions::resolve_absent(store, &ctx, scan.repo_id, applying, &keys).await?;
    Ok(closed.len())
}

pub async fn handle(store: &dyn Store, event: Event) -> DynamoDbEventResponse {
    compliance_services::metrics::stream_event(&event);
    each_record(event, |record| rescore(store, record)).await
}
