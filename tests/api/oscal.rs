//! OSCAL assessment results over HTTP, from a spawned app with real data: a scanned repository,
//! a repository never scanned, and an AML audit run. Every document passes two independent
//! validators (`scripts/oscal_validate.py`: NIST's published OSCAL 1.1.3 JSON schema with
//! check-jsonschema, and compliance-trestle's OSCAL 1.1.3 models), says what it should (the
//! disabled control excluded with the org's reason, no evidence never satisfied, one finding
//! per judged control), keeps its UUIDs for the same evaluation, and belongs to its org only.

use std::path::{Path, PathBuf};
use std::process::Command;

use compliance_domain::plans::Plan;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{hs256_token, spawn_app_on, Backend};

/// The project's tool virtualenv (`scripts/python-tools.sh` creates it; `scripts/test.sh` runs
/// that first). Missing tools fail the test: the validators are part of the suite.
pub(crate) fn tools_python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let bin = std::env::var_os("COMPLIANCE_TOOLS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".tools/venv/bin"));
    let python = bin.join("python");
    assert!(
        python.exists() && bin.join("check-jsonschema").exists(),
        "the OSCAL validators are missing from {}: run scripts/python-tools.sh (it installs \
         compliance-trestle and check-jsonschema into .tools/venv), or set COMPLIANCE_TOOLS_BIN",
        bin.display()
    );
    python
}

/// Runs both validators on `doc`: `Ok(output)` when it passes, `Err(message)` otherwise.
fn validate(doc: &Value, name: &str) -> Result<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.json"));
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    if let Some(keep) = std::env::var_os("OSCAL_KEEP_DIR") {
        std::fs::copy(&file, Path::new(&keep).join(format!("{name}.json"))).unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/oscal_validate.py");
    let out = Command::new(tools_python())
        .arg(&script)
        .arg(&file)
        .output()
        .expect("run scripts/oscal_validate.py");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

pub(crate) fn assert_valid(doc: &Value, name: &str) {
    match validate(doc, name) {
        Ok(text) => {
            assert!(text.contains("valid (NIST JSON schema"), "{text}");
            assert!(text.contains("valid (compliance-trestle)"), "{text}");
        }
        Err(text) => panic!("{name} is not valid OSCAL 1.1.3:\n{text}\n{doc:#}"),
    }
}

fn result(doc: &Value) -> &Value {
    &doc["assessment-results"]["results"][0]
}

fn prop<'a>(item: &'a Value, name: &str) -> Option<&'a str> {
    item["props"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["value"].as_str())
}

fn findings(doc: &Value) -> &Vec<Value> {
    result(doc)["findings"].as_array().expect("findings")
}

/// Every UUID of the document, in order.
fn uuids(doc: &Value) -> Vec<String> {
    let mut out = vec![doc["assessment-results"]["uuid"].to_string()];
    out.push(result(doc)["uuid"].to_string());
    for list in ["observations", "findings"] {
        for item in result(doc)[list].as_array().into_iter().flatten() {
            out.push(item["uuid"].to_string());
        }
    }
    out
}

/// A native scan: a secret and two SAST findings, secrets and SAST covered, a passed quality
/// gate and reviewed pull requests.
fn native_scan() -> Vec<u8> {
    let finished = chrono::Utc::now() - chrono::Duration::minutes(5);
    serde_json::to_vec(&json!({
        "tool": "ci-bundle",
        "started_at": (finished - chrono::Duration::minutes(3)).to_rfc3339(),
        "finished_at": finished.to_rfc3339(),
        "covered": ["secrets", "sast_security", "sast_crypto", "sast_auth"],
        "findings": [
            {"check_type": "secrets", "severity": "high", "rule_id": "aws-key", "message": "AWS key in config"},
            {"check_type": "sast_security", "severity": "medium", "rule_id": "sqli", "message": "SQL built from input", "cwe": [89]},
            {"check_type": "sast_security", "severity": "low", "rule_id": "xss", "message": "Unescaped output", "cwe": [79]}
        ],
        "signals": {"quality_gate": "passed", "pull_requests": {"merged": 12, "reviewed": 11}}
    }))
    .unwrap()
}

