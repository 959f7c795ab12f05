//! One control's verdict: its pass condition applied to the latest scan's evidence.

use chrono::{DateTime, Utc};

use crate::catalog::{CheckType, Control, PassCondition, STANDARD_PARTIAL_MAX};
use crate::ingest::{PullRequestStats, QualityGate, ScanSummary, SeverityCounts, Signals};

use super::matching;
use super::reason::{MatchedText, Reason};
use super::{
    AttestationEvidence, Attested, ControlStatus, ControlVerdict, Evidence, Matched, ScanInput,
};

const SECONDS_PER_DAY: i64 = 86_400;

/// What every control of one scoring reads of the scan, looked up once: the counts and the
/// coverage per check type, and the scan's age.
pub(super) struct ScanFacts<'a> {
    summary: &'a ScanSummary,
    counts: [SeverityCounts; CheckType::ALL.len()],
    covered: [bool; CheckType::ALL.len()],
    /// Some SAST check type was covered.
    sast_covered: bool,
    /// Whole seconds from the scan's completion to the evaluation (0 for a scan stamped later).
    age: u64,
    /// The findings approved exceptions took out of `summary`.
    excepted: Option<&'a super::Excepted>,
}

impl<'a> ScanFacts<'a> {
    pub(super) fn new(scan: &ScanInput<'a>, now: DateTime<Utc>) -> ScanFacts<'a> {
        let summary = scan.summary;
        let mut counts = [SeverityCounts::default(); CheckType::ALL.len()];
        for (check_type, c) in &summary.counts {
            counts[*check_type as usize] = *c;
        }
        let mut covered = [false; CheckType::ALL.len()];
        for check_type in &summary.covered {
            covered[*check_type as usize] = true;
        }
        let sast_covered = CheckType::ALL
            .into_iter()
            .any(|t| matching::is_sast(t) && covered[t as usize]);
        let age = age_seconds(scan.completed_at, now);
        ScanFacts {
            summary,
            counts,
            covered,
            sast_covered,
            age,
            excepted: scan.excepted,
        }
    }

    fn counts(&self, check_type: CheckType) -> SeverityCounts {
        self.counts[check_type as usize]
    }

    fn covered(&self, check_type: CheckType) -> bool {
        self.covered[check_type as usize]
    }

    /// Whether the latest scan carried evidence for a control judged by weaknesses: a completed
    /// run covered its check type, or — for a SAST check type — any SAST check type (SAST tools
    /// cover the three together, and their findings are split among them by lists that follow
    /// no framework, so any of them may hold the control's weaknesses). Secrets, code-quality,
    /// dependency and infrastructure coverage never stand in for another check type: a secret
    /// scanner that ran says nothing about injection.
    fn covered_for_weaknesses(&self, check_type: CheckType) -> bool {
        self.covered(check_type) || (matching::is_sast(check_type) && self.sast_covered)
    }
}

/// Whole seconds from `completed_at` to `now`; 0 for a scan stamped later (clock skew: as fresh
/// as can be).
pub(super) fn age_seconds(completed_at: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    now.signed_duration_since(completed_at).num_seconds().max(0) as u64
}

/// A status with what it was judged on and why.
struct Verdict {
    status: ControlStatus,
    evidence: Evidence,
    reason: Reason,
}

impl Verdict {
    fn new(status: ControlStatus, evidence: Evidence, reason: Reason) -> Verdict {
        Verdict {
            status,
            evidence,
            reason,
        }
    }

    fn no_evidence(evidence: Evidence, reason: Reason) -> Verdict {
        Verdict::new(ControlStatus::NoEvidence, evidence, reason)
    }
}

/// The verdict of an enabled control (`facts`: the latest scan's, `None` without a scan;
/// `attested`: the org's attestation of it) at `now`.
pub(super) fn control_result<'a>(
    control: &'a Control,
    facts: Option<&ScanFacts>,
    attested: Option<&Attested>,
    now: DateTime<Utc>,
) -> ControlVerdict<'a> {
    let mut verdict = match facts {
        _ if control.pass_condition == PassCondition::Attested => Verdict::no_evidence(
            Evidence::default(),
            Reason::text("Judged by attestation only: the org has not attested this control"),
        ),
        None => Verdict::no_evidence(
            Evidence::default(),
            Reason::text("No scan of this repository yet: run a scan to collect evidence"),
        ),
        Some(facts) => {
            let mut verdict = judge(control, facts);
            let excepted = facts
                .excepted
                .and_then(|e| e.for_control(control, facts.summary));
            if let Some((n, until)) = excepted {
                verdict.evidence.excepted = Some(n);
                verdict.evidence.exceptions_expire_at = until;
                verdict.reason = verdict.reason.with_excepted(n);
            }
            verdict
        }
    };
    if let Some(attested) = attested {
        verdict.attest(
            attested,
            control.pass_condition == PassCondition::Attested,
            now,
        );
    }
    result(control, verdict)
}

