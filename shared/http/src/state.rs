use std::sync::Arc;

use crate::config::Config;
use compliance_auth::Authenticator;
use compliance_domain::identity::Principal;
use compliance_domain::time::{Clock, SystemClock};
use compliance_services::audit_log::{AuditContext, RequestMeta};
use compliance_store::config::ConfigError;
use compliance_store::Store;
use compliance_uploads::UploadTarget;

/// What every handler may use: the store, the authenticator, the audit retention, the clock,
/// and where uploads go (`None`: uploads are not configured).
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub auth: Arc<Authenticator>,
    pub audit_retention_days: i64,
    pub clock: Arc<dyn Clock>,
    pub uploads: Option<Arc<UploadTarget>>,
    /// See [`Config::webhook_loopback`].
    pub webhook_loopback: bool,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: &Config) -> Self {
        AppState {
            auth: Arc::new(Authenticator::new(
                store.clone(),
                config.jwt.clone(),
                config.api_key_cache,
            )),
            store,
            audit_retention_days: config.audit_retention_days,
            clock: Arc::new(SystemClock),
            uploads: None,
            webhook_loopback: config.webhook_loopback,
        }
    }

    /// The same state sending uploads to `target`.
    pub fn with_uploads(mut self, target: Arc<UploadTarget>) -> Self {
        self.uploads = Some(target);
        self
    }

    /// The same state telling another time (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Lambda's start-up: configuration from the environment, the DynamoDB store by default.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let mut config = Config::from_env("dynamodb")?;
        config.jwt = config.jwt.with_secret_read().await?;
        let store = config
            .store
            .open()
            .await
            .map_err(|e| ConfigError(e.to_string()))?;
        let state = AppState::new(store, &config);
        Ok(match UploadTarget::from_env().await {
            Some(target) => state.with_uploads(Arc::new(target)),
            None => state,
        })
    }

    pub fn audit(&self, principal: &Principal, meta: RequestMeta) -> AuditContext {
        AuditContext::for_principal(principal, meta, self.audit_retention_days, self.now())
    }
}

/// A Lambda HTTP function's whole `main`: JSON logs, configuration and the store built once per
/// cold start, then the router under `lambda_http`. A configuration refused is logged as its
/// message (the operator reads it in the function's logs) before the start fails.
pub async fn run_lambda(app: fn(AppState) -> axum::Router) -> Result<(), lambda_http::Error> {
    compliance_services::telemetry::init_json();
    let state = AppState::from_env().await.inspect_err(|e| {
        tracing::error!(error = %e, "the function cannot start");
    })?;
    lambda_http::run(app(state)).await
}
