//! Exceptions to findings over HTTP: requested by a member, decided by a second person with the
//! admin role (never the requester, whatever their role), listed with filters, each transition in
//! the history and the audit log; other orgs see nothing; bad bodies are 400s naming the field.
//! On both stores.

use std::sync::Arc;

use chrono::{Duration, Utc};
use compliance_domain::plans::{Plan, Role};
use compliance_domain::time::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{spawn_app_on, spawn_app_with, store_for, Backend, TestApp};

async fn new_repo(app: &TestApp) -> u64 {
    let name = format!("exceptions-{}", uuid::Uuid::new_v4());
    let resp = app.post("/api/repos", json!({"name": name})).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["repo_id"].as_u64().unwrap()
}

fn false_positive() -> Value {
    json!({
        "scope": {"rule_id": "js/sql-injection", "path": "test/**"},
        "kind": "false_positive",
        "justification": "Test fixtures build their queries from constants only."
    })
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> test_support::Response {
    app.call(method, path, Some(key), body).await
}

async fn four_eyes(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let repo = new_repo(&app).await;
    let base = format!("/api/repos/{repo}/exceptions");
    let member = app.key_for(&app.org_id, Role::Member).await;
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    let second_admin = app.key_for(&app.org_id, Role::Admin).await;

    // A viewer may not request; a member may.
    let resp = call(&app, Method::POST, &base, &viewer, Some(false_positive())).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN, "{:?}", resp.body);
    let resp = call(&app, Method::POST, &base, &member, Some(false_positive())).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let exception = resp.body;
    assert_eq!(exception["state"], "requested");
    assert_eq!(exception["repo_id"], json!(repo));
    assert_eq!(
        exception["scope"],
        json!({"rule_id": "js/sql-injection", "path": "test/**"})
    );
    assert_eq!(exception["requested_by"]["kind"], "api_key");
    let id = exception["exception_id"].as_str().unwrap().to_string();
    let one = format!("{base}/{id}");

    // A member may not decide; nor may the admin who requested one of their own.
    let resp = call(
        &app,
        Method::POST,
        &format!("{one}/approve"),
        &member,
        Some(json!({})),
    )
    .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN, "{:?}", resp.body);
    let own = app.post(&base, false_positive()).await;
    assert_eq!(own.status, StatusCode::CREATED);
    let own_id = own.body["exception_id"].as_str().unwrap();
    for verb in ["approve", "reject"] {
        let resp = app
            .post(
                &format!("{base}/{own_id}/{verb}"),
                json!({"reason": "mine"}),
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::FORBIDDEN,
            "{verb}: {:?}",
            resp.body
        );
        assert!(
            resp.body["detail"]
                .as_str()
                .unwrap()
                .contains("other than its requester"),
            "{:?}",
            resp.body
        );
    }
    let still = app.get(&format!("{base}/{own_id}")).await;
    assert_eq!(still.body["state"], "requested");
    // Who may decide, as each caller is told: another admin, never the requester or a member.
    assert_eq!(still.body["can_decide"], false);
    for (key, exception, may) in [
        (&second_admin, own_id, true),
        (&second_admin, id.as_str(), true),
        (&member, id.as_str(), false),
        (&viewer, id.as_str(), false),
    ] {
        let seen = call(&app, Method::GET, &format!("{base}/{exception}"), key, None).await;
        assert_eq!(seen.body["can_decide"], may, "{:?}", seen.body);
    }

    // A second admin approves the member's request.
    let resp = call(
        &app,
        Method::POST,
        &format!("{one}/approve"),
        &second_admin,
        Some(json!({})),
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    assert_eq!(resp.body["state"], "approved");
    assert_eq!(resp.body["decided_by"]["kind"], "api_key");
    // Decided once: approving or rejecting again is a conflict.
    let resp = app
        .post(&format!("{one}/reject"), json!({"reason": "late"}))
        .await;
    assert_eq!(resp.status, StatusCode::CONFLICT, "{:?}", resp.body);
    // Revoked (the revocation's reason kept); then nothing more.
    let resp = app
        .post(&format!("{one}/revoke"), json!({"reason": "code changed"}))
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    assert_eq!(resp.body["state"], "revoked");
    let resp = app.post(&format!("{one}/revoke"), json!({})).await;
    assert_eq!(resp.status, StatusCode::CONFLICT);

    // The history, in order, with the actors.
    let got = app.get(&one).await;
    assert_eq!(got.status, StatusCode::OK);
    let states: Vec<&str> = got.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["requested", "approved", "revoked"]);
    assert_eq!(got.body["history"][2]["reason"], "code changed");

    // Rejection needs a reason, and is final.
    let resp = call(&app, Method::POST, &base, &member, Some(false_positive())).await;
    let rejected = resp.body["exception_id"].as_str().unwrap().to_string();
    let resp = app
        .post(&format!("{base}/{rejected}/reject"), json!({}))
        .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.body["errors"][0]["path"],
        json!(["reason"]),
        "{:?}",
        resp.body
    );
    let resp = app
        .post(
            &format!("{base}/{rejected}/reject"),
            json!({"reason": "takes input in production"}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    assert_eq!(resp.body["state"], "rejected");
    assert_eq!(resp.body["reason"], "takes input in production");

    // Listing, with filters.
    let list = app.get(&base).await;
    assert_eq!(list.body["exceptions"].as_array().unwrap().len(), 3);
    let list = app.get(&format!("{base}?state=requested")).await;
    let ids: Vec<&str> = list.body["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["exception_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [own_id]);
    let list = app.get(&format!("{base}?kind=risk_accepted")).await;
    assert!(list.body["exceptions"].as_array().unwrap().is_empty());
    let list = app
        .get(&format!("{base}?rule_id=js/sql-injection&limit=1"))
        .await;
    assert_eq!(list.body["exceptions"].as_array().unwrap().len(), 1);
    let cursor = list.body["next_cursor"].as_str().expect("a next page");
    let list = app
        .get(&format!(
            "{base}?rule_id=js/sql-injection&limit=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(list.body["exceptions"].as_array().unwrap().len(), 2);
    assert_eq!(list.body["next_cursor"], Value::Null);
    let resp = app.get(&format!("{base}?state=closed")).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{:?}", resp.body);

    // Every transition is in the audit log.
    for (action, count) in [
        ("EXCEPTION_REQUESTED", 3),
        ("EXCEPTION_APPROVED", 1),
        ("EXCEPTION_REJECTED", 1),
        ("EXCEPTION_REVOKED", 1),
    ] {
        let log = app.get(&format!("/api/audit-logs?action={action}")).await;
        assert_eq!(
            log.body["entries"].as_array().map(Vec::len),
            Some(count),
            "{action}: {:?}",
            log.body
        );
    }
}

#[tokio::test]
async fn four_eyes_on_the_embedded_store() {
    four_eyes(Backend::Embedded).await;
}

#[tokio::test]
async fn four_eyes_on_dynamodb() {
    four_eyes(Backend::Dynamo).await;
}

#[tokio::test]
async fn bad_requests_name_the_field() {
    let app = spawn_app_on(Backend::Embedded).await;
    let repo = new_repo(&app).await;
    let base = format!("/api/repos/{repo}/exceptions");
    let in_a_year = |days: i64| (Utc::now() + Duration::days(days)).to_rfc3339();
    let cases = [
        (
            json!({"kind": "false_positive", "justification": "x"}),
            json!(["scope"]),
        ),
        (
            json!({"scope": {}, "kind": "false_positive", "justification": "x"}),
            json!(["scope", "fingerprints"]),
        ),
        (
            json!({"scope": {"cwe": 79, "rule_id": "r"}, "kind": "false_positive", "justification": "x"}),
            json!(["scope", "fingerprints"]),
        ),
        (
            json!({"scope": {"path": "src/**"}, "kind": "false_positive", "justification": "x"}),
            json!(["scope", "rule_id"]),
        ),
        (
            json!({"scope": {"fingerprints": []}, "kind": "false_positive", "justification": "x"}),
            json!(["scope", "fingerprints"]),
        ),
        (
            json!({"scope": {"cwe": "XSS"}, "kind": "false_positive", "justification": "x"}),
            json!(["scope", "cwe"]),
        ),
        (
            json!({"scope": {"cwe": 79}, "kind": "ignored", "justification": "x"}),
            json!(["kind"]),
        ),
        (
            json!({"scope": {"cwe": 79}, "kind": "false_positive", "justification": "  "}),
            json!(["justification"]),
        ),
        (
            json!({"scope": {"cwe": 79}, "kind": "risk_accepted", "justification": "x"}),
            json!(["expires_at"]),
        ),
        (
            json!({"scope": {"cwe": 79}, "kind": "wont_fix", "justification": "x", "expires_at": in_a_year(366)}),
            json!(["expires_at"]),
        ),
        (
            json!({"scope": {"cwe": 79}, "kind": "wont_fix", "justification": "x", "expires_at": in_a_year(-1)}),
            json!(["expires_at"]),
        ),
        (
            json!({"scope": {"cwe": 79}, "kind": "wont_fix", "justification": "x", "expires_at": "next year"}),
            json!(["expires_at"]),
        ),
        (
            json!({"scope": {"cwe": 79}, "kind": "false_positive", "justification": "x", "owner": "me"}),
            json!(["owner"]),
        ),
    ];
    for (body, path) in cases {
        let resp = app.post(&base, body.clone()).await;
        assert_eq!(
            resp.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            resp.body
        );
        let paths: Vec<&Value> = resp.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["path"])
            .collect();
        assert!(paths.contains(&&path), "{body}: {:?}", resp.body);
    }
    // The documented maximum is accepted, and "CWE-79" reads as 79.
    let resp = app
        .post(
            &base,
            json!({"scope": {"cwe": "CWE-79"}, "kind": "risk_accepted", "justification": "x",
                   "expires_at": in_a_year(365)}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    assert_eq!(resp.body["scope"], json!({"cwe": 79}));
    // Nothing was written by the refusals.
    let list = app.get(&base).await;
    assert_eq!(list.body["exceptions"].as_array().unwrap().len(), 1);
    // Unknown ids and repositories are 404s.
    for path in [
        format!("{base}/not-a-uuid"),
        format!("{base}/00000000-0000-0000-0000-000000000001"),
        "/api/repos/999999/exceptions".to_string(),
    ] {
        assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn other_orgs_see_and_change_nothing() {
    let app = spawn_app_on(Backend::Embedded).await;
    let repo = new_repo(&app).await;
    let base = format!("/api/repos/{repo}/exceptions");
    let created = app.post(&base, false_positive()).await;
    let id = created.body["exception_id"].as_str().unwrap();
    let org_wide = app
        .post(
            "/api/compliance/exceptions",
            json!({"scope": {"cwe": 1333}, "kind": "compensating_control", "justification": "WAF rule 12"}),
        )
        .await;
    assert_eq!(org_wide.status, StatusCode::CREATED, "{:?}", org_wide.body);
    assert_eq!(org_wide.body["repo_id"], Value::Null);
    let org_id = org_wide.body["exception_id"].as_str().unwrap();

    let (_, other) = app.new_org(Plan::Enterprise).await;
    for path in [
        format!("{base}/{id}"),
        format!("{base}/{id}/approve"),
        format!("/api/compliance/exceptions/{org_id}"),
        format!("/api/compliance/exceptions/{org_id}/approve"),
    ] {
        let method = if path.ends_with("approve") {
            Method::POST
        } else {
            Method::GET
        };
        let resp = call(&app, method, &path, &other, Some(json!({}))).await;
        assert_eq!(
            resp.status,
            StatusCode::NOT_FOUND,
            "{path}: {:?}",
            resp.body
        );
    }
    let list = call(
        &app,
        Method::GET,
        "/api/compliance/exceptions",
        &other,
        None,
    )
    .await;
    assert_eq!(list.body["exceptions"], json!([]));
    // Org-wide requests are for admins; listing is for everyone of the org.
    let member = app.key_for(&app.org_id, Role::Member).await;
    let resp = call(
        &app,
        Method::POST,
        "/api/compliance/exceptions",
        &member,
        Some(false_positive()),
    )
    .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let list = call(
        &app,
        Method::GET,
        "/api/compliance/exceptions",
        &member,
        None,
    )
    .await;
    assert_eq!(list.body["exceptions"].as_array().unwrap().len(), 1);
    // Both are still only requested.
    assert_eq!(
        app.get(&format!("{base}/{id}")).await.body["state"],
        "requested"
    );
}

#[tokio::test]
async fn an_approval_expires_on_the_second_without_a_write() {
    let start = Utc::now();
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_app_with(store_for(Backend::Embedded).await, Some(clock.clone())).await;
    let repo = new_repo(&app).await;
    let base = format!("/api/repos/{repo}/exceptions");
    let member = app.key_for(&app.org_id, Role::Member).await;
    let expires = start + Duration::seconds(30);
    let body = json!({"scope": {"fingerprints": ["a1b2"]}, "kind": "risk_accepted",
                      "justification": "Fix scheduled", "expires_at": expires.to_rfc3339()});
    let created = call(&app, Method::POST, &base, &member, Some(body)).await;
    let id = created.body["exception_id"].as_str().unwrap();
    let approved = app.post(&format!("{base}/{id}/approve"), json!({})).await;
    assert_eq!(approved.body["state"], "approved");
    clock.set(expires - Duration::milliseconds(1));
    assert_eq!(
        app.get(&format!("{base}/{id}")).await.body["state"],
        "approved"
    );
    clock.set(expires);
    assert_eq!(
        app.get(&format!("{base}/{id}")).await.body["state"],
        "expired"
    );
    let list = app.get(&format!("{base}?state=expired")).await;
    assert_eq!(list.body["exceptions"].as_array().unwrap().len(), 1);
    // An expired exception is not revoked: it already ended.
    let resp = app.post(&format!("{base}/{id}/revoke"), json!({})).await;
    assert_eq!(resp.status, StatusCode::CONFLICT, "{:?}", resp.body);
}

/// A SARIF report with two SQL injections (CWE-89): one in a test file, one in the code.
pub(crate) fn injections() -> Vec<u8> {
    injections_in(&["test/db.test.js", "src/db.js"])
}

/// A SARIF report with an SQL injection (CWE-89) in each of `paths`.
fn injections_in(paths: &[&str]) -> Vec<u8> {
    let result = |path: &str| {
        json!({
            "ruleId": "js/sql-injection", "level": "error",
            "message": {"text": "Query built from user input"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": path}, "region": {"startLine": 3}}}]
        })
    };
    serde_json::to_vec(&json!({
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "CodeQL", "rules": [{
                "id": "js/sql-injection",
                "properties": {"tags": ["security", "external/cwe/cwe-089"], "security-severity": "8.8"}
            }]}},
            "results": paths.iter().map(|p| result(p)).collect::<Vec<_>>()
        }]
    }))
    .unwrap()
}

/// The score's controls that count `js/sql-injection` findings: (framework, control) → evidence.
fn counted_controls(score: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (key, fw) in score["frameworks"].as_object().unwrap() {
        for c in fw["controls"].as_array().unwrap() {
            let total: u64 = ["critical", "high", "medium", "low", "info"]
                .iter()
                .map(|s| c["evidence"]["counts"][s].as_u64().unwrap_or(0))
                .sum();
            if total > 0 || c["evidence"].get("excepted").is_some() {
                out.push((format!("{key}/{}", c["id"].as_str().unwrap()), c.clone()));
            }
        }
    }
    out
}

async fn approved_exceptions_set_findings_aside(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let repo = new_repo(&app).await;
    let resp = app
        .post_bytes(
            &format!("/api/repos/{repo}/scans"),
            "application/sarif+json",
            injections(),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let score_path = format!("/api/compliance/score/{repo}");
    let before = app.get(&score_path).await.body;
    assert_eq!(before["total_issues"], 2);
    let counted = counted_controls(&before);
    assert!(!counted.is_empty(), "{before}");
    assert!(before["executive_summary"].get("exceptions").is_none());

    // A member asks for the test file's finding to be set aside; a second admin approves.
    let base = format!("/api/repos/{repo}/exceptions");
    let member = app.key_for(&app.org_id, Role::Member).await;
    let created = call(&app, Method::POST, &base, &member, Some(false_positive())).await;
    let id = created.body["exception_id"].as_str().unwrap().to_string();
    // Requested is not approved: nothing changes yet.
    let pending = app.get(&score_path).await.body;
    assert_eq!(pending["total_issues"], 2);
    let approved = app.post(&format!("{base}/{id}/approve"), json!({})).await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);

    let after = app.get(&score_path).await.body;
    assert_eq!(after["total_issues"], 1, "{after}");
    assert_eq!(
        after["executive_summary"]["exceptions"]["excepted_findings"],
        1
    );
    assert!(after["executive_summary"]["exceptions"]
        .get("soonest_expiry")
        .is_none());
    for (name, control) in counted_controls(&after) {
        assert_eq!(control["evidence"]["excepted"], 1, "{name}: {control}");
        assert!(
            control["reason"]
                .as_str()
                .unwrap()
                .contains("1 more finding excepted"),
            "{name}: {control}"
        );
    }
    let overall = |s: &Value| s["executive_summary"]["overall_score"].as_u64().unwrap();
    assert!(overall(&after) >= overall(&before));
    // The Statement of Applicability counts them per control across repositories.
    let soa = app.get("/api/compliance/frameworks/owasp/soa").await.body;
    let a03 = soa["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "A03:2021")
        .unwrap();
    assert_eq!(a03["implementation"]["excepted_findings"], 1, "{a03}");

    // Revoked, the finding counts again.
    let revoked = app.post(&format!("{base}/{id}/revoke"), json!({})).await;
    assert_eq!(revoked.status, StatusCode::OK);
    let again = app.get(&score_path).await.body;
    assert_eq!(again["total_issues"], 2);
    assert_eq!(counted_controls(&again), counted);

    // An org-wide exception by CWE sets both aside, in every view of the repository.
    let org_wide = app
        .post(
            "/api/compliance/exceptions",
            json!({"scope": {"cwe": 89}, "kind": "compensating_control", "justification": "WAF rule 942"}),
        )
        .await;
    let org_id = org_wide.body["exception_id"].as_str().unwrap();
    let second = app.key_for(&app.org_id, Role::Admin).await;
    let resp = call(
        &app,
        Method::POST,
        &format!("/api/compliance/exceptions/{org_id}/approve"),
        &second,
        Some(json!({})),
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    let all = app.get(&score_path).await.body;
    assert_eq!(all["total_issues"], 0, "{all}");
    assert_eq!(
        all["executive_summary"]["exceptions"]["excepted_findings"],
        2
    );
    let summary = app.get("/api/compliance/summary").await.body;
    let mine = summary["repos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["repo_id"] == json!(repo))
        .unwrap();
    assert_eq!(
        mine["overall_score"], all["executive_summary"]["overall_score"],
        "{mine}"
    );
}

#[tokio::test]
async fn approved_exceptions_set_findings_aside_on_the_embedded_store() {
    approved_exceptions_set_findings_aside(Backend::Embedded).await;
}

#[tokio::test]
async fn approved_exceptions_set_findings_aside_on_dynamodb() {
    approved_exceptions_set_findings_aside(Backend::Dynamo).await;
}

/// An exception that ends stops applying at that second: the score changes back with no write.
#[tokio::test]
async fn a_score_changes_back_when_its_exception_expires() {
    // Whole seconds: instants are kept to the microsecond.
    let start = chrono::DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_app_with(store_for(Backend::Embedded).await, Some(clock.clone())).await;
    let repo = new_repo(&app).await;
    app.post_bytes(
        &format!("/api/repos/{repo}/scans"),
        "application/sarif+json",
        injections(),
    )
    .await;
    let base = format!("/api/repos/{repo}/exceptions");
    let member = app.key_for(&app.org_id, Role::Member).await;
    let expires = start + Duration::seconds(5);
    let body = json!({"scope": {"rule_id": "js/sql-injection"}, "kind": "risk_accepted",
                      "justification": "Fix ships Monday", "expires_at": expires.to_rfc3339()});
    let created = call(&app, Method::POST, &base, &member, Some(body)).await;
    let id = created.body["exception_id"].as_str().unwrap();
    app.post(&format!("{base}/{id}/approve"), json!({})).await;
    let score_path = format!("/api/compliance/score/{repo}");
    let during = app.get(&score_path).await.body;
    assert_eq!(during["total_issues"], 0);
    let soonest = during["executive_summary"]["exceptions"]["soonest_expiry"]
        .as_str()
        .unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(soonest).unwrap(),
        expires
    );
    for (name, control) in counted_controls(&during) {
        assert_eq!(
            chrono::DateTime::parse_from_rfc3339(
                control["evidence"]["exceptions_expire_at"]
                    .as_str()
                    .unwrap()
            )
            .unwrap(),
            expires,
            "{name}"
        );
    }
    // Read again just before the end (the memo may answer), then at the end.
    clock.set(expires - Duration::milliseconds(1));
    assert_eq!(app.get(&score_path).await.body["total_issues"], 0);
    clock.set(expires);
    let after = app.get(&score_path).await.body;
    assert_eq!(after["total_issues"], 2, "{after}");
    assert!(after["executive_summary"].get("exceptions").is_none());
}

/// When the repository's latest scan no longer has any finding an exception covers, the
/// exception closes (`resolved`, by the system, audited): the finding coming back counts again.
#[tokio::test]
async fn an_exception_resolves_when_its_findings_are_gone() {
    let app = spawn_app_on(Backend::Embedded).await;
    let repo = new_repo(&app).await;
    let scans = format!("/api/repos/{repo}/scans");
    let report = |paths: &[&str]| injections_in(paths);
    app.post_bytes(&scans, "application/sarif+json", injections())
        .await;
    let base = format!("/api/repos/{repo}/exceptions");
    let member = app.key_for(&app.org_id, Role::Member).await;
    let created = call(&app, Method::POST, &base, &member, Some(false_positive())).await;
    let id = created.body["exception_id"].as_str().unwrap().to_string();
    app.post(&format!("{base}/{id}/approve"), json!({})).await;
    let state = || async { app.get(&format!("{base}/{id}")).await.body["state"].clone() };

    // A later scan that still has the finding leaves the exception approved.
    app.post_bytes(
        &scans,
        "application/sarif+json",
        report(&["src/db.js", "test/db.test.js", "src/x.js"]),
    )
    .await;
    // The test file's finding is fixed: the next scan closes the exception.
    app.post_bytes(&scans, "application/sarif+json", report(&["src/db.js"]))
        .await;
    let resolved = test_support::eventually(std::time::Duration::from_secs(20), || async {
        (state().await == "resolved").then_some(())
    })
    .await;
    assert!(resolved.is_some(), "{}", state().await);
    let got = app.get(&format!("{base}/{id}")).await.body;
    let last = got["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["state"].as_str(), last["by"]["kind"].as_str()),
        (Some("resolved"), Some("system"))
    );
    let log = app
        .get("/api/audit-logs?action=EXCEPTION_RESOLVED")
        .await
        .body;
    assert_eq!(log["entries"].as_array().unwrap().len(), 1);

    // Reintroduced, it counts again.
    app.post_bytes(
        &scans,
        "application/sarif+json",
        report(&["src/db.js", "test/db.test.js"]),
    )
    .await;
    let score = app.get(&format!("/api/compliance/score/{repo}")).await.body;
    assert_eq!(score["total_issues"], 2);
    assert!(score["executive_summary"].get("exceptions").is_none());
}

/// The demo-like report of one result its tool suppressed in source (`// nosemgrep`), with a
/// line of our own so that each report's bytes differ.
fn suppressed_report(line: u32) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(&test_support::sarif_sample(
        "semgrep/semgrep_nosemgrep_suppressed.sarif",
    ))
    .unwrap();
    doc["runs"][0]["properties"] = json!({"line": line});
    serde_json::to_vec(&doc).unwrap()
}

async fn suppressions_need_approval(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let repo = new_repo(&app).await;
    let scans = format!("/api/repos/{repo}/scans");
    let base = format!("/api/repos/{repo}/exceptions");
    assert_eq!(
        app.get("/api/compliance/settings").await.body,
        json!({"suppressions": "require_approval", "exception_max_days": 365, "alert_decision_days": 30})
    );
    // Sent by a member's CI key: the suppressed result counts, and its suppression is a request.
    let ci = app.key_for(&app.org_id, Role::Member).await;
    let send = |line: u32| {
        let key = ci.clone();
        let path = scans.clone();
        let app = &app;
        async move {
            app.send(
                app.request(Method::POST, &path)
                    .header("X-API-Key", key)
                    .header("Content-Type", "application/sarif+json")
                    .body(suppressed_report(line)),
            )
            .await
        }
    };
    let first = send(1).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(first.body["summary"]["totals"]["findings"], 1);
    assert_eq!(first.body["summary"]["excluded"]["suppressed"], 0);
    let requested = app.get(&format!("{base}?state=requested")).await.body;
    let list = requested["exceptions"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{requested}");
    let request = &list[0];
    assert_eq!(request["kind"], "false_positive");
    assert!(request["scope"]["fingerprints"].is_array(), "{request}");
    assert!(
        request["justification"]
            .as_str()
            .unwrap()
            .contains("rules.eqeq-is-bad"),
        "{request}"
    );
    assert_eq!(request["requested_by"]["kind"], "api_key");
    let id = request["exception_id"].as_str().unwrap().to_string();
    let score_path = format!("/api/compliance/score/{repo}");
    assert_eq!(app.get(&score_path).await.body["total_issues"], 1);

    // The same suppression in the next report is not asked again.
    assert_eq!(send(2).await.status, StatusCode::CREATED);
    let again = app.get(&base).await.body;
    assert_eq!(again["exceptions"].as_array().unwrap().len(), 1);

    // Its sender cannot approve it; an admin does, and the finding is set aside.
    let own = call(
        &app,
        Method::POST,
        &format!("{base}/{id}/approve"),
        &ci,
        Some(json!({})),
    )
    .await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    let approved = app.post(&format!("{base}/{id}/approve"), json!({})).await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
    let score = app.get(&score_path).await.body;
    assert_eq!(score["total_issues"], 0, "{score}");
    assert_eq!(
        score["executive_summary"]["exceptions"]["excepted_findings"],
        1
    );

    // `honour` (admins only, audited): the tool's suppression is followed, nothing requested.
    let member = call(
        &app,
        Method::PUT,
        "/api/compliance/settings",
        &ci,
        Some(json!({"suppressions": "honour"})),
    )
    .await;
    assert_eq!(member.status, StatusCode::FORBIDDEN);
    let bad = app
        .put(
            "/api/compliance/settings",
            json!({"suppressions": "ignore"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.body);
    let set = app
        .put(
            "/api/compliance/settings",
            json!({"suppressions": "honour"}),
        )
        .await;
    assert_eq!(
        set.body,
        json!({"suppressions": "honour", "exception_max_days": 365, "alert_decision_days": 30})
    );
    let other = new_repo(&app).await;
    let honoured = app
        .post_bytes(
            &format!("/api/repos/{other}/scans"),
            "application/sarif+json",
            suppressed_report(3),
        )
        .await;
    assert_eq!(honoured.body["summary"]["totals"]["findings"], 0);
    assert_eq!(honoured.body["summary"]["excluded"]["suppressed"], 1);
    let none = app
        .get(&format!("/api/repos/{other}/exceptions"))
        .await
        .body;
    assert_eq!(none["exceptions"], json!([]));
    let log = app
        .get("/api/audit-logs?action=COMPLIANCE_SETTINGS_UPDATED")
        .await
        .body;
    assert_eq!(
        log["entries"][0]["metadata"]["after"]["suppressions"],
        "honour"
    );
}

#[tokio::test]
async fn suppressions_need_approval_on_the_embedded_store() {
    suppressions_need_approval(Backend::Embedded).await;
}

#[tokio::test]
async fn suppressions_need_approval_on_dynamodb() {
    suppressions_need_approval(Backend::Dynamo).await;
}

/// The org sets how long an exception may run (1 to 1,095 days); requests are held to it.
#[tokio::test]
async fn the_org_sets_the_longest_exception() {
    let app = spawn_app_on(Backend::Embedded).await;
    let repo = new_repo(&app).await;
    let base = format!("/api/repos/{repo}/exceptions");
    for bad in [json!(0), json!(1096), json!("30")] {
        let resp = app
            .put(
                "/api/compliance/settings",
                json!({"exception_max_days": bad}),
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::BAD_REQUEST,
            "{bad}: {:?}",
            resp.body
        );
    }
    let set = app
        .put(
            "/api/compliance/settings",
            json!({"exception_max_days": 30}),
        )
        .await;
    assert_eq!(
        set.body,
        json!({"suppressions": "require_approval", "exception_max_days": 30, "alert_decision_days": 30})
    );
    let ask = |days: i64| {
        json!({"scope": {"cwe": 79}, "kind": "risk_accepted", "justification": "x",
               "expires_at": (Utc::now() + Duration::days(days)).to_rfc3339()})
    };
    let late = app.post(&base, ask(31)).await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST, "{:?}", late.body);
    assert_eq!(late.body["errors"][0]["path"], json!(["expires_at"]));
    assert!(late.body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("at most 30 days"));
    assert_eq!(app.post(&base, ask(29)).await.status, StatusCode::CREATED);
}
