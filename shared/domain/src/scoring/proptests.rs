//! Properties of the engine over random catalogs, settings and scans.

use chrono::Duration;
use proptest::prelude::*;

use super::testkit::*;
use super::*;
use crate::catalog::{Control, FindingNoun, PassCondition, Severity};
use crate::ingest::{PullRequestStats, QualityGate, Signals};

fn check_type() -> impl Strategy<Value = CheckType> {
    prop::sample::select(CheckType::ALL.to_vec())
}

fn severity() -> impl Strategy<Value = Severity> {
    prop::sample::select(Severity::ALL.to_vec())
}

/// A condition valid for `ct`.
fn condition(ct: CheckType) -> BoxedStrategy<PassCondition> {
    match (ct, FindingNoun::for_check_type(ct)) {
        (_, Some(noun)) => prop_oneof![
            Just(PassCondition::NoFindings),
            prop::sample::select(vec![
                Severity::Critical,
                Severity::High,
                Severity::Medium,
                Severity::Low
            ])
            .prop_map(move |at_or_above| PassCondition::SeverityCeiling { at_or_above, noun }),
            (0u32..6).prop_map(move |max| PassCondition::MaxFindings { max, noun }),
        ]
        .boxed(),
        (CheckType::ScanRecency, None) => (1u32..30)
            .prop_map(PassCondition::ScannedWithinDays)
            .boxed(),
        (CheckType::QualityGates, None) => Just(PassCondition::QualityGatePassed).boxed(),
        (_, None) => prop_oneof![
            (1u8..=100).prop_map(PassCondition::ReviewRateAtLeast),
            (1u8..=10).prop_map(PassCondition::MinApprovals),
        ]
        .boxed(),
    }
}

fn controls() -> impl Strategy<Value = Vec<Control>> {
    prop::collection::vec(
        check_type().prop_flat_map(|ct| (Just(ct), condition(ct))),
        0..10,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .enumerate()
            .map(|(i, (ct, cond))| control(&format!("C{i}"), ct, cond))
            .collect()
    })
}

/// Frameworks with distinct keys, each with its disabled flags per control.
fn frameworks() -> impl Strategy<Value = Vec<(Framework, Vec<String>)>> {
    prop::collection::vec(
        controls().prop_flat_map(|cs| {
            let n = cs.len();
            (
                Just(cs),
                prop::collection::vec(prop::bool::weighted(0.2), n),
            )
        }),
        0..4,
    )
    .prop_map(|fws| {
        fws.into_iter()
            .enumerate()
            .map(|(i, (cs, off))| {
                let disabled = cs
                    .iter()
                    .zip(off)
                    .filter(|(_, off)| *off)
                    .map(|(c, _)| c.id.clone())
                    .collect();
                (framework(&format!("fw{i}"), cs), disabled)
            })
            .collect()
    })
}

fn small_counts() -> impl Strategy<Value = SeverityCounts> {
    let n = || prop_oneof![3 => Just(0u64), 1 => 0u64..4];
    (n(), n(), n(), n(), n()).prop_map(|(c, h, m, l, i)| counts(c, h, m, l, i))
}

fn signals() -> impl Strategy<Value = Signals> {
    let gate = prop::option::of(prop::sample::select(vec![
        QualityGate::Passed,
        QualityGate::Failed,
    ]));
    let prs = prop::option::of((0u32..20).prop_flat_map(|merged| {
        (
            Just(merged),
            0..=merged,
            prop::option::of((0u32..8).prop_map(|m| f64::from(m) / 2.0)),
        )
    }));
    (gate, prs).prop_map(|(quality_gate, prs)| Signals {
        quality_gate,
        pull_requests: prs.map(|(merged, reviewed, approvals_median)| PullRequestStats {
            merged,
            reviewed,
            approvals_median,
        }),
        ..Signals::default()
    })
}

/// A scan summary, or none, with its age in hours.
fn scan() -> impl Strategy<Value = Option<(ScanSummary, i64)>> {
    let finding_types = finding_types();
    let n = finding_types.len();
    prop::option::weighted(
        0.9,
        (
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec(small_counts(), n),
            signals(),
            0i64..(24 * 70),
        )
            .prop_map(move |(covered, counted, signals, age_hours)| {
                let covered: Vec<CheckType> = finding_types
                    .iter()
                    .zip(&covered)
                    .filter(|(_, c)| **c)
                    .map(|(ct, _)| *ct)
                    .collect();
                let counted: Vec<(CheckType, SeverityCounts)> =
                    finding_types.iter().copied().zip(counted).collect();
                (summary(&covered, &counted, signals), age_hours)
            }),
    )
}

