//! Lambda entry point; everything else is in the library.

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use tracing::Instrument;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let store = compliance_services::runtime::event_function_store().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Event>| {
        let store = store.clone();
        let span = compliance_services::runtime::invocation(&event.context);
        async move { Ok::<_, Error>(rescore::handle(store.as_ref(), event.payload).await) }
            .instrument(span)
    }))
    .await
}
