use chrono::Duration;

use super::judge::finding_status;
use super::recommend::iac_file_kind;
use super::testkit::*;
use super::*;
use crate::catalog::{Control, Domain, FindingNoun, PassCondition as PC, Recommendation, Severity};
use crate::ingest::Signals;

use ControlStatus::{Disabled, Fail, NoEvidence, Partial, Pass};

/// Scores `frameworks` against `summary`, a scan completed now.
fn run_now(frameworks: &[(&Framework, &[String])], summary: Option<&ScanSummary>) -> Report {
    run(frameworks, summary.map(|s| (s, now())))
}

/// Scores one control against a scan with `summary` completed at `completed_at`.
fn judge_at(control: Control, summary: &ScanSummary, completed_at: DateTime<Utc>) -> ControlResult {
    let fw = framework("fw", vec![control]);
    let report = run(&[(&fw, &[])], Some((summary, completed_at)));
    report.frameworks["fw"].controls[0].clone()
}

fn judge(control: Control, summary: &ScanSummary) -> ControlResult {
    judge_at(control, summary, now())
}

/// The status of a `secrets` control under `condition` with these counts (covered).
fn secrets_status(condition: PC, c: SeverityCounts) -> ControlStatus {
    let s = summary(
        &[CheckType::Secrets],
        &[(CheckType::Secrets, c)],
        Signals::default(),
    );
    judge(control("S", CheckType::Secrets, condition), &s).status
}

const NOUN: FindingNoun = FindingNoun::Secrets;

#[test]
fn no_findings_pass_partial_fail_edges() {
    let cond = PC::NoFindings;
    assert_eq!(secrets_status(cond, counts(0, 0, 0, 0, 0)), Pass);
    assert_eq!(secrets_status(cond, counts(0, 0, 0, 0, 1)), Partial);
    assert_eq!(secrets_status(cond, counts(0, 2, 0, 0, 0)), Partial);
    assert_eq!(secrets_status(cond, counts(0, 1, 1, 0, 0)), Partial);
    assert_eq!(secrets_status(cond, counts(0, 0, 0, 3, 0)), Fail);
    assert_eq!(secrets_status(cond, counts(1, 0, 0, 0, 0)), Fail);
}

#[test]
fn severity_ceiling_edges() {
    let cond = PC::SeverityCeiling {
        at_or_above: Severity::High,
        noun: NOUN,
    };
    assert_eq!(secrets_status(cond, counts(0, 0, 0, 0, 0)), Pass);
    assert_eq!(secrets_status(cond, counts(0, 0, 40, 7, 3)), Partial);
    assert_eq!(secrets_status(cond, counts(0, 1, 0, 0, 0)), Fail);
    assert_eq!(secrets_status(cond, counts(1, 0, 0, 0, 0)), Fail);
    let low = PC::SeverityCeiling {
        at_or_above: Severity::Low,
        noun: NOUN,
    };
    assert_eq!(secrets_status(low, counts(0, 0, 0, 0, 9)), Partial);
    assert_eq!(secrets_status(low, counts(0, 0, 0, 1, 9)), Fail);
    let critical = PC::SeverityCeiling {
        at_or_above: Severity::Critical,
        noun: NOUN,
    };
    assert_eq!(secrets_status(critical, counts(0, 5, 0, 0, 0)), Partial);
    assert_eq!(secrets_status(critical, counts(1, 0, 0, 0, 0)), Fail);
}

#[test]
fn max_findings_edges() {
    let cond = PC::MaxFindings { max: 3, noun: NOUN };
    assert_eq!(secrets_status(cond, counts(0, 0, 0, 0, 0)), Pass);
    assert_eq!(secrets_status(cond, counts(0, 3, 0, 0, 0)), Pass);
    assert_eq!(secrets_status(cond, counts(0, 3, 1, 0, 0)), Fail);
    assert_eq!(secrets_status(cond, counts(1, 0, 0, 0, 0)), Fail);
    let zero = PC::MaxFindings { max: 0, noun: NOUN };
    assert_eq!(secrets_status(zero, counts(0, 0, 0, 0, 0)), Pass);
    assert_eq!(secrets_status(zero, counts(0, 0, 0, 0, 1)), Fail);
    // A budget is never partial.
    for n in 0..10 {
        assert_ne!(secrets_status(cond, counts(0, 0, n, 0, 0)), Partial);
    }
}

