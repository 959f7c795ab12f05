//! The merge step: part results, in any order, into the evaluation of the whole.

use super::super::merge::Merge;
use super::super::{Evaluation, RuleRun};
use super::manifest::{check_run, Manifest};
use super::part::PartResult;
use super::SpillError;

/// Part results merged one at a time as they arrive (a merge holds the counts and at most twice
/// `keep` findings, however many parts there are).
pub struct Merger<'a, 'r> {
    rules: &'a [RuleRun<'r>],
    manifest: &'a Manifest,
    merge: Merge<String>,
    /// Per class, which parts have been merged.
    seen: Vec<Vec<bool>>,
}

impl<'a, 'r> Merger<'a, 'r> {
    /// A merge of the parts of `manifest`'s run of `rules`, keeping the first `keep` findings.
    pub fn new(
        rules: &'a [RuleRun<'r>],
        manifest: &'a Manifest,
        keep: usize,
    ) -> Result<Self, SpillError> {
        check_run(rules, None, &manifest.fields, &manifest.rule_ids)?;
        Ok(Merger {
            rules,
            manifest,
            merge: Merge::new(rules, keep),
            seen: manifest
                .classes
                .iter()
                .map(|c| vec![false; c.parts.len()])
                .collect(),
        })
    }

    pub fn add(&mut self, part: PartResult) -> Result<(), SpillError> {
        let seen = self
            .seen
            .get_mut(part.class)
            .and_then(|c| c.get_mut(part.part))
            .ok_or_else(|| {
                SpillError::Mismatch(format!(
                    "part {} of class {} is not in the manifest",
                    part.part, part.class
                ))
            })?;
        if std::mem::replace(seen, true) {
            return Err(SpillError::Mismatch(format!(
                "part {} of class {} was merged twice",
                part.part, part.class
            )));
        }
        let class_rules = &self.manifest.classes[part.class].rules;
        for counts in &part.rules {
            if !class_rules.contains(&counts.rule) {
                return Err(SpillError::Mismatch(format!(
                    "rule {} is not of class {}",
                    counts.rule, part.class
                )));
            }
            self.merge.count(
                counts.rule,
                [counts.passed, counts.failed, counts.not_evaluable],
            );
        }
        for finding in part.findings {
            let (rule, key, finding) = finding.exact()?;
            if !class_rules.contains(&rule) {
                return Err(SpillError::Mismatch(format!(
                    "a finding of rule {rule} is not of class {}",
                    part.class
                )));
            }
            self.merge.find(rule, key, finding, String::cmp);
        }
        Ok(())
    }

    /// The evaluation, once every part is merged.
    pub fn finish(self) -> Result<Evaluation, SpillError> {
        for (c, parts) in self.seen.iter().enumerate() {
            if let Some(p) = parts.iter().position(|seen| !seen) {
                return Err(SpillError::Mismatch(format!(
                    "part {p} of class {c} is missing"
                )));
            }
        }
        // Every record is in one part of every class, and each rule in one class.
        for (run, counts) in self.rules.iter().zip(self.merge.counts()) {
            if counts.iter().sum::<u64>() != self.manifest.records {
                return Err(SpillError::Mismatch(format!(
                    "rule {} was counted over {} records of {}",
                    run.rule.rule_id,
                    counts.iter().sum::<u64>(),
                    self.manifest.records
                )));
            }
        }
        Ok(self
            .merge
            .finish(self.rules, self.manifest.records, String::cmp))
    }
}

/// The evaluation of `manifest`'s run of `rules` from its parts' results (in any order):
/// exactly what [`evaluate`](super::super::evaluate) gives over all the records.
pub fn merge(
    rules: &[RuleRun],
    manifest: &Manifest,
    keep: usize,
    parts: impl IntoIterator<Item = PartResult>,
) -> Result<Evaluation, SpillError> {
    let mut merger = Merger::new(rules, manifest, keep)?;
    for part in parts {
        merger.add(part)?;
    }
    merger.finish()
}
