//! Alert triage over HTTP: runs open alerts, a later run with the same findings adds
//! occurrences (never a second alert), the workflow with its outcomes, snoozes that keep
//! occurrences without reopening, the investigator's recommendation decided by someone else
//! (four eyes), reviewers named by the creator, and a case file whose hash chain an independent
//! script verifies (and that fails once edited). Both stores.

use std::path::Path;
use std::process::Command;

use compliance_domain::plans::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{hs256_token, spawn_app_on, Backend, Response, TestApp};

use crate::audit_runs::{aml_records, create_audit, ndjson, run_ndjson};

async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Response {
    app.with_bearer(method, path, token, body).await
}

async fn alerts(app: &TestApp, token: &str, audit: &str, query: &str) -> Vec<Value> {
    let resp = call(
        app,
        token,
        Method::GET,
        &format!("/api/audits/{audit}/alerts?limit=100{query}"),
        None,
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    assert_eq!(resp.body["next_cursor"], Value::Null);
    resp.body["alerts"].as_array().unwrap().clone()
}

fn by_rule<'a>(alerts: &'a [Value], rule: &str) -> Vec<&'a Value> {
    alerts.iter().filter(|a| a["rule_id"] == rule).collect()
}

/// The case file verified by `scripts/verify_case.py` (Python's hashlib, nothing of ours):
/// `Ok` with its output, or `Err`.
fn verify(case: &Value) -> Result<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case.json");
    std::fs::write(&file, serde_json::to_vec_pretty(case).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/verify_case.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&file)
        .output()
        .expect("python3");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

