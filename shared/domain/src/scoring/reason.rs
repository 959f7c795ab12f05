//! A control's one-line reason, kept as the facts it states and written out only when shown
//! (serialised, displayed, compared): scoring a repository formats nothing, and a response
//! writes each reason straight into its body.

use std::fmt::{self, Write as _};

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::catalog::{CheckType, PassCondition, Severity, STANDARD_PARTIAL_MAX};
use crate::ingest::SeverityCounts;

use super::ControlStatus;

/// Why a control got its status, in one line. Displays (and serialises) as the text; compares
/// as the text too, with another reason or with a string.
#[derive(Clone)]
pub struct Reason(Why);

#[derive(Clone)]
enum Why {
    /// A fixed sentence.
    Text(&'static str),
    /// What the evidence amounts to, then `: <status> under <condition>`.
    Judged {
        what: What,
        status: ControlStatus,
        cond: PassCondition,
    },
    /// A finding-based control whose check type no completed tool run covered.
    Uncovered(Uncovered),
    /// `min_approvals_<N>` (N ≥ 2): every merged pull request approved, nothing to tell how
    /// many times.
    ApprovalsUndecided { merged: u32, cond: PassCondition },
    /// The reason, then how many of the control's findings approved exceptions set aside.
    Excepted { reason: Box<Why>, excepted: u64 },
    /// No scan evidence (the reason, unless the control is manual), and the control's
    /// attestation: counting (pass by attestation) or overdue.
    Attested {
        reason: Box<Why>,
        due_at: DateTime<Utc>,
        counts: bool,
        manual: bool,
    },
}

#[derive(Clone)]
struct Uncovered {
    check_type: CheckType,
    /// "or another SAST check type" (a SAST control judged by its weaknesses).
    any_sast: bool,
    failed_tools: usize,
    /// The findings reported for the control without coverage.
    counts: SeverityCounts,
    /// For a control judged by its weaknesses: how its findings matched.
    matched: Option<Box<MatchedText>>,
}

/// The counted findings of a control judged by its weaknesses, as its reason tells them.
#[derive(Clone)]
pub(super) struct MatchedText {
    pub check_type: CheckType,
    pub counts: SeverityCounts,
    pub by_cwe: u64,
    pub by_check_type: u64,
    pub cwe: Vec<u32>,
}

#[derive(Clone)]
enum What {
    /// "3 secrets findings (1 critical, 2 low)" and the condition's clause.
    Counts {
        check_type: CheckType,
        counts: SeverityCounts,
    },
    /// "2 findings (2 high): 2 matched by CWE-918, 0 by check type sast_security" and the
    /// condition's clause.
    Matched(Box<MatchedText>),
    /// Whole seconds since the scan completed, against `scanned_within_<days>_days`.
    Recency {
        age: u64,
        days: u32,
    },
    Gate {
        passed: bool,
    },
    ReviewRate {
        reviewed: u64,
        merged: u64,
        rate: f64,
        percent: u8,
    },
    Unapproved {
        unapproved: u32,
        merged: u32,
    },
    AllApproved {
        merged: u32,
    },
    MedianBelow {
        merged: u32,
        median: f64,
        n: u8,
    },
}

impl Reason {
    pub(super) const fn text(text: &'static str) -> Reason {
        Reason(Why::Text(text))
    }

    fn judged(what: What, status: ControlStatus, cond: PassCondition) -> Reason {
        Reason(Why::Judged { what, status, cond })
    }

    /// A finding-based control judged on its check type's `counts`.
    pub(super) fn counts(
        check_type: CheckType,
        counts: SeverityCounts,
        status: ControlStatus,
        cond: PassCondition,
    ) -> Reason {
        Reason::judged(What::Counts { check_type, counts }, status, cond)
    }

    /// A control judged by its weaknesses on the findings `matched` counted against it.
    pub(super) fn matched(
        matched: MatchedText,
        status: ControlStatus,
        cond: PassCondition,
    ) -> Reason {
        Reason::judged(What::Matched(Box::new(matched)), status, cond)
    }

