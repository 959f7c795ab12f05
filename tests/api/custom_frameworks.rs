//! Custom Frameworks: the reference's examples, validation that names the field, the whole life
//! cycle (create → listed and enabled → a control disabled → deleted → gone everywhere), audits.

use compliance_domain::plans::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{spawn_app, TestApp};

const CUSTOM: &str = "/api/compliance/custom-frameworks";

fn reference_body() -> Value {
    json!({ "name": "Internal Security Policy", "key": "internal_sec", "controls": [
        { "id": "ISP-1", "name": "No hardcoded secrets", "category": "Credentials",
          "description": "All credentials live in the secret manager.", "check_type": "secrets",
          "pass_condition": "no_critical_secrets" } ] })
}

async fn actions(app: &TestApp) -> Vec<String> {
    let entries = app.get("/api/audit-logs?limit=100").await.body["entries"]
        .as_array()
        .unwrap()
        .clone();
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn life_cycle() {
    let app = spawn_app().await;
    app.put(
        "/api/compliance/frameworks/enabled",
        json!({"keys": ["soc2", "owasp"]}),
    )
    .await;

    let saved = app.post(CUSTOM, reference_body()).await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
    assert_eq!(
        saved.body,
        json!({"message": "Framework saved", "key": "internal_sec", "name": "Internal Security Policy"})
    );

    let listed = app.get(CUSTOM).await.body;
    let fw = &listed["frameworks"][0];
    assert!(fw["id"].is_i64());
    assert_eq!(fw["key"], "internal_sec");
    assert_eq!(fw["name"], "Internal Security Policy");
    assert_eq!(fw["controls"][0]["id"], "ISP-1");
    assert_eq!(fw["controls"][0]["pass_condition"], "no_critical_secrets");
    assert!(fw["created_at"].is_string());

    // Added to the explicit selection, so it appears on the dashboard at once.
    let frameworks = app.get("/api/compliance/frameworks").await.body;
    assert_eq!(
        frameworks["enabled_keys"],
        json!(["soc2", "owasp", "internal_sec"])
    );
    let entry = frameworks["available"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "internal_sec")
        .cloned()
        .unwrap();
    assert_eq!(entry["custom"], true);
    assert_eq!(entry["enabled"], true);
    assert_eq!(entry["control_count"], 1);

    // Its controls work like built-ins.
    let path = "/api/compliance/frameworks/internal_sec/controls";
    let controls = app.get(path).await.body;
    assert_eq!(controls["custom"], true);
    assert_eq!(controls["controls"][0]["id"], "ISP-1");
    let resp = app.put(path, json!({"disabled": ["ISP-1"]})).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(app.get(path).await.body["disabled_count"], 1);

    let deleted = app.delete(&format!("{CUSTOM}/internal_sec")).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.body, json!({"message": "Framework deleted"}));
    assert_eq!(app.get(CUSTOM).await.body["frameworks"], json!([]));
    let frameworks = app.get("/api/compliance/frameworks").await.body;
    assert_eq!(
        frameworks["enabled_keys"],
        json!(["soc2", "owasp"]),
        "no stale reference"
    );
    assert!(frameworks["available"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["key"] != "internal_sec"));
    assert_eq!(app.get(path).await.status, StatusCode::NOT_FOUND);
    // Re-created with the same key: the old disabled selection did not survive.
    app.post(CUSTOM, reference_body()).await;
    assert_eq!(app.get(path).await.body["disabled_count"], 0);

    let deleted_again = app.delete(&format!("{CUSTOM}/nope")).await;
    assert_eq!(deleted_again.status, StatusCode::NOT_FOUND);

    let log = actions(&app).await;
    for (action, n) in [
        ("COMPLIANCE_CUSTOM_FRAMEWORK_CREATED", 2),
        ("COMPLIANCE_CUSTOM_FRAMEWORK_DELETED", 1),
        ("COMPLIANCE_CONTROLS_UPDATED", 1),
        ("COMPLIANCE_FRAMEWORKS_UPDATED", 1),
    ] {
        assert_eq!(log.iter().filter(|a| *a == action).count(), n, "{action}");
    }
    let entries = app
        .get("/api/audit-logs?action=COMPLIANCE_CUSTOM_FRAMEWORK_DELETED")
        .await
        .body["entries"]
        .clone();
    assert_eq!(
        entries[0]["metadata"]["disabled_controls_removed"],
        json!(["ISP-1"])
    );
    assert_eq!(
        entries[0]["metadata"]["enabled_keys"]["after"],
        json!(["soc2", "owasp"])
    );
}

