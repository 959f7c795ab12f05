//! What an alert is: one (rule, group value, window) of an audit, however many runs found it;
//! its workflow, its investigator's recommendation and the second principal's decision.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use compliance_domain::ids::Uuid;
use compliance_domain::labels;
use compliance_packs::engine::{Finding, FindingWindow, Observation};
use compliance_packs::RuleSeverity;
use compliance_services::audit_log::Actor;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

labels! {
    /// Where an alert stands.
    pub enum AlertStatus as "alert status" {
        Open => "open",
        Investigating => "investigating",
        Closed => "closed",
    }
}

labels! {
    /// What closing found (Marble's outcomes, and "nothing to do").
    pub enum AlertOutcome as "alert outcome" {
        ConfirmedRisk => "confirmed_risk",
        FalsePositive => "false_positive",
        ValuableAlert => "valuable_alert",
        NoAction => "no_action",
    }
}

labels! {
    /// The investigator's recommendation on a confirmed risk.
    pub enum RecommendationKind as "recommendation" {
        FileReport => "file_report",
        DoNotFile => "do_not_file",
    }
}

labels! {
    /// The second principal's decision on it.
    pub enum DecisionKind as "decision" {
        ReportFiled => "report_filed",
        Declined => "declined",
    }
}

/// The investigator's recommendation, and when a decision on it is due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub recommendation: RecommendationKind,
    pub narrative: String,
    pub by: Actor,
    #[serde(with = "compliance_domain::time::micros")]
    pub at: DateTime<Utc>,
    #[serde(with = "compliance_domain::time::micros")]
    pub decision_due_at: DateTime<Utc>,
}

/// The decision on the recommendation, by someone else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub decision: DecisionKind,
    /// The report's filing reference (`report_filed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// When the report was filed (`report_filed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filed_on: Option<NaiveDate>,
    /// Why not (`declined`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub by: Actor,
    #[serde(with = "compliance_domain::time::micros")]
    pub at: DateTime<Utc>,
}

/// An alert as stored and answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub alert_id: String,
    pub audit_id: Uuid,
    pub rule_id: String,
    pub severity: RuleSeverity,
    pub category: String,
    /// The group-by values of a windowed rule as text (`customer_id=C-1`), or the subject
    /// record's id for a rule without a window.
    pub group_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<BTreeMap<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<FindingWindow>,
    pub status: AlertStatus,
    /// Set when closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<AlertOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(with = "compliance_domain::time::micros")]
    pub first_seen_at: DateTime<Utc>,
    #[serde(with = "compliance_domain::time::micros")]
    pub last_seen_at: DateTime<Utc>,
    pub last_run_id: Uuid,
    /// Runs that found it, snoozed ones included.
    pub occurrences: u32,
    /// Of those, the ones that came while its (rule, group value) was snoozed.
    pub snoozed_occurrences: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// Every change adds one (a change names the version it read).
    pub version: u32,
    /// Entries in its trail, and the SHA-256 of the last: the head of the hash chain.
    pub trail_length: u32,
    pub trail_sha256: String,
}

impl Alert {
    /// Open again: the outcome goes, and so does a recommendation and its decision (both stay in
    /// the trail): a new closing gets its own.
    pub fn reopen(&mut self) {
        self.status = AlertStatus::Open;
        self.outcome = None;
        self.recommendation = None;
        self.decision = None;
    }

    /// A recommendation waits for its decision past the due date.
    pub fn decision_overdue(&self, now: DateTime<Utc>) -> bool {
        self.decision.is_none()
            && self
                .recommendation
                .as_ref()
                .is_some_and(|r| r.decision_due_at <= now)
    }
}

/// One run's occurrence of an alert: the records and the values that triggered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Occurrence {
    pub run_id: Uuid,
    pub finding_id: String,
    /// The subject record's id first, then the others its window counted.
    pub record_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub observed: Vec<Observation>,
    #[serde(serialize_with = "compliance_packs::serialize_threshold")]
    pub threshold: Option<f64>,
    pub message: String,
    #[serde(with = "compliance_domain::time::micros")]
    pub seen_at: DateTime<Utc>,
    /// It came while the (rule, group value) was snoozed: kept and counted, nothing reopened.
    pub snoozed: bool,
}

/// The genesis of every trail: the `prev_sha256` of its first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The text of a group (`customer_id=C-1, direction=out`), or the subject record's id.
pub fn group_value(finding: &Finding) -> String {
    match &finding.group {
        Some(group) if !group.is_empty() => group
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(", "),
        _ => finding.record_ids.first().cloned().unwrap_or_default(),
    }
}

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

/// The alert a finding belongs to: the same (rule, group value, window) in any later run.
pub fn alert_id(finding: &Finding) -> String {
    let (from, to) = finding
        .window
        .as_ref()
        .map_or(("", ""), |w| (w.from.as_str(), w.to.as_str()));
    // The group as canonical JSON (sorted keys, typed values), not its display text: values
    // come from uploaded records and could spell another group's text.
    let group = match &finding.group {
        Some(group) if !group.is_empty() => {
            serde_json::to_string(group).expect("a group serialises")
        }
        _ => serde_json::to_string(&finding.record_ids.first()).expect("an id serialises"),
    };
    digest(&[&finding.rule_id, &group, from, to])
}

/// The snooze a (rule, group value) is kept under.
pub fn snooze_key(rule_id: &str, group_value: &str) -> String {
    digest(&[rule_id, group_value])
}
