//! Metrics in CloudWatch's Embedded Metric Format: one JSON line on stdout per measurement, which
//! CloudWatch Logs turns into metrics with no agent and no API call (the function's logs are
//! already shipped). Namespace `ComplianceApi`, every metric with the `Function` dimension (the
//! Lambda function's name, `local` on the local server) and, for requests, `Operation` (method
//! and route). Written under Lambda always, on the local server only with
//! `COMPLIANCE_METRICS=emf`.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use serde_json::{json, Map, Value};

pub const NAMESPACE: &str = "ComplianceApi";

/// The units used here (a subset of CloudWatch's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Bytes,
    CountPerSecond,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Bytes => "Bytes",
            Unit::CountPerSecond => "Count/Second",
        }
    }
}

/// Where lines go: stdout, or (tests) a buffer.
enum Sink {
    Off,
    Stdout,
    Memory(Vec<String>),
}

fn sink() -> &'static Mutex<Sink> {
    static SINK: OnceLock<Mutex<Sink>> = OnceLock::new();
    SINK.get_or_init(|| {
        let lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
        let asked = std::env::var("COMPLIANCE_METRICS").as_deref() == Ok("emf");
        Mutex::new(if lambda || asked {
            Sink::Stdout
        } else {
            Sink::Off
        })
    })
}

/// From now on, lines are kept in memory (and no longer written); for tests.
pub fn capture() {
    let mut sink = sink().lock().unwrap_or_else(|e| e.into_inner());
    if !matches!(*sink, Sink::Memory(_)) {
        *sink = Sink::Memory(Vec::new());
    }
}

/// The lines kept since [`capture`].
pub fn captured() -> Vec<String> {
    match &*sink().lock().unwrap_or_else(|e| e.into_inner()) {
        Sink::Memory(lines) => lines.clone(),
        _ => Vec::new(),
    }
}

fn function() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into())
    })
}

/// Records `metrics` with the `Function` dimension and `dimensions` (names and values), and
/// `properties` (searchable in the logs, not metrics).
pub fn emit(dimensions: &[(&str, &str)], metrics: &[(&str, Unit, f64)], properties: Value) {
    let mut sink = sink().lock().unwrap_or_else(|e| e.into_inner());
    if matches!(*sink, Sink::Off) {
        return;
    }
    let mut line = match properties {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let mut names = vec!["Function"];
    line.insert("Function".into(), function().into());
    for (name, value) in dimensions {
        names.push(name);
        line.insert((*name).into(), (*value).into());
    }
    for (name, _, value) in metrics {
        line.insert((*name).into(), json!(value));
    }
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()}))
        .collect();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": chrono::Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [names],
                "Metrics": definitions,
            }],
        }),
    );
    let text = Value::Object(line).to_string();
    match &mut *sink {
        Sink::Memory(lines) => lines.push(text),
        Sink::Stdout => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
        }
        Sink::Off => {}
    }
}

/// A request answered: counted, timed, and its 4xx or 5xx, by operation.
pub fn request(operation: &str, status: u16, latency_ms: f64) {
    let is = |range: std::ops::Range<u16>| f64::from(u8::from(range.contains(&status)));
    emit(
        &[("Operation", operation)],
        &[
            ("Requests", Unit::Count, 1.0),
            ("Latency", Unit::Milliseconds, latency_ms),
            ("Status4xx", Unit::Count, is(400..500)),
            ("Status5xx", Unit::Count, is(500..600)),
        ],
        json!({"status": status}),
    );
}

/// A batch of a stream function: its size and its oldest record's age.
pub fn stream_batch(records: usize, oldest_age_ms: f64) {
    emit(
        &[],
        &[
            ("StreamBatchSize", Unit::Count, records as f64),
            ("StreamRecordAgeMs", Unit::Milliseconds, oldest_age_ms),
        ],
        json!({}),
    );
}

/// [`stream_batch`] of a stream event as Lambda hands it over.
pub fn stream_event(event: &compliance_store::stream::Event) {
    let now = chrono::Utc::now();
    let oldest = event
        .records
        .iter()
        .map(|r| (now - r.change.approximate_creation_date_time).num_milliseconds())
        .max()
        .unwrap_or(0)
        .max(0);
    if !event.records.is_empty() {
        stream_batch(event.records.len(), oldest as f64);
    }
}