#[tokio::test]
async fn saving_an_existing_key_updates_it() {
    let app = spawn_app().await;
    app.post(CUSTOM, reference_body()).await;
    let first = app.get(CUSTOM).await.body["frameworks"][0].clone();
    app.put(
        "/api/compliance/frameworks/internal_sec/controls",
        json!({"disabled": ["ISP-1"]}),
    )
    .await;
    let mut body = reference_body();
    body["name"] = json!("Internal Security Policy v2");
    body["controls"] = json!([{"id": "ISP-2", "name": "Fresh scans", "category": "Process",
                               "check_type": "scan_recency", "pass_condition": "scanned_within_7_days"}]);
    let resp = app.post(CUSTOM, body).await;
    assert_eq!(resp.status, StatusCode::OK);
    let list = app.get(CUSTOM).await.body["frameworks"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], first["id"], "same framework");
    assert_eq!(list[0]["created_at"], first["created_at"]);
    assert_eq!(list[0]["name"], "Internal Security Policy v2");
    assert_eq!(
        app.get("/api/compliance/frameworks/internal_sec/controls")
            .await
            .body["disabled_count"],
        0,
        "ISP-1 is gone, so is its disabled mark"
    );
    assert!(actions(&app)
        .await
        .contains(&"COMPLIANCE_CUSTOM_FRAMEWORK_UPDATED".to_string()));
    // One description everywhere: the listing's and the picker's agree (none was given).
    let picker = app.get("/api/compliance/frameworks").await.body;
    let entry = picker["available"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "internal_sec")
        .unwrap()
        .clone();
    assert_eq!(entry["description"], list[0]["description"]);
    assert_eq!(entry["description"], "");
    // With the default selection (null) nothing is added to enabled_keys.
    assert_eq!(
        app.get("/api/compliance/frameworks").await.body["enabled_keys"],
        Value::Null
    );
}

#[tokio::test]
async fn the_grc_sync_example_with_defaults() {
    let app = spawn_app().await;
    // The reference's GRC example: no description, scan_recency controls.
    let controls: Vec<Value> = (1..=3)
        .map(|i| {
            json!({"id": format!("GRC-{i}"), "name": format!("Control {i}"), "category": "Ops",
                        "check_type": "scan_recency", "pass_condition": "scanned_within_7_days"})
        })
        .collect();
    let resp = app
        .post(
            CUSTOM,
            json!({"name": "Acme GRC", "key": "acme_grc", "controls": controls}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    // A control without pass_condition gets its check type's default.
    let resp = app
        .post(CUSTOM, json!({"name": "Minimal", "key": "minimal", "controls": [{"id": "M-1", "name": "x", "check_type": "sca_vulns"}]}))
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    let list = app.get(CUSTOM).await.body;
    let minimal = list["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "minimal")
        .cloned()
        .unwrap();
    assert_eq!(minimal["controls"][0]["pass_condition"], "no_findings");
}

#[tokio::test]
async fn validation_names_the_field_of_the_control() {
    let app = spawn_app().await;
    let control = |extra: Value| {
        let mut c = json!({"id": "C-1", "name": "n", "category": "c", "check_type": "secrets"});
        test_support::merge(&mut c, extra);
        c
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"name": "x", "key": "Bad-Key", "controls": [control(json!({}))]}),
            "key",
        ),
        (
            json!({"name": "x", "key": "soc2", "controls": [control(json!({}))]}),
            "key",
        ),
        (
            json!({"name": "x", "key": "a#b", "controls": [control(json!({}))]}),
            "key",
        ),
        (
            json!({"key": "ok_key", "controls": [control(json!({}))]}),
            "name",
        ),
        (
            json!({"name": "x", "key": "ok_key", "controls": []}),
            "controls",
        ),
        (json!({"name": "x", "key": "ok_key"}), "controls"),
        (
            json!({"name": "x", "key": "ok_key", "controls": [control(json!({"check_type": "dast"}))]}),
            "controls[0].check_type",
        ),
        (
            json!({"name": "x", "key": "ok_key", "controls": [control(json!({})), control(json!({"pass_condition": "scanned_within_7_days"}))]}),
            "controls[1].id",
        ),
        (
            json!({"name": "x", "key": "ok_key", "controls": [control(json!({"id": "C-2", "pass_condition": "scanned_within_7_days"}))]}),
            "controls[0].pass_condition",
        ),
        (
            json!({"name": "x", "key": "ok_key", "controls": [control(json!({"pass_condition": "no_critical_vulns"}))]}),
            "controls[0].pass_condition",
        ),
        (
            json!({"name": "x", "key": "ok_key", "controls": [control(json!({"id": "bad id!"}))]}),
            "controls[0].id",
        ),
        (
            json!({"name": "x", "key": "ok_key", "controls": [control(json!({"name": null}))]}),
            "controls[0].name",
        ),
        (
            json!({"name": "x", "key": "ok_key", "controls": [control(json!({"severity": "high"}))]}),
            "controls[0].severity",
        ),
        (
            json!({"name": "x", "key": "ok_key", "controls": [control(json!({})), 5]}),
            "controls[1]",
        ),
        (
            json!({"name": "x", "key": "ok_key", "controls": vec![control(json!({})); 201]}),
            "controls",
        ),
        (
            json!({"name": "x".repeat(101), "key": "ok_key", "controls": [control(json!({}))]}),
            "name",
        ),
        (
            json!({"name": "x", "key": "ok_key", "controls": [control(json!({}))], "owner": "me"}),
            "owner",
        ),
    ];
    for (body, location) in cases {
        let resp = app.post(CUSTOM, body.clone()).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{body}");
        let detail = resp.body["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("{location}:")),
            "expected {location} in: {detail}"
        );
        assert!(resp.body["errors"].is_array());
    }
    // Several problems are all reported.
    let resp = app
        .post(CUSTOM, json!({"name": "", "key": "X", "controls": [{"id": "a"}, {"id": "a", "name": "n", "check_type": "secrets"}]}))
        .await;
    assert!(
        resp.body["errors"].as_array().unwrap().len() >= 4,
        "{:?}",
        resp.body
    );
    assert_eq!(
        app.get(CUSTOM).await.body["frameworks"],
        json!([]),
        "nothing stored"
    );
    assert!(!actions(&app)
        .await
        .iter()
        .any(|a| a.starts_with("COMPLIANCE_CUSTOM")));
}

