//! Compliance Scores over HTTP: real samples in, the reference's shape out; controls flip with
//! findings, disabled controls and the framework selection; recommendations refined by scans;
//! other orgs get 404.

use compliance_domain::plans::Plan;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use test_support::{spawn_app, spawn_app_on, Backend, TestApp};

async fn repo(app: &TestApp, languages: Value) -> u64 {
    let resp = app
        .post(
            "/api/repos",
            json!({"name": "checkout-service", "languages": languages}),
        )
        .await;
    resp.body["repo_id"].as_u64().unwrap()
}

async fn upload(app: &TestApp, repo: u64, body: Vec<u8>) -> Value {
    let resp = app
        .post_bytes(
            &format!("/api/repos/{repo}/scans"),
            "application/json",
            body,
        )
        .await;
    assert!(resp.status.is_success(), "{:?}", resp.body);
    resp.body
}

/// A native scan that finished `ago` before now (a time in the past whatever the day).
fn native_at(findings: Value, covered: Value, ago: chrono::Duration) -> Vec<u8> {
    let finished = chrono::Utc::now() - ago;
    let started = finished - chrono::Duration::minutes(5);
    serde_json::to_vec(&json!({
        "tool": "ci-bundle", "started_at": started.to_rfc3339(), "finished_at": finished.to_rfc3339(),
        "covered": covered, "findings": findings,
        "signals": {"quality_gate": "passed", "pull_requests": {"merged": 20, "reviewed": 20}, "languages": ["python"]}
    }))
    .unwrap()
}

fn native(findings: Value, covered: Value) -> Vec<u8> {
    native_at(findings, covered, chrono::Duration::minutes(10))
}

/// Every finding-based check type: a scan that covered them all.
fn finding_check_types() -> Value {
    json!([
        "secrets",
        "sast_security",
        "sast_crypto",
        "sast_auth",
        "sca_vulns",
        "iac_issues",
        "code_quality"
    ])
}

fn control<'a>(score: &'a Value, fw: &str, id: &str) -> &'a Value {
    score["frameworks"][fw]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
}

