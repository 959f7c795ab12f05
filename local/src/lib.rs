//! The local server: every function's router on one port, the same handlers and paths as under
//! API Gateway, over the embedded store by default; the stream and schedule functions run in
//! process (see [`events`]).

pub mod events;

use std::net::SocketAddr;

use axum::Router;
use compliance_core::apikeys;
use compliance_core::audit::AuditContext;
use compliance_core::auth::ActorKind;
use compliance_core::http::{finish, AppState};
use compliance_core::keys;
use compliance_core::orgs::{self, Org};
use compliance_core::plans::{Plan, Role};
use compliance_core::store::StoreError;

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

/// The demo org and its first admin key, created on the first start only.
pub struct Demo {
    pub org: Org,
    pub admin_key: String,
}

pub async fn ensure_demo_org(state: &AppState) -> Result<Option<Demo>, StoreError> {
    let marker = keys::bootstrap_marker("demo-org");
    if state.store.get(&marker).await?.is_some() {
        return Ok(None);
    }
    let org = Org::new("Demo org", Plan::Enterprise);
    let actor = (ActorKind::Operator, "local-server");
    match orgs::create(
        state.store.as_ref(),
        &org,
        actor,
        state.audit_retention_days,
        Some(marker),
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
    let key = apikeys::create(state.store.as_ref(), &ctx, "demo admin", Role::Admin).await?;
    Ok(Some(Demo {
        org,
        admin_key: key.key,
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
