//! kill -9 while scans are ingested, then a restart on the same data: every stored scan gets its
//! trend point and every audit entry its export line, exactly once. The stream functions are
//! fed from the embedded store's change feed, written in the same transaction as each change,
//! so what the crash cut off between a commit and its delivery is delivered after the restart.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::start;
use serde_json::{json, Value};

pub(crate) struct Client {
    pub(crate) http: reqwest::blocking::Client,
    pub(crate) base: String,
    key: String,
}

impl Client {
    pub(crate) fn new(port: u16, key: &str) -> Self {
        Client {
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: format!("http://127.0.0.1:{port}"),
            key: key.to_string(),
        }
    }

    pub(crate) fn get(&self, path: &str) -> Value {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .header("X-API-Key", &self.key)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        resp.json().unwrap()
    }

    /// Every item of a paged listing.
    pub(crate) fn all(&self, path: &str, field: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let page = match &cursor {
                None => self.get(&format!("{path}{sep}limit=100")),
                Some(c) => self.get(&format!("{path}{sep}limit=100&cursor={c}")),
            };
            items.extend(page[field].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return items,
            }
        }
    }
}

/// A distinct small native report (distinct bytes: no deduplication).
fn report(n: usize) -> Vec<u8> {
    let finished = chrono::Utc::now() - chrono::Duration::minutes(1);
    serde_json::to_vec(&json!({
        "tool": format!("crash-test-{n}"),
        "started_at": (finished - chrono::Duration::minutes(1)).to_rfc3339(),
        "finished_at": finished.to_rfc3339(),
        "covered": ["secrets"],
        "findings": [],
    }))
    .unwrap()
}

/// Polls until `done` holds, for at most `within`.
pub(crate) fn eventually(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `writers` threads send the `n`th request of `request` (each must answer 201) until
/// `enough` are acknowledged; then the server is killed with SIGKILL under them. Returns how
/// many were acknowledged.
pub(crate) fn write_until_killed(
    server: &mut crate::server::Server,
    writers: usize,
    enough: usize,
    request: impl Fn(&reqwest::blocking::Client, usize) -> reqwest::blocking::RequestBuilder
        + Send
        + Sync
        + 'static,
) -> usize {
    let stored = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let request = Arc::new(request);
    let threads: Vec<_> = (0..writers)
        .map(|_| {
            let (stored, next, stop) = (stored.clone(), next.clone(), stop.clone());
            let request = request.clone();
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    match request(&http, n).send() {
                        Ok(r) if r.status() == 201 => {
                            stored.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(r) => panic!("request {n}: {}", r.status()),
                        // The server is gone.
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    assert!(
        eventually(Duration::from_secs(120), || stored.load(Ordering::Relaxed)
            >= enough),
        "the writers could not store {enough}"
    );
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    stored.load(Ordering::Relaxed)
}

#[test]
fn kill_9_mid_ingest_loses_no_trend_point_and_no_export_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path());
    let admin = server.admin_key.clone();
    let client = Client::new(server.port, &admin);
    let repo = client
        .http
        .post(format!("{}/api/repos", client.base))
        .header("X-API-Key", &admin)
        .json(&json!({"name": "crash-test"}))
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap()["repo_id"]
        .as_u64()
        .unwrap();

    // Eight writers ingest until the server dies under them.
    let url = format!("{}/api/repos/{repo}/scans", client.base);
    let key = admin.clone();
    let acknowledged = write_until_killed(&mut server, 8, 120, move |http, n| {
        http.post(&url)
            .header("X-API-Key", &key)
            .header("Content-Type", "application/json")
            .body(report(n))
    });

    let server = start(dir.path());
    let client = Client::new(server.port, &admin);
    let scans: BTreeSet<String> = client
        .all(&format!("/api/repos/{repo}/scans"), "scans")
        .iter()
        .map(|s| s["scan_id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        scans.len() >= acknowledged,
        "every acknowledged scan is stored"
    );

    // Every stored scan gets its trend point, once.
    let trend = format!("/api/compliance/trend/{repo}?days=1");
    let mut points: Vec<String> = Vec::new();
    let all_scored = eventually(Duration::from_secs(120), || {
        points = client.get(&trend)["points"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["scan_id"].as_str().map(str::to_string))
            .collect();
        points.len() >= scans.len()
    });
    let distinct: BTreeSet<String> = points.iter().cloned().collect();
    assert!(
        all_scored,
        "{} of {} stored scans have no trend point after the restart",
        scans.len() - distinct.len(),
        scans.len()
    );
    assert_eq!(distinct, scans, "one point per stored scan");
    assert_eq!(points.len(), scans.len(), "no scan scored twice");

    // Every audit entry gets its export line, once.
    let entries: BTreeSet<String> = client
        .all("/api/audit-logs", "entries")
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    let export = dir.path().join("audit-export.jsonl");
    let mut lines: HashMap<String, usize> = HashMap::new();
    let all_exported = eventually(Duration::from_secs(120), || {
        lines.clear();
        for line in std::fs::read_to_string(&export).unwrap().lines() {
            let entry: Value = serde_json::from_str(line).expect("whole JSON lines only");
            *lines
                .entry(entry["id"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        entries.iter().all(|id| lines.contains_key(id))
    });
    assert!(
        all_exported,
        "{} of {} audit entries were never exported",
        entries.iter().filter(|id| !lines.contains_key(*id)).count(),
        entries.len()
    );
    let twice: Vec<_> = lines.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "exported more than once: {twice:?}");
    assert_eq!(lines.len(), entries.len(), "no line without its entry");
}
