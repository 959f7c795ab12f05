//! One operation of an AWS service's JSON protocol (Secrets Manager's `GetSecretValue` at
//! start-up, Step Functions' `StartExecution` when a large run fans out), signed with SigV4
//! under the function's own credentials and sent over the HTTP client the function already
//! links: no SDK linked for one operation.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use serde_json::Value;

/// How a service is reached and signed.
pub struct Service {
    /// Its name in messages.
    pub name: &'static str,
    /// Its SigV4 signing name, also its endpoint's first label.
    pub signing_name: &'static str,
    /// The `x-amz-target` prefix of its operations.
    pub target_prefix: &'static str,
    /// `application/x-amz-json-1.0` or `-1.1`.
    pub content_type: &'static str,
    /// Its part of the SDKs' standard variable naming another endpoint for it
    /// (`AWS_ENDPOINT_URL_<this>`).
    pub endpoint_id: &'static str,
}

pub const SECRETS_MANAGER: Service = Service {
    name: "Secrets Manager",
    signing_name: "secretsmanager",
    target_prefix: "secretsmanager",
    content_type: "application/x-amz-json-1.1",
    endpoint_id: "SECRETS_MANAGER",
};

pub const STEP_FUNCTIONS: Service = Service {
    name: "Step Functions",
    signing_name: "states",
    target_prefix: "AWSStepFunctions",
    content_type: "application/x-amz-json-1.0",
    endpoint_id: "SFN",
};

/// One attempt's limit; the call's is `ATTEMPTS` of them and the waits between.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Throttled, 5xx and unanswered calls are tried again, like the SDKs' standard mode.
const ATTEMPTS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No region, no credentials, or a request that could not be signed.
    #[error("{0}")]
    Setup(String),
    #[error("{service} did not answer: {detail}")]
    Unanswered {
        service: &'static str,
        detail: String,
    },
    /// The service's own error (`__type` and message), e.g. `ResourceNotFoundException`.
    #[error("{status} {kind}: {message}")]
    Refused {
        status: u16,
        kind: String,
        message: String,
    },
}

/// The operation's answer. `endpoint`: another endpoint than the one the environment or the
/// region gives (tests).
pub async fn call(
    service: &Service,
    operation: &str,
    input: &Value,
    endpoint: Option<&str>,
) -> Result<Value, CallError> {
    let config = compliance_store::aws::sdk_config().await;
    let region = config
        .region()
        .map(|r| r.to_string())
        .ok_or_else(|| CallError::Setup("no AWS region configured".into()))?;
    let provider = config
        .credentials_provider()
        .ok_or_else(|| CallError::Setup("no AWS credentials".into()))?;
    let url = endpoint_url(service, &region, endpoint);
    static CLIENT: LazyLock<Result<reqwest::Client, String>> = LazyLock::new(|| {
        reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| e.to_string())
    });
    let client = CLIENT.as_ref().map_err(|e| CallError::Setup(e.clone()))?;
    let body = input.to_string();
    let target = format!("{}.{operation}", service.target_prefix);
    let mut attempt = 1;
    loop {
        // Per attempt: a refreshing provider (an operator's profile) may have renewed them.
        let identity: Identity = provider
            .provide_credentials()
            .await
            .map_err(|e| CallError::Setup(format!("credentials: {e}")))?
            .into();
        let answer = send(client, service, &target, &url, &region, &identity, &body).await;
        match answer {
            Err(e) if attempt < ATTEMPTS && transient(&e) => {
                tokio::time::sleep(compliance_store::aws::jitter(Duration::from_millis(
                    200 << attempt,
                )))
                .await;
                attempt += 1;
            }
            answer => return answer,
        }
    }
}

/// As the SDKs do: an endpoint given, then the standard variables, then the region's.
fn endpoint_url(service: &Service, region: &str, endpoint: Option<&str>) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    compliance_store::aws::endpoint_from_env(endpoint, service.endpoint_id)
        .unwrap_or_else(|| format!("https://{}.{region}.{suffix}/", service.signing_name))
}

fn transient(e: &CallError) -> bool {
    match e {
        CallError::Setup(_) => false,
        CallError::Unanswered { .. } => true,
        CallError::Refused { status, kind, .. } => {
            *status >= 500
                || *status == 429
                || kind.contains("Throttl")
                || kind.contains("TooManyRequests")
        }
    }
}

async fn send(
    client: &reqwest::Client,
    service: &Service,
    target: &str,
    url: &str,
    region: &str,
    identity: &Identity,
    body: &str,
) -> Result<Value, CallError> {
    let headers = [
        ("content-type", service.content_type),
        ("x-amz-target", target),
    ];
    let signing = |e: &dyn std::fmt::Display| CallError::Setup(format!("signing: {e}"));
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name(service.signing_name)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| signing(&e))?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|e| signing(&e))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| signing(&e))?
        .into_parts();
    let mut request = client.post(url).body(body.to_string());
    for (name, value) in headers.iter().copied().chain(instructions.headers()) {
        request = request.header(name, value);
    }
    let unanswered = |detail: String| CallError::Unanswered {
        service: service.name,
        detail,
    };
    let response = request
        .send()
        .await
        .map_err(|e| unanswered(e.to_string()))?;
    let status = response.status();
    let answer: Value = response
        .json()
        .await
        .map_err(|e| unanswered(format!("unreadable answer ({status}): {e}")))?;
    if status.is_success() {
        return Ok(answer);
    }
    // The error's name, without the namespace `__type` may carry before a `#`
    // (`com.amazonaws.states#ExecutionAlreadyExists`) or the URL after a `:` (AWS JSON 1.0/1.1).
    let kind = answer["__type"].as_str().unwrap_or("error");
    let kind = kind.rsplit('#').next().unwrap_or(kind);
    let kind = kind.split(':').next().unwrap_or(kind).to_string();
    let message = answer["message"]
        .as_str()
        .or(answer["Message"].as_str())
        .unwrap_or_default()
        .to_string();
    Err(CallError::Refused {
        status: status.as_u16(),
        kind,
        message,
    })
}
