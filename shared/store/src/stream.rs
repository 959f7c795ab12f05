//! DynamoDB stream events, as Lambda delivers them from the table's stream and as the local
//! server replays them from the change feed: a record's image decoded into a [`Record`], a
//! [`Change`] encoded as a stream record, and the batch loop every stream function runs.

use std::future::Future;

pub use aws_lambda_events::event::dynamodb::{Event, EventRecord};
pub use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use serde_json::{json, Value};

use crate::change_feed::Change;
use crate::record::{Record, ENTITY};
use crate::{item_size, Item, StoreError};

/// The record's new image as `T`, when the record inserted an item of `T`'s entity (what the
/// functions' event filters let through); `None` for any other record.
pub fn inserted<T: Record>(record: &EventRecord) -> Result<Option<T>, StoreError> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    let item: Item = serde_dynamo::from_item(record.change.new_image.clone())
        .map_err(|e| StoreError::Backend(format!("unreadable stream image: {e}")))?;
    if item.get(ENTITY).and_then(Value::as_str) != Some(T::ENTITY) {
        return Ok(None);
    }
    T::from_item(item).map(Some)
}

/// Handles the batch's records in order. The first that fails is reported by its sequence
/// number as the batch item failure, and the rest are left: Lambda retries from the failed
/// record, so nothing after it is lost and nothing before it is repeated.
pub async fn each_record<F, Fut>(event: Event, mut handle: F) -> DynamoDbEventResponse
where
    F: FnMut(EventRecord) -> Fut,
    Fut: Future<Output = Result<(), StoreError>>,
{
    let mut response = DynamoDbEventResponse::default();
    for record in event.records {
        let sequence_number = record.change.sequence_number.clone();
        let event_id = record.event_id.clone();
        if let Err(e) = handle(record).await {
            tracing::error!(error = %e, event_id, "stream record failed");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = sequence_number;
            response.batch_item_failures.push(failure);
            break;
        }
    }
    response
}

/// A stream sequence number as DynamoDB writes them (decimal digits, fixed width).
pub fn sequence_number(sequence: u64) -> String {
    format!("{sequence:021}")
}

/// The stream record of a change, as DynamoDB Streams delivers it to Lambda
/// (`NEW_AND_OLD_IMAGES`).
pub fn event_record(change: &Change) -> Result<Value, StoreError> {
    let encode = |value: Value| -> Result<serde_dynamo::Item, StoreError> {
        serde_dynamo::to_item(value)
            .map_err(|e| StoreError::Backend(format!("unencodable stream image: {e}")))
    };
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": change.at,
        "Keys": encode(json!({"PK": change.key.pk, "SK": change.key.sk}))?,
        "SequenceNumber": sequence_number(change.sequence),
        "SizeBytes": change.new_image.as_ref().or(change.old_image.as_ref()).map_or(0, item_size),
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    });
    if let Some(new) = &change.new_image {
        dynamodb["NewImage"] = json!(encode(Value::Object(new.clone()))?);
    }
    if let Some(old) = &change.old_image {
        dynamodb["OldImage"] = json!(encode(Value::Object(old.clone()))?);
    }
    Ok(json!({
        "eventID": format!("local-{}", change.sequence),
        "eventName": change.kind.event_name(),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "local",
        "eventSourceARN": "arn:aws:dynamodb:local:000000000000:table/compliance/stream/local",
        "dynamodb": dynamodb,
    }))
}

/// A batch of stream records as the event Lambda hands a stream function.
pub fn event(records: Vec<Value>) -> Result<Event, StoreError> {
    serde_json::from_value(json!({ "Records": records }))
        .map_err(|e| StoreError::Backend(format!("could not build a stream event: {e}")))
}
