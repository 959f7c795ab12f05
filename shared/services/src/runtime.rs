//! An event function's start-up: JSON logs, the store from the environment (DynamoDB by
//! default), built once per cold start.

use std::sync::Arc;

use compliance_store::config::{ConfigError, StoreConfig};
use compliance_store::Store;

pub async fn event_function_store() -> Result<Arc<dyn Store>, ConfigError> {
    crate::telemetry::init_json();
    StoreConfig::from_env("dynamodb")?
        .open()
        .await
        .map_err(|e| ConfigError(e.to_string()))
}
