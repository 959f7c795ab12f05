//! Attestations: a person's statement that a control holds (a policy reviewed, an access review
//! done), true from the day its evidence became true and due for review after an interval. The
//! state shown is the clock's: `current`, `due_soon` in the last [`DUE_SOON_DAYS`] before the due
//! date, `overdue` from the due date on, with no job to move it.
//!
//! How an attestation judges a control (module documentation of [`crate::scoring`], "Judged by
//! attestation"): a control of check type `manual` is judged by its attestation only; any other
//! control with no scan evidence passes by a current (or due-soon) attestation; an attestation
//! never overrides what a scan found (pass, partial or fail stays), and an overdue one counts as
//! no evidence.

use chrono::{DateTime, Duration, Months, Utc};
use serde::Serialize;

/// The last days before the due date, when an attestation still counts but asks for review.
pub const DUE_SOON_DAYS: i64 = 30;
/// How far ahead of now an `effective_at` is still taken as now.
pub const CLOCK_SKEW_MINUTES: i64 = 5;

labels! {
    /// How often an attestation must be renewed.
    pub enum ReviewInterval as "review interval" {
        Monthly => "monthly",
        Quarterly => "quarterly",
        SemiAnnual => "semi_annual",
        Annual => "annual",
    }
}

impl ReviewInterval {
    pub fn months(self) -> u32 {
        match self {
            ReviewInterval::Monthly => 1,
            ReviewInterval::Quarterly => 3,
            ReviewInterval::SemiAnnual => 6,
            ReviewInterval::Annual => 12,
        }
    }

    /// When evidence that became true at `effective_at` is due for review: the same day of the
    /// month, that many calendar months later (the month's last day when it has no such day).
    pub fn due_after(self, effective_at: DateTime<Utc>) -> DateTime<Utc> {
        effective_at
            .checked_add_months(Months::new(self.months()))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

labels! {
    /// Where an attestation stands at some time.
    pub enum AttestationState as "attestation state" {
        Current => "current",
        /// Counts, and is due for review within [`DUE_SOON_DAYS`].
        DueSoon => "due_soon",
        /// Past its due date: counts as no evidence.
        Overdue => "overdue",
    }
}

/// What scoring needs of a control's attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Attested {
    #[serde(with = "crate::time::micros")]
    pub effective_at: DateTime<Utc>,
    #[serde(with = "crate::time::micros")]
    pub due_at: DateTime<Utc>,
}

impl Attested {
    pub fn new(effective_at: DateTime<Utc>, interval: ReviewInterval) -> Attested {
        Attested {
            effective_at,
            due_at: interval.due_after(effective_at),
        }
    }

    /// When it turns due soon: 30 days before its due date, or a third of its interval when
    /// that is shorter (a monthly attestation would otherwise never be current).
    pub fn due_soon_from(&self) -> DateTime<Utc> {
        let window = Duration::days(DUE_SOON_DAYS).min((self.due_at - self.effective_at) / 3);
        self.due_at - window
    }

    pub fn state_at(&self, now: DateTime<Utc>) -> AttestationState {
        if now >= self.due_at {
            AttestationState::Overdue
        } else if now >= self.due_soon_from() {
            AttestationState::DueSoon
        } else {
            AttestationState::Current
        }
    }

    /// Whether it stands for evidence at `now`: current or due soon, and already in effect (a
    /// scan judged as of an earlier time is not passed by a later statement; clocks may
    /// disagree by [`CLOCK_SKEW_MINUTES`]).
    pub fn counts_at(&self, now: DateTime<Utc>) -> bool {
        now + Duration::minutes(CLOCK_SKEW_MINUTES) >= self.effective_at
            && self.state_at(now) != AttestationState::Overdue
    }

    /// The next time after `now` its state changes (`None`: once overdue, it stays so).
    pub fn next_change(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        [self.due_soon_from(), self.due_at]
            .into_iter()
            .find(|t| *t > now)
    }
}

/// One control's attestation, as a framework's scoring takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestedControl {
    pub control_id: String,
    pub attested: Attested,
}

/// The attestation of `control_id` among `attested`, sorted by control id.
pub(super) fn find<'a>(attested: &'a [AttestedControl], control_id: &str) -> Option<&'a Attested> {
    attested
        .binary_search_by(|a| a.control_id.as_str().cmp(control_id))
        .ok()
        .map(|i| &attested[i].attested)
}