#[test]
fn finding_status_is_none_for_signal_conditions() {
    let c = counts(1, 1, 1, 1, 1);
    assert_eq!(finding_status(PC::QualityGatePassed, &c), None);
    assert_eq!(finding_status(PC::ScannedWithinDays(7), &c), None);
}

#[test]
fn uncovered_finding_types_have_no_evidence_never_pass() {
    for cond in [
        PC::NoFindings,
        PC::MaxFindings {
            max: 10,
            noun: NOUN,
        },
        PC::SeverityCeiling {
            at_or_above: Severity::Critical,
            noun: NOUN,
        },
    ] {
        let s = summary(&[CheckType::SastSecurity], &[], Signals::default());
        let r = judge(control("S", CheckType::Secrets, cond), &s);
        assert_eq!(r.status, NoEvidence);
        assert!(!r.evidence.covered);
        assert!(r.reason.contains("covered secrets"), "{}", r.reason);
        // Findings without coverage (from a failed run) are shown but not judged.
        let s = summary(
            &[],
            &[(CheckType::Secrets, counts(0, 0, 1, 0, 0))],
            Signals::default(),
        );
        let r = judge(control("S", CheckType::Secrets, cond), &s);
        assert_eq!(r.status, NoEvidence);
        assert_eq!(r.evidence.counts, Some(counts(0, 0, 1, 0, 0)));
    }
}

#[test]
fn controls_without_evidence_count_as_failing_as_in_the_reference() {
    // One pass (secrets, covered, clean), one fail (sast_security, critical), two without
    // evidence (sca_vulns and iac_issues, not covered).
    let fw = framework(
        "fw",
        vec![
            default_control("P", CheckType::Secrets),
            default_control("F", CheckType::SastSecurity),
            default_control("N1", CheckType::ScaVulns),
            default_control("N2", CheckType::IacIssues),
        ],
    );
    let s = summary(
        &[CheckType::Secrets, CheckType::SastSecurity],
        &[(CheckType::SastSecurity, counts(1, 0, 0, 0, 0))],
        Signals::default(),
    );
    let report = run_now(&[(&fw, &[])], Some(&s));
    let f = &report.frameworks["fw"];
    assert_eq!(
        (f.pass, f.partial, f.fail, f.no_evidence, f.total),
        (1, 0, 3, 2, 4),
        "pass + partial + fail = total; no_evidence counts the failing without evidence"
    );
    let e = &report.executive_summary;
    assert_eq!(
        (
            e.passing,
            e.partial,
            e.failing,
            e.no_evidence,
            e.total_controls
        ),
        (1, 0, 3, 2, 4)
    );
    let statuses: Vec<ControlStatus> = f.controls.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [Pass, Fail, NoEvidence, NoEvidence]);
    assert_eq!(e.recommendation, "Address failing controls in fw");
}

#[test]
fn no_scan_makes_every_control_no_evidence() {
    let fw = framework(
        "fw",
        CheckType::ALL
            .iter()
            .enumerate()
            .map(|(i, ct)| default_control(&format!("C{i}"), *ct))
            .collect(),
    );
    let report = run_now(&[(&fw, &[])], None);
    let f = &report.frameworks["fw"];
    assert!(f.controls.iter().all(|c| c.status == NoEvidence));
    assert_eq!(
        (f.fail, f.no_evidence, f.total, f.score),
        (11, 11, 11, Some(0))
    );
    let summary = &report.executive_summary;
    assert_eq!(summary.overall_score, 0);
    assert_eq!(summary.posture, Posture::Critical);
    assert_eq!(summary.recommendation, "Run a scan to collect evidence");
    assert_eq!(report.total_issues, 0);
}

