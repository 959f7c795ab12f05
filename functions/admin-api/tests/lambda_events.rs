//! The function as Lambda runs it: API Gateway HTTP API (payload v2) events from `events/`,
//! turned into requests by `lambda_http` itself, through the deployed router.

use axum::body::Body;
use compliance_core::plans::Role;
use e2e_tests::spawn_app;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

fn event(name: &str, api_key: Option<&str>) -> String {
    let path = format!(
        "{}/../../events/admin-api/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    match api_key {
        Some(key) => text.replace("REPLACED_BY_TESTS", key),
        None => text,
    }
}

async fn invoke(app: &axum::Router, event_json: &str) -> (u16, Value, http::HeaderMap) {
    let req = lambda_http::request::from_str(event_json).expect("a valid API Gateway v2 event");
    let (parts, body) = req.into_parts();
    let req = http::Request::from_parts(parts, Body::from(body.to_vec()));
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap(), headers)
}

#[tokio::test]
async fn every_fixture_is_served_through_lambda_http() {
    let harness = spawn_app().await;
    let app = admin_api::app(harness.state.clone());
    let key = harness.key_for(&harness.org_id, Role::Owner).await;

    let (status, body, headers) = invoke(&app, &event("health.json", None)).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    assert_eq!(
        headers["x-request-id"], "Jd8Qbg3SjoEEMpw=",
        "API Gateway's request id"
    );

    let (status, body, _) = invoke(&app, &event("create-api-key.json", Some(&key))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["role"], "member");

    let (status, body, _) = invoke(&app, &event("list-api-keys.json", Some(&key))).await;
    assert_eq!(status, 200);
    assert_eq!(body["api_keys"].as_array().unwrap().len(), 3);

    let (status, body, _) = invoke(&app, &event("revoke-api-key.json", Some(&key))).await;
    assert_eq!(status, 404, "the fixture's key id does not exist: {body}");

    let (status, body, _) = invoke(&app, &event("list-audit-logs.json", Some(&key))).await;
    assert_eq!(status, 200);
    let entry = &body["entries"][0];
    assert_eq!(entry["action"], "API_KEY_CREATED");
    assert_eq!(
        entry["source_ip"], "203.0.113.24",
        "from requestContext.http.sourceIp"
    );
    assert_eq!(entry["user_agent"], "curl/8.5.0");
    assert_eq!(entry["request_id"], "Jd8Qbg3SjoEEMpw=");

    let (status, body, _) = invoke(&app, &event("list-api-keys.json", Some("csk_wrong"))).await;
    assert_eq!(status, 401);
    assert_eq!(body["detail"], "Invalid API key");
}
