use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use compliance_domain::ids::{RepoId, ScanId};
use compliance_domain::ingest::{
    self, FindingKeys, IngestError, Ingested, ScanSummary, Signals, Suppressions,
};
use compliance_http::{
    page_args, ApiError, AppState, Caller, Contributor, FieldError, Meta, PageParams, Params,
    RawBody,
};
use compliance_services::metrics::Unit;
use compliance_services::scans::{self, NewScan, ScanFormat, Stored, StoredScan};
use compliance_services::{compliance_settings, suppressions};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::body;
use crate::repos::owned;

const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// Repository signals beside a SARIF report (SARIF has no place for them): the `signals`
/// object of the native document, as JSON.
const SIGNALS_HEADER: &str = "x-scan-signals";
const MAX_SIGNALS_BYTES: usize = 8 * 1024;

fn signals(headers: &HeaderMap) -> Result<Signals, ApiError> {
    let Some(v) = headers.get(SIGNALS_HEADER) else {
        return Ok(Signals::default());
    };
    if v.len() > MAX_SIGNALS_BYTES {
        return Err(ApiError::BadRequest(format!(
            "X-Scan-Signals is over {MAX_SIGNALS_BYTES} bytes"
        )));
    }
    ingest::parse_signals(v.as_bytes()).map_err(|e| {
        ApiError::Validation(vec![FieldError::new(
            vec![json!("X-Scan-Signals"), json!(e.path)],
            e.message,
        )])
    })
}

pub fn ingest_error(e: IngestError) -> ApiError {
    let path = if e.path.is_empty() {
        "report".to_string()
    } else {
        e.path
    };
    ApiError::Validation(vec![FieldError::new(vec![json!(path)], e.message)])
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let key = v.to_str().unwrap_or_default().trim();
    let ok = (1..=128).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if !ok {
        return Err(ApiError::BadRequest(
            "Idempotency-Key must be 1 to 128 characters: letters, digits and - _ . :".into(),
        ));
    }
    // Hashed, so any accepted key is safe inside a table key.
    Ok(Some(hex::encode(Sha256::digest(key.as_bytes()))))
}

/// A stored scan as the API shows it (its content hash stays internal: it is the
/// deduplication key); `duplicate` says an ingestion found the report stored.
#[derive(Serialize)]
pub struct ScanView {
    pub scan_id: ScanId,
    pub repo_id: RepoId,
    #[serde(with = "compliance_domain::time::micros")]
    pub scanned_at: DateTime<Utc>,
    #[serde(with = "compliance_domain::time::micros")]
    pub ingested_at: DateTime<Utc>,
    pub format: ScanFormat,
    pub duplicate: bool,
    pub summary: ScanSummary,
}

impl ScanView {
    fn of(scan: StoredScan, duplicate: bool) -> Self {
        let StoredScan {
            scan_id,
            repo_id,
            scanned_at,
            ingested_at,
            format,
            content_sha256: _,
            summary,
            finding_keys: _,
        } = scan;
        ScanView {
            scan_id,
            repo_id,
            scanned_at,
            ingested_at,
            format,
            duplicate,
            summary,
        }
    }
}

#[derive(Serialize)]
pub struct ScanList {
    pub scans: Vec<ScanView>,
    pub next_cursor: Option<String>,
}

