//! From control verdicts to framework scores, the overall score and the executive summary.

use std::collections::BTreeSet;

use crate::catalog::{CheckType, Framework, Severity};

use super::{
    ControlStatus, ControlVerdict, ExecutiveSummary, FrameworkVerdict, RiskArea, RISK_AREAS_MAX,
};

labels! {
    /// The overall posture band of a score.
    pub enum Posture as "posture" {
        /// 85 and above.
        Strong => "Strong",
        /// 70 to 84.
        Moderate => "Moderate",
        /// 50 to 69.
        Weak => "Weak",
        /// Below 50.
        Critical => "Critical",
    }
}

impl Posture {
    pub fn for_score(score: u32) -> Posture {
        match score {
            85.. => Posture::Strong,
            70..=84 => Posture::Moderate,
            50..=69 => Posture::Weak,
            _ => Posture::Critical,
        }
    }
}

/// `numerator ÷ denominator` rounded to the nearest integer, halves up (`denominator > 0`).
fn round_half_up(numerator: u64, denominator: u64) -> u32 {
    ((2 * numerator + denominator) / (2 * denominator)) as u32
}

/// (pass + ½ × partial) ÷ counted × 100, rounded halves up; `None` when nothing is counted.
/// `counted` includes fail and no_evidence.
pub fn framework_score(pass: u32, partial: u32, counted: u32) -> Option<u32> {
    (counted > 0).then(|| {
        let half_points = 2 * u64::from(pass) + u64::from(partial);
        round_half_up(half_points * 100, 2 * u64::from(counted))
    })
}

/// The average of the scored frameworks' scores, rounded halves up; 0 when none is scored.
pub fn overall_score(scores: impl IntoIterator<Item = Option<u32>>) -> u32 {
    let (sum, n) = scores
        .into_iter()
        .flatten()
        .fold((0u64, 0u64), |(sum, n), s| (sum + u64::from(s), n + 1));
    if n == 0 {
        0
    } else {
        round_half_up(sum, n)
    }
}

/// Counts per status.
#[derive(Default)]
struct Tally {
    pass: u32,
    partial: u32,
    fail: u32,
    no_evidence: u32,
    disabled: u32,
}

impl Tally {
    fn add(&mut self, status: ControlStatus) {
        let slot = match status {
            ControlStatus::Pass => &mut self.pass,
            ControlStatus::Partial => &mut self.partial,
            ControlStatus::Fail => &mut self.fail,
            ControlStatus::NoEvidence => &mut self.no_evidence,
            ControlStatus::Disabled => &mut self.disabled,
        };
        *slot += 1;
    }

    fn counted(&self) -> u32 {
        self.pass + self.partial + self.fail + self.no_evidence
    }
}

pub(super) fn framework_result<'a>(
    framework: &'a Framework,
    controls: Vec<ControlVerdict<'a>>,
) -> FrameworkVerdict<'a> {
    let mut tally = Tally::default();
    for control in &controls {
        tally.add(control.status);
    }
    FrameworkVerdict {
        key: &framework.key,
        name: &framework.name,
        score: framework_score(tally.pass, tally.partial, tally.counted()),
        pass: tally.pass,
        partial: tally.partial,
        // The reference's identity: pass + partial + fail = total. A control without evidence
        // scores as a failure, so it counts as one; `no_evidence` says how many of them.
        fail: tally.fail + tally.no_evidence,
        no_evidence: tally.no_evidence,
        total: tally.counted(),
        disabled: tally.disabled,
        controls,
    }
}

pub(super) fn executive_summary(
    frameworks: &[FrameworkVerdict],
    scanned: bool,
) -> ExecutiveSummary {
    let sum = |f: fn(&FrameworkVerdict) -> u32| frameworks.iter().map(f).sum::<u32>();
    let overall = overall_score(frameworks.iter().map(|f| f.score));
    ExecutiveSummary {
        overall_score: overall,
        total_controls: sum(|f| f.total),
        passing: sum(|f| f.pass),
        partial: sum(|f| f.partial),
        failing: sum(|f| f.fail),
        no_evidence: sum(|f| f.no_evidence),
        posture: Posture::for_score(overall),
        risk_areas: risk_areas(frameworks),
        recommendation: recommendation(frameworks, scanned),
        exceptions: None,
    }
}

