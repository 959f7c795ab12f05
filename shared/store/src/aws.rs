//! The AWS configuration every client of ours starts from (DynamoDB, S3, EventBridge, and the
//! signed calls to Secrets Manager and Step Functions): the region, the credentials, the
//! endpoint and one HTTPS client.

/// The AWS configuration every client of ours starts from: the region, the credentials and
/// [`https_client`]. In Lambda both come from the function's environment (`AWS_REGION`, and the
/// role's `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), so the functions
/// leave out the SDK's default chain (profiles, web identity through STS, ECS, IMDS: 0.6 to
/// 0.7 MB of each arm64 binary); the operators' tools (`operator-credentials`: the CLI, the local
/// server) keep it, to run under a profile or SSO.
pub async fn sdk_config() -> aws_config::SdkConfig {
    #[cfg(feature = "operator-credentials")]
    {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(https_client())
            .load()
            .await
    }
    #[cfg(not(feature = "operator-credentials"))]
    {
        // Read once per process (a function's environment does not change), whichever clients
        // start from it, which then share one HTTPS client.
        static CONFIG: std::sync::LazyLock<aws_config::SdkConfig> =
            std::sync::LazyLock::new(|| {
                let config = lambda_environment(|name| std::env::var(name).ok());
                if config.credentials_provider().is_none() {
                    // Every AWS call will fail; say why, where the operator looks first.
                    tracing::error!(
                        "no AWS credentials in the environment: AWS_ACCESS_KEY_ID and \
                         AWS_SECRET_ACCESS_KEY are not both set"
                    );
                }
                config
            });
        CONFIG.clone()
    }
}

/// The configuration of a Lambda function's environment, read through `var`.
pub fn lambda_environment(var: impl Fn(&str) -> Option<String>) -> aws_config::SdkConfig {
    let var = |name: &str| var(name).filter(|v| !v.is_empty());
    let mut config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .http_client(https_client())
        .sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep().expect("tokio's sleep"))
        .time_source(aws_smithy_async::time::SystemTimeSource::new());
    if let Some(region) = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")) {
        config.set_region(Some(aws_config::Region::new(region)));
    }
    if let (Some(key), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        let credentials = aws_credential_types::Credentials::new(
            key,
            secret,
            var("AWS_SESSION_TOKEN"),
            None,
            "Environment",
        );
        config.set_credentials_provider(Some(
            aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
        ));
    }
    config.build()
}

/// The endpoint a client of `service` is sent to: the one given, else the SDKs' standard
/// variables (`AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`), else none (the region's).
pub fn endpoint_from_env(given: Option<&str>, service: &str) -> Option<String> {
    given.map(str::to_string).or_else(|| {
        [
            format!("AWS_ENDPOINT_URL_{service}"),
            "AWS_ENDPOINT_URL".into(),
        ]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
    })
}

/// [`sdk_config`] for a client of `service` (its part of `AWS_ENDPOINT_URL_<SERVICE>`), sent to
/// the endpoint given, else the one [`endpoint_from_env`] finds; ready for the client's own
/// settings.
pub async fn service_config(service: &str, given: Option<&str>) -> aws_types::sdk_config::Builder {
    let mut config = sdk_config().await.to_builder();
    if let Some(url) = endpoint_from_env(given, service) {
        config.set_endpoint_url(Some(url));
    }
    config
}

/// The SDK's default HTTPS client (hyper 1, rustls, the system's root certificates; proxies from
/// `HTTPS_PROXY` / `NO_PROXY`), on ring rather than aws-lc-rs: one crypto library in the binary
/// instead of two (jsonwebtoken and reqwest use ring). The root certificates are read on the
/// first request rather than when the client is built (see [`FirstUseRoots`]).
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    use aws_smithy_http_client::{Builder, ConnectorBuilder};
    let client = Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    });
    aws_sdk_dynamodb::config::SharedHttpClient::new(FirstUseRoots(client))
}

/// The SDK's client builds its TLS connector, and so reads and parses every root certificate of
/// the system (hundreds of files under /etc/ssl/certs: milliseconds), as soon as a client is
/// configured with it (`validate_base_client_config`), that is at every cold start, before the
/// first event, and whether the invocation uses the table or not. This wrapper leaves that
/// validation out: the connector, and the certificates, are built by the first request.
#[derive(Debug)]
struct FirstUseRoots(aws_sdk_dynamodb::config::SharedHttpClient);

impl aws_smithy_runtime_api::client::http::HttpClient for FirstUseRoots {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn validate_final_config(
        &self,
        components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        self.0.validate_final_config(components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// A wait between none and `ceiling` (the clock's nanoseconds are random enough to spread
/// callers that met: writers of one item, retries of one service).
pub fn jitter(ceiling: std::time::Duration) -> std::time::Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    ceiling.mul_f64(f64::from(nanos % 1000) / 1000.0)
}
