//! The test harness: `spawn_app()` starts the local server's router on a free loopback port over
//! a fresh store (embedded in a temp folder, or a fresh table in DynamoDB Local), with an org and
//! an admin key ready, and a client to call it over real HTTP.

pub mod contract;
pub mod intercept;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use compliance_auth::jwt::JwtConfig;
use compliance_domain::identity::ActorKind;
use compliance_domain::plans::{Plan, Role};
use compliance_domain::time::Clock;
use compliance_http::config::Config;
use compliance_http::AppState;
use compliance_services::api_keys;
use compliance_services::audit_log::AuditContext;
use compliance_services::orgs::{self, Org};
use compliance_store::config::StoreConfig;
use compliance_store::dynamo::{CallLimits, DynamoStore};
use compliance_store::embedded::EmbeddedStore;
use compliance_store::{ChangeFeed, Store};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const HS256_SECRET: &str = "test-secret-for-hs256-tokens-only";
pub const ISSUER: &str = "https://issuer.test/";
pub const AUDIENCE: &str = "compliance-api";

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name)
}

/// Which adapter a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Embedded,
    Dynamo,
}

/// DynamoDB Local's endpoint, set by `scripts/test.sh` (which starts and stops it).
pub fn dynamo_endpoint() -> String {
    std::env::var("DYNAMODB_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "DYNAMODB_ENDPOINT is not set: run the suite with scripts/test.sh, which starts \
             DynamoDB Local on a free port (or start it with scripts/dynamodb-local.sh start)"
        )
    })
}

/// Fixed test credentials and region for the AWS clients of the tests (kept when already set).
pub fn set_local_aws_env() {
    // DynamoDB Local accepts any credentials; keep the SDK off the EC2 metadata probe.
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        if std::env::var(k).is_err() {
            std::env::set_var(k, v);
        }
    }
}

/// A fresh table in DynamoDB Local, created from the one table definition. The client waits
/// longer than a deployment's ([`CallLimits::default`]): DynamoDB Local is one JVM on the test
/// machine, shared by every test running at once, and a call that takes seconds there is the
/// machine's load, not the outage those limits answer (the outage tests set their own).
pub async fn dynamo_store() -> Arc<DynamoStore> {
    set_local_aws_env();
    let limits = CallLimits {
        attempt: Duration::from_secs(10),
        call: Duration::from_secs(30),
        ..CallLimits::default()
    };
    let client = DynamoStore::client_with(Some(&dynamo_endpoint()), limits).await;
    let table = format!("t-{}", uuid::Uuid::new_v4().simple());
    compliance_store::table::create_table(&client, &table)
        .await
        .expect("create table in DynamoDB Local");
    Arc::new(DynamoStore::new(client, table))
}

/// A fresh embedded store in a temp folder (kept alive as long as the returned guard).
pub fn embedded_store() -> (Arc<EmbeddedStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(dir.path().join("compliance.redb")).expect("open redb");
    (Arc::new(store), dir)
}

/// A fresh store of the backend; on the embedded store, with its change feed and folder.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub feed: Option<Arc<dyn ChangeFeed>>,
    pub dir: Option<tempfile::TempDir>,
}

pub async fn store_for(backend: Backend) -> TestStore {
    match backend {
        Backend::Embedded => {
            let (s, dir) = embedded_store();
            TestStore {
                store: s.clone(),
                feed: Some(s),
                dir: Some(dir),
            }
        }
        Backend::Dynamo => TestStore {
            store: dynamo_store().await,
            feed: None,
            dir: None,
        },
    }
}