    /// No completed run covered `check_type` (or, `any_sast`, any SAST check type); `counts`
    /// were reported all the same.
    pub(super) fn uncovered(
        check_type: CheckType,
        any_sast: bool,
        failed_tools: usize,
        counts: SeverityCounts,
        matched: Option<MatchedText>,
    ) -> Reason {
        Reason(Why::Uncovered(Uncovered {
            check_type,
            any_sast,
            failed_tools,
            counts,
            matched: matched.map(Box::new),
        }))
    }

    pub(super) fn recency(age: u64, days: u32, status: ControlStatus) -> Reason {
        Reason::judged(
            What::Recency { age, days },
            status,
            PassCondition::ScannedWithinDays(days),
        )
    }

    pub(super) fn gate(passed: bool, status: ControlStatus) -> Reason {
        Reason::judged(
            What::Gate { passed },
            status,
            PassCondition::QualityGatePassed,
        )
    }

    pub(super) fn review_rate(
        reviewed: u64,
        merged: u64,
        rate: f64,
        percent: u8,
        status: ControlStatus,
    ) -> Reason {
        Reason::judged(
            What::ReviewRate {
                reviewed,
                merged,
                rate,
                percent,
            },
            status,
            PassCondition::ReviewRateAtLeast(percent),
        )
    }

    pub(super) fn unapproved(unapproved: u32, merged: u32, cond: PassCondition) -> Reason {
        Reason::judged(
            What::Unapproved { unapproved, merged },
            ControlStatus::Fail,
            cond,
        )
    }

    pub(super) fn all_approved(merged: u32, cond: PassCondition) -> Reason {
        Reason::judged(What::AllApproved { merged }, ControlStatus::Pass, cond)
    }

    pub(super) fn median_below(merged: u32, median: f64, n: u8, cond: PassCondition) -> Reason {
        Reason::judged(
            What::MedianBelow { merged, median, n },
            ControlStatus::Partial,
            cond,
        )
    }

    pub(super) fn approvals_undecided(merged: u32, cond: PassCondition) -> Reason {
        Reason(Why::ApprovalsUndecided { merged, cond })
    }

    /// This reason, saying that `excepted` findings of the control are set aside by exceptions.
    pub(super) fn with_excepted(self, excepted: u64) -> Reason {
        Reason(Why::Excepted {
            reason: Box::new(self.0),
            excepted,
        })
    }

    /// This no-evidence reason with the control's attestation, due at `due_at`: `counts` it
    /// makes the control pass, otherwise it is overdue; a `manual` control has no scan reason.
    pub(super) fn attested(self, due_at: DateTime<Utc>, counts: bool, manual: bool) -> Reason {
        Reason(Why::Attested {
            reason: Box::new(self.0),
            due_at,
            counts,
            manual,
        })
    }

    /// Whether the text is `text`, without building it.
    fn is(&self, text: &str) -> bool {
        let mut rest = Rest(Some(text));
        write!(rest, "{self}").is_ok() && rest.0 == Some("")
    }
}

/// What is left of a text being matched piece by piece; `None` once a piece differed.
struct Rest<'s>(Option<&'s str>);

