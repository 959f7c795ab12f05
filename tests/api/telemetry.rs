//! Log lines written by work handed to another task or thread (an upload parsed on tokio's
//! blocking pool, a webhook delivery, a summary's concurrent reads) carry their invocation's
//! request id and X-Ray trace id, like every other line of it.

use std::sync::{Arc, Mutex};

use compliance_services::tasks;
use tracing::Instrument;

const TRACE_ID: &str = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1";

/// The JSON lines a subscriber writes, kept in memory.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
    type Writer = Lines;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Lines {
    /// Each line as JSON, by its message.
    fn by_message(&self) -> std::collections::HashMap<String, serde_json::Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| (v["fields"]["message"].as_str().unwrap().to_string(), v))
            .collect()
    }
}

/// On a multi-threaded runtime, as in the functions: the spawned tasks run on worker threads,
/// which have no scoped subscriber of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_on_other_tasks_and_threads_logs_in_its_invocations_span() {
    let lines = Lines::default();
    // The functions' JSON lines, as a scoped subscriber.
    let subscriber = compliance_services::telemetry::json_subscriber(lines.clone());
    let _scoped = tracing::subscriber::set_default(subscriber);
    let mut context = lambda_runtime::Context::default();
    context.request_id = "req-7".into();
    context.xray_trace_id = Some(TRACE_ID.into());

    async {
        tasks::blocking(|| tracing::info!("on the blocking pool"))
            .await
            .unwrap();
        tasks::spawn(async { tracing::info!("on a task of its own") })
            .await
            .unwrap();
        let mut set = tokio::task::JoinSet::new();
        set.spawn(tasks::carried(async { tracing::info!("in a join set") }));
        set.join_next().await.unwrap().unwrap();
        // What the helpers are for: the bare spawns start outside the span.
        tokio::task::spawn_blocking(|| tracing::info!("bare spawn_blocking"))
            .await
            .unwrap();
        tokio::spawn(async { tracing::info!("bare spawn") })
            .await
            .unwrap();
    }
    .instrument(compliance_services::runtime::invocation(&context))
    .await;

    let lines = lines.by_message();
    for message in [
        "on the blocking pool",
        "on a task of its own",
        "in a join set",
    ] {
        let line = &lines[message];
        assert_eq!(line["span"]["name"], "invocation", "{message}: {line}");
        assert_eq!(line["span"]["trace_id"], TRACE_ID, "{message}: {line}");
        assert_eq!(line["span"]["request_id"], "req-7", "{message}: {line}");
    }
    // The bare spawns run where the scoped subscriber is not: their lines went elsewhere, if
    // anywhere.
    assert!(!lines.contains_key("bare spawn_blocking"));
    assert!(!lines.contains_key("bare spawn"));
}
