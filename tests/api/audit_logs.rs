//! `/api/audit-logs`: every mutation leaves exactly one entry, with actor, source IP, user agent,
//! request id and before/after metadata; filters, pagination, admin only, own org only.

use compliance_domain::plans::{Plan, Role};
use reqwest::{Method, StatusCode};
use serde_json::json;
use test_support::{hs256_token, spawn_app};

const LOGS: &str = "/api/audit-logs";

#[tokio::test]
async fn mutations_leave_complete_entries() {
    let app = spawn_app().await;
    let created = app
        .send(
            app.request(Method::POST, "/api/api-keys")
                .header("X-API-Key", &app.admin_key)
                .header("X-Request-Id", "req-abc-123")
                .json(&json!({"name": "deploy", "role": "member"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.headers["x-request-id"], "req-abc-123");
    let id = created.body["id"].as_str().unwrap();
    let token = hs256_token(
        &app.org_id,
        "owner",
        json!({"email": "owner@example.com", "sub": "user-42"}),
    );
    let revoked = app
        .with_bearer(Method::DELETE, &format!("/api/api-keys/{id}"), &token, None)
        .await;
    assert_eq!(revoked.status, StatusCode::OK);

    let logs = app.get(LOGS).await;
    assert_eq!(logs.status, StatusCode::OK);
    let entries = logs.body["entries"].as_array().unwrap();
    // Newest first: the revocation, the creation, then the harness's own setup.
    assert_eq!(entries[0]["action"], "API_KEY_REVOKED");
    assert_eq!(entries[1]["action"], "API_KEY_CREATED");
    let rev = &entries[0];
    assert_eq!(
        rev["actor"],
        json!({"kind": "user", "id": "user-42", "email": "owner@example.com"})
    );
    assert_eq!(rev["source_ip"], "127.0.0.1");
    assert_eq!(rev["user_agent"], "e2e-tests/1.0");
    assert_eq!(rev["metadata"]["key_id"], id);
    assert!(rev["metadata"]["after"]["revoked_at"].is_string());
    assert_eq!(
        rev["metadata"]["before"]["revoked_at"],
        serde_json::Value::Null
    );
    let cre = &entries[1];
    assert_eq!(cre["request_id"], "req-abc-123");
    assert_eq!(cre["actor"]["kind"], "api_key");
    assert_eq!(cre["metadata"]["after"]["role"], "member");
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["metadata"]["key_id"] == id)
            .count(),
        2,
        "exactly one entry per change"
    );
}

#[tokio::test]
async fn filters_and_pagination() {
    let app = spawn_app().await;
    let start = chrono::Utc::now();
    for i in 0..5 {
        app.post(
            "/api/api-keys",
            json!({"name": format!("k{i}"), "role": "viewer"}),
        )
        .await;
    }
    let only = app
        .get(&format!("{LOGS}?action=API_KEY_CREATED&limit=2"))
        .await;
    assert_eq!(only.status, StatusCode::OK);
    let mut all = only.body["entries"].as_array().unwrap().clone();
    let mut cursor = only.body["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let page = app
            .get(&format!("{LOGS}?action=API_KEY_CREATED&limit=2&cursor={c}"))
            .await;
        all.extend(page.body["entries"].as_array().unwrap().iter().cloned());
        cursor = page.body["next_cursor"].as_str().map(str::to_string);
    }
    // The 5 above plus the harness's admin key.
    assert_eq!(all.len(), 6);
    assert!(all.iter().all(|e| e["action"] == "API_KEY_CREATED"));
    let times: Vec<&str> = all
        .iter()
        .map(|e| e["created_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let from = start.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let since = app
        .get(&format!("{LOGS}?from={}", from.replace('+', "%2B")))
        .await;
    assert_eq!(
        since.body["entries"].as_array().unwrap().len(),
        5,
        "{:?}",
        since.body
    );
    let before = app.get(&format!("{LOGS}?to={}", from)).await;
    assert!(before.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["created_at"].as_str().unwrap() <= from.as_str()));
    assert_eq!(
        app.get(&format!("{LOGS}?action=NOTHING_LIKE_THIS"))
            .await
            .body["entries"],
        json!([])
    );

    for bad in [
        "?from=yesterday",
        "?action=bad%23action",
        "?limit=0",
        "?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ] {
        let resp = app.get(&format!("{LOGS}{bad}")).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn only_admins_and_only_their_org() {
    let app = spawn_app().await;
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    let resp = app.call(Method::GET, LOGS, Some(&viewer), None).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert_eq!(resp.body, json!({"detail": "Org admin role required"}));

    let (other_org, other_key) = app.new_org(Plan::Free).await;
    app.post("/api/api-keys", json!({"name": "mine", "role": "viewer"}))
        .await;
    let theirs = app.call(Method::GET, LOGS, Some(&other_key), None).await;
    assert_eq!(theirs.status, StatusCode::OK);
    let entries = theirs.body["entries"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| e["org_id"] == other_org.as_str()));
}

#[tokio::test]
async fn entries_are_exported_by_the_in_process_audit_log_export() {
    let app = spawn_app().await;
    app.post(
        "/api/api-keys",
        json!({"name": "exported", "role": "viewer"}),
    )
    .await;
    let exported = test_support::eventually(std::time::Duration::from_secs(20), || async {
        let lines = app.exported.lines();
        lines
            .iter()
            .any(|l| l.contains("API_KEY_CREATED") && l.contains("exported"))
            .then_some(lines)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "the audit entry was not exported: {:?}",
            app.exported.lines()
        )
    });
    let line: serde_json::Value = serde_json::from_str(exported.last().unwrap()).unwrap();
    assert_eq!(line["schema"], "compliance.audit.v1");
}
