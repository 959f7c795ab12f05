//! An audit run (a policy pack's active rules over a set of records) as OSCAL assessment
//! results: each rule is a control of the pack's catalog.

use chrono::{DateTime, Utc};
use compliance_packs::engine::{RuleOutcome, RuleStatus};
use compliance_packs::PolicyType;

use crate::model::Document;
use crate::{prop, Assessment, FindingInput, ObservationInput, Org, Selection, Verdict};

/// Why a rule of the policy that did not run is left out.
pub const INACTIVE: &str = "Rule not active when the run was made";

/// A rule as it ran.
#[derive(Debug, Clone, Copy)]
pub struct RuleRun<'a> {
    pub outcome: &'a RuleOutcome,
    pub threshold: Option<f64>,
    /// Where the policy states it (`31 CFR 1010.311`), when known.
    pub policy_section: Option<&'a str>,
    /// Of the run's stored findings of the rule, those whose alert was closed as a false
    /// positive after review.
    pub false_positives: u64,
}

#[derive(Debug, Clone)]
pub struct RunEvaluation<'a> {
    pub org: Org<'a>,
    pub audit_id: &'a str,
    pub audit_name: &'a str,
    pub run_id: &'a str,
    pub policy_type: PolicyType,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub records: u64,
    pub findings_total: u64,
    /// The rules that ran, in run order.
    pub rules: Vec<RuleRun<'a>>,
    /// The policy's other rules (not active at the time of the run).
    pub inactive: Vec<&'a str>,
    pub generated_at: DateTime<Utc>,
}

fn verdict(status: RuleStatus) -> Verdict {
    match status {
        RuleStatus::Pass => Verdict::Pass,
        RuleStatus::Fail => Verdict::Fail,
        RuleStatus::NotEvaluable => Verdict::NoEvidence,
    }
}

fn threshold_text(t: f64) -> String {
    if t.fract() == 0.0 && t.abs() < 9.0e15 {
        format!("{}", t as i64)
    } else {
        format!("{t}")
    }
}

/// The OSCAL assessment results of an audit run.
pub fn run_assessment(e: &RunEvaluation) -> Document {
    let catalog = e.policy_type.as_str();
    let pack = e.policy_type.display_name();
    let name = format!(
        "compliance-api/org/{}/audit/{}/run/{}",
        e.org.id, e.audit_id, e.run_id
    );
    let observations = e
        .rules
        .iter()
        .map(|r| {
            let o = r.outcome;
            ObservationInput {
                key: format!("rule/{}", o.rule_id),
                title: format!("{} over {} records", o.rule_id, e.records),
                description: format!(
                    "Rule {} ({}) evaluated over the run's {} records: {} judged, {} broke it, \
                     {} could not be judged (a field it reads was missing or of another type).",
                    o.rule_id, o.name, e.records, o.evaluated, o.findings, o.not_evaluable
                ),
                props: vec![
                    prop("rule-id", &o.rule_id),
                    prop("run-id", e.run_id),
                    prop("records", e.records.to_string()),
                    prop("evaluated", o.evaluated.to_string()),
                    prop("findings", o.findings.to_string()),
                    prop("not-evaluable", o.not_evaluable.to_string()),
                    r.threshold
                        .and_then(|t| prop("threshold", threshold_text(t))),
                ],
                method: "TEST",
                collected: e.finished_at,
            }
        })
        .collect();
    let findings = e
        .rules
        .iter()
        .map(|r| {
            let o = r.outcome;
            let verdict = verdict(o.status);
            let description = match o.status {
                RuleStatus::Pass => format!(
                    "{} records judged, none broke the rule ({} not evaluable).",
                    o.evaluated, o.not_evaluable
                ),
                RuleStatus::Fail => format!(
                    "{} of {} judged records broke the rule ({} not evaluable).",
                    o.findings, o.evaluated, o.not_evaluable
                ),
                RuleStatus::NotEvaluable => format!(
                    "No record carried what the rule reads ({} not evaluable): no evidence, \
                     never satisfied.",
                    o.not_evaluable
                ),
            };
            let description = if r.false_positives > 0 {
                format!(
                    "{description} {} of them were closed as false positives after review.",
                    r.false_positives
                )
            } else {
                description
            };
            FindingInput {
                catalog,
                control_id: &o.rule_id,
                title: format!("{} {}: {}", pack, o.rule_id, o.name),
                remarks: Some(description.clone()),
                description,
                verdict,
                props: vec![
                    prop("rule-id", &o.rule_id),
                    prop("status", verdict.as_str()),
                    prop("severity", o.severity.as_str()),
                    prop("category", &o.category),
                    r.policy_section.and_then(|s| prop("policy-section", s)),
                    (r.false_positives > 0)
                        .then(|| prop("false-positive-findings", r.false_positives.to_string()))
                        .flatten(),
                ],
                observations: vec![format!("rule/{}", o.rule_id)],
                risks: vec![],
            }
        })
        .collect();
    let selection = Selection {
        catalog,
        title: format!("{pack} policy pack ({catalog})"),
        included: e.rules.iter().map(|r| r.outcome.rule_id.as_str()).collect(),
        excluded: e
            .inactive
            .iter()
            .map(|id| (*id, INACTIVE.to_string()))
            .collect(),
    };
    Assessment {
        title: format!("Audit {}: run {}", e.audit_name, e.run_id),
        version: format!("run-{}", e.run_id),
        org: e.org,
        generated_at: e.generated_at,
        start: e.started_at,
        end: e.finished_at,
        result_title: format!("Run {} of audit {}", e.run_id, e.audit_name),
        result_description: format!(
            "The {pack} rules active in audit {} evaluated over {} records: {} findings.",
            e.audit_name, e.records, e.findings_total
        ),
        result_props: vec![
            prop("audit-id", e.audit_id),
            prop("run-id", e.run_id),
            prop("policy-type", catalog),
            prop("records", e.records.to_string()),
            prop("findings", e.findings_total.to_string()),
        ],
        name,
        selections: vec![selection],
        observations,
        findings,
        risks: vec![],
    }
    .build()
}
