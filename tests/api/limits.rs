//! The documented maxima, on both adapters: 50 custom frameworks of 200 controls, each body near
//! its 256 KiB limit with every field at its longest, every control of every framework marked
//! Not Applicable, scores computed before and after. Every item stays under DynamoDB's 400 KB,
//! every answer is a 2xx (never a 500) within Lambda's 6 MB response limit, and a request past
//! a limit is a 4xx naming it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{spawn_app_on, Backend, TestApp};

/// Lambda's (and API Gateway's) response payload limit.
const LAMBDA_RESPONSE_LIMIT: usize = 6 * 1024 * 1024;
const BODY_LIMIT: usize = 256 * 1024;
const FRAMEWORKS: usize = 50;
const CONTROLS: usize = 200;

fn text(len: usize, seed: usize) -> String {
    // Non-ASCII letters too: limits count characters, DynamoDB counts bytes.
    let alphabet: Vec<char> = "abcdéfghijklmnöpqrstuvwxyz ".chars().collect();
    (0..len)
        .map(|i| alphabet[(i * 7 + seed) % alphabet.len()])
        .collect()
}

/// A framework at the limits: 200 controls with 40-character ids and the longest names and
/// categories, descriptions as long as the 256 KiB body allows.
fn big_framework(n: usize) -> Value {
    let check_types = [
        "secrets",
        "sast_security",
        "sast_crypto",
        "sast_auth",
        "scan_recency",
        "quality_gates",
        "pr_reviews",
        "sca_vulns",
        "code_quality",
        "iac_issues",
    ];
    let control = |i: usize, description: usize| {
        json!({
            "id": format!("{:0>40}", format!("C{n}-{i}")),
            "name": text(200, i),
            "category": text(100, i + 1),
            "description": text(description, i + 2),
            "check_type": check_types[i % check_types.len()],
        })
    };
    let body = |description: usize| {
        json!({
            "key": format!("big_fw_{n:02}"),
            "name": text(100, n),
            "description": text(1000, n),
            "controls": (0..CONTROLS).map(|i| control(i, description)).collect::<Vec<_>>(),
        })
    };
    // The longest descriptions (at most 1000 characters) that keep the body under its limit.
    let mut description = 1000;
    while serde_json::to_vec(&body(description)).unwrap().len() > BODY_LIMIT - 512 {
        description -= 10;
    }
    body(description)
}

async fn get_sized(app: &TestApp, path: &str) -> Value {
    let resp = app
        .send(
            app.request(Method::GET, path)
                .header("X-API-Key", &app.admin_key),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{path}: {:?}", resp.body);
    let size = serde_json::to_vec(&resp.body).unwrap().len();
    assert!(
        size < LAMBDA_RESPONSE_LIMIT,
        "{path}: {size} bytes, over Lambda's response limit"
    );
    resp.body
}

/// Every page of a list answered in pages by `next_cursor`.
async fn all_pages(app: &TestApp, path: &str) -> Vec<Value> {
    let mut pages = vec![get_sized(app, path).await];
    while let Some(cursor) = pages.last().unwrap()["next_cursor"].as_str() {
        let sep = if path.contains('?') { '&' } else { '?' };
        let next = get_sized(app, &format!("{path}{sep}cursor={cursor}")).await;
        pages.push(next);
    }
    pages
}

async fn check_scores(app: &TestApp, repo: u64, expect_disabled: bool) {
    let pages = all_pages(app, &format!("/api/compliance/score/{repo}")).await;
    let mut seen = Vec::new();
    for page in &pages {
        assert_eq!(page["executive_summary"], pages[0]["executive_summary"]);
        for (key, framework) in page["frameworks"].as_object().unwrap() {
            seen.push(key.clone());
            let disabled = framework["disabled"].as_u64().unwrap();
            let controls = framework["controls"].as_array().unwrap().len() as u64;
            assert_eq!(disabled == controls, expect_disabled, "{key}");
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen, sorted, "each framework once, in key order");
    assert_eq!(seen.len(), 6 + FRAMEWORKS, "every enabled framework");
    let summary = &pages[0]["executive_summary"];
    if expect_disabled {
        assert_eq!(summary["total_controls"], 0);
    } else {
        assert!(summary["total_controls"].as_u64().unwrap() >= (FRAMEWORKS * CONTROLS) as u64);
    }
}

async fn documented_maxima(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let repo = app
        .post("/api/repos", json!({"name": "at-the-limits"}))
        .await
        .body["repo_id"]
        .as_u64()
        .unwrap();
    let finished = chrono::Utc::now() - chrono::Duration::hours(1);
    let scan = json!({
        "tool": "ci", "started_at": (finished - chrono::Duration::minutes(5)).to_rfc3339(),
        "finished_at": finished.to_rfc3339(),
        "covered": ["secrets", "sast_security", "sca_vulns"],
        "findings": [{"check_type": "secrets", "severity": "high", "rule_id": "k"}],
    });
    assert_eq!(
        app.post(&format!("/api/repos/{repo}/scans"), scan)
            .await
            .status,
        StatusCode::CREATED
    );

    for n in 0..FRAMEWORKS {
        let body = big_framework(n);
        let resp = app.post("/api/compliance/custom-frameworks", body).await;
        assert_eq!(
            resp.status,
            StatusCode::OK,
            "framework {n}: {:?}",
            resp.body
        );
    }
    // One more is refused, naming the limit.
    let resp = app
        .post(
            "/api/compliance/custom-frameworks",
            big_framework(FRAMEWORKS),
        )
        .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.body["detail"],
        "An org can have at most 50 custom frameworks"
    );
    // A body past its limit: 413 naming the limit.
    let mut over = big_framework(0);
    over["description"] = json!(text(1000, 0));
    over["controls"][0]["description"] = json!("x".repeat(20_000));
    let resp = app.post("/api/compliance/custom-frameworks", over).await;
    assert_eq!(resp.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        resp.body["detail"],
        "Request body over this endpoint's limit of 256 KiB"
    );

    check_scores(&app, repo, false).await;
    let listed: usize = all_pages(&app, "/api/compliance/custom-frameworks")
        .await
        .iter()
        .map(|p| p["frameworks"].as_array().unwrap().len())
        .sum();
    assert_eq!(listed, FRAMEWORKS);

    // Every control of every framework marked Not Applicable, framework by framework.
    let frameworks = get_sized(&app, "/api/compliance/frameworks").await;
    for f in frameworks["available"].as_array().unwrap() {
        let key = f["key"].as_str().unwrap();
        let path = format!("/api/compliance/frameworks/{key}/controls");
        let controls = get_sized(&app, &path).await;
        let ids: Vec<Value> = controls["controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].clone())
            .collect();
        let resp = app.put(&path, json!({"disabled": ids})).await;
        assert_eq!(resp.status, StatusCode::OK, "{key}: {:?}", resp.body);
    }
    check_scores(&app, repo, true).await;
    let controls = get_sized(&app, "/api/compliance/frameworks/big_fw_49/controls").await;
    assert_eq!(controls["disabled_count"], CONTROLS);
    get_sized(&app, "/api/audit-logs?limit=100").await;
    get_sized(&app, &format!("/api/compliance/trend/{repo}?days=365")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_maxima_on_the_embedded_store() {
    documented_maxima(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_maxima_on_dynamodb_local() {
    documented_maxima(Backend::Dynamo).await;
}
