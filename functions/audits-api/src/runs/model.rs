//! What a run answers and stores: the summary per rule and severity, and the findings.

use chrono::{DateTime, Utc};
use compliance_domain::ids::Uuid;
use compliance_packs::engine::{Evaluation, Finding, RuleOutcome, SeverityCounts};
use compliance_packs::PolicyType;
use serde::{Deserialize, Serialize};

/// A rule's result in a run, with the threshold it ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRule {
    #[serde(flatten)]
    pub outcome: RuleOutcome,
    #[serde(serialize_with = "compliance_packs::serialize_threshold")]
    pub threshold: Option<f64>,
}

/// How the records came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordFormat {
    Ndjson,
    Csv,
}

impl RecordFormat {
    /// The engine's reader for it.
    pub fn engine(self) -> compliance_packs::engine::Format {
        use compliance_packs::engine::Format;
        match self {
            RecordFormat::Ndjson => Format::Ndjson,
            RecordFormat::Csv => Format::Csv,
        }
    }
}

/// The result of evaluating rules over records, without where it is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub records: u64,
    pub rules: Vec<RunRule>,
    pub findings_total: u64,
    pub by_severity: SeverityCounts,
}

impl Outcome {
    /// The counts of `evaluation`, with the threshold each rule ran with (in rule order).
    pub fn of(evaluation: &Evaluation, thresholds: &[Option<f64>]) -> Self {
        Outcome {
            records: evaluation.records,
            rules: evaluation
                .rules
                .iter()
                .zip(thresholds)
                .map(|(outcome, threshold)| RunRule {
                    outcome: outcome.clone(),
                    threshold: *threshold,
                })
                .collect(),
            findings_total: evaluation.findings_total,
            by_severity: evaluation.by_severity,
        }
    }
}

/// A stored run: `POST /api/audits/{audit_id}/runs` answers it, the run endpoints show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub run_id: Uuid,
    pub audit_id: Uuid,
    pub policy_id: Uuid,
    pub policy_type: PolicyType,
    #[serde(with = "compliance_domain::time::micros")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "compliance_domain::time::micros")]
    pub finished_at: DateTime<Utc>,
    pub format: RecordFormat,
    /// The body's size as evaluated (after gzip).
    pub input_bytes: u64,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// How many findings are stored (the first ones, most severe first); `findings_total`
    /// counts them all.
    pub findings_stored: u64,
}

/// A finding as stored and shown: its id (the run's id and its position) and the finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFinding {
    pub finding_id: String,
    #[serde(flatten)]
    pub finding: Finding,
}

impl StoredFinding {
    pub fn numbered(prefix: &str, findings: Vec<Finding>) -> Vec<StoredFinding> {
        findings
            .into_iter()
            .enumerate()
            .map(|(i, finding)| StoredFinding {
                finding_id: format!("{prefix}-{:05}", i + 1),
                finding,
            })
            .collect()
    }
}