/// A control's attestation as its evidence shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AttestationEvidence {
    pub state: AttestationState,
    /// Whether the control's status is the attestation's: it passes by a current attestation,
    /// having no scan evidence (or being `manual`).
    pub by_attestation: bool,
    #[serde(with = "crate::time::micros")]
    pub effective_at: DateTime<Utc>,
    #[serde(with = "crate::time::micros")]
    pub due_at: DateTime<Utc>,
}

impl AttestationEvidence {
    pub fn at(attested: &Attested, now: DateTime<Utc>) -> AttestationEvidence {
        AttestationEvidence {
            state: attested.state_at(now),
            by_attestation: false,
            effective_at: attested.effective_at,
            due_at: attested.due_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::catalog::{CheckType, Framework, PassCondition};
    use crate::ingest::Signals;
    use crate::scoring::testkit::{self, control, counts, default_control, framework};
    use crate::scoring::{score, ControlResult, ControlStatus, FrameworkInput, ScanInput};

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn due_dates_are_calendar_months_later() {
        let jan31 = at(2026, 1, 31);
        assert_eq!(ReviewInterval::Monthly.due_after(jan31), at(2026, 2, 28));
        assert_eq!(ReviewInterval::Quarterly.due_after(jan31), at(2026, 4, 30));
        assert_eq!(ReviewInterval::SemiAnnual.due_after(jan31), at(2026, 7, 31));
        assert_eq!(ReviewInterval::Annual.due_after(jan31), at(2027, 1, 31));
    }

    #[test]
    fn the_state_follows_the_clock() {
        let a = Attested::new(at(2026, 1, 1), ReviewInterval::Quarterly);
        assert_eq!(a.due_at, at(2026, 4, 1));
        assert_eq!(a.state_at(at(2026, 1, 1)), AttestationState::Current);
        let soon = at(2026, 4, 1) - Duration::days(DUE_SOON_DAYS);
        assert_eq!(
            a.state_at(soon - Duration::seconds(1)),
            AttestationState::Current
        );
        assert_eq!(a.state_at(soon), AttestationState::DueSoon);
        assert!(a.counts_at(at(2026, 4, 1) - Duration::seconds(1)));
        assert_eq!(a.state_at(at(2026, 4, 1)), AttestationState::Overdue);
        assert!(!a.counts_at(at(2026, 4, 1)));
        assert_eq!(a.next_change(at(2026, 1, 1)), Some(soon));
        assert_eq!(a.next_change(soon), Some(at(2026, 4, 1)));
        assert_eq!(a.next_change(at(2026, 4, 1)), None);
    }

    #[test]
    fn a_monthly_attestation_is_current_for_two_thirds_of_its_month() {
        let a = Attested::new(at(2026, 1, 1), ReviewInterval::Monthly);
        assert_eq!(a.state_at(at(2026, 1, 2)), AttestationState::Current);
        assert_eq!(a.state_at(at(2026, 1, 22)), AttestationState::DueSoon);
        assert_eq!(a.state_at(at(2026, 2, 1)), AttestationState::Overdue);
    }

    #[test]
    fn an_attestation_counts_from_when_it_took_effect() {
        let a = Attested::new(at(2026, 3, 1), ReviewInterval::Annual);
        assert!(
            !a.counts_at(at(2026, 2, 20)),
            "a scan of before it was true"
        );
        assert!(
            a.counts_at(at(2026, 3, 1) - Duration::minutes(4)),
            "clock skew"
        );
        assert!(a.counts_at(at(2026, 3, 2)));
    }

    #[test]
    fn attestations_are_found_by_control_id() {
        let a = Attested::new(at(2026, 1, 1), ReviewInterval::Annual);
        let list = vec![
            AttestedControl {
                control_id: "AC-1".into(),
                attested: a,
            },
            AttestedControl {
                control_id: "AC-2".into(),
                attested: a,
            },
        ];
        assert!(find(&list, "AC-2").is_some());
        assert!(find(&list, "AC-3").is_none());
    }

    /// A manual control (POL-1), a secrets control (SEC-1) and an IaC control (IAC-1).
    fn policies() -> Framework {
        framework(
            "policies",
            vec![
                control("POL-1", CheckType::Manual, PassCondition::Attested),
                default_control("SEC-1", CheckType::Secrets),
                default_control("IAC-1", CheckType::IacIssues),
            ],
        )
    }

    /// Each control's verdict at `now`, with these attestations, against a scan covering
    /// secrets (with `secrets` findings) and not IaC; or no scan.
    fn judged(
        attested: &[AttestedControl],
        secrets: u64,
        scanned: bool,
        now: DateTime<Utc>,
    ) -> Vec<ControlResult> {
        let f = policies();
        let summary = testkit::summary(
            &[CheckType::Secrets],
            &[(CheckType::Secrets, counts(0, secrets, 0, 0, 0))],
            Signals::default(),
        );
        let scan = ScanInput {
            summary: &summary,
            completed_at: now,
            excepted: None,
        };
        let input = [FrameworkInput {
            framework: &f,
            disabled: &[],
            attested,
        }];
        let report = score(&input, scanned.then_some(&scan), now);
        report.frameworks["policies"].controls.clone()
    }

    fn attested(ids: &[&str], effective_at: DateTime<Utc>) -> Vec<AttestedControl> {
        ids.iter()
            .map(|id| AttestedControl {
                control_id: id.to_string(),
                attested: Attested::new(effective_at, ReviewInterval::Quarterly),
            })
            .collect()
    }

    #[test]
    fn a_manual_control_is_judged_by_its_attestation_only() {
        let now = at(2026, 6, 1);
        let none = judged(&[], 0, true, now);
        assert_eq!(none[0].status, ControlStatus::NoEvidence);
        assert!(
            none[0].reason.contains("has not attested"),
            "{}",
            none[0].reason
        );
        for scanned in [true, false] {
            let current = judged(&attested(&["POL-1"], at(2026, 5, 1)), 0, scanned, now);
            assert_eq!(current[0].status, ControlStatus::Pass);
            assert_eq!(
                current[0].reason,
                "Passed by attestation, due for review on 2026-08-01"
            );
            let evidence = current[0].evidence.attestation.unwrap();
            assert_eq!(evidence.state, AttestationState::Current);
            assert_eq!(evidence.due_at, at(2026, 8, 1));
        }
        let due_soon = judged(&attested(&["POL-1"], at(2026, 3, 15)), 0, true, now);
        assert_eq!(due_soon[0].status, ControlStatus::Pass);
        assert_eq!(
            due_soon[0].evidence.attestation.unwrap().state,
            AttestationState::DueSoon
        );
        let overdue = judged(&attested(&["POL-1"], at(2026, 3, 1)), 0, true, now);
        assert_eq!(overdue[0].status, ControlStatus::NoEvidence);
        assert_eq!(
            overdue[0].reason,
            "Attestation overdue since 2026-06-01: counts as no evidence until renewed"
        );
    }

    #[test]
    fn an_attestation_stands_in_only_where_scans_have_no_evidence() {
        let now = at(2026, 6, 1);
        let all = attested(&["IAC-1", "POL-1", "SEC-1"], at(2026, 5, 1));
        let with = judged(&all, 5, true, now);
        // A scan that fails the control is never overridden.
        assert_eq!(with[1].status, ControlStatus::Fail);
        assert!(!with[1].evidence.attestation.unwrap().by_attestation);
        // Nothing covered IaC: the attestation makes it pass, and says what the scan lacked.
        assert_eq!(with[2].status, ControlStatus::Pass);
        assert!(with[2].evidence.attestation.unwrap().by_attestation);
        assert!(
            with[2]
                .reason
                .starts_with("Passed by attestation, due for review on 2026-08-01; no scan evidence: No completed tool run"),
            "{}",
            with[2].reason
        );
        // A passing scan stays a pass by the scan.
        let clean = judged(&all, 0, true, now);
        assert_eq!(clean[1].status, ControlStatus::Pass);
        assert!(!clean[1].reason.contains("attestation"));
        // Never scanned: the attestation is the evidence.
        let unscanned = judged(&all, 0, false, now);
        assert!(unscanned.iter().all(|c| c.status == ControlStatus::Pass));
        // Overdue: back to no evidence, saying why.
        let late = judged(&all, 0, true, at(2026, 8, 1));
        assert_eq!(late[2].status, ControlStatus::NoEvidence);
        assert!(
            late[2].reason.contains("overdue since 2026-08-01"),
            "{}",
            late[2].reason
        );
    }
}