async fn triage(backend: Backend) {
    let app = spawn_app_on(backend).await;
    // The creator is an admin: four eyes hold whatever the role.
    let creator = hs256_token(&app.org_id, "admin", json!({"sub": "officer-1"}));
    let (audit, _) = create_audit(&app, &creator, "aml").await;
    let runs = format!("/api/audits/{audit}/runs");
    let base = format!("/api/audits/{audit}/alerts");

    // Two runs of the same records: the same alerts, each with two occurrences.
    let first = run_ndjson(&app, &creator, &runs, ndjson(&aml_records())).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    let opened = alerts(&app, &creator, &audit, "").await;
    assert_eq!(
        opened.len() as u64,
        first.body["findings_total"].as_u64().unwrap()
    );
    assert!(opened
        .iter()
        .all(|a| a["status"] == "open" && a["occurrences"] == 1));
    let second = run_ndjson(&app, &creator, &runs, ndjson(&aml_records())).await;
    assert_eq!(second.status, StatusCode::CREATED);
    let again = alerts(&app, &creator, &audit, "").await;
    assert_eq!(
        again.len(),
        opened.len(),
        "no second alert for the same finding"
    );
    assert!(again.iter().all(|a| a["occurrences"] == 2), "{again:?}");
    assert!(again
        .iter()
        .all(|a| a["last_run_id"] == second.body["run_id"]));

    let ctr = by_rule(&again, "aml-ctr-001")[0].clone();
    assert_eq!(ctr["group_value"], "customer_id=C1, direction=in");
    let ctr_id = ctr["alert_id"].as_str().unwrap().to_string();
    let one = format!("{base}/{ctr_id}");
    let detail = call(&app, &creator, Method::GET, &one, None).await.body;
    let occ = detail["occurrences"].as_array().unwrap();
    assert_eq!(occ.len(), 2);
    assert_eq!(occ[0]["run_id"], first.body["run_id"]);
    assert!(occ[0]["record_ids"]
        .as_array()
        .unwrap()
        .contains(&json!("t2")));
    assert!(!occ[0]["observed"].as_array().unwrap().is_empty());
    assert_eq!(detail["trail"].as_array().unwrap().len(), 2);

    // Filters.
    assert_eq!(
        alerts(&app, &creator, &audit, "&rule_id=aml-ctr-001")
            .await
            .len(),
        1
    );
    assert_eq!(
        alerts(
            &app,
            &creator,
            &audit,
            "&group_value=customer_id%3DC1%2C%20direction%3Din"
        )
        .await
        .len(),
        1
    );
    assert_eq!(
        alerts(&app, &creator, &audit, "&status=closed").await.len(),
        0
    );
    assert_eq!(
        alerts(&app, &creator, &audit, "&min_age_days=1")
            .await
            .len(),
        0
    );
    let bad = call(
        &app,
        &creator,
        Method::GET,
        &format!("{base}?status=stale"),
        None,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // The queue as CSV, whole, for a spreadsheet.
    let csv = app
        .send(
            app.request(Method::GET, &format!("{base}?rule_id=aml-ctr-001"))
                .bearer_auth(&creator)
                .header("Accept", "text/csv"),
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let text = csv.body.as_str().unwrap();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("\"alert_id\",\"rule_id\""));
    assert!(
        lines[1].contains(&ctr_id) && lines[1].contains(",2,0,"),
        "{text}"
    );

    // The workflow: closing needs an outcome and a reason.
    let transitions = format!("{one}/transitions");
    let move_to = |to: Value| call(&app, &creator, Method::POST, &transitions, Some(to));
    let resp = move_to(json!({"to": "investigating"})).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    assert_eq!(resp.body["status"], "investigating");
    assert_eq!(
        move_to(json!({"to": "investigating"})).await.status,
        StatusCode::CONFLICT
    );
    let resp = move_to(json!({"to": "closed", "reason": "x"})).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        resp.body["details"][0]["path"],
        json!(["outcome"]),
        "{:?}",
        resp.body
    );
    let assigned = call(
        &app,
        &creator,
        Method::POST,
        &format!("{one}/assignment"),
        Some(json!({"assignee": "officer-2"})),
    )
    .await;
    assert_eq!(
        assigned.body["assignee"], "officer-2",
        "{:?}",
        assigned.body
    );
    assert_eq!(
        alerts(&app, &creator, &audit, "&assignee=officer-2")
            .await
            .len(),
        1
    );
    let commented = call(
        &app,
        &creator,
        Method::POST,
        &format!("{one}/comments"),
        Some(json!({"text": "Cash deposits split across two branches."})),
    )
    .await;
    assert_eq!(commented.status, StatusCode::OK);
    let closed = move_to(
        json!({"to": "closed", "outcome": "confirmed_risk", "reason": "Matches the CTR pattern"}),
    )
    .await;
    assert_eq!(
        closed.body["outcome"], "confirmed_risk",
        "{:?}",
        closed.body
    );

    // The org gives decisions 10 days (30 by default).
    let settings = app
        .put(
            "/api/compliance/settings",
            json!({"alert_decision_days": 10}),
        )
        .await;
    assert_eq!(
        settings.body["alert_decision_days"], 10,
        "{:?}",
        settings.body
    );
    // The recommendation, then the four-eyes decision.
    let recommend = call(&app, &creator, Method::POST, &format!("{one}/recommendation"),
        Some(json!({"recommendation": "file_report", "narrative": "C1 deposited 11,000 in cash in one day without a CTR."}))).await;
    assert_eq!(recommend.status, StatusCode::OK, "{:?}", recommend.body);
    assert_eq!(recommend.body["decision_overdue"], false);
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let rec = &recommend.body["recommendation"];
    assert_eq!(
        at(&rec["decision_due_at"]) - at(&rec["at"]),
        chrono::Duration::days(10)
    );
    let filed = json!({"decision": "report_filed", "reference": "BSA-2026-000123", "filed_on": "2026-12-01"});
    let own = call(
        &app,
        &creator,
        Method::POST,
        &format!("{one}/decision"),
        Some(filed.clone()),
    )
    .await;
    assert_eq!(
        own.status,
        StatusCode::FORBIDDEN,
        "the investigator cannot decide: {:?}",
        own.body
    );
    // Someone else of the org sees nothing until named a reviewer.
    let reviewer_key = app.key_for(&app.org_id, Role::Admin).await;
    let member_key = app.key_for(&app.org_id, Role::Member).await;
    let reviewer_id = key_id(&app, &reviewer_key).await;
    let member_id = key_id(&app, &member_key).await;
    let as_key = |key: &str, method: Method, path: &str, body: Option<Value>| {
        let key = key.to_string();
        let path = path.to_string();
        let app = &app;
        async move { app.call(method, &path, Some(&key), body).await }
    };
    assert_eq!(
        as_key(&reviewer_key, Method::GET, &one, None).await.status,
        StatusCode::NOT_FOUND
    );
    let named = call(
        &app,
        &creator,
        Method::PUT,
        &format!("/api/audits/{audit}/reviewers"),
        Some(json!({"reviewers": [reviewer_id, member_id, "auditor@bank.example"]})),
    )
    .await;
    assert_eq!(named.status, StatusCode::OK, "{:?}", named.body);
    assert_eq!(named.body["reviewers"][0]["kind"], "api_key");
    assert_eq!(named.body["reviewers"][2]["kind"], "user");
    // A reviewer sees the runs and the alert; only the creator names reviewers.
    assert_eq!(
        as_key(&reviewer_key, Method::GET, &runs, None).await.status,
        StatusCode::OK
    );
    let rename = as_key(
        &reviewer_key,
        Method::PUT,
        &format!("/api/audits/{audit}/reviewers"),
        Some(json!({"reviewers": []})),
    )
    .await;
    assert_eq!(rename.status, StatusCode::FORBIDDEN);
    // A member reviewer may not decide; the admin reviewer does.
    let by_member = as_key(
        &member_key,
        Method::POST,
        &format!("{one}/decision"),
        Some(filed.clone()),
    )
    .await;
    assert_eq!(by_member.status, StatusCode::FORBIDDEN);
    let missing = as_key(
        &reviewer_key,
        Method::POST,
        &format!("{one}/decision"),
        Some(json!({"decision": "declined"})),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    // The API says who may decide: never the recommender.
    let theirs = as_key(&reviewer_key, Method::GET, &one, None).await.body;
    assert_eq!(theirs["alert"]["can_decide"], true);
    let mine = call(&app, &creator, Method::GET, &one, None).await.body;
    assert_eq!(mine["alert"]["can_decide"], false);
    let decided = as_key(
        &reviewer_key,
        Method::POST,
        &format!("{one}/decision"),
        Some(filed.clone()),
    )
    .await;
    assert_eq!(decided.status, StatusCode::OK, "{:?}", decided.body);
    assert_eq!(decided.body["decision"]["reference"], "BSA-2026-000123");
    assert_eq!(
        as_key(
            &reviewer_key,
            Method::POST,
            &format!("{one}/decision"),
            Some(filed)
        )
        .await
        .status,
        StatusCode::CONFLICT
    );

    // A reviewer taken off the list sees the audit no more; the others keep it.
    let fewer = call(
        &app,
        &creator,
        Method::PUT,
        &format!("/api/audits/{audit}/reviewers"),
        Some(json!({"reviewers": [reviewer_id]})),
    )
    .await;
    assert_eq!(fewer.status, StatusCode::OK, "{:?}", fewer.body);
    assert_eq!(
        as_key(&member_key, Method::GET, &one, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        as_key(&reviewer_key, Method::GET, &one, None).await.status,
        StatusCode::OK
    );

    // A snoozed (rule, group value): a closed alert keeps its occurrences, stays closed; an
    // alert closed without a snooze reopens on its next occurrence.
    let structuring = by_rule(&again, "aml-struct-001");
    let snoozed = structuring[0]["alert_id"].as_str().unwrap().to_string();
    let snoozed_group = structuring[0]["group_value"].as_str().unwrap().to_string();
    let until = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let resp = call(&app, &creator, Method::POST, &format!("/api/audits/{audit}/snoozes"),
        Some(json!({"rule_id": "aml-struct-001", "group_value": snoozed_group, "until": until, "reason": "Known payroll pattern"}))).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let too_long = (chrono::Utc::now() + chrono::Duration::days(181)).to_rfc3339();
    let resp = call(&app, &creator, Method::POST, &format!("/api/audits/{audit}/snoozes"),
        Some(json!({"rule_id": "aml-struct-001", "group_value": "x", "until": too_long, "reason": "r"}))).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    // The snoozed one closes; the CTR alert is closed (confirmed risk) already.
    let close = json!({"to": "closed", "outcome": "false_positive", "reason": "Reviewed"});
    for (id, expected) in [(&snoozed, StatusCode::OK), (&ctr_id, StatusCode::CONFLICT)] {
        let path = format!("{base}/{id}/transitions");
        let resp = call(&app, &creator, Method::POST, &path, Some(close.clone())).await;
        assert_eq!(resp.status, expected, "{:?}", resp.body);
    }
    let third = run_ndjson(&app, &creator, &runs, ndjson(&aml_records())).await;
    assert_eq!(third.status, StatusCode::CREATED);
    let now = alerts(&app, &creator, &audit, "").await;
    let find = |id: &str| now.iter().find(|a| a["alert_id"] == id).unwrap().clone();
    let s = find(&snoozed);
    assert_eq!(
        (
            s["status"].as_str(),
            s["occurrences"].as_u64(),
            s["snoozed_occurrences"].as_u64()
        ),
        (Some("closed"), Some(3), Some(1))
    );
    let c = find(&ctr_id);
    assert_eq!(
        c["status"], "open",
        "a closed alert reopens on a new occurrence: {c}"
    );
    assert!(c.get("outcome").is_none());

    // The org's queue counts every audit's alerts; anyone of the org may read them.
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    let queue = as_key(&viewer, Method::GET, "/api/alerts/summary", None).await;
    assert_eq!(queue.status, StatusCode::OK, "{:?}", queue.body);
    assert_eq!(queue.body["audits"], 1);
    let total = queue.body["open"].as_u64().unwrap()
        + queue.body["investigating"].as_u64().unwrap()
        + queue.body["closed"].as_u64().unwrap();
    assert_eq!(total as usize, now.len());
    assert_eq!(queue.body["closed"], 1, "the snoozed one");
    assert_eq!(queue.body["awaiting_decision"], 0, "decided");

    // The third run's OSCAL marks the finding whose alert was closed as a false positive, and
    // passes both validators.
    let run_id = third.body["run_id"].as_str().unwrap();
    let oscal = call(
        &app,
        &creator,
        Method::GET,
        &format!("{runs}/{run_id}/oscal"),
        None,
    )
    .await;
    assert_eq!(oscal.status, StatusCode::OK);
    let result = &oscal.body["assessment-results"]["results"][0];
    let structuring = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["props"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "rule-id" && p["value"] == "aml-struct-001")
        })
        .unwrap();
    let fp = structuring["props"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "false-positive-findings");
    assert_eq!(
        fp.map(|p| p["value"].clone()),
        Some(json!("1")),
        "{structuring}"
    );
    assert!(structuring["description"]
        .as_str()
        .unwrap()
        .contains("closed as false positives"));
    crate::oscal::assert_valid(&oscal.body, "run-with-false-positive");

    // The case file proves itself; an edited entry does not.
    let case = call(&app, &creator, Method::GET, &format!("{one}/case"), None).await;
    assert_eq!(case.status, StatusCode::OK, "{:?}", case.body);
    let case = case.body;
    assert_eq!(
        case["rule"]["policy_section"]
            .as_str()
            .map(|s| !s.is_empty()),
        Some(true)
    );
    assert_eq!(case["occurrences"].as_array().unwrap().len(), 3);
    let events: Vec<String> = case["trail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(e["payload"].as_str().unwrap()).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        events,
        [
            "opened",
            "occurrence",
            "transition",
            "assignment",
            "comment",
            "transition",
            "recommendation",
            "decision",
            "reopened_by_occurrence"
        ]
    );
    assert_eq!(verify(&case), Ok("case file verifies\n".into()));
    let mut edited = case.clone();
    let payload = edited["trail"][4]["payload"]
        .as_str()
        .unwrap()
        .replace("two branches", "one branch");
    edited["trail"][4]["payload"] = json!(payload);
    assert!(
        verify(&edited).unwrap_err().contains("entry 5"),
        "an edit is found"
    );
    let mut removed = case.clone();
    removed["trail"].as_array_mut().unwrap().remove(3);
    assert!(verify(&removed).is_err(), "a removal is found");

    // Every step is in the audit log, with its actor.
    let mut actions = app.audit_actions("ALERT_").await;
    actions.extend(app.audit_actions("AUDIT_REVIEWERS").await);
    for a in [
        "ALERT_TRANSITIONED",
        "ALERT_ASSIGNED",
        "ALERT_COMMENTED",
        "ALERT_RECOMMENDED",
        "ALERT_DECIDED",
        "ALERT_SNOOZED",
        "AUDIT_REVIEWERS_UPDATED",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

/// The id of an API key, as `GET /api/api-keys` lists it (by its prefix).
async fn key_id(app: &TestApp, key: &str) -> String {
    let listed = app.get("/api/api-keys?limit=100").await.body;
    listed["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| key.starts_with(k["prefix"].as_str().unwrap().trim_end_matches('…')))
        .map(|k| k["id"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("{key} in {listed}"))
}

#[tokio::test]
async fn triage_on_the_embedded_store() {
    triage(Backend::Embedded).await;
}

#[tokio::test]
async fn triage_on_dynamodb() {
    triage(Backend::Dynamo).await;
}

/// A run whose findings were not taken in (a stop between the run's write and its alerts) is
/// caught up when alerts are read, and taking a run in twice counts nothing twice.
#[tokio::test]
async fn a_run_not_taken_in_is_caught_up_once() {
    use compliance_store::{keys, WriteOp};
    let app = spawn_app_on(Backend::Embedded).await;
    let creator = hs256_token(&app.org_id, "member", json!({"sub": "officer-9"}));
    let (audit, _) = create_audit(&app, &creator, "aml").await;
    let runs = format!("/api/audits/{audit}/runs");
    let run = run_ndjson(&app, &creator, &runs, ndjson(&aml_records()))
        .await
        .body;
    let before = alerts(&app, &creator, &audit, "").await;
    // Forget that the run was taken in: the next read takes it in again.
    let org = test_support::org(&app.org_id);
    let owner = keys::owner_segment(compliance_domain::identity::ActorKind::User, "officer-9");
    let audit_id = compliance_domain::ids::Uuid::parse(&audit).unwrap();
    let run_id = compliance_domain::ids::Uuid::parse(run["run_id"].as_str().unwrap()).unwrap();
    app.store()
        .write(vec![WriteOp::delete(keys::alert_sync(
            &org, &owner, &audit_id, &run_id,
        ))])
        .await
        .unwrap();
    let after = alerts(&app, &creator, &audit, "").await;
    assert_eq!(after, before, "nothing counted twice");
    // And someone else of the org sees none of it.
    let other = hs256_token(&app.org_id, "admin", json!({"sub": "someone-else"}));
    let resp = call(
        &app,
        &other,
        Method::GET,
        &format!("/api/audits/{audit}/alerts"),
        None,
    )
    .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
}

/// A run caught up late (its take-in stopped, a later run's went through, the alert was closed
/// since) adds its occurrence but neither reopens the alert nor moves it back to the older run.
#[tokio::test]
async fn a_run_caught_up_late_reopens_nothing() {
    use compliance_store::{keys, WriteOp};
    let app = spawn_app_on(Backend::Embedded).await;
    let creator = hs256_token(&app.org_id, "member", json!({"sub": "officer-late"}));
    let (audit, _) = create_audit(&app, &creator, "aml").await;
    let runs = format!("/api/audits/{audit}/runs");
    let first = run_ndjson(&app, &creator, &runs, ndjson(&aml_records()))
        .await
        .body;
    let second = run_ndjson(&app, &creator, &runs, ndjson(&aml_records()))
        .await
        .body;
    let listed = alerts(&app, &creator, &audit, "&rule_id=aml-ctr-001").await;
    let alert_id = listed[0]["alert_id"].as_str().unwrap().to_string();
    // As if the first run's take-in had stopped before this alert: its occurrence and its
    // run's marker are not there.
    let org = test_support::org(&app.org_id);
    let owner = keys::owner_segment(compliance_domain::identity::ActorKind::User, "officer-late");
    let audit_id = compliance_domain::ids::Uuid::parse(&audit).unwrap();
    let run_id = compliance_domain::ids::Uuid::parse(first["run_id"].as_str().unwrap()).unwrap();
    app.store()
        .write(vec![
            WriteOp::delete(keys::alert_sync(&org, &owner, &audit_id, &run_id)),
            WriteOp::delete(keys::alert_occurrence(
                &org, &owner, &audit_id, &alert_id, &run_id,
            )),
        ])
        .await
        .unwrap();
    let one = format!("/api/audits/{audit}/alerts/{alert_id}");
    let closed = call(
        &app,
        &creator,
        Method::POST,
        &format!("{one}/transitions"),
        Some(json!({"to": "closed", "outcome": "false_positive", "reason": "Reviewed"})),
    )
    .await;
    assert_eq!(closed.status, StatusCode::OK, "{:?}", closed.body);
    // The next read catches the first run up.
    let after = alerts(&app, &creator, &audit, "&rule_id=aml-ctr-001").await;
    assert_eq!(
        after[0]["status"], "closed",
        "a late run reopens nothing: {}",
        after[0]
    );
    assert_eq!(after[0]["last_run_id"], second["run_id"]);
    let detail = call(&app, &creator, Method::GET, &one, None).await.body;
    let last = detail["trail"].as_array().unwrap().last().unwrap()["payload"]
        .as_str()
        .unwrap()
        .to_string();
    let last: Value = serde_json::from_str(&last).unwrap();
    assert_eq!(last["event"], "occurrence");
    assert_eq!(last["run_id"], first["run_id"]);
    assert_eq!(
        detail["occurrences"].as_array().unwrap().len(),
        2,
        "both runs' occurrences"
    );
}
