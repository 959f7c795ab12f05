//! Uploads past the request body, as a client sends them: announce, post the file to the form
//! answered (multipart, as a browser or `curl -F` posts it), read the status. On the local
//! server (its own upload target) over both stores, and against a real S3 server (s3s-fs, which
//! enforces POST policies) with the S3 event handed to `process-upload`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use compliance_domain::plans::{Plan, Role};
use compliance_uploads::objects::{FolderObjects, Objects, S3Objects};
use process_upload::{Processed, Processor};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{eventually, gzip, hs256_token, spawn_app, spawn_app_on, Backend, TestApp};

const SARIF: &[u8] = include_bytes!("../../local/demo/latest.sarif");

async fn new_repo(app: &TestApp, key: &str) -> u64 {
    let resp = app
        .send(
            app.request(Method::POST, "/api/repos")
                .header("X-API-Key", key)
                .json(&json!({"name": format!("uploads-{}", uuid::Uuid::new_v4())})),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["repo_id"].as_u64().unwrap()
}

/// A new repository of the app's first org and a form announced for a report to it (`body`),
/// with the admin key.
async fn report_form(app: &TestApp, body: Value) -> (u64, test_support::Response) {
    let repo = new_repo(app, &app.admin_key).await;
    let path = format!("/api/repos/{repo}/uploads");
    (repo, announce(app, &app.admin_key, &path, body).await)
}

async fn announce(app: &TestApp, key: &str, path: &str, body: Value) -> test_support::Response {
    app.send(
        app.request(Method::POST, path)
            .header("X-API-Key", key)
            .json(&body),
    )
    .await
}

/// Posts the form's fields, then the file, as multipart/form-data (what a browser sends).
async fn post_form(url: &str, fields: &BTreeMap<String, String>, file: Vec<u8>) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.clone(), v.clone());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(file).file_name("upload"),
    );
    let resp = reqwest::Client::new()
        .post(url)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn fields_of(form: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(form["fields"].clone()).unwrap()
}

/// Reads the status until it is final.
async fn settled(app: &TestApp, key: &str, status_url: &str) -> Value {
    eventually(Duration::from_secs(30), || async {
        let resp = app
            .send(
                app.request(Method::GET, status_url)
                    .header("X-API-Key", key),
            )
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
        let status = resp.body["status"].as_str().unwrap().to_string();
        (status == "complete" || status == "failed").then_some(resp.body)
    })
    .await
    .expect("the upload settles")
}

fn objects_left(app: &TestApp) -> Vec<String> {
    let root = app.uploads_dir.path().join("objects").join("uploads");
    let mut left = Vec::new();
    for org in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(org.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            left.push(f.path().display().to_string());
        }
    }
    left
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    let resp = app.get("/api/audit-logs?limit=100").await;
    resp.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn a_report_upload_becomes_a_scan(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let key = app.admin_key.clone();
    let repo = new_repo(&app, &key).await;
    let base = format!("/api/repos/{repo}/uploads");
    let form = announce(
        &app,
        &key,
        &base,
        json!({"content_type": "application/sarif+json", "content_encoding": "gzip"}),
    )
    .await;
    assert_eq!(form.status, StatusCode::CREATED, "{:?}", form.body);
    let status_url = form.body["status_url"].as_str().unwrap().to_string();
    assert!(form.body["url"]
        .as_str()
        .unwrap()
        .ends_with("/local-uploads"));
    // Before the file: pending, saying what to do.
    let pending = app.get(&status_url).await;
    assert_eq!(pending.body["status"], "pending");
    assert!(pending.body["reason"].as_str().unwrap().contains("post it"));

    let (code, body) = post_form(
        form.body["url"].as_str().unwrap(),
        &fields_of(&form.body),
        gzip(SARIF),
    )
    .await;
    assert_eq!(code, 204, "{body}");
    let done = settled(&app, &key, &status_url).await;
    assert_eq!(done["status"], "complete", "{done}");
    assert_eq!(done["duplicate"], false);
    let scan_id = done["scan_id"].as_str().unwrap();

    // The same scan as the direct path stores for the same bytes: it is found as a duplicate.
    let direct = app
        .send(
            app.request(Method::POST, &format!("/api/repos/{repo}/scans"))
                .header("X-API-Key", &key)
                .header("Content-Type", "application/sarif+json")
                .body(SARIF.to_vec()),
        )
        .await;
    assert_eq!(direct.status, StatusCode::OK, "{:?}", direct.body);
    assert_eq!(direct.body["scan_id"], scan_id);
    assert_eq!(direct.body["duplicate"], true);
    let actions = audit_actions(&app).await;
    assert!(
        actions.contains(&"UPLOAD_CREATED".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"SCAN_INGESTED".to_string()),
        "{actions:?}"
    );
    assert!(objects_left(&app).is_empty(), "the object is deleted");
}