fn run_all(fws: &[(Framework, Vec<String>)], scan: &Option<(ScanSummary, i64)>) -> Report {
    let fws: Vec<(&Framework, &[String])> = fws.iter().map(|(f, d)| (f, &d[..])).collect();
    run(
        &fws,
        scan.as_ref()
            .map(|(s, age)| (s, now() - Duration::hours(*age))),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn scores_stay_within_0_to_100_and_counts_add_up(fws in frameworks(), scan in scan()) {
        let report = run_all(&fws, &scan);
        let e = &report.executive_summary;
        prop_assert!(e.overall_score <= 100);
        prop_assert_eq!(e.posture, Posture::for_score(e.overall_score));
        prop_assert!(e.risk_areas.len() <= RISK_AREAS_MAX);
        // The reference's identity; no_evidence is a part of failing.
        prop_assert_eq!(e.total_controls, e.passing + e.partial + e.failing);
        prop_assert!(e.no_evidence <= e.failing);
        for f in report.frameworks.values() {
            prop_assert!(f.score.is_none_or(|s| s <= 100));
            prop_assert_eq!(f.total, f.pass + f.partial + f.fail);
            prop_assert!(f.no_evidence <= f.fail);
            let without_evidence = f.controls.iter().filter(|c| c.status == ControlStatus::NoEvidence).count();
            prop_assert_eq!(f.no_evidence as usize, without_evidence);
            prop_assert_eq!(f.controls.len() as u32, f.total + f.disabled);
            prop_assert_eq!(f.score, framework_score(f.pass, f.partial, f.total));
        }
    }

    #[test]
    fn missing_coverage_or_scan_is_never_a_pass(fws in frameworks(), scan in scan()) {
        let report = run_all(&fws, &scan);
        for f in report.frameworks.values() {
            for c in &f.controls {
                let uncovered = c.check_type.is_finding_based()
                    && scan.as_ref().is_none_or(|(s, _)| !s.covered.contains(&c.check_type));
                if scan.is_none() || uncovered {
                    prop_assert!(matches!(c.status, ControlStatus::NoEvidence | ControlStatus::Disabled));
                }
            }
        }
    }

    #[test]
    fn disabling_a_control_changes_no_other_status(
        fws in frameworks(),
        scan in scan(),
        pick in any::<prop::sample::Index>(),
    ) {
        let all: Vec<(usize, String)> = fws
            .iter()
            .enumerate()
            .flat_map(|(i, (f, _))| f.controls.iter().map(move |c| (i, c.id.clone())))
            .collect();
        prop_assume!(!all.is_empty());
        let (fi, id) = pick.get(&all).clone();
        let before = run_all(&fws, &scan);
        let mut changed = fws.clone();
        changed[fi].1.push(id.clone());
        let after = run_all(&changed, &scan);
        for (key, f) in &before.frameworks {
            for (a, b) in f.controls.iter().zip(&after.frameworks[key].controls) {
                if *key == changed[fi].0.key && a.id == id {
                    prop_assert_eq!(b.status, ControlStatus::Disabled);
                } else {
                    prop_assert_eq!(a, b);
                }
            }
        }
    }

    #[test]
    fn adding_a_finding_never_raises_a_score(
        fws in frameworks(),
        scan in scan(),
        ct in check_type(),
        sev in severity(),
    ) {
        prop_assume!(scan.is_some());
        let before = run_all(&fws, &scan);
        let mut more = scan.clone();
        if let Some((s, _)) = &mut more {
            s.counts.entry(ct).or_default().add(sev);
            recount(s);
        }
        let after = run_all(&fws, &more);
        prop_assert_eq!(after.total_issues, before.total_issues + 1);
        prop_assert!(after.executive_summary.overall_score <= before.executive_summary.overall_score);
        for (key, f) in &before.frameworks {
            let g = &after.frameworks[key];
            prop_assert_eq!(f.score.is_some(), g.score.is_some());
            prop_assert!(g.score <= f.score, "{}: {:?} -> {:?}", key, f.score, g.score);
            prop_assert!(g.fail >= f.fail);
        }
    }

    #[test]
    fn the_same_inputs_give_the_same_report(fws in frameworks(), scan in scan()) {
        let a = run_all(&fws, &scan);
        let b = run_all(&fws.clone(), &scan.clone());
        prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        prop_assert_eq!(a, b);
    }
}
