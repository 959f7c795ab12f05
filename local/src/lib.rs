//! The local server: every function's router on one port, the same handlers and paths as under
//! API Gateway, over the embedded store by default; the stream and schedule functions run in
//! process (see [`events`]).

mod connection;
pub mod events;
pub mod uploads;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use compliance_domain::identity::ActorKind;
use compliance_domain::plans::{Plan, Role};
use compliance_domain::time::SystemClock;
use compliance_events::deliver::Deliverer;
use compliance_events::schedule::RetrySchedule;
use compliance_events::url_policy::UrlPolicy;
use compliance_http::config::Config;
use compliance_http::{finish, AppState};
use compliance_services::api_keys;
use compliance_services::audit_log::AuditContext;
use compliance_services::orgs::{self, Org};
use compliance_store::config::StoreConfig;
use compliance_store::embedded::EmbeddedStore;
use compliance_store::{Store, StoreError};
use compliance_uploads::UploadTarget;

/// Every HTTP function's router, merged; and, when the state's uploads go to the local server
/// itself, its upload target.
pub fn app(state: AppState) -> Router {
    let local_uploads = uploads::LocalUploads::of(&state);
    let api = Router::new()
        .merge(admin_api::router(state.clone()))
        .merge(frameworks_api::router(state.clone()))
        .merge(custom_frameworks_api::router(state.clone()))
        .merge(scans_api::router(state.clone()))
        .merge(scores_api::router(state.clone()))
        .merge(audits_api::router(state))
        // The dashboard at `/` and `/assets/...`: no fallback of its own, so every other
        // path still gets the API's JSON 404.
        .merge(compliance_dashboard::router());
    finish(match local_uploads {
        Some(local) => api.merge(local.router()),
        None => api,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data folder {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Config(String),
}

/// Attempts in flight at once.
const DELIVERY_CONCURRENCY: usize = 32;

/// The webhook deliverer, with the retry schedule of `COMPLIANCE_WEBHOOK_RETRY_SCHEDULE`.
fn deliverer(
    store: Arc<dyn Store>,
    clock: Arc<SystemClock>,
    config: &Config,
) -> Result<Arc<Deliverer>, StartError> {
    let schedule = RetrySchedule::from_env().map_err(StartError::Config)?;
    let policy = UrlPolicy {
        allow_loopback: config.webhook_loopback,
    };
    Ok(Arc::new(Deliverer::new(
        store,
        clock,
        policy,
        schedule,
        DELIVERY_CONCURRENCY,
    )))
}

/// The local server's state: the configured store with, on the embedded store, the stream
/// functions fed from its change feed (their export and dead letters beside the database) and
/// the snapshot timer (`snapshots`: its interval, `None` for never).
pub async fn open(config: &Config, snapshots: Option<Duration>) -> Result<AppState, StartError> {
    let clock = Arc::new(SystemClock);
    let store: Arc<dyn Store> = match &config.store {
        StoreConfig::Embedded { path } => {
            let dir = path.parent().unwrap_or(Path::new("."));
            let data_dir_error = |source| StartError::DataDir {
                path: dir.display().to_string(),
                source,
            };
            std::fs::create_dir_all(dir).map_err(data_dir_error)?;
            let shown = std::fs::canonicalize(dir).map_err(data_dir_error)?;
            tracing::info!(data_dir = %shown.display(), "embedded store in {}", shown.display());
            let embedded = Arc::new(EmbeddedStore::open(path)?);
            let sink = audit_log_export::FileSink::append(&dir.join("audit-export.jsonl"))
                .map_err(data_dir_error)?;
            events::spawn_stream_functions(
                embedded.clone(),
                embedded.clone(),
                Arc::new(sink),
                events::DeadLetters(dir.join("stream-dead-letters.jsonl")),
                clock.clone(),
                deliverer(embedded.clone(), clock.clone(), config)?,
            );
            embedded
        }
        StoreConfig::Dynamo { table, .. } => {
            tracing::info!(table, "DynamoDB store (the stream functions are not run in process: in AWS the table's stream drives them)");
            config.store.open().await?
        }
    };
    if let Some(every) = snapshots {
        events::spawn_snapshots(store.clone(), every, clock.clone());
    }
    let state = AppState::new(store, config).with_clock(clock);
    // Uploads go to the server itself, kept in the data folder (or `.data` beside a DynamoDB
    // table), so that `curl -F` works offline as it does against S3.
    let data_dir = match &config.store {
        StoreConfig::Embedded { path } => path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        StoreConfig::Dynamo { .. } => std::path::PathBuf::from(".data"),
    };
    std::fs::create_dir_all(&data_dir).map_err(|source| StartError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    let target = UploadTarget::local(&data_dir).map_err(|e| StartError::DataDir {
        path: data_dir.display().to_string(),
        source: std::io::Error::other(e),
    })?;
    let state = state.with_uploads(Arc::new(target));
    if let Some(local) = uploads::LocalUploads::of(&state) {
        local.resume();
    }
    Ok(state)
}

/// The demo org and its first admin key, created on the first start only.
pub struct Demo {
    pub org: Org,
    pub admin_key: String,
}

pub async fn ensure_demo_org(state: &AppState) -> Result<Option<Demo>, StoreError> {
    const DEMO: &str = "demo-org";
    if orgs::bootstrapped(state.store.as_ref(), DEMO).await? {
        return Ok(None);
    }
    let org = Org::new("Demo org", Plan::Enterprise);
    let actor = (ActorKind::Operator, "local-server");
    match orgs::create(
        state.store.as_ref(),
        &org,
        actor,
        state.audit_retention_days,
        Some(DEMO),
    )
    .await
    {
        Ok(()) => {}
        // Another process created it between our read and our write.
        Err(StoreError::ConditionFailed { .. }) => return Ok(None),
        Err(e) => return Err(e),
    }
    let ctx = AuditContext::system(
        &org.id,
        ActorKind::Operator,
        "local-server",
        state.audit_retention_days,
    );
    let key = api_keys::create(state.store.as_ref(), &ctx, "demo admin", Role::Admin).await?;
    Ok(Some(Demo {
        org,
        admin_key: key.secret,
    }))
}

/// The demo data's reports, carried by the repository: a native scan document three weeks old
/// (ours), the ingest tests' native example ten days old, and today a SARIF 2.1.0 report of three
/// runs (Semgrep, gitleaks, Trivy; ours) with the signals SARIF has no place for in
/// `X-Scan-Signals`. We wrote them all (see `local/demo/README.md`); no third-party report.
const DEMO_HISTORY: &[u8] = include_bytes!("../demo/history.json");
const DEMO_NATIVE_EXAMPLE: &[u8] =
    include_bytes!("../../shared/domain/src/ingest/testdata/native_example.json");
const DEMO_LATEST: &[u8] = include_bytes!("../demo/latest.sarif");
const DEMO_SIGNALS: &str = r#"{"quality_gate":"passed","pull_requests":{"merged":31,"reviewed":30,"approvals_median":1},"languages":["python"],"files":["Dockerfile","infra/main.tf"]}"#;
/// The sample repository's name.
pub const DEMO_REPO: &str = "acme/payments-service";

#[derive(Debug, thiserror::Error)]
#[error("seeding the demo org: {0}")]
pub struct SeedError(String);

/// A native scan document moved to `days_ago` (its start and finish times), as JSON bytes.
fn native_at(doc: &[u8], days_ago: i64, now: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let mut value: serde_json::Value =
        serde_json::from_slice(doc).expect("the demo documents are JSON");
    let finished = now - chrono::Duration::days(days_ago);
    let started = finished - chrono::Duration::minutes(4);
    value["started_at"] = started
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        .into();
    value["finished_at"] = finished
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        .into();
    serde_json::to_vec(&value).expect("a JSON value serialises")
}

/// Fills the demo org, on its first start, with a sample repository and three scans, through the
/// public API (the very routes, in process, with the demo admin key), so that the dashboard's
/// first look is not empty. Returns the repository's id.
pub async fn seed_demo(state: &AppState, admin_key: &str) -> Result<u64, SeedError> {
    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use tower::ServiceExt;

    let app = app(state.clone());
    let call =
        |path: String, content_type: &'static str, body: Vec<u8>, signals: Option<&'static str>| {
            let app = app.clone();
            async move {
                let mut req = Request::post(&path)
                    .header("X-API-Key", admin_key)
                    .header(header::CONTENT_TYPE, content_type)
                    .header(header::USER_AGENT, "compliance-local demo seed");
                if let Some(signals) = signals {
                    req = req.header("X-Scan-Signals", signals);
                }
                let req = req
                    .body(Body::from(body))
                    .map_err(|e| SeedError(e.to_string()))?;
                let resp = app
                    .oneshot(req)
                    .await
                    .map_err(|e| SeedError(e.to_string()))?;
                let status = resp.status();
                let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
                    .await
                    .map_err(|e| SeedError(e.to_string()))?;
                if status != StatusCode::CREATED {
                    return Err(SeedError(format!(
                        "POST {path}: {status} {}",
                        String::from_utf8_lossy(&bytes)
                    )));
                }
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .map_err(|e| SeedError(e.to_string()))
            }
        };
    let repo = call(
        "/api/repos".into(),
        "application/json",
        serde_json::to_vec(&serde_json::json!({
            "name": DEMO_REPO,
            "default_branch": "main",
            "languages": ["python"],
        }))
        .expect("JSON"),
        None,
    )
    .await?;
    let repo_id = repo["repo_id"]
        .as_u64()
        .ok_or_else(|| SeedError(format!("no repo_id in {repo}")))?;
    let scans = format!("/api/repos/{repo_id}/scans");
    let now = state.clock.now();
    call(
        scans.clone(),
        "application/json",
        native_at(DEMO_HISTORY, 21, now),
        None,
    )
    .await?;
    call(
        scans.clone(),
        "application/json",
        native_at(DEMO_NATIVE_EXAMPLE, 10, now),
        None,
    )
    .await?;
    call(
        scans,
        "application/sarif+json",
        DEMO_LATEST.to_vec(),
        Some(DEMO_SIGNALS),
    )
    .await?;
    Ok(repo_id)
}

/// Serves until Ctrl-C (or SIGTERM), then finishes the requests in flight.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let app = app(state).layer(axum::middleware::from_fn(
        connection::close_when_body_unread,
    ));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