#[tokio::test]
async fn a_report_upload_becomes_a_scan_on_the_embedded_store() {
    a_report_upload_becomes_a_scan(Backend::Embedded).await;
}

#[tokio::test]
async fn a_report_upload_becomes_a_scan_on_dynamodb() {
    a_report_upload_becomes_a_scan(Backend::Dynamo).await;
}

fn transactions(n: usize, bad_line: Option<usize>) -> Vec<u8> {
    let mut out = String::new();
    let day = chrono::Utc::now() - chrono::Duration::days(3);
    for i in 1..=n {
        if Some(i) == bad_line {
            out.push_str(&format!("{{\"id\": \"t{i}\", \"amount_usd\": \n"));
            continue;
        }
        // Every 50th customer structures deposits just under the threshold.
        let customer = i % 200;
        let amount = if customer % 50 == 0 { 9500.0 } else { 120.0 };
        let at = day + chrono::Duration::minutes(i as i64);
        out.push_str(
            &json!({"id": format!("t{i}"), "timestamp": at.to_rfc3339(),
                "customer_id": format!("C{customer}"), "account_id": format!("A{customer}"),
                "direction": "in", "instrument": "cash", "amount_usd": amount})
            .to_string(),
        );
        out.push('\n');
    }
    out.into_bytes()
}

