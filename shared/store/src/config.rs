//! Which store a process uses, from the environment (docs/configuration.md): the
//! same variables in Lambda, the local server, the CLI and the tests.

use std::path::PathBuf;
use std::sync::Arc;

use crate::dynamo::DynamoStore;
use crate::{Store, StoreError};

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

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// A variable's value, `None` when unset or blank.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A variable parsed as `T`, `default` when unset; an error names the variable.
pub fn parsed<T: std::str::FromStr>(name: &str, default: T) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ConfigError(format!("{name}={v} is not a valid value"))),
    }
}

impl StoreConfig {
    /// `default_store` applies when `COMPLIANCE_STORE` is unset: Lambda defaults to DynamoDB,
    /// the local server and the CLI to the embedded file.
    pub fn from_env(default_store: &str) -> Result<Self, ConfigError> {
        let kind = var("COMPLIANCE_STORE").unwrap_or_else(|| default_store.to_string());
        match kind.as_str() {
            "embedded" => Ok(StoreConfig::Embedded {
                path: PathBuf::from(var("COMPLIANCE_DATA_DIR").unwrap_or_else(|| ".data".into()))
                    .join("compliance.redb"),
            }),
            "dynamodb" => Ok(StoreConfig::Dynamo {
                table: var("COMPLIANCE_TABLE").ok_or_else(|| {
                    ConfigError("COMPLIANCE_TABLE is required with the dynamodb store".into())
                })?,
                endpoint: var("DYNAMODB_ENDPOINT"),
            }),
            other => Err(ConfigError(format!(
                "COMPLIANCE_STORE={other}: expected embedded or dynamodb"
            ))),
        }
    }

    pub async fn open(&self) -> Result<Arc<dyn Store>, StoreError> {
        Ok(match self {
            #[cfg(feature = "embedded")]
            StoreConfig::Embedded { path } => Arc::new(crate::embedded::EmbeddedStore::open(path)?),
            #[cfg(not(feature = "embedded"))]
            StoreConfig::Embedded { .. } => {
                return Err(StoreError::Invalid(
                    "this build has no embedded store: set COMPLIANCE_STORE=dynamodb".into(),
                ))
            }
            StoreConfig::Dynamo { table, endpoint } => Arc::new(DynamoStore::new(
                DynamoStore::client_from_env(endpoint.as_deref()).await,
                table.clone(),
            )),
        })
    }
}
