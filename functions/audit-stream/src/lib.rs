//! Lambda `audit-stream`: the table's stream, filtered to inserted audit entries, exported as one
//! JSON line each — the shape a SIEM subscription (CloudWatch Logs → Firehose / Splunk / Datadog)
//! ingests. Exactly once per entry: a marker item (`EXPORTED#{entry id}`, kept past the stream's
//! 24-hour retention) is written first, so a redelivered record prints nothing twice; a record
//! that fails is reported as a batch item failure and retried.

use std::io::Write;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use compliance_core::audit::AuditEntry;
use compliance_core::store::{Condition, Item, Key, Store, StoreError, WriteOp};
use serde_json::{json, Value};

/// Where exported lines go: stdout under Lambda (CloudWatch Logs), a buffer in tests.
pub trait Sink: Send + Sync {
    fn write_line(&self, line: &str) -> std::io::Result<()>;
}

pub struct StdoutSink;

impl Sink for StdoutSink {
    fn write_line(&self, line: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()
    }
}

/// Appends lines to a file: the local server's export (`<data dir>/audit-export.jsonl`).
pub struct FileSink(pub std::sync::Mutex<std::fs::File>);

impl FileSink {
    pub fn append(path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(FileSink(std::sync::Mutex::new(file)))
    }
}

impl Sink for FileSink {
    fn write_line(&self, line: &str) -> std::io::Result<()> {
        let mut file = self.0.lock().unwrap_or_else(|e| e.into_inner());
        writeln!(file, "{line}")
    }
}

/// Keeps lines in memory (tests).
#[derive(Default)]
pub struct MemorySink(pub std::sync::Mutex<Vec<String>>);

impl MemorySink {
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Sink for MemorySink {
    fn write_line(&self, line: &str) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line.to_string());
        Ok(())
    }
}

/// Markers outlive the stream's retention (24 h) by a wide margin.
const MARKER_DAYS: i64 = 7;

fn marker_key(entry_id: &str) -> Key {
    Key::new("SYSTEM#AUDIT_EXPORT", format!("EXPORTED#{entry_id}"))
}

/// The exported line: the entry under a stable envelope a SIEM can route on.
pub fn siem_line(entry: &AuditEntry) -> Value {
    json!({
        "schema": "compliance.audit.v1",
        "timestamp": entry.created_at,
        "id": entry.id,
        "org_id": entry.org_id,
        "action": entry.action,
        "actor": entry.actor,
        "source_ip": entry.source_ip,
        "user_agent": entry.user_agent,
        "request_id": entry.request_id,
        "metadata": entry.metadata,
    })
}

fn audit_entry(record: &EventRecord) -> Result<Option<AuditEntry>, StoreError> {
    if record.event_name != "INSERT" {
        return Ok(None);
    }
    let item: Item = serde_dynamo::from_item(record.change.new_image.clone())
        .map_err(|e| StoreError::Backend(format!("unreadable stream image: {e}")))?;
    if item.get("entity").and_then(Value::as_str) != Some("audit") {
        return Ok(None);
    }
    AuditEntry::from_item(item).map(Some)
}

async fn export(
    store: &dyn Store,
    sink: &dyn Sink,
    record: &EventRecord,
) -> Result<(), StoreError> {
    let Some(entry) = audit_entry(record)? else {
        return Ok(());
    };
    let line = serde_json::to_string(&siem_line(&entry))
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    let key = marker_key(&entry.id);
    if store.get(&key).await?.is_some() {
        return Ok(());
    }
    // Printed before the marker: a crash in between prints the line again on retry (at least
    // once), never loses it; the marker keeps ordinary redeliveries from duplicating it.
    sink.write_line(&line)
        .map_err(|e| StoreError::Backend(format!("export sink: {e}")))?;
    let mut marker = Item::new();
    marker.insert("PK".into(), key.pk.clone().into());
    marker.insert("SK".into(), key.sk.clone().into());
    marker.insert("entity".into(), json!("audit_export"));
    let expires = (chrono::Utc::now() + chrono::Duration::days(MARKER_DAYS)).timestamp();
    marker.insert("expires_at".into(), json!(expires));
    match store
        .write(vec![WriteOp::put_if(marker, Condition::NotExists)])
        .await
    {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn handle(store: &dyn Store, sink: &dyn Sink, event: Event) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        if let Err(e) = export(store, sink, record).await {
            tracing::error!(error = %e, event_id = record.event_id, "audit export failed");
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = record.change.sequence_number.clone();
            response.batch_item_failures.push(failure);
            break;
        }
    }
    response
}
