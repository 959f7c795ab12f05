//! The API functions' configuration from the environment: the store, the JWT settings, the key
//! cache and the audit-log retention. docs/configuration.md lists each variable.

use std::time::Duration;

use compliance_auth::jwt::JwtConfig;
use compliance_store::config::{parsed, ConfigError, StoreConfig};

#[derive(Debug, Clone)]
pub struct Config {
    pub store: StoreConfig,
    pub jwt: JwtConfig,
    pub api_key_cache: Duration,
    pub audit_retention_days: i64,
    /// Webhooks may reach loopback receivers (plain `http` included): the local server only,
    /// with `COMPLIANCE_WEBHOOK_ALLOW_LOOPBACK=1`.
    pub webhook_loopback: bool,
}

impl Config {
    /// `default_store` applies when `COMPLIANCE_STORE` is unset: Lambda defaults to DynamoDB,
    /// the local server to the embedded file.
    pub fn from_env(default_store: &str) -> Result<Self, ConfigError> {
        Ok(Config {
            store: StoreConfig::from_env(default_store)?,
            jwt: JwtConfig::from_env()?,
            api_key_cache: Duration::from_secs(parsed("API_KEY_CACHE_SECONDS", 30u64)?),
            audit_retention_days: parsed(
                "AUDIT_RETENTION_DAYS",
                compliance_services::audit_log::DEFAULT_RETENTION_DAYS,
            )?,
            webhook_loopback: std::env::var("COMPLIANCE_WEBHOOK_ALLOW_LOOPBACK").as_deref()
                == Ok("1"),
        })
    }
}
