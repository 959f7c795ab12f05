//! A repository's latest evaluation as OSCAL assessment results.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use compliance_domain::catalog::Framework;
use compliance_domain::ingest::{QualityGate, ScanSummary, SeverityCounts};
use compliance_domain::scoring::{ControlStatus, Report};

use crate::model::Document;
use crate::{
    prop, Assessment, FindingInput, ObservationInput, Org, RiskInput, RiskLogInput, Selection,
    Verdict,
};

/// Why a control marked Not Applicable without a justification is left out.
pub const NOT_APPLICABLE: &str = "Marked Not Applicable by the org";

/// An enabled framework and the org's justifications of its controls (control id → text).
#[derive(Debug, Clone, Copy)]
pub struct FrameworkInput<'a> {
    pub framework: &'a Framework,
    pub justifications: Option<&'a BTreeMap<String, String>>,
}

/// The scan the evaluation read.
#[derive(Debug, Clone, Copy)]
pub struct ScanEvidence<'a> {
    pub scan_id: &'a str,
    pub scanned_at: DateTime<Utc>,
    pub summary: &'a ScanSummary,
}

/// An approved exception that applied to the evaluation, and the controls some of whose findings
/// it set aside.
#[derive(Debug, Clone)]
pub struct ExceptionEvidence<'a> {
    pub exception_id: &'a str,
    pub kind: &'a str,
    /// What it covers, in words (`rule js/sql-injection in test/**`).
    pub scope: String,
    pub justification: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub approved_by: String,
    pub approved_at: DateTime<Utc>,
    /// (framework key, control id).
    pub controls: Vec<(String, String)>,
}

/// The org's attestation of a control in force at the evaluation: evidence someone examined.
#[derive(Debug, Clone)]
pub struct AttestationInput<'a> {
    pub framework: &'a str,
    pub control_id: &'a str,
    pub statement: &'a str,
    pub owner: &'a str,
    /// `monthly`, `quarterly`, `semi_annual` or `annual`.
    pub review_interval: &'a str,
    /// `current`, `due_soon` or `overdue` at the evaluation.
    pub state: &'a str,
    pub effective_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub recorded_by: String,
    pub version: u32,
    /// SHA-256 of the file attached as evidence, when one was.
    pub file_sha256: Option<&'a str>,
}

fn attestation_key(framework: &str, control_id: &str) -> String {
    format!("attestation/{framework}/{control_id}")
}

/// An attestation as an observation made by examining (OSCAL's `EXAMINE` method), collected
/// when its evidence became true.
fn attestation_observation(a: &AttestationInput) -> ObservationInput {
    ObservationInput {
        key: attestation_key(a.framework, a.control_id),
        title: format!(
            "Attestation of {} {} by {}",
            a.framework, a.control_id, a.owner
        ),
        description: format!(
            "{} (true since {}, reviewed {}, due for review on {}; {} at this evaluation; \
             recorded by {}, version {}).",
            a.statement.trim_end_matches('.'),
            crate::text::timestamp(a.effective_at),
            a.review_interval.replace('_', "-"),
            crate::text::timestamp(a.due_at),
            a.state.replace('_', " "),
            a.recorded_by,
            a.version
        ),
        props: vec![
            prop("framework", a.framework),
            prop("control-id", a.control_id),
            prop("attestation-owner", a.owner),
            prop("attestation-state", a.state),
            prop("review-interval", a.review_interval),
            prop("due-at", crate::text::timestamp(a.due_at)),
            prop("attestation-version", a.version.to_string()),
            a.file_sha256.and_then(|h| prop("evidence-sha256", h)),
        ],
        method: "EXAMINE",
        collected: a.effective_at,
    }
}

/// A repository's evaluation: the report the score endpoint answers, with what it was made of.
#[derive(Debug, Clone)]
pub struct RepoEvaluation<'a> {
    pub org: Org<'a>,
    pub repo_id: u64,
    pub repo_name: &'a str,
    /// The latest scan; `None` when the repository was never scanned.
    pub scan: Option<ScanEvidence<'a>>,
    /// The enabled frameworks, in the report's order.
    pub frameworks: Vec<FrameworkInput<'a>>,
    pub report: &'a Report,
    pub evaluated_at: DateTime<Utc>,
    /// The approved exceptions that applied (OSCAL risks, `deviation-approved`).
    pub exceptions: Vec<ExceptionEvidence<'a>>,
    /// The org's attestations in force of the enabled frameworks' controls.
    pub attestations: Vec<AttestationInput<'a>>,
}

fn risk_key(e: &ExceptionEvidence) -> String {
    format!("exception/{}", e.exception_id)
}

