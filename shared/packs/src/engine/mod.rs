//! The evaluation engine: runs a rule set over records as FORMAT.md's evaluation model says.
//!
//! 1. The body is read into compact [`Records`] against the pack's [`Schema`] (`input`).
//! 2. Each rule's condition is compiled: slots, interned literals, thresholds (`compile`).
//! 3. Every aggregate is computed for every record by sorting and sweeping (`aggregate`, `span`).
//! 4. Every rule is evaluated on every record, three-valued; false is a finding.
//! 5. The first findings in canonical order are explained (`evidence`).
//!
//! The result depends only on the records' content, never on their order.
//! [`evaluate_partitioned`] splits the records by the rules' group keys and evaluates the parts
//! side by side, with the same result (`partition`); [`evaluate_spilled`] does the same for
//! records streamed into partition files on disk, each evaluated on its own (`spill`).

mod aggregate;
mod compile;
mod csv;
mod evidence;
pub mod input;
mod merge;
mod ndjson;
mod outcome;
mod partition;
mod records;
mod schema;
mod span;
pub mod spill;
mod timestamp;
mod work;

#[cfg(test)]
mod brute;
#[cfg(test)]
mod ground_truth;
#[cfg(test)]
mod parallel_tests;
#[cfg(test)]
mod partition_tests;
#[cfg(test)]
mod spill_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod work_tests;

use std::cmp::Reverse;

use chrono::{DateTime, Utc};

pub use input::{Format, InputError, Position, MAX_ID_CHARS};
pub use outcome::{
    Evaluation, Finding, FindingWindow, Observation, RuleOutcome, RuleStatus, SeverityCounts,
};
pub use partition::{default_partitions, evaluate_partitioned};
pub use records::Records;
pub use schema::{FieldSpec, FieldType, Schema, ID_FIELD, MAX_FIELDS, TIME_FIELD};
pub use spill::{evaluate_spilled, partitions_for, SpillError, SpillOptions};

use aggregate::{
    compute, contribution_key, contributions, group, time_order, Contribution, Grouping,
};
use compile::{Compiler, Context, Truth};
use evidence::Explainer;

use crate::Rule;

/// A rule as a run applies it: with the threshold the audit set for it.
#[derive(Debug, Clone, Copy)]
pub struct RuleRun<'r> {
    pub rule: &'r Rule,
    pub threshold: Option<f64>,
}

impl<'r> RuleRun<'r> {
    /// The rule with its own threshold.
    pub fn as_written(rule: &'r Rule) -> Self {
        RuleRun {
            rule,
            threshold: rule.threshold,
        }
    }
}

/// Evaluates `rules` over `records` at the time `now` (what an open deadline is measured
/// against), explaining the first `keep` findings. An error means a rule reads a field the
/// records' schema does not have: the schema was made for other rules.
pub fn evaluate(
    rules: &[RuleRun],
    records: &Records,
    now: DateTime<Utc>,
    keep: usize,
) -> Result<Evaluation, String> {
    evaluate_with_subjects(rules, records, now, keep).map(|(evaluation, _)| evaluation)
}

