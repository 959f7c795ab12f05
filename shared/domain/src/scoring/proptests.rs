//! Properties of the engine over random catalogs, settings and scans.

use chrono::Duration;
use proptest::prelude::*;

use super::testkit::*;
use super::*;
use crate::catalog::{Control, FindingNoun, PassCondition, Severity, WeaknessMapping};
use crate::ingest::{PullRequestStats, QualityGate, Signals};

/// The CWE ids controls are mapped to here; findings also carry ids from [`CWE_OUTSIDE`].
const CWE_POOL: std::ops::RangeInclusive<u32> = 1..=8;
/// Ids no generated control lists.
const CWE_OUTSIDE: std::ops::RangeInclusive<u32> = 100..=103;

/// A finding's CWE ids: none, or a few from the pool and beyond it.
fn finding_cwe() -> impl Strategy<Value = Vec<u32>> {
    prop_oneof![
        1 => Just(Vec::new()),
        3 => prop::collection::btree_set(prop_oneof![4 => CWE_POOL, 1 => CWE_OUTSIDE], 1..3)
            .prop_map(|ids| ids.into_iter().collect()),
    ]
}

/// A control's weakness mapping, or none (half the time).
fn mapping() -> impl Strategy<Value = Option<WeaknessMapping>> {
    prop::option::of(
        prop::collection::btree_set(CWE_POOL, 1..4)
            .prop_map(|ids| WeaknessMapping::new(ids, "custom").unwrap()),
    )
}

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
        check_type().prop_flat_map(|ct| (Just(ct), condition(ct), mapping())),
        0..10,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .enumerate()
            .map(|(i, (ct, cond, weaknesses))| {
                let mut c = control(&format!("C{i}"), ct, cond);
                c.weaknesses = weaknesses;
                c
            })
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

fn finding_type() -> impl Strategy<Value = CheckType> {
    prop::sample::select(finding_types())
}

/// The covered check types: each finding-based type with even odds.
fn covered() -> impl Strategy<Value = Vec<CheckType>> {
    let finding_types = finding_types();
    prop::collection::vec(any::<bool>(), finding_types.len()).prop_map(move |flags| {
        finding_types
            .iter()
            .zip(flags)
            .filter(|(_, c)| *c)
            .map(|(ct, _)| *ct)
            .collect()
    })
}

/// A summary stored before findings were grouped: counts per check type only.
fn legacy_summary() -> impl Strategy<Value = ScanSummary> {
    let finding_types = finding_types();
    let n = finding_types.len();
    (
        covered(),
        prop::collection::vec(small_counts(), n),
        signals(),
    )
        .prop_map(move |(covered, counted, signals)| {
            let counted: Vec<(CheckType, SeverityCounts)> =
                finding_types.iter().copied().zip(counted).collect();
            summary(&covered, &counted, signals)
        })
}

/// A summary as ingestion stores it now: findings grouped by check type and CWE ids.
fn grouped() -> impl Strategy<Value = ScanSummary> {
    (
        covered(),
        prop::collection::vec((finding_type(), finding_cwe(), small_counts()), 0..8),
        signals(),
    )
        .prop_map(|(covered, groups, signals)| grouped_summary(&covered, &groups, signals))
}

/// A scan summary (either kind), or none, with its age in hours.
fn scan() -> impl Strategy<Value = Option<(ScanSummary, i64)>> {
    prop::option::weighted(
        0.9,
        (prop_oneof![legacy_summary(), grouped()], 0i64..(24 * 70)),
    )
}

/// Whether the control is judged by its weaknesses on this summary, restated from the module
/// documentation: it has a mapping, a finding-based check type, and the summary has groups.
fn by_weaknesses(c: &Control, s: &ScanSummary) -> bool {
    c.weaknesses.is_some() && c.check_type.is_finding_based() && s.finding_groups.is_some()
}

/// Whether a finding-based control has coverage, restated from the module documentation: its
/// check type was covered, or — judged by weaknesses, of a SAST check type — any SAST type.
fn has_coverage(c: &Control, s: &ScanSummary) -> bool {
    let sast = [
        CheckType::SastSecurity,
        CheckType::SastCrypto,
        CheckType::SastAuth,
    ];
    s.covered.contains(&c.check_type)
        || (by_weaknesses(c, s)
            && sast.contains(&c.check_type)
            && sast.iter().any(|t| s.covered.contains(t)))
}