#[tokio::test]
async fn roles_and_tenancy() {
    let app = spawn_app().await;
    app.post(CUSTOM, reference_body()).await;
    let member = app.key_for(&app.org_id, Role::Member).await;
    let resp = app
        .call(Method::POST, CUSTOM, Some(&member), Some(reference_body()))
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert_eq!(resp.body, json!({"detail": "Org admin role required"}));
    let resp = app
        .call(
            Method::DELETE,
            &format!("{CUSTOM}/internal_sec"),
            Some(&member),
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.call(Method::GET, CUSTOM, Some(&member), None)
            .await
            .status,
        StatusCode::OK
    );

    let (_, other) = app.new_org(compliance_domain::plans::Plan::Team).await;
    let theirs = app.call(Method::GET, CUSTOM, Some(&other), None).await;
    assert_eq!(
        theirs.body["frameworks"],
        json!([]),
        "another org sees none of ours"
    );
    let resp = app
        .call(
            Method::DELETE,
            &format!("{CUSTOM}/internal_sec"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    let resp = app
        .call(
            Method::GET,
            "/api/compliance/frameworks/internal_sec/controls",
            Some(&other),
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(CUSTOM).await.body["frameworks"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "ours is intact"
    );
}

/// Saving the framework exactly as stored changes nothing: no write, no audit entry.
#[tokio::test]
async fn saving_the_stored_framework_again_writes_nothing() {
    let app = spawn_app().await;
    assert_eq!(
        app.post(CUSTOM, reference_body()).await.status,
        StatusCode::OK
    );
    let first = app.get(CUSTOM).await.body["frameworks"][0].clone();
    let again = app.post(CUSTOM, reference_body()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["message"], "Framework saved");
    assert_eq!(
        app.get(CUSTOM).await.body["frameworks"][0],
        first,
        "untouched"
    );
    let logged = actions(&app).await;
    assert!(!logged.contains(&"COMPLIANCE_CUSTOM_FRAMEWORK_UPDATED".to_string()));
    assert_eq!(
        logged
            .iter()
            .filter(|a| *a == "COMPLIANCE_CUSTOM_FRAMEWORK_CREATED")
            .count(),
        1
    );
}

/// The 50-framework limit holds under concurrent creations: the count is kept in the settings
/// each creation is conditioned on.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creations_cannot_pass_the_limit() {
    let app = std::sync::Arc::new(spawn_app().await);
    let small = |n: usize| {
        json!({"key": format!("fw_{n:02}"), "name": format!("Framework {n}"),
               "controls": [{"id": "C-1", "name": "one", "check_type": "secrets"}]})
    };
    for n in 0..48 {
        assert_eq!(app.post(CUSTOM, small(n)).await.status, StatusCode::OK);
    }
    let tasks: Vec<_> = (48..54)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move { app.post(CUSTOM, small(n)).await })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        let resp = t.await.unwrap();
        match resp.status {
            StatusCode::OK => created += 1,
            StatusCode::BAD_REQUEST => assert_eq!(
                resp.body["detail"],
                "An org can have at most 50 custom frameworks"
            ),
            other => panic!("{other}: {:?}", resp.body),
        }
    }
    assert_eq!(created, 2);
    assert_eq!(
        app.get(CUSTOM).await.body["frameworks"]
            .as_array()
            .unwrap()
            .len(),
        50
    );
    // A deletion makes room for exactly one more.
    assert_eq!(
        app.delete(&format!("{CUSTOM}/fw_00")).await.status,
        StatusCode::OK
    );
    assert_eq!(app.post(CUSTOM, small(60)).await.status, StatusCode::OK);
    assert_eq!(
        app.post(CUSTOM, small(61)).await.status,
        StatusCode::BAD_REQUEST
    );
}