/// An approved exception as a risk, with the log of its request and approval.
fn risk(e: &ExceptionEvidence) -> RiskInput {
    let until = e.expires_at.map_or("no expiry".to_string(), |t| {
        format!("until {}", t.to_rfc3339())
    });
    RiskInput {
        key: risk_key(e),
        title: format!("Approved exception ({}): {}", e.kind, e.scope),
        description: e.justification.to_string(),
        statement: format!(
            "The findings of {} do not count against the controls they concern, {until};              {} control(s) affected in this evaluation.",
            e.scope,
            e.controls.len()
        ),
        props: vec![
            prop("exception-id", e.exception_id),
            prop("exception-kind", e.kind),
            e.expires_at
                .and_then(|t| prop("expires-at", crate::text::timestamp(t))),
        ],
        log: vec![
            RiskLogInput {
                title: format!("Exception requested by {}", e.requested_by),
                description: e.justification.to_string(),
                at: e.requested_at,
                status_change: Some("deviation-requested"),
            },
            RiskLogInput {
                title: format!("Exception approved by {}", e.approved_by),
                description: format!("Approved by {}, a second person: {until}.", e.approved_by),
                at: e.approved_at,
                status_change: Some("deviation-approved"),
            },
        ],
    }
}

fn counts_text(c: &SeverityCounts) -> String {
    format!(
        "{} critical, {} high, {} medium, {} low, {} info",
        c.critical, c.high, c.medium, c.low, c.info
    )
}

const SCAN_OBSERVATION: &str = "scan";

fn tool_key(i: usize, tool: &str) -> String {
    format!("tool/{i}/{tool}")
}

fn verdict(status: ControlStatus) -> Option<Verdict> {
    match status {
        ControlStatus::Pass => Some(Verdict::Pass),
        ControlStatus::Partial => Some(Verdict::Partial),
        ControlStatus::Fail => Some(Verdict::Fail),
        ControlStatus::NoEvidence => Some(Verdict::NoEvidence),
        ControlStatus::Disabled => None,
    }
}

/// The observations of a scan: the scan itself (its totals and signals), then one per tool.
fn observations(repo: &str, scan: &ScanEvidence) -> Vec<ObservationInput> {
    let s = scan.summary;
    let mut out = Vec::with_capacity(s.tools.len() + 1);
    let mut signals = Vec::new();
    if let Some(gate) = s.signals.quality_gate {
        signals.push(format!(
            "quality gate {}",
            match gate {
                QualityGate::Passed => "passed",
                QualityGate::Failed => "failed",
            }
        ));
    }
    if let Some(pr) = &s.signals.pull_requests {
        signals.push(format!(
            "{} merged pull requests, {} with an approving review",
            pr.merged, pr.reviewed
        ));
    }
    out.push(ObservationInput {
        key: SCAN_OBSERVATION.to_string(),
        title: format!("Scan {} of {repo}", scan.scan_id),
        description: format!(
            "Security scan of {repo}: {} counted findings ({}), {} tool runs ({} failed){}.",
            s.totals.findings,
            counts_text(&s.totals.by_severity),
            s.totals.runs,
            s.totals.failed_runs,
            if signals.is_empty() {
                String::new()
            } else {
                format!("; {}", signals.join("; "))
            }
        ),
        props: vec![
            prop("scan-id", scan.scan_id),
            prop("repository", repo),
            prop("findings", s.totals.findings.to_string()),
            prop(
                "findings-critical",
                s.totals.by_severity.critical.to_string(),
            ),
            prop("findings-high", s.totals.by_severity.high.to_string()),
            prop("findings-medium", s.totals.by_severity.medium.to_string()),
            prop("findings-low", s.totals.by_severity.low.to_string()),
            prop("tool-runs", s.totals.runs.to_string()),
            prop("failed-tool-runs", s.totals.failed_runs.to_string()),
        ],
        method: "TEST",
        collected: scan.scanned_at,
    });
    for (i, tool) in s.tools.iter().enumerate() {
        let covered: Vec<&str> = tool.covered.iter().map(|c| c.as_str()).collect();
        let name = match &tool.version {
            Some(v) => format!("{} {v}", tool.tool),
            None => tool.tool.clone(),
        };
        let failures: Vec<&str> = s
            .failed_tools
            .iter()
            .filter(|f| f.tool == tool.tool && f.version == tool.version)
            .map(|f| f.reason.as_str())
            .collect();
        out.push(ObservationInput {
            key: tool_key(i, &tool.tool),
            title: format!("{name} in scan {}", scan.scan_id),
            description: format!(
                "{name} ran {} time(s) ({} failed): {} results counted, {} not counted; \
                 covered: {}{}.",
                tool.runs,
                tool.failed_runs,
                tool.results_counted,
                tool.results_excluded,
                if covered.is_empty() {
                    "nothing".to_string()
                } else {
                    covered.join(", ")
                },
                if failures.is_empty() {
                    String::new()
                } else {
                    format!("; failed: {}", failures.join("; "))
                }
            ),
            props: vec![
                prop("tool", &tool.tool),
                tool.version.as_ref().and_then(|v| prop("tool-version", v)),
                prop("scan-id", scan.scan_id),
                prop("runs", tool.runs.to_string()),
                prop("failed-runs", tool.failed_runs.to_string()),
                prop("results-counted", tool.results_counted.to_string()),
                prop("results-excluded", tool.results_excluded.to_string()),
                prop("covered", covered.join(" ")),
            ],
            method: "TEST",
            collected: scan.scanned_at,
        });
    }
    out
}

