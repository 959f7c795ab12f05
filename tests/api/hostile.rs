//! Hostile and broken input: every case gets a clear 4xx JSON body, nothing is stored, and no
//! error body leaks internals.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{spawn_app, TestApp};

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> test_support::Response {
    app.send(
        app.request(method, path)
            .header("X-API-Key", &app.admin_key)
            .header("Content-Type", content_type)
            .body(body),
    )
    .await
}

async fn nothing_stored(app: &TestApp) {
    let frameworks = app.get("/api/compliance/custom-frameworks").await.body;
    assert_eq!(frameworks["frameworks"], json!([]));
    let settings = app.get("/api/compliance/frameworks").await.body;
    assert_eq!(settings["enabled_keys"], Value::Null);
    let keys = app.get("/api/api-keys").await.body;
    assert_eq!(keys["api_keys"].as_array().unwrap().len(), 1);
}

fn assert_4xx_json(resp: &test_support::Response, what: &str) {
    assert!(
        resp.status.is_client_error(),
        "{what}: {} {:?}",
        resp.status,
        resp.body
    );
    let text = resp.body.to_string();
    assert!(resp.body.is_object(), "{what}: JSON body");
    for leak in [
        "PK", "SK", "ORG#", "redb", "dynamodb", "panicked", "src/", "Backend(",
    ] {
        assert!(!text.contains(leak), "{what}: leaks {leak}: {text}");
    }
}

#[tokio::test]
async fn malformed_bodies() {
    let app = spawn_app().await;
    let json_ct = "application/json";
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<(&str, Method, &str, &str, Vec<u8>)> = vec![
        ("invalid UTF-8", Method::PUT, "/api/compliance/frameworks/enabled", json_ct, b"{\"keys\": [\"\xff\xfe\"]}".to_vec()),
        ("deep nesting", Method::POST, "/api/compliance/custom-frameworks", json_ct, nested.into_bytes()),
        ("duplicate keys", Method::POST, "/api/compliance/custom-frameworks", json_ct,
         br#"{"name": "A", "key": "dup_key", "name": "B", "controls": [{"id": "X", "name": "x", "check_type": "secrets"}]}"#.to_vec()),
        ("duplicate keys, typed body", Method::PUT, "/api/compliance/frameworks/enabled", json_ct, br#"{"keys": ["soc2"], "keys": null}"#.to_vec()),
        ("nested duplicate keys", Method::POST, "/api/compliance/custom-frameworks", json_ct,
         br#"{"name": "A", "key": "dup_key", "controls": [{"id": "X", "id": "Y", "name": "x", "check_type": "secrets"}]}"#.to_vec()),
        ("huge array", Method::PUT, "/api/compliance/frameworks/enabled", json_ct,
         serde_json::to_vec(&json!({"keys": vec!["soc2"; 5000]})).unwrap()),
        ("number out of range", Method::PUT, "/api/compliance/frameworks/soc2/controls", json_ct, br#"{"disabled": [1e400]}"#.to_vec()),
        ("wrong content type", Method::PUT, "/api/compliance/frameworks/enabled", "text/plain", br#"{"keys": null}"#.to_vec()),
        ("no content type", Method::POST, "/api/api-keys", "", br#"{"name": "x", "role": "admin"}"#.to_vec()),
        ("body over the cap", Method::POST, "/api/api-keys", json_ct,
         serde_json::to_vec(&json!({"name": "x".repeat(100_000), "role": "admin"})).unwrap()),
        ("unknown field", Method::PUT, "/api/compliance/frameworks/enabled", json_ct, br#"{"keys": null, "force": true}"#.to_vec()),
        ("empty body", Method::POST, "/api/compliance/custom-frameworks", json_ct, vec![]),
        ("not an object", Method::POST, "/api/audits", json_ct, b"[1, 2, 3]".to_vec()),
    ];
    for (what, method, path, ct, body) in cases {
        let resp = raw(&app, method, path, ct, body).await;
        assert_4xx_json(&resp, what);
        match what {
            "wrong content type" | "no content type" => {
                assert_eq!(resp.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{what}")
            }
            "body over the cap" => assert_eq!(resp.status, StatusCode::PAYLOAD_TOO_LARGE, "{what}"),
            _ => assert_eq!(
                resp.status,
                StatusCode::BAD_REQUEST,
                "{what}: {:?}",
                resp.body
            ),
        }
        if what.starts_with("duplicate") || what == "nested duplicate keys" {
            assert!(
                resp.body["detail"].as_str().unwrap().contains("duplicate"),
                "{what}: {:?}",
                resp.body
            );
        }
        assert!(
            resp.headers.get("x-request-id").is_some(),
            "{what}: request id"
        );
    }
    nothing_stored(&app).await;
}

#[tokio::test]
async fn path_and_query_parameters() {
    let app = spawn_app().await;
    let cases = [
        "/api/compliance/frameworks/soc2/controls?repo_id=abc",
        "/api/compliance/frameworks/soc2/controls?repo_id=-1",
        "/api/compliance/trend/1?days=-1",
        "/api/compliance/trend/1?days=100000",
        "/api/audit-logs?limit=99999999999999999999",
        "/api/audit-logs?from=%00",
        "/api/api-keys?cursor=%23%23%23",
    ];
    for path in cases {
        let resp = app.get(path).await;
        assert_4xx_json(&resp, path);
    }
    // Keys with table-key syntax or control characters never reach a key: plain 404s.
    let long = "a".repeat(5000);
    for path in [
        "/api/compliance/frameworks/ORG%23x/controls".to_string(),
        "/api/compliance/frameworks/soc2%0A/controls".to_string(),
        format!("/api/compliance/frameworks/{long}/controls"),
        "/api/compliance/custom-frameworks/a%23b".to_string(),
        "/api/repos/1%23REPO/scans".to_string(),
        "/api/api-keys/key%00x".to_string(),
        "/api/audits/..%2F..%2Fetc".to_string(),
    ] {
        let method =
            if path.starts_with("/api/api-keys/") || path.starts_with("/api/compliance/custom") {
                Method::DELETE
            } else {
                Method::GET
            };
        let resp = app.call(method, &path, Some(&app.admin_key), None).await;
        assert_eq!(
            resp.status,
            StatusCode::NOT_FOUND,
            "{path}: {:?}",
            resp.body
        );
        assert_4xx_json(&resp, &path);
    }
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods() {
    let app = spawn_app().await;
    let missing = app.get("/api/nothing-here").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body, json!({"detail": "Not found"}));
    let wrong = app
        .call(
            Method::PATCH,
            "/api/compliance/frameworks",
            Some(&app.admin_key),
            None,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.body, json!({"detail": "Method not allowed"}));
    let allow = wrong
        .headers
        .get("allow")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(allow.contains("GET"), "{allow}");
    let wrong = app
        .call(Method::DELETE, "/api/audits", Some(&app.admin_key), None)
        .await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong
        .headers
        .get("allow")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("POST"));
}
