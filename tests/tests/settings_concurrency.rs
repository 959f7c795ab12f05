//! Concurrent writers to one org's selection, on both adapters: no update is lost, and every
//! applied change has exactly one audit entry.

use e2e_tests::{spawn_app_on, Backend};
use reqwest::StatusCode;
use serde_json::json;

async fn concurrent_writers(backend: Backend) {
    let app = std::sync::Arc::new(spawn_app_on(backend).await);
    // Each writer changes a different framework's selection: with a lost update, some of
    // them would be missing at the end.
    let writes = [
        ("soc2", "CC8.1"),
        ("owasp", "A01:2021"),
        ("iso27001", "A.8.24"),
        ("pcidss", "6.2.4"),
        ("hipaa", "164.312(b)"),
        ("nist_csf", "ID.RA-01"),
    ];
    let mut tasks = Vec::new();
    for (fw, control) in writes {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            app.put(
                &format!("/api/compliance/frameworks/{fw}/controls"),
                json!({"disabled": [control]}),
            )
            .await
            .status
        }));
    }
    let app2 = app.clone();
    tasks.push(tokio::spawn(async move {
        app2.put(
            "/api/compliance/frameworks/enabled",
            json!({"keys": ["soc2", "owasp", "hipaa"]}),
        )
        .await
        .status
    }));
    let statuses: Vec<StatusCode> = futures_join(tasks).await;
    let applied = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert_eq!(applied, 7, "retries absorb the contention: {statuses:?}");

    for (fw, control) in writes {
        let body = app
            .get(&format!("/api/compliance/frameworks/{fw}/controls"))
            .await
            .body;
        let disabled: Vec<_> = body["controls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["disabled"] == true)
            .map(|c| c["id"].clone())
            .collect();
        assert_eq!(disabled, vec![json!(control)], "{fw} kept its change");
    }
    assert_eq!(
        app.get("/api/compliance/frameworks").await.body["enabled_keys"],
        json!(["soc2", "owasp", "hipaa"])
    );
    let logs = app.get("/api/audit-logs?limit=100").await.body;
    let entries = logs["entries"].as_array().unwrap();
    let count = |action: &str| entries.iter().filter(|e| e["action"] == action).count();
    assert_eq!(count("COMPLIANCE_CONTROLS_UPDATED"), 6);
    assert_eq!(count("COMPLIANCE_FRAMEWORKS_UPDATED"), 1);
}

async fn futures_join(tasks: Vec<tokio::task::JoinHandle<StatusCode>>) -> Vec<StatusCode> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_store() {
    concurrent_writers(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_local() {
    concurrent_writers(Backend::Dynamo).await;
}
