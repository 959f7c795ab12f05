//! Tests of [`summarise`]: determinism, duplicate evidence and the size bounds of the summary.

use std::collections::BTreeMap;

use serde_json::json;

use super::{summarise, FindingGroup, ScanSummary, SeverityCounts};
use crate::catalog::{CheckType, Severity};
use crate::ingest::model::{self, ExclusionCounts, Finding, Location, NormalisedScan, ToolRun};
use crate::ingest::native::{self, PullRequestStats, QualityGate, Signals};
use crate::ingest::{parse_sarif, summary};

use CheckType::{SastAuth, SastSecurity, ScaVulns, Secrets};
use Severity::{Critical, High, Info, Low, Medium};

#[test]
fn summary_is_deterministic_and_skips_duplicate_evidence() {
    let f = |sev: Severity, fp: &str| Finding {
        check_type: Secrets,
        severity: sev,
        rule_id: "r".into(),
        tool: "t".into(),
        cwe: vec![],
        message: "m".into(),
        location: None,
        fingerprint: fp.into(),
    };
    let scan = NormalisedScan {
        tools: vec![],
        findings: vec![
            f(Low, "a"),
            f(High, "b"),
            f(High, "b"),
            f(Critical, "c"),
            f(Info, "d"),
        ],
        excluded: ExclusionCounts::default(),
    };
    let sum = summarise(&scan, &Signals::default());
    let fps: Vec<&str> = sum
        .top_findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    assert_eq!(fps, vec!["c", "b", "a", "d"]);
    assert_eq!(sum.counts[&Secrets].high, 2);
    // No run covered anything: counts exist, coverage is empty (no evidence of a clean scan).
    assert!(sum.covered.is_empty());
}

