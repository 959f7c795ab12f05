//! Lambda entry point: the state machine's steps (`process_upload::fanout::Step`), run by the
//! same code as the local server's thread pool.

use std::sync::Arc;

use compliance_http::AppState;
use compliance_uploads::objects::S3Objects;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use process_upload::fanout::{run_step, Step};
use process_upload::Processor;
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    compliance_services::telemetry::init_json();
    let state = AppState::from_env().await?;
    let objects = Arc::new(S3Objects::from_env().await?);
    let processor = Processor {
        state,
        objects,
        fanout: None,
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Step>| {
        let processor = processor.clone();
        let span = compliance_services::runtime::invocation(&event.context);
        async move {
            run_step(&processor, event.payload)
                .await
                .map_err(Error::from)
        }
        .instrument(span)
    }))
    .await
}
