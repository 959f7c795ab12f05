//! The hello-world `lambda_http` function scripts/bench.sh measures the functions against (init
//! time, binary size): an axum router passed to `lambda_http::run`, as the runtime's
//! `examples/http-axum`, answering `{"status":"ok"}` to every request.

use axum::http::header::CONTENT_TYPE;
use axum::Router;

async fn ok() -> ([(axum::http::HeaderName, &'static str); 1], &'static str) {
    ([(CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#)
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::tracing::init_default_subscriber();
    lambda_http::run(Router::new().fallback(ok)).await
}
