//! An uploaded report → a scan of its repository, as `POST /api/repos/{repo_id}/scans` stores
//! one (same summary, deduplication by content, `SCAN_INGESTED`, rescoring and trend point by the
//! stream), the upload completed in the same write.

use chrono::{DateTime, Utc};
use compliance_domain::ids::RepoId;
use compliance_domain::ingest::{
    self, FindingKeys, ScanSummary, Signals, StreamError, SuppressionPolicy, Suppressions,
};
use compliance_http::upload::MAX_DECOMPRESSED_BYTES;
use compliance_http::ApiError;
use compliance_services::scans::{self, NewScan, ScanFormat, Stored, StoredScan};
use compliance_services::{compliance_settings, suppressions};
use compliance_store::WriteOp;
use compliance_uploads::records;
use compliance_uploads::{Upload, UploadContentType, UploadResult};
use scans_api::body::json_format_of;
use scans_api::scans::ingest_error;
use sha2::{Digest, Sha256};

use crate::decoded::Source;
use crate::{Outcome, Processor};

struct Parsed {
    format: ScanFormat,
    summary: ScanSummary,
    finding_keys: FindingKeys,
    suppressions: Suppressions,
    scanned_at: Option<DateTime<Utc>>,
    content_sha256: String,
}

/// Reads the report (CPU work: on a blocking thread).
fn parse(
    content_type: UploadContentType,
    source: &Source,
    policy: SuppressionPolicy,
) -> Result<Parsed, ApiError> {
    let format = match content_type {
        UploadContentType::Json => json_format_of(source.open().map_err(ApiError::internal)?),
        _ => ScanFormat::Sarif,
    };
    let signals = Signals::default();
    match format {
        // Read as a stream, twice (see `summarise_sarif_stream`), never held whole.
        ScanFormat::Sarif => {
            let summarised =
                ingest::summarise_sarif_stream_for(source, &signals, policy).map_err(|e| {
                    source.explain().unwrap_or_else(|| match e {
                        StreamError::Invalid(e) => ingest_error(e),
                        StreamError::Read(e) => ApiError::internal(e),
                    })
                })?;
            Ok(Parsed {
                format,
                summary: summarised.summary,
                finding_keys: summarised.keys,
                suppressions: summarised.suppressions,
                scanned_at: None,
                content_sha256: summarised.sha256,
            })
        }
        // The native document is read whole, as the direct path reads it, within the same cap:
        // larger reports are SARIF.
        ScanFormat::Native => {
            let report = source.read_all(MAX_DECOMPRESSED_BYTES, "report")?;
            let native = ingest::parse_native(&report).map_err(ingest_error)?;
            Ok(Parsed {
                format,
                summary: ingest::summarise(&native.scan, &native.signals),
                finding_keys: FindingKeys::of_scan(&native.scan),
                suppressions: Suppressions::default(),
                scanned_at: Some(native.finished_at),
                content_sha256: hex::encode(Sha256::digest(&report)),
            })
        }
    }
}

pub(crate) async fn store(
    p: &Processor,
    claimed: &Upload,
    repo_id: RepoId,
    source: Source,
) -> Result<UploadResult, Outcome> {
    let content_type = claimed.content_type;
    let policy = compliance_settings::get(p.state.store.as_ref(), &claimed.org_id)
        .await?
        .suppressions;
    let parsed = compliance_services::tasks::blocking(move || parse(content_type, &source, policy))
        .await
        .map_err(ApiError::internal)??;
    let now = p.state.now();
    let ctx = claimed
        .uploader
        .audit(&claimed.org_id, p.state.audit_retention_days, now);
    let complete = |scan: &StoredScan| -> WriteOp {
        let result = UploadResult::Scan {
            scan_id: scan.scan_id.clone(),
            duplicate: false,
        };
        records::complete_op(claimed, result, now)
    };
    let parsed_suppressions = parsed.suppressions;
    let new = NewScan {
        repo_id,
        format: parsed.format,
        content_sha256: parsed.content_sha256,
        idempotency_key: None,
        scanned_at: parsed.scanned_at,
        summary: parsed.summary,
        finding_keys: parsed.finding_keys,
        also: Some(&complete),
    };
    let store = p.state.store.as_ref();
    match scans::store_scan(store, &ctx, new).await? {
        Stored::New(scan) => {
            suppressions::request_approvals(store, &ctx, repo_id, &parsed_suppressions).await?;
            Ok(UploadResult::Scan {
                scan_id: scan.scan_id,
                duplicate: false,
            })
        }
        // No idempotency key is sent with an upload, so a first scan found is the same bytes.
        Stored::Duplicate(scan) | Stored::KeyReused(scan) => {
            let result = UploadResult::Scan {
                scan_id: scan.scan_id,
                duplicate: true,
            };
            records::complete(store, claimed, result.clone(), now).await?;
            Ok(result)
        }
    }
}