impl fmt::Write for Rest<'_> {
    fn write_str(&mut self, piece: &str) -> fmt::Result {
        self.0 = self.0.and_then(|rest| rest.strip_prefix(piece));
        match self.0 {
            Some(_) => Ok(()),
            None => Err(fmt::Error),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Text(text) => f.write_str(text),
            Why::Judged { what, status, cond } => {
                what.fmt(f)?;
                match what {
                    What::Counts { counts, .. } => clause(f, *status, *cond, counts)?,
                    What::Matched(m) => clause(f, *status, *cond, &m.counts)?,
                    _ => {}
                }
                write!(f, ": {status} under {cond}")
            }
            Why::Uncovered(u) => {
                f.write_str("No completed tool run in the latest scan covered ")?;
                f.write_str(u.check_type.as_str())?;
                if u.any_sast {
                    f.write_str(" or another SAST check type")?;
                }
                if u.failed_tools > 0 {
                    let n = u.failed_tools as u64;
                    write!(f, " ({n} tool run{} failed)", plural_s(n))?;
                }
                let total = u.counts.total();
                if total > 0 {
                    write!(
                        f,
                        "; its {total} reported finding{} cannot be judged without coverage",
                        plural_s(total)
                    )?;
                    if let Some(m) = &u.matched {
                        f.write_str(" (")?;
                        m.fmt(f)?;
                        f.write_str(")")?;
                    }
                }
                Ok(())
            }
            Why::ApprovalsUndecided { merged, cond } => write!(
                f,
                "All {merged} merged pull requests were approved, but the scan reports no \
                 per-pull-request approval count to judge {cond}"
            ),
            Why::Attested {
                reason,
                due_at,
                counts,
                manual,
            } => {
                let due = due_at.format("%Y-%m-%d");
                match (counts, manual) {
                    (true, true) => write!(f, "Passed by attestation, due for review on {due}"),
                    (true, false) => write!(
                        f,
                        "Passed by attestation, due for review on {due}; no scan evidence: {reason}"
                    ),
                    (false, true) => write!(
                        f,
                        "Attestation overdue since {due}: counts as no evidence until renewed"
                    ),
                    (false, false) => write!(
                        f,
                        "{reason}; the attestation is overdue since {due} and counts for nothing \
                         until renewed"
                    ),
                }
            }
            Why::Excepted { reason, excepted } => write!(
                f,
                "{reason} ({excepted} more finding{} excepted by approved exceptions)",
                plural_s(*excepted)
            ),
        }
    }
}

impl fmt::Display for What {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            What::Counts { check_type, counts } => match counts.total() {
                0 => write!(f, "No counted {check_type} findings"),
                total => {
                    write!(f, "{total} {check_type} finding{} (", plural_s(total))?;
                    breakdown(f, counts)?;
                    f.write_str(")")
                }
            },
            What::Matched(m) => m.fmt(f),
            What::Recency { age, days } => {
                let (age, days) = (*age, u64::from(*days));
                let limit = days * SECONDS_PER_DAY;
                f.write_str("Latest scan completed ")?;
                describe_age(f, age)?;
                f.write_str(" ago, ")?;
                if age <= limit {
                    f.write_str("within ")?;
                    plural(f, days, "day")
                } else if age <= 2 * limit {
                    f.write_str("older than ")?;
                    plural(f, days, "day")?;
                    f.write_str(" but within ")?;
                    plural(f, 2 * days, "day")
                } else {
                    f.write_str("older than ")?;
                    plural(f, 2 * days, "day")
                }
            }
            What::Gate { passed } => write!(
                f,
                "The quality gate {} in the latest scan",
                if *passed { "passed" } else { "failed" }
            ),
            What::ReviewRate {
                reviewed,
                merged,
                rate,
                percent,
            } => {
                write!(f, "{reviewed} of {merged} merged pull requests (")?;
                decimal(f, *rate)?;
                write!(
                    f,
                    "%) had an approving review, target {percent}% (partial from "
                )?;
                decimal(f, f64::from(*percent) * 0.8)?;
                f.write_str("%)")
            }
            What::Unapproved { unapproved, merged } => write!(
                f,
                "{unapproved} of {merged} merged pull requests had no approving review"
            ),
            What::AllApproved { merged } => {
                write!(
                    f,
                    "All {merged} merged pull requests had an approving review"
                )
            }
            What::MedianBelow { merged, median, n } => {
                write!(
                    f,
                    "All {merged} merged pull requests were approved, but the median of "
                )?;
                decimal(f, *median)?;
                write!(f, " approvals is below {n}")
            }
        }
    }
}

