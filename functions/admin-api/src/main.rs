//! Lambda entry point; everything else is in the library.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    compliance_http::run_lambda(admin_api::app).await
}
