//! The HS256 signing secret read at run time from Secrets Manager (`JWT_HS256_SECRET_ID` names
//! it), rather than resolved into the function's environment at deploy time, where anyone
//! allowed `lambda:GetFunctionConfiguration` could read it. Read once per cold start (the
//! configuration is built once), with the function's own credentials (its role may read that
//! secret only), by one SigV4-signed `GetSecretValue` over the HTTP client the function already
//! links: no SDK for one call.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use compliance_store::config::ConfigError;
use serde_json::{json, Value};

const TARGET: &str = "secretsmanager.GetSecretValue";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const TIMEOUT: Duration = Duration::from_secs(5);

/// The secret's `SecretString`. `endpoint`: another endpoint than the region's (tests).
pub async fn get_secret_value(
    secret_id: &str,
    endpoint: Option<&str>,
) -> Result<String, ConfigError> {
    let failed = |what: String| ConfigError(format!("JWT_HS256_SECRET_ID {secret_id}: {what}"));
    let config = compliance_store::dynamo::sdk_config().await;
    let region = config
        .region()
        .map(|r| r.to_string())
        .ok_or_else(|| failed("no AWS region configured".into()))?;
    let credentials = config
        .credentials_provider()
        .ok_or_else(|| failed("no AWS credentials".into()))?
        .provide_credentials()
        .await
        .map_err(|e| failed(format!("credentials: {e}")))?;
    // As the SDKs do: an endpoint given (tests), then the standard variables, then the region's.
    let configured = ["AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"]
        .into_iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()));
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    let url = match endpoint.map(str::to_string).or(configured) {
        Some(e) => e,
        None => format!("https://secretsmanager.{region}.{suffix}/"),
    };
    let body = json!({"SecretId": secret_id}).to_string();
    let headers = [("content-type", CONTENT_TYPE), ("x-amz-target", TARGET)];
    let identity: Identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&region)
        .name("secretsmanager")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| failed(format!("signing: {e}")))?
        .into();
    let signable = SignableRequest::new(
        "POST",
        &url,
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|e| failed(format!("signing: {e}")))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| failed(format!("signing: {e}")))?
        .into_parts();
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let mut request = client.post(&url).body(body.clone());
    for (name, value) in headers.iter().copied().chain(instructions.headers()) {
        request = request.header(name, value);
    }
    let response = request
        .send()
        .await
        .map_err(|e| failed(format!("Secrets Manager did not answer: {e}")))?;
    let status = response.status();
    let answer: Value = response
        .json()
        .await
        .map_err(|e| failed(format!("unreadable answer ({status}): {e}")))?;
    if !status.is_success() {
        let kind = answer["__type"].as_str().unwrap_or("error");
        let message = answer["message"].as_str().or(answer["Message"].as_str());
        return Err(failed(format!(
            "{status} {kind}: {}",
            message.unwrap_or("")
        )));
    }
    answer["SecretString"]
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| failed("the secret has no SecretString".into()))
}
