//! The Statement of Applicability of a framework: every control, whether it applies to the org
//! (not marked Not Applicable), the org's justification, and how it stands across the org's
//! repositories (each judged on its latest scan, as the score endpoint judges it). JSON, or CSV
//! with `Accept: text/csv`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use compliance_domain::catalog::{CheckType, Framework};
use compliance_domain::csv::CsvWriter;
use compliance_domain::ids::OrgId;
use compliance_domain::scoring::{
    self, AttestationState, ControlStatus, FrameworkInput, ReviewInterval, ScanInput,
};
use compliance_http::negotiate::wants_csv;
use compliance_http::{ApiError, AppState, Caller, Params};
use compliance_services::org_view::OrgView;
use compliance_services::scans::StoredScan;
use compliance_services::scores::{self, Excepting};
use compliance_services::summary;
use compliance_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::controls::framework;

/// Repositories listed per page, and latest scans read at once.
const PAGE: usize = 100;

/// How a control stands across the org's repositories (each judged on its latest scan).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Implementation {
    pub pass: u32,
    pub partial: u32,
    /// Repositories where the control fails on evidence (not counting those without any).
    pub fail: u32,
    /// Repositories where nothing could judge it (never scanned, or no tool covered it).
    pub no_evidence: u32,
    /// When the latest scan that had evidence for the control completed.
    #[serde(with = "compliance_domain::time::micros::option")]
    pub latest_evidence_at: Option<DateTime<Utc>>,
    /// Findings approved exceptions set aside for the control, across the repositories (absent
    /// when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excepted_findings: Option<u64>,
    /// When the soonest of those counts again (absent when none ever does).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "compliance_domain::time::micros::option::serialize"
    )]
    pub exceptions_expire_at: Option<DateTime<Utc>>,
    /// Repositories where the control passes by the org's attestation, having no scan evidence
    /// (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passed_by_attestation: Option<u32>,
}

/// The org's attestation of a control, as the statement shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SoaAttestation<'a> {
    pub owner: &'a str,
    pub state: AttestationState,
    pub review_interval: ReviewInterval,
    #[serde(with = "compliance_domain::time::micros")]
    pub effective_at: DateTime<Utc>,
    #[serde(with = "compliance_domain::time::micros")]
    pub due_at: DateTime<Utc>,
    /// The SHA-256 of the evidence file, when one was attached.
    pub file_sha256: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SoaControl<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub category: &'a str,
    pub check_type: CheckType,
    /// `false` when the org marked it Not Applicable.
    pub applicable: bool,
    /// The org's justification (of the exclusion, or of the inclusion), when it gave one.
    pub justification: Option<&'a str>,
    /// `null` for a control that does not apply (it is not judged).
    pub implementation: Option<Implementation>,
    /// The org's attestation of the control in force (`null`: none).
    pub attestation: Option<SoaAttestation<'a>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementOfApplicability<'a> {
    pub framework_key: &'a str,
    pub framework_name: &'a str,
    pub custom: bool,
    /// Whether the org scores against the framework (selected, and allowed by its plan).
    pub enabled: bool,
    #[serde(with = "compliance_domain::time::micros")]
    pub generated_at: DateTime<Utc>,
    /// The org's repositories the implementation counts cover.
    pub repositories: u32,
    pub applicable: u32,
    pub not_applicable: u32,
    pub controls: Vec<SoaControl<'a>>,
}

/// Every repository's latest scan (`None`: never scanned), a page of repositories at a time,
/// each page one read of the org's partition (the repositories with their latest scans'
/// copies; see [`summary::page`]), and the org's view the first page read with them.
async fn latest_scans(
    store: &Arc<dyn Store>,
    org: &OrgId,
) -> Result<(OrgView, Vec<Option<Arc<StoredScan>>>), StoreError> {
    let (view, first, mut next) = summary::page(store.clone(), org, PAGE, None).await?;
    let mut out: Vec<_> = first.into_iter().map(|listed| listed.scan).collect();
    while let Some(cursor) = next {
        let (_, page, more) = summary::page(store.clone(), org, PAGE, Some(cursor)).await?;
        out.extend(page.into_iter().map(|listed| listed.scan));
        next = more;
    }
    Ok((view, out))
}

/// A repository's latest scan (`None`: never scanned), with the exceptions that apply to it.
type Judged = (Option<Arc<StoredScan>>, Option<Arc<Excepting>>);