#[test]
fn scan_recency_edges() {
    let s = summary(&[], &[], Signals::default());
    let at = |age: Duration| {
        judge_at(
            control("R", CheckType::ScanRecency, PC::ScannedWithinDays(7)),
            &s,
            now() - age,
        )
    };
    let day = Duration::days(1);
    let second = Duration::seconds(1);
    assert_eq!(at(Duration::zero()).status, Pass);
    assert_eq!(at(day * 7).status, Pass);
    assert_eq!(at(day * 7 + second).status, Partial);
    assert_eq!(at(day * 14).status, Partial);
    assert_eq!(at(day * 14 + second).status, Fail);
    // A scan stamped in the future (clock skew) is fresh.
    assert_eq!(at(-day).status, Pass);
    let r = at(day * 9 + Duration::hours(5));
    assert_eq!(r.evidence.scan_age_days, Some(9));
    assert_eq!(r.evidence.scan_age_hours, Some(9 * 24 + 5));
    assert!(r.evidence.covered);
    assert_eq!(
        r.reason,
        "Latest scan completed 9 days 5 hours ago, older than 7 days but within 14 days: \
         partial under scanned_within_7_days"
    );
}

#[test]
fn quality_gate_pass_fail_and_no_signal() {
    use crate::ingest::QualityGate;
    let gate = |q: Option<QualityGate>| {
        let signals = Signals {
            quality_gate: q,
            ..Signals::default()
        };
        judge(
            default_control("Q", CheckType::QualityGates),
            &summary(&[], &[], signals),
        )
    };
    assert_eq!(gate(Some(QualityGate::Passed)).status, Pass);
    assert_eq!(gate(Some(QualityGate::Failed)).status, Fail);
    let none = gate(None);
    assert_eq!(none.status, NoEvidence);
    assert!(!none.evidence.covered);
}

fn prs(merged: u32, reviewed: u32, median: Option<f64>) -> Signals {
    Signals {
        pull_requests: Some(crate::ingest::PullRequestStats {
            merged,
            reviewed,
            approvals_median: median,
        }),
        ..Signals::default()
    }
}

fn pr_status(cond: PC, signals: Signals) -> ControlStatus {
    judge(
        control("P", CheckType::PrReviews, cond),
        &summary(&[], &[], signals),
    )
    .status
}

#[test]
fn review_rate_edges() {
    let cond = PC::ReviewRateAtLeast(100);
    assert_eq!(pr_status(cond, prs(10, 10, None)), Pass);
    assert_eq!(pr_status(cond, prs(10, 8, None)), Partial); // 80% = 4/5 of 100
    assert_eq!(pr_status(cond, prs(10, 7, None)), Fail);
    let cond = PC::ReviewRateAtLeast(90);
    assert_eq!(pr_status(cond, prs(10, 9, None)), Pass);
    assert_eq!(pr_status(cond, prs(100, 72, None)), Partial); // 72% = 4/5 of 90
    assert_eq!(pr_status(cond, prs(100, 71, None)), Fail);
    assert_eq!(pr_status(cond, prs(0, 0, None)), NoEvidence);
    assert_eq!(pr_status(cond, Signals::default()), NoEvidence);
    let r = judge(
        control("P", CheckType::PrReviews, PC::ReviewRateAtLeast(100)),
        &summary(&[], &[], prs(3, 2, None)),
    );
    assert_eq!(r.evidence.review_rate, Some(66.7));
    assert_eq!(
        r.reason,
        "2 of 3 merged pull requests (66.7%) had an approving review, target 100% (partial from \
         80%): fail under pr_review_rate_at_least_100"
    );
}

#[test]
fn min_approvals_edges() {
    assert_eq!(pr_status(PC::MinApprovals(1), prs(5, 5, None)), Pass);
    assert_eq!(pr_status(PC::MinApprovals(1), prs(5, 4, None)), Fail);
    assert_eq!(pr_status(PC::MinApprovals(2), prs(5, 4, Some(3.0))), Fail);
    // A median below N proves some change had fewer than N approvals.
    assert_eq!(
        pr_status(PC::MinApprovals(2), prs(5, 5, Some(1.0))),
        Partial
    );
    // Without a per-PR minimum, pass and partial cannot be told apart.
    assert_eq!(
        pr_status(PC::MinApprovals(2), prs(5, 5, Some(2.0))),
        NoEvidence
    );
    assert_eq!(pr_status(PC::MinApprovals(2), prs(5, 5, None)), NoEvidence);
    assert_eq!(pr_status(PC::MinApprovals(2), prs(0, 0, None)), NoEvidence);
    assert_eq!(
        pr_status(PC::MinApprovals(2), Signals::default()),
        NoEvidence
    );
}