async fn create_audit(app: &TestApp, token: &str) -> String {
    let resp = app
        .with_bearer(
            Method::POST,
            "/api/audits",
            token,
            Some(json!({"name": "Upload audit", "policy_type": "aml"})),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["audit_id"].as_str().unwrap().to_string()
}

async fn upload_records(app: &TestApp, token: &str, audit: &str, records: Vec<u8>) -> Value {
    let form = app
        .with_bearer(
            Method::POST,
            &format!("/api/audits/{audit}/uploads"),
            token,
            Some(json!({"content_type": "application/x-ndjson", "content_encoding": "gzip"})),
        )
        .await;
    assert_eq!(form.status, StatusCode::CREATED, "{:?}", form.body);
    let (code, body) = post_form(
        form.body["url"].as_str().unwrap(),
        &fields_of(&form.body),
        gzip(&records),
    )
    .await;
    assert_eq!(code, 204, "{body}");
    let status_url = form.body["status_url"].as_str().unwrap().to_string();
    eventually(Duration::from_secs(60), || async {
        let resp = app.with_bearer(Method::GET, &status_url, token, None).await;
        let status = resp.body["status"].as_str().unwrap_or_default().to_string();
        (status == "complete" || status == "failed").then_some(resp.body)
    })
    .await
    .expect("the upload settles")
}

async fn a_records_upload_becomes_a_run(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let token = hs256_token(&app.org_id, "member", json!({"sub": "analyst"}));
    let audit = create_audit(&app, &token).await;
    let records = transactions(3_000, None);
    let done = upload_records(&app, &token, &audit, records.clone()).await;
    assert_eq!(done["status"], "complete", "{done}");
    let run_id = done["run_id"].as_str().unwrap();
    let run = app
        .with_bearer(
            Method::GET,
            &format!("/api/audits/{audit}/runs/{run_id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(run.status, StatusCode::OK);
    // The direct path's run over the same records: the same outcome.
    let direct = app
        .send(
            app.request(Method::POST, &format!("/api/audits/{audit}/runs"))
                .bearer_auth(&token)
                .header("Content-Type", "application/x-ndjson")
                .body(records),
        )
        .await;
    assert_eq!(direct.status, StatusCode::CREATED, "{:?}", direct.body);
    for field in [
        "records",
        "rules",
        "findings_total",
        "by_severity",
        "findings_stored",
    ] {
        assert_eq!(run.body[field], direct.body[field], "{field}");
    }
    assert!(run.body["findings_total"].as_u64().unwrap() > 0);
    assert!(objects_left(&app).is_empty());
}

#[tokio::test]
async fn a_records_upload_becomes_a_run_on_the_embedded_store() {
    a_records_upload_becomes_a_run(Backend::Embedded).await;
}

#[tokio::test]
async fn a_records_upload_becomes_a_run_on_dynamodb() {
    a_records_upload_becomes_a_run(Backend::Dynamo).await;
}

#[tokio::test]
async fn a_bad_upload_fails_as_its_direct_request_would_and_stores_nothing() {
    let app = spawn_app().await;
    let token = hs256_token(&app.org_id, "member", json!({"sub": "analyst"}));
    let audit = create_audit(&app, &token).await;
    let records = transactions(6_000, Some(5_001));
    let direct = app
        .send(
            app.request(Method::POST, &format!("/api/audits/{audit}/runs"))
                .bearer_auth(&token)
                .header("Content-Type", "application/x-ndjson")
                .body(records.clone()),
        )
        .await;
    assert_eq!(direct.status, StatusCode::BAD_REQUEST);
    let failed = upload_records(&app, &token, &audit, records).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let mut expected = direct.body.clone();
    expected["status"] = json!(400);
    assert_eq!(
        failed["error"], expected,
        "the direct request's error, line and field"
    );
    assert_eq!(failed["error"]["details"][0]["path"][1], 5_001);
    let runs = app
        .with_bearer(
            Method::GET,
            &format!("/api/audits/{audit}/runs"),
            &token,
            None,
        )
        .await;
    assert_eq!(runs.body["runs"], json!([]), "nothing stored");
    assert!(objects_left(&app).is_empty(), "the object is deleted");
    assert!(audit_actions(&app)
        .await
        .contains(&"UPLOAD_FAILED".to_string()));

    // A gzip cut short: failed, saying so.
    let repo = new_repo(&app, &app.admin_key).await;
    let form = announce(
        &app,
        &app.admin_key,
        &format!("/api/repos/{repo}/uploads"),
        json!({"content_type": "application/json", "content_encoding": "gzip"}),
    )
    .await;
    let mut cut = gzip(SARIF);
    cut.truncate(cut.len() / 2);
    let url = form.body["url"].as_str().unwrap();
    assert_eq!(post_form(url, &fields_of(&form.body), cut).await.0, 204);
    let status_url = form.body["status_url"].as_str().unwrap();
    let failed = settled(&app, &app.admin_key, status_url).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["status"], 400);
    assert!(
        failed["error"]["detail"].as_str().unwrap().contains("gzip"),
        "{failed}"
    );
}

#[tokio::test]
async fn the_local_target_refuses_what_s3_refuses_and_stores_nothing() {
    let app = spawn_app().await;
    let (_, form) = report_form(&app, json!({"content_type": "application/sarif+json"})).await;
    let url = form.body["url"].as_str().unwrap().to_string();
    let fields = fields_of(&form.body);
    let refused = |change: &dyn Fn(&mut BTreeMap<String, String>)| {
        let mut f = fields.clone();
        change(&mut f);
        f
    };
    let other_org = app.new_org(Plan::Team).await.0;
    let cases: Vec<(&str, BTreeMap<String, String>, &str)> = vec![
        (
            "key outside the org's prefix",
            refused(&|f| {
                let k = f["key"].replace(&app.org_id, &other_org);
                f.insert("key".into(), k);
            }),
            "AccessDenied",
        ),
        (
            "another content type",
            refused(&|f| {
                f.insert("Content-Type".into(), "text/csv".into());
            }),
            "AccessDenied",
        ),
        (
            "forged signature",
            refused(&|f| {
                f.insert("x-amz-signature".into(), "0".repeat(64));
            }),
            "SignatureDoesNotMatch",
        ),
        (
            "a field the policy does not cover",
            refused(&|f| {
                f.insert("acl".into(), "public-read".into());
            }),
            "AccessDenied",
        ),
    ];
    for (what, fields, code) in cases {
        let (status, body) = post_form(&url, &fields, SARIF.to_vec()).await;
        assert!(status == 400 || status == 403, "{what}: {status}");
        assert_eq!(body["code"], code, "{what}: {body}");
    }
    let (status, body) = post_form(&url, &fields, Vec::new()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("EntityTooSmall"))
    );
    assert!(objects_left(&app).is_empty(), "nothing stored");
    assert_eq!(
        app.get(form.body["status_url"].as_str().unwrap())
            .await
            .body["status"],
        "pending"
    );

    // Over the plan's range (a free org: 64 MiB): refused while it streams, nothing kept.
    let (free_org, free_key) = app.new_org(Plan::Free).await;
    let _ = free_org;
    let free_repo = new_repo(&app, &free_key).await;
    let form = announce(
        &app,
        &free_key,
        &format!("/api/repos/{free_repo}/uploads"),
        json!({"content_type": "application/json"}),
    )
    .await;
    assert_eq!(form.body["max_bytes"], 64 * 1024 * 1024);
    let over = vec![b' '; 64 * 1024 * 1024 + 1];
    let (status, body) = post_form(
        form.body["url"].as_str().unwrap(),
        &fields_of(&form.body),
        over,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("EntityTooLarge")),
        "{body}"
    );
    assert!(objects_left(&app).is_empty(), "nothing stored");
}

