//! Attestations over HTTP: an admin attests a control; a custom `manual` control goes from no
//! evidence to pass by attestation, and back when the attestation is overdue (by the clock, with
//! no write); renewals and withdrawals are versions, each audited; the SoA and the listing show
//! owners and due dates; lower roles and other orgs change nothing; bad bodies name the field.
//! On both stores.

use std::sync::Arc;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use compliance_domain::plans::{Plan, Role};
use compliance_domain::time::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{spawn_app_on, spawn_app_with, store_for, Backend, Response, TestApp};

const CUSTOM: &str = "/api/compliance/custom-frameworks";

/// A custom framework `policies` with a manual control (POL-1) and a secrets control (SEC-1),
/// and a repository scanned by nothing yet.
async fn policies(app: &TestApp) -> u64 {
    let framework = json!({
        "key": "policies",
        "name": "Company policies",
        "controls": [
            {"id": "POL-1", "name": "Access review done", "check_type": "manual"},
            {"id": "SEC-1", "name": "No secrets", "check_type": "secrets"}
        ]
    });
    let resp = app.post(CUSTOM, framework).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    let name = format!("attested-{}", uuid::Uuid::new_v4());
    let resp = app.post("/api/repos", json!({"name": name})).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["repo_id"].as_u64().unwrap()
}

const POL1: &str = "/api/compliance/frameworks/policies/controls/POL-1/attestation";

fn attestation(effective_at: DateTime<Utc>, interval: &str) -> Value {
    json!({
        "statement": "Quarterly access review of production done; 3 accounts removed.",
        "owner": "secops@example.com",
        "effective_at": effective_at.to_rfc3339(),
        "review_interval": interval
    })
}

