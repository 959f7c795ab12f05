//! The direct-body limit as AWS sets it: the largest body a request may carry is the largest
//! whose API Gateway event (payload 2.0, the body base64-encoded, the largest headers API
//! Gateway accepts) fits Lambda's 6,291,456-byte invocation payload. At that size a report is
//! stored, through the local server's HTTP and through the function's Lambda event alike; one
//! byte more is a 413 naming the limit on both.

use std::io::Write;

use axum::http::StatusCode;
use base64::Engine;
use compliance_http::upload::{LAMBDA_EVENT_MAX_BYTES, MAX_DIRECT_BODY_BYTES};
use flate2::{Compression, GzBuilder};
use reqwest::Method;
use serde_json::{json, Value};
use test_support::{event_fixture, invoke_lambda, spawn_app, TestApp};

/// API Gateway's quota on an HTTP API request's request line and headers, in bytes.
const REQUEST_HEAD_MAX_BYTES: usize = 10_240;

/// A gzip SARIF report of exactly `len` bytes: a valid report padded with incompressible text
/// and stored uncompressed, so its length moves with the padding; the last few bytes set by the
/// gzip header's file name.
fn report_of_exactly(len: usize) -> Vec<u8> {
    let doc = |padding: usize| {
        // Deterministic, incompressible padding (a linear congruential sequence, as hex).
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let text: String = (0..padding)
            .map(|_| {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                char::from_digit(((x >> 60) & 0xf) as u32, 16).unwrap()
            })
            .collect();
        serde_json::to_vec(&json!({
            "version": "2.1.0",
            "runs": [{
                "tool": { "driver": { "name": "semgrep", "rules": [{ "id": "r" }] } },
                "results": [{ "ruleId": "r", "level": "error", "message": { "text": "m" } }],
                "properties": { "padding": text },
            }],
        }))
        .unwrap()
    };
    let gzip = |doc: &[u8], name: usize| {
        let mut builder = GzBuilder::new();
        if name > 0 {
            builder = builder.filename(vec![b'p'; name - 1]);
        }
        let mut enc = builder.write(Vec::new(), Compression::none());
        enc.write_all(doc).unwrap();
        enc.finish().unwrap()
    };
    // Grow the padding until the report is a few bytes short, then fill with the file name
    // (`name` bytes: the name and its terminating zero).
    let mut padding = len.saturating_sub(len / 8192 + 1024);
    loop {
        let size = gzip(&doc(padding), 0).len();
        assert!(size <= len, "overshot: {size} > {len}");
        if len - size < 64 {
            let report = gzip(&doc(padding), len - size);
            assert_eq!(report.len(), len);
            return report;
        }
        padding += len - size - 32;
    }
}

async fn new_repo(app: &TestApp) -> u64 {
    let resp = app
        .post("/api/repos", json!({ "name": "direct-limit" }))
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["repo_id"].as_u64().unwrap()
}

async fn post_report(app: &TestApp, repo: u64, report: Vec<u8>) -> test_support::Response {
    app.send(
        app.request(Method::POST, &format!("/api/repos/{repo}/scans"))
            .header("X-API-Key", &app.admin_key)
            .header("Content-Type", "application/sarif+json")
            .header("Content-Encoding", "gzip")
            .body(report),
    )
    .await
}

/// The scans function's event for `report` sent as API Gateway sends it: base64, with headers
/// filling the request line and headers quota, each filler byte a quote (escaped to two).
fn event_for(key: &str, repo: u64, report: &[u8]) -> String {
    let mut event: Value =
        serde_json::from_str(&event_fixture("scans-api", "ingest-sarif.json", Some(key))).unwrap();
    let path = format!("/api/repos/{repo}/scans");
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    event["pathParameters"]["repo_id"] = json!(repo.to_string());
    event["isBase64Encoded"] = json!(true);
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(report));
    let headers = event["headers"].as_object_mut().unwrap();
    headers.insert("content-encoding".into(), json!("gzip"));
    headers.insert("content-length".into(), json!(report.len().to_string()));
    let head_len = |headers: &serde_json::Map<String, Value>| {
        format!("POST {path} HTTP/1.1\r\n").len()
            + headers
                .iter()
                .map(|(k, v)| k.len() + 2 + v.as_str().unwrap().len() + 2)
                .sum::<usize>()
            + 2
    };
    let filler = REQUEST_HEAD_MAX_BYTES - head_len(headers) - "x-filler: \r\n".len();
    headers.insert("x-filler".into(), json!("\"".repeat(filler)));
    assert_eq!(head_len(headers), REQUEST_HEAD_MAX_BYTES);
    serde_json::to_string(&event).unwrap()
}

#[tokio::test]
async fn the_largest_direct_body_fits_a_lambda_event_and_one_byte_more_is_refused() {
    let app = spawn_app().await;
    let repo = new_repo(&app).await;
    let largest = report_of_exactly(MAX_DIRECT_BODY_BYTES);
    let over = report_of_exactly(MAX_DIRECT_BODY_BYTES + 1);

    // Over HTTP, as the local server serves it.
    let stored = post_report(&app, repo, largest.clone()).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{:?}", stored.body);
    let refused = post_report(&app, repo, over.clone()).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    let detail = refused.body["detail"].as_str().unwrap();
    assert!(
        detail.contains(&MAX_DIRECT_BODY_BYTES.to_string()),
        "names the limit: {detail}"
    );
    assert!(
        detail.contains("POST /api/repos/{repo_id}/uploads"),
        "names the endpoint for larger reports: {detail}"
    );

    // As the deployed function receives it: the event of the largest body fits Lambda's payload.
    let function = scans_api::app(app.state.clone());
    let event = event_for(&app.admin_key, repo, &largest);
    assert!(
        event.len() <= LAMBDA_EVENT_MAX_BYTES,
        "the event of the largest body takes {} bytes",
        event.len()
    );
    // The same report again: the function answers it (a duplicate of the scan stored above).
    let answered = invoke_lambda(&function, &event).await;
    assert_eq!(answered.status, StatusCode::OK, "{:?}", answered.body);
    assert_eq!(answered.body["duplicate"], true);
    let refused = invoke_lambda(&function, &event_for(&app.admin_key, repo, &over)).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(refused.body["detail"], detail);
}

#[tokio::test]
async fn a_text_body_whose_escapes_overflow_the_event_is_refused_with_the_way_out() {
    let app = spawn_app().await;
    let repo = new_repo(&app).await;
    // Within the byte limit, but every byte a newline: as a JSON string in the event, twice
    // the bytes.
    let resp = app
        .send(
            app.request(Method::POST, &format!("/api/repos/{repo}/scans"))
                .header("X-API-Key", &app.admin_key)
                .header("Content-Type", "application/json")
                .body(vec![b'\n'; MAX_DIRECT_BODY_BYTES]),
        )
        .await;
    assert_eq!(resp.status, StatusCode::PAYLOAD_TOO_LARGE);
    let detail = resp.body["detail"].as_str().unwrap();
    assert!(detail.contains("Content-Encoding: gzip"), "{detail}");
}
