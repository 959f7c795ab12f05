//! Reminders: events the clock tells rather than a change (an exception about to expire, an
//! attestation coming due, a decision on an alert due). Scheduled by the consumer when it reads
//! the change that sets their time, kept in a due queue, and fired when due, if the item they
//! are about still says what it said then (a renewed attestation or a revoked exception
//! cancels them).

use chrono::{DateTime, Utc};
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Key, Query, Store, StoreError, WriteOp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::deliveries::millis;
use crate::event::Event;

/// An attribute of the subject item and the value it must still hold (`None`: absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expect {
    pub attr: String,
    pub value: Option<Value>,
}

impl Expect {
    pub fn equals(attr: &str, value: Value) -> Expect {
        Expect {
            attr: attr.into(),
            value: Some(value),
        }
    }

    pub fn absent(attr: &str) -> Expect {
        Expect {
            attr: attr.into(),
            value: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reminder {
    /// Fired at `event.timestamp`.
    pub event: Event,
    pub subject: Key,
    pub expect: Vec<Expect>,
}

#[derive(Serialize, Deserialize)]
struct StoredReminder {
    #[serde(flatten)]
    reminder: Reminder,
    due_ms: u64,
}

impl Record for StoredReminder {
    const ENTITY: &'static str = "reminder_due";

    fn key(&self) -> Key {
        let e = &self.reminder.event;
        keys::reminder_due(self.due_ms, &e.org_id, &e.id)
    }
}

/// The write that schedules the reminder, taken once (a change read twice schedules it once).
pub fn schedule(reminder: Reminder) -> WriteOp {
    let due_ms = millis(reminder.event.timestamp);
    StoredReminder { reminder, due_ms }.put_if(Condition::NotExists)
}

/// Reminders due by `now` (at most `limit` per queue partition), each with the write that
/// removes it once handled.
pub async fn due(
    store: &dyn Store,
    now: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<(Reminder, WriteOp)>, StoreError> {
    let mut found = Vec::new();
    for shard in 0..keys::DUE_SHARDS {
        let (pk, range) = keys::reminders_due_by(shard, millis(now));
        let query = Query::new(pk, range).limit(limit);
        let (page, _): (Vec<StoredReminder>, _) = store.query_records(&query).await?;
        found.extend(page.into_iter().map(|r| {
            let done = WriteOp::delete(r.key());
            (r.reminder, done)
        }));
    }
    Ok(found)
}

/// Whether the reminder's subject still holds what it expects.
pub async fn still_holds(store: &dyn Store, reminder: &Reminder) -> Result<bool, StoreError> {
    let Some(item) = store.get(&reminder.subject).await? else {
        return Ok(false);
    };
    Ok(reminder
        .expect
        .iter()
        .all(|e| item.get(&e.attr) == e.value.as_ref()))
}
