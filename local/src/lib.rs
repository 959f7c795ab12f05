//! The local server: every function's router on one port, the same handlers and paths as under
//! API Gateway, over the embedded store by default; the stream and schedule functions run in
//! process (see [`events`]).

pub mod events;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use compliance_domain::identity::ActorKind;
use compliance_domain::plans::{Plan, Role};
use compliance_domain::time::SystemClock;
use compliance_http::config::Config;
use compliance_http::{finish, AppState};
use compliance_services::api_keys;
use compliance_services::audit_log::AuditContext;
use compliance_services::orgs::{self, Org};
use compliance_store::config::StoreConfig;
use compliance_store::embedded::EmbeddedStore;
use compliance_store::{Store, StoreError};

/// Every HTTP function's router, merged.
pub fn app(state: AppState) -> Router {
    finish(
        Router::new()
            .merge(admin_api::router(state.clone()))
            .merge(frameworks_api::router(state.clone()))
            .merge(custom_frameworks_api::router(state.clone()))
            .merge(scans_api::router(state.clone()))
            .merge(scores_api::router(state.clone()))
            .merge(audits_api::router(state)),
    )
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
    Ok(AppState::new(store, config).with_clock(clock))
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

/// Serves until Ctrl-C (or SIGTERM), then finishes the requests in flight.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
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
