//! Lambda entry point; everything else is in the library.

use std::sync::Arc;

use compliance_domain::time::SystemClock;
use compliance_events::deliver::Deliverer;
use compliance_events::schedule::RetrySchedule;
use compliance_events::url_policy::UrlPolicy;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use tracing::Instrument;

/// Attempts in flight at once.
const CONCURRENCY: usize = 32;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let store = compliance_services::runtime::event_function_store().await?;
    let clock = Arc::new(SystemClock);
    // Never loopback in AWS: the template does not set the variable, and a function's own
    // network has nothing a customer may reach.
    let policy = UrlPolicy::default();
    let schedule = RetrySchedule::from_env()?;
    let deliverer = Arc::new(Deliverer::new(
        store.clone(),
        clock.clone(),
        policy,
        schedule,
        CONCURRENCY,
    ));
    let notify = Arc::new(notify::Notify {
        store,
        bus: notify::bus_from_env().await,
        deliverer,
        clock,
    });
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let notify = notify.clone();
        let span = compliance_services::runtime::invocation(&event.context);
        async move { notify.handle(event.payload).await.map_err(Error::from) }.instrument(span)
    }))
    .await
}
