//! Controls judged by their weaknesses (CWE ids), end to end: SARIF parsed and summarised by the
//! real ingestion, scored against the built-in catalog and custom controls.

use serde_json::{json, Value};

use super::testkit::*;
use super::*;
use crate::catalog::{builtin, builtin_framework, Control, PassCondition, WeaknessMapping};
use crate::ingest::{parse_sarif, summarise, FindingGroup, Signals};

use CheckType::{CodeQuality, SastAuth, SastCrypto, SastSecurity, ScaVulns, Secrets};
use ControlStatus::{Fail, NoEvidence, Partial, Pass};

/// One result of a synthetic SARIF run: its CWE ids, its `security-severity` (`None`: level
/// `error`, high) and an extra tag.
struct Res<'a> {
    cwe: &'a [u32],
    score: Option<&'a str>,
    tag: &'a str,
}

fn r<'a>(cwe: &'a [u32], score: Option<&'a str>) -> Res<'a> {
    Res {
        cwe,
        score,
        tag: "security",
    }
}

/// A SARIF log of one run of `tool`, one rule per result.
fn sarif(tool: &str, results: &[Res]) -> Vec<u8> {
    let rules: Vec<Value> = results
        .iter()
        .enumerate()
        .map(|(i, res)| {
            let mut tags = vec![json!(res.tag)];
            tags.extend(
                res.cwe
                    .iter()
                    .map(|c| json!(format!("external/cwe/cwe-{c}"))),
            );
            let mut properties = json!({ "tags": tags });
            if let Some(score) = res.score {
                properties["security-severity"] = json!(score);
            }
            json!({ "id": format!("R{i}"), "properties": properties })
        })
        .collect();
    let results: Vec<Value> = (0..results.len())
        .map(|i| {
            json!({
                "ruleId": format!("R{i}"),
                "level": "error",
                "message": { "text": format!("finding {i}") },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": format!("src/{i}.js") }, "region": { "startLine": i + 1 } } }]
            })
        })
        .collect();
    let log = json!({ "version": "2.1.0", "runs": [{ "tool": { "driver": { "name": tool, "rules": rules } }, "results": results }] });
    serde_json::to_vec(&log).unwrap()
}

/// The stored summary of a Semgrep report with these results.
fn semgrep(results: &[Res]) -> ScanSummary {
    summarise(
        &parse_sarif(&sarif("Semgrep OSS", results)).unwrap(),
        &Signals::default(),
    )
}

fn owasp() -> &'static Framework {
    builtin_framework("owasp").unwrap()
}

fn score_now(frameworks: &[&Framework], summary: &ScanSummary) -> Report {
    let inputs: Vec<(&Framework, &[String])> = frameworks.iter().map(|f| (*f, &[][..])).collect();
    run(&inputs, Some((summary, now())))
}

fn result<'r>(report: &'r Report, key: &str, id: &str) -> &'r ControlResult {
    report.frameworks[key]
        .controls
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("{key} {id}"))
}

fn status(report: &Report, key: &str, id: &str) -> ControlStatus {
    result(report, key, id).status
}

fn matched(report: &Report, key: &str, id: &str) -> Matched {
    *result(report, key, id)
        .evidence
        .matched
        .clone()
        .unwrap_or_else(|| panic!("{key} {id} is judged by weaknesses"))
}