#[test]
fn the_score_formula_rounds_halves_up() {
    // (11 + 1.5) / 15 × 100 = 83.33…
    assert_eq!(framework_score(11, 3, 15), Some(83));
    // 0.5 / 4 × 100 = 12.5 → 13
    assert_eq!(framework_score(0, 1, 4), Some(13));
    // 1 / 8 × 100 = 12.5 → 13; 2 / 3 × 100 = 66.67 → 67; 1 / 3 → 33
    assert_eq!(framework_score(1, 0, 8), Some(13));
    assert_eq!(framework_score(2, 0, 3), Some(67));
    assert_eq!(framework_score(1, 0, 3), Some(33));
    assert_eq!(framework_score(5, 0, 5), Some(100));
    assert_eq!(framework_score(0, 0, 5), Some(0));
    assert_eq!(framework_score(0, 0, 0), None);
    assert_eq!(overall_score([Some(78), Some(83)]), 81); // 80.5 → 81
    assert_eq!(overall_score([Some(78), None, Some(82)]), 80);
    assert_eq!(overall_score([None, None]), 0);
    assert_eq!(overall_score([]), 0);
}

#[test]
fn posture_bands() {
    let band = |s| Posture::for_score(s).as_str();
    assert_eq!(
        [
            band(100),
            band(85),
            band(84),
            band(70),
            band(69),
            band(50),
            band(49),
            band(0)
        ],
        ["Strong", "Strong", "Moderate", "Moderate", "Weak", "Weak", "Critical", "Critical"]
    );
}

/// A framework of `pass` secrets controls (no findings), `partial` sast_security ones (one high)
/// and `fail` sca_vulns ones (one critical), with the scan that judges them so.
fn mixed_framework(pass: usize, partial: usize, fail: usize) -> (Framework, ScanSummary) {
    let mut controls = Vec::new();
    let types = [
        CheckType::Secrets,
        CheckType::SastSecurity,
        CheckType::ScaVulns,
    ];
    for (kind, n) in [pass, partial, fail].into_iter().enumerate() {
        controls.extend((0..n).map(|i| default_control(&format!("K{kind}-{i}"), types[kind])));
    }
    let s = summary(
        &types,
        &[
            (CheckType::SastSecurity, counts(0, 1, 0, 0, 0)),
            (CheckType::ScaVulns, counts(1, 0, 0, 0, 0)),
        ],
        Signals::default(),
    );
    (framework("soc2", controls), s)
}

#[test]
fn framework_counts_and_score_on_a_hand_built_example() {
    let (fw, s) = mixed_framework(11, 3, 1);
    let report = run_now(&[(&fw, &[])], Some(&s));
    let f = &report.frameworks["soc2"];
    assert_eq!(
        (
            f.pass,
            f.partial,
            f.fail,
            f.no_evidence,
            f.total,
            f.disabled,
            f.score
        ),
        (11, 3, 1, 0, 15, 0, Some(83))
    );
    let e = &report.executive_summary;
    assert_eq!(
        (
            e.overall_score,
            e.total_controls,
            e.passing,
            e.partial,
            e.failing
        ),
        (83, 15, 11, 3, 1)
    );
    assert_eq!(e.posture, Posture::Moderate);
    assert_eq!(e.recommendation, "Address failing controls in soc2");
    assert_eq!(e.risk_areas.len(), 1);
    assert_eq!(e.risk_areas[0].control_id, "K2-0");
    assert_eq!(report.total_issues, 2);
}

