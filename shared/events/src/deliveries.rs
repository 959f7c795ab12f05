//! Deliveries: one per event and webhook, keyed by both, so a change read twice (a stream
//! retry, a restart) never makes a second one. Each pending delivery has one entry in the due
//! queue (a few partitions ordered by due time); the deliverer claims an entry by moving it a
//! lease ahead, so a deliverer that dies mid-attempt leaves an entry that comes due again.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use compliance_domain::ids::{EventId, OrgId, WebhookId};
use compliance_domain::labels;
use compliance_services::audit_log::{self, AuditAction, AuditContext};
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Cursor, Key, Query, Store, StoreError, WriteOp};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::batch::Written;
use crate::event::{Event, EventType};
use crate::webhooks::{self, StoredWebhook, WebhookError};

/// How long deliveries are kept.
const KEPT_DAYS: i64 = 30;
/// Attempts kept on a delivery (the latest ones).
const MAX_ATTEMPTS_KEPT: usize = 50;

labels! {
    pub enum DeliveryStatus as "delivery status" {
        /// An attempt is scheduled.
        Pending => "pending",
        Delivered => "delivered",
        /// No attempt succeeded and none is scheduled.
        Failed => "failed",
    }
}

labels! {
    pub enum Outcome as "attempt outcome" {
        /// A 2xx answer.
        Delivered => "delivered",
        /// Another answer, or no answer (refused connection, TLS error).
        Failed => "failed",
        /// Not sent: the URL or an address it resolves to is not allowed.
        Refused => "refused",
        /// No answer within the timeout.
        Timeout => "timeout",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub attempt: u32,
    #[serde(with = "compliance_domain::time::micros")]
    pub at: DateTime<Utc>,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub outcome: Outcome,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The event's id, also the `webhook-id` header of every attempt.
    pub id: EventId,
    pub webhook_id: WebhookId,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub attempts: Vec<Attempt>,
    #[serde(with = "compliance_domain::time::micros::option")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[serde(with = "compliance_domain::time::micros")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredDelivery {
    #[serde(flatten)]
    pub(crate) delivery: Delivery,
    pub(crate) org_id: OrgId,
    /// The body of every attempt, byte for byte.
    pub(crate) payload: String,
    /// Scheduled retries used (manual attempts not counted).
    pub(crate) retries_used: usize,
    /// Attempts made, those no longer kept included.
    pub(crate) attempts_made: u32,
}

impl Record for StoredDelivery {
    const ENTITY: &'static str = "webhook_delivery";

    fn key(&self) -> Key {
        let d = &self.delivery;
        keys::webhook_delivery(&self.org_id, &d.webhook_id, &d.id)
    }

    fn expires_at(&self) -> Option<i64> {
        Some((self.delivery.created_at + Duration::days(KEPT_DAYS)).timestamp())
    }
}

impl StoredDelivery {
    /// The delivery with an attempt added (the oldest dropped past [`MAX_ATTEMPTS_KEPT`]).
    pub(crate) fn with_attempt(mut self, attempt: Attempt) -> Self {
        self.attempts_made += 1;
        self.delivery.attempts.push(attempt);
        let excess = self
            .delivery
            .attempts
            .len()
            .saturating_sub(MAX_ATTEMPTS_KEPT);
        self.delivery.attempts.drain(..excess);
        self
    }

    pub(crate) fn payload_value(&self) -> Value {
        serde_json::from_str(&self.payload).unwrap_or(Value::Null)
    }
}

/// An attempt due: an entry of the due queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Due {
    pub(crate) org_id: OrgId,
    pub(crate) webhook_id: WebhookId,
    pub(crate) event_id: EventId,
    pub(crate) due_ms: u64,
    /// A ping or a redelivery: sent even to a disabled webhook, never retried.
    pub(crate) manual: bool,
}

impl Record for Due {
    const ENTITY: &'static str = "webhook_due";

    fn key(&self) -> Key {
        keys::webhook_due(self.due_ms, &self.org_id, &self.webhook_id, &self.event_id)
    }
}

impl Due {
    pub(crate) fn at(&self, at: DateTime<Utc>) -> Due {
        Due {
            due_ms: millis(at),
            ..self.clone()
        }
    }
}

pub(crate) fn millis(at: DateTime<Utc>) -> u64 {
    at.timestamp_millis().max(0) as u64
}

/// The writes that make `event`'s delivery to `webhook`, due at once; the delivery's key is
/// taken once.
fn new_delivery(
    org_id: &OrgId,
    webhook: &WebhookId,
    event: &Event,
    now: DateTime<Utc>,
    manual: bool,
) -> (StoredDelivery, Vec<WriteOp>) {
    let stored = StoredDelivery {
        delivery: Delivery {
            id: event.id.clone(),
            webhook_id: webhook.clone(),
            event_type: event.event_type,
            status: DeliveryStatus::Pending,
            attempts: Vec::new(),
            next_attempt_at: Some(now),
            created_at: now,
        },
        org_id: org_id.clone(),
        payload: event.payload(),
        retries_used: 0,
        attempts_made: 0,
    };
    let due = Due {
        org_id: org_id.clone(),
        webhook_id: webhook.clone(),
        event_id: event.id.clone(),
        due_ms: millis(now),
        manual,
    };
    let ops = vec![stored.put_if(Condition::NotExists), due.put()];
    (stored, ops)
}

