//! Metrics in CloudWatch's Embedded Metric Format: requests (by operation, with their 4xx and
//! 5xx), scans ingested, audit runs, stream batches and snapshots each write their lines, and
//! every line the run writes is checked against the format's specification: the `_aws` block,
//! the directives, dimension sets whose names are members with text values, metric definitions
//! whose names are members with numbers, the units CloudWatch knows, and the limits.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Map, Value};
use test_support::{eventually, hs256_token, spawn_app};

/// The units CloudWatch accepts.
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// The problems of one line against the Embedded Metric Format specification (none: valid).
fn problems(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    if line.len() > 1024 * 1024 {
        out.push("over 1 MB".into());
    }
    let Ok(Value::Object(root)) = serde_json::from_str::<Value>(line) else {
        return vec!["not a JSON object".into()];
    };
    let Some(Value::Object(aws)) = root.get("_aws") else {
        return vec!["no _aws object".into()];
    };
    let timestamp = aws.get("Timestamp").and_then(Value::as_i64);
    if timestamp.is_none_or(|t| t <= 0) {
        out.push("_aws.Timestamp is not a positive integer of milliseconds".into());
    }
    let Some(directives) = aws.get("CloudWatchMetrics").and_then(Value::as_array) else {
        out.push("_aws.CloudWatchMetrics is not an array".into());
        return out;
    };
    if directives.is_empty() {
        out.push("no metric directive".into());
    }
    for d in directives {
        directive(&root, d, &mut out);
    }
    out
}

fn directive(root: &Map<String, Value>, d: &Value, out: &mut Vec<String>) {
    let namespace = d["Namespace"].as_str().unwrap_or_default();
    if namespace.is_empty() || namespace.len() > 255 {
        out.push(format!("namespace {namespace:?}"));
    }
    match d["Dimensions"].as_array() {
        None => out.push("Dimensions is not an array".into()),
        Some(sets) => {
            for set in sets {
                let Some(names) = set.as_array() else {
                    out.push("a dimension set is not an array".into());
                    continue;
                };
                if names.len() > 30 {
                    out.push("a dimension set of more than 30 dimensions".into());
                }
                for name in names {
                    let value = name.as_str().and_then(|n| root.get(n));
                    match value.and_then(Value::as_str) {
                        Some(v) if !v.is_empty() && v.len() <= 1024 => {}
                        _ => out.push(format!(
                            "dimension {name} is not a member with a text value"
                        )),
                    }
                }
            }
        }
    }
    let Some(metrics) = d["Metrics"].as_array() else {
        out.push("Metrics is not an array".into());
        return;
    };
    if metrics.is_empty() || metrics.len() > 100 {
        out.push(format!("{} metric definitions (1 to 100)", metrics.len()));
    }
    let mut seen = HashSet::new();
    for m in metrics {
        let name = m["Name"].as_str().unwrap_or_default();
        if name.is_empty() || name.len() > 255 || !seen.insert(name.to_string()) {
            out.push(format!("metric name {name:?} empty, too long or repeated"));
        }
        if let Some(unit) = m.get("Unit") {
            if !unit.as_str().is_some_and(|u| UNITS.contains(&u)) {
                out.push(format!("{name}: unit {unit}"));
            }
        }
        if let Some(resolution) = m.get("StorageResolution") {
            if ![json!(1), json!(60)].contains(resolution) {
                out.push(format!("{name}: storage resolution {resolution}"));
            }
        }
        match root.get(name) {
            Some(Value::Number(_)) => {}
            Some(Value::Array(values))
                if values.len() <= 100 && values.iter().all(Value::is_number) => {}
            _ => out.push(format!("{name} is not a member with a number")),
        }
    }
}

/// The metric names of the captured lines.
fn names(lines: &[String]) -> HashSet<String> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .flat_map(|v| {
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|m| m["Name"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn every_emf_line_follows_the_specification() {
    compliance_services::metrics::capture();
    let app = spawn_app().await;
    let resp = app.post("/api/repos", json!({"name": "metered"})).await;
    assert_eq!(resp.status, StatusCode::CREATED);
    let repo = resp.body["repo_id"].as_u64().unwrap();
    let finished = chrono::Utc::now() - chrono::Duration::minutes(5);
    let report = serde_json::to_vec(&json!({
        "tool": "ci-bundle", "started_at": finished.to_rfc3339(), "finished_at": finished.to_rfc3339(),
        "covered": ["secrets"], "findings": [{"check_type": "secrets", "severity": "critical", "rule_id": "k", "message": "key"}]
    }))
    .unwrap();
    let path = format!("/api/repos/{repo}/scans");
    let resp = app.post_bytes(&path, "application/json", report).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    assert_eq!(
        app.get("/api/repos/999999").await.status,
        StatusCode::NOT_FOUND
    );
    let officer = hs256_token(&app.org_id, "admin", json!({"sub": "metered"}));
    let (audit, _) = crate::audit_runs::create_audit(&app, &officer, "aml").await;
    let records = crate::audit_runs::ndjson(&crate::audit_runs::aml_records());
    let runs = format!("/api/audits/{audit}/runs");
    let run = crate::audit_runs::run_ndjson(&app, &officer, &runs, records).await;
    assert_eq!(run.status, StatusCode::CREATED);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    trend_snapshot::run(
        app.state.store.clone(),
        chrono::Utc::now(),
        deadline,
        trend_snapshot::Limits::default(),
    )
    .await
    .unwrap();

    let wanted = [
        "Requests",
        "Latency",
        "Status4xx",
        "Status5xx",
        "ScanBytes",
        "FindingsIngested",
        "AuditRunRecords",
        "AuditRunDuration",
        "StreamBatchSize",
        "StreamRecordAgeMs",
        "SnapshotReposPerSecond",
    ];
    let all = eventually(Duration::from_secs(20), || async {
        let lines = compliance_services::metrics::captured();
        let got = names(&lines);
        wanted.iter().all(|w| got.contains(*w)).then_some(lines)
    })
    .await
    .unwrap_or_else(|| {
        let got = names(&compliance_services::metrics::captured());
        panic!(
            "missing metrics: {:?}",
            wanted
                .iter()
                .filter(|w| !got.contains(**w))
                .collect::<Vec<_>>()
        )
    });
    for line in &all {
        let found = problems(line);
        assert!(found.is_empty(), "{found:?}: {line}");
    }
    // Requests by operation: the route, not the path's values.
    let operations: HashSet<String> = all
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["Operation"].as_str().map(str::to_string))
        .collect();
    assert!(
        operations.contains("POST /api/repos/{repo_id}/scans"),
        "{operations:?}"
    );
    assert!(
        operations.contains("GET /api/repos/{repo_id}"),
        "{operations:?}"
    );
    // And a broken line is caught.
    assert!(!problems(r#"{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [["Missing"]], "Metrics": [{"Name": "M", "Unit": "Furlongs"}]}]}}"#).is_empty());
}
