//! Repositories and scan ingestion over HTTP: real SARIF samples, gzip, idempotency, invalid
//! reports (400, nothing stored), size caps, roles and org isolation.

use chrono::Timelike;
use compliance_domain::plans::{Plan, Role};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{spawn_app, TestApp};

async fn new_repo(app: &TestApp, name: &str) -> u64 {
    let resp = app
        .post("/api/repos", json!({"name": name, "languages": ["Python"]}))
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["repo_id"].as_u64().unwrap()
}

async fn upload(
    app: &TestApp,
    repo: u64,
    body: Vec<u8>,
    content_type: &str,
    extra: &[(&str, &str)],
) -> test_support::Response {
    let mut req = app
        .request(Method::POST, &format!("/api/repos/{repo}/scans"))
        .header("X-API-Key", &app.admin_key)
        .header("Content-Type", content_type)
        .body(body);
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    app.send(req).await
}

async fn scan_count(app: &TestApp, repo: u64) -> usize {
    app.get(&format!("/api/repos/{repo}/scans")).await.body["scans"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn repositories() {
    let app = spawn_app().await;
    let first = app.post("/api/repos", json!({"name": "checkout-service", "default_branch": "main", "languages": ["python", "go"]})).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.body["repo_id"], 1);
    assert_eq!(first.body["name"], "checkout-service");
    let second = app
        .post("/api/repos", json!({"name": "acme/payments.v2"}))
        .await;
    assert_eq!(
        second.body["repo_id"], 2,
        "integer ids from the org's counter"
    );
    let dup = app
        .post("/api/repos", json!({"name": "Checkout-Service"}))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    for bad in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "a#b"}),
        json!({"name": "x", "languages": ["c c"]}),
        json!({"name": "x", "owner": 1}),
    ] {
        assert_eq!(
            app.post("/api/repos", bad.clone()).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    // The message says what is accepted: ASCII, as hosts spell repository paths.
    let unicode = app
        .post("/api/repos", json!({"name": "café-service"}))
        .await;
    assert_eq!(unicode.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        unicode.body["errors"][0]["message"],
        "1 to 200 characters: ASCII letters, digits and . _ / - (as hosts spell repository paths)"
    );
    let list = app.get("/api/repos").await.body;
    assert_eq!(list["repos"].as_array().unwrap().len(), 2);
    assert_eq!(app.get("/api/repos/1").await.body["default_branch"], "main");
    for missing in [
        "/api/repos/3",
        "/api/repos/abc",
        "/api/repos/0",
        "/api/repos/-1",
    ] {
        assert_eq!(
            app.get(missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
    let created = app.get("/api/audit-logs?action=REPO_CREATED").await.body["entries"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(created, 2);
    // Another org: its own counter, none of ours.
    let (_, other) = app.new_org(Plan::Free).await;
    assert_eq!(
        app.call(Method::GET, "/api/repos/1", Some(&other), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let theirs = app
        .call(
            Method::POST,
            "/api/repos",
            Some(&other),
            Some(json!({"name": "checkout-service"})),
        )
        .await;
    assert_eq!(theirs.body["repo_id"], 1);
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    let resp = app
        .call(
            Method::POST,
            "/api/repos",
            Some(&viewer),
            Some(json!({"name": "v"})),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn real_sarif_is_ingested_and_deduplicated() {
    let app = spawn_app().await;
    let repo = new_repo(&app, "svc").await;
    let report = test_support::sarif_sample("gitleaks/gitleaks-8_provenancepass_3results.sarif");
    let resp = upload(&app, repo, report.clone(), "application/sarif+json", &[]).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let scan_id = resp.body["scan_id"].as_str().unwrap().to_string();
    assert_eq!(resp.body["duplicate"], false);
    assert_eq!(resp.body["summary"]["totals"]["findings"], 3);
    assert!(resp.body["summary"]["covered"]
        .as_array()
        .unwrap()
        .contains(&json!("secrets")));

    // The same bytes again, and gzip-compressed: the first scan, not a second one.
    let again = upload(&app, repo, report.clone(), "application/sarif+json", &[]).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        (
            again.body["scan_id"].as_str(),
            again.body["duplicate"].clone()
        ),
        (Some(scan_id.as_str()), json!(true))
    );
    let zipped = upload(
        &app,
        repo,
        test_support::gzip(&report),
        "application/json",
        &[("Content-Encoding", "gzip")],
    )
    .await;
    assert_eq!(zipped.body["scan_id"], scan_id.as_str());
    assert_eq!(scan_count(&app, repo).await, 1);

    // Another report with an Idempotency-Key, retried: one scan.
    let other = test_support::sarif_sample("semgrep/semgrep_dataflow_traces.sarif");
    let a = upload(
        &app,
        repo,
        other.clone(),
        "application/sarif+json",
        &[("Idempotency-Key", "ci-run-42")],
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let retried = upload(
        &app,
        repo,
        other.clone(),
        "application/sarif+json",
        &[("Idempotency-Key", "ci-run-42")],
    )
    .await;
    assert_eq!(
        (retried.status, retried.body["scan_id"].clone()),
        (StatusCode::OK, a.body["scan_id"].clone())
    );
    assert_eq!(retried.body["duplicate"], true);
    // The same key with another report is refused, never silently dropped.
    let mut changed = other.clone();
    changed.extend_from_slice(b"\n");
    let b = upload(
        &app,
        repo,
        changed,
        "application/sarif+json",
        &[("Idempotency-Key", "ci-run-42")],
    )
    .await;
    assert_eq!(b.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", b.body);
    let detail = b.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("Idempotency-Key was already used with a different report")
            && detail.contains(a.body["scan_id"].as_str().unwrap()),
        "{detail}"
    );
    assert_eq!(scan_count(&app, repo).await, 2);

    let listed = app.get(&format!("/api/repos/{repo}/scans")).await.body;
    assert_eq!(
        listed["scans"][0]["scan_id"], a.body["scan_id"],
        "newest first"
    );
    let one = app.get(&format!("/api/repos/{repo}/scans/{scan_id}")).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["summary"]["totals"]["findings"], 3);
    assert_eq!(
        app.get(&format!("/api/repos/{repo}/scans/0000000000000ffffffff"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/api/repos/{repo}/scans/not-an-id"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let ingested = app.get("/api/audit-logs?action=SCAN_INGESTED").await.body["entries"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(ingested, 2, "one audit entry per stored scan");
}

#[tokio::test]
async fn native_document() {
    let app = spawn_app().await;
    let repo = new_repo(&app, "svc").await;
    // Two days ago, whole seconds: a time in the past whatever the day the test runs.
    let finished = chrono::Utc::now().with_nanosecond(0).unwrap() - chrono::Duration::days(2);
    let started = finished - chrono::Duration::minutes(5);
    let doc = json!({
        "tool": "acme-scanner", "started_at": started.to_rfc3339(), "finished_at": finished.to_rfc3339(),
        "covered": ["secrets", "sca_vulns"],
        "findings": [{"check_type": "sca_vulns", "severity": "critical", "rule_id": "CVE-2021-44228", "message": "log4j"}],
        "signals": {"quality_gate": "passed", "pull_requests": {"merged": 10, "reviewed": 9}, "languages": ["java"]}
    });
    let resp = upload(
        &app,
        repo,
        serde_json::to_vec(&doc).unwrap(),
        "application/json",
        &[],
    )
    .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    assert_eq!(resp.body["format"], "native");
    assert_eq!(
        resp.body["scanned_at"],
        compliance_domain::time::rfc3339(finished)
    );
    let bad = json!({"tool": "x", "started_at": started.to_rfc3339(), "finished_at": finished.to_rfc3339(),
                     "findings": [{"check_type": "sca_vulns", "severity": "apocalyptic", "rule_id": "r"}]});
    let resp = upload(
        &app,
        repo,
        serde_json::to_vec(&bad).unwrap(),
        "application/json",
        &[],
    )
    .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert!(
        resp.body["detail"]
            .as_str()
            .unwrap()
            .contains("findings[0].severity"),
        "{:?}",
        resp.body
    );
}

#[tokio::test]
async fn invalid_reports_are_400_and_store_nothing() {
    let app = spawn_app().await;
    let repo = new_repo(&app, "svc").await;
    let dir = format!(
        "{}/../../shared/sarif-samples/invalid",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 9);
    for file in files {
        let resp = upload(
            &app,
            repo,
            std::fs::read(&file).unwrap(),
            "application/sarif+json",
            &[],
        )
        .await;
        assert_eq!(
            resp.status,
            StatusCode::BAD_REQUEST,
            "{}: {:?}",
            file.display(),
            resp.body
        );
        assert!(!resp.body["detail"].as_str().unwrap().is_empty());
    }
    assert_eq!(scan_count(&app, repo).await, 0);
    let not_gzip = upload(
        &app,
        repo,
        b"plain".to_vec(),
        "application/json",
        &[("Content-Encoding", "gzip")],
    )
    .await;
    assert_eq!(not_gzip.status, StatusCode::BAD_REQUEST);
    let wrong_type = upload(&app, repo, b"{}".to_vec(), "text/plain", &[]).await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let bad_key = upload(
        &app,
        repo,
        test_support::sarif_sample("gitleaks/gitleaks-8_sarif_simple.sarif"),
        "application/json",
        &[("Idempotency-Key", "has space")],
    )
    .await;
    assert_eq!(bad_key.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn zip_bombs_and_oversized_bodies_are_refused() {
    let app = spawn_app().await;
    let repo = new_repo(&app, "svc").await;
    // 80 MiB of spaces compresses to well under 1 MiB.
    let bomb = test_support::gzip(&vec![b' '; 80 * 1024 * 1024]);
    assert!(bomb.len() < 1024 * 1024);
    let resp = upload(
        &app,
        repo,
        bomb,
        "application/json",
        &[("Content-Encoding", "gzip")],
    )
    .await;
    assert_eq!(
        resp.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{:?}",
        resp.body
    );
    let big = vec![b' '; scans_cap() + 1];
    let resp = upload(&app, repo, big, "application/json", &[]).await;
    assert_eq!(resp.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(scan_count(&app, repo).await, 0);
}

fn scans_cap() -> usize {
    compliance_http::upload::MAX_DIRECT_BODY_BYTES
}

#[tokio::test]
async fn roles_and_tenancy_of_scans() {
    let app = spawn_app().await;
    let repo = new_repo(&app, "svc").await;
    let report = test_support::sarif_sample("gitleaks/gitleaks-8_sarif_simple.sarif");
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    let resp = app
        .send(
            app.request(Method::POST, &format!("/api/repos/{repo}/scans"))
                .header("X-API-Key", &viewer)
                .header("Content-Type", "application/json")
                .body(report.clone()),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let member = app.key_for(&app.org_id, Role::Member).await;
    let resp = app
        .send(
            app.request(Method::POST, &format!("/api/repos/{repo}/scans"))
                .header("X-API-Key", &member)
                .header("Content-Type", "application/json")
                .body(report.clone()),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "CI keys are members");
    let (_, other) = app.new_org(Plan::Enterprise).await;
    let resp = app
        .send(
            app.request(Method::POST, &format!("/api/repos/{repo}/scans"))
                .header("X-API-Key", &other)
                .header("Content-Type", "application/json")
                .body(report),
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    let resp = app
        .call(
            Method::GET,
            &format!("/api/repos/{repo}/scans"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    let _: Value = resp.body;
}

#[tokio::test]
async fn sarif_with_signals_beside_it() {
    let app = spawn_app().await;
    let repo = new_repo(&app, "svc").await;
    let signals = r#"{"quality_gate": "failed", "languages": ["go"]}"#;
    let resp = upload(
        &app,
        repo,
        test_support::sarif_sample("gitleaks/gitleaks-8_sarif_simple.sarif"),
        "application/sarif+json",
        &[("X-Scan-Signals", signals)],
    )
    .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    assert_eq!(resp.body["summary"]["signals"]["quality_gate"], "failed");
    let bad = upload(
        &app,
        repo,
        test_support::sarif_sample("gitleaks/gitleaks-8_provenancepass_3results.sarif"),
        "application/sarif+json",
        &[("X-Scan-Signals", r#"{"gate": 1}"#)],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body["detail"]
            .as_str()
            .unwrap()
            .contains("X-Scan-Signals"),
        "{:?}",
        bad.body
    );
}
