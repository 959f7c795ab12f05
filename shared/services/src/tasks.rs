//! Work handed to another task or thread keeps the request's or invocation's span: a log line
//! written while parsing an upload on tokio's blocking pool, or by a webhook delivery's
//! recorder, carries the same request id and X-Ray trace id as the rest of its request.
//! `tokio::task::spawn_blocking` and `tokio::spawn` alone start the work outside any span.

use std::future::Future;

use tokio::task::JoinHandle;
use tracing::instrument::WithSubscriber;
use tracing::Instrument;

/// `tokio::task::spawn_blocking`, in the caller's span and under the caller's subscriber.
pub fn blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let span = tracing::Span::current();
    // The subscriber too: a blocking-pool thread has only the global one, while the caller may
    // run under a scoped subscriber (the local server's tests, a CLI command).
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    tokio::task::spawn_blocking(move || {
        tracing::dispatcher::with_default(&dispatch, || span.in_scope(f))
    })
}

/// `tokio::spawn`, in the caller's span and under the caller's subscriber.
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(carried(future))
}

/// The future, to run in the caller's span and under the caller's subscriber wherever it is
/// spawned (a `JoinSet`'s task).
pub fn carried<F: Future>(future: F) -> impl Future<Output = F::Output> {
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    future.in_current_span().with_subscriber(dispatch)
}
