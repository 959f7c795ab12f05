//! The audit export fed with DynamoDB stream event JSON (`events/audit-log-export/`): one JSON line
//! per audit entry, nothing else, nothing twice; a malformed entry is reported by sequence number.

use audit_log_export::{handle, MemorySink};
use aws_lambda_events::event::dynamodb::Event;
use serde_json::Value;
use test_support::embedded_store;

fn event(name: &str) -> Event {
    let path = format!(
        "{}/../events/audit-log-export/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("ORG_ID_PLACEHOLDER", "org-1");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn each_audit_entry_is_exported_once() {
    let (store, _dir) = embedded_store();
    let sink = MemorySink::default();
    let response = handle(store.as_ref(), &sink, event("audit-entries.json")).await;
    assert!(response.batch_item_failures.is_empty());
    let lines = sink.lines();
    assert_eq!(
        lines.len(),
        2,
        "two audit entries; the scan record is not exported"
    );
    let first: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["schema"], "compliance.audit.v1");
    assert_eq!(first["action"], "SCAN_INGESTED");
    assert_eq!(first["org_id"], "org-1");
    assert_eq!(first["source_ip"], "203.0.113.24");
    assert_eq!(first["timestamp"], "2026-11-22T09:15:02.311204Z");
    let second: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(second["actor"]["email"], "dana@acme.example");
    assert_eq!(second["metadata"]["after"]["enabled_keys"][1], "owasp");

    // Redelivered: nothing printed twice.
    let again = handle(store.as_ref(), &sink, event("audit-entries.json")).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(sink.lines().len(), 2);
}

#[tokio::test]
async fn a_malformed_entry_is_reported_and_stops_the_batch() {
    let (store, _dir) = embedded_store();
    let sink = MemorySink::default();
    let response = handle(store.as_ref(), &sink, event("malformed-entry.json")).await;
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .filter_map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec!["4421584500000000017450439096".to_string()]);
    assert_eq!(
        sink.lines().len(),
        1,
        "the entry before it was exported; the one after waits for the retry"
    );
}

/// The local export file after a crash: a line cut short is removed, and the last whole line,
/// offered again because its marker was never written, is not written twice.
#[test]
fn the_file_sink_repairs_its_tail_and_skips_the_line_it_already_holds() {
    use audit_log_export::{FileSink, Sink};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit-export.jsonl");
    std::fs::write(
        &path,
        "{\"id\":\"a\",\"action\":\"X\"}\n{\"id\":\"b\",\"action\":\"Y\"}\n{\"id\":\"c\",\"act",
    )
    .unwrap();
    let sink = FileSink::append(&path).unwrap();
    sink.export("b", "{\"id\":\"b\",\"action\":\"Y\"}").unwrap();
    sink.export("c", "{\"id\":\"c\",\"action\":\"Z\"}").unwrap();
    sink.export("d", "{\"id\":\"d\",\"action\":\"Z\"}").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let ids: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["a", "b", "c", "d"]);
}