/// Makes the deliveries of `events` to every enabled webhook of their org that subscribes to
/// their type; how many were new (a delivery already made is left as it is).
pub async fn publish(
    store: &dyn Store,
    events: &[Event],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut by_org: BTreeMap<&OrgId, Vec<&Event>> = BTreeMap::new();
    for event in events {
        by_org.entry(&event.org_id).or_default().push(event);
    }
    let mut groups = Vec::new();
    for (org_id, events) in by_org {
        let hooks = webhooks::stored(store, org_id).await?;
        for event in events {
            for hook in hooks.iter().filter(|h| h.webhook.wants(event.event_type)) {
                let (_, ops) = new_delivery(org_id, &hook.webhook.id, event, now, false);
                groups.push(ops);
            }
        }
    }
    // A delivery already made (its key is taken) is a group whose condition fails.
    let mut made = 0;
    for written in crate::batch::write_groups(store, &groups).await {
        match written {
            Written::Yes => made += 1,
            Written::Refused => {}
            Written::Failed(e) => return Err(e),
        }
    }
    Ok(made)
}

/// Sends a `ping` to the webhook (enabled or not): its delivery, due at once.
pub async fn ping(
    store: &dyn Store,
    ctx: &AuditContext,
    webhook_id: &WebhookId,
) -> Result<(Delivery, Value), WebhookError> {
    let hook = webhook(store, &ctx.org_id, webhook_id).await?;
    let subject = format!("ping|{webhook_id}|{}", ctx.at.timestamp_micros());
    let data = json!({"webhook_id": webhook_id});
    let event = Event::new(EventType::Ping, &ctx.org_id, ctx.at, &subject, data);
    let (stored, ops) = new_delivery(&ctx.org_id, &hook.webhook.id, &event, ctx.at, true);
    let metadata = json!({"webhook_id": webhook_id, "delivery_id": event.id});
    audit_log::commit(store, ops, ctx, AuditAction::WebhookPinged, metadata).await?;
    let payload = stored.payload_value();
    Ok((stored.delivery, payload))
}

/// One more attempt of a delivery that is not pending, at once, with the same `webhook-id`.
pub async fn redeliver(
    store: &dyn Store,
    ctx: &AuditContext,
    webhook_id: &WebhookId,
    event_id: &EventId,
) -> Result<(Delivery, Value), RedeliverError> {
    webhook(store, &ctx.org_id, webhook_id).await?;
    let key = keys::webhook_delivery(&ctx.org_id, webhook_id, event_id);
    let before: StoredDelivery = store
        .get_record(&key)
        .await
        .map_err(WebhookError::from)?
        .ok_or(RedeliverError::NotFound)?;
    if before.delivery.status == DeliveryStatus::Pending {
        return Err(RedeliverError::Pending);
    }
    let mut after = before.clone();
    after.delivery.status = DeliveryStatus::Pending;
    after.delivery.next_attempt_at = Some(ctx.at);
    let due = Due {
        org_id: ctx.org_id.clone(),
        webhook_id: webhook_id.clone(),
        event_id: event_id.clone(),
        due_ms: millis(ctx.at),
        manual: true,
    };
    let ops = vec![
        after.put_if(Condition::Equals(
            "attempts_made".into(),
            json!(before.attempts_made),
        )),
        due.put(),
    ];
    let metadata = json!({"webhook_id": webhook_id, "delivery_id": event_id});
    audit_log::commit(store, ops, ctx, AuditAction::WebhookRedelivered, metadata)
        .await
        .map_err(WebhookError::from)?;
    let payload = after.payload_value();
    Ok((after.delivery, payload))
}

#[derive(Debug, thiserror::Error)]
pub enum RedeliverError {
    #[error("delivery not found")]
    NotFound,
    #[error("an attempt of this delivery is already scheduled")]
    Pending,
    #[error(transparent)]
    Webhook(#[from] WebhookError),
}

async fn webhook(
    store: &dyn Store,
    org_id: &OrgId,
    id: &WebhookId,
) -> Result<StoredWebhook, WebhookError> {
    webhooks::get_stored(store, org_id, id)
        .await?
        .ok_or(WebhookError::NotFound)
}

/// A page of the webhook's deliveries, newest first.
pub async fn list(
    store: &dyn Store,
    org_id: &OrgId,
    webhook_id: &WebhookId,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<Delivery>, Option<Cursor>), StoreError> {
    let (pk, range) = keys::webhook_deliveries(org_id, webhook_id);
    let query = Query::new(pk, range).backward().limit(limit).after(cursor);
    let (page, next): (Vec<StoredDelivery>, _) = store.query_records(&query).await?;
    Ok((page.into_iter().map(|d| d.delivery).collect(), next))
}

/// One delivery and its payload.
pub async fn get(
    store: &dyn Store,
    org_id: &OrgId,
    webhook_id: &WebhookId,
    event_id: &EventId,
) -> Result<Option<(Delivery, Value)>, StoreError> {
    let key = keys::webhook_delivery(org_id, webhook_id, event_id);
    let found: Option<StoredDelivery> = store.get_record(&key).await?;
    Ok(found.map(|d| {
        let payload = d.payload_value();
        (d.delivery, payload)
    }))
}
