//! Per-Control Selection, as the reference shows it.

use compliance_domain::plans::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::spawn_app;

const SOC2: &str = "/api/compliance/frameworks/soc2/controls";

#[tokio::test]
async fn listing_controls_with_recommendations() {
    let app = spawn_app().await;
    let resp = app.get(SOC2).await;
    assert_eq!(resp.status, StatusCode::OK);
    let body = &resp.body;
    assert_eq!(body["framework_key"], "soc2");
    assert_eq!(body["framework_name"], "SOC 2 Type II");
    assert_eq!(body["custom"], false);
    assert_eq!(body["disabled_count"], 0);
    let controls = body["controls"].as_array().unwrap();
    assert!(controls.len() >= 15);
    let cc61 = controls.iter().find(|c| c["id"] == "CC6.1").unwrap();
    assert_eq!(cc61["name"], "Logical & Physical Access Controls");
    assert_eq!(cc61["category"], "Access");
    assert_eq!(cc61["check_type"], "secrets");
    assert_eq!(cc61["disabled"], false);
    assert_eq!(cc61["recommendation"], "required");
    assert_eq!(
        cc61["recommendation_reason"],
        "Credential leakage is a baseline control for any codebase."
    );
    for c in controls {
        assert!(["required", "recommended", "optional"]
            .contains(&c["recommendation"].as_str().unwrap()));
        assert!(!c["recommendation_reason"].as_str().unwrap().is_empty());
    }
    // The repo_id parameter is validated and must name one of the org's repositories.
    assert_eq!(
        app.get(&format!("{SOC2}?repo_id=7")).await.status,
        StatusCode::NOT_FOUND
    );
    for bad in ["abc", "0", "-1", "1.5", "99999999999999999999"] {
        let resp = app.get(&format!("{SOC2}?repo_id={bad}")).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let unknown = app.get("/api/compliance/frameworks/sox/controls").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body, json!({"detail": "Unknown framework: sox"}));
    for fw in ["iso27001", "owasp", "pcidss", "hipaa", "nist_csf"] {
        let resp = app
            .get(&format!("/api/compliance/frameworks/{fw}/controls"))
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{fw}");
    }
}

#[tokio::test]
async fn setting_disabled_controls() {
    let app = spawn_app().await;
    let resp = app.put(SOC2, json!({"disabled": ["CC8.1", "CC2.1"]})).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(
        resp.body,
        json!({"message": "Control selection updated", "framework_key": "soc2", "disabled": ["CC8.1", "CC2.1"]})
    );
    let list = app.get(SOC2).await.body;
    assert_eq!(list["disabled_count"], 2);
    let disabled: Vec<&str> = list["controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["disabled"] == true)
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(disabled.len(), 2);
    assert!(disabled.contains(&"CC8.1") && disabled.contains(&"CC2.1"));

    // Replaces, not merges; the reference's curl example.
    let resp = app.put(SOC2, json!({"disabled": ["CC8.1"]})).await;
    assert_eq!(resp.body["disabled"], json!(["CC8.1"]));
    assert_eq!(app.get(SOC2).await.body["disabled_count"], 1);
    // Other frameworks are untouched; [] re-enables everything.
    assert_eq!(
        app.get("/api/compliance/frameworks/owasp/controls")
            .await
            .body["disabled_count"],
        0
    );
    let resp = app.put(SOC2, json!({"disabled": []})).await;
    assert_eq!(resp.body["disabled"], json!([]));
    assert_eq!(app.get(SOC2).await.body["disabled_count"], 0);

    let entries = app
        .get("/api/audit-logs?action=COMPLIANCE_CONTROLS_UPDATED")
        .await
        .body["entries"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(entries.len(), 3);
    assert_eq!(
        entries[2]["metadata"],
        json!({"framework_key": "soc2", "before": {"disabled": []}, "after": {"disabled": ["CC8.1", "CC2.1"]}})
    );
    assert_eq!(
        entries[0]["metadata"]["before"]["disabled"],
        json!(["CC8.1"])
    );
}

#[tokio::test]
async fn errors_of_the_controls_endpoint() {
    let app = spawn_app().await;
    let resp = app
        .put(SOC2, json!({"disabled": ["CC8.1", "CC99.9"]}))
        .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(resp.body, json!({"detail": "Unknown control: CC99.9"}));
    assert_eq!(
        app.get(SOC2).await.body["disabled_count"],
        0,
        "nothing half-applied"
    );
    let member = app.key_for(&app.org_id, Role::Member).await;
    let resp = app
        .call(
            Method::PUT,
            SOC2,
            Some(&member),
            Some(json!({"disabled": ["CC8.1"]})),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert_eq!(resp.body, json!({"detail": "Org admin role required"}));
    let resp = app
        .put(
            "/api/compliance/frameworks/nope/controls",
            json!({"disabled": []}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    for body in [
        json!({}),
        json!({"disabled": "CC8.1"}),
        json!({"disabled": null}),
        json!({"disabled": [], "more": true}),
    ] {
        let resp = app.put(SOC2, body.clone()).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{body}");
    }
    let entries: Value = app
        .get("/api/audit-logs?action=COMPLIANCE_CONTROLS_UPDATED")
        .await
        .body["entries"]
        .clone();
    assert_eq!(entries, json!([]));
}