/// [`evaluate`], with each finding's rule (an index into `rules`) and subject (a record index),
/// finding by finding: what merging the evaluations of partitions orders by (`partition`).
pub(crate) fn evaluate_with_subjects(
    rules: &[RuleRun],
    records: &Records,
    now: DateTime<Utc>,
    keep: usize,
) -> Result<(Evaluation, Vec<(usize, usize)>), String> {
    let mut compiler = Compiler::new(records);
    let nodes = rules
        .iter()
        .map(|run| {
            compiler
                .rule(&run.rule.conditions, run.threshold, run.rule.time_window)
                .map_err(|e| format!("rule {}: {e}", run.rule.rule_id))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let specs = compiler.aggregates;
    let now = timestamp::from_datetime(now);

    // Aggregates: one grouping per distinct group-by list, one sweep per aggregate.
    let plain = Context {
        records,
        aggregates: &[],
        now,
    };
    let by_time = if specs.is_empty() {
        Vec::new()
    } else {
        time_order(records)
    };
    let mut keys: Vec<&[schema::Slot]> = Vec::new();
    let mut groupings: Vec<Grouping> = Vec::new();
    let mut grouping_of = Vec::with_capacity(specs.len());
    for spec in &specs {
        let index = match keys.iter().position(|k| *k == spec.group_by.as_slice()) {
            Some(i) => i,
            None => {
                keys.push(&spec.group_by);
                groupings.push(group(records, &spec.group_by, &by_time));
                groupings.len() - 1
            }
        };
        grouping_of.push(index);
    }
    drop(by_time);
    // In order of what they add per record, so aggregates that add the same share it.
    let keys: Vec<String> = specs.iter().map(contribution_key).collect();
    let mut by_key: Vec<usize> = (0..specs.len()).collect();
    by_key.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    let mut truths = vec![Vec::new(); specs.len()];
    let mut values = vec![Vec::new(); specs.len()];
    let mut shared: Option<(&str, Vec<Contribution>)> = None;
    for i in by_key {
        if shared.as_ref().is_none_or(|(key, _)| *key != keys[i]) {
            shared = Some((&keys[i], contributions(&specs[i], records, &plain)));
        }
        let (_, added) = shared.as_ref().expect("computed above");
        let result = compute(&specs[i], records, &groupings[grouping_of[i]], added);
        truths[i] = result.truth;
        values[i] = result.value;
    }
    drop(shared);

    // Rules, most severe first, so the findings kept are the most serious ones.
    let ctx = Context {
        records,
        aggregates: &truths,
        now,
    };
    let explainer = Explainer {
        ctx: &ctx,
        specs: &specs,
        values: &values,
        groupings: &groupings,
        grouping_of: &grouping_of,
    };
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&i| (Reverse(rules[i].rule.severity), i));
    let mut outcomes: Vec<Option<RuleOutcome>> = vec![None; rules.len()];
    let mut findings = Vec::new();
    let mut subjects = Vec::new();
    let mut by_severity = SeverityCounts::default();
    let mut total = 0;
    for i in order {
        let (run, node) = (&rules[i], &nodes[i]);
        let wanted = keep - findings.len();
        let (mut passed, mut failed, mut unknown) = (0u64, 0u64, 0u64);
        let mut failing = Vec::new();
        // A record with none of the fields a rule reads gets the same answer as any other such
        // record (most records of another kind: a customer profile for a transaction rule).
        let reads = node.reads(&specs, records.schema.slot(TIME_FIELD));
        let absent = node.when_absent();
        for r in 0..records.len() {
            let truth = if records.mask(r) & reads == 0 {
                absent
            } else {
                node.eval(r, &ctx)
            };
            match truth {
                Truth::True => passed += 1,
                Truth::Unknown => unknown += 1,
                Truth::False => {
                    failed += 1;
                    if wanted > 0 {
                        failing.push(r);
                    }
                }
            }
        }
        if failing.len() > wanted {
            failing.select_nth_unstable_by(wanted, |a, b| records.compare(*a, *b));
            failing.truncate(wanted);
        }
        failing.sort_by(|a, b| records.compare(*a, *b));
        findings.extend(failing.iter().map(|&r| explainer.finding(run, node, r)));
        subjects.extend(failing.into_iter().map(|r| (i, r)));
        total += failed;
        by_severity.add(run.rule.severity, failed);
        outcomes[i] = Some(outcome(run.rule, passed, failed, unknown));
    }
    let evaluation = Evaluation {
        records: records.len() as u64,
        rules: outcomes
            .into_iter()
            .map(|o| o.expect("every rule"))
            .collect(),
        findings_total: total,
        by_severity,
        findings,
    };
    Ok((evaluation, subjects))
}

/// A rule's outcome from its counts of records passed, failed and not judged.
fn outcome(rule: &Rule, passed: u64, failed: u64, unknown: u64) -> RuleOutcome {
    RuleOutcome {
        rule_id: rule.rule_id.clone(),
        name: rule.name.clone(),
        category: rule.category.clone(),
        severity: rule.severity,
        status: match (failed, passed) {
            (0, 0) => RuleStatus::NotEvaluable,
            (0, _) => RuleStatus::Pass,
            _ => RuleStatus::Fail,
        },
        evaluated: passed + failed,
        findings: failed,
        not_evaluable: unknown,
    }
}