#[tokio::test]
async fn an_expired_form_is_refused_and_its_upload_reads_failed() {
    let clock = Arc::new(compliance_domain::time::ManualClock::new(chrono::Utc::now()));
    let app = test_support::spawn_app_at(clock.clone()).await;
    let (_, form) = report_form(&app, json!({"content_type": "application/sarif+json"})).await;
    clock.advance(chrono::Duration::minutes(16));
    let (status, body) = post_form(
        form.body["url"].as_str().unwrap(),
        &fields_of(&form.body),
        SARIF.to_vec(),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("AccessDenied")),
        "{body}"
    );
    let view = app.get(form.body["status_url"].as_str().unwrap()).await;
    assert_eq!(view.body["status"], "failed");
    assert!(view.body["error"]["detail"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn uploads_keep_roles_and_tenancy() {
    let app = spawn_app().await;
    let repo = new_repo(&app, &app.admin_key).await;
    let path = format!("/api/repos/{repo}/uploads");
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    let resp = announce(
        &app,
        &viewer,
        &path,
        json!({"content_type": "application/json"}),
    )
    .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let wrong = announce(
        &app,
        &app.admin_key,
        &path,
        json!({"content_type": "text/csv"}),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{:?}", wrong.body);
    assert_eq!(
        wrong.body["errors"][0]["path"],
        json!(["content_type"]),
        "{:?}",
        wrong.body
    );
    let unknown = announce(
        &app,
        &app.admin_key,
        &path,
        json!({"content_type": "image/png"}),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let form = announce(
        &app,
        &app.admin_key,
        &path,
        json!({"content_type": "application/json"}),
    )
    .await;
    assert_eq!(form.status, StatusCode::CREATED);
    let status_url = form.body["status_url"].as_str().unwrap();
    // Another org: the repository is not there, nor the upload.
    let (_, other) = app.new_org(Plan::Enterprise).await;
    let resp = app
        .send(
            app.request(Method::GET, status_url)
                .header("X-API-Key", &other),
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    // An audit's uploads are its creator's only.
    let alice = hs256_token(&app.org_id, "member", json!({"sub": "alice"}));
    let bob = hs256_token(&app.org_id, "admin", json!({"sub": "bob"}));
    let audit = create_audit(&app, &alice).await;
    let resp = app
        .with_bearer(
            Method::POST,
            &format!("/api/audits/{audit}/uploads"),
            &bob,
            Some(json!({"content_type": "text/csv"})),
        )
        .await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert_eq!(resp.body["error"], "NOT_FOUND");
}

#[tokio::test]
async fn an_object_processed_twice_stores_one_scan() {
    let app = spawn_app().await;
    let (repo, form) = report_form(&app, json!({"content_type": "application/sarif+json"})).await;
    // The object put in place without the server's own processing (as S3 stores it before its
    // event is delivered), then processed twice at once and once more later.
    let objects = Arc::new(FolderObjects::new(app.uploads_dir.path().join("other")).unwrap());
    let key_of = fields_of(&form.body)["key"].clone();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), SARIF).unwrap();
    objects.put_file(&key_of, file.path()).await.unwrap();
    let processor = Processor {
        state: app.state.clone(),
        objects: objects.clone(),
        fanout: None,
    };
    let (a, b) = tokio::join!(
        process_upload::process(&processor, &key_of, process_upload::lease()),
        process_upload::process(&processor, &key_of, process_upload::lease()),
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, Processed::Complete(_)))
            .count(),
        1,
        "{outcomes:?}"
    );
    objects.put_file(&key_of, file.path()).await.unwrap();
    let again = process_upload::process(&processor, &key_of, process_upload::lease())
        .await
        .unwrap();
    assert_eq!(again, Processed::Skipped("already processed"));
    assert!(objects.list("uploads/").await.unwrap().is_empty());
    let scans = app.get(&format!("/api/repos/{repo}/scans")).await;
    assert_eq!(scans.body["scans"].as_array().unwrap().len(), 1);
}

/// Announces through the router in process with the credential `auth` (a header), answering
/// the form (201 expected).
async fn announce_in_process(
    router: &axum::Router,
    path: &str,
    auth: (&str, String),
    body: Value,
) -> Value {
    use tower::ServiceExt;
    let req = axum::http::Request::post(path)
        .header(auth.0, auth.1)
        .header("Content-Type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(status, axum::http::StatusCode::CREATED, "{body}");
    body
}

// --- A real S3 server (s3s-fs, started by scripts/test.sh) -----------------------------------

fn s3_env() -> (String, String, String) {
    let var = |k: &str| {
        std::env::var(k).unwrap_or_else(|_| {
            panic!("{k} is not set: run the suite with scripts/test.sh, which starts s3s-fs (or scripts/s3-local.sh start)")
        })
    };
    (
        var("S3_ENDPOINT"),
        var("S3_ACCESS_KEY_ID"),
        var("S3_SECRET_ACCESS_KEY"),
    )
}

/// A fresh bucket on the S3 server, and the app's state sending uploads to it: forms signed for
/// it, announced through the router in process (the served app keeps its local target).
struct S3Bucket {
    client: aws_sdk_s3::Client,
    bucket: String,
    endpoint: String,
    state: compliance_http::AppState,
    router: axum::Router,
}

impl S3Bucket {
    async fn new(app: &TestApp) -> Self {
        let (endpoint, id, secret) = s3_env();
        let creds = aws_sdk_s3::config::Credentials::new(&id, &secret, None, None, "tests");
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .force_path_style(true)
            .credentials_provider(creds.clone())
            .http_client(compliance_store::aws::https_client())
            .build();
        let client = aws_sdk_s3::Client::from_conf(config);
        let bucket = format!(
            "uploads-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        client.create_bucket().bucket(&bucket).send().await.unwrap();
        let target = compliance_uploads::UploadTarget::s3(
            bucket.clone(),
            Some(&endpoint),
            "us-east-1".into(),
            aws_sdk_s3::config::SharedCredentialsProvider::new(creds),
        );
        let state = app.state.clone().with_uploads(Arc::new(target));
        S3Bucket {
            router: compliance_local::app(state.clone()),
            client,
            bucket,
            endpoint,
            state,
        }
    }

    fn objects(&self) -> Arc<S3Objects> {
        Arc::new(S3Objects::new(
            self.client.clone(),
            &self.bucket,
            std::env::temp_dir(),
        ))
    }

    async fn keys(&self) -> i32 {
        let listed = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .send()
            .await
            .unwrap();
        listed.key_count().unwrap_or_default()
    }
}

/// S3's `ObjectCreated:Post` event for `key`, from the recorded event of the function's folder.
fn s3_event(bucket: &str, key: &str) -> aws_lambda_events::event::s3::S3Event {
    let text = std::fs::read_to_string(format!(
        "{}/../events/process-upload/object-created.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .replace("BUCKET_PLACEHOLDER", bucket)
    .replace("OBJECT_KEY_PLACEHOLDER", &key.replace(' ', "+"));
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn through_s3_a_signed_post_is_processed_from_its_event() {
    let app = spawn_app().await;
    let s3 = S3Bucket::new(&app).await;
    let repo = new_repo(&app, &app.admin_key).await;
    let form = announce_in_process(
        &s3.router,
        &format!("/api/repos/{repo}/uploads"),
        ("X-API-Key", app.admin_key.clone()),
        json!({"content_type": "application/sarif+json"}),
    )
    .await;
    let url = form["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&s3.endpoint), "{url}");
    let fields = fields_of(&form);

    // What S3 refuses, it refuses: nothing stored.
    let mut forged = fields.clone();
    forged.insert("x-amz-signature".into(), "0".repeat(64));
    let (status, _) = post_form(&url, &forged, SARIF.to_vec()).await;
    assert_eq!(status, 403);
    let mut moved = fields.clone();
    moved.insert("key".into(), "uploads/someone-else/x".into());
    assert!(post_form(&url, &moved, SARIF.to_vec()).await.0 >= 400);
    let mut retyped = fields.clone();
    retyped.insert("Content-Type".into(), "text/csv".into());
    let (status, body) = post_form(&url, &retyped, SARIF.to_vec()).await;
    assert!(
        status >= 400 && body.to_string().contains("Policy"),
        "{status} {body}"
    );
    // A policy whose expiry has passed (signed by the product's signer, with the S3 target's
    // credentials, for the form's own key and type).
    let signer = s3
        .state
        .uploads
        .as_ref()
        .unwrap()
        .signing_key()
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let terms = compliance_uploads::policy::PolicyTerms {
        bucket: &s3.bucket,
        key: &fields["key"],
        content_type: "application/sarif+json",
        max_bytes: 1 << 20,
        expires_at: now - chrono::Duration::minutes(1),
    };
    let expired = compliance_uploads::policy::sign(&signer, &terms, now);
    let (status, body) = post_form(&url, &expired, SARIF.to_vec()).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.to_string().contains("AccessDenied"), "{body}");
    // Over the plan's range (a free org: 64 MiB).
    let (_, free_key) = app.new_org(Plan::Free).await;
    let free_repo = new_repo(&app, &free_key).await;
    let small = announce_in_process(
        &s3.router,
        &format!("/api/repos/{free_repo}/uploads"),
        ("X-API-Key", free_key),
        json!({"content_type": "application/json"}),
    )
    .await;
    let over = vec![b' '; 64 * 1024 * 1024 + 1];
    let (status, body) = post_form(&url, &fields_of(&small), over).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("EntityTooLarge"), "{body}");
    assert_eq!(s3.keys().await, 0);

    let (status, body) = post_form(&url, &fields, SARIF.to_vec()).await;
    assert_eq!(status, 204, "{body}");
    let key = fields["key"].clone();
    let processor = Processor {
        state: s3.state.clone(),
        objects: s3.objects(),
        fanout: None,
    };
    let done = process_upload::event::handle(&processor, s3_event(&s3.bucket, &key))
        .await
        .unwrap();
    assert!(matches!(done[..], [Processed::Complete(_)]), "{done:?}");
    // A redelivered event: nothing more.
    let again = process_upload::event::handle(&processor, s3_event(&s3.bucket, &key))
        .await
        .unwrap();
    assert_eq!(again, vec![Processed::Skipped("object gone")]);
    assert_eq!(s3.keys().await, 0, "the object is deleted");
    let scans = app.get(&format!("/api/repos/{repo}/scans")).await;
    assert_eq!(scans.body["scans"].as_array().unwrap().len(), 1);
}

/// Records the executions it is asked to start (Step Functions has no local emulator here); the
/// test then runs the state machine's steps as its definition sends them.
#[derive(Default)]
struct Recorded(std::sync::Mutex<Vec<(String, Value)>>);

#[async_trait::async_trait]
impl process_upload::fanout::Starter for Recorded {
    async fn start(&self, name: &str, input: Value) -> Result<String, String> {
        self.0.lock().unwrap().push((name.to_string(), input));
        Ok(format!(
            "arn:aws:states:eu-west-1:123456789012:execution:audit-run:{name}"
        ))
    }
}

#[tokio::test]
async fn through_s3_a_large_run_fans_out_into_partitions_and_merges_into_the_same_run() {
    use process_upload::fanout::{run_step, Fanout, Step};
    let app = spawn_app_on(Backend::Dynamo).await;
    let s3 = S3Bucket::new(&app).await;
    let token = hs256_token(&app.org_id, "member", json!({"sub": "analyst"}));
    let audit = create_audit(&app, &token).await;
    let records = transactions(4_000, None);

    let uploads = format!("/api/audits/{audit}/uploads");
    let bearer = ("Authorization", format!("Bearer {token}"));
    let ndjson = json!({"content_type": "application/x-ndjson"});
    let form = announce_in_process(&s3.router, &uploads, bearer.clone(), ndjson.clone()).await;
    let fields = fields_of(&form);
    let (status, body) = post_form(form["url"].as_str().unwrap(), &fields, records.clone()).await;
    assert_eq!(status, 204, "{body}");

    let started = Arc::new(Recorded::default());
    let processor = Processor {
        state: s3.state.clone(),
        objects: s3.objects(),
        fanout: Some(Fanout {
            starter: started.clone(),
            bucket: s3.bucket.clone(),
            // Every run fans out.
            min_bytes: 0,
        }),
    };
    let done = process_upload::event::handle(&processor, s3_event(&s3.bucket, &fields["key"]))
        .await
        .unwrap();
    assert!(matches!(done[..], [Processed::HandedOver(_)]), "{done:?}");
    let status_url = form["status_url"].as_str().unwrap();
    let view = app.with_bearer(Method::GET, status_url, &token, None).await;
    assert_eq!(view.body["status"], "processing");

    // The execution's input, as the state machine's definition reads it.
    let (name, input) = started.0.lock().unwrap()[0].clone();
    let upload_id = form["upload_id"].as_str().unwrap();
    assert_eq!(name, upload_id);
    let asl = std::fs::read_to_string(format!(
        "{}/../statemachine/audit-run.asl.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    for path in [
        "$.bucket",
        "$.partitions_prefix",
        "$.max_concurrency",
        "$.upload_id",
    ] {
        assert!(asl.contains(path), "the definition reads {path}");
        assert!(
            input[path.trim_start_matches("$.")].is_string()
                || input[path.trim_start_matches("$.")].is_number(),
            "{input}"
        );
    }
    assert_eq!(input["max_concurrency"], 40, "the enterprise plan's");

    // The distributed map: one evaluation per object under the prefix (in reverse order: any
    // order gives the same run), then the merge.
    let listed = s3
        .client
        .list_objects_v2()
        .bucket(&s3.bucket)
        .prefix(input["partitions_prefix"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect();
    assert!(!keys.is_empty());
    let upload = compliance_domain::ids::Uuid::parse(upload_id).unwrap();
    for key in keys.iter().rev() {
        let step: Step = serde_json::from_value(json!({
            "step": "evaluate", "upload_id": upload_id, "bucket": s3.bucket, "key": key,
        }))
        .unwrap();
        run_step(&processor, step).await.unwrap();
    }
    let merge: Step =
        serde_json::from_value(json!({"step": "merge", "upload_id": upload, "bucket": s3.bucket}))
            .unwrap();
    run_step(&processor, merge).await.unwrap();
    let view = app.with_bearer(Method::GET, status_url, &token, None).await;
    assert_eq!(view.body["status"], "complete", "{:?}", view.body);
    let run_id = view.body["run_id"].as_str().unwrap();
    let run = app
        .with_bearer(
            Method::GET,
            &format!("/api/audits/{audit}/runs/{run_id}"),
            &token,
            None,
        )
        .await;
    let direct = app
        .send(
            app.request(Method::POST, &format!("/api/audits/{audit}/runs"))
                .bearer_auth(&token)
                .header("Content-Type", "application/x-ndjson")
                .body(records),
        )
        .await;
    for field in [
        "records",
        "rules",
        "findings_total",
        "by_severity",
        "findings_stored",
        "input_bytes",
    ] {
        assert_eq!(run.body[field], direct.body[field], "{field}");
    }
    assert_eq!(
        s3.keys().await,
        0,
        "partitions, results and the upload are deleted"
    );

    // A failed execution's last step: the upload failed, nothing stored, nothing left.
    let form = announce_in_process(&s3.router, &uploads, bearer, ndjson).await;
    let fields = fields_of(&form);
    post_form(
        form["url"].as_str().unwrap(),
        &fields,
        transactions(500, None),
    )
    .await;
    process_upload::event::handle(&processor, s3_event(&s3.bucket, &fields["key"]))
        .await
        .unwrap();
    let fail: Step = serde_json::from_value(json!({
        "step": "fail", "upload_id": form["upload_id"], "error": "States.TaskFailed",
        "cause": "Lambda timed out",
    }))
    .unwrap();
    run_step(&processor, fail).await.unwrap();
    let view = app
        .with_bearer(
            Method::GET,
            form["status_url"].as_str().unwrap(),
            &token,
            None,
        )
        .await;
    assert_eq!(view.body["status"], "failed");
    assert_eq!(view.body["error"]["error"], "INTERNAL_ERROR");
    assert_eq!(s3.keys().await, 0);
    let runs = app
        .with_bearer(
            Method::GET,
            &format!("/api/audits/{audit}/runs"),
            &token,
            None,
        )
        .await;
    assert_eq!(
        runs.body["runs"].as_array().unwrap().len(),
        2,
        "the fanned-out and the direct"
    );
}