/// The control's verdict in the repository's score.
async fn control(app: &TestApp, repo: u64, id: &str) -> Value {
    let score = app.get(&format!("/api/compliance/score/{repo}")).await;
    assert_eq!(score.status, StatusCode::OK, "{:?}", score.body);
    score.body["frameworks"]["policies"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap()
}

async fn attest_and_withdraw(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let repo = policies(&app).await;
    let before = control(&app, repo, "POL-1").await;
    assert_eq!(before["status"], "no_evidence");
    assert_eq!(before["check_type"], "manual");
    assert_eq!(before["pass_condition"], "attested");

    let effective = (Utc::now() - Duration::days(3)).trunc_subsecs(0);
    let resp = app.put(POL1, attestation(effective, "quarterly")).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    assert_eq!(resp.body["state"], "current");
    assert_eq!(resp.body["version"], 1);
    assert_eq!(resp.body["owner"], "secops@example.com");
    let due = DateTime::parse_from_rfc3339(resp.body["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        due.with_timezone(&Utc),
        effective
            .checked_add_months(chrono::Months::new(3))
            .unwrap()
    );

    let after = control(&app, repo, "POL-1").await;
    assert_eq!(after["status"], "pass", "{after}");
    assert!(after["reason"]
        .as_str()
        .unwrap()
        .starts_with("Passed by attestation, due for review on"));
    assert_eq!(after["evidence"]["attestation"]["state"], "current");
    assert_eq!(after["evidence"]["attestation"]["by_attestation"], true);
    // A scan-judged control of the same framework is untouched.
    assert_eq!(control(&app, repo, "SEC-1").await["status"], "no_evidence");

    // Renewed: a second version.
    let resp = app
        .put(POL1, attestation(Utc::now() - Duration::hours(1), "annual"))
        .await;
    assert_eq!(resp.body["version"], 2, "{:?}", resp.body);
    let read = app.get(POL1).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["attestation"]["version"], 2);
    assert_eq!(read.body["attestation"]["review_interval"], "annual");
    assert_eq!(read.body["history"].as_array().unwrap().len(), 2);

    // The SoA names the owner and the due date, and counts the repository as passing by it.
    let soa = app
        .get("/api/compliance/frameworks/policies/soa")
        .await
        .body;
    let pol = &soa["controls"][0];
    assert_eq!(pol["attestation"]["owner"], "secops@example.com");
    assert_eq!(pol["attestation"]["state"], "current");
    assert_eq!(pol["implementation"]["passed_by_attestation"], 1);
    assert_eq!(pol["implementation"]["pass"], 1);

    // The org summary counts it, with its due date.
    let summary = app.get("/api/compliance/summary").await;
    assert_eq!(summary.status, StatusCode::OK, "{:?}", summary.body);
    assert_eq!(summary.body["attestations"]["current"], 1);
    assert_eq!(summary.body["attestations"]["overdue"], 0);
    assert_eq!(
        summary.body["attestations"]["next_due_at"],
        read.body["attestation"]["due_at"]
    );

    // In OSCAL: an observation made by examining, collected when the evidence became true, that
    // the control's finding relates to; the document passes both validators.
    let oscal = app
        .get(&format!("/api/compliance/score/{repo}/oscal"))
        .await;
    assert_eq!(oscal.status, StatusCode::OK, "{:?}", oscal.body);
    let result = &oscal.body["assessment-results"]["results"][0];
    let examined: Vec<&Value> = result["observations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["methods"] == json!(["EXAMINE"]))
        .collect();
    assert_eq!(examined.len(), 1, "{result}");
    assert!(examined[0]["description"]
        .as_str()
        .unwrap()
        .starts_with("Quarterly access review of production done"));
    let finding = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["target"]["target-id"] == "policies.POL-1")
        .unwrap();
    assert_eq!(
        finding["related-observations"][0]["observation-uuid"],
        examined[0]["uuid"]
    );
    assert_eq!(finding["target"]["status"]["state"], "satisfied");
    crate::oscal::assert_valid(&oscal.body, "attested");

    // Withdrawn: a third version that says so, and the control is judged without it.
    let resp = app.delete(POL1).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    assert_eq!(resp.body["withdrawn"], true);
    assert_eq!(resp.body["version"], 3);
    assert_eq!(control(&app, repo, "POL-1").await["status"], "no_evidence");
    let read = app.get(POL1).await;
    assert_eq!(read.body["attestation"], Value::Null);
    assert_eq!(read.body["history"].as_array().unwrap().len(), 3);
    assert_eq!(app.delete(POL1).await.status, StatusCode::NOT_FOUND);

    // Every change is in the audit log.
    let actions = app.audit_actions("ATTESTATION_").await;
    assert_eq!(
        actions,
        [
            "ATTESTATION_WITHDRAWN",
            "ATTESTATION_RECORDED",
            "ATTESTATION_RECORDED"
        ]
    );
}

#[tokio::test]
async fn attest_and_withdraw_on_the_embedded_store() {
    attest_and_withdraw(Backend::Embedded).await;
}

#[tokio::test]
async fn attest_and_withdraw_on_dynamodb() {
    attest_and_withdraw(Backend::Dynamo).await;
}

/// A manual control passes while its attestation is current or due soon, and has no evidence
/// from the second it is overdue, with no write; the listing counts it as overdue.
const POL1_FILE: &str = "/api/compliance/frameworks/policies/controls/POL-1/attestation/file";

/// A file of `len` bytes that is not text (every byte value), as a PDF or an image is.
fn binary_file(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 % 251) as u8).collect()
}

