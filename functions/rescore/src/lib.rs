//! Lambda `rescore`: the table's stream, filtered to newly stored scans, scores each scan as the
//! org's settings stand and stores a trend point for it. Idempotent (a redelivered record finds
//! its point written); a record that fails is reported as a batch item failure, so Lambda
//! retries from it and nothing after it is lost.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use compliance_domain::time::parse_instant;
use compliance_services::evaluation::evaluate;
use compliance_services::org_view::OrgView;
use compliance_services::scans::StoredScan;
use compliance_services::trends::{self, Source, TrendPoint};
use compliance_store::{Item, Store, StoreError};
use serde_json::Value;

/// What the record is, if it is one this function acts on.
fn new_scan(record: &EventRecord) -> Result<Option<(String, StoredScan)>, StoreError> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    let item: Item = serde_dynamo::from_item(record.change.new_image.clone())
        .map_err(|e| StoreError::Backend(format!("unreadable stream image: {e}")))?;
    if item.get("entity").and_then(Value::as_str) != Some("scan") {
        return Ok(None);
    }
    let org_id = item
        .get("org_id")
        .and_then(Value::as_str)
        .ok_or_else(|| StoreError::Backend("scan image without org_id".into()))?
        .to_string();
    Ok(Some((org_id, StoredScan::from_item(item)?)))
}

async fn process(store: &dyn Store, record: &EventRecord) -> Result<(), StoreError> {
    let Some((org_id, scan)) = new_scan(record)? else {
        return Ok(());
    };
    let at = parse_instant(&scan.scanned_at)
        .ok_or_else(|| StoreError::Backend(format!("scan {} has no valid time", scan.scan_id)))?;
    let view = OrgView::load(store, &org_id).await?;
    // Scored as of the scan itself, so a retried record writes the very same point.
    let report = evaluate(&view, Some(&scan), None, at);
    let point =
        TrendPoint::from_report(&report, &scan.scanned_at, Source::Scan, Some(&scan.scan_id));
    let written = trends::record(store, &org_id, scan.repo_id, &point, None).await?;
    tracing::info!(
        org_id,
        repo_id = scan.repo_id,
        scan_id = scan.scan_id,
        written,
        "rescored"
    );
    Ok(())
}

pub async fn handle(store: &dyn Store, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        if let Err(e) = process(store, record).await {
            tracing::error!(error = %e, event_id = record.event_id, "rescoring failed");
            // Lambda resumes from the first failure; the records after it come again.
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = record.change.sequence_number.clone();
            response.batch_item_failures.push(failure);
            break;
        }
    }
    response
}
