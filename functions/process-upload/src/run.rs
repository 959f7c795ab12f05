//! Uploaded records → a run of the audit, as `POST /api/audits/{audit_id}/runs` stores one
//! (same evaluation, findings, `AUDIT_RUN_COMPLETED`), the upload completed in the same write.

use audits_api::runs::input::{self, Upload as Records};
use audits_api::runs::model::RecordFormat;
use audits_api::runs::{self, active_rules, own_audit, store_run, Evaluated, MAX_STORED_FINDINGS};
use compliance_domain::ids::Uuid;
use compliance_http::upload::MAX_DECOMPRESSED_BYTES;
use compliance_http::ApiError;
use compliance_uploads::records;
use compliance_uploads::{Upload, UploadContentType, UploadResult};

use crate::decoded::Source;
use crate::{Outcome, Processor};

pub(crate) async fn store(
    p: &Processor,
    claimed: &Upload,
    audit_id: &Uuid,
    source: Source,
    size: u64,
) -> Result<UploadResult, Outcome> {
    let principal = claimed.uploader.principal(&claimed.org_id);
    let audit = own_audit(&p.state, &principal, audit_id.as_str()).await?;
    let rules = active_rules(&p.state, &principal, &audit).await?;
    let format = match claimed.content_type {
        UploadContentType::Csv => RecordFormat::Csv,
        _ => RecordFormat::Ndjson,
    };
    let started_at = p.state.now();
    let bytes =
        tokio::task::spawn_blocking(move || source.read_all(MAX_DECOMPRESSED_BYTES, "records"))
            .await
            .map_err(ApiError::internal)??;
    let input_bytes = bytes.len() as u64;
    let evaluation = input::evaluate(
        audit.policy_type,
        rules.clone(),
        Records { format, bytes },
        started_at,
        MAX_STORED_FINDINGS,
    )
    .await?;
    let _ = size;
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
    let complete = records::complete_op(
        claimed,
        UploadResult::Run {
            run_id: run_id.clone(),
        },
        now,
    );
    store_run(&p.state, &ctx, &principal, &audit, run, vec![complete]).await?;
    Ok(UploadResult::Run { run_id })
}
