//! kill -9 while audits run over records, then a restart: every run that is listed is whole (all
//! its stored findings readable, its `AUDIT_RUN_COMPLETED` entry present), every entry names a
//! listed run, and every acknowledged run is there. A run, its findings chunks and its entry are
//! one transaction, so a crash leaves all or nothing of each.

use std::collections::BTreeSet;

use crate::crash::{write_until_killed, Client};
use crate::server::start;
use serde_json::{json, Value};

/// Records that each break aml-rec-002 (kept one year, five required): `n` findings per run,
/// several compressed chunks.
fn records(run: usize, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| format!("{{\"id\": \"run{run}-{i:06}\", \"retention_years\": 1}}\n"))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn kill_9_mid_run_leaves_whole_runs_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path());
    let admin = server.admin_key.clone();
    let client = Client::new(server.port, &admin);
    let audit = client
        .http
        .post(format!("{}/api/audits", client.base))
        .header("X-API-Key", &admin)
        .json(&json!({"name": "crash", "policy_type": "aml"}))
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap()["audit_id"]
        .as_str()
        .unwrap()
        .to_string();
    let runs = format!("/api/audits/{audit}/runs");
    let admin_key = admin.clone();

    let url = format!("{}{runs}", client.base);
    let acknowledged = write_until_killed(&mut server, 4, 12, move |http, n| {
        http.post(&url)
            .header("X-API-Key", &admin_key)
            .header("Content-Type", "application/x-ndjson")
            .body(records(n, 3_000))
    });

    let server = start(dir.path());
    let client = Client::new(server.port, &admin);
    let listed = client.all(&runs, "runs");
    assert!(
        listed.len() >= acknowledged,
        "every acknowledged run is stored"
    );
    let ids: BTreeSet<String> = listed
        .iter()
        .map(|r| r["run_id"].as_str().unwrap().to_string())
        .collect();
    for run in &listed {
        let id = run["run_id"].as_str().unwrap();
        assert_eq!(run["findings_total"], 3_000);
        let findings = client.all(&format!("{runs}/{id}/findings"), "findings");
        assert_eq!(
            json!(findings.len()),
            run["findings_stored"],
            "run {id} is whole"
        );
    }
    let logged: BTreeSet<String> = client
        .all("/api/audit-logs?action=AUDIT_RUN_COMPLETED", "entries")
        .iter()
        .map(|e| e["metadata"]["run_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        logged, ids,
        "one entry per run, and no entry without its run"
    );
    drop(server);
}
