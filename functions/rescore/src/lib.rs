//! Lambda `rescore`: the table's stream, filtered to newly stored scans, scores each scan as the
//! org's settings stand and stores a trend point for it. Idempotent (a redelivered record finds
//! its point written); a record that fails is reported as a batch item failure, so Lambda
//! retries from it and nothing after it is lost.

use compliance_services::org_view::OrgView;
use compliance_services::scans::ScanRecord;
use compliance_services::scores::score_repo;
use compliance_services::trends::{self, Source, TrendPoint};
use compliance_store::stream::{each_record, inserted, DynamoDbEventResponse, Event, EventRecord};
use compliance_store::{Store, StoreError};

async fn rescore(store: &dyn Store, record: EventRecord) -> Result<(), StoreError> {
    let Some(ScanRecord { scan, org_id }) = inserted::<ScanRecord>(&record)? else {
        return Ok(());
    };
    let view = OrgView::load(store, &org_id).await?;
    // Scored as of the scan itself, so a retried record writes the very same point.
    let report = score_repo(&view, Some(&scan), None, scan.scanned_at);
    let point =
        TrendPoint::from_report(&report, scan.scanned_at, Source::Scan, Some(&scan.scan_id));
    let written = trends::record(store, &org_id, scan.repo_id, &point, None).await?;
    tracing::info!(
        %org_id,
        repo_id = %scan.repo_id,
        scan_id = %scan.scan_id,
        written,
        "rescored"
    );
    Ok(())
}

pub async fn handle(store: &dyn Store, event: Event) -> DynamoDbEventResponse {
    each_record(event, |record| rescore(store, record)).await
}
