//! POST /api/audits as the reference documents it (cURL and JavaScript examples), its error
//! bodies, what a client needs next, and ownership: another user, another org.

use compliance_domain::plans::{Plan, Role};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::intercept::{Intercept, Intercepted};
use test_support::{hs256_token, spawn_app, TestApp};

const RULE_FIELDS: [&str; 12] = [
    "rule_id",
    "name",
    "type",
    "description",
    "threshold",
    "time_window",
    "severity",
    "conditions",
    "policy_excerpt",
    "policy_section",
    "category",
    "historical_context",
];

fn example() -> Value {
    json!({"name": "Q4 2024 SOC2 Compliance Audit", "policy_type": "soc2", "selected_categories": ["Access Control", "Encryption"]})
}

async fn create(app: &TestApp, token: &str, body: Value) -> test_support::Response {
    app.with_bearer(Method::POST, "/api/audits", token, Some(body))
        .await
}

fn user(app: &TestApp, sub: &str) -> String {
    hs256_token(&app.org_id, "member", json!({"sub": sub}))
}

#[tokio::test]
async fn the_reference_example() {
    let app = spawn_app().await;
    let token = user(&app, "supabase-user-1");
    let resp = create(&app, &token, example()).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let body = &resp.body;
    for id in ["audit_id", "policy_id"] {
        let parsed = uuid::Uuid::parse_str(body[id].as_str().unwrap()).unwrap();
        assert_eq!(parsed.get_version_num(), 4, "{id} is a UUID v4");
    }
    let rules = body["rules"].as_array().unwrap();
    assert!(!rules.is_empty());
    for rule in rules {
        for field in RULE_FIELDS {
            assert!(rule.get(field).is_some(), "{field} missing in {rule}");
        }
        assert!(
            ["Access Control", "Encryption"].contains(&rule["category"].as_str().unwrap()),
            "{rule}"
        );
        assert!(rule["conditions"].is_object());
    }
    let mfa = rules
        .iter()
        .find(|r| r["rule_id"] == "soc2-ac-001")
        .unwrap();
    assert_eq!(mfa["name"], "Multi-Factor Authentication Required");
    assert_eq!(mfa["type"], "boolean");
    assert_eq!(mfa["severity"], "high");
    assert_eq!(mfa["policy_section"], "CC6.1");
    let enc = rules
        .iter()
        .find(|r| r["rule_id"] == "soc2-enc-001")
        .unwrap();
    assert_eq!(
        (enc["severity"].as_str(), enc["policy_section"].as_str()),
        (Some("critical"), Some("CC6.7"))
    );

    // The JavaScript example sends the same body; then reads data.rules.length.
    let js = create(&app, &token, json!({"name": "Q4 2024 SOC2 Compliance Audit", "policy_type": "soc2", "selected_categories": ["Access Control", "Encryption"]})).await;
    assert_eq!(js.status, StatusCode::CREATED);
    assert_eq!(js.body["rules"].as_array().unwrap().len(), rules.len());
    assert_ne!(js.body["audit_id"], body["audit_id"]);

    // Stored: the audit with its rules, the policy's rules (is_active), the audit-log entry.
    let audit_id = body["audit_id"].as_str().unwrap();
    let stored = app
        .with_bearer(
            Method::GET,
            &format!("/api/audits/{audit_id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(stored.status, StatusCode::OK);
    assert_eq!(stored.body["name"], "Q4 2024 SOC2 Compliance Audit");
    assert_eq!(stored.body["rules"].as_array().unwrap().len(), rules.len());
    let policy_id = body["policy_id"].as_str().unwrap();
    let policy = app
        .with_bearer(
            Method::GET,
            &format!("/api/policies/{policy_id}/rules"),
            &token,
            None,
        )
        .await;
    assert_eq!(policy.status, StatusCode::OK);
    assert_eq!(policy.body["policy"]["status"], "active");
    assert_eq!(policy.body["policy"]["type"], "prebuilt");
    assert!(policy.body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["is_active"] == true));
    let logged = app.get("/api/audit-logs?action=AUDIT_CREATED").await.body["entries"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(logged, 2);
}

#[tokio::test]
async fn every_pack_and_category_filters() {
    let app = spawn_app().await;
    let token = user(&app, "u");
    let packs = app
        .with_bearer(Method::GET, "/api/policy-packs", &token, None)
        .await;
    assert_eq!(packs.status, StatusCode::OK);
    let packs = packs.body["packs"].as_array().unwrap().clone();
    assert_eq!(packs.len(), 3);
    for p in &packs {
        let t = p["policy_type"].as_str().unwrap();
        assert!(p["rule_count"].as_u64().unwrap() >= 12, "{t}");
        let all = create(
            &app,
            &token,
            json!({"name": format!("{t} audit"), "policy_type": t}),
        )
        .await;
        assert_eq!(all.status, StatusCode::CREATED, "{t}");
        assert_eq!(
            all.body["rules"].as_array().unwrap().len() as u64,
            p["rule_count"].as_u64().unwrap()
        );
        // One category, spelled loosely: exactly its rules.
        let cat = &p["categories"][0];
        let loose = format!(
            "  {}  ",
            cat["name"]
                .as_str()
                .unwrap()
                .to_uppercase()
                .replace(' ', "   ")
        );
        let one = create(
            &app,
            &token,
            json!({"name": "x", "policy_type": t, "selected_categories": [loose]}),
        )
        .await;
        assert_eq!(one.status, StatusCode::CREATED, "{:?}", one.body);
        let rules = one.body["rules"].as_array().unwrap();
        assert_eq!(rules.len() as u64, cat["rule_count"].as_u64().unwrap());
        assert!(rules.iter().all(|r| r["category"] == cat["name"]));
    }
    // Listing: newest first, paginated.
    let first = app
        .with_bearer(Method::GET, "/api/audits?limit=4", &token, None)
        .await;
    assert_eq!(first.body["audits"].as_array().unwrap().len(), 4);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest = app
        .with_bearer(
            Method::GET,
            &format!("/api/audits?limit=4&cursor={cursor}"),
            &token,
            None,
        )
        .await;
    assert_eq!(rest.body["audits"].as_array().unwrap().len(), 2);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    // Rule filters of a policy.
    let policy = first.body["audits"][0]["policy_id"]
        .as_str()
        .unwrap()
        .to_string();
    let high = app
        .with_bearer(
            Method::GET,
            &format!("/api/policies/{policy}/rules?severity=high"),
            &token,
            None,
        )
        .await;
    assert!(high.body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["severity"] == "high"));
    let bad = app
        .with_bearer(
            Method::GET,
            &format!("/api/policies/{policy}/rules?severity=urgent"),
            &token,
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.body,
        json!({"error": "VALIDATION_ERROR", "message": "Invalid query parameters",
               "details": [{"path": ["severity"],
                            "message": "Invalid enum value. Expected 'low' | 'medium' | 'high' | 'critical'"}]})
    );
    // A query parameter is never called a body.
    for query in ["limit=0", "limit=abc", "cursor=%25%25", "page=2"] {
        let bad = app
            .with_bearer(Method::GET, &format!("/api/audits?{query}"), &token, None)
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(bad.body["message"], "Invalid query parameters", "{query}");
    }
}

#[tokio::test]
async fn documented_errors() {
    let app = spawn_app().await;
    let token = user(&app, "u");
    let resp = create(&app, &token, json!({"name": "x", "policy_type": "hipaa"})).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.body,
        json!({"error": "VALIDATION_ERROR", "message": "Invalid request body",
               "details": [{"path": ["policy_type"], "message": "Invalid enum value. Expected 'aml' | 'gdpr' | 'soc2'"}]})
    );
    // One entry per problem: missing name, wrong types, unknown fields.
    let resp = create(
        &app,
        &token,
        json!({"policy_type": 7, "selected_categories": "Encryption", "owner": "me"}),
    )
    .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    let paths: Vec<Value> = resp.body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].clone())
        .collect();
    for expected in [
        json!(["name"]),
        json!(["policy_type"]),
        json!(["selected_categories"]),
        json!(["owner"]),
    ] {
        assert!(paths.contains(&expected), "{expected} in {paths:?}");
    }
    let unknown = create(&app, &token, json!({"name": "x", "policy_type": "soc2", "selected_categories": ["Encryption", "Astrology"]})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let detail = &unknown.body["details"][0];
    assert_eq!(detail["path"], json!(["selected_categories", 1]));
    assert!(
        detail["message"]
            .as_str()
            .unwrap()
            .contains("'Access Control'"),
        "lists the valid ones"
    );
    let empty = create(
        &app,
        &token,
        json!({"name": "x", "policy_type": "soc2", "selected_categories": []}),
    )
    .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        empty.body["details"][0]["path"],
        json!(["selected_categories"])
    );
    let not_json = app
        .send(
            app.request(Method::POST, "/api/audits")
                .bearer_auth(&token)
                .header("Content-Type", "application/json")
                .body("{"),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_json.body["error"], "VALIDATION_ERROR");

    let anonymous = app
        .call(Method::POST, "/api/audits", None, Some(example()))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.body,
        json!({"error": "UNAUTHORIZED", "message": "Not authenticated — no valid session found"})
    );
    let expired = hs256_token(
        &app.org_id,
        "member",
        json!({"exp": chrono::Utc::now().timestamp() - 3600}),
    );
    assert_eq!(
        create(&app, &expired, example()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    let resp = app
        .call(Method::POST, "/api/audits", Some(&viewer), Some(example()))
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    assert_eq!(resp.body["error"], "FORBIDDEN");
    // Nothing of the failures above was stored.
    let list = app
        .with_bearer(Method::GET, "/api/audits", &token, None)
        .await;
    assert_eq!(list.body["audits"], json!([]));
}

#[tokio::test]
async fn only_the_creator_sees_an_audit() {
    let app = spawn_app().await;
    let alice = user(&app, "alice");
    let created = create(&app, &alice, example()).await;
    let audit_id = created.body["audit_id"].as_str().unwrap().to_string();
    let policy_id = created.body["policy_id"].as_str().unwrap().to_string();
    let paths = [
        format!("/api/audits/{audit_id}"),
        format!("/api/policies/{policy_id}/rules"),
    ];

    let bob = user(&app, "bob");
    for path in &paths {
        let resp = app.with_bearer(Method::GET, path, &bob, None).await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(resp.body["error"], "NOT_FOUND");
    }
    assert_eq!(
        app.with_bearer(Method::GET, "/api/audits", &bob, None)
            .await
            .body["audits"],
        json!([])
    );
    // An admin of the same org is another principal too.
    let admin = app.get(&paths[0]).await;
    assert_eq!(admin.status, StatusCode::NOT_FOUND);
    // Another org's user with the same subject.
    let (other_org, _) = app.new_org(Plan::Team).await;
    let twin = hs256_token(&other_org, "member", json!({"sub": "alice"}));
    for path in &paths {
        assert_eq!(
            app.with_bearer(Method::GET, path, &twin, None).await.status,
            StatusCode::NOT_FOUND
        );
    }
    // Alice sees hers.
    for path in &paths {
        assert_eq!(
            app.with_bearer(Method::GET, path, &alice, None)
                .await
                .status,
            StatusCode::OK
        );
    }
    for bad in ["/api/audits/not-a-uuid", "/api/policies/123/rules"] {
        assert_eq!(
            app.with_bearer(Method::GET, bad, &alice, None).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

/// Refuses writes of policy records, as a throttled or unreachable table would.
struct FailingPolicies;

impl Intercept for FailingPolicies {
    fn write(&self, ops: &[compliance_store::WriteOp]) -> Result<(), compliance_store::StoreError> {
        let policy = ops.iter().any(|op| matches!(op, compliance_store::WriteOp::Put { item, .. } if item.get("entity") == Some(&json!("policy"))));
        if policy {
            return Err(compliance_store::StoreError::Backend(
                "ProvisionedThroughputExceededException: table compliance-Table-XYZ".into(),
            ));
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_storage_failure_is_the_documented_500_and_leaks_nothing() {
    let (store, dir) = test_support::embedded_store();
    let stores = test_support::TestStore {
        store: std::sync::Arc::new(Intercepted {
            inner: store.clone(),
            hook: FailingPolicies,
        }),
        feed: Some(store),
        dir: Some(dir),
    };
    let app = test_support::spawn_app_with(stores, None).await;
    let token = user(&app, "u");
    let resp = create(&app, &token, example()).await;
    assert_eq!(resp.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        resp.body,
        json!({"error": "INTERNAL_ERROR", "message": "Failed to create policy"})
    );
    assert!(
        resp.headers.get("x-request-id").is_some(),
        "the id to find the logged detail"
    );
    let list = app
        .with_bearer(Method::GET, "/api/audits", &token, None)
        .await;
    assert_eq!(list.body["audits"], json!([]), "nothing half-written");
}