#[test]
fn an_ssrf_only_report_fails_a10_not_a03() {
    let summary = semgrep(&[r(&[918], None)]);
    let [group] = summary.finding_groups.as_deref().unwrap() else {
        panic!("{summary:?}")
    };
    assert_eq!(
        (group.check_type, &group.cwe[..]),
        (SastSecurity, &[918][..])
    );
    let report = score_now(&[owasp()], &summary);
    assert_eq!(status(&report, "owasp", "A10:2021"), Fail);
    for id in ["A01:2021", "A02:2021", "A03:2021", "A07:2021", "A08:2021"] {
        assert_eq!(status(&report, "owasp", id), Pass, "{id}");
    }
    let a10 = result(&report, "owasp", "A10:2021");
    assert_eq!(
        a10.reason,
        "1 finding (1 high): 1 matched by CWE-918, 0 by check type sast_security, \
         1 at or above high: fail under no_high_findings"
    );
    let m = matched(&report, "owasp", "A10:2021");
    assert_eq!(
        (m.by_cwe.high, m.by_check_type.total(), m.cwe),
        (1, 0, vec![918])
    );
    assert_eq!(
        result(&report, "owasp", "A03:2021").reason,
        "No counted findings matched by CWE or by check type sast_security: pass under no_findings"
    );
    // Frameworks without a mapping still judge by check type: SOC 2's CC7.1 counts the SSRF.
    let report = score_now(&[builtin_framework("soc2").unwrap()], &summary);
    assert_eq!(status(&report, "soc2", "CC7.1"), Partial);
    assert!(result(&report, "soc2", "CC7.1").evidence.matched.is_none());
}

#[test]
fn an_xss_only_report_fails_a03() {
    let summary = semgrep(&[r(&[79], Some("9.3"))]);
    let report = score_now(&[owasp()], &summary);
    assert_eq!(status(&report, "owasp", "A03:2021"), Fail);
    let m = matched(&report, "owasp", "A03:2021");
    assert_eq!((m.by_cwe.critical, m.cwe), (1, vec![79]));
    for id in ["A01:2021", "A08:2021", "A10:2021"] {
        assert_eq!(status(&report, "owasp", id), Pass, "{id}");
    }
}

/// The SAST split files a path traversal under sast_security; OWASP files it under A01, whose
/// check type is sast_auth: it counts there by its CWE id, across check types.
#[test]
fn a_path_traversal_report_fails_a01() {
    let summary = semgrep(&[r(&[22], Some("9.1"))]);
    assert_eq!(summary.counts[&SastSecurity].critical, 1);
    assert_eq!(summary.counts[&SastAuth].total(), 0);
    let report = score_now(&[owasp()], &summary);
    assert_eq!(status(&report, "owasp", "A01:2021"), Fail);
    assert_eq!(status(&report, "owasp", "A03:2021"), Pass);
    let a01 = result(&report, "owasp", "A01:2021");
    assert!(
        a01.reason
            .starts_with("1 finding (1 critical): 1 matched by CWE-22, 0 by check type sast_auth"),
        "{}",
        a01.reason
    );
    assert_eq!(a01.evidence.counts, Some(counts(1, 0, 0, 0, 0)));
    // The failing control is a risk area, ranked by what counted against it.
    assert_eq!(
        report.executive_summary.risk_areas[0].control_id,
        "A01:2021"
    );
}

/// A hard-coded password found by a SAST tool is a secrets finding; its CWE-798 is in OWASP's
/// A07 list, so it counts there too (first-party code check types match across).
#[test]
fn a_hard_coded_password_counts_against_a07_by_its_cwe() {
    let summary = semgrep(&[r(&[798], Some("7.5"))]);
    assert_eq!(summary.counts[&Secrets].high, 1);
    let report = score_now(&[owasp()], &summary);
    assert_eq!(status(&report, "owasp", "A07:2021"), Partial);
    assert_eq!(matched(&report, "owasp", "A07:2021").cwe, vec![798]);
}

