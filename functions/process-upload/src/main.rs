//! Lambda entry point; everything else is in the library.

use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use compliance_http::AppState;
use compliance_uploads::objects::S3Objects;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use process_upload::Processor;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    compliance_services::telemetry::init_json();
    let state = AppState::from_env().await?;
    let objects = S3Objects::from_env().await?;
    let fanout = process_upload::fanout::from_env(objects.bucket().to_string()).await?;
    let objects = Arc::new(objects);
    let processor = Processor {
        state,
        objects,
        fanout,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<S3Event>| {
        let processor = processor.clone();
        let span = compliance_services::runtime::invocation(&event.context);
        async move {
            process_upload::event::handle(&processor, event.payload)
                .await
                .map(|done| serde_json::json!({"processed": done.len()}))
                .map_err(Error::from)
        }
        .instrument(span)
    }))
    .await
}