async fn oscal_documents_are_valid_and_faithful(backend: Backend) {
    let app = spawn_app_on(backend).await;
    // The org marks a SOC 2 control Not Applicable, with its reason.
    let put = app
        .put(
            "/api/compliance/frameworks/soc2/controls",
            json!({"disabled": ["CC8.1"], "justifications": {"CC8.1": "No physical premises: fully remote, cloud-hosted"}}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);

    let scanned = app
        .post("/api/repos", json!({"name": "payments-api"}))
        .await
        .body["repo_id"]
        .as_u64()
        .unwrap();
    let never = app
        .post("/api/repos", json!({"name": "docs-site"}))
        .await
        .body["repo_id"]
        .as_u64()
        .unwrap();
    let upload = app
        .send(
            app.request(Method::POST, &format!("/api/repos/{scanned}/scans"))
                .header("X-API-Key", &app.admin_key)
                .header("Content-Type", "application/json")
                .body(native_scan()),
        )
        .await;
    assert_eq!(upload.status, StatusCode::CREATED, "{:?}", upload.body);

    // The scanned repository.
    let path = format!("/api/compliance/score/{scanned}/oscal");
    let doc = app.get(&path).await;
    assert_eq!(doc.status, StatusCode::OK, "{:?}", doc.body);
    let doc = doc.body;
    assert_valid(&doc, "scanned-repo");
    let ar = &doc["assessment-results"];
    assert_eq!(ar["metadata"]["oscal-version"], "1.1.3");
    assert_eq!(ar["metadata"]["parties"][0]["name"], "Test org");
    assert_eq!(ar["metadata"]["parties"][0]["type"], "organization");
    assert_eq!(
        ar["import-ap"]["href"],
        format!("urn:compliance-api:org:{}:assessment-plan", app.org_id)
    );
    // One finding per judged control of every enabled framework, as the score counts them.
    let score = app
        .get(&format!("/api/compliance/score/{scanned}"))
        .await
        .body;
    let judged: u64 = score["frameworks"]
        .as_object()
        .unwrap()
        .values()
        .map(|f| f["total"].as_u64().unwrap())
        .sum();
    assert_eq!(findings(&doc).len() as u64, judged);
    for f in findings(&doc) {
        let status = prop(f, "status").unwrap();
        let state = &f["target"]["status"]["state"];
        assert_eq!(
            state == "satisfied",
            status == "pass",
            "{}: {status} is {state}",
            f["title"]
        );
    }
    assert!(
        findings(&doc)
            .iter()
            .any(|f| prop(f, "status") == Some("no_evidence")),
        "check types nobody covered have no evidence"
    );
    // The disabled control: not judged, excluded with the org's reason.
    assert!(findings(&doc)
        .iter()
        .all(|f| f["target"]["target-id"] != "soc2.CC8.1"));
    let selections = result(&doc)["reviewed-controls"]["control-selections"]
        .as_array()
        .unwrap();
    let excluded = selections
        .iter()
        .find(|s| s["exclude-controls"][0]["control-id"] == "soc2.CC8.1")
        .expect("CC8.1 excluded");
    assert!(excluded["remarks"]
        .as_str()
        .unwrap()
        .contains("No physical premises"));
    // An observation per evidence item: the scan and its tool, collected when it ran, by test.
    let observations = result(&doc)["observations"].as_array().unwrap();
    assert_eq!(observations.len(), 2, "{observations:#?}");
    assert!(observations.iter().all(|o| o["methods"] == json!(["TEST"])));
    assert_eq!(prop(&observations[1], "tool"), Some("ci-bundle"));
    assert_eq!(
        prop(&observations[0], "scan-id"),
        upload.body["scan_id"].as_str()
    );
    // The same evaluation, the same UUIDs.
    let again = app.get(&path).await.body;
    assert_eq!(uuids(&doc), uuids(&again));

    // A repository never scanned: valid too, and nothing is satisfied.
    let empty = app
        .get(&format!("/api/compliance/score/{never}/oscal"))
        .await
        .body;
    assert_valid(&empty, "never-scanned");
    assert!(findings(&empty)
        .iter()
        .all(|f| f["target"]["status"]["state"] == "not-satisfied"));
    assert_ne!(uuids(&empty)[0], uuids(&doc)[0]);

    // An AML audit run.
    let token = hs256_token(&app.org_id, "member", json!({"sub": "officer-1"}));
    let created = app
        .with_bearer(
            Method::POST,
            "/api/audits",
            &token,
            Some(json!({"name": "Q4 AML audit", "policy_type": "aml"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let audit = created.body["audit_id"].as_str().unwrap().to_string();
    let records = concat!(
        r#"{"id": "t1", "timestamp": "2025-03-05T09:00:00Z", "customer_id": "C1", "direction": "in", "instrument": "cash", "amount_usd": 6000}"#,
        "\n",
        r#"{"id": "t2", "timestamp": "2025-03-05T15:00:00Z", "customer_id": "C1", "direction": "in", "instrument": "cash", "amount_usd": 5000}"#,
        "\n"
    );
    let run = app
        .send(
            app.request(Method::POST, &format!("/api/audits/{audit}/runs"))
                .bearer_auth(&token)
                .header("Content-Type", "application/x-ndjson")
                .body(records),
        )
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{:?}", run.body);
    let run_id = run.body["run_id"].as_str().unwrap().to_string();
    let run_path = format!("/api/audits/{audit}/runs/{run_id}/oscal");
    let run_doc = app.with_bearer(Method::GET, &run_path, &token, None).await;
    assert_eq!(run_doc.status, StatusCode::OK, "{:?}", run_doc.body);
    let run_doc = run_doc.body;
    assert_valid(&run_doc, "audit-run");
    let ctr = findings(&run_doc)
        .iter()
        .find(|f| f["target"]["target-id"] == "aml.aml-ctr-001")
        .expect("the CTR rule's finding");
    assert_eq!(ctr["target"]["status"]["state"], "not-satisfied");
    assert_eq!(ctr["target"]["status"]["reason"], "fail");
    assert_eq!(
        findings(&run_doc).len(),
        run.body["rules"].as_array().unwrap().len()
    );
    let not_evaluable = findings(&run_doc)
        .iter()
        .filter(|f| prop(f, "status") == Some("no_evidence"));
    for f in not_evaluable {
        assert_eq!(f["target"]["status"]["state"], "not-satisfied");
    }
    let again = app
        .with_bearer(Method::GET, &run_path, &token, None)
        .await
        .body;
    assert_eq!(uuids(&run_doc), uuids(&again));

    // Tenancy: another org sees neither document; another user of the org not the run's.
    let (_, other_key) = app.new_org(Plan::Enterprise).await;
    let other = app.call(Method::GET, &path, Some(&other_key), None).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let stranger = hs256_token(&app.org_id, "admin", json!({"sub": "someone-else"}));
    let other = app
        .with_bearer(Method::GET, &run_path, &stranger, None)
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(other.body["error"], "NOT_FOUND");
    let unauthenticated = app.call(Method::GET, &path, None, None).await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);

    // The validators do validate: a state OSCAL does not define, or a missing import-ap, fails.
    let mut broken = doc.clone();
    broken["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] =
        json!("MET");
    let message = validate(&broken, "broken-state").expect_err("an unknown state is invalid");
    assert!(message.contains("INVALID (NIST JSON schema"), "{message}");
    assert!(
        message.contains("INVALID (compliance-trestle)"),
        "{message}"
    );
    let mut broken = doc.clone();
    broken["assessment-results"]
        .as_object_mut()
        .unwrap()
        .remove("import-ap");
    validate(&broken, "no-import-ap").expect_err("import-ap is required");
}

#[tokio::test]
async fn oscal_documents_are_valid_on_the_embedded_store() {
    oscal_documents_are_valid_and_faithful(Backend::Embedded).await;
}

#[tokio::test]
async fn oscal_documents_are_valid_on_dynamodb() {
    oscal_documents_are_valid_and_faithful(Backend::Dynamo).await;
}

#[tokio::test]
async fn unknown_repositories_and_runs_are_404() {
    let app = test_support::spawn_app().await;
    let resp = app.get("/api/compliance/score/999/oscal").await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    let resp = app.get("/api/compliance/score/abc/oscal").await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    let token = hs256_token(&app.org_id, "member", json!({"sub": "officer-1"}));
    let resp = app
        .with_bearer(
            Method::GET,
            "/api/audits/not-a-uuid/runs/also-not/oscal",
            &token,
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
}

/// An approved exception is a risk (`deviation-approved`) with the log of its request and
/// approval; the findings of the controls it set findings aside for reference it. Both
/// validators still pass.
#[tokio::test]
async fn approved_exceptions_are_risks() {
    let app = spawn_app_on(Backend::Embedded).await;
    let repo = app.post("/api/repos", json!({"name": "ledger"})).await.body["repo_id"]
        .as_u64()
        .unwrap();
    let upload = app
        .send(
            app.request(Method::POST, &format!("/api/repos/{repo}/scans"))
                .header("X-API-Key", &app.admin_key)
                .header("Content-Type", "application/json")
                .body(native_scan()),
        )
        .await;
    assert_eq!(upload.status, StatusCode::CREATED, "{:?}", upload.body);
    let member = app
        .key_for(&app.org_id, compliance_domain::plans::Role::Member)
        .await;
    let requested = app
        .call(
            Method::POST,
            &format!("/api/repos/{repo}/exceptions"),
            Some(&member),
            Some(
                json!({"scope": {"rule_id": "sqli"}, "kind": "compensating_control",
                        "justification": "Parameterised at the driver; WAF rule 942100"}),
            ),
        )
        .await;
    let id = requested.body["exception_id"].as_str().unwrap().to_string();
    let approved = app
        .post(
            &format!("/api/repos/{repo}/exceptions/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);

    let doc = app
        .get(&format!("/api/compliance/score/{repo}/oscal"))
        .await
        .body;
    assert_valid(&doc, "excepted-repo");
    let risks = result(&doc)["risks"].as_array().expect("risks");
    assert_eq!(risks.len(), 1, "{doc:#}");
    let risk = &risks[0];
    assert_eq!(risk["status"], "deviation-approved");
    assert_eq!(prop(risk, "exception-id"), Some(id.as_str()));
    assert!(risk["description"].as_str().unwrap().contains("WAF rule"));
    let log: Vec<&str> = risk["risk-log"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status-change"].as_str().unwrap())
        .collect();
    assert_eq!(log, ["deviation-requested", "deviation-approved"]);
    // The findings that reference it are the controls whose evidence counts the excepted one.
    let score = app.get(&format!("/api/compliance/score/{repo}")).await.body;
    let mut excepted: Vec<String> = Vec::new();
    for (key, fw) in score["frameworks"].as_object().unwrap() {
        for c in fw["controls"].as_array().unwrap() {
            if c["evidence"].get("excepted").is_some() {
                excepted.push(format!("{key} {}", c["id"].as_str().unwrap()));
            }
        }
    }
    let mut referencing: Vec<String> = findings(&doc)
        .iter()
        .filter(|f| {
            f["related-risks"]
                .as_array()
                .is_some_and(|r| r.iter().any(|x| x["risk-uuid"] == risk["uuid"]))
        })
        .map(|f| {
            format!(
                "{} {}",
                prop(f, "framework").unwrap(),
                prop(f, "control-id").unwrap()
            )
        })
        .collect();
    excepted.sort();
    referencing.sort();
    assert!(!excepted.is_empty());
    assert_eq!(referencing, excepted);
}