impl Verdict {
    /// The control's attestation joins its evidence; without scan evidence, a current one makes
    /// it pass, and an overdue one says so. It never changes what a scan judged.
    fn attest(&mut self, attested: &Attested, manual: bool, now: DateTime<Utc>) {
        self.evidence.attestation = Some(AttestationEvidence::at(attested, now));
        if self.status != ControlStatus::NoEvidence {
            return;
        }
        let counts = attested.counts_at(now);
        if counts {
            self.status = ControlStatus::Pass;
            if let Some(a) = self.evidence.attestation.as_mut() {
                a.by_attestation = true;
            }
        }
        let reason = std::mem::replace(&mut self.reason, Reason::text(""));
        self.reason = reason.attested(attested.due_at, counts, manual);
    }
}

/// A control the org marked Not Applicable.
pub(super) fn disabled(control: &Control) -> ControlVerdict<'_> {
    result(
        control,
        Verdict::new(
            ControlStatus::Disabled,
            Evidence::default(),
            Reason::text("Marked not applicable by the org: excluded from scoring"),
        ),
    )
}

fn result(control: &Control, verdict: Verdict) -> ControlVerdict<'_> {
    ControlVerdict {
        id: &control.id,
        name: &control.name,
        category: &control.category,
        check_type: control.check_type,
        pass_condition: control.pass_condition,
        status: verdict.status,
        evidence: verdict.evidence,
        reason: verdict.reason,
    }
}

fn judge(control: &Control, facts: &ScanFacts) -> Verdict {
    let cond = control.pass_condition;
    let signals = &facts.summary.signals;
    match cond {
        PassCondition::NoFindings
        | PassCondition::SeverityCeiling { .. }
        | PassCondition::MaxFindings { .. } => {
            match matching::judged_by_weaknesses(control, facts.summary) {
                Some((mapping, groups)) => {
                    let matched = matching::matched(control.check_type, mapping, groups);
                    judge_matched(control.check_type, cond, matched, facts)
                }
                None => judge_findings(control.check_type, cond, facts),
            }
        }
        PassCondition::ScannedWithinDays(days) => judge_recency(days, facts.age),
        PassCondition::QualityGatePassed => judge_gate(signals),
        PassCondition::ReviewRateAtLeast(percent) => {
            judge_merged_prs(signals, |stats, ev| judge_review_rate(percent, stats, ev))
        }
        PassCondition::MinApprovals(n) => {
            judge_merged_prs(signals, |stats, ev| judge_approvals(n, stats, ev))
        }
        // Judged before any scan is looked at (`control_result`).
        PassCondition::Attested => unreachable!("a manual control is judged by attestation"),
    }
}

/// The status a finding-based condition gives these counts (the check type being covered).
/// Signal-based conditions are not judged on counts: `None`.
pub(super) fn finding_status(
    cond: PassCondition,
    counts: &SeverityCounts,
) -> Option<ControlStatus> {
    let total = counts.total();
    let status = match cond {
        PassCondition::NoFindings => {
            if total == 0 {
                ControlStatus::Pass
            } else if counts.critical == 0 && total <= u64::from(STANDARD_PARTIAL_MAX) {
                ControlStatus::Partial
            } else {
                ControlStatus::Fail
            }
        }
        PassCondition::SeverityCeiling { at_or_above, .. } => {
            if counts.at_least(at_or_above) > 0 {
                ControlStatus::Fail
            } else if total > 0 {
                ControlStatus::Partial
            } else {
                ControlStatus::Pass
            }
        }
        PassCondition::MaxFindings { max, .. } => {
            if counts.critical == 0 && total <= u64::from(max) {
                ControlStatus::Pass
            } else {
                ControlStatus::Fail
            }
        }
        _ => return None,
    };
    Some(status)
}

fn judge_findings(check_type: CheckType, cond: PassCondition, facts: &ScanFacts) -> Verdict {
    let counts = facts.counts(check_type);
    let covered = facts.covered(check_type);
    let evidence = Evidence {
        covered,
        counts: Some(counts),
        ..Evidence::default()
    };
    if !covered {
        let failed = facts.summary.failed_tools.len();
        let reason = Reason::uncovered(check_type, false, failed, counts, None);
        return Verdict::no_evidence(evidence, reason);
    }
    let status = finding_status(cond, &counts).unwrap_or(ControlStatus::NoEvidence);
    Verdict::new(
        status,
        evidence,
        Reason::counts(check_type, counts, status, cond),
    )
}