#[test]
fn a_finding_without_cwe_counts_by_its_check_type() {
    let summary = semgrep(&[r(&[], Some("9.8"))]);
    assert_eq!(summary.counts[&SastSecurity].critical, 1);
    let report = score_now(&[owasp()], &summary);
    // Every mapped control of check type sast_security counts it; the others do not.
    for id in ["A03:2021", "A08:2021", "A10:2021"] {
        assert_eq!(status(&report, "owasp", id), Fail, "{id}");
        let m = matched(&report, "owasp", id);
        assert_eq!((m.by_cwe.total(), m.by_check_type.critical), (0, 1), "{id}");
        assert!(m.cwe.is_empty());
    }
    for id in ["A01:2021", "A02:2021", "A07:2021"] {
        assert_eq!(status(&report, "owasp", id), Pass, "{id}");
    }
    assert!(result(&report, "owasp", "A03:2021")
        .reason
        .starts_with("1 finding (1 critical): 0 matched by CWE, 1 by check type sast_security"));
}

/// A summary stored before findings were grouped scores exactly as before: every mapped
/// control judged by its check type; and the groups alone change nothing for unmapped controls.
#[test]
fn a_legacy_summary_scores_exactly_as_before() {
    let grouped = semgrep(&[
        r(&[918], None),
        r(&[79], Some("9.3")),
        r(&[22], Some("9.1")),
        r(&[], Some("5.0")),
        r(&[798], None),
    ]);
    let mut legacy = grouped.clone();
    legacy.finding_groups = None;
    let mapped: Vec<&Framework> = builtin().iter().collect();
    let unmapped_owned: Vec<Framework> = builtin().iter().map(unmapped).collect();
    let unmapped: Vec<&Framework> = unmapped_owned.iter().collect();
    let before = score_now(&unmapped, &legacy);
    assert_eq!(score_now(&mapped, &legacy), before);
    assert_eq!(score_now(&unmapped, &grouped), before);
    assert_eq!(
        serde_json::to_string(&score_now(&mapped, &legacy)).unwrap(),
        serde_json::to_string(&before).unwrap()
    );
    // As before: A03 counts every sast_security finding, the SSRF included.
    assert_eq!(
        result(&before, "owasp", "A03:2021").evidence.counts,
        Some(counts(2, 1, 1, 0, 0))
    );
    assert_eq!(status(&before, "owasp", "A01:2021"), Pass);
    // With groups, the mapped catalog judges by weaknesses instead.
    let after = score_now(&mapped, &grouped);
    assert_eq!(
        result(&after, "owasp", "A03:2021").evidence.counts,
        Some(counts(1, 0, 1, 0, 0))
    );
    assert_eq!(status(&after, "owasp", "A01:2021"), Fail);
}

