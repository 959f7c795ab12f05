//! Uploaded records → a run of the audit, as `POST /api/audits/{audit_id}/runs` stores one
//! (same evaluation, findings, `AUDIT_RUN_COMPLETED`), the upload completed in the same write.
//! The records never sit in memory whole: they are streamed into partition files in scratch
//! space (the data folder locally, `/tmp` in Lambda), each evaluated on its own and the results
//! merged (`compliance_packs::engine::spill`), which gives exactly the in-memory evaluation.

use std::io::Read;
use std::path::Path;

use audits_api::runs::input::input_error;
use audits_api::runs::model::RecordFormat;
use audits_api::runs::{self, active_rules, own_audit, store_run, Evaluated, MAX_STORED_FINDINGS};
use chrono::{DateTime, Utc};
use compliance_domain::ids::Uuid;
use compliance_http::ApiError;
use compliance_packs::engine::spill::{evaluate_spilled, SpillError, SpillOptions};
use compliance_packs::engine::{self, Evaluation, RuleRun};
use compliance_packs::{PolicyType, Rule};
use compliance_uploads::records;
use compliance_uploads::{Upload, UploadContentType, UploadEncoding, UploadResult};

use crate::decoded::Source;
use crate::fanout::fan_out;
use crate::{Done, Outcome, Processor};

/// How much larger than its gzip a record file is taken to be when planning partitions (NDJSON
/// of transactions compresses about 8×).
const GZIP_RATIO: u64 = 8;

pub(crate) fn record_format(content_type: UploadContentType) -> RecordFormat {
    match content_type {
        UploadContentType::Csv => RecordFormat::Csv,
        _ => RecordFormat::Ndjson,
    }
}

/// The spill's error as the direct path's: bad input names the line or row and field.
pub(crate) fn spill_error(e: SpillError, source: &Source) -> ApiError {
    if let Some(fault) = source.explain() {
        return fault;
    }
    match e {
        SpillError::Input(e) => input_error(e, false),
        SpillError::WholeTooLarge { .. } => ApiError::PayloadTooLarge(e.to_string()),
        other => ApiError::internal(other),
    }
}

/// Evaluates the records of `source` (an object of `size` bytes) with `rules`, spilled into
/// `scratch`; answers the evaluation and the decompressed bytes read.
pub(crate) fn evaluate(
    policy: PolicyType,
    rules: &[Rule],
    format: RecordFormat,
    source: &Source,
    size: u64,
    scratch: &Path,
    now: DateTime<Utc>,
) -> Result<(Evaluation, u64), ApiError> {
    let runs: Vec<RuleRun> = rules.iter().map(RuleRun::as_written).collect();
    let estimate = estimated_bytes(source, size);
    let options = SpillOptions::new(scratch, estimate, engine::default_partitions());
    let reader = source.open().map_err(ApiError::internal)?;
    let mut counted = Counted {
        inner: reader,
        n: 0,
    };
    let evaluation = evaluate_spilled(
        &runs,
        policy.schema(),
        format.engine(),
        &mut counted,
        now,
        MAX_STORED_FINDINGS,
        &options,
    )
    .map_err(|e| spill_error(e, source))?;
    if evaluation.records == 0 {
        return Err(ApiError::BadRequest(
            "The upload holds no records: one JSON object per line, or a CSV header row and \
             rows"
                .into(),
        ));
    }
    Ok((evaluation, counted.n))
}

struct Counted<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

pub(crate) async fn store(
    p: &Processor,
    claimed: &Upload,
    audit_id: &Uuid,
    source: Source,
    size: u64,
) -> Result<Done, Outcome> {
    let principal = claimed.uploader.principal(&claimed.org_id);
    let audit = own_audit(&p.state, &principal, audit_id.as_str()).await?;
    let rules = active_rules(&p.state, &principal, &audit).await?;
    let estimate = estimated_bytes(&source, size);
    if let Some(fanout) = p.fanout.as_ref().filter(|f| estimate >= f.min_bytes) {
        let execution = fan_out(
            p,
            fanout,
            claimed,
            audit.policy_type,
            rules,
            source,
            estimate,
        )
        .await?;
        return Ok(Done::HandedOver(execution));
    }
    let format = record_format(claimed.content_type);
    let started_at = p.state.now();
    let scratch = p.objects.scratch().to_path_buf();
    let (policy, evaluated_rules) = (audit.policy_type, rules.clone());
    let (evaluation, input_bytes) = compliance_services::tasks::blocking(move || {
        evaluate(
            policy,
            &evaluated_rules,
            format,
            &source,
            size,
            &scratch,
            started_at,
        )
    })
    .await
    .map_err(ApiError::internal)??;
    let run_id = runs::new_run_id();
    let now = p.state.now();
    let run = Evaluated {
        run_id: run_id.clone(),
        rules: &rules,
        evaluation,
        format,
        input_bytes,
        started_at,
        finished_at: now,
    };
    let ctx = claimed
        .uploader
        .audit(&claimed.org_id, p.state.audit_retention_days, now);
    let result = UploadResult::Run { run_id };
    let complete = records::complete_op(claimed, result.clone(), now);
    store_run(&p.state, &ctx, &principal, &audit, run, vec![complete]).await?;
    Ok(Done::Stored(result))
}

/// The decompressed size of an object of `size` bytes, as planned for.
fn estimated_bytes(source: &Source, size: u64) -> u64 {
    match source.encoding() {
        Some(UploadEncoding::Gzip) => size.saturating_mul(GZIP_RATIO),
        None => size,
    }
}
