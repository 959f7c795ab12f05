//! The records of a run or a dry run: NDJSON or CSV, optionally gzip, within the same caps as
//! scans; evaluated off the async runtime (it is CPU work).

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use compliance_http::upload::{decode, mime};
use compliance_http::{ApiError, FieldError};
use compliance_packs::engine::{self, Evaluation, Format, InputError, Position, Records, RuleRun};
use compliance_packs::{PolicyType, Rule};
use serde_json::json;

use super::model::RecordFormat;

/// The body's records, decompressed, and their format.
pub struct Upload {
    pub format: RecordFormat,
    pub bytes: Vec<u8>,
}

/// The media types that carry records.
pub fn format_of(headers: &HeaderMap) -> Result<RecordFormat, ApiError> {
    match mime(headers).as_str() {
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
            Ok(RecordFormat::Ndjson)
        }
        "text/csv" => Ok(RecordFormat::Csv),
        _ => Err(ApiError::UnsupportedMediaType(
            "Content-Type must be application/x-ndjson (one JSON object per line) or text/csv \
             (a header row, then one record per row)"
                .into(),
        )),
    }
}

pub fn read(headers: &HeaderMap, body: &[u8]) -> Result<Upload, ApiError> {
    let format = format_of(headers)?;
    let bytes = decode(headers, body, "records")?;
    Ok(Upload { format, bytes })
}

/// A record that cannot be read, located: `["line", 3, "amount_usd"]`, `["row", 4, "id"]` (or
/// `["records", 2, …]` for a JSON envelope, whose lines are its array's items).
pub fn input_error(e: InputError, envelope: bool) -> ApiError {
    let mut path = match (e.position, envelope) {
        (Position::Line(n), true) => vec![json!("records"), json!(n - 1)],
        (Position::Line(n), false) => vec![json!("line"), json!(n)],
        (Position::Row(n), _) => vec![json!("row"), json!(n)],
    };
    path.extend(e.field.as_ref().map(|f| json!(f)));
    let message = if envelope {
        e.message.clone()
    } else {
        e.to_string()
    };
    ApiError::Validation(vec![FieldError::new(path, message)])
}

/// Reads the upload's records against the pack's schema. CPU work: off the async workers, and
/// NDJSON on as many threads as the process has cores (the same records, or the same error, as
/// read on one).
pub fn parse(policy: PolicyType, upload: &Upload) -> Result<Records<'static>, ApiError> {
    let schema = policy.schema();
    match upload.format {
        RecordFormat::Ndjson => engine::input::parse_ndjson_parallel(
            schema,
            &upload.bytes,
            engine::default_partitions(),
        ),
        // One thread: a quoted CSV cell may hold a newline, so a cut at a line end could fall
        // inside a record, and where the records start cannot be known without reading from
        // the top.
        RecordFormat::Csv => engine::input::parse(schema, Format::Csv, &upload.bytes),
    }
    .map_err(|e| input_error(e, false))
}

/// Evaluates `rules` (each with the threshold it runs with) over the records, explaining the
/// first `keep` findings. CPU work: off the async workers, and split into as many parts as the
/// process has cores, evaluated side by side (the same evaluation as in one piece).
pub fn evaluate_records(
    rules: &[Rule],
    records: &Records,
    now: DateTime<Utc>,
    keep: usize,
) -> Result<Evaluation, ApiError> {
    if records.is_empty() {
        return Err(ApiError::BadRequest(
            "The body holds no records: send one JSON object per line, or a CSV header row \
             and rows"
                .into(),
        ));
    }
    let runs: Vec<RuleRun> = rules.iter().map(RuleRun::as_written).collect();
    engine::evaluate_partitioned(&runs, records, now, keep, engine::default_partitions())
        .map_err(ApiError::internal)
}

/// Reads and evaluates `rules` over the upload on a blocking thread, explaining the first
/// `keep` findings.
pub async fn evaluate(
    policy: PolicyType,
    rules: Vec<Rule>,
    upload: Upload,
    now: DateTime<Utc>,
    keep: usize,
) -> Result<Evaluation, ApiError> {
    compliance_services::tasks::blocking(move || {
        let records = parse(policy, &upload)?;
        drop(upload);
        evaluate_records(&rules, &records, now, keep)
    })
    .await
    .map_err(ApiError::internal)?
}