#[test]
fn disabled_controls_are_listed_but_not_counted() {
    let (fw, s) = mixed_framework(2, 0, 1);
    let disabled = vec!["K2-0".to_string(), "NOT-THERE".to_string()];
    let report = run_now(&[(&fw, &disabled)], Some(&s));
    let f = &report.frameworks["soc2"];
    assert_eq!(
        (f.pass, f.fail, f.total, f.disabled, f.score),
        (2, 0, 2, 1, Some(100))
    );
    assert_eq!(f.controls.len(), 3);
    assert_eq!(f.controls[2].status, Disabled);
    let e = &report.executive_summary;
    assert_eq!((e.overall_score, e.total_controls), (100, 2));
    assert_eq!(e.recommendation, "Keep scanning: no failing controls");
    assert!(e.risk_areas.is_empty());
}

#[test]
fn an_all_disabled_framework_has_no_score_and_no_weight() {
    let (a, s) = mixed_framework(1, 1, 0); // 75
    let b = framework("b", vec![default_control("X", CheckType::Secrets)]);
    let all = vec!["X".to_string()];
    let report = run_now(&[(&a, &[]), (&b, &all)], Some(&s));
    assert_eq!(report.frameworks["b"].score, None);
    assert_eq!(report.executive_summary.overall_score, 75);
    let only_b = run_now(&[(&b, &all)], Some(&s));
    assert_eq!(only_b.executive_summary.overall_score, 0);
    assert!(only_b
        .executive_summary
        .recommendation
        .starts_with("Every control is marked"));
    let json = serde_json::to_value(&only_b).unwrap();
    assert!(json["frameworks"]["b"]["score"].is_null());
}

#[test]
fn no_frameworks() {
    let report = score(&[], None, now());
    let e = &report.executive_summary;
    assert_eq!(
        (e.overall_score, e.total_controls, e.posture),
        (0, 0, Posture::Critical)
    );
    assert_eq!(
        e.recommendation,
        "Enable a compliance framework to score this repository"
    );
    assert!(report.frameworks.is_empty());
}

#[test]
fn recommendation_prefers_most_failures_then_missing_evidence_then_partials() {
    let s = summary(
        &[CheckType::Secrets, CheckType::SastSecurity],
        &[
            (CheckType::Secrets, counts(1, 0, 0, 0, 0)),
            (CheckType::SastSecurity, counts(0, 0, 1, 0, 0)),
        ],
        Signals::default(),
    );
    let fail = |id: &str| default_control(id, CheckType::Secrets);
    let missing = |id: &str| default_control(id, CheckType::IacIssues);
    let partial = |id: &str| default_control(id, CheckType::SastSecurity);
    let a = framework("a", vec![fail("1"), partial("2")]);
    let b = framework("b", vec![fail("1"), fail("2")]);
    let c = framework(
        "c",
        vec![missing("1"), default_control("2", CheckType::QualityGates)],
    );
    let d = framework("d", vec![partial("1")]);
    let rec = |fws: &[&Framework]| {
        let with_none: Vec<(&Framework, &[String])> = fws.iter().map(|f| (*f, &[][..])).collect();
        run_now(&with_none, Some(&s))
            .executive_summary
            .recommendation
    };
    assert_eq!(rec(&[&a, &b, &c, &d]), "Address failing controls in b");
    // Equal failures: the lower score (a scores 25, a2 scores 0 with one more no-evidence one).
    let a2 = framework("a2", vec![fail("1"), missing("2")]);
    assert_eq!(rec(&[&a, &a2]), "Address failing controls in a2");
    assert_eq!(rec(&[&a2, &a]), "Address failing controls in a2");
    assert_eq!(
        rec(&[&d, &c]),
        "Collect missing evidence in c (no evidence for: quality_gates, iac_issues)"
    );
    assert_eq!(rec(&[&d]), "Resolve partial controls in d");
}