/// The statement: every control of `framework`, judged on every repository's latest scan.
fn statement<'a>(
    view: &'a OrgView,
    framework: &'a Framework,
    scans: &[Judged],
    now: DateTime<Utc>,
) -> StatementOfApplicability<'a> {
    let disabled = view.settings.disabled(&framework.key);
    let justifications = view.settings.justifications(&framework.key);
    let mut by_control: BTreeMap<&str, Implementation> = BTreeMap::new();
    let input = [FrameworkInput {
        framework,
        disabled,
        attested: view.attested(&framework.key),
    }];
    for (scan, excepting) in scans {
        let evidence = scan.as_ref().map(|s| ScanInput {
            summary: excepting.as_ref().map_or(&s.summary, |e| &e.summary),
            completed_at: s.scanned_at,
            excepted: excepting.as_ref().map(|e| &e.excepted),
        });
        let report = scoring::score(&input, evidence.as_ref(), now);
        let Some(result) = report.frameworks.get(&framework.key) else {
            continue;
        };
        for control in &result.controls {
            let Some(c) = framework.control(&control.id) else {
                continue;
            };
            let counts = by_control.entry(c.id.as_str()).or_default();
            match control.status {
                ControlStatus::Pass => counts.pass += 1,
                ControlStatus::Partial => counts.partial += 1,
                ControlStatus::Fail => counts.fail += 1,
                ControlStatus::NoEvidence => counts.no_evidence += 1,
                ControlStatus::Disabled => continue,
            }
            if let Some(n) = control.evidence.excepted {
                *counts.excepted_findings.get_or_insert(0) += n;
                if let Some(at) = control.evidence.exceptions_expire_at {
                    let soonest = counts.exceptions_expire_at.map_or(at, |s| s.min(at));
                    counts.exceptions_expire_at = Some(soonest);
                }
            }
            if control
                .evidence
                .attestation
                .is_some_and(|a| a.by_attestation)
            {
                *counts.passed_by_attestation.get_or_insert(0) += 1;
            } else if control.status != ControlStatus::NoEvidence {
                if let Some(s) = scan {
                    counts.latest_evidence_at = counts.latest_evidence_at.max(Some(s.scanned_at));
                }
            }
        }
    }
    let controls: Vec<SoaControl> = framework
        .controls
        .iter()
        .map(|c| {
            let applicable = !disabled.contains(&c.id);
            SoaControl {
                id: &c.id,
                name: &c.name,
                category: &c.category,
                check_type: c.check_type,
                applicable,
                justification: justifications
                    .and_then(|j| j.get(&c.id))
                    .map(String::as_str),
                implementation: applicable
                    .then(|| by_control.get(c.id.as_str()).cloned().unwrap_or_default()),
                attestation: view
                    .attestations
                    .iter()
                    .find(|a| a.framework.as_str() == framework.key && a.control_id == c.id)
                    .map(|a| SoaAttestation {
                        owner: &a.owner,
                        state: a.state_at(now),
                        review_interval: a.review_interval,
                        effective_at: a.effective_at,
                        due_at: a.due_at,
                        file_sha256: a.file.as_ref().map(|f| f.sha256.as_str()),
                    }),
            }
        })
        .collect();
    let applicable = controls.iter().filter(|c| c.applicable).count() as u32;
    StatementOfApplicability {
        framework_key: &framework.key,
        framework_name: &framework.name,
        custom: framework.custom,
        enabled: view.enabled(framework),
        generated_at: now,
        repositories: scans.len() as u32,
        applicable,
        not_applicable: controls.len() as u32 - applicable,
        controls,
    }
}

pub const CSV_HEADER: [&str; 19] = [
    "framework_key",
    "control_id",
    "name",
    "category",
    "check_type",
    "applicable",
    "justification",
    "pass",
    "partial",
    "fail",
    "no_evidence",
    "repositories",
    "latest_evidence_at",
    "excepted_findings",
    "exceptions_expire_at",
    "passed_by_attestation",
    "attestation_owner",
    "attestation_state",
    "attestation_due_at",
];

/// The statement as CSV (the product's one writer: every text cell quoted, formulas
/// neutralised; counts as bare numbers): a header row, then one row per control.
pub fn to_csv(soa: &StatementOfApplicability) -> String {
    let mut csv = CsvWriter::with_capacity(160 * (soa.controls.len() + 1));
    csv.text_row(CSV_HEADER);
    for c in &soa.controls {
        let imp = c.implementation.as_ref();
        csv.text(soa.framework_key)
            .text(c.id)
            .text(c.name)
            .text(c.category)
            .text(c.check_type.as_str())
            .text(if c.applicable { "yes" } else { "no" })
            .optional_text(c.justification)
            .optional_number(imp.map(|i| i.pass))
            .optional_number(imp.map(|i| i.partial))
            .optional_number(imp.map(|i| i.fail))
            .optional_number(imp.map(|i| i.no_evidence))
            .optional_number(imp.map(|_| soa.repositories))
            .optional_text(
                imp.and_then(|i| i.latest_evidence_at)
                    .map(compliance_domain::time::rfc3339)
                    .as_deref(),
            )
            // An applicable control's counts are numbers (0 when none), as a spreadsheet sums.
            .optional_number(
                imp.map(|i| i.excepted_findings.unwrap_or(0).min(i64::MAX as u64) as i64),
            )
            .optional_text(
                imp.and_then(|i| i.exceptions_expire_at)
                    .map(compliance_domain::time::rfc3339)
                    .as_deref(),
            )
            .optional_number(imp.map(|i| i.passed_by_attestation.unwrap_or(0)))
            .optional_text(c.attestation.as_ref().map(|a| a.owner))
            .optional_text(c.attestation.as_ref().map(|a| a.state.as_str()))
            .optional_text(
                c.attestation
                    .as_ref()
                    .map(|a| compliance_domain::time::rfc3339(a.due_at))
                    .as_deref(),
            )
            .end_row();
    }
    csv.finish()
}

/// The operation takes no query parameter: any is a 400, as everywhere.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoQuery {}

/// `GET /api/compliance/frameworks/{framework_key}/soa`.
pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(key): Path<String>,
    headers: HeaderMap,
    Params(_): Params<NoQuery>,
) -> Result<Response, ApiError> {
    let store = &state.store;
    let org = &principal.org_id;
    let now = state.now();
    let (view, scans) = latest_scans(store, org).await?;
    let applying = view.applying(now);
    let framework = framework(&view, &key)?;
    let mut judged = Vec::with_capacity(scans.len());
    for scan in scans {
        let excepting = match &scan {
            Some(s) => scores::excepting(store.as_ref(), org, &applying, s).await?,
            None => None,
        };
        judged.push((scan, excepting));
    }
    let soa = statement(&view, framework, &judged, now);
    if !wants_csv(&headers) {
        return Ok(Json(soa).into_response());
    }
    let disposition = format!("attachment; filename=\"soa-{}.csv\"", soa.framework_key);
    let mut response = to_csv(&soa).into_response();
    let h = response.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        h.insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