/// The file as served, byte for byte, with its headers.
async fn download(app: &TestApp, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = app
        .request(Method::GET, path)
        .header("X-API-Key", &app.admin_key)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

async fn attach(app: &TestApp, key: &str, content_type: &str, body: Vec<u8>) -> Response {
    app.send(
        app.request(Method::PUT, &format!("{POL1_FILE}?name=access-review.pdf"))
            .header("X-API-Key", key)
            .header("Content-Type", content_type)
            .body(body),
    )
    .await
}

/// A file of three parts (over 512 KiB) attached as a new version, answered byte for byte with
/// its SHA-256; the earlier version keeps no file, a renewal starts without one.
async fn an_attestation_keeps_its_file(backend: Backend) {
    use sha2::{Digest, Sha256};
    let app = spawn_app_on(backend).await;
    policies(&app).await;
    let file = binary_file(600 * 1024);
    let sha = hex::encode(Sha256::digest(&file));

    let none = attach(&app, &app.admin_key, "application/pdf", file.clone()).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND, "{:?}", none.body);
    let effective = (Utc::now() - Duration::days(1)).trunc_subsecs(0);
    assert_eq!(
        app.put(POL1, attestation(effective, "annual")).await.status,
        StatusCode::OK
    );

    let resp = attach(&app, &app.admin_key, "application/pdf", file.clone()).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    assert_eq!(resp.body["version"], 2);
    assert_eq!(
        resp.body["effective_at"],
        app.get(POL1).await.body["attestation"]["effective_at"]
    );
    assert_eq!(
        resp.body["file"],
        json!({"name": "access-review.pdf", "content_type": "application/pdf",
               "bytes": file.len(), "sha256": sha})
    );
    let (status, headers, bytes) = download(&app, POL1_FILE).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes == file, "the file comes back byte for byte");
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["etag"], format!("\"{sha}\"").as_str());
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"access-review.pdf\""
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    // Through the contract check too (the document's binary response).
    let served = app
        .send(
            app.request(Method::GET, POL1_FILE)
                .header("X-API-Key", &app.admin_key),
        )
        .await;
    assert_eq!(served.status, StatusCode::OK);
    let (status, _, bytes) = download(&app, &format!("{POL1_FILE}?version=2")).await;
    assert_eq!((status, bytes == file), (StatusCode::OK, true));
    let (status, _, _) = download(&app, &format!("{POL1_FILE}?version=1")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "version 1 had no file");

    // In the SoA and OSCAL, by its SHA-256.
    let soa = app
        .get("/api/compliance/frameworks/policies/soa")
        .await
        .body;
    assert_eq!(
        soa["controls"][0]["attestation"]["file_sha256"],
        sha.as_str()
    );

    // A renewal is new evidence: it starts without a file; the old one stays with its version.
    assert_eq!(
        app.put(POL1, attestation(Utc::now(), "annual")).await.body["version"],
        3
    );
    let (status, _, _) = download(&app, POL1_FILE).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, bytes) = download(&app, &format!("{POL1_FILE}?version=2")).await;
    assert_eq!((status, bytes == file), (StatusCode::OK, true));

    // The documented maximum is taken; one byte more is a 413 naming the limit; other types,
    // an empty body, a viewer: refused, and nothing recorded.
    let max = binary_file(1024 * 1024);
    let resp = attach(&app, &app.admin_key, "image/png", max.clone()).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    assert_eq!(resp.body["file"]["bytes"], 1024 * 1024);
    let (_, _, bytes) = download(&app, POL1_FILE).await;
    assert!(bytes == max);
    let over = attach(
        &app,
        &app.admin_key,
        "image/png",
        binary_file(1024 * 1024 + 1),
    )
    .await;
    assert_eq!(
        over.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{:?}",
        over.body
    );
    assert!(
        over.body["detail"].as_str().unwrap().contains("1024 KiB"),
        "{:?}",
        over.body
    );
    let html = attach(
        &app,
        &app.admin_key,
        "text/html",
        b"<script>1</script>".to_vec(),
    )
    .await;
    assert_eq!(
        html.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{:?}",
        html.body
    );
    let empty = attach(&app, &app.admin_key, "text/plain", Vec::new()).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{:?}", empty.body);
    let member = app.key_for(&app.org_id, Role::Member).await;
    let denied = attach(&app, &member, "text/plain", b"x".to_vec()).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let history = app.get(POL1).await.body["history"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(history, 4, "only the accepted file made a version");
    let spoofing = app
        .send(
            app.request(
                Method::PUT,
                &format!("{POL1_FILE}?name=report%E2%80%AEfdp.exe"),
            )
            .header("X-API-Key", &app.admin_key)
            .header("Content-Type", "text/plain")
            .body("x"),
        )
        .await;
    assert_eq!(
        spoofing.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        spoofing.body
    );

    // Withdrawn: the withdrawal names no file; the file stays with the version that had it.
    let withdrawn = app.delete(POL1).await;
    assert_eq!(withdrawn.body["version"], 5, "{:?}", withdrawn.body);
    assert!(withdrawn.body.get("file").is_none());
    let (status, _, _) = download(&app, &format!("{POL1_FILE}?version=5")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, bytes) = download(&app, &format!("{POL1_FILE}?version=4")).await;
    assert_eq!((status, bytes == max), (StatusCode::OK, true));
}

#[tokio::test]
async fn an_attestation_keeps_its_file_on_the_embedded_store() {
    an_attestation_keeps_its_file(Backend::Embedded).await;
}

