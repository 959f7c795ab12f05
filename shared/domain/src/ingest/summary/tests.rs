//! Tests of [`summarise`]: determinism, duplicate evidence and the size bounds of the summary.

use super::summarise;
use crate::catalog::{CheckType, Severity};
use crate::ingest::model::{self, ExclusionCounts, Finding, Location, NormalisedScan, ToolRun};
use crate::ingest::native::{self, PullRequestStats, QualityGate, Signals};
use crate::ingest::{parse_sarif, summary};

use CheckType::Secrets;
use Severity::{Critical, High, Info, Low};

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
    let sum = summarise(&scan, &signals);
    let size = serde_json::to_vec(&sum).unwrap().len();
    assert!(size < 100_000, "summary is {size} bytes");
    assert_eq!(sum.top_findings.len(), summary::TOP_FINDINGS_MAX);
    assert!(sum
        .top_findings
        .iter()
        .all(|f| f.message.len() <= 300 && !f.message.contains('\u{1}')));
}