impl fmt::Display for MatchedText {
    /// "No counted findings matched by CWE or by check type sast_security", or "3 findings (1
    /// critical, 2 low): 2 matched by CWE-22, CWE-23, 1 by check type sast_auth".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let check_type = self.check_type;
        let total = self.counts.total();
        if total == 0 {
            return write!(
                f,
                "No counted findings matched by CWE or by check type {check_type}"
            );
        }
        write!(f, "{total} finding{} (", plural_s(total))?;
        breakdown(f, &self.counts)?;
        write!(f, "): {} matched by ", self.by_cwe)?;
        if self.cwe.is_empty() {
            f.write_str("CWE")?;
        }
        for (i, id) in self.cwe.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "CWE-{id}")?;
        }
        write!(f, ", {} by check type {check_type}", self.by_check_type)
    }
}

const SECONDS_PER_DAY: u64 = 86_400;

/// What the condition made of the counts, as a clause to append (`, none critical`).
fn clause(
    f: &mut fmt::Formatter<'_>,
    status: ControlStatus,
    cond: PassCondition,
    counts: &SeverityCounts,
) -> fmt::Result {
    match (status, cond) {
        (ControlStatus::Pass, _) if counts.total() == 0 => Ok(()),
        (_, PassCondition::NoFindings) => match status {
            ControlStatus::Partial => f.write_str(", none critical"),
            _ if counts.critical > 0 => f.write_str(", a critical one among them"),
            _ => write!(f, ", more than {STANDARD_PARTIAL_MAX}"),
        },
        (_, PassCondition::SeverityCeiling { at_or_above, .. }) => {
            match counts.at_least(at_or_above) {
                0 => write!(f, ", all below {}", at_or_above.as_str()),
                n => write!(f, ", {n} at or above {}", at_or_above.as_str()),
            }
        }
        (_, PassCondition::MaxFindings { max, .. }) => match status {
            ControlStatus::Pass => write!(f, ", within the budget of {max} and none critical"),
            _ if counts.critical > 0 => f.write_str(", a critical one among them"),
            _ => write!(f, ", over the budget of {max}"),
        },
        _ => Ok(()),
    }
}

/// "1 critical, 2 low": the non-zero severities, most severe first.
fn breakdown(f: &mut fmt::Formatter<'_>, counts: &SeverityCounts) -> fmt::Result {
    let mut first = true;
    for severity in Severity::ALL.into_iter().rev() {
        let n = counts.get(severity);
        if n > 0 {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{n} {}", severity.as_str())?;
        }
    }
    Ok(())
}

/// "3 days 4 hours", "5 hours", "less than an hour".
fn describe_age(f: &mut fmt::Formatter<'_>, seconds: u64) -> fmt::Result {
    let days = seconds / SECONDS_PER_DAY;
    let hours = seconds % SECONDS_PER_DAY / 3600;
    match (days, hours) {
        (0, 0) => f.write_str("less than an hour"),
        (0, h) => plural(f, h, "hour"),
        (d, 0) => plural(f, d, "day"),
        (d, h) => {
            plural(f, d, "day")?;
            f.write_str(" ")?;
            plural(f, h, "hour")
        }
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
fn plural(f: &mut fmt::Formatter<'_>, n: u64, word: &str) -> fmt::Result {
    write!(f, "{n} {word}{}", plural_s(n))
}

/// At most one decimal, none when whole: 80, 66.7.
fn decimal(f: &mut fmt::Formatter<'_>, x: f64) -> fmt::Result {
    let rounded = (x * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        write!(f, "{rounded:.0}")
    } else {
        write!(f, "{rounded:.1}")
    }
}

impl fmt::Debug for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_string(), f)
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl PartialEq for Reason {
    fn eq(&self, other: &Reason) -> bool {
        self.is(&other.to_string())
    }
}

impl Eq for Reason {}

impl PartialEq<str> for Reason {
    fn eq(&self, other: &str) -> bool {
        self.is(other)
    }
}

impl PartialEq<&str> for Reason {
    fn eq(&self, other: &&str) -> bool {
        self.is(other)
    }
}

impl PartialEq<String> for Reason {
    fn eq(&self, other: &String) -> bool {
        self.is(other)
    }
}

impl From<Reason> for String {
    fn from(reason: Reason) -> String {
        reason.to_string()
    }
}
