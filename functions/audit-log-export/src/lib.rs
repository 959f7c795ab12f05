//! Lambda `audit-log-export`: the table's stream, filtered to inserted audit entries, exported as one
//! JSON line each — the shape a SIEM subscription (CloudWatch Logs → Firehose / Splunk / Datadog)
//! ingests. Exactly once per entry: a marker item (`EXPORTED#{entry id}`, kept past the stream's
//! 24-hour retention) is written first, so a redelivered record prints nothing twice; a record
//! that fails is reported as a batch item failure and retried.

use std::io::Write;

use chrono::{DateTime, Utc};
use compliance_domain::ids::OrgId;
use compliance_services::audit_log::{Actor, AuditAction, AuditEntry, AuditLogItem};
use compliance_store::record::Record;
use compliance_store::stream::{each_record, inserted, DynamoDbEventResponse, Event, EventRecord};
use compliance_store::{keys, Condition, Key, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where exported lines go: stdout under Lambda (CloudWatch Logs), a file locally, a buffer in
/// tests. `entry_id` is the audit entry's id, which a sink may use to skip a line it already
/// holds.
pub trait Sink: Send + Sync {
    fn export(&self, entry_id: &str, line: &str) -> std::io::Result<()>;
}

pub struct StdoutSink;

impl Sink for StdoutSink {
    fn export(&self, _entry_id: &str, line: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()
    }
}

/// Appends lines to a file: the local server's export (`<data dir>/audit-export.jsonl`).
///
/// Exactly once across crashes: each line goes out in one `write` and is followed by the
/// entry's marker (see [`handle`]), so after a crash at most the file's last line lacks its
/// marker and is offered again; the sink remembers that line's id and skips it. A line cut
/// short by the crash is removed when the file is opened, and exported again whole.
pub struct FileSink {
    file: std::sync::Mutex<std::fs::File>,
    last_id: std::sync::Mutex<Option<String>>,
}

impl FileSink {
    pub fn append(path: &std::path::Path) -> std::io::Result<Self> {
        use std::io::{Read, Seek, SeekFrom};
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let len = file.metadata()?.len();
        // The tail: enough for the last whole line (audit entries are far under 1 MiB).
        let start = len.saturating_sub(1024 * 1024);
        file.seek(SeekFrom::Start(start))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail)?;
        let whole = tail.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        if whole < tail.len() {
            file.set_len(start + whole as u64)?;
        }
        let last_line = tail[..whole.saturating_sub(1)]
            .rsplit(|b| *b == b'\n')
            .next()
            .unwrap_or_default();
        let last_id = serde_json::from_slice::<Value>(last_line)
            .ok()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_string));
        Ok(FileSink {
            file: std::sync::Mutex::new(file),
            last_id: std::sync::Mutex::new(last_id),
        })
    }
}

impl Sink for FileSink {
    fn export(&self, entry_id: &str, line: &str) -> std::io::Result<()> {
        let mut last_id = self.last_id.lock().unwrap_or_else(|e| e.into_inner());
        if last_id.as_deref() == Some(entry_id) {
            return Ok(());
        }
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.write_all(format!("{line}\n").as_bytes())?;
        *last_id = Some(entry_id.to_string());
        Ok(())
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
    fn export(&self, _entry_id: &str, line: &str) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line.to_string());
        Ok(())
    }
}

/// Markers outlive the stream's retention (24 h) by a wide margin.
const MARKER_DAYS: i64 = 7;

/// Says an entry was exported, so a redelivered stream record prints nothing twice.
#[derive(Serialize, Deserialize)]
struct ExportMarker {
    entry_id: String,
    #[serde(skip)]
    expires_at: i64,
}

impl Record for ExportMarker {
    const ENTITY: &'static str = "audit_export";

    fn key(&self) -> Key {
        keys::audit_log_export_marker(&self.entry_id)
    }

    fn expires_at(&self) -> Option<i64> {
        Some(self.expires_at)
    }
}

/// The exported line: the entry under a stable envelope a SIEM can route on.
#[derive(Serialize)]
pub struct SiemLine<'a> {
    pub schema: &'static str,
    #[serde(with = "compliance_domain::time::micros")]
    pub timestamp: DateTime<Utc>,
    pub id: &'a str,
    pub org_id: &'a OrgId,
    pub action: AuditAction,
    pub actor: &'a Actor,
    pub source_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub request_id: &'a str,
    pub metadata: &'a serde_json::Value,
}

impl<'a> SiemLine<'a> {
    pub fn of(entry: &'a AuditEntry) -> Self {
        SiemLine {
            schema: "compliance.audit.v1",
            timestamp: entry.created_at,
            id: &entry.id,
            org_id: &entry.org_id,
            action: entry.action,
            actor: &entry.actor,
            source_ip: entry.source_ip.as_deref(),
            user_agent: entry.user_agent.as_deref(),
            request_id: &entry.request_id,
            metadata: &entry.metadata,
        }
    }
}

async fn export(store: &dyn Store, sink: &dyn Sink, record: EventRecord) -> Result<(), StoreError> {
    let Some(AuditLogItem { entry, .. }) = inserted::<AuditLogItem>(&record)? else {
        return Ok(());
    };
    let line = serde_json::to_string(&SiemLine::of(&entry))
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    let key = keys::audit_log_export_marker(&entry.id);
    if store.get(&key).await?.is_some() {
        return Ok(());
    }
    // Printed before the marker: a crash in between offers the line again on retry (at least
    // once; the file sink keeps it to exactly once), never loses it; the marker keeps
    // ordinary redeliveries from duplicating it.
    sink.export(&entry.id, &line)
        .map_err(|e| StoreError::Backend(format!("export sink: {e}")))?;
    let marker = ExportMarker {
        entry_id: entry.id.clone(),
        expires_at: (chrono::Utc::now() + chrono::Duration::days(MARKER_DAYS)).timestamp(),
    };
    match store.write(vec![marker.put_if(Condition::NotExists)]).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn handle(store: &dyn Store, sink: &dyn Sink, event: Event) -> DynamoDbEventResponse {
    compliance_services::metrics::stream_event(&event);
    each_record(event, |record| export(store, sink, record)).await
}
