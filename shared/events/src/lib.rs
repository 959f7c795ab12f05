//! Events: what the table's committed changes mean to the org's subscribers, told by one
//! consumer of the change feed (the table's stream in AWS, the embedded store's change feed
//! locally), and sent to them: as signed webhooks (Standard Webhooks) and, in AWS, on an
//! EventBridge bus ([`Bus`]).
//!
//! - [`derive`]: a stream record → its events and reminders (pure, ids told by the change).
//! - [`deliveries`]: one delivery per event and webhook, and the due queue.
//! - [`deliver`]: the deliverer (claims, sends, records, schedules retries).
//! - [`reminders`]: events told by the clock, scheduled when their time is set.
//! - [`webhooks`], [`signing`], [`url_policy`], [`schedule`]: the subscriptions and their rules.

mod batch;
pub mod deliver;
pub mod deliveries;
pub mod derive;
pub mod event;
pub mod reminders;
pub mod schedule;
pub mod signing;
pub mod url_policy;
pub mod webhooks;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use compliance_store::stream::{
    DynamoDbBatchItemFailure, DynamoDbEventResponse, Event as StreamEvent,
};
use compliance_store::{Store, StoreError};

pub use event::{Event, EventType};

/// Where events go besides webhooks: EventBridge in AWS.
#[async_trait]
pub trait Bus: Send + Sync {
    async fn put(&self, events: &[Event]) -> Result<(), String>;
}

/// Sends events: deliveries to the org's webhooks, then the bus. A failure leaves what was
/// done (deliveries are made once), so the caller retries the whole.
pub async fn emit(
    store: &dyn Store,
    bus: Option<&dyn Bus>,
    events: &[Event],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    if events.is_empty() {
        return Ok(0);
    }
    let made = deliveries::publish(store, events, now).await?;
    if let Some(bus) = bus {
        bus.put(events)
            .await
            .map_err(|e| StoreError::Backend(format!("event bus: {e}")))?;
    }
    Ok(made)
}

/// The consumer of the change feed: the batch's records told in order, their reminders
/// scheduled and their events sent together. A record that cannot be read is reported with
/// those after it (what the records before it told is sent), and a failure to send reports the
/// whole batch: the stream retries from the reported record, and what was already made is not
/// made twice.
pub async fn handle_stream(
    store: &dyn Store,
    bus: Option<&dyn Bus>,
    event: StreamEvent,
    now: DateTime<Utc>,
) -> DynamoDbEventResponse {
    compliance_services::metrics::stream_event(&event);
    let mut events = Vec::new();
    let mut schedules = Vec::new();
    let first = event
        .records
        .first()
        .and_then(|r| r.change.sequence_number.clone());
    // The record the stream retries from (its sequence number, `None` when it has none: then
    // the whole batch is retried).
    let mut failed: Option<Option<String>> = None;
    for record in &event.records {
        match derive::tell(record) {
            Ok(told) => {
                events.extend(told.events);
                schedules.extend(
                    told.reminders
                        .into_iter()
                        .map(|r| vec![reminders::schedule(r)]),
                );
            }
            Err(e) => {
                tracing::error!(error = %e, event_id = record.event_id, "stream record not read");
                failed = Some(record.change.sequence_number.clone());
                break;
            }
        }
    }
    let sent = async {
        // A reminder already scheduled is a write whose condition fails.
        for written in batch::write_groups(store, &schedules).await {
            if let batch::Written::Failed(e) = written {
                return Err(e);
            }
        }
        emit(store, bus, &events, now).await
    };
    if let Err(e) = sent.await {
        tracing::error!(error = %e, "events not sent");
        failed = Some(first);
    }
    let mut response = DynamoDbEventResponse::default();
    if let Some(sequence) = failed {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = sequence;
        response.batch_item_failures.push(failure);
    }
    response
}

/// Fires the reminders due by `now` whose subject still holds; how many were sent.
pub async fn fire_reminders(
    store: &dyn Store,
    bus: Option<&dyn Bus>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut fired = 0;
    for (reminder, done) in reminders::due(store, now, 100).await? {
        if reminders::still_holds(store, &reminder).await? {
            emit(store, bus, std::slice::from_ref(&reminder.event), now).await?;
            fired += 1;
        }
        store.write(vec![done]).await?;
    }
    Ok(fired)
}