pub fn test_config(jwks_url: Option<String>) -> Config {
    Config {
        store: StoreConfig::Embedded {
            path: PathBuf::from("unused"),
        },
        jwt: JwtConfig {
            hs256_secret: Some(HS256_SECRET.into()),
            jwks_url,
            issuer: Some(ISSUER.into()),
            audience: Some(AUDIENCE.into()),
            ..JwtConfig::default()
        },
        api_key_cache: Duration::from_secs(30),
        audit_retention_days: 400,
        webhook_loopback: false,
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// The first org (enterprise plan) and its admin key.
    pub org_id: String,
    pub admin_key: String,
    /// What the in-process audit-log-export function exported.
    pub exported: Arc<audit_log_export::MemorySink>,
    /// The local upload target's folder (its key, and the objects received under `objects/`).
    pub uploads_dir: tempfile::TempDir,
    _dir: Option<tempfile::TempDir>,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    /// The JSON body; a body of another media type (CSV) as a string; `Null` when empty.
    pub body: Value,
}

/// Serves the JWKS fixture on a free loopback port; returns its URL.
pub async fn serve_jwks() -> String {
    let jwks: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("jwks.json")).unwrap()).unwrap();
    let router = axum::Router::new().route(
        "/.well-known/jwks.json",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { axum::Json(jwks) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/.well-known/jwks.json")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_on(Backend::Embedded).await
}

pub async fn spawn_app_on(backend: Backend) -> TestApp {
    spawn_app_with(store_for(backend).await, None).await
}

/// The app at the time `clock` tells.
pub async fn spawn_app_at(clock: Arc<dyn Clock>) -> TestApp {
    spawn_app_with(store_for(Backend::Embedded).await, Some(clock)).await
}

/// The app as the local server runs it: on the embedded store, the stream functions fed in
/// process from its change feed. Webhooks may reach loopback receivers (the tests' own).
pub async fn spawn_app_with(stores: TestStore, clock: Option<Arc<dyn Clock>>) -> TestApp {
    spawn_app_full(stores, clock, true).await
}

/// The app with webhooks held to the rules of a deployment: no loopback receiver.
pub async fn spawn_app_strict() -> TestApp {
    spawn_app_full(store_for(Backend::Embedded).await, None, false).await
}

/// The retry schedule of the tests' deliverers: two quick retries.
pub const TEST_RETRY_SCHEDULE: &str = "300ms,300ms";

/// A deliverer as the local server makes one, with [`TEST_RETRY_SCHEDULE`].
pub fn test_deliverer(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    allow_loopback: bool,
) -> Arc<compliance_events::deliver::Deliverer> {
    Arc::new(compliance_events::deliver::Deliverer::new(
        store,
        clock,
        compliance_events::url_policy::UrlPolicy { allow_loopback },
        compliance_events::schedule::RetrySchedule::parse(TEST_RETRY_SCHEDULE).unwrap(),
        8,
    ))
}

async fn spawn_app_full(
    stores: TestStore,
    clock: Option<Arc<dyn Clock>>,
    webhook_loopback: bool,
) -> TestApp {
    let TestStore { store, feed, dir } = stores;
    let clock = clock.unwrap_or_else(|| Arc::new(compliance_domain::time::SystemClock));
    let exported = Arc::new(audit_log_export::MemorySink::default());
    if let (Some(feed), Some(dir)) = (feed, &dir) {
        compliance_local::events::spawn_stream_functions(
            store.clone(),
            feed,
            exported.clone(),
            compliance_local::events::DeadLetters(dir.path().join("dead-letters.jsonl")),
            clock.clone(),
            test_deliverer(store.clone(), clock.clone(), webhook_loopback),
        );
    }
    let mut config = test_config(Some(serve_jwks().await));
    config.webhook_loopback = webhook_loopback;
    // Uploads go to the server itself, as the local server's do, in a folder of the test's own.
    let uploads = tempfile::tempdir().expect("temp dir");
    let target = compliance_uploads::UploadTarget::local(uploads.path()).expect("upload target");
    let state = AppState::new(store, &config)
        .with_clock(clock)
        .with_uploads(Arc::new(target));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let serving = state.clone();
    tokio::spawn(async move { compliance_local::serve(listener, serving).await });
    let mut app = TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .user_agent("e2e-tests/1.0")
            .build()
            .unwrap(),
        state,
        org_id: String::new(),
        admin_key: String::new(),
        exported,
        uploads_dir: uploads,
        _dir: dir,
    };
    let (org_id, admin_key) = app.new_org(Plan::Enterprise).await;
    app.org_id = org_id;
    app.admin_key = admin_key;
    app
}

impl TestApp {
    pub fn store(&self) -> &dyn Store {
        self.state.store.as_ref()
    }

    /// Another org with an admin key, straight through the domain (as the operator CLI does).
    pub async fn new_org(&self, plan: Plan) -> (String, String) {
        let org = Org::new("Test org", plan);
        orgs::create(
            self.store(),
            &org,
            (ActorKind::Operator, "tests"),
            400,
            None,
        )
        .await
        .unwrap();
        let key = self.key_for(org.id.as_str(), Role::Admin).await;
        (org.id.to_string(), key)
    }

    pub async fn key_for(&self, org_id: &str, role: Role) -> String {
        let ctx = AuditContext::system(&org(org_id), ActorKind::Operator, "tests", 400);
        api_keys::create(self.store(), &ctx, &format!("{} key", role.as_str()), role)
            .await
            .unwrap()
            .secret
    }

