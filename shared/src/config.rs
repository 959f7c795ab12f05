//! Configuration from the environment: the same variables in Lambda, the local server, the CLI
//! and the tests. The README's configuration table lists each one.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::jwt::{parse_algorithms, JwtConfig};
use crate::plans::Role;
use crate::store::dynamo::DynamoStore;
use crate::store::embedded::EmbeddedStore;
use crate::store::{Store, StoreError};

#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// A redb file in a local folder.
    Embedded { path: PathBuf },
    /// A DynamoDB table; `endpoint` for DynamoDB Local.
    Dynamo {
        table: String,
        endpoint: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub store: StoreConfig,
    pub jwt: JwtConfig,
    pub api_key_cache: Duration,
    pub audit_retention_days: i64,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ConfigError(format!("{name}={v} is not a valid value"))),
    }
}

impl Config {
    /// `default_store` applies when `COMPLIANCE_STORE` is unset: Lambda defaults to DynamoDB,
    /// the local server and the CLI to the embedded file.
    pub fn from_env(default_store: &str) -> Result<Self, ConfigError> {
        let kind = var("COMPLIANCE_STORE").unwrap_or_else(|| default_store.to_string());
        let store = match kind.as_str() {
            "embedded" => StoreConfig::Embedded {
                path: PathBuf::from(var("COMPLIANCE_DATA_DIR").unwrap_or_else(|| ".data".into()))
                    .join("compliance.redb"),
            },
            "dynamodb" => StoreConfig::Dynamo {
                table: var("COMPLIANCE_TABLE").ok_or_else(|| {
                    ConfigError("COMPLIANCE_TABLE is required with the dynamodb store".into())
                })?,
                endpoint: var("DYNAMODB_ENDPOINT"),
            },
            other => {
                return Err(ConfigError(format!(
                    "COMPLIANCE_STORE={other}: expected embedded or dynamodb"
                )))
            }
        };
        let defaults = JwtConfig::default();
        let jwt = JwtConfig {
            hs256_secret: var("JWT_HS256_SECRET"),
            jwks_url: var("JWT_JWKS_URL"),
            issuer: var("JWT_ISSUER"),
            audience: var("JWT_AUDIENCE"),
            algorithms: match var("JWT_ALGORITHMS") {
                Some(list) => parse_algorithms(&list).map_err(ConfigError)?,
                None => defaults.algorithms,
            },
            org_claim: var("JWT_ORG_CLAIM").unwrap_or(defaults.org_claim),
            role_claim: var("JWT_ROLE_CLAIM").unwrap_or(defaults.role_claim),
            email_claim: var("JWT_EMAIL_CLAIM").unwrap_or(defaults.email_claim),
            default_role: match var("JWT_DEFAULT_ROLE") {
                Some(r) => r.parse::<Role>().map_err(ConfigError)?,
                None => defaults.default_role,
            },
            leeway_seconds: parsed("JWT_LEEWAY_SECONDS", defaults.leeway_seconds)?,
        };
        Ok(Config {
            store,
            jwt,
            api_key_cache: Duration::from_secs(parsed("API_KEY_CACHE_SECONDS", 30u64)?),
            audit_retention_days: parsed(
                "AUDIT_RETENTION_DAYS",
                crate::audit::DEFAULT_RETENTION_DAYS,
            )?,
        })
    }
}

impl StoreConfig {
    pub async fn open(&self) -> Result<Arc<dyn Store>, StoreError> {
        Ok(match self {
            StoreConfig::Embedded { path } => Arc::new(EmbeddedStore::open(path)?),
            StoreConfig::Dynamo { table, endpoint } => Arc::new(DynamoStore::new(
                DynamoStore::client_from_env(endpoint.as_deref()).await,
                table.clone(),
            )),
        })
    }
}

/// An event function's start-up: JSON logs, configuration from the environment (DynamoDB by
/// default), the store built once per cold start.
pub async fn event_function_store() -> Result<Arc<dyn Store>, ConfigError> {
    crate::telemetry::init_json();
    let config = Config::from_env("dynamodb")?;
    config
        .store
        .open()
        .await
        .map_err(|e| ConfigError(e.to_string()))
}
