//! One control's verdict: its pass condition applied to the latest scan's evidence.

use chrono::{DateTime, Utc};

use crate::catalog::{CheckType, Control, PassCondition, Severity, STANDARD_PARTIAL_MAX};
use crate::ingest::{PullRequestStats, QualityGate, ScanSummary, SeverityCounts, Signals};

use super::matching;
use super::{ControlResult, ControlStatus, Evidence, Matched, ScanInput};

const SECONDS_PER_DAY: i64 = 86_400;

/// A status with what it was judged on and why.
struct Verdict {
    status: ControlStatus,
    evidence: Evidence,
    reason: String,
}

impl Verdict {
    fn new(status: ControlStatus, evidence: Evidence, reason: String) -> Verdict {
        Verdict {
            status,
            evidence,
            reason,
        }
    }

    /// A judged verdict: the reason ends with the status and the condition it was judged under.
    fn judged(
        status: ControlStatus,
        evidence: Evidence,
        what: String,
        cond: PassCondition,
    ) -> Verdict {
        let reason = format!("{what}: {status} under {cond}");
        Verdict::new(status, evidence, reason)
    }

    fn no_evidence(evidence: Evidence, reason: impl Into<String>) -> Verdict {
        Verdict::new(ControlStatus::NoEvidence, evidence, reason.into())
    }
}

/// The verdict of an enabled control.
pub(super) fn control_result(
    control: &Control,
    scan: Option<&ScanInput>,
    now: DateTime<Utc>,
) -> ControlResult {
    let verdict = match scan {
        None => Verdict::no_evidence(
            Evidence::default(),
            "No scan of this repository yet: run a scan to collect evidence",
        ),
        Some(scan) => judge(control, scan, now),
    };
    result(control, verdict)
}

/// A control the org marked Not Applicable.
pub(super) fn disabled(control: &Control) -> ControlResult {
    result(
        control,
        Verdict::new(
            ControlStatus::Disabled,
            Evidence::default(),
            "Marked not applicable by the org: excluded from scoring".to_string(),
        ),
    )
}

fn result(control: &Control, verdict: Verdict) -> ControlResult {
    ControlResult {
        id: control.id.clone(),
        name: control.name.clone(),
        category: control.category.clone(),
        check_type: control.check_type,
        pass_condition: control.pass_condition.to_string(),
        status: verdict.status,
        evidence: verdict.evidence,
        reason: verdict.reason,
    }
}

