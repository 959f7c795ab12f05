//! The HS256 signing secret read at run time from Secrets Manager (`JWT_HS256_SECRET_ID` names
//! it), rather than resolved into the function's environment at deploy time, where anyone
//! allowed `lambda:GetFunctionConfiguration` could read it. Read once per cold start (the
//! configuration is built once), with the function's own credentials (its role may read that
//! secret only), by one signed `GetSecretValue`.

use compliance_store::config::ConfigError;
use serde_json::json;

use crate::aws_json::{self, SECRETS_MANAGER};

/// The secret's `SecretString`. `endpoint`: another endpoint than the region's (tests).
pub async fn get_secret_value(
    secret_id: &str,
    endpoint: Option<&str>,
) -> Result<String, ConfigError> {
    let failed = |what: String| ConfigError(format!("JWT_HS256_SECRET_ID {secret_id}: {what}"));
    let input = json!({"SecretId": secret_id});
    let answer = aws_json::call(&SECRETS_MANAGER, "GetSecretValue", &input, endpoint)
        .await
        .map_err(|e| failed(e.to_string()))?;
    answer["SecretString"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| failed("the secret has no SecretString".into()))
}