#[test]
fn risk_areas_are_most_severe_first_and_bounded() {
    let s = summary(
        &[
            CheckType::Secrets,
            CheckType::ScaVulns,
            CheckType::SastSecurity,
        ],
        &[
            (CheckType::Secrets, counts(0, 0, 3, 0, 0)),
            (CheckType::ScaVulns, counts(2, 0, 0, 0, 0)),
            (CheckType::SastSecurity, counts(1, 5, 0, 0, 0)),
        ],
        use_gate_failed(),
    );
    let mut controls = vec![
        default_control("secrets", CheckType::Secrets),
        default_control("gate", CheckType::QualityGates),
        default_control("sast", CheckType::SastSecurity),
        default_control("sca", CheckType::ScaVulns),
    ];
    controls.extend((0..10).map(|i| default_control(&format!("more{i}"), CheckType::Secrets)));
    let fw = framework("fw", controls);
    let report = run_now(&[(&fw, &[])], Some(&s));
    let ids: Vec<&str> = report
        .executive_summary
        .risk_areas
        .iter()
        .map(|r| r.control_id.as_str())
        .collect();
    assert_eq!(ids.len(), RISK_AREAS_MAX);
    assert_eq!(&ids[..4], ["sca", "sast", "gate", "secrets"]);
    assert!(report
        .executive_summary
        .risk_areas
        .iter()
        .all(|r| r.status == Fail && r.framework == "fw"));
}

fn use_gate_failed() -> Signals {
    Signals {
        quality_gate: Some(crate::ingest::QualityGate::Failed),
        ..Signals::default()
    }
}

#[test]
fn reasons_explain_the_verdict() {
    let s = summary(
        &[CheckType::Secrets],
        &[(CheckType::Secrets, counts(0, 2, 0, 0, 0))],
        Signals::default(),
    );
    let r = judge(default_control("S", CheckType::Secrets), &s);
    assert_eq!(
        r.reason,
        "2 secrets findings (2 high), none critical: partial under no_findings"
    );
    let s = summary(
        &[CheckType::ScaVulns],
        &[(CheckType::ScaVulns, counts(0, 1, 0, 4, 0))],
        Signals::default(),
    );
    let ceiling = PC::SeverityCeiling {
        at_or_above: Severity::High,
        noun: FindingNoun::Vulns,
    };
    let r = judge(control("V", CheckType::ScaVulns, ceiling), &s);
    assert_eq!(
        r.reason,
        "5 sca_vulns findings (1 high, 4 low), 1 at or above high: fail under no_high_vulns"
    );
    let budget = PC::MaxFindings {
        max: 5,
        noun: FindingNoun::Vulns,
    };
    let r = judge(control("V", CheckType::ScaVulns, budget), &s);
    assert_eq!(
        r.reason,
        "5 sca_vulns findings (1 high, 4 low), within the budget of 5 and none critical: pass \
         under max_5_vulns"
    );
    let s = summary(&[CheckType::Secrets], &[], Signals::default());
    let r = judge(default_control("S", CheckType::Secrets), &s);
    assert_eq!(
        r.reason,
        "No counted secrets findings: pass under no_findings"
    );
}

#[test]
fn control_results_serialise_in_snake_case() {
    let s = summary(&[], &[], Signals::default());
    let r = judge(default_control("S", CheckType::SastCrypto), &s);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["status"], "no_evidence");
    assert_eq!(json["check_type"], "sast_crypto");
    assert_eq!(json["pass_condition"], "no_findings");
    assert_eq!(json["evidence"]["covered"], false);
    assert_eq!(json["evidence"]["counts"]["critical"], 0);
    assert!(json["evidence"].get("quality_gate").is_none());
    let report = score(&[], None, now());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["executive_summary"]["posture"], "Critical");
    assert!(json.get("order").is_none());
}

#[test]
fn duplicate_framework_keys_score_once() {
    let a = framework("a", vec![default_control("1", CheckType::Secrets)]);
    let report = run_now(&[(&a, &[]), (&a, &[])], None);
    assert_eq!(report.order, ["a"]);
    assert_eq!(report.executive_summary.total_controls, 1);
    assert_eq!(report.frameworks_in_order().count(), 1);
}

// ---- recommendation refinement ----

fn badged(id: &str, check_type: CheckType, badge: Recommendation, domain: Domain) -> Control {
    let mut c = default_control(id, check_type);
    c.recommendation = badge;
    c.domain = domain;
    c
}