/// Evidence JSON: `matched` only for a control judged by its weaknesses; a check-type control's
/// evidence is what it was.
#[test]
fn evidence_says_what_matched_and_only_when_judged_by_weaknesses() {
    let summary = semgrep(&[r(&[918, 22], None), r(&[], Some("2.0"))]);
    let report = score_now(&[owasp()], &summary);
    let a10 = serde_json::to_value(&result(&report, "owasp", "A10:2021").evidence).unwrap();
    let zero = json!({ "critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0 });
    let high = json!({ "critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0 });
    let low = json!({ "critical": 0, "high": 0, "medium": 0, "low": 1, "info": 0 });
    assert_eq!(
        a10,
        json!({
            "covered": true,
            "counts": { "critical": 0, "high": 1, "medium": 0, "low": 1, "info": 0 },
            "matched": { "by_cwe": high, "by_check_type": low, "cwe": [918] }
        })
    );
    // The finding with two CWE ids counts once against each control it meets.
    let a01 = matched(&report, "owasp", "A01:2021");
    assert_eq!((a01.by_cwe, a01.cwe), (counts(0, 1, 0, 0, 0), vec![22]));
    let a05 = serde_json::to_value(&result(&report, "owasp", "A05:2021").evidence).unwrap();
    assert_eq!(a05, json!({ "covered": false, "counts": zero }));
}

/// Dependency findings carry their library's CWE ids: a CWE-79 in a dependency fails A06 (by
/// check type) and a dependency control mapped to CWE-79, never an injection control.
#[test]
fn dependency_findings_match_only_dependency_controls() {
    let grype = parse_sarif(&sarif("grype", &[r(&[79], Some("9.0"))])).unwrap();
    let mut scan = parse_sarif(&sarif("Semgrep OSS", &[])).unwrap();
    scan.tools.extend(grype.tools);
    scan.findings.extend(grype.findings);
    let summary = summarise(&scan, &Signals::default());
    assert_eq!(summary.counts[&ScaVulns].critical, 1);
    let report = score_now(&[owasp()], &summary);
    assert_eq!(status(&report, "owasp", "A03:2021"), Pass);
    assert_eq!(status(&report, "owasp", "A06:2021"), Fail);
    let custom = framework(
        "mine",
        vec![
            mapped_control("XSS-CODE", SastSecurity, &[79]),
            mapped_control("XSS-DEPS", ScaVulns, &[79]),
            mapped_control("SQLI-DEPS", ScaVulns, &[89]),
        ],
    );
    let report = score_now(&[&custom], &summary);
    assert_eq!(status(&report, "mine", "XSS-CODE"), Pass);
    assert_eq!(status(&report, "mine", "XSS-DEPS"), Fail);
    assert_eq!(status(&report, "mine", "SQLI-DEPS"), Pass);
}

fn mapped_control(id: &str, check_type: CheckType, cwe: &[u32]) -> Control {
    let mut c = default_control(id, check_type);
    c.weaknesses = Some(WeaknessMapping::new(cwe.iter().copied(), "custom").unwrap());
    c
}

/// A mapped SAST control has evidence when any SAST check type was covered; secrets or code
/// quality coverage never stands in for it, nor SAST coverage for a mapped secrets control.
#[test]
fn coverage_of_controls_judged_by_weaknesses() {
    let crit = counts(1, 0, 0, 0, 0);
    let a01 = owasp().control("A01:2021").unwrap().clone();
    // A run that covered only sast_security judges A01 (sast_auth).
    let s = grouped_summary(
        &[SastSecurity],
        &[(SastSecurity, vec![22], crit)],
        Signals::default(),
    );
    let fw = framework("fw", vec![a01.clone()]);
    let report = score_now(&[&fw], &s);
    assert_eq!(status(&report, "fw", "A01:2021"), Fail);
    assert!(result(&report, "fw", "A01:2021").evidence.covered);
    let clean = grouped_summary(&[SastCrypto], &[], Signals::default());
    assert_eq!(status(&score_now(&[&fw], &clean), "fw", "A01:2021"), Pass);
    // Secrets and code quality covered, a code-quality finding with CWE-89: A03 has no evidence
    // and says what it saw.
    let a03 = owasp().control("A03:2021").unwrap().clone();
    let fw = framework("fw", vec![a03]);
    let s = grouped_summary(
        &[Secrets, CodeQuality],
        &[(CodeQuality, vec![89], crit)],
        Signals::default(),
    );
    let report = score_now(&[&fw], &s);
    let c = result(&report, "fw", "A03:2021");
    assert_eq!(c.status, NoEvidence);
    assert_eq!(
        c.reason,
        "No completed tool run in the latest scan covered sast_security or another SAST check \
         type; its 1 reported finding cannot be judged without coverage (1 finding (1 critical): \
         1 matched by CWE-89, 0 by check type sast_security)"
    );
    assert_eq!(c.evidence.counts, Some(crit));
    // A mapped secrets control is not covered by a SAST run.
    let fw = framework("fw", vec![mapped_control("S", Secrets, &[798])]);
    let s = grouped_summary(
        &[SastSecurity, SastCrypto, SastAuth],
        &[],
        Signals::default(),
    );
    let c = &score_now(&[&fw], &s).frameworks["fw"].controls[0];
    assert_eq!(c.status, NoEvidence);
    assert!(c
        .reason
        .starts_with("No completed tool run in the latest scan covered secrets"));
}

/// Past the summary's bound, an overflow group that stands for every CWE id counts against
/// every mapped control of its family: over-matching, never a silent pass.
#[test]
fn an_overflow_group_over_matches() {
    let mut s = grouped_summary(&[SastSecurity], &[], Signals::default());
    let c = counts(0, 2, 0, 0, 0);
    s.finding_groups = Some(vec![FindingGroup {
        check_type: SastSecurity,
        cwe: vec![],
        overflow: true,
        counts: c,
    }]);
    s.counts.insert(SastSecurity, c);
    recount(&mut s);
    let report = score_now(&[owasp()], &s);
    for id in ["A01:2021", "A03:2021", "A10:2021"] {
        let m = matched(&report, "owasp", id);
        assert_eq!((m.by_cwe, m.cwe.len()), (c, 0), "{id}");
    }
    assert_eq!(status(&report, "owasp", "A10:2021"), Fail);
    assert!(result(&report, "owasp", "A10:2021")
        .reason
        .starts_with("2 findings (2 high): 2 matched by CWE, 0 by check type sast_security"));
    // A listed union matches only what it lists.
    s.finding_groups.as_mut().unwrap()[0].cwe = vec![79, 89];
    let report = score_now(&[owasp()], &s);
    assert_eq!(matched(&report, "owasp", "A03:2021").cwe, vec![79, 89]);
    assert_eq!(status(&report, "owasp", "A10:2021"), Pass);
}

#[test]
fn matched_cwe_ids_are_bounded() {
    let ids: Vec<u32> = (1..=40).collect();
    let fw = framework("fw", vec![mapped_control("C", SastSecurity, &ids)]);
    let s = grouped_summary(
        &[SastSecurity],
        &ids.iter()
            .map(|id| (SastSecurity, vec![*id], counts(0, 0, 0, 1, 0)))
            .collect::<Vec<_>>(),
        Signals::default(),
    );
    let report = score_now(&[&fw], &s);
    let m = matched(&report, "fw", "C");
    assert_eq!(m.cwe, (1..=MATCHED_CWE_MAX as u32).collect::<Vec<_>>());
    assert_eq!(m.by_cwe.low, 40);
    assert_eq!(status(&report, "fw", "C"), Fail);
}

/// Refinement counts what the control is judged on: the SSRF makes A10 required, not A08.
#[test]
fn refinement_of_a_mapped_control_counts_its_matched_findings() {
    let summary = semgrep(&[r(&[918], None)]);
    let a10 = owasp().control("A10:2021").unwrap();
    let a08 = owasp().control("A08:2021").unwrap();
    let (badge, why) = refine_recommendation(a10, Some(&summary));
    assert_eq!(badge, crate::catalog::Recommendation::Required);
    assert_eq!(
        why,
        "1 finding matching its CWE ids or, without CWE id, its check type sast_security in \
         the latest scan"
    );
    assert_eq!(
        refine_recommendation(a08, Some(&summary)),
        (a08.recommendation, a08.recommendation_reason.clone())
    );
    // On a legacy summary, as before.
    let mut legacy = summary.clone();
    legacy.finding_groups = None;
    assert_eq!(
        refine_recommendation(a08, Some(&legacy)).1,
        "1 finding of sast_security in the latest scan"
    );
}

/// Signal-based controls are never judged by weaknesses, even with a mapping.
#[test]
fn a_mapping_on_a_signal_control_is_ignored() {
    let mut c = control("R", CheckType::PrReviews, PassCondition::MinApprovals(1));
    c.weaknesses = Some(WeaknessMapping::new([209], "custom").unwrap());
    let fw = framework("fw", vec![c]);
    let s = grouped_summary(
        &[SastSecurity],
        &[(SastSecurity, vec![209], counts(1, 0, 0, 0, 0))],
        Signals::default(),
    );
    let c = &score_now(&[&fw], &s).frameworks["fw"].controls[0];
    assert_eq!(c.status, NoEvidence);
    assert!(c.evidence.matched.is_none());
}