/// A control judged by its weaknesses, on the findings `matched` counted against it.
fn judge_matched(
    check_type: CheckType,
    cond: PassCondition,
    matched: Matched,
    facts: &ScanFacts,
) -> Verdict {
    let counts = matched.total();
    let covered = facts.covered_for_weaknesses(check_type);
    let text = MatchedText {
        check_type,
        counts,
        by_cwe: matched.by_cwe.total(),
        by_check_type: matched.by_check_type.total(),
        cwe: matched.cwe.clone(),
    };
    let evidence = Evidence {
        covered,
        counts: Some(counts),
        matched: Some(Box::new(matched)),
        ..Evidence::default()
    };
    if !covered {
        let failed = facts.summary.failed_tools.len();
        let any_sast = matching::is_sast(check_type);
        let reason = Reason::uncovered(check_type, any_sast, failed, counts, Some(text));
        return Verdict::no_evidence(evidence, reason);
    }
    let status = finding_status(cond, &counts).unwrap_or(ControlStatus::NoEvidence);
    Verdict::new(status, evidence, Reason::matched(text, status, cond))
}

/// `age`: whole seconds since the latest scan completed.
fn judge_recency(days: u32, age: u64) -> Verdict {
    let limit = u64::from(days) * SECONDS_PER_DAY as u64;
    let status = if age <= limit {
        ControlStatus::Pass
    } else if age <= 2 * limit {
        ControlStatus::Partial
    } else {
        ControlStatus::Fail
    };
    let evidence = Evidence {
        covered: true,
        scan_age_days: Some(age / SECONDS_PER_DAY as u64),
        scan_age_hours: Some(age / 3600),
        ..Evidence::default()
    };
    Verdict::new(status, evidence, Reason::recency(age, days, status))
}

fn judge_gate(signals: &Signals) -> Verdict {
    let Some(gate) = signals.quality_gate else {
        return Verdict::no_evidence(
            Evidence::default(),
            Reason::text("The latest scan reported no quality-gate status"),
        );
    };
    let evidence = Evidence {
        covered: true,
        quality_gate: Some(gate),
        ..Evidence::default()
    };
    let (status, passed) = match gate {
        QualityGate::Passed => (ControlStatus::Pass, true),
        QualityGate::Failed => (ControlStatus::Fail, false),
    };
    Verdict::new(status, evidence, Reason::gate(passed, status))
}

/// `judge` applied to the pull-request stats when some pull request was merged; otherwise the
/// no-evidence verdict.
fn judge_merged_prs(
    signals: &Signals,
    judge: impl FnOnce(&PullRequestStats, Evidence) -> Verdict,
) -> Verdict {
    let Some(stats) = &signals.pull_requests else {
        return Verdict::no_evidence(
            Evidence::default(),
            Reason::text("The latest scan reported no pull-request review stats"),
        );
    };
    let mut evidence = Evidence {
        covered: true,
        pull_requests: Some(stats.clone()),
        ..Evidence::default()
    };
    if stats.merged == 0 {
        return Verdict::no_evidence(
            evidence,
            Reason::text("No pull request was merged in the reporting window"),
        );
    }
    let reviewed = stats.reviewed.min(stats.merged);
    let rate = f64::from(reviewed) * 100.0 / f64::from(stats.merged);
    evidence.review_rate = Some((rate * 10.0).round() / 10.0);
    judge(stats, evidence)
}

fn judge_review_rate(percent: u8, stats: &PullRequestStats, evidence: Evidence) -> Verdict {
    let merged = u64::from(stats.merged);
    let reviewed = u64::from(stats.reviewed.min(stats.merged));
    let target = u64::from(percent);
    // rate ≥ P  ⇔  reviewed × 100 ≥ P × merged; rate ≥ 4/5 × P  ⇔  reviewed × 500 ≥ 4P × merged.
    let status = if reviewed * 100 >= target * merged {
        ControlStatus::Pass
    } else if reviewed * 500 >= 4 * target * merged {
        ControlStatus::Partial
    } else {
        ControlStatus::Fail
    };
    let rate = evidence.review_rate.unwrap_or_default();
    let reason = Reason::review_rate(reviewed, merged, rate, percent, status);
    Verdict::new(status, evidence, reason)
}

fn judge_approvals(n: u8, stats: &PullRequestStats, evidence: Evidence) -> Verdict {
    let cond = PassCondition::MinApprovals(n);
    let merged = stats.merged;
    let unapproved = merged - stats.reviewed.min(merged);
    if unapproved > 0 {
        let reason = Reason::unapproved(unapproved, merged, cond);
        return Verdict::new(ControlStatus::Fail, evidence, reason);
    }
    if n == 1 {
        let reason = Reason::all_approved(merged, cond);
        return Verdict::new(ControlStatus::Pass, evidence, reason);
    }
    // Every change was approved, so the fewest approvals m is ≥ 1; a median below N proves m < N.
    match stats.approvals_median {
        Some(median) if median < f64::from(n) => {
            let reason = Reason::median_below(merged, median, n, cond);
            Verdict::new(ControlStatus::Partial, evidence, reason)
        }
        _ => Verdict::no_evidence(evidence, Reason::approvals_undecided(merged, cond)),
    }
}