#[test]
fn refinement_without_scan_is_the_baseline() {
    let c = default_control("C", CheckType::SastCrypto);
    assert_eq!(
        refine_recommendation(&c, None),
        (Recommendation::Recommended, "Baseline reason.".to_string())
    );
}

#[test]
fn findings_against_the_control_make_it_required() {
    let c = badged(
        "C",
        CheckType::SastCrypto,
        Recommendation::Optional,
        Domain::Crypto,
    );
    let s = summary(
        &[CheckType::SastCrypto],
        &[(CheckType::SastCrypto, counts(0, 0, 2, 1, 0))],
        Signals::default(),
    );
    assert_eq!(
        refine_recommendation(&c, Some(&s)),
        (
            Recommendation::Required,
            "3 findings of sast_crypto in the latest scan".to_string()
        )
    );
    let gate = default_control("Q", CheckType::QualityGates);
    let (badge, why) = refine_recommendation(&gate, Some(&summary(&[], &[], use_gate_failed())));
    assert_eq!(badge, Recommendation::Required);
    assert_eq!(why, "The quality gate failed in the latest scan");
    let pr = default_control("P", CheckType::PrReviews);
    let (badge, why) = refine_recommendation(&pr, Some(&summary(&[], &[], prs(4, 3, None))));
    assert_eq!(badge, Recommendation::Required);
    assert!(why.starts_with("1 of 4 merged pull requests"), "{why}");
}

#[test]
fn a_matching_language_upgrades_one_step() {
    let signals = |langs: &[&str]| Signals {
        languages: langs.iter().map(|l| l.to_string()).collect(),
        ..Signals::default()
    };
    let crypto = badged(
        "C",
        CheckType::SastCrypto,
        Recommendation::Optional,
        Domain::Crypto,
    );
    let covered = [CheckType::SastCrypto, CheckType::SastAuth];
    let s = summary(&covered, &[], signals(&["Python"]));
    assert_eq!(
        refine_recommendation(&crypto, Some(&s)),
        (
            Recommendation::Recommended,
            "Upgraded from optional: the repository uses python, where crypto controls apply"
                .to_string()
        )
    );
    let auth = badged(
        "A",
        CheckType::SastAuth,
        Recommendation::Recommended,
        Domain::Auth,
    );
    let s = summary(&covered, &[], signals(&["java"]));
    assert_eq!(
        refine_recommendation(&auth, Some(&s)).0,
        Recommendation::Required
    );
    // Python does not make auth controls relevant; nothing else applies: the baseline.
    let s = summary(&covered, &[], signals(&["python"]));
    assert_eq!(
        refine_recommendation(&auth, Some(&s)),
        (Recommendation::Recommended, "Baseline reason.".to_string())
    );
    // Already required: the baseline reason stays.
    let mut required = auth;
    required.recommendation = Recommendation::Required;
    let s = summary(&covered, &[], signals(&["java"]));
    assert_eq!(
        refine_recommendation(&required, Some(&s)).1,
        "Baseline reason."
    );
}

#[test]
fn infrastructure_code_promotes_iac_controls() {
    let iac = badged(
        "I",
        CheckType::IacIssues,
        Recommendation::Optional,
        Domain::Iac,
    );
    let files = |f: &[&str]| Signals {
        files: f.iter().map(|l| l.to_string()).collect(),
        ..Signals::default()
    };
    let s = summary(&[], &[], files(&["README.md", "deploy/main.tf"]));
    assert_eq!(
        refine_recommendation(&iac, Some(&s)),
        (
            Recommendation::Recommended,
            "Upgraded from optional: the repository holds infrastructure code (Terraform: \
             deploy/main.tf)"
                .to_string()
        )
    );
    let s = summary(&[CheckType::IacIssues], &[], Signals::default());
    assert!(refine_recommendation(&iac, Some(&s))
        .1
        .ends_with("(a tool in the latest scan covered iac_issues)"));
    let s = summary(
        &[CheckType::IacIssues],
        &[(CheckType::IacIssues, counts(0, 0, 0, 1, 0))],
        Signals::default(),
    );
    // Its own check type's findings: required outright.
    assert_eq!(
        refine_recommendation(&iac, Some(&s)).0,
        Recommendation::Required
    );
    // A containers control judged on another check type, promoted by iac findings.
    let containers = badged(
        "K",
        CheckType::ScaVulns,
        Recommendation::Optional,
        Domain::Containers,
    );
    assert_eq!(
        refine_recommendation(&containers, Some(&s)).1,
        "Upgraded from optional: the repository holds infrastructure code (1 iac_issues finding)"
    );
    // No IaC evidence: baseline.
    let s = summary(&[CheckType::Secrets], &[], files(&["src/main.rs"]));
    assert_eq!(
        refine_recommendation(&iac, Some(&s)).0,
        Recommendation::Optional
    );
}