#[tokio::test]
async fn an_attestation_keeps_its_file_on_dynamodb() {
    an_attestation_keeps_its_file(Backend::Dynamo).await;
}

/// Deleting a custom framework takes its attestations in force with it (their history stays):
/// one created again with the same key starts unattested, and nothing is counted as due.
#[tokio::test]
async fn a_deleted_frameworks_attestations_go_with_it() {
    let app = spawn_app_on(Backend::Embedded).await;
    policies(&app).await;
    let effective = (Utc::now() - Duration::days(1)).trunc_subsecs(0);
    assert_eq!(
        app.put(POL1, attestation(effective, "annual")).await.status,
        StatusCode::OK
    );
    let gone = app.delete(&format!("{CUSTOM}/policies")).await;
    assert_eq!(gone.status, StatusCode::OK, "{:?}", gone.body);
    let listed = app.get("/api/compliance/attestations").await.body;
    assert_eq!(
        listed["counts"],
        json!({"current": 0, "due_soon": 0, "overdue": 0})
    );
    policies(&app).await;
    let read = app.get(POL1).await.body;
    assert_eq!(read["attestation"], Value::Null, "{read}");
    assert_eq!(
        read["history"].as_array().unwrap().len(),
        1,
        "the record stays"
    );
}

#[tokio::test]
async fn an_overdue_attestation_counts_for_nothing() {
    let start = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_app_with(store_for(Backend::Embedded).await, Some(clock.clone())).await;
    let repo = policies(&app).await;
    let effective = start - Duration::days(10);
    let resp = app.put(POL1, attestation(effective, "monthly")).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    let due = effective
        .checked_add_months(chrono::Months::new(1))
        .unwrap();
    // Current then due soon (the memo of the score may answer in between: it must not lag).
    // A month's attestation is current for two thirds of it (the last third is due soon).
    assert_eq!(resp.body["state"], "current");
    assert_eq!(control(&app, repo, "POL-1").await["status"], "pass");
    clock.set(due - Duration::days(5));
    let soon = control(&app, repo, "POL-1").await;
    assert_eq!(
        soon["evidence"]["attestation"]["state"], "due_soon",
        "{soon}"
    );
    clock.set(due - Duration::milliseconds(1));
    let last = control(&app, repo, "POL-1").await;
    assert_eq!(last["status"], "pass");
    assert_eq!(last["evidence"]["attestation"]["state"], "due_soon");
    clock.set(due);
    let late = control(&app, repo, "POL-1").await;
    assert_eq!(late["status"], "no_evidence", "{late}");
    assert_eq!(late["evidence"]["attestation"]["state"], "overdue");
    assert!(late["reason"]
        .as_str()
        .unwrap()
        .starts_with("Attestation overdue since"));
    let listing = app.get("/api/compliance/attestations?state=overdue").await;
    assert_eq!(listing.status, StatusCode::OK, "{:?}", listing.body);
    assert_eq!(listing.body["counts"]["overdue"], 1);
    assert_eq!(listing.body["attestations"][0]["control_id"], "POL-1");
    let current = app.get("/api/compliance/attestations?state=current").await;
    assert_eq!(current.body["attestations"], json!([]));
    // Renewed, it counts again.
    app.put(POL1, attestation(due, "annual")).await;
    assert_eq!(control(&app, repo, "POL-1").await["status"], "pass");
}

/// An attestation stands in where scans have no evidence, never over what a scan judged.
#[tokio::test]
async fn an_attestation_never_overrides_a_scan() {
    let app = spawn_app_on(Backend::Embedded).await;
    let repo = policies(&app).await;
    let sec1 = "/api/compliance/frameworks/policies/controls/SEC-1/attestation";
    let resp = app
        .put(sec1, attestation(Utc::now() - Duration::days(1), "annual"))
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    // Never scanned: the attestation is the evidence.
    assert_eq!(control(&app, repo, "SEC-1").await["status"], "pass");
    // A scan that finds secrets fails the control whatever was attested.
    let finished = Utc::now() - Duration::minutes(10);
    let findings: Vec<Value> = (0..3)
        .map(|i| {
            json!({"check_type": "secrets", "severity": "high", "rule_id": "aws-key",
                        "file": format!("src/k{i}.py")})
        })
        .collect();
    let scan = json!({"tool": "ci-bundle", "started_at": (finished - Duration::minutes(5)).to_rfc3339(),
                      "finished_at": finished.to_rfc3339(), "covered": ["secrets"],
                      "findings": findings});
    let resp = app.post(&format!("/api/repos/{repo}/scans"), scan).await;
    assert!(resp.status.is_success(), "{:?}", resp.body);
    let judged = control(&app, repo, "SEC-1").await;
    assert_eq!(judged["status"], "fail", "{judged}");
    assert_eq!(judged["evidence"]["attestation"]["by_attestation"], false);
}