#[tokio::test]
async fn reference_shape_and_explained_controls() {
    let app = spawn_app().await;
    let id = repo(&app, json!(["python"])).await;
    let before = app.get(&format!("/api/compliance/score/{id}")).await;
    assert_eq!(before.status, StatusCode::OK);
    assert_eq!(before.body["last_scan"], Value::Null);
    assert_eq!(
        before.body["executive_summary"]["recommendation"],
        "Run a scan to collect evidence"
    );

    upload(
        &app,
        id,
        test_support::sarif_sample("gitleaks/gitleaks-8_provenancepass_3results.sarif"),
    )
    .await;
    let resp = app.get(&format!("/api/compliance/score/{id}")).await;
    assert_eq!(resp.status, StatusCode::OK);
    let s = &resp.body;
    assert_eq!(s["repo_id"], id);
    assert_eq!(s["repo_name"], "checkout-service");
    assert!(s["evaluated_at"].is_string());
    assert!(
        s["last_scan"].as_str().unwrap().len() == 19,
        "YYYY-MM-DD HH:MM:SS"
    );
    assert_eq!(s["total_issues"], 3);
    let summary = &s["executive_summary"];
    for field in [
        "overall_score",
        "total_controls",
        "passing",
        "partial",
        "failing",
    ] {
        assert!(summary[field].is_u64(), "{field}");
    }
    // The reference's identity (19 + 6 + 5 = 30): controls without evidence count as failing.
    let n = |v: &Value| v.as_u64().unwrap();
    assert_eq!(
        n(&summary["passing"]) + n(&summary["partial"]) + n(&summary["failing"]),
        n(&summary["total_controls"])
    );
    assert!(n(&summary["no_evidence"]) <= n(&summary["failing"]));
    for f in s["frameworks"].as_object().unwrap().values() {
        assert_eq!(
            n(&f["pass"]) + n(&f["partial"]) + n(&f["fail"]),
            n(&f["total"])
        );
    }
    assert!(
        ["Strong", "Moderate", "Weak", "Critical"].contains(&summary["posture"].as_str().unwrap())
    );
    assert!(summary["risk_areas"].is_array());
    assert!(summary["recommendation"].is_string());
    let soc2 = &s["frameworks"]["soc2"];
    assert_eq!(soc2["name"], "SOC 2 Type II");
    for field in ["score", "pass", "partial", "fail", "total"] {
        assert!(soc2[field].is_u64(), "{field}");
    }
    // Three medium secrets: CC6.1 (no_findings) fails, and says why.
    let cc61 = control(s, "soc2", "CC6.1");
    assert_eq!(cc61["status"], "fail");
    assert!(!cc61["reason"].as_str().unwrap().is_empty());
    assert_eq!(cc61["evidence"]["counts"]["medium"], 3);
    // gitleaks covers only secrets: a SAST control has no evidence, never a silent pass.
    let sast = s["frameworks"]["owasp"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check_type"] == "sast_security")
        .unwrap();
    assert_eq!(sast["status"], "no_evidence");

    // The reference's CI/CD snippet reads an integer.
    assert!(summary["overall_score"].as_u64().unwrap() <= 100);
}

#[tokio::test]
async fn controls_flip_with_findings_selection_and_disabling() {
    let app = spawn_app().await;
    let id = repo(&app, json!(["python"])).await;
    let all = finding_check_types();
    upload(&app, id, native(json!([]), all.clone())).await;
    let clean = app.get(&format!("/api/compliance/score/{id}")).await.body;
    assert_eq!(control(&clean, "soc2", "CC6.1")["status"], "pass");
    let clean_soc2 = clean["frameworks"]["soc2"]["score"].as_u64().unwrap();

    upload(&app, id, native(json!([{"check_type": "secrets", "severity": "critical", "rule_id": "aws-key", "message": "AKIA..."}]), all.clone())).await;
    let leaked = app.get(&format!("/api/compliance/score/{id}")).await.body;
    assert_eq!(control(&leaked, "soc2", "CC6.1")["status"], "fail");
    assert!(leaked["frameworks"]["soc2"]["score"].as_u64().unwrap() < clean_soc2);
    assert_eq!(leaked["total_issues"], 1);

    // Disabled controls leave the counts entirely.
    let total = leaked["frameworks"]["soc2"]["total"].as_u64().unwrap();
    app.put(
        "/api/compliance/frameworks/soc2/controls",
        json!({"disabled": ["CC6.1"]}),
    )
    .await;
    let disabled = app.get(&format!("/api/compliance/score/{id}")).await.body;
    assert_eq!(disabled["frameworks"]["soc2"]["total"], total - 1);
    assert_eq!(
        disabled["frameworks"]["soc2"]["fail"].as_u64().unwrap() + 1,
        leaked["frameworks"]["soc2"]["fail"].as_u64().unwrap()
    );

    // The framework selection decides which frameworks are scored; ?framework= narrows.
    app.put(
        "/api/compliance/frameworks/enabled",
        json!({"keys": ["soc2", "owasp"]}),
    )
    .await;
    let narrowed = app.get(&format!("/api/compliance/score/{id}")).await.body;
    let keys: Vec<&String> = narrowed["frameworks"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["owasp", "soc2"]);
    let one = app
        .get(&format!("/api/compliance/score/{id}?framework=owasp"))
        .await
        .body;
    assert_eq!(one["frameworks"].as_object().unwrap().len(), 1);
    let off = app
        .get(&format!("/api/compliance/score/{id}?framework=hipaa"))
        .await;
    assert_eq!(off.status, StatusCode::BAD_REQUEST);
    let unknown = app
        .get(&format!("/api/compliance/score/{id}?framework=sox"))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn recommendations_refined_by_the_latest_scan() {
    let app = spawn_app().await;
    let id = repo(&app, json!(["python"])).await;
    let baseline = app
        .get("/api/compliance/frameworks/soc2/controls")
        .await
        .body;
    let with_repo = app
        .get(&format!(
            "/api/compliance/frameworks/soc2/controls?repo_id={id}"
        ))
        .await
        .body;
    assert_eq!(
        baseline["controls"], with_repo["controls"],
        "no scan yet: the static baseline"
    );

    let findings = json!([{"check_type": "iac_issues", "severity": "high", "rule_id": "CKV_AWS_1", "file": "main.tf"}]);
    upload(&app, id, native(findings, json!(["iac_issues", "secrets"]))).await;
    let refined = app
        .get(&format!(
            "/api/compliance/frameworks/iso27001/controls?repo_id={id}"
        ))
        .await
        .body;
    let iac: Vec<&Value> = refined["controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check_type"] == "iac_issues")
        .collect();
    assert!(!iac.is_empty());
    for c in iac {
        assert_eq!(c["recommendation"], "required", "{c}");
        assert!(
            c["recommendation_reason"]
                .as_str()
                .unwrap()
                .contains("iac_issues"),
            "{c}"
        );
    }
}

#[tokio::test]
async fn unknown_and_foreign_repositories_are_404() {
    let app = spawn_app().await;
    let id = repo(&app, json!([])).await;
    for path in [
        "/api/compliance/score/999",
        "/api/compliance/score/abc",
        "/api/compliance/score/0",
    ] {
        assert_eq!(app.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let (_, other) = app.new_org(Plan::Enterprise).await;
    let resp = app
        .call(
            Method::GET,
            &format!("/api/compliance/score/{id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert_eq!(resp.body, json!({"detail": "Repository not found"}));
    let resp = app
        .call(
            Method::GET,
            &format!("/api/compliance/frameworks/soc2/controls?repo_id={id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
}

async fn wait_for_points(app: &TestApp, path: &str, n: usize) -> Value {
    // The in-process stream delivers asynchronously, as DynamoDB Streams does.
    test_support::eventually(Duration::from_secs(20), || async {
        let body = app.get(path).await.body;
        (body["points"].as_array().map(Vec::len) == Some(n)).then_some(body)
    })
    .await
    .unwrap_or_else(|| panic!("no {n} trend points at {path}"))
}

#[tokio::test]
async fn each_stored_scan_adds_a_trend_point() {
    let app = spawn_app().await;
    let id = repo(&app, json!(["python"])).await;
    let all = finding_check_types();
    upload(&app, id, native(json!([]), all.clone())).await;
    let path = format!("/api/compliance/trend/{id}?framework=soc2&days=90");
    let first = wait_for_points(&app, &path, 1).await;
    assert_eq!(first["framework"], "soc2");
    assert_eq!(first["days"], 90);
    let clean_score = first["points"][0]["score"].as_u64().unwrap();

    let later = native_at(
        json!([{"check_type": "secrets", "severity": "critical", "rule_id": "k"}]),
        all,
        chrono::Duration::minutes(1),
    );
    upload(&app, id, later).await;
    let second = wait_for_points(&app, &path, 2).await;
    let points = second["points"].as_array().unwrap();
    assert!(
        points[0]["at"].as_str() < points[1]["at"].as_str(),
        "oldest first"
    );
    assert!(points[1]["score"].as_u64().unwrap() < clean_score);
    assert!(points.iter().all(|p| p["source"] == "scan"));
    // Without a framework, the overall score.
    let overall = app.get(&format!("/api/compliance/trend/{id}")).await.body;
    assert_eq!(
        overall["points"][1]["score"],
        overall["points"][1]["overall_score"]
    );

    app.put(
        "/api/compliance/frameworks/enabled",
        json!({"keys": ["owasp"]}),
    )
    .await;
    let disabled = app.get(&path).await;
    assert_eq!(disabled.status, StatusCode::BAD_REQUEST);
    for bad in ["days=0", "days=-1", "days=366", "days=100000", "days=abc"] {
        let resp = app.get(&format!("/api/compliance/trend/{id}?{bad}")).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (_, other) = app.new_org(Plan::Enterprise).await;
    let resp = app
        .call(
            Method::GET,
            &format!("/api/compliance/trend/{id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_local_servers_timer_runs_the_daily_snapshot() {
    let app = spawn_app().await;
    let id = repo(&app, json!([])).await;
    upload(&app, id, native(json!([]), json!(["secrets"]))).await;
    let path = format!("/api/compliance/trend/{id}?days=2");
    wait_for_points(&app, &path, 1).await;
    // The timer the local server starts (COMPLIANCE_SNAPSHOT_INTERVAL_SECONDS), made quick.
    compliance_local::events::spawn_snapshots(
        app.state.store.clone(),
        std::time::Duration::from_millis(50),
        app.state.clock.clone(),
    );
    let body = wait_for_points(&app, &path, 2).await;
    let sources: Vec<&str> = body["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["source"].as_str().unwrap())
        .collect();
    assert!(
        sources.contains(&"snapshot") && sources.contains(&"scan"),
        "{sources:?}"
    );
    // A snapshot is keyed by its day, yet listed at the time it was taken: after today's scan.
    let times: Vec<&str> = body["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["at"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {times:?}"
    );
    // Later ticks of the same day add nothing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.get(&path).await.body["points"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// Every date-sensitive path at a date far from the day the tests run, on an injected clock:
/// the scan's time (and a future one refused), scan age in the score, the trend window and the
/// snapshot's day.
#[tokio::test]
async fn dates_come_from_the_clock() {
    use compliance_domain::time::{Clock, ManualClock};
    let start: chrono::DateTime<chrono::Utc> = "2031-02-28T23:50:00Z".parse().unwrap();
    let clock = std::sync::Arc::new(ManualClock::new(start));
    let app = test_support::spawn_app_at(clock.clone()).await;
    let id = repo(&app, json!([])).await;
    let scan = |finished: chrono::DateTime<chrono::Utc>| {
        serde_json::to_vec(&json!({
            "tool": "ci-bundle",
            "started_at": (finished - chrono::Duration::minutes(5)).to_rfc3339(),
            "finished_at": finished.to_rfc3339(),
            "covered": ["secrets"], "findings": [],
        }))
        .unwrap()
    };
    let first = upload(&app, id, scan(start - chrono::Duration::hours(1))).await;
    assert_eq!(first["scanned_at"], "2031-02-28T22:50:00.000000Z");
    // A report that claims to finish after "now" is stamped with the time it arrived.
    let future = upload(&app, id, scan(start + chrono::Duration::hours(1))).await;
    assert_eq!(future["scanned_at"], "2031-02-28T23:50:00.000000Z");
    wait_for_points(&app, &format!("/api/compliance/trend/{id}?days=1"), 2).await;

    let recency = |score: &Value| control(score, "soc2", "CC2.1")["status"].clone();
    let score = app.get(&format!("/api/compliance/score/{id}")).await.body;
    assert_eq!(score["evaluated_at"], "2031-02-28T23:50:00.000000Z");
    assert_eq!(recency(&score), "pass", "scanned within 30 days");
    clock.advance(chrono::Duration::days(45));
    let score = app.get(&format!("/api/compliance/score/{id}")).await.body;
    assert_eq!(recency(&score), "partial", "45 days: within twice the 30");
    clock.advance(chrono::Duration::days(30));
    let score = app.get(&format!("/api/compliance/score/{id}")).await.body;
    assert_eq!(recency(&score), "fail", "75 days old");

    // 75 days later the scans left a 30-day window, not a 90-day one.
    let trend = |days: u32| format!("/api/compliance/trend/{id}?days={days}");
    assert_eq!(app.get(&trend(30)).await.body["points"], json!([]));
    assert_eq!(
        app.get(&trend(90)).await.body["points"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The snapshot writes the clock's day.
    let far = std::time::Instant::now() + Duration::from_secs(60);
    let limits = trend_snapshot::Limits::default();
    trend_snapshot::run(app.state.store.clone(), clock.now(), far, limits)
        .await
        .unwrap();
    let points = app.get(&trend(1)).await.body["points"].clone();
    assert_eq!(points.as_array().unwrap().len(), 1, "{points}");
    assert_eq!(points[0]["source"], "snapshot");
    assert_eq!(points[0]["at"], "2031-05-14T23:50:00.000000Z");
}

/// A repository with more points in the window than one answer holds: 5,010 scans within the
/// day, written as the trend service writes them (5,010 uploads would only slow the test), read
/// over HTTP. The answer keeps the newest 5,000, oldest first, and says older points were left out.
async fn the_trend_keeps_the_newest_points(backend: Backend) {
    use compliance_domain::ids::{RepoId, ScanId};
    use compliance_domain::scoring::Posture;
    use compliance_services::trends::{self, Source, TrendPoint, MAX_POINTS};

    const POINTS: usize = MAX_POINTS + 10;
    let app = spawn_app_on(backend).await;
    let id = repo(&app, json!([])).await;
    let org = test_support::org(&app.org_id);
    let repo_id = RepoId::new(id).unwrap();
    let newest = chrono::Utc::now() - chrono::Duration::minutes(1);
    let point = |i: usize| {
        let at = newest - chrono::Duration::seconds((POINTS - 1 - i) as i64);
        TrendPoint {
            at,
            source: Source::Scan,
            scan_id: Some(
                ScanId::parse(&format!("{:013x}{i:08x}", at.timestamp_micros())).unwrap(),
            ),
            overall_score: (i % 101) as u32,
            posture: Posture::Critical,
            frameworks: Default::default(),
            excepted_findings: None,
        }
    };
    // In transactions of the most items one may hold: a few dozen writes, not thousands.
    let points: Vec<TrendPoint> = (0..POINTS).map(point).collect();
    for chunk in points.chunks(compliance_store::MAX_TRANSACTION_OPS) {
        let ops = chunk
            .iter()
            .map(|p| trends::put_new(&org, repo_id, p, None))
            .collect();
        app.store().write(ops).await.unwrap();
    }

    let body = app
        .get(&format!("/api/compliance/trend/{id}?days=1"))
        .await
        .body;
    let points = body["points"].as_array().unwrap();
    assert_eq!(points.len(), MAX_POINTS);
    let scan_ids: Vec<&str> = points
        .iter()
        .map(|p| p["scan_id"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (POINTS - MAX_POINTS..POINTS)
        .map(|i| point(i).scan_id.unwrap().to_string())
        .collect();
    assert_eq!(
        scan_ids.last(),
        expected.last().map(String::as_str).as_ref(),
        "the newest scan is in the trend"
    );
    assert_eq!(scan_ids, expected, "the newest points, oldest first");
    assert_eq!(body["truncated"], true, "older points were left out");

    // A window that holds every point says nothing was left out.
    let other = app
        .post(
            "/api/repos",
            json!({"name": "quiet-service", "languages": []}),
        )
        .await
        .body["repo_id"]
        .as_u64()
        .unwrap();
    let few = app
        .get(&format!("/api/compliance/trend/{other}?days=1"))
        .await
        .body;
    assert_eq!(few["truncated"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trend_keeps_the_newest_points_on_the_embedded_store() {
    the_trend_keeps_the_newest_points(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trend_keeps_the_newest_points_on_dynamodb_local() {
    the_trend_keeps_the_newest_points(Backend::Dynamo).await;
}
