//! Lambda entry point; everything else is in the library.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use tracing::Instrument;
use trend_snapshot::{run, working_deadline, Limits};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let store = compliance_services::runtime::event_function_store().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<EventBridgeEvent>| {
        let store = store.clone();
        let span = compliance_services::runtime::invocation(&event.context);
        async move {
            let left = trend_snapshot::time_left(event.context.deadline);
            let deadline = working_deadline(left);
            let progress = run(store, chrono::Utc::now(), deadline, Limits::default()).await?;
            Ok::<_, Error>(serde_json::to_value(progress)?)
        }
        .instrument(span)
    }))
    .await
}
