//! Lambda entry point: configuration from the environment, the store built once per cold start.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    compliance_core::telemetry::init_json();
    let state = compliance_core::http::AppState::from_env().await?;
    lambda_http::run(admin_api::app(state)).await
}
