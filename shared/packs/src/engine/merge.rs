//! Merging the results of evaluations of parts of a run (threads: `partition`; processes:
//! `spill`) into the one [`Evaluation`] of the whole: counts are added, and the findings kept
//! are the first `keep` of all parts' in canonical order.
//!
//! The whole evaluation keeps, rule after rule (most severe first, then in rule order), the
//! rule's findings in the order of their subject records ([`Records::compare`]) until `keep` are
//! kept: the first `keep` findings of all in the order (rule rank, subject). A part that kept
//! its own first `keep` in that order (as [`super::evaluate`] does) kept every finding of the
//! whole's first `keep` that it holds, so merging what the parts kept loses nothing.
//!
//! How subjects are ordered is the caller's: by index into the whole record set when it is in
//! memory, by a content key when the parts were evaluated elsewhere.
//!
//! [`Records::compare`]: super::records::Records::compare

use std::cmp::{Ordering, Reverse};

use super::{outcome, Evaluation, Finding, RuleRun, SeverityCounts};

/// Parts' counts and first findings, gathered in any order.
pub(crate) struct Merge<K> {
    keep: usize,
    /// Each rule's place in the canonical order of rules.
    rank: Vec<usize>,
    /// Per rule: records passed, failed, not judged.
    counts: Vec<[u64; 3]>,
    /// (rule, subject, finding), at most `keep` after each [`Merge::cut`].
    found: Vec<(usize, K, Finding)>,
}

impl<K> Merge<K> {
    pub(crate) fn new(rules: &[RuleRun], keep: usize) -> Self {
        let mut order: Vec<usize> = (0..rules.len()).collect();
        order.sort_by_key(|&i| (Reverse(rules[i].rule.severity), i));
        let mut rank = vec![0; rules.len()];
        for (place, &i) in order.iter().enumerate() {
            rank[i] = place;
        }
        Merge {
            keep,
            rank,
            counts: vec![[0; 3]; rules.len()],
            found: Vec::new(),
        }
    }

    /// Adds a part's counts for a rule: records passed, failed, not judged.
    pub(crate) fn count(&mut self, rule: usize, counts: [u64; 3]) {
        for (total, n) in self.counts[rule].iter_mut().zip(counts) {
            *total += n;
        }
    }

    /// Each rule's counts so far.
    pub(crate) fn counts(&self) -> &[[u64; 3]] {
        &self.counts
    }

    /// Adds a finding of a part; `cmp` orders subjects. Every `keep` findings past the first
    /// `keep`, the ones no longer among the first are dropped, so a merge of many parts holds at
    /// most twice `keep`.
    pub(crate) fn find(
        &mut self,
        rule: usize,
        subject: K,
        finding: Finding,
        cmp: impl Fn(&K, &K) -> Ordering,
    ) {
        self.found.push((rule, subject, finding));
        if self.found.len() >= self.keep.saturating_mul(2).max(1024) {
            self.cut(cmp);
        }
    }

    /// Keeps the first `keep` findings in canonical order, in that order.
    fn cut(&mut self, cmp: impl Fn(&K, &K) -> Ordering) {
        let rank = &self.rank;
        // Stable: findings of one rule on records of the same content are the same finding.
        self.found
            .sort_by(|a, b| rank[a.0].cmp(&rank[b.0]).then_with(|| cmp(&a.1, &b.1)));
        self.found.truncate(self.keep);
    }

    /// The evaluation of `records` records.
    pub(crate) fn finish(
        mut self,
        rules: &[RuleRun],
        records: u64,
        cmp: impl Fn(&K, &K) -> Ordering,
    ) -> Evaluation {
        self.cut(cmp);
        let mut by_severity = SeverityCounts::default();
        let mut total = 0;
        for (run, &[_, failed, _]) in rules.iter().zip(&self.counts) {
            total += failed;
            by_severity.add(run.rule.severity, failed);
        }
        Evaluation {
            records,
            rules: rules
                .iter()
                .zip(&self.counts)
                .map(|(run, &[passed, failed, unknown])| outcome(run.rule, passed, failed, unknown))
                .collect(),
            findings_total: total,
            by_severity,
            findings: self.found.into_iter().map(|(_, _, f)| f).collect(),
        }
    }
}
