//! Lambda entry point; everything else is in the library.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use trend_snapshot::{run, Limits, DEADLINE_MARGIN};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let store = compliance_core::config::event_function_store().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<EventBridgeEvent>| {
        let store = store.clone();
        async move {
            let left = event
                .context
                .deadline()
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default();
            let deadline = std::time::Instant::now() + left.saturating_sub(DEADLINE_MARGIN);
            let progress = run(store, chrono::Utc::now(), deadline, Limits::default()).await?;
            Ok::<_, Error>(serde_json::to_value(progress)?)
        }
    }))
    .await
}
