//! Framework Selection, as the reference shows it: listing, explicit / empty / default
//! selection, plan gating (402 body), admin checks, validation, audit entries.

use compliance_domain::plans::{Plan, Role};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{spawn_app, TestApp};

const LIST: &str = "/api/compliance/frameworks";
const ENABLED: &str = "/api/compliance/frameworks/enabled";

fn entry<'a>(body: &'a Value, key: &str) -> &'a Value {
    body["available"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap()
}

async fn audit_actions(app: &TestApp, action: &str) -> Vec<Value> {
    let resp = app.get(&format!("/api/audit-logs?action={action}")).await;
    resp.body["entries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn listing_has_the_reference_shape_and_counts() {
    let app = spawn_app().await;
    let resp = app.get(LIST).await;
    assert_eq!(resp.status, StatusCode::OK);
    let body = &resp.body;
    assert_eq!(body["enabled_keys"], Value::Null);
    assert_eq!(body["default_all_enabled"], true);
    let keys: Vec<&str> = body["available"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["soc2", "iso27001", "owasp", "pcidss", "hipaa", "nist_csf"]
    );
    let soc2 = entry(body, "soc2");
    assert_eq!(soc2["name"], "SOC 2 Type II");
    assert_eq!(soc2["description"], "Service Organization Controls");
    assert_eq!(soc2["custom"], false);
    assert_eq!(soc2["enabled"], true);
    assert_eq!(soc2["requires_plan"], Value::Null);
    assert_eq!(soc2["plan_locked"], false);
    for (key, min) in [
        ("soc2", 15),
        ("iso27001", 4),
        ("owasp", 10),
        ("pcidss", 5),
        ("hipaa", 6),
        ("nist_csf", 7),
    ] {
        assert!(
            entry(body, key)["control_count"].as_u64().unwrap() >= min,
            "{key}"
        );
    }
    let hipaa = entry(body, "hipaa");
    assert_eq!(hipaa["requires_plan"], "enterprise");
    assert_eq!(
        hipaa["plan_locked"], false,
        "the harness org is on enterprise"
    );
    assert!(body["frameworks"].is_array());

    // On the team plan HIPAA is locked, and not enabled even by default.
    let (_, team_key) = app.new_org(Plan::Team).await;
    let team = app.call(Method::GET, LIST, Some(&team_key), None).await;
    let hipaa = entry(&team.body, "hipaa");
    assert_eq!(
        (hipaa["enabled"].clone(), hipaa["plan_locked"].clone()),
        (json!(false), json!(true))
    );
    // Any role may read.
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    assert_eq!(
        app.call(Method::GET, LIST, Some(&viewer), None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_three_body_shapes() {
    let app = spawn_app().await;
    let resp = app
        .put(ENABLED, json!({"keys": ["soc2", "owasp", "pcidss"]}))
        .await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(
        resp.body,
        json!({"message": "Enabled frameworks updated", "enabled_keys": ["soc2", "owasp", "pcidss"], "default_all_enabled": false})
    );
    let list = app.get(LIST).await.body;
    assert_eq!(list["enabled_keys"], json!(["soc2", "owasp", "pcidss"]));
    assert_eq!(list["default_all_enabled"], false);
    assert_eq!(entry(&list, "iso27001")["enabled"], false);
    assert_eq!(entry(&list, "owasp")["enabled"], true);
    let legacy: Vec<&str> = list["frameworks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(legacy, ["soc2", "owasp", "pcidss"]);

    let none = app.put(ENABLED, json!({"keys": []})).await;
    assert_eq!(none.body["enabled_keys"], json!([]));
    let list = app.get(LIST).await.body;
    assert!(list["available"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["enabled"] == false));

    let reset = app.put(ENABLED, json!({"keys": null})).await;
    assert_eq!(
        reset.body,
        json!({"message": "Enabled frameworks updated", "enabled_keys": null, "default_all_enabled": true})
    );
    assert_eq!(app.get(LIST).await.body["default_all_enabled"], true);

    // Duplicates collapse.
    let dup = app
        .put(ENABLED, json!({"keys": ["soc2", "owasp", "soc2"]}))
        .await;
    assert_eq!(dup.body["enabled_keys"], json!(["soc2", "owasp"]));

    let entries = audit_actions(&app, "COMPLIANCE_FRAMEWORKS_UPDATED").await;
    assert_eq!(entries.len(), 4, "one entry per change");
    assert_eq!(
        entries[0]["metadata"]["after"]["enabled_keys"],
        json!(["soc2", "owasp"])
    );
    assert_eq!(
        entries[0]["metadata"]["before"]["enabled_keys"],
        Value::Null
    );
    assert_eq!(
        entries[3]["metadata"]["after"]["enabled_keys"],
        json!(["soc2", "owasp", "pcidss"])
    );
}

#[tokio::test]
async fn plan_gating_answers_402_with_the_upgrade_prompt() {
    let app = spawn_app().await;
    let (team_org, team_key) = app.new_org(Plan::Team).await;
    // The reference's "automated framework enablement on signup" request.
    let resp = app
        .call(
            Method::PUT,
            ENABLED,
            Some(&team_key),
            Some(json!({"keys": ["soc2", "hipaa", "owasp"]})),
        )
        .await;
    assert_eq!(resp.status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(
        resp.body,
        json!({"detail": {"error": "plan_upgrade_required", "message": "Framework 'hipaa' requires the Enterprise plan",
                          "framework_key": "hipaa", "current_plan": "team", "required_plan": "enterprise"}})
    );
    let list = app.call(Method::GET, LIST, Some(&team_key), None).await;
    assert_eq!(list.body["enabled_keys"], Value::Null, "nothing was saved");
    // After the upgrade it goes through.
    app.set_plan(&team_org, Plan::Enterprise).await;
    let resp = app
        .call(
            Method::PUT,
            ENABLED,
            Some(&team_key),
            Some(json!({"keys": ["soc2", "hipaa", "owasp"]})),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK);
}

#[tokio::test]
async fn non_admins_and_bad_bodies() {
    let app = spawn_app().await;
    for role in [Role::Member, Role::Viewer] {
        let key = app.key_for(&app.org_id, role).await;
        let resp = app
            .call(
                Method::PUT,
                ENABLED,
                Some(&key),
                Some(json!({"keys": ["soc2"]})),
            )
            .await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN);
        assert_eq!(resp.body, json!({"detail": "Org admin role required"}));
    }
    let unknown = app.put(ENABLED, json!({"keys": ["soc2", "sox"]})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.body, json!({"detail": "Unknown framework: sox"}));
    for body in [
        json!({}),
        json!({"keys": "soc2"}),
        json!({"keys": [1]}),
        json!({"keys": [], "x": 1}),
        json!([]),
    ] {
        let resp = app.put(ENABLED, body.clone()).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(resp.body["detail"].is_string());
    }
    assert!(audit_actions(&app, "COMPLIANCE_FRAMEWORKS_UPDATED")
        .await
        .is_empty());
    let anonymous = app
        .call(Method::PUT, ENABLED, None, Some(json!({"keys": null})))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

/// A change that changes nothing writes nothing: no audit entry for the same selection saved
/// twice, or for the same disabled controls.
#[tokio::test]
async fn saving_what_is_stored_writes_no_entry() {
    let app = spawn_app().await;
    for _ in 0..2 {
        let resp = app.put(ENABLED, json!({"keys": ["soc2", "owasp"]})).await;
        assert_eq!(resp.status, StatusCode::OK);
        assert_eq!(resp.body["enabled_keys"], json!(["soc2", "owasp"]));
    }
    // The default on a fresh org is already null.
    let fresh = app
        .new_org(compliance_domain::plans::Plan::Enterprise)
        .await;
    let resp = app
        .call(
            reqwest::Method::PUT,
            ENABLED,
            Some(&fresh.1),
            Some(json!({"keys": null})),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(
        audit_actions(&app, "COMPLIANCE_FRAMEWORKS_UPDATED")
            .await
            .len(),
        1
    );
    let controls = "/api/compliance/frameworks/soc2/controls";
    for body in [
        json!({"disabled": ["CC8.1"]}),
        json!({"disabled": ["CC8.1"]}),
    ] {
        assert_eq!(app.put(controls, body).await.status, StatusCode::OK);
    }
    let owasp = "/api/compliance/frameworks/owasp/controls";
    assert_eq!(
        app.put(owasp, json!({"disabled": []})).await.status,
        StatusCode::OK
    );
    assert_eq!(
        audit_actions(&app, "COMPLIANCE_CONTROLS_UPDATED")
            .await
            .len(),
        1
    );
}

/// Settings written before each framework's disabled controls had an item of their own are
/// read as they were and moved to their own items by the next write, nothing lost.
#[tokio::test]
async fn settings_of_the_earlier_layout_are_read_and_moved() {
    use compliance_domain::ids::FrameworkKey;
    use compliance_store::{keys, WriteOp};
    let app = spawn_app().await;
    let org = test_support::org(&app.org_id);
    let selection_key = keys::org_settings(&org);
    let legacy = json!({
        "PK": selection_key.pk, "SK": selection_key.sk, "entity": "settings", "org_id": app.org_id,
        "enabled_keys": ["soc2", "owasp"],
        "disabled_controls": {"soc2": ["CC8.1"], "owasp": ["A01:2021", "A02:2021"]},
        "version": 3,
    });
    app.store()
        .write(vec![WriteOp::put(legacy.as_object().unwrap().clone())])
        .await
        .unwrap();
    let disabled = |body: Value| -> Vec<Value> {
        body["controls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["disabled"] == true)
            .map(|c| c["id"].clone())
            .collect()
    };
    let soc2 = "/api/compliance/frameworks/soc2/controls";
    let owasp = "/api/compliance/frameworks/owasp/controls";
    assert_eq!(disabled(app.get(soc2).await.body), vec![json!("CC8.1")]);
    assert_eq!(disabled(app.get(owasp).await.body).len(), 2);
    let resp = app.put(owasp, json!({"disabled": ["A03:2021"]})).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(disabled(app.get(soc2).await.body), vec![json!("CC8.1")]);
    assert_eq!(disabled(app.get(owasp).await.body), vec![json!("A03:2021")]);
    // Moved: the selection item holds no list; each framework has its own item.
    let selection = app.store().get(&selection_key).await.unwrap().unwrap();
    assert!(
        selection.get("disabled_controls").is_none(),
        "{selection:?}"
    );
    assert_eq!(selection["enabled_keys"], json!(["soc2", "owasp"]));
    let soc2_item = app
        .store()
        .get(&keys::disabled_controls(
            &org,
            &FrameworkKey::parse("soc2").unwrap(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(soc2_item["disabled"], json!(["CC8.1"]));
}
