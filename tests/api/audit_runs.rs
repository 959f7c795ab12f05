//! Audit runs through HTTP: an audit's rules evaluated over records sent as NDJSON or CSV
//! (optionally gzip), the run, its findings with their citations, rules tuned between runs, dry
//! runs of a pack, bad records refused whole, ownership and roles, and storage bounds, on both
//! adapters where storage is involved.

use chrono::{Duration, Utc};
use compliance_domain::plans::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{gzip, hs256_token, spawn_app, spawn_app_on, Backend, Response, TestApp};

pub(crate) fn user(app: &TestApp, sub: &str) -> String {
    hs256_token(&app.org_id, "member", json!({"sub": sub}))
}

pub(crate) async fn create_audit(
    app: &TestApp,
    token: &str,
    policy_type: &str,
) -> (String, String) {
    let resp = app
        .with_bearer(
            Method::POST,
            "/api/audits",
            token,
            Some(json!({"name": "Q4 AML audit", "policy_type": policy_type})),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    (
        resp.body["audit_id"].as_str().unwrap().to_string(),
        resp.body["policy_id"].as_str().unwrap().to_string(),
    )
}

/// Sends records with a bearer token.
async fn send_records(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    gzipped: bool,
) -> Response {
    let mut req = app
        .request(Method::POST, path)
        .bearer_auth(token)
        .header("Content-Type", content_type);
    let body = if gzipped {
        req = req.header("Content-Encoding", "gzip");
        gzip(&body)
    } else {
        body
    };
    app.send(req.body(body)).await
}

/// A run over NDJSON records.
pub(crate) async fn run_ndjson(app: &TestApp, token: &str, runs: &str, body: Vec<u8>) -> Response {
    send_records(app, token, runs, "application/x-ndjson", body, false).await
}

pub(crate) fn ndjson(records: &[Value]) -> Vec<u8> {
    records
        .iter()
        .map(|r| format!("{r}\n"))
        .collect::<String>()
        .into_bytes()
}

/// The same records as CSV: the union of their fields as the header, empty cells where a
/// record has no value.
fn csv(records: &[Value]) -> Vec<u8> {
    let mut fields: Vec<String> = Vec::new();
    for r in records {
        for k in r.as_object().unwrap().keys() {
            if !fields.contains(k) {
                fields.push(k.clone());
            }
        }
    }
    let cell = |v: Option<&Value>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => format!("\"{}\"", s.replace('"', "\"\"")),
        Some(other) => other.to_string(),
    };
    let mut out = fields.join(",") + "\n";
    for r in records {
        let row: Vec<String> = fields.iter().map(|f| cell(r.get(f))).collect();
        out.push_str(&(row.join(",") + "\n"));
    }
    out.into_bytes()
}

pub(crate) fn at(days_ago: i64, hour: u32) -> String {
    let day = (Utc::now() - Duration::days(days_ago)).date_naive();
    format!("{day}T{hour:02}:00:00Z")
}

/// A Wednesday some weeks back, so a business day does not span a weekend.
pub(crate) fn wednesday(weeks_ago: i64, hour: u32) -> String {
    use chrono::Datelike;
    let today = Utc::now().date_naive();
    let back = (today.weekday().num_days_from_monday() as i64 + 5) % 7;
    let day = today - Duration::days(back + 7 * weeks_ago);
    format!("{day}T{hour:02}:00:00Z")
}

/// AML transactions with known violations: C1's cash deposits reach 11 000 in one business day
/// without a CTR (t2 is the finding); C2 makes three cash deposits between 80 % and 100 % of
/// the threshold within a week (structuring: s2 and s3); w1 is a wire over 3 000 without its
/// originator's address (travel rule). A `memo` no rule reads must never be stored.
pub(crate) fn aml_records() -> Vec<Value> {
    let tx = |id: &str, at: String, customer: &str, amount: f64, instrument: &str| {
        json!({"id": id, "timestamp": at, "customer_id": customer, "account_id": format!("A-{customer}"),
               "direction": "in", "instrument": instrument, "amount_usd": amount,
               "memo": "SECRET-RAW-MEMO"})
    };
    let mut wire = tx("w1", wednesday(3, 10), "C3", 4500.0, "wire");
    for f in [
        "originator_name",
        "originator_account",
        "beneficiary_name",
        "beneficiary_account",
    ] {
        wire[f] = json!("x");
    }
    vec![
        tx("t1", wednesday(2, 9), "C1", 6000.0, "cash"),
        tx("t2", wednesday(2, 15), "C1", 5000.0, "cash"),
        tx("t3", wednesday(1, 9), "C1", 6000.0, "cash"),
        tx("s1", at(40, 9), "C2", 9000.0, "cash"),
        tx("s2", at(38, 9), "C2", 9500.0, "cash"),
        tx("s3", at(37, 9), "C2", 8000.0, "cash"),
        wire,
    ]
}