/// How severe a failing control is: its worst counted severity and its counts from critical
/// down; a signal-based one (no counts) ranks as a high with none.
fn severity_rank(control: &ControlVerdict) -> (Severity, [u64; 5]) {
    match &control.evidence.counts {
        Some(c) => (
            c.worst().unwrap_or(Severity::Info),
            [c.critical, c.high, c.medium, c.low, c.info],
        ),
        None => (Severity::High, [0; 5]),
    }
}

fn risk_areas(frameworks: &[FrameworkVerdict]) -> Vec<RiskArea> {
    // Most severe first; ties keep framework then control order (the position).
    let mut failing: Vec<_> = frameworks
        .iter()
        .flat_map(|f| f.controls.iter().map(move |c| (f, c)))
        .filter(|(_, c)| c.status == ControlStatus::Fail)
        .enumerate()
        .map(|(position, (f, c))| ((std::cmp::Reverse(severity_rank(c)), position), f, c))
        .collect();
    // The keys are distinct: the first few picked out, then sorted, are those a full stable
    // sort would put first.
    if failing.len() > RISK_AREAS_MAX {
        failing.select_nth_unstable_by_key(RISK_AREAS_MAX - 1, |(key, _, _)| *key);
        failing.truncate(RISK_AREAS_MAX);
    }
    failing.sort_unstable_by_key(|(key, _, _)| *key);
    failing
        .into_iter()
        .map(|(_, f, c)| RiskArea {
            framework: f.key.to_string(),
            control_id: c.id.to_string(),
            name: c.name.to_string(),
            check_type: c.check_type,
            status: c.status,
            reason: c.reason.to_string(),
        })
        .collect()
}

/// The framework with the most controls of `count`'s kind (ties: the lowest score, then input
/// order), if any has one.
fn worst_by<'r, 'a>(
    frameworks: &'r [FrameworkVerdict<'a>],
    count: fn(&FrameworkVerdict) -> u32,
) -> Option<&'r FrameworkVerdict<'a>> {
    frameworks
        .iter()
        .filter(|f| count(f) > 0)
        .fold(None, |best: Option<&FrameworkVerdict>, f| match best {
            Some(b)
                if (count(b), std::cmp::Reverse(b.score))
                    >= (count(f), std::cmp::Reverse(f.score)) =>
            {
                Some(b)
            }
            _ => Some(f),
        })
}

fn recommendation(frameworks: &[FrameworkVerdict], scanned: bool) -> String {
    if frameworks.is_empty() {
        return "Enable a compliance framework to score this repository".to_string();
    }
    if frameworks.iter().all(|f| f.total == 0) {
        return "Every control is marked not applicable: re-enable controls to score this repository"
            .to_string();
    }
    if !scanned {
        return "Run a scan to collect evidence".to_string();
    }
    if let Some(f) = worst_by(frameworks, |f| f.fail - f.no_evidence) {
        return format!("Address failing controls in {}", f.key);
    }
    if let Some(f) = worst_by(frameworks, |f| f.no_evidence) {
        let missing: BTreeSet<CheckType> = f
            .controls
            .iter()
            .filter(|c| c.status == ControlStatus::NoEvidence)
            .map(|c| c.check_type)
            .collect();
        let missing: Vec<&str> = missing.into_iter().map(CheckType::as_str).collect();
        return format!(
            "Collect missing evidence in {} (no evidence for: {})",
            f.key,
            missing.join(", ")
        );
    }
    if let Some(f) = worst_by(frameworks, |f| f.partial) {
        return format!("Resolve partial controls in {}", f.key);
    }
    "Keep scanning: no failing controls".to_string()
}