/// Adds one counted finding to a summary: to its group when the summary has groups.
fn add_finding(s: &mut ScanSummary, ct: CheckType, sev: Severity, cwe: &[u32]) {
    let mut one = SeverityCounts::default();
    one.add(sev);
    if s.finding_groups.is_some() {
        add_group(s, ct, cwe, &one);
    } else {
        s.counts.entry(ct).or_default().add(sev);
        recount(s);
    }
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
        for (fw, _) in &fws {
            let f = &report.frameworks[&fw.key];
            for (control, c) in fw.controls.iter().zip(&f.controls) {
                let uncovered = c.check_type.is_finding_based()
                    && scan.as_ref().is_none_or(|(s, _)| !has_coverage(control, s));
                if scan.is_none() || uncovered {
                    prop_assert!(matches!(c.status, ControlStatus::NoEvidence | ControlStatus::Disabled));
                }
                // Judged by weaknesses exactly when the documentation says so.
                let judged = scan.as_ref().is_some_and(|(s, _)| by_weaknesses(control, s))
                    && c.status != ControlStatus::Disabled;
                prop_assert_eq!(c.evidence.matched.is_some(), judged, "{}", c.reason);
                if let Some(m) = &c.evidence.matched {
                    let mut total = m.by_cwe;
                    total.add_counts(&m.by_check_type);
                    prop_assert_eq!(c.evidence.counts, Some(total));
                    let mapped = &control.weaknesses.as_ref().unwrap().cwe;
                    prop_assert!(m.cwe.iter().all(|id| mapped.contains(id)));
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
        cwe in finding_cwe(),
    ) {
        prop_assume!(scan.is_some());
        let before = run_all(&fws, &scan);
        let mut more = scan.clone();
        if let Some((s, _)) = &mut more {
            add_finding(s, ct, sev, &cwe);
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

    /// The statuses of every control never improve either.
    #[test]
    fn adding_a_finding_never_raises_a_status(
        fws in frameworks(),
        scan in grouped(),
        ct in finding_type(),
        sev in severity(),
        cwe in finding_cwe(),
    ) {
        let rank = |s: ControlStatus| match s {
            ControlStatus::Pass => 2,
            ControlStatus::Partial => 1,
            _ => 0,
        };
        let scan = Some((scan, 1));
        let before = run_all(&fws, &scan);
        let mut more = scan.clone();
        if let Some((s, _)) = &mut more {
            add_finding(s, ct, sev, &cwe);
        }
        let after = run_all(&fws, &more);
        for (key, f) in &before.frameworks {
            for (a, b) in f.controls.iter().zip(&after.frameworks[key].controls) {
                prop_assert!(rank(b.status) <= rank(a.status), "{}: {} -> {}", a.id, a.reason, b.reason);
            }
        }
    }

    /// A finding whose CWE ids are in no list of a framework leaves every control of that
    /// framework judged by its weaknesses exactly as it was.
    #[test]
    fn a_finding_mapped_to_no_control_of_a_framework_moves_none_of_its_mapped_controls(
        fws in frameworks(),
        scan in grouped(),
        pick in any::<prop::sample::Index>(),
        ct in finding_type(),
        sev in severity(),
        cwe in prop::collection::btree_set(prop_oneof![CWE_POOL, CWE_OUTSIDE], 1..3),
    ) {
        prop_assume!(!fws.is_empty());
        let (fw, _) = pick.get(&fws);
        let listed: std::collections::BTreeSet<u32> = fw
            .controls
            .iter()
            .filter_map(|c| c.weaknesses.as_ref())
            .flat_map(|m| m.cwe.iter().copied())
            .collect();
        prop_assume!(cwe.iter().all(|id| !listed.contains(id)));
        let cwe: Vec<u32> = cwe.into_iter().collect();
        let scan = Some((scan, 1));
        let before = run_all(&fws, &scan);
        let mut more = scan.clone();
        if let Some((s, _)) = &mut more {
            add_finding(s, ct, sev, &cwe);
        }
        let after = run_all(&fws, &more);
        let (a, b) = (&before.frameworks[&fw.key], &after.frameworks[&fw.key]);
        for ((control, x), y) in fw.controls.iter().zip(&a.controls).zip(&b.controls) {
            if control.weaknesses.is_some() && control.check_type.is_finding_based() {
                prop_assert_eq!(x, y);
            }
        }
    }

    /// On a summary stored before findings were grouped, mappings change nothing.
    #[test]
    fn legacy_summaries_ignore_mappings(fws in frameworks(), scan in legacy_summary()) {
        let stripped: Vec<(Framework, Vec<String>)> =
            fws.iter().map(|(f, d)| (unmapped(f), d.clone())).collect();
        let scan = Some((scan, 1));
        prop_assert_eq!(run_all(&fws, &scan), run_all(&stripped, &scan));
    }

    /// A report reads the evaluation time only through the scan's `age_class`: two times of
    /// the same class give the same report (what lets a memo of it be reused).
    #[test]
    fn times_of_the_same_age_class_give_the_same_report(
        fws in frameworks(),
        scan in scan(),
        hours in 0i64..(24 * 70),
        before in prop_oneof![Just(0i64), Just(1i64), 0i64..3600],
        later in prop_oneof![Just(0i64), Just(1i64), 0i64..3600],
    ) {
        // Ages on the hour and a second off it, where the recency limits fall.
        let age = (hours * 3600 - before).max(0);
        let fws: Vec<(&Framework, &[String])> = fws.iter().map(|(f, d)| (f, &d[..])).collect();
        let completed_at = scan.as_ref().map(|_| now() - Duration::seconds(age));
        let (a, b) = (now(), now() + Duration::seconds(later));
        prop_assume!(age_class(completed_at, a) == age_class(completed_at, b));
        let scan = scan.as_ref().zip(completed_at).map(|((s, _), at)| (s, at));
        let inputs: Vec<FrameworkInput> = fws
            .iter()
            .map(|(framework, disabled)| FrameworkInput { framework, disabled, attested: &[] })
            .collect();
        let scan = scan.map(|(summary, completed_at)| ScanInput { summary, completed_at, excepted: None });
        prop_assert_eq!(score(&inputs, scan.as_ref(), a), score(&inputs, scan.as_ref(), b));
    }

    /// The borrowed evaluation is the report: the same JSON, the same values once owned.
    #[test]
    fn an_evaluation_serialises_as_its_report(fws in frameworks(), scan in scan()) {
        let inputs: Vec<FrameworkInput> = fws
            .iter()
            .map(|(framework, disabled)| FrameworkInput { framework, disabled, attested: &[] })
            .collect();
        let at = scan.as_ref().map(|(s, age)| (s, now() - Duration::hours(*age)));
        let scan = at.map(|(summary, completed_at)| ScanInput { summary, completed_at, excepted: None });
        let evaluation = evaluate(&inputs, scan.as_ref(), now());
        let report = score(&inputs, scan.as_ref(), now());
        prop_assert_eq!(
            serde_json::to_string(&evaluation).unwrap(),
            serde_json::to_string(&report).unwrap()
        );
        prop_assert_eq!(&evaluation.to_report(), &report);
        let keys: Vec<&str> = evaluation.frameworks_in_order().map(|f| f.key).collect();
        prop_assert_eq!(keys, report.order.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn the_same_inputs_give_the_same_report(fws in frameworks(), scan in scan()) {
        let a = run_all(&fws, &scan);
        let b = run_all(&fws.clone(), &scan.clone());
        prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        prop_assert_eq!(a, b);
    }
}

/// A finding with a key: check type, severity, CWE ids, one of three rules.
type KeyedFinding = (CheckType, Severity, Vec<u32>, u8);

/// Findings with keys added to a grouped summary, and exceptions by CWE or rule.
fn excepting_case() -> impl Strategy<Value = (Vec<KeyedFinding>, Vec<Covers>)> {
    (
        prop::collection::vec((finding_type(), severity(), finding_cwe(), 0u8..3), 0..12),
        prop::collection::vec(
            prop_oneof![
                prop_oneof![CWE_POOL, CWE_OUTSIDE].prop_map(Covers::Cwe),
                (0u8..3).prop_map(|r| Covers::Rule {
                    rule_id: format!("r{r}"),
                    path: None
                }),
            ],
            0..3,
        ),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Approved exceptions never lower a control's status or a score; each control's `excepted`
    /// is exactly what left its counts, and the issues left are the scan's less the excepted.
    #[test]
    fn exceptions_only_ever_set_findings_aside(
        fws in frameworks(),
        scan in grouped(),
        (findings, covers) in excepting_case(),
    ) {
        let mut summary = scan;
        let mut keys = Vec::new();
        for (i, (ct, sev, cwe, rule)) in findings.iter().enumerate() {
            add_finding(&mut summary, *ct, *sev, cwe);
            keys.push(FindingKey {
                fingerprint: format!("f{i}"),
                rule_id: format!("r{rule}"),
                path: None,
                cwe: cwe.clone(),
                check_type: *ct,
                severity: *sev,
            });
        }
        let exceptions: Vec<Applying> = covers
            .into_iter()
            .map(|covers| Applying { covers, expires_at: None })
            .collect();
        let (kept, excepted) = apply_exceptions(&summary, &keys, &exceptions);
        let inputs: Vec<FrameworkInput> = fws
            .iter()
            .map(|(framework, disabled)| FrameworkInput { framework, disabled, attested: &[] })
            .collect();
        let at = now() - Duration::hours(1);
        let plain = ScanInput { summary: &summary, completed_at: at, excepted: None };
        let with = ScanInput { summary: &kept, completed_at: at, excepted: Some(&excepted) };
        let before = score(&inputs, Some(&plain), now());
        let after = score(&inputs, Some(&with), now());
        let rank = |s: ControlStatus| match s {
            ControlStatus::Pass => 2,
            ControlStatus::Partial => 1,
            _ => 0,
        };
        prop_assert_eq!(after.total_issues, before.total_issues - excepted.total());
        prop_assert!(after.executive_summary.overall_score >= before.executive_summary.overall_score);
        for (key, f) in &before.frameworks {
            for (a, b) in f.controls.iter().zip(&after.frameworks[key].controls) {
                prop_assert!(rank(b.status) >= rank(a.status), "{}: {} -> {}", a.id, a.reason, b.reason);
                if let (Some(x), Some(y)) = (a.evidence.counts, b.evidence.counts) {
                    prop_assert_eq!(x.total() - y.total(), b.evidence.excepted.unwrap_or(0), "{}", b.reason);
                }
            }
        }
    }
}