/// A 400 whose first problem is at `path` and says `message`.
fn assert_refused(resp: &Response, path: Value, message: &str) {
    assert_eq!(
        resp.status,
        StatusCode::BAD_REQUEST,
        "{message}: {:?}",
        resp.body
    );
    let detail = &resp.body["details"][0];
    assert_eq!(detail["path"], path, "{:?}", resp.body);
    let said = detail["message"].as_str().unwrap_or_default();
    assert!(said.contains(message), "{message}: {:?}", resp.body);
}

fn rule<'a>(run: &'a Value, id: &str) -> &'a Value {
    run["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule_id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {run}"))
}

async fn findings(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let resp = app.with_bearer(Method::GET, path, token, None).await;
    assert_eq!(resp.status, StatusCode::OK, "{path}: {:?}", resp.body);
    resp.body["findings"].as_array().unwrap().clone()
}

fn subjects(findings: &[Value], rule_id: &str) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f["rule_id"] == rule_id)
        .map(|f| f["record_ids"][0].as_str().unwrap().to_string())
        .collect()
}

async fn a_run_finds_the_violations(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let token = user(&app, "officer-1");
    let (audit_id, _) = create_audit(&app, &token, "aml").await;
    let runs = format!("/api/audits/{audit_id}/runs");
    let mut summaries = Vec::new();
    for (content_type, body, gzipped) in [
        ("application/x-ndjson", ndjson(&aml_records()), false),
        ("text/csv; charset=utf-8", csv(&aml_records()), false),
        ("application/x-ndjson", ndjson(&aml_records()), true),
    ] {
        let resp = send_records(&app, &token, &runs, content_type, body, gzipped).await;
        assert_eq!(
            resp.status,
            StatusCode::CREATED,
            "{content_type}: {:?}",
            resp.body
        );
        let run = resp.body;
        assert_eq!(run["records"], 7);
        assert_eq!(run["audit_id"], audit_id.as_str());
        assert_eq!(rule(&run, "aml-ctr-001")["status"], "fail");
        assert_eq!(rule(&run, "aml-ctr-001")["findings"], 1);
        assert_eq!(rule(&run, "aml-ctr-001")["threshold"], 10000);
        assert_eq!(rule(&run, "aml-struct-001")["findings"], 2);
        assert_eq!(rule(&run, "aml-rec-001")["findings"], 1);
        // Customer records are not in this file: the CDD rules cannot judge anything.
        assert_eq!(rule(&run, "aml-cdd-001")["status"], "not_evaluable");
        assert_eq!(rule(&run, "aml-cdd-001")["not_evaluable"], 7);
        let r = rule(&run, "aml-ctr-001");
        assert_eq!(
            r["evaluated"].as_u64().unwrap() + r["not_evaluable"].as_u64().unwrap(),
            7
        );
        assert_eq!(run["findings_total"], run["findings_stored"]);
        let by_severity = &run["by_severity"];
        let sum: u64 = ["critical", "high", "medium", "low"]
            .iter()
            .map(|s| by_severity[s].as_u64().unwrap())
            .sum();
        assert_eq!(json!(sum), run["findings_total"]);
        summaries.push(run);
    }
    // The three formats give the same result.
    for run in &summaries[1..] {
        assert_eq!(run["rules"], summaries[0]["rules"]);
    }
    let run = &summaries[0];
    let run_id = run["run_id"].as_str().unwrap();

    // The run and its findings read back.
    let got = app
        .with_bearer(Method::GET, &format!("{runs}/{run_id}"), &token, None)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(&got.body, run);
    let listed = app.with_bearer(Method::GET, &runs, &token, None).await;
    let listed = listed.body["runs"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[2]["run_id"], run_id, "newest first");
    let all = findings(&app, &token, &format!("{runs}/{run_id}/findings?limit=100")).await;
    assert_eq!(json!(all.len()), run["findings_total"]);
    assert_eq!(subjects(&all, "aml-ctr-001"), ["t2"]);
    assert_eq!(subjects(&all, "aml-struct-001"), ["s2", "s3"]);
    assert_eq!(subjects(&all, "aml-rec-001"), ["w1"]);
    let ctr = all.iter().find(|f| f["rule_id"] == "aml-ctr-001").unwrap();
    assert_eq!(ctr["policy_section"], "31 CFR 1010.311; 31 CFR 1010.313");
    assert!(ctr["policy_excerpt"].as_str().unwrap().contains("$10,000"));
    assert_eq!(ctr["record_ids"], json!(["t2", "t1"]));
    assert_eq!(
        ctr["group"],
        json!({"customer_id": "C1", "direction": "in"})
    );
    assert!(
        ctr["message"].as_str().unwrap().contains("= 11000"),
        "{ctr}"
    );
    assert!(ctr["finding_id"].as_str().unwrap().starts_with(run_id));
    // Most severe first: structuring is critical, the CTR high.
    let first_high = all.iter().position(|f| f["severity"] == "high").unwrap();
    assert!(all[..first_high]
        .iter()
        .all(|f| f["severity"] == "critical"));
    // Filters.
    let only = findings(
        &app,
        &token,
        &format!("{runs}/{run_id}/findings?rule_id=aml-struct-001"),
    )
    .await;
    assert_eq!(subjects(&only, "aml-struct-001"), ["s2", "s3"]);
    assert_eq!(only.len(), 2);
    let critical = findings(
        &app,
        &token,
        &format!("{runs}/{run_id}/findings?severity=critical"),
    )
    .await;
    assert!(critical.iter().all(|f| f["severity"] == "critical"));
    // Data minimisation: nothing of a record that no finding cites is kept.
    assert!(!serde_json::to_string(&all).unwrap().contains("SECRET-RAW"));
    // The audit log says who ran what.
    let logged = app
        .get("/api/audit-logs?action=AUDIT_RUN_COMPLETED")
        .await
        .body["entries"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(logged.len(), 3);
    let metadata = &logged
        .iter()
        .find(|e| e["metadata"]["run_id"] == run_id)
        .unwrap()["metadata"];
    assert_eq!(metadata["findings_total"], run["findings_total"]);
    assert!(metadata["rules_failed"]
        .as_array()
        .unwrap()
        .contains(&json!("aml-ctr-001")));
}

#[tokio::test]
async fn a_run_finds_the_violations_on_the_embedded_store() {
    a_run_finds_the_violations(Backend::Embedded).await;
}

#[tokio::test]
async fn a_run_finds_the_violations_on_dynamodb() {
    a_run_finds_the_violations(Backend::Dynamo).await;
}

#[tokio::test]
async fn bad_records_are_refused_whole() {
    let app = spawn_app().await;
    let token = user(&app, "officer-2");
    let (audit_id, _) = create_audit(&app, &token, "aml").await;
    let runs = format!("/api/audits/{audit_id}/runs");
    let nd = "application/x-ndjson";
    let good = r#"{"id": "t1", "amount_usd": 5}"#;
    let cases: Vec<(&str, Vec<u8>, Value, &str)> = vec![
        (
            nd,
            format!("{good}\n{{\"id\": \"t2\", \"amount_usd\": \n").into_bytes(),
            json!(["line", 2]),
            "line 2: not a JSON object",
        ),
        (
            nd,
            format!("{good}\n[1, 2]\n").into_bytes(),
            json!(["line", 2]),
            "line 2: invalid type",
        ),
        (
            nd,
            format!("{good}\n{{\"amount_usd\": 5}}\n").into_bytes(),
            json!(["line", 2, "id"]),
            "line 2, field id: required",
        ),
        (
            nd,
            format!("{{\"id\": \"{}\"}}\n", "x".repeat(257)).into_bytes(),
            json!(["line", 1, "id"]),
            "longer than 256",
        ),
        (
            "text/csv",
            b"id,amount_usd\nt1,5\nt2,ten\n".to_vec(),
            json!(["row", 3, "amount_usd"]),
            "row 3, field amount_usd: expected a number, found 'ten'",
        ),
        (
            "text/csv",
            b"id,timestamp\nt1,yesterday\n".to_vec(),
            json!(["row", 2, "timestamp"]),
            "expected an RFC 3339 timestamp",
        ),
        (
            "text/csv",
            b"amount_usd\n5\n".to_vec(),
            json!(["row", 1, "id"]),
            "needs an 'id' column",
        ),
        (
            "text/csv",
            b"id,amount_usd\nt1,5,6\n".to_vec(),
            json!(["row", 2]),
            "has 3 cells where the header row has 2",
        ),
        (nd, b"\n\n".to_vec(), json!([]), "holds no records"),
    ];
    for (content_type, body, path, message) in cases {
        let resp = send_records(&app, &token, &runs, content_type, body, false).await;
        assert_refused(&resp, path, message);
    }
    let resp = send_records(&app, &token, &runs, "application/json", good.into(), false).await;
    assert_eq!(resp.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut req = app
        .request(Method::POST, &runs)
        .bearer_auth(&token)
        .header("Content-Type", nd)
        .header("Content-Encoding", "gzip");
    req = req.body(good.as_bytes().to_vec());
    assert_eq!(
        app.send(req).await.status,
        StatusCode::BAD_REQUEST,
        "not gzip"
    );
    let resp = send_records(
        &app,
        &token,
        &runs,
        nd,
        vec![b' '; compliance_http::upload::MAX_DIRECT_BODY_BYTES + 1],
        false,
    )
    .await;
    assert_eq!(resp.status, StatusCode::PAYLOAD_TOO_LARGE);
    // A small gzip that expands past 64 MiB.
    let resp = send_records(&app, &token, &runs, nd, vec![b'\n'; 65 * 1024 * 1024], true).await;
    assert_eq!(
        resp.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{:?}",
        resp.body
    );
    // Nothing was stored, nothing logged.
    let listed = app.with_bearer(Method::GET, &runs, &token, None).await;
    assert_eq!(listed.body["runs"], json!([]));
    let logged = app.get("/api/audit-logs?action=AUDIT_RUN_COMPLETED").await;
    assert_eq!(logged.body["entries"], json!([]));
    // A wrong type in JSON is not an error: the record is not evaluable for the rules that read it.
    let resp = send_records(
        &app,
        &token,
        &runs,
        nd,
        br#"{"id": "r1", "retention_years": "five"}
{"id": "r2", "retention_years": 7}
"#
        .to_vec(),
        false,
    )
    .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let r = rule(&resp.body, "aml-rec-002");
    assert_eq!(
        (r["evaluated"].clone(), r["not_evaluable"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(r["status"], "pass");
}

#[tokio::test]
async fn runs_belong_to_the_audits_creator() {
    let app = spawn_app().await;
    let owner = user(&app, "officer-3");
    let (audit_id, policy_id) = create_audit(&app, &owner, "soc2").await;
    let runs = format!("/api/audits/{audit_id}/runs");
    let records = ndjson(&[json!({"id": "u1", "mfa_enabled": false})]);
    let run = run_ndjson(&app, &owner, &runs, records.clone()).await;
    assert_eq!(run.status, StatusCode::CREATED);
    let run_id = run.body["run_id"].as_str().unwrap();
    let other = user(&app, "officer-4");
    let (other_org, other_admin) = app
        .new_org(compliance_domain::plans::Plan::Enterprise)
        .await;
    let foreign = hs256_token(&other_org, "admin", json!({"sub": "officer-3"}));
    for token in [&other, &foreign] {
        for (method, path) in [
            (Method::GET, runs.clone()),
            (Method::GET, format!("{runs}/{run_id}")),
            (Method::GET, format!("{runs}/{run_id}/findings")),
        ] {
            let resp = app.with_bearer(method, &path, token, None).await;
            assert_eq!(resp.status, StatusCode::NOT_FOUND, "{path}");
        }
        let resp = send_records(
            &app,
            token,
            &runs,
            "application/x-ndjson",
            records.clone(),
            false,
        )
        .await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND);
        let resp = app
            .with_bearer(
                Method::PATCH,
                &format!("/api/policies/{policy_id}/rules/soc2-ac-001"),
                token,
                Some(json!({"is_active": false})),
            )
            .await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND);
    }
    let resp = app.call(Method::GET, &runs, Some(&other_admin), None).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    // A viewer sends nothing that is stored.
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    let resp = app
        .send(
            app.request(Method::POST, &runs)
                .header("X-API-Key", &viewer)
                .header("Content-Type", "application/x-ndjson")
                .body(records.clone()),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let resp = app
        .call(
            Method::PATCH,
            &format!("/api/policies/{policy_id}/rules/soc2-ac-001"),
            Some(&viewer),
            Some(json!({"is_active": false})),
        )
        .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    // Unknown ids are 404s, not 400s or 500s.
    for path in [
        "/api/audits/not-a-uuid/runs".to_string(),
        format!("{runs}/not-a-uuid"),
        format!("{runs}/00000000-0000-7000-8000-000000000000"),
        format!("{runs}/00000000-0000-7000-8000-000000000000/findings"),
    ] {
        let resp = app.with_bearer(Method::GET, &path, &owner, None).await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND, "{path}");
    }
}

/// A rule as `GET /api/policies/{policy_id}/rules` lists it.
async fn listed_rule(app: &TestApp, token: &str, policy_id: &str, rule_id: &str) -> Value {
    let rules = app
        .with_bearer(
            Method::GET,
            &format!("/api/policies/{policy_id}/rules"),
            token,
            None,
        )
        .await;
    rules.body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule_id"] == rule_id)
        .unwrap_or_else(|| panic!("{rule_id} is not listed: {:?}", rules.body))
        .clone()
}

async fn patch_rule(
    app: &TestApp,
    token: &str,
    policy_id: &str,
    rule_id: &str,
    body: Value,
) -> Response {
    app.with_bearer(
        Method::PATCH,
        &format!("/api/policies/{policy_id}/rules/{rule_id}"),
        token,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn tuned_rules_change_later_runs() {
    let app = spawn_app().await;
    let token = user(&app, "officer-5");
    let (audit_id, policy_id) = create_audit(&app, &token, "aml").await;
    let runs = format!("/api/audits/{audit_id}/runs");
    let records = ndjson(&aml_records());
    let before = run_ndjson(&app, &token, &runs, records.clone()).await;
    assert_eq!(rule(&before.body, "aml-ctr-001")["findings"], 1);

    // A lower threshold: every cash deposit over 5 000 is now a finding (t1, t2, t3, s1, s2, s3).
    let resp = patch_rule(
        &app,
        &token,
        &policy_id,
        "aml-ctr-001",
        json!({"threshold": 5000}),
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    assert_eq!(resp.body["threshold"], 5000);
    assert_eq!(resp.body["rule_id"], "aml-ctr-001");
    let stored = listed_rule(&app, &token, &policy_id, "aml-ctr-001").await;
    assert_eq!(stored["threshold"], 5000);
    // Off: later runs leave it out.
    let resp = patch_rule(
        &app,
        &token,
        &policy_id,
        "aml-struct-001",
        json!({"is_active": false}),
    )
    .await;
    assert_eq!(resp.body["is_active"], false);
    let after = run_ndjson(&app, &token, &runs, records.clone()).await;
    assert_eq!(rule(&after.body, "aml-ctr-001")["findings"], 6);
    assert_eq!(rule(&after.body, "aml-ctr-001")["threshold"], 5000);
    assert!(after.body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["rule_id"] != "aml-struct-001"));

    // Every change is audited with before and after; a change to nothing writes nothing.
    let again = patch_rule(
        &app,
        &token,
        &policy_id,
        "aml-ctr-001",
        json!({"threshold": 5000}),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    let logged = app
        .get("/api/audit-logs?action=POLICY_RULE_UPDATED")
        .await
        .body["entries"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(logged.len(), 2);
    let ctr = logged
        .iter()
        .find(|e| e["metadata"]["rule_id"] == "aml-ctr-001")
        .unwrap();
    assert_eq!(ctr["metadata"]["before"]["threshold"], 10000.0);
    assert_eq!(ctr["metadata"]["after"]["threshold"], 5000.0);

    // What cannot be set.
    for (rule_id, body, path, message) in [
        (
            "aml-rec-002",
            json!({"threshold": 3}),
            json!(["threshold"]),
            "has no threshold",
        ),
        (
            "aml-ctr-001",
            json!({"threshold": -1}),
            json!(["threshold"]),
            "greater than 0",
        ),
        (
            "aml-ctr-001",
            json!({"threshold": 1e300}),
            json!(["threshold"]),
            "at most",
        ),
        (
            "aml-ctr-001",
            json!({"threshold": "5000"}),
            json!(["threshold"]),
            "Expected number, received string",
        ),
        (
            "aml-ctr-001",
            json!({"is_active": "no"}),
            json!(["is_active"]),
            "Expected boolean, received string",
        ),
        (
            "aml-ctr-001",
            json!({}),
            json!([]),
            "Provide is_active, threshold or both",
        ),
        (
            "aml-ctr-001",
            json!({"severity": "low"}),
            json!(["severity"]),
            "Unrecognized key",
        ),
    ] {
        let resp = patch_rule(&app, &token, &policy_id, rule_id, body).await;
        assert_refused(&resp, path, message);
    }
    let resp = patch_rule(
        &app,
        &token,
        &policy_id,
        "soc2-ac-001",
        json!({"is_active": true}),
    )
    .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert_eq!(resp.body["message"], "Rule not found");

    // Every rule off: a run has nothing to evaluate.
    let all = app
        .with_bearer(
            Method::GET,
            &format!("/api/policies/{policy_id}/rules"),
            &token,
            None,
        )
        .await;
    for r in all.body["rules"].as_array().unwrap() {
        let resp = patch_rule(
            &app,
            &token,
            &policy_id,
            r["rule_id"].as_str().unwrap(),
            json!({"is_active": false}),
        )
        .await;
        assert_eq!(resp.status, StatusCode::OK);
    }
    let none = run_ndjson(&app, &token, &runs, records).await;
    assert_eq!(none.status, StatusCode::CONFLICT, "{:?}", none.body);
}

#[tokio::test]
async fn a_dry_run_backtests_thresholds_and_stores_nothing() {
    let app = spawn_app().await;
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    let evaluate = "/api/policy-packs/aml/evaluate";
    let dry = |query: &str, content_type: &str, body: Vec<u8>| {
        app.send(
            app.request(Method::POST, &format!("{evaluate}{query}"))
                .header("X-API-Key", &viewer)
                .header("Content-Type", content_type)
                .body(body),
        )
    };
    let records = ndjson(&aml_records());
    let plain = dry("", "application/x-ndjson", records.clone()).await;
    assert_eq!(plain.status, StatusCode::OK, "{:?}", plain.body);
    assert_eq!(rule(&plain.body, "aml-ctr-001")["findings"], 1);
    assert!(plain.body["findings"][0]["finding_id"]
        .as_str()
        .unwrap()
        .starts_with("dry-run-"));
    let lower = dry(
        "?thresholds=aml-ctr-001:5000&rule_ids=aml-ctr-001",
        "application/x-ndjson",
        records.clone(),
    )
    .await;
    assert_eq!(lower.status, StatusCode::OK, "{:?}", lower.body);
    assert_eq!(lower.body["rules"].as_array().unwrap().len(), 1);
    assert_eq!(rule(&lower.body, "aml-ctr-001")["findings"], 6);
    assert_eq!(rule(&lower.body, "aml-ctr-001")["threshold"], 5000);
    // The JSON envelope carries records and options together.
    let envelope = json!({"records": aml_records(), "thresholds": {"aml-ctr-001": 5000}, "rule_ids": ["aml-ctr-001"], "findings_limit": 2});
    let enveloped = dry(
        "",
        "application/json",
        serde_json::to_vec(&envelope).unwrap(),
    )
    .await;
    assert_eq!(enveloped.status, StatusCode::OK, "{:?}", enveloped.body);
    assert_eq!(enveloped.body["rules"], lower.body["rules"]);
    assert_eq!(enveloped.body["findings"].as_array().unwrap().len(), 2);
    assert_eq!(enveloped.body["findings_total"], 6);
    // Refusals name what is wrong.
    for (query, content_type, body, path, message) in [
        (
            "?thresholds=aml-nope-001:5",
            "application/x-ndjson",
            records.clone(),
            json!(["thresholds"]),
            "Unknown rule 'aml-nope-001'",
        ),
        (
            "?thresholds=aml-rec-002:5",
            "application/x-ndjson",
            records.clone(),
            json!(["thresholds"]),
            "has no threshold",
        ),
        (
            "?thresholds=aml-ctr-001",
            "application/x-ndjson",
            records.clone(),
            json!(["thresholds"]),
            "not rule_id:number",
        ),
        (
            "?findings_limit=5000",
            "application/x-ndjson",
            records.clone(),
            json!(["findings_limit"]),
            "between 0 and 1000",
        ),
        (
            "",
            "application/json",
            br#"{"records": [1]}"#.to_vec(),
            json!(["records", 0]),
            "Expected object, received number",
        ),
        (
            "",
            "application/json",
            br#"{"records": [{"id": "a", "amount_usd": 1}, {"amount_usd": 2}]}"#.to_vec(),
            json!(["records", 1, "id"]),
            "required",
        ),
    ] {
        let resp = dry(query, content_type, body).await;
        assert_refused(&resp, path, message);
    }
    let resp = app
        .send(
            app.request(Method::POST, "/api/policy-packs/fatca/evaluate")
                .header("X-API-Key", &viewer)
                .header("Content-Type", "application/x-ndjson")
                .body(records),
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    // Nothing was audited: a dry run stores nothing.
    let logged = app.get("/api/audit-logs").await.body["entries"]
        .as_array()
        .unwrap()
        .clone();
    assert!(logged.iter().all(|e| e["action"] != "AUDIT_RUN_COMPLETED"));
}

/// The dry run reads bodies as a run does (NDJSON or CSV, gzip or not): the same records give
/// the same outcome per rule, a bad line or row the same refusal; the JSON envelope reads its
/// records as NDJSON lines, gzip or not, and names a bad one by its index.
#[tokio::test]
async fn a_dry_run_reads_bodies_as_a_run_does() {
    let app = spawn_app().await;
    let token = user(&app, "officer-dry");
    let (audit_id, _) = create_audit(&app, &token, "aml").await;
    let runs = format!("/api/audits/{audit_id}/runs");
    let evaluate = "/api/policy-packs/aml/evaluate";
    let nd = "application/x-ndjson";
    let good = ndjson(&aml_records());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (nd, good.clone()),
        ("text/csv", csv(&aml_records())),
        (
            nd,
            b"{\"id\": \"t1\", \"amount_usd\": 5}\n{\"id\": 2.5}\n".to_vec(),
        ),
        (
            nd,
            b"{\"id\": \"t1\"}\n{\"id\": \"t2\", \"amount_usd\": \n".to_vec(),
        ),
        (nd, b"{\"id\": \"t1\"}\n\"just a string\"\n".to_vec()),
        (nd, b"{\"amount_usd\": 5}\n".to_vec()),
        (nd, b"\xff\n".to_vec()),
        (nd, b"\n\n".to_vec()),
        ("text/csv", b"id,amount_usd\nt1,5\nt2,ten\n".to_vec()),
        ("text/csv", b"amount_usd\n5\n".to_vec()),
        ("text/csv", b"id,amount_usd\nt1,5,6\n".to_vec()),
    ];
    for (content_type, body) in cases {
        for gzipped in [false, true] {
            let run = send_records(&app, &token, &runs, content_type, body.clone(), gzipped).await;
            let dry =
                send_records(&app, &token, evaluate, content_type, body.clone(), gzipped).await;
            let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).to_string();
            if run.status == StatusCode::CREATED {
                assert_eq!(dry.status, StatusCode::OK, "{shown}: {:?}", dry.body);
                for field in ["records", "rules", "findings_total", "by_severity"] {
                    assert_eq!(dry.body[field], run.body[field], "{shown}: {field}");
                }
            } else {
                assert_eq!(dry.status, run.status, "{shown}: {:?}", dry.body);
                assert_eq!(dry.body, run.body, "{shown}");
            }
        }
    }
    // The envelope, plain and gzip: the same answer, its records read as the lines were.
    let lines = send_records(&app, &token, evaluate, nd, good.clone(), false).await;
    let envelope = serde_json::to_vec(&json!({"records": aml_records()})).unwrap();
    for gzipped in [false, true] {
        let resp = send_records(
            &app,
            &token,
            evaluate,
            "application/json",
            envelope.clone(),
            gzipped,
        )
        .await;
        assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
        assert_eq!(resp.body["rules"], lines.body["rules"]);
        assert_eq!(resp.body["format"], "ndjson");
    }
    let bad = json!({"records": [{"id": "a"}, {"id": 2.5}]});
    let resp = send_records(
        &app,
        &token,
        evaluate,
        "application/json",
        serde_json::to_vec(&bad).unwrap(),
        true,
    )
    .await;
    assert_refused(
        &resp,
        json!(["records", 1]),
        "invalid type: floating point `2.5`, expected the record's id",
    );
}

#[tokio::test]
async fn a_pack_publishes_the_fields_its_rules_read() {
    let app = spawn_app().await;
    let resp = app.get("/api/policy-packs/aml").await;
    assert_eq!(resp.status, StatusCode::OK);
    let fields = resp.body["record_fields"].as_array().unwrap();
    let ty = |name: &str| {
        fields
            .iter()
            .find(|f| f["field"] == name)
            .unwrap_or_else(|| panic!("no {name}"))["type"]
            .clone()
    };
    assert_eq!(ty("amount_usd"), "number");
    assert_eq!(ty("timestamp"), "timestamp");
    assert_eq!(ty("instrument"), "string");
    assert_eq!(ty("edd_completed"), "boolean");
    assert_eq!(ty("ctr_id"), "any");
    assert!(fields.iter().all(|f| f["field"] != "id"));
    let amount = fields.iter().find(|f| f["field"] == "amount_usd").unwrap();
    assert!(amount["rules"]
        .as_array()
        .unwrap()
        .contains(&json!("aml-ctr-001")));
    let lists = resp.body["named_lists"].as_array().unwrap();
    let fatf = lists
        .iter()
        .find(|l| l["name"] == "fatf_call_for_action")
        .unwrap();
    assert!(fatf["values"].as_array().unwrap().contains(&json!("KP")));
    assert_eq!(
        resp.body["rules"].as_array().unwrap().len(),
        resp.body["rule_count"].as_u64().unwrap() as usize
    );
    assert_eq!(
        app.get("/api/policy-packs/fatca").await.status,
        StatusCode::NOT_FOUND
    );
}

/// Many findings: paged in order, each once; past the storage bound, counted but not stored;
/// every item the run writes within DynamoDB's limits (the write would fail otherwise).
async fn findings_are_paged_and_bounded(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let token = user(&app, "officer-6");
    let (audit_id, _) = create_audit(&app, &token, "aml").await;
    let runs = format!("/api/audits/{audit_id}/runs");
    // Records kept for too short a time (aml-rec-002), with the longest ids allowed.
    let total = 12_000;
    let records: Vec<Value> = (0..total)
        .map(|i| json!({"id": format!("{i:0>256}"), "retention_years": 1}))
        .collect();
    let resp = send_records(
        &app,
        &token,
        &runs,
        "application/x-ndjson",
        ndjson(&records),
        true,
    )
    .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let run = resp.body;
    assert_eq!(run["findings_total"], total);
    let stored = run["findings_stored"].as_u64().unwrap();
    assert!((1..=10_000).contains(&stored), "{stored}");
    let run_id = run["run_id"].as_str().unwrap();
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let resp = app
            .with_bearer(
                Method::GET,
                &format!("{runs}/{run_id}/findings?limit=100&cursor={cursor}"),
                &token,
                None,
            )
            .await;
        assert_eq!(resp.status, StatusCode::OK);
        for f in resp.body["findings"].as_array().unwrap() {
            seen.push(f["record_ids"][0].as_str().unwrap().to_string());
        }
        match resp.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen.len() as u64, stored);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "in record order, each once");
    let bad = app
        .with_bearer(
            Method::GET,
            &format!("{runs}/{run_id}/findings?cursor=bad"),
            &token,
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let unknown = app
        .with_bearer(
            Method::GET,
            &format!("{runs}/{run_id}/findings?rule_id=soc2-ac-001"),
            &token,
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body["details"][0]["message"]
        .as_str()
        .unwrap()
        .contains("aml-rec-002"));
}

#[tokio::test]
async fn findings_are_paged_and_bounded_on_the_embedded_store() {
    findings_are_paged_and_bounded(Backend::Embedded).await;
}

#[tokio::test]
async fn findings_are_paged_and_bounded_on_dynamodb() {
    findings_are_paged_and_bounded(Backend::Dynamo).await;
}

const PATCHERS: usize = 20;

/// Twenty PATCHes of one rule's threshold at once, each to a value of its own: each answers
/// 200 or 409, and the applied ones chain (each starts from what the one before it left, the
/// last is the rule's state), with one audit entry each and the stored version counting them.
/// `legacy`: the rule is stored as before rules had a version (no `version` attribute).
async fn patchers_of_one_rule(backend: Backend, legacy: bool) {
    use compliance_domain::identity::ActorKind;
    use compliance_domain::ids::Uuid;
    use compliance_store::{keys, Item, Query, WriteOp};

    let app = std::sync::Arc::new(spawn_app_on(backend).await);
    let token = user(&app, "officer-race");
    let (_, policy_id) = create_audit(&app, &token, "aml").await;
    let stored_rule = || {
        let app = app.clone();
        let policy_id = policy_id.clone();
        async move {
            let owner = keys::owner_segment(ActorKind::User, "officer-race");
            let policy = Uuid::parse(&policy_id).unwrap();
            let (pk, range) = keys::policy_rules(&test_support::org(&app.org_id), &owner, &policy);
            let page = app
                .store()
                .query(&Query::new(pk, range).limit(100))
                .await
                .unwrap();
            let found = page
                .items
                .into_iter()
                .find(|i| i["rule_id"] == "aml-ctr-001");
            found.unwrap()
        }
    };
    if legacy {
        let mut item: Item = stored_rule().await;
        assert_eq!(item.remove("version"), Some(json!(0)));
        app.store().write(vec![WriteOp::put(item)]).await.unwrap();
    }
    let tasks: Vec<_> = (0..PATCHERS)
        .map(|i| {
            let (app, token, policy_id) = (app.clone(), token.clone(), policy_id.clone());
            tokio::spawn(async move {
                let change = json!({"threshold": 20_000 + i});
                let resp = patch_rule(&app, &token, &policy_id, "aml-ctr-001", change).await;
                resp.status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let applied = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    println!("{backend:?} (legacy rule: {legacy}): {PATCHERS} PATCHes, {applied} applied");
    assert!(applied >= 1);
    let logged = app
        .get("/api/audit-logs?action=POLICY_RULE_UPDATED&limit=100")
        .await
        .body["entries"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(logged.len(), applied, "one audit entry per applied change");
    let threshold = |v: &Value| v["threshold"].as_f64().unwrap() as u64;
    let mut next = std::collections::HashMap::new();
    for e in &logged {
        let before = threshold(&e["metadata"]["before"]);
        let after = threshold(&e["metadata"]["after"]);
        assert!(
            next.insert(before, after).is_none(),
            "two changes applied to the threshold {before}: one was lost ({statuses:?})"
        );
    }
    let mut state = 10_000;
    for _ in 0..applied {
        state = next
            .remove(&state)
            .unwrap_or_else(|| panic!("the chain breaks after {state}"));
    }
    let ctr = listed_rule(&app, &token, &policy_id, "aml-ctr-001").await;
    assert_eq!(
        threshold(&ctr),
        state,
        "the last applied change is what is stored"
    );
    assert_eq!(stored_rule().await["version"], json!(applied));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_store_patchers_of_one_rule() {
    patchers_of_one_rule(Backend::Embedded, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_store_patchers_of_one_legacy_rule() {
    patchers_of_one_rule(Backend::Embedded, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_local_patchers_of_one_rule() {
    patchers_of_one_rule(Backend::Dynamo, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_local_patchers_of_one_legacy_rule() {
    patchers_of_one_rule(Backend::Dynamo, true).await;
}