#[test]
fn iac_file_kinds() {
    for (path, kind) in [
        ("Dockerfile", Some("Dockerfile")),
        ("build/Dockerfile.prod", Some("Dockerfile")),
        ("api.dockerfile", Some("Dockerfile")),
        ("Containerfile", Some("Dockerfile")),
        ("docker-compose.yml", Some("Docker Compose")),
        ("compose.yaml", Some("Docker Compose")),
        ("infra/main.tf", Some("Terraform")),
        ("prod.tfvars", Some("Terraform")),
        ("stack.tf.json", Some("Terraform")),
        ("template.yaml", Some("CloudFormation")),
        ("cloudformation/network.yml", Some("CloudFormation")),
        ("vpc-cloudformation.json", Some("CloudFormation")),
        ("k8s/kustomization.yaml", Some("Kubernetes")),
        ("charts/api/Chart.yaml", Some("Kubernetes")),
        ("src/main.rs", None),
        ("composer.json", None),
        ("templates.yaml", None),
    ] {
        assert_eq!(iac_file_kind(path), kind, "{path}");
    }
}

#[test]
fn the_builtin_catalog_scores_a_clean_scan_and_a_dirty_one() {
    use crate::catalog::builtin;
    use crate::ingest::{PullRequestStats, QualityGate};
    let signals = Signals {
        quality_gate: Some(QualityGate::Passed),
        pull_requests: Some(PullRequestStats {
            merged: 40,
            reviewed: 40,
            approvals_median: Some(2.0),
        }),
        ..Signals::default()
    };
    let clean = summary(&finding_types(), &[], signals);
    let all: Vec<(&Framework, &[String])> = builtin().iter().map(|f| (f, &[][..])).collect();
    let report = run_now(&all, Some(&clean));
    assert_eq!(report.frameworks.len(), builtin().len());
    for f in report.frameworks.values() {
        for c in &f.controls {
            // Only min_approvals_<N ≥ 2> cannot be told from these stats.
            let undecidable = c.pass_condition.starts_with("min_approvals_")
                && c.pass_condition != "min_approvals_1";
            let expected = if undecidable { NoEvidence } else { Pass };
            assert_eq!(c.status, expected, "{} {}: {}", f.key, c.id, c.reason);
        }
    }
    // Huge counts cost nothing more: the engine reads counts, never findings.
    let huge = counts(1_000_000_000, 1_000_000_000, 0, 0, 7);
    let dirty_counts: Vec<(CheckType, SeverityCounts)> =
        finding_types().into_iter().map(|ct| (ct, huge)).collect();
    let dirty = summary(&finding_types(), &dirty_counts, use_gate_failed());
    let report = run_now(&all, Some(&dirty));
    assert_eq!(report.total_issues, 7 * 2_000_000_007);
    for f in report.frameworks.values() {
        for c in &f.controls {
            let fresh = c.check_type == CheckType::ScanRecency;
            assert!(
                fresh || c.status != Pass,
                "{} {}: {}",
                f.key,
                c.id,
                c.reason
            );
        }
    }
    assert_eq!(report.executive_summary.risk_areas.len(), RISK_AREAS_MAX);
    assert_eq!(report.executive_summary.posture, Posture::Critical);
}
