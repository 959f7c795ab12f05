//! The evaluate step: one partition file read back and its class's rules evaluated.

use std::io::Read;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::super::records::Records;
use super::super::{evaluate_with_subjects, Finding, RuleRun, Schema};
use super::codec::{decode, order_key, Recent};
use super::manifest::{check_run, PartTask};
use super::SpillError;

/// A rule's counts in one part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCounts {
    /// The rule, as an index into the run's rules.
    pub rule: usize,
    pub passed: u64,
    pub failed: u64,
    pub not_evaluable: u64,
}

/// A finding of a part, with what merging needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartFinding {
    /// The rule, as an index into the run's rules.
    pub rule: usize,
    /// The subject record's order key (hex): findings of a rule are in the order of their keys.
    pub key: String,
    pub finding: Finding,
    /// Every floating-point number of the finding (its group's and observations' values, then
    /// its threshold), as bits. JSON writes a float in its shortest form, which serde_json reads
    /// back to the nearest float only with its `float_roundtrip` feature (off in this
    /// workspace, and dearer for every upload's amounts): a value such as an average could come
    /// back a unit in the last place off, and the merged evaluation would not be the
    /// evaluation. The merge puts these back.
    pub floats: Vec<u64>,
}

impl PartFinding {
    pub(crate) fn new(rule: usize, key: String, mut finding: Finding) -> Self {
        let mut floats = Vec::new();
        for_each_float_mut(&mut finding, &mut |x| floats.push(x.to_bits()));
        PartFinding {
            rule,
            key,
            finding,
            floats,
        }
    }

    /// The finding with its floats exactly as evaluated.
    pub(crate) fn exact(mut self) -> Result<(usize, String, Finding), SpillError> {
        let mut floats = std::mem::take(&mut self.floats).into_iter();
        let mut missing = false;
        for_each_float_mut(&mut self.finding, &mut |x| match floats.next() {
            Some(bits) => *x = f64::from_bits(bits),
            None => missing = true,
        });
        if missing || floats.next().is_some() {
            return Err(SpillError::Mismatch(format!(
                "a finding of rule {} does not have the floats it was sent with",
                self.finding.rule_id
            )));
        }
        Ok((self.rule, self.key, self.finding))
    }
}

/// The finding's floats, in an order JSON keeps: values in their arrays' order and their maps'
/// key order, observations in order, the threshold last.
fn for_each_float_mut(finding: &mut Finding, f: &mut impl FnMut(&mut f64)) {
    fn walk(v: &mut Value, f: &mut impl FnMut(&mut f64)) {
        match v {
            Value::Number(n) if n.is_f64() => {
                let mut x = n.as_f64().expect("a float");
                f(&mut x);
                if let Some(exact) = serde_json::Number::from_f64(x) {
                    *n = exact;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, f)),
            Value::Object(map) => map.values_mut().for_each(|i| walk(i, f)),
            _ => {}
        }
    }
    for v in finding.group.iter_mut().flat_map(|g| g.values_mut()) {
        walk(v, f);
    }
    for o in &mut finding.observed {
        walk(&mut o.value, f);
    }
    if let Some(t) = &mut finding.threshold {
        f(t);
    }
}

/// What one part found: its rules' counts and their first `keep` findings in canonical order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartResult {
    pub class: usize,
    pub part: usize,
    pub records: u64,
    pub rules: Vec<RuleCounts>,
    pub findings: Vec<PartFinding>,
}

/// Input read per step: records are decoded a block at a time.
const BLOCK: usize = 1 << 20;

/// Evaluates the partition file `task` names, read from `file`, with the run's `rules` and
/// `schema` (those given to [`partition`](super::partition)), at `now`, keeping the first
/// `keep` findings.
pub fn evaluate_part(
    rules: &[RuleRun],
    schema: &Schema,
    task: &PartTask,
    mut file: impl Read,
    now: DateTime<Utc>,
    keep: usize,
) -> Result<PartResult, SpillError> {
    check_run(rules, Some(schema), &task.fields, &task.rule_ids)?;
    let corrupt = || SpillError::Mismatch(format!("{}: not a whole partition file", task.file));
    let mut records = Records::new(schema);
    let mut recent = Recent::new(&records);
    let mut buf = Vec::with_capacity(BLOCK);
    loop {
        let n = (&mut file)
            .take(BLOCK as u64)
            .read_to_end(&mut buf)
            .map_err(SpillError::io(std::path::PathBuf::from(&task.file)))?;
        let used = decode(&buf, &mut records, &mut recent).map_err(|_| corrupt())?;
        buf.drain(..used);
        if n == 0 {
            break;
        }
    }
    if !buf.is_empty() || records.len() as u64 != task.records {
        return Err(corrupt());
    }
    drop(buf);
    let runs: Vec<RuleRun> = task
        .rules
        .iter()
        .map(|&i| rules.get(i).copied().ok_or_else(corrupt))
        .collect::<Result<_, _>>()?;
    let (evaluation, subjects) =
        evaluate_with_subjects(&runs, &records, now, keep).map_err(SpillError::Rules)?;
    Ok(PartResult {
        class: task.class,
        part: task.part,
        records: records.len() as u64,
        rules: task
            .rules
            .iter()
            .zip(&evaluation.rules)
            .map(|(&rule, o)| RuleCounts {
                rule,
                passed: o.evaluated - o.findings,
                failed: o.findings,
                not_evaluable: o.not_evaluable,
            })
            .collect(),
        findings: subjects
            .into_iter()
            .zip(evaluation.findings)
            .map(|((rule, r), finding)| {
                PartFinding::new(task.rules[rule], order_key(&records, r), finding)
            })
            .collect(),
    })
}
