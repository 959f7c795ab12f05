//! Lambda `notify`: the events consumer. Fed by the table's stream (filtered to the entities
//! whose changes tell events, see `compliance_events::derive::ENTITIES`), it tells each
//! record's events, makes their webhook deliveries and puts them on the stack's EventBridge
//! bus, then makes the attempts due. Once a minute (an EventBridge schedule) it fires the
//! reminders and makes the retries that came due.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use compliance_domain::time::Clock;
use compliance_events::deliver::Deliverer;
use compliance_events::event::SOURCE;
use compliance_events::{Bus, Event};
use compliance_store::stream::{DynamoDbEventResponse, Event as StreamEvent};
use compliance_store::Store;
use serde::Serialize;
use serde_json::Value;

/// Entries per PutEvents call (the API's limit).
const PUT_EVENTS_MAX: usize = 10;

/// The stack's bus.
pub struct EventBridge {
    pub client: aws_sdk_eventbridge::Client,
    pub bus_name: String,
}

/// A PutEvents request's limit on its entries' size, with room for the other fields.
const PUT_EVENTS_MAX_BYTES: usize = 250 * 1024;

#[async_trait]
impl Bus for EventBridge {
    async fn put(&self, events: &[Event]) -> Result<(), String> {
        let mut batch: Vec<(&Event, String)> = Vec::new();
        let mut bytes = 0;
        for event in events {
            let detail = fitting_detail(event);
            let size = entry_size(event, &detail);
            if !batch.is_empty()
                && (batch.len() == PUT_EVENTS_MAX || bytes + size > PUT_EVENTS_MAX_BYTES)
            {
                self.put_batch(&batch).await?;
                batch.clear();
                bytes = 0;
            }
            bytes += size;
            batch.push((event, detail));
        }
        if !batch.is_empty() {
            self.put_batch(&batch).await?;
        }
        Ok(())
    }
}

/// What EventBridge counts of an entry: its detail, detail type, source and bus name.
fn entry_size(event: &Event, detail: &str) -> usize {
    detail.len() + event.event_type.as_str().len() + SOURCE.len() + 64
}

/// The event's payload, or, when it is beyond what one entry may carry (a `score.changed` of a
/// framework with hundreds of changed controls), the payload without its `controls` and with
/// `controls_truncated: true` (webhooks get it whole).
fn fitting_detail(event: &Event) -> String {
    let payload = event.payload();
    if payload.len() < PUT_EVENTS_MAX_BYTES {
        return payload;
    }
    let mut trimmed = event.clone();
    if let Some(data) = trimmed.data.as_object_mut() {
        data.remove("controls");
        data.insert("controls_truncated".into(), Value::Bool(true));
    }
    trimmed.payload()
}

impl EventBridge {
    async fn put_batch(&self, batch: &[(&Event, String)]) -> Result<(), String> {
        let entries = batch
            .iter()
            .map(|(e, detail)| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus_name)
                    .source(SOURCE)
                    .detail_type(e.event_type.as_str())
                    .detail(detail)
                    .time(aws_sdk_eventbridge::primitives::DateTime::from_millis(
                        e.timestamp.timestamp_millis(),
                    ))
                    .build()
            })
            .collect();
        let out = self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| aws_sdk_eventbridge::error::DisplayErrorContext(e).to_string())?;
        if out.failed_entry_count() > 0 {
            let first = out
                .entries()
                .iter()
                .find_map(|e| e.error_message().map(str::to_string))
                .unwrap_or_default();
            return Err(format!(
                "{} of {} events refused: {first}",
                out.failed_entry_count(),
                batch.len()
            ));
        }
        Ok(())
    }
}

/// The bus named by `EVENT_BUS_NAME` (`None` when unset: webhooks only).
pub async fn bus_from_env() -> Option<EventBridge> {
    let bus_name = std::env::var("EVENT_BUS_NAME")
        .ok()
        .filter(|b| !b.is_empty())?;
    let config = compliance_store::aws::service_config("EVENTBRIDGE", None)
        .await
        .build();
    Some(EventBridge {
        client: aws_sdk_eventbridge::Client::new(&config),
        bus_name,
    })
}

pub struct Notify {
    pub store: Arc<dyn Store>,
    pub bus: Option<EventBridge>,
    pub deliverer: Arc<Deliverer>,
    pub clock: Arc<dyn Clock>,
}

/// What a scheduled run did.
#[derive(Debug, Serialize)]
pub struct Tick {
    pub reminders: usize,
    pub attempted: usize,
    pub delivered: usize,
}

/// How long attempts are claimed after a stream batch (the rest waits for the schedule); those
/// claimed are then waited for (10 s each at most), within the function's 60 s.
const AFTER_BATCH: Duration = Duration::from_secs(20);
/// The same on the schedule.
const ON_SCHEDULE: Duration = Duration::from_secs(30);

impl Notify {
    fn bus(&self) -> Option<&dyn Bus> {
        self.bus.as_ref().map(|b| b as &dyn Bus)
    }

    /// A stream batch: its events, then the attempts due (within [`AFTER_BATCH`]).
    pub async fn stream(&self, event: StreamEvent) -> DynamoDbEventResponse {
        let now = self.clock.now();
        let response =
            compliance_events::handle_stream(self.store.as_ref(), self.bus(), event, now).await;
        if let Err(e) = self.deliverer.run_due(AFTER_BATCH).await {
            tracing::error!(error = %e, "webhook deliveries after a batch");
        }
        response
    }

    /// The schedule: due reminders, then due attempts.
    pub async fn tick(&self) -> Result<Tick, String> {
        let now = self.clock.now();
        let reminders = compliance_events::fire_reminders(self.store.as_ref(), self.bus(), now)
            .await
            .map_err(|e| e.to_string())?;
        let round = self
            .deliverer
            .run_due(ON_SCHEDULE)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Tick {
            reminders,
            attempted: round.attempted,
            delivered: round.delivered,
        })
    }

    /// Either invocation: a stream batch (`Records`) or the schedule.
    pub async fn handle(&self, payload: Value) -> Result<Value, String> {
        if payload.get("Records").is_some() {
            let event: StreamEvent =
                serde_json::from_value(payload).map_err(|e| format!("not a stream event: {e}"))?;
            let response = self.stream(event).await;
            serde_json::to_value(response).map_err(|e| e.to_string())
        } else {
            let tick = self.tick().await?;
            serde_json::to_value(tick).map_err(|e| e.to_string())
        }
    }
}