    pub async fn set_plan(&self, org_id: &str, plan: Plan) {
        let org = org(org_id);
        let ctx = AuditContext::system(&org, ActorKind::Operator, "tests", 400);
        orgs::set_plan(self.store(), &org, plan, &ctx)
            .await
            .unwrap()
            .unwrap();
    }

    /// Sends the request, and checks the response against the OpenAPI document.
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Response {
        let req = req.build().expect("a valid request");
        let method = req.method().to_string();
        let path = req.url().path().to_string();
        let resp = self.client.execute(req).await.expect("request");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| v.to_str().expect("a textual Content-Type"));
        contract::check_response(&method, &path, status.as_u16(), content_type, &bytes);
        let json = content_type.is_some_and(|t| contract::is_json(&contract::media_type(t)));
        let body = if bytes.is_empty() {
            Value::Null
        } else if json {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "non-JSON body ({status}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        } else {
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        };
        Response {
            status,
            headers,
            body,
        }
    }

    /// A POST of raw bytes (a scan report, records) with the admin key.
    pub async fn post_bytes(&self, path: &str, content_type: &str, body: Vec<u8>) -> Response {
        self.send(
            self.request(Method::POST, path)
                .header("X-API-Key", &self.admin_key)
                .header("Content-Type", content_type)
                .body(body),
        )
        .await
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.base, path))
    }

    /// A call with an API key (or none) and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.request(method, path);
        if let Some(key) = key {
            req = req.header("X-API-Key", key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.send(req).await
    }

    /// The actions of the org's latest 100 audit entries, newest first, those starting with
    /// `prefix`.
    pub async fn audit_actions(&self, prefix: &str) -> Vec<String> {
        let log = self.get("/api/audit-logs?limit=100").await.body;
        log["entries"]
            .as_array()
            .expect("audit entries")
            .iter()
            .filter_map(|e| e["action"].as_str())
            .filter(|a| a.starts_with(prefix))
            .map(str::to_string)
            .collect()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.call(Method::GET, path, Some(&self.admin_key), None)
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.call(Method::POST, path, Some(&self.admin_key), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.call(Method::PUT, path, Some(&self.admin_key), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.call(Method::DELETE, path, Some(&self.admin_key), None)
            .await
    }

    pub async fn with_bearer(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.request(method, path).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.send(req).await
    }
}

/// An org id the tests hold as text.
pub fn org(id: &str) -> compliance_domain::ids::OrgId {
    compliance_domain::ids::OrgId::parse(id).expect("a valid org id")
}

/// An HS256 token with the standard claims for `org`, adjustable through `extra`.
pub fn hs256_token(org: &str, role: &str, extra: Value) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = serde_json::json!({
        "sub": "user-1", "org_id": org, "role": role, "email": "user1@example.com",
        "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now - 5, "exp": now + 600,
    });
    merge(&mut claims, extra);
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(HS256_SECRET.as_bytes()),
    )
    .unwrap()
}

pub fn merge(base: &mut Value, extra: Value) {
    if let (Value::Object(b), Value::Object(e)) = (base, extra) {
        for (k, v) in e {
            if v.is_null() {
                b.remove(&k);
            } else {
                b.insert(k, v);
            }
        }
    }
}

/// An `events/` fixture with its placeholder credential replaced.
pub fn event_fixture(function: &str, name: &str, credential: Option<&str>) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../events")
        .join(function)
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match credential {
        Some(c) => text.replace("REPLACED_BY_TESTS", c),
        None => text,
    }
}

/// Drives a function's deployed router as Lambda does: the API Gateway event is turned into a
/// request by `lambda_http` itself.
pub async fn invoke_lambda(app: &axum::Router, event_json: &str) -> Response {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = lambda_http::request::from_str(event_json).expect("an API Gateway v2 event");
    let (parts, body) = req.into_parts();
    let req = axum::http::Request::from_parts(parts, axum::body::Body::from(body.to_vec()));
    let resp = app.clone().oneshot(req).await.expect("infallible router");
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in resp.headers() {
        if let (Ok(k), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(k.as_str().as_bytes()),
            reqwest::header::HeaderValue::from_bytes(v.as_bytes()),
        ) {
            headers.insert(k, v);
        }
    }
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        // JSON, or a file answered as it is (text here).
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Response {
        status,
        headers,
        body,
    }
}

/// Polls `probe` until it answers `Some`, for at most `within`: bounded by time, not by a count
/// of tries, so a busy machine makes a test slower, never red.
pub async fn eventually<T, F, Fut>(within: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = probe().await {
            return Some(found);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A file of `../shared/sarif-samples/` (real scanner outputs).
pub fn sarif_sample(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/../../../shared/sarif-samples/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}
