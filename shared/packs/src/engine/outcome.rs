//! What an evaluation answers: per rule, how many records passed, failed or could not be judged;
//! the findings, each with the records, values and law behind it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::RuleSeverity;

/// A rule's verdict over a run: `fail` when a record breaks it, `pass` when some records were
/// judged and none broke it, `not_evaluable` when no record carried what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    Pass,
    Fail,
    NotEvaluable,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleOutcome {
    pub rule_id: String,
    pub name: String,
    pub category: String,
    pub severity: RuleSeverity,
    pub status: RuleStatus,
    /// Records judged (passed or failed).
    pub evaluated: u64,
    /// Records that broke the rule.
    pub findings: u64,
    /// Records the rule could not judge: a field it reads is missing or of the wrong type.
    pub not_evaluable: u64,
}

/// Findings by the severity of their rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
}

impl SeverityCounts {
    pub(crate) fn add(&mut self, severity: RuleSeverity, n: u64) {
        let slot = match severity {
            RuleSeverity::Critical => &mut self.critical,
            RuleSeverity::High => &mut self.high,
            RuleSeverity::Medium => &mut self.medium,
            RuleSeverity::Low => &mut self.low,
        };
        *slot += n;
    }
}

/// The period a finding looked at: an aggregate's window (`from` is where it opens), or a
/// deadline (`from` the event, `to` the deadline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingWindow {
    pub from: String,
    pub to: String,
}

/// One condition of the rule as the record met it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The condition, e.g. `sum(amount_usd) over 1 business day by customer_id, direction where
    /// instrument eq "cash" lte 10000`.
    pub condition: String,
    /// What was observed: the field's value, the aggregate's value, or the deadline's times.
    pub value: Value,
    /// Whether the condition held.
    pub holds: bool,
}

/// A record (with the records of its window) that breaks a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule_id: String,
    pub severity: RuleSeverity,
    pub category: String,
    /// The subject record's id first, then up to nine other records its window counted.
    pub record_ids: Vec<String>,
    /// The subject's group-by values, for a windowed rule.
    pub group: Option<BTreeMap<String, Value>>,
    pub window: Option<FindingWindow>,
    /// The subject's `timestamp`, when it has one.
    pub at: Option<String>,
    pub observed: Vec<Observation>,
    /// The threshold the rule ran with.
    #[serde(serialize_with = "crate::serialize_threshold")]
    pub threshold: Option<f64>,
    pub message: String,
    pub policy_section: String,
    pub policy_excerpt: String,
}

/// The result of evaluating a rule set over records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub records: u64,
    /// In the order the rules were given.
    pub rules: Vec<RuleOutcome>,
    pub findings_total: u64,
    pub by_severity: SeverityCounts,
    /// The first findings in canonical order (severity, then rule order, then record time and
    /// id), as many as were asked for.
    pub findings: Vec<Finding>,
}