/// A synthetic report of 100k findings with long messages, many tools, failed runs and
/// oversized signals and evidence fields: the stored summary stays far below DynamoDB's 400 KB
/// item limit.
#[test]
fn summary_of_a_huge_report_stays_small() {
    use std::fmt::Write;
    const N: usize = 100_000;
    let long = |c: char, n: usize| std::iter::repeat_n(c, n).collect::<String>();

    // Written as text: a serde_json::Value of 100k results would cost far more memory.
    let message = long('m', 600);
    let mut doc = String::with_capacity(N * 900);
    doc.push_str(r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"Semgrep "#);
    doc.push_str(&long('n', 500));
    doc.push_str(r#"","rules":["#);
    for k in 0..50 {
        let cwe = [79, 327, 287, 798, 89][k % 5];
        let sep = if k == 0 { "" } else { "," };
        write!(
            doc,
            r#"{sep}{{"id":"R{k}","properties":{{"tags":["security","CWE-{cwe}"]}}}}"#
        )
        .unwrap();
    }
    doc.push_str(r#"]}},"results":["#);
    for i in 0..N {
        let sep = if i == 0 { "" } else { "," };
        let level = ["error", "warning", "note"][i % 3];
        write!(
            doc,
            r#"{sep}{{"ruleId":"R{}","level":"{level}","message":{{"text":"{i} {message}"}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"src/{i}/file.py"}},"region":{{"startLine":{}}}}}}}]}}"#,
            i % 50,
            i + 1
        )
        .unwrap();
    }
    doc.push_str("]}");
    // 200 more runs of distinct tools, half of them failed with long reasons.
    let reason = long('e', 2000);
    for t in 0..200 {
        write!(
            doc,
            r#",{{"tool":{{"driver":{{"name":"tool-{t}-{}"}}}},"invocations":[{{"executionSuccessful":{},"toolExecutionNotifications":[{{"level":"error","message":{{"text":"{reason}"}}}}]}}],"results":[]}}"#,
            long('t', 300),
            t % 2 == 1
        )
        .unwrap();
    }
    doc.push_str("]}");
    assert!(doc.len() > 60_000_000, "report is {} bytes", doc.len());

    let mut scan = parse_sarif(doc.as_bytes()).unwrap();
    drop(doc);
    assert_eq!(scan.findings.len(), N);
    assert_eq!(scan.tools.len(), 201);
    assert!(scan
        .findings
        .iter()
        .all(|f| f.message.chars().count() == model::MESSAGE_MAX_CHARS));

    // Findings with absurd fields (as a caller could build by hand) get into the evidence.
    for k in 0..40 {
        scan.findings.push(Finding {
            check_type: CheckType::ALL[k % 10],
            severity: Critical,
            rule_id: long('r', 10_000),
            tool: long('t', 10_000),
            cwe: (1..=500).collect(),
            message: long('m', 10_000),
            location: Some(Location {
                uri: long('u', 10_000),
                start_line: Some(1),
            }),
            fingerprint: format!("{k}{}", long('f', 10_000)),
        });
    }
    let signals = Signals {
        quality_gate: Some(QualityGate::Failed),
        pull_requests: Some(PullRequestStats {
            merged: u32::MAX,
            reviewed: u32::MAX,
            approvals_median: Some(99.5),
        }),
        // Deliberately beyond the bounds: summarise cuts, it does not trust its input.
        languages: (0..500)
            .map(|i| format!("lang{i}{}", long('l', 500)))
            .collect(),
        files: (0..500)
            .map(|i| format!("file{i}{}", long('f', 500)))
            .collect(),
    };
    let sum = summarise(&scan, &signals);
    let size = serde_json::to_vec(&sum).unwrap().len();
    assert!(size < 100_000, "summary is {size} bytes");
    assert_eq!(sum.totals.findings, N as u64 + 40);
    assert_eq!(sum.top_findings.len(), summary::TOP_FINDINGS_MAX);
    assert!(sum.top_findings.iter().all(|f| f.severity == Critical));
    assert_eq!(sum.tools.len(), summary::TOOLS_MAX);
    assert_eq!(sum.tools_omitted, 201 - summary::TOOLS_MAX as u64);
    assert_eq!(sum.failed_tools.len(), summary::FAILED_TOOLS_MAX);
    assert_eq!(
        sum.counts.values().map(|c| c.total()).sum::<u64>(),
        N as u64 + 40
    );
    assert_eq!(sum.counts[&Secrets].total(), (N / 5) as u64 + 4);
    assert_eq!(sum.signals.languages.len(), native::LANGUAGES_MAX);
    assert_eq!(sum.signals.files.len(), native::FILES_MAX);
}

/// The worst case by construction: every stored string at its bound, in 4-byte characters and
/// control characters (which JSON would escape to 6 bytes each, were they kept).
#[test]
fn summary_worst_case_is_bounded_in_bytes() {
    let nasty = |n: usize| "😀\u{1}\"\\".repeat(n);
    let mut scan = NormalisedScan::default();
    for t in 0..100 {
        scan.tools.push(ToolRun {
            tool: format!("{t}{}", nasty(500)),
            version: Some(nasty(500)),
            covered: CheckType::ALL.into_iter().collect(),
            failed: Some(nasty(5000)),
            results_counted: usize::MAX / 1000,
            results_excluded: usize::MAX / 1000,
        });
    }
    for k in 0..1000 {
        scan.findings.push(Finding {
            check_type: CheckType::ALL[k % 10],
            severity: Critical,
            rule_id: nasty(5000),
            tool: nasty(5000),
            cwe: (1..=100).collect(),
            message: nasty(5000),
            location: Some(Location {
                uri: nasty(5000),
                start_line: Some(u32::MAX),
            }),
            fingerprint: format!("{k}{}", nasty(5000)),
        });
    }
    let signals = Signals {
        quality_gate: Some(QualityGate::Passed),
        pull_requests: Some(PullRequestStats {
            merged: u32::MAX,
            reviewed: u32::MAX,
            approvals_median: Some(f64::MAX),
        }),
        languages: (0..1000).map(|i| format!("{i}{}", nasty(100))).collect(),
        files: (0..1000).map(|i| format!("{i}{}", nasty(100))).collect(),
    };
    // And the worst case of the finding groups (low findings: the evidence keeps the nasty
    // critical ones).
    scan.findings.extend(worst_case_group_findings(Low));
    let sum = summarise(&scan, &signals);
    let size = serde_json::to_vec(&sum).unwrap().len();
    // About 80 KB without the groups, 30 KB of groups: far below DynamoDB's 400 KB.
    assert!(size < 120_000, "summary is {size} bytes");
    assert_eq!(
        sum.finding_groups.as_ref().map(Vec::len),
        Some(summary::FINDING_GROUPS_MAX)
    );
    assert_eq!(sum.top_findings.len(), summary::TOP_FINDINGS_MAX);
    assert!(sum
        .top_findings
        .iter()
        .all(|f| f.message.len() <= 300 && !f.message.contains('\u{1}')));
}

// ---- finding groups (check type × CWE ids) ----

fn finding(check_type: CheckType, severity: Severity, cwe: &[u32], fp: &str) -> Finding {
    Finding {
        check_type,
        severity,
        rule_id: "r".into(),
        tool: "t".into(),
        cwe: cwe.to_vec(),
        message: "m".into(),
        location: None,
        fingerprint: fp.into(),
    }
}

fn scan_of(findings: Vec<Finding>) -> NormalisedScan {
    NormalisedScan {
        tools: vec![],
        findings,
        excluded: ExclusionCounts::default(),
    }
}

fn groups(sum: &ScanSummary) -> &[FindingGroup] {
    sum.finding_groups.as_deref().expect("new summaries group")
}

/// Adding up the groups of each check type gives its counts.
fn assert_groups_add_up_to_counts(sum: &ScanSummary) {
    let mut by_type: BTreeMap<CheckType, SeverityCounts> = BTreeMap::new();
    for g in groups(sum) {
        by_type
            .entry(g.check_type)
            .or_default()
            .add_counts(&g.counts);
    }
    for (ct, counts) in &sum.counts {
        assert_eq!(by_type.remove(ct).unwrap_or_default(), *counts, "{ct}");
    }
    assert!(by_type.values().all(|c| c.total() == 0), "{by_type:?}");
}

#[test]
fn findings_are_grouped_by_check_type_and_cwe_ids_each_once() {
    let scan = scan_of(vec![
        finding(SastSecurity, High, &[22, 918], "a"),
        finding(SastSecurity, Low, &[22, 918], "b"),
        finding(SastSecurity, Medium, &[79], "c"),
        finding(SastSecurity, Critical, &[], "d"),
        finding(SastAuth, High, &[22], "e"),
        finding(Secrets, Info, &[], "f"),
        // Ids out of order and repeated (a hand-built finding): the same group as [22, 918].
        finding(SastSecurity, Info, &[918, 22, 918], "g"),
    ]);
    let sum = summarise(&scan, &Default::default());
    let got: Vec<(CheckType, Vec<u32>, bool, u64)> = groups(&sum)
        .iter()
        .map(|g| (g.check_type, g.cwe.clone(), g.overflow, g.counts.total()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Secrets, vec![], false, 1),
            (SastSecurity, vec![], false, 1),
            (SastSecurity, vec![22, 918], false, 3),
            (SastSecurity, vec![79], false, 1),
            (SastAuth, vec![22], false, 1),
        ]
    );
    // A finding with two CWE ids is one finding.
    let two = &groups(&sum)[2];
    assert_eq!(
        (two.counts.high, two.counts.low, two.counts.info),
        (1, 1, 1)
    );
    assert_groups_add_up_to_counts(&sum);
    assert_eq!(
        groups(&sum).iter().map(|g| g.counts.total()).sum::<u64>(),
        sum.totals.findings
    );
    // A scan without findings has no group (but groups, so it is judged by CWE).
    let empty = summarise(&NormalisedScan::default(), &Default::default());
    assert_eq!(empty.finding_groups, Some(vec![]));
}

/// Suppressed, baseline-absent, non-fail and level-none results are in neither the counts nor
/// the groups.
#[test]
fn groups_leave_out_what_the_counts_leave_out() {
    let rule = json!({ "id": "R", "properties": { "tags": ["security", "external/cwe/cwe-918"] } });
    let r = |extra: serde_json::Value| {
        let mut r = json!({ "ruleId": "R", "level": "error", "message": { "text": "m" } });
        r.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        r
    };
    let results = json!([
        r(json!({})),
        r(json!({ "suppressions": [{ "kind": "inSource" }] })),
        r(json!({ "baselineState": "absent" })),
        r(json!({ "kind": "pass" })),
        r(json!({ "level": "none" })),
        r(json!({ "partialFingerprints": { "x": "2" } })),
    ]);
    let doc = json!({ "version": "2.1.0", "runs": [{ "tool": { "driver": { "name": "Semgrep OSS", "rules": [rule] } }, "results": results }] });
    let scan = parse_sarif(&serde_json::to_vec(&doc).unwrap()).unwrap();
    assert_eq!(scan.excluded.total(), 4);
    let sum = summarise(&scan, &Default::default());
    assert_eq!(sum.counts[&SastSecurity].total(), 2);
    assert_eq!(
        groups(&sum),
        [FindingGroup {
            check_type: SastSecurity,
            cwe: vec![918],
            overflow: false,
            counts: SeverityCounts {
                high: 2,
                ..SeverityCounts::default()
            },
        }]
    );
    assert_groups_add_up_to_counts(&sum);
}

/// More distinct (check type, CWE ids) than the bound: the largest groups and those without
/// CWE id are kept, the others merge into one overflow group per check type listing the union
/// of their ids, and every finding still meets every id it carries.
#[test]
fn groups_are_bounded_by_overflowing_into_a_union() {
    const N: u32 = 1000;
    let mut findings = Vec::new();
    for i in 0..N {
        let ct = [SastSecurity, ScaVulns][i as usize % 2];
        // Ids 1..=N: groups of one id each, distinct; group i appears i % 3 + 1 times.
        for k in 0..=(i % 3) {
            findings.push(finding(ct, High, &[i + 1], &format!("{i}-{k}")));
        }
    }
    findings.push(finding(SastSecurity, Low, &[], "none"));
    let sum = summarise(&scan_of(findings.clone()), &Default::default());
    let gs = groups(&sum);
    assert!(gs.len() <= summary::FINDING_GROUPS_MAX, "{}", gs.len());
    assert_eq!(gs.len(), summary::FINDING_GROUPS_MAX);
    assert_groups_add_up_to_counts(&sum);
    // The group without CWE id is kept, as exact groups are: the largest (3 findings).
    assert!(gs.iter().any(|g| g.without_cwe() && g.counts.low == 1));
    let overflow: Vec<&FindingGroup> = gs.iter().filter(|g| g.overflow).collect();
    assert_eq!(overflow.len(), 2, "one per check type");
    assert!(gs
        .iter()
        .filter(|g| !g.overflow && !g.cwe.is_empty())
        .all(|g| g.counts.total() == 3));
    // The union is too large to list (over OVERFLOW_CWE_MAX): the group stands for every id.
    assert!(overflow.iter().all(|g| g.cwe.is_empty()));
    // Nothing drops out of CWE matching.
    for f in &findings {
        assert!(
            gs.iter()
                .any(|g| g.check_type == f.check_type && (g.cwe == f.cwe || g.meets(&f.cwe))),
            "{f:?}"
        );
    }

    // A smaller overflow lists its union.
    let mut findings = Vec::new();
    for i in 0..(summary::FINDING_GROUPS_MAX as u32 + 10) {
        // Every group shares 50000: the union of the overflowing ones stays listable.
        findings.push(finding(
            SastSecurity,
            High,
            &[i + 1, 50_000],
            &format!("{i}"),
        ));
    }
    findings.push(finding(SastSecurity, High, &[1, 50_000], "again"));
    let sum = summarise(&scan_of(findings.clone()), &Default::default());
    let gs = groups(&sum);
    assert_eq!(gs.len(), summary::FINDING_GROUPS_MAX);
    let overflow = gs.iter().find(|g| g.overflow).unwrap();
    assert!(!overflow.cwe.is_empty() && overflow.cwe.len() <= summary::OVERFLOW_CWE_MAX);
    assert!(overflow.cwe.contains(&50_000));
    assert!(
        overflow.meets(&[50_000]) && !overflow.meets(&[1]),
        "{:?}",
        overflow.cwe
    );
    assert_eq!(gs.last(), Some(overflow), "the overflow group comes last");
    assert_groups_add_up_to_counts(&sum);
    for f in &findings {
        assert!(
            gs.iter().any(|g| g.cwe == f.cwe || g.meets(&f.cwe)),
            "{f:?}"
        );
    }
    // Deterministic.
    assert_eq!(summarise(&scan_of(findings), &Default::default()), sum);
}

/// A finding with more CWE ids than parsing keeps (built by hand) is not cut: it goes to the
/// overflow group of its check type, with all its ids.
#[test]
fn a_finding_with_too_many_cwe_ids_overflows_whole() {
    let many: Vec<u32> = (100..140).collect();
    let sum = summarise(
        &scan_of(vec![
            finding(SastAuth, High, &many, "a"),
            finding(SastAuth, Low, &[22], "b"),
        ]),
        &Default::default(),
    );
    let gs = groups(&sum);
    assert_eq!(gs.len(), 2);
    assert_eq!((gs[0].cwe.clone(), gs[0].overflow), (vec![22], false));
    assert_eq!((gs[1].cwe.clone(), gs[1].overflow), (many, true));
    assert!(gs[1].meets(&[139]));
}

#[test]
fn group_meets_ids() {
    let g = |cwe: Vec<u32>, overflow: bool| FindingGroup {
        check_type: SastSecurity,
        cwe,
        overflow,
        counts: SeverityCounts::default(),
    };
    assert!(g(vec![22, 918], false).meets(&[1, 918]));
    assert!(!g(vec![22, 918], false).meets(&[23, 917, 919]));
    assert!(!g(vec![], false).meets(&[22]));
    assert!(g(vec![], false).without_cwe());
    assert!(g(vec![], true).meets(&[22]) && !g(vec![], true).without_cwe());
    assert!(!g(vec![22], false).meets(&[]));
}

/// A summary stored before findings were grouped reads back with no groups (judged by check
/// type) and writes back as it was; a new one round-trips with its groups.
#[test]
fn summaries_stored_before_grouping_still_read_and_write_the_same() {
    let scan = scan_of(vec![finding(SastSecurity, High, &[918], "a")]);
    let new = summarise(&scan, &Default::default());
    let mut old_json = serde_json::to_value(&new).unwrap();
    old_json.as_object_mut().unwrap().remove("finding_groups");
    let text = serde_json::to_string(&old_json).unwrap();
    let old: ScanSummary = serde_json::from_str(&text).unwrap();
    assert_eq!(old.finding_groups, None);
    assert_eq!(serde_json::to_value(&old).unwrap(), old_json);
    assert!(!serde_json::to_string(&old)
        .unwrap()
        .contains("finding_groups"));

    let json = serde_json::to_value(&new).unwrap();
    assert_eq!(
        json["finding_groups"],
        json!([{ "check_type": "sast_security", "cwe": [918], "counts": { "critical": 0, "high": 1, "medium": 0, "low": 0, "info": 0 } }])
    );
    let back: ScanSummary = serde_json::from_value(json).unwrap();
    assert_eq!(back, new);
    // An overflow group says so.
    let many: Vec<u32> = (1..=20).collect();
    let sum = summarise(
        &scan_of(vec![finding(ScaVulns, Low, &many, "a")]),
        &Default::default(),
    );
    let json = serde_json::to_value(&sum).unwrap();
    assert_eq!(json["finding_groups"][0]["overflow"], json!(true));
    assert_eq!(serde_json::from_value::<ScanSummary>(json).unwrap(), sum);
}

/// Findings whose groups are the worst case in bytes: the bound reached with every exact group
/// at 16 five-digit ids and, for the check types, overflow groups listing up to
/// [`summary::OVERFLOW_CWE_MAX`] ids.
fn worst_case_group_findings(severity: Severity) -> Vec<Finding> {
    let per_type_kept =
        (summary::FINDING_GROUPS_MAX - 2 * CheckType::ALL.len()).div_ceil(CheckType::ALL.len());
    let mut findings = Vec::new();
    let mut next = 10_000u32;
    let mut ids = || {
        let ids: Vec<u32> = (next..next + 16).collect();
        next += 16;
        ids
    };
    for ct in CheckType::ALL {
        findings.push(finding(ct, severity, &[], &format!("{ct}-none")));
        // Kept: two findings each.
        for i in 0..per_type_kept {
            let ids = ids();
            findings.push(finding(ct, severity, &ids, &format!("{ct}-{i}-a")));
            findings.push(finding(ct, severity, &ids, &format!("{ct}-{i}-b")));
        }
        // Overflowing: one finding each, their union at the listable maximum.
        for i in 0..summary::OVERFLOW_CWE_MAX / 16 {
            findings.push(finding(ct, severity, &ids(), &format!("{ct}-{i}-o")));
        }
    }
    findings
}

#[test]
fn groups_worst_case_is_bounded_in_bytes() {
    let sum = summarise(
        &scan_of(worst_case_group_findings(Critical)),
        &Default::default(),
    );
    let gs = groups(&sum);
    assert_eq!(gs.len(), summary::FINDING_GROUPS_MAX);
    let overflow: Vec<&FindingGroup> = gs.iter().filter(|g| g.overflow).collect();
    assert_eq!(overflow.len(), CheckType::ALL.len());
    assert!(overflow
        .iter()
        .all(|g| g.cwe.len() <= summary::OVERFLOW_CWE_MAX));
    assert!(overflow
        .iter()
        .any(|g| g.cwe.len() == summary::OVERFLOW_CWE_MAX));
    assert_groups_add_up_to_counts(&sum);
    let size = serde_json::to_vec(gs).unwrap().len();
    assert!(size < 35_000, "groups are {size} bytes");
}
