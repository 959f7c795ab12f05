//! Structured logs: JSON lines under Lambda (CloudWatch), readable lines locally.
//!
//! `RUST_LOG` holds the levels: `warn`, `info,compliance_store=debug`, `my_crate=trace` (a bare
//! level is the default; a target without a level is `trace`); `info` when unset or unreadable.
//! A target-and-level filter rather than `EnvFilter`: no regular-expression engine in every
//! Lambda binary, and nothing compiled at start-up (span and field directives are not read).

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn filter() -> Targets {
    parse_filter(std::env::var("RUST_LOG").ok().as_deref())
}

fn parse_filter(value: Option<&str>) -> Targets {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

pub fn init_json() {
    let _ = json_subscriber(std::io::stdout).with(filter()).try_init();
}

/// The functions' log lines (JSON, each with its span's fields: request id, trace id), written
/// to `writer`.
pub fn json_subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .without_time()
        .with_writer(writer)
        .finish()
}

pub fn init_pretty() {
    let _ = tracing_subscriber::fmt().finish().with(filter()).try_init();
}