fn judge(control: &Control, scan: &ScanInput, now: DateTime<Utc>) -> Verdict {
    let cond = control.pass_condition;
    let signals = &scan.summary.signals;
    match cond {
        PassCondition::NoFindings
        | PassCondition::SeverityCeiling { .. }
        | PassCondition::MaxFindings { .. } => {
            match matching::judged_by_weaknesses(control, scan.summary) {
                Some((mapping, groups)) => {
                    let matched = matching::matched(control.check_type, mapping, groups);
                    judge_matched(control.check_type, cond, matched, scan.summary)
                }
                None => judge_findings(control.check_type, cond, scan.summary),
            }
        }
        PassCondition::ScannedWithinDays(days) => judge_recency(days, scan.completed_at, now),
        PassCondition::QualityGatePassed => judge_gate(signals),
        PassCondition::ReviewRateAtLeast(percent) => {
            judge_merged_prs(signals, |stats, ev| judge_review_rate(percent, stats, ev))
        }
        PassCondition::MinApprovals(n) => {
            judge_merged_prs(signals, |stats, ev| judge_approvals(n, stats, ev))
        }
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

fn judge_findings(check_type: CheckType, cond: PassCondition, summary: &ScanSummary) -> Verdict {
    let counts = summary.counts.get(&check_type).copied().unwrap_or_default();
    let covered = summary.covered.contains(&check_type);
    let evidence = Evidence {
        covered,
        counts: Some(counts),
        ..Evidence::default()
    };
    if !covered {
        let reason = uncovered_reason(check_type.as_str(), &counts, summary);
        return Verdict::no_evidence(evidence, reason);
    }
    let status = finding_status(cond, &counts).unwrap_or(ControlStatus::NoEvidence);
    let what = describe_counts(check_type, &counts);
    let why = why(status, cond, &counts);
    Verdict::judged(status, evidence, format!("{what}{why}"), cond)
}

/// A control judged by its weaknesses, on the findings `matched` counted against it.
fn judge_matched(
    check_type: CheckType,
    cond: PassCondition,
    matched: Matched,
    summary: &ScanSummary,
) -> Verdict {
    let counts = matched.total();
    let covered = matching::covered(check_type, summary);
    let what = describe_matched(check_type, &counts, &matched);
    let evidence = Evidence {
        covered,
        counts: Some(counts),
        matched: Some(matched),
        ..Evidence::default()
    };
    if !covered {
        let scope = if matching::is_sast(check_type) {
            format!("{check_type} or another SAST check type")
        } else {
            check_type.to_string()
        };
        let mut reason = uncovered_reason(&scope, &counts, summary);
        if counts.total() > 0 {
            reason.push_str(&format!(" ({what})"));
        }
        return Verdict::no_evidence(evidence, reason);
    }
    let status = finding_status(cond, &counts).unwrap_or(ControlStatus::NoEvidence);
    let why = why(status, cond, &counts);
    Verdict::judged(status, evidence, format!("{what}{why}"), cond)
}

/// What the condition made of the counts, as a clause to append (`, none critical`).
fn why(status: ControlStatus, cond: PassCondition, counts: &SeverityCounts) -> String {
    match (status, cond) {
        (ControlStatus::Pass, _) if counts.total() == 0 => String::new(),
        (_, PassCondition::NoFindings) => match status {
            ControlStatus::Partial => ", none critical".to_string(),
            _ if counts.critical > 0 => ", a critical one among them".to_string(),
            _ => format!(", more than {STANDARD_PARTIAL_MAX}"),
        },
        (_, PassCondition::SeverityCeiling { at_or_above, .. }) => {
            match counts.at_least(at_or_above) {
                0 => format!(", all below {}", at_or_above.as_str()),
                n => format!(", {n} at or above {}", at_or_above.as_str()),
            }
        }
        (_, PassCondition::MaxFindings { max, .. }) => match status {
            ControlStatus::Pass => format!(", within the budget of {max} and none critical"),
            _ if counts.critical > 0 => ", a critical one among them".to_string(),
            _ => format!(", over the budget of {max}"),
        },
        _ => String::new(),
    }
}

/// "No counted findings matched by CWE or by check type sast_security", or "3 findings (1
/// critical, 2 low): 2 matched by CWE-22, CWE-23, 1 by check type sast_auth".
fn describe_matched(check_type: CheckType, counts: &SeverityCounts, matched: &Matched) -> String {
    let total = counts.total();
    if total == 0 {
        return format!("No counted findings matched by CWE or by check type {check_type}");
    }
    let ids: Vec<String> = matched.cwe.iter().map(|id| format!("CWE-{id}")).collect();
    let by_cwe = match (matched.by_cwe.total(), ids.is_empty()) {
        (n, false) => format!("{n} matched by {}", ids.join(", ")),
        (n, true) => format!("{n} matched by CWE"),
    };
    format!(
        "{total} finding{} ({}): {by_cwe}, {} by check type {check_type}",
        plural_s(total),
        breakdown(counts),
        matched.by_check_type.total()
    )
}

/// "No counted secrets findings" or "3 secrets findings (1 critical, 2 low)".
fn describe_counts(check_type: CheckType, counts: &SeverityCounts) -> String {
    match counts.total() {
        0 => format!("No counted {check_type} findings"),
        total => format!(
            "{total} {check_type} finding{} ({})",
            plural_s(total),
            breakdown(counts)
        ),
    }
}

/// "1 critical, 2 low": the non-zero severities, most severe first.
fn breakdown(counts: &SeverityCounts) -> String {
    Severity::ALL
        .into_iter()
        .rev()
        .filter(|s| counts.get(*s) > 0)
        .map(|s| format!("{} {}", counts.get(s), s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a finding-based control has no evidence; `scope` names what no run covered.
fn uncovered_reason(scope: &str, counts: &SeverityCounts, summary: &ScanSummary) -> String {
    let mut reason = format!("No completed tool run in the latest scan covered {scope}");
    if !summary.failed_tools.is_empty() {
        let n = summary.failed_tools.len();
        reason.push_str(&format!(" ({n} tool run{} failed)", plural_s(n as u64)));
    }
    if counts.total() > 0 {
        reason.push_str(&format!(
            "; its {} reported finding{} cannot be judged without coverage",
            counts.total(),
            plural_s(counts.total())
        ));
    }
    reason
}

fn judge_recency(days: u32, completed_at: DateTime<Utc>, now: DateTime<Utc>) -> Verdict {
    // A scan stamped after `now` (clock skew) is as fresh as can be.
    let age = now.signed_duration_since(completed_at).num_seconds().max(0);
    let limit = i64::from(days) * SECONDS_PER_DAY;
    let (status, why) = if age <= limit {
        (
            ControlStatus::Pass,
            format!("within {}", plural(days.into(), "day")),
        )
    } else if age <= 2 * limit {
        (
            ControlStatus::Partial,
            format!(
                "older than {} but within {}",
                plural(days.into(), "day"),
                plural(2 * u64::from(days), "day")
            ),
        )
    } else {
        (
            ControlStatus::Fail,
            format!("older than {}", plural(2 * u64::from(days), "day")),
        )
    };
    let age = age as u64;
    let evidence = Evidence {
        covered: true,
        scan_age_days: Some(age / SECONDS_PER_DAY as u64),
        scan_age_hours: Some(age / 3600),
        ..Evidence::default()
    };
    let what = format!("Latest scan completed {} ago, {why}", describe_age(age));
    Verdict::judged(
        status,
        evidence,
        what,
        PassCondition::ScannedWithinDays(days),
    )
}

/// "3 days 4 hours", "5 hours", "less than an hour".
fn describe_age(seconds: u64) -> String {
    let days = seconds / SECONDS_PER_DAY as u64;
    let hours = seconds % SECONDS_PER_DAY as u64 / 3600;
    match (days, hours) {
        (0, 0) => "less than an hour".to_string(),
        (0, h) => plural(h, "hour"),
        (d, 0) => plural(d, "day"),
        (d, h) => format!("{} {}", plural(d, "day"), plural(h, "hour")),
    }
}

fn judge_gate(signals: &Signals) -> Verdict {
    let cond = PassCondition::QualityGatePassed;
    let Some(gate) = signals.quality_gate else {
        return Verdict::no_evidence(
            Evidence::default(),
            "The latest scan reported no quality-gate status",
        );
    };
    let evidence = Evidence {
        covered: true,
        quality_gate: Some(gate),
        ..Evidence::default()
    };
    let (status, word) = match gate {
        QualityGate::Passed => (ControlStatus::Pass, "passed"),
        QualityGate::Failed => (ControlStatus::Fail, "failed"),
    };
    let what = format!("The quality gate {word} in the latest scan");
    Verdict::judged(status, evidence, what, cond)
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
            "The latest scan reported no pull-request review stats",
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
            "No pull request was merged in the reporting window",
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
    let what = format!(
        "{reviewed} of {merged} merged pull requests ({}%) had an approving review, target {percent}% \
         (partial from {}%)",
        decimal(evidence.review_rate.unwrap_or_default()),
        decimal(f64::from(percent) * 0.8)
    );
    Verdict::judged(
        status,
        evidence,
        what,
        PassCondition::ReviewRateAtLeast(percent),
    )
}

fn judge_approvals(n: u8, stats: &PullRequestStats, evidence: Evidence) -> Verdict {
    let cond = PassCondition::MinApprovals(n);
    let merged = stats.merged;
    let unapproved = merged - stats.reviewed.min(merged);
    if unapproved > 0 {
        let what = format!("{unapproved} of {merged} merged pull requests had no approving review");
        return Verdict::judged(ControlStatus::Fail, evidence, what, cond);
    }
    if n == 1 {
        let what = format!("All {merged} merged pull requests had an approving review");
        return Verdict::judged(ControlStatus::Pass, evidence, what, cond);
    }
    // Every change was approved, so the fewest approvals m is ≥ 1; a median below N proves m < N.
    match stats.approvals_median {
        Some(median) if median < f64::from(n) => {
            let what = format!(
                "All {merged} merged pull requests were approved, but the median of {} approvals \
                 is below {n}",
                decimal(median)
            );
            Verdict::judged(ControlStatus::Partial, evidence, what, cond)
        }
        _ => Verdict::no_evidence(
            evidence,
            format!(
                "All {merged} merged pull requests were approved, but the scan reports no \
                 per-pull-request approval count to judge {cond}"
            ),
        ),
    }
}

/// "s" unless one.
pub(super) fn plural_s(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// "1 day", "3 days".
fn plural(n: u64, word: &str) -> String {
    format!("{n} {word}{}", plural_s(n))
}

/// At most one decimal, none when whole: 80, 66.7.
fn decimal(x: f64) -> String {
    let rounded = (x * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}
