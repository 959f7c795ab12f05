//! Lambda entry point: the state machine's steps (`process_upload::fanout::Step`), run by the
//! same code as the local server's thread pool.

use std::sync::Arc;

use compliance_http::AppState;
use compliance_uploads::objects::S3Objects;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use process_upload::fanout::{run_step, Step};
use process_upload::Processor;

#[tokio::main]
async fn main() -> Result<(), Error> {
    compliance_services::telemetry::init_json();
    let state = AppState::from_env().await?;
    let bucket = std::env::var("UPLOADS_BUCKET").map_err(|_| "UPLOADS_BUCKET is not set")?;
    let endpoint = std::env::var("S3_ENDPOINT").ok().filter(|e| !e.is_empty());
    let client = S3Objects::client_from_env(endpoint.as_deref()).await;
    let objects = Arc::new(S3Objects::new(client, bucket, std::env::temp_dir()));
    let processor = Processor {
        state,
        objects,
        fanout: None,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Step>| {
        let processor = processor.clone();
        async move {
            run_step(&processor, event.payload)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