pub async fn ingest(
    State(state): State<AppState>,
    Contributor(principal): Contributor,
    Meta(meta): Meta,
    Path(repo): Path<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<ScanView>), ApiError> {
    let repo = owned(&state, &principal.org_id, &repo).await?;
    let idempotency = idempotency_key(&headers)?;
    let sarif_signals = signals(&headers)?;
    let report = compliance_http::upload::decode(&headers, &body, "report")?;
    // Memory: the request holds at most one copy of the report at a time, besides the
    // (compressed) body until it is decoded.
    drop(body);
    let format = body::format(&headers, &report)?;
    let report_bytes = report.len();
    let policy = compliance_settings::get(state.store.as_ref(), &principal.org_id)
        .await?
        .suppressions;
    // Parsing a large report is CPU work: keep it off the async workers. A SARIF report is read
    // in one pass straight into its bounded summary (no DOM, no list of every finding); the
    // report's bytes are freed as soon as they are read and hashed.
    let parsed = compliance_services::tasks::blocking(move || {
        let (parsed, content_sha256) = hashed_while(&report, || match format {
            ScanFormat::Sarif => {
                ingest::summarise_sarif_for(&report, &sarif_signals, policy).map(|i| (i, None))
            }
            ScanFormat::Native => ingest::parse_native(&report).map(|native| {
                let ingested = Ingested {
                    summary: ingest::summarise(&native.scan, &native.signals),
                    keys: FindingKeys::of_scan(&native.scan),
                    suppressions: Suppressions::default(),
                };
                (ingested, Some(native.finished_at))
            }),
        });
        drop(report);
        parsed.map(|(ingested, scanned_at)| (ingested, scanned_at, content_sha256))
    })
    .await
    .map_err(ApiError::internal)?;
    let (ingested, scanned_at, content_sha256) = parsed.map_err(ingest_error)?;
    let Ingested {
        summary,
        keys: finding_keys,
        suppressions: reported,
    } = ingested;
    let ctx = state.audit(&principal, meta);
    let new = NewScan {
        repo_id: repo.repo_id,
        format,
        content_sha256,
        idempotency_key: idempotency.as_deref(),
        scanned_at,
        summary,
        finding_keys,
        also: None,
    };
    match scans::store_scan(state.store.as_ref(), &ctx, new).await? {
        Stored::New(scan) => {
            ingested_metrics(report_bytes, &scan);
            suppressions::request_approvals(state.store.as_ref(), &ctx, scan.repo_id, &reported)
                .await?;
            Ok((StatusCode::CREATED, Json(ScanView::of(scan, false))))
        }
        Stored::Duplicate(scan) => Ok((StatusCode::OK, Json(ScanView::of(scan, true)))),
        // The common convention (Stripe; IETF draft "The Idempotency-Key HTTP Header Field"):
        // a key reused with another payload is a client error, never a silent duplicate.
        Stored::KeyReused(first) => Err(ApiError::Unprocessable(format!(
            "Idempotency-Key was already used with a different report (scan {}); use a new key \
             for a new report",
            first.scan_id
        ))),
    }
}

/// A report stored: its bytes and counted findings.
pub fn ingested_metrics(report_bytes: usize, scan: &scans::StoredScan) {
    compliance_services::metrics::emit(
        &[],
        &[
            ("ScanBytes", Unit::Bytes, report_bytes as f64),
            (
                "FindingsIngested",
                Unit::Count,
                scan.summary.totals.findings as f64,
            ),
        ],
        serde_json::json!({"format": scan.format}),
    );
}

/// Reports from this size on are hashed on another thread while they are parsed.
const HASH_BESIDE_BYTES: usize = 1 << 20;

/// `work()` and the report's SHA-256 (hex); for a large report, both at once.
fn hashed_while<T: Send>(report: &[u8], work: impl FnOnce() -> T) -> (T, String) {
    let hash = || hex::encode(Sha256::digest(report));
    if report.len() < HASH_BESIDE_BYTES {
        let digest = hash();
        return (work(), digest);
    }
    std::thread::scope(|scope| {
        let digest = scope.spawn(hash);
        let out = work();
        let digest = digest.join().unwrap_or_else(|_| hash());
        (out, digest)
    })
}

pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(repo): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Json<ScanList>, ApiError> {
    let org = &principal.org_id;
    // A page with scans proves the repository exists (repositories are never deleted): one
    // Query. Only an empty page, or a refused request, looks the repository up, so that an
    // unknown one is a 404 before anything else.
    let listed = match (
        compliance_http::ids::repo_in_path(&repo),
        page_args(page.limit, page.cursor.as_deref()),
    ) {
        (Ok(id), Ok((limit, cursor))) => scans::list(state.store.as_ref(), org, id, limit, cursor)
            .await
            .map_err(ApiError::from),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let (scans, next) = match listed {
        Ok(page) if !page.0.is_empty() => page,
        other => {
            owned(&state, org, &repo).await?;
            other?
        }
    };
    Ok(Json(ScanList {
        scans: scans.into_iter().map(|s| ScanView::of(s, false)).collect(),
        next_cursor: next.map(|c| c.encode()),
    }))
}

pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((repo, scan_id)): Path<(String, String)>,
) -> Result<Json<ScanView>, ApiError> {
    let repo = owned(&state, &principal.org_id, &repo).await?;
    let not_found = || ApiError::NotFound("Scan not found".into());
    let scan_id = ScanId::parse(&scan_id).map_err(|_| not_found())?;
    let scan = scans::get(
        state.store.as_ref(),
        &principal.org_id,
        repo.repo_id,
        &scan_id,
    )
    .await?
    .ok_or_else(not_found)?;
    Ok(Json(ScanView::of(scan, false)))
}