/// The OSCAL assessment results of a repository's evaluation.
pub fn repo_assessment(e: &RepoEvaluation) -> Document {
    let scan_name = e.scan.map_or("none", |s| s.scan_id);
    let name = format!(
        "compliance-api/org/{}/repo/{}/scan/{scan_name}",
        e.org.id, e.repo_id
    );
    let mut observations = e
        .scan
        .as_ref()
        .map(|s| observations(e.repo_name, s))
        .unwrap_or_default();
    observations.extend(e.attestations.iter().map(attestation_observation));
    let mut selections = Vec::new();
    let mut findings = Vec::new();
    for input in &e.frameworks {
        let framework = input.framework;
        let Some(result) = e.report.frameworks.get(&framework.key) else {
            continue;
        };
        let mut selection = Selection {
            catalog: &framework.key,
            title: format!("{} ({})", framework.name, framework.key),
            included: vec![],
            excluded: vec![],
        };
        for control in &result.controls {
            let Some(verdict) = verdict(control.status) else {
                let reason = input
                    .justifications
                    .and_then(|j| j.get(&control.id))
                    .map_or(NOT_APPLICABLE.to_string(), |text| {
                        format!("{NOT_APPLICABLE}: {text}")
                    });
                selection.excluded.push((&control.id, reason));
                continue;
            };
            selection.included.push(&control.id);
            // Evidence: the scan, and the tools that covered the control's check type.
            let mut related = Vec::new();
            if let Some(scan) = &e.scan {
                related.push(SCAN_OBSERVATION.to_string());
                for (i, tool) in scan.summary.tools.iter().enumerate() {
                    if tool.covered.contains(&control.check_type) {
                        related.push(tool_key(i, &tool.tool));
                    }
                }
            }
            if e.attestations
                .iter()
                .any(|a| a.framework == framework.key && a.control_id == control.id)
            {
                related.push(attestation_key(&framework.key, &control.id));
            }
            let remarks = match verdict {
                Verdict::NoEvidence => {
                    Some(format!("No evidence: never satisfied. {}", control.reason))
                }
                _ => Some(control.reason.clone()),
            };
            findings.push(FindingInput {
                catalog: &framework.key,
                control_id: &control.id,
                title: format!("{} {}: {}", framework.name, control.id, control.name),
                description: control.reason.clone(),
                verdict,
                remarks,
                props: vec![
                    prop("framework", &framework.key),
                    prop("control-id", &control.id),
                    prop("status", verdict.as_str()),
                    prop("check-type", control.check_type.as_str()),
                    prop("pass-condition", &control.pass_condition),
                ],
                observations: related,
                risks: e
                    .exceptions
                    .iter()
                    .filter(|x| {
                        x.controls
                            .iter()
                            .any(|(fw, id)| *fw == framework.key && *id == control.id)
                    })
                    .map(risk_key)
                    .collect(),
            });
        }
        selections.push(selection);
    }
    let summary = &e.report.executive_summary;
    Assessment {
        title: format!("Compliance assessment of {}", e.repo_name),
        version: match e.scan {
            Some(s) => format!("scan-{}", s.scan_id),
            None => "no-scan".to_string(),
        },
        org: e.org,
        generated_at: e.evaluated_at,
        start: e.scan.map_or(e.evaluated_at, |s| s.scanned_at),
        end: e.evaluated_at,
        result_title: format!("Latest evaluation of {}", e.repo_name),
        result_description: format!(
            "The controls of the enabled frameworks judged on the latest scan of {}: overall \
             score {} ({}), {} passing, {} partial, {} failing ({} without evidence) of {} \
             controls. {}",
            e.repo_name,
            summary.overall_score,
            summary.posture.as_str(),
            summary.passing,
            summary.partial,
            summary.failing,
            summary.no_evidence,
            summary.total_controls,
            summary.recommendation,
        ),
        result_props: vec![
            prop("repository", e.repo_name),
            prop("repository-id", e.repo_id.to_string()),
            prop("scan-id", scan_name),
            prop("overall-score", summary.overall_score.to_string()),
            prop("posture", summary.posture.as_str()),
        ],
        name,
        selections,
        observations,
        findings,
        risks: e.exceptions.iter().map(risk).collect(),
    }
    .build()
}