#[tokio::test]
async fn roles_and_other_orgs() {
    let app = spawn_app_on(Backend::Embedded).await;
    policies(&app).await;
    let body = attestation(Utc::now() - Duration::days(1), "annual");
    for role in [Role::Member, Role::Viewer] {
        let key = app.key_for(&app.org_id, role).await;
        let resp = app
            .call(Method::PUT, POL1, Some(&key), Some(body.clone()))
            .await;
        assert_eq!(
            resp.status,
            StatusCode::FORBIDDEN,
            "{role:?}: {:?}",
            resp.body
        );
        let resp = app.call(Method::DELETE, POL1, Some(&key), None).await;
        assert_eq!(
            resp.status,
            StatusCode::FORBIDDEN,
            "{role:?}: {:?}",
            resp.body
        );
    }
    assert_eq!(app.put(POL1, body.clone()).await.status, StatusCode::OK);
    // A viewer reads it.
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    let read = app.call(Method::GET, POL1, Some(&viewer), None).await;
    assert_eq!(read.body["attestation"]["version"], 1);

    // Another org knows neither the framework nor the attestation, and lists none.
    let (_, other) = app.new_org(Plan::Enterprise).await;
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let resp = app
            .call(method.clone(), POL1, Some(&other), Some(body.clone()))
            .await;
        assert_eq!(
            resp.status,
            StatusCode::NOT_FOUND,
            "{method}: {:?}",
            resp.body
        );
    }
    let theirs = "/api/compliance/frameworks/soc2/controls/CC6.1/attestation";
    let resp = app.call(Method::GET, theirs, Some(&other), None).await;
    assert_eq!(resp.body["attestation"], Value::Null);
    let listing = app
        .call(
            Method::GET,
            "/api/compliance/attestations",
            Some(&other),
            None,
        )
        .await;
    assert_eq!(listing.body["attestations"], json!([]));
    assert_eq!(read.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_requests_name_the_field() {
    let app = spawn_app_on(Backend::Embedded).await;
    policies(&app).await;
    let good = attestation(Utc::now() - Duration::days(1), "annual");
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    let without = |field: &str| {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(field);
        body
    };
    let future = (Utc::now() + Duration::days(2)).to_rfc3339();
    for (body, field) in [
        (without("statement"), "statement"),
        (without("owner"), "owner"),
        (without("effective_at"), "effective_at"),
        (without("review_interval"), "review_interval"),
        (with("statement", json!("")), "statement"),
        (with("review_interval", json!("weekly")), "review_interval"),
        (with("effective_at", json!("last tuesday")), "effective_at"),
        (with("effective_at", json!(future)), "effective_at"),
        (with("owner", json!("x".repeat(201))), "owner"),
    ] {
        let resp = app.put(POL1, body).await;
        assert_eq!(
            resp.status,
            StatusCode::BAD_REQUEST,
            "{field}: {:?}",
            resp.body
        );
        assert!(
            resp.body.to_string().contains(field),
            "{field}: {:?}",
            resp.body
        );
    }
    for (path, what) in [
        (
            "/api/compliance/frameworks/policies/controls/POL-9/attestation",
            "Unknown control",
        ),
        (
            "/api/compliance/frameworks/nope/controls/POL-1/attestation",
            "Unknown framework",
        ),
    ] {
        let resp = app.put(path, good.clone()).await;
        assert_eq!(
            resp.status,
            StatusCode::NOT_FOUND,
            "{path}: {:?}",
            resp.body
        );
        assert!(resp.body["detail"].as_str().unwrap().contains(what));
    }
    let resp = app.get("/api/compliance/attestations?state=late").await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{:?}", resp.body);
    // Nothing was recorded by any of them.
    assert_eq!(app.get(POL1).await.body["history"], json!([]));
}
