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
use compliance_store::stream::{each_record, DynamoDbEventResponse, Event as StreamEvent};
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

/// The consumer of the change feed: each record's events sent and reminders scheduled, in
/// order; the first record that fails is reported, so the stream retries from it.
pub async fn handle_stream(
    store: &dyn Store,
    bus: Option<&dyn Bus>,
    event: StreamEvent,
    now: DateTime<Utc>,
) -> DynamoDbEventResponse {
    each_record(event, |record| async move {
        let told = derive::tell(&record)?;
        for reminder in told.reminders {
            match store.write(vec![reminders::schedule(reminder)]).await {
                Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        emit(store, bus, &told.events, now).await.map(|_| ())
    })
    .await
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
