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

/// An invocation's span: its request id and X-Ray's trace id (active tracing) in every log line
/// it writes, to go from a log line to its trace and back.
pub fn invocation(context: &lambda_runtime::Context) -> tracing::Span {
    tracing::info_span!(
        "invocation",
        request_id = %context.request_id,
        trace_id = %context.xray_trace_id.as_deref().unwrap_or_default(),
    )
}
