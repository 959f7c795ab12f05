//! The whole pipeline over the real SARIF acceptance corpus (`../shared/sarif-samples`): every
//! file with its expected numbers, every invalid file refused, CWEs, locations and fingerprints
//! across samples, and the summary of a multi-tool scan.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::test_support::{sample, samples_dir, NATIVE_EXAMPLE};
use super::*;
use crate::catalog::{CheckType, Severity};

use CheckType::{CodeQuality, IacIssues, SastAuth, SastCrypto, SastSecurity, ScaVulns, Secrets};
use Severity::{Critical, High, Low, Medium};

// --- The corpus -----------------------------------------------------------------------------

/// Expected outcome of one accepted sample.
struct Expect {
    file: &'static str,
    runs: usize,
    /// Counted findings per (check type, severity); the sum is the counted total.
    counts: &'static [(CheckType, Severity, usize)],
    /// suppressed, baseline_absent, not_fail_kind, level_none.
    excluded: [usize; 4],
    /// Tools whose run failed (one entry per failed run).
    failed: &'static [&'static str],
    /// Check types covered by the runs that did not fail.
    covered: &'static [CheckType],
}

const SAST3: &[CheckType] = &[SastSecurity, SastCrypto, SastAuth];

/// Every accepted file of the corpus. Why each number is what it is: docs/ingestion.md
/// ("The acceptance corpus"), and the comments here.
const ACCEPTED: &[Expect] = &[
    // Bandit: severity from result.properties.issue_severity (MEDIUM ×2 for B104, LOW for the
    // B110 result whose level is note); CWE-605 and CWE-703 are plain security.
    Expect {
        file: "bandit/bandit-1.8.6_open-hostfactory.sarif",
        runs: 1,
        counts: &[(SastSecurity, Medium, 2), (SastSecurity, Low, 1)],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: SAST3,
    },
    // Checkov without platform key: level error → high. The 384 declared rules include
    // CKV_SECRET_2/6 (checkov declares only failed checks), so secrets is covered too.
    Expect {
        file: "checkov/checkov-3.2.425_smithy_trimmed.sarif",
        runs: 1,
        counts: &[(IacIssues, High, 3)],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[IacIssues, Secrets],
    },
    Expect {
        file: "checkov/checkov-3.2.470_smithy_valid.sarif",
        runs: 1,
        counts: &[(IacIssues, High, 1)],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[IacIssues],
    },
    // CodeQL: security-severity decides. js/hardcoded-credentials (CWE-259/321/798, 9.8) →
    // secrets critical; js/missing-rate-limiting ×25 (CWE-307, 7.5) → sast_auth high;
    // js/clear-text-cookie (CWE-311/312/319/614, 5.0) → sast_crypto medium; the rest
    // sast_security: code-injection 9.3, command-line-injection 9.8, xxe 9.1 (critical),
    // sql-injection 8.8, xss 7.8, xml-bomb 7.5 (high), untrusted-source 6.0, redirect 6.1
    // (medium). 81 notifications, all level none: not a failure.
    Expect {
        file: "codeql/codeql-2.20.4_javascript_smithy.sarif",
        runs: 1,
        counts: &[
            (Secrets, Critical, 1),
            (SastAuth, High, 25),
            (SastCrypto, Medium, 1),
            (SastSecurity, Critical, 3),
            (SastSecurity, High, 3),
            (SastSecurity, Medium, 2),
        ],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[Secrets, SastSecurity, SastCrypto, SastAuth],
    },
    // Two runs add up; all three results come from maintainability/reliability queries →
    // code_quality, rule default level note → low.
    Expect {
        file: "codeql/codeql-action_valid-sarif_2runs.sarif",
        runs: 2,
        counts: &[(CodeQuality, Low, 3)],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[SastSecurity, SastCrypto, SastAuth, CodeQuality],
    },
    // ESLint core rules: code_quality; level error → high; 4 of 7 suppressed in source.
    Expect {
        file: "eslint/eslint-9.26_uptime-watcher.sarif",
        runs: 1,
        counts: &[(CodeQuality, High, 3)],
        excluded: [4, 0, 0, 0],
        failed: &[],
        covered: &[CodeQuality],
    },
    // A clean gitleaks scan is evidence: secrets covered with zero findings.
    Expect {
        file: "gitleaks/gitleaks-8_edd-core_noresults.sarif",
        runs: 1,
        counts: &[],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[Secrets],
    },
    // gitleaks writes no level and no severity: SARIF default warning → medium.
    Expect {
        file: "gitleaks/gitleaks-8_provenancepass_3results.sarif",
        runs: 1,
        counts: &[(Secrets, Medium, 3)],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[Secrets],
    },
    // Dangling ruleId (not in driver.rules): the tool still decides (secrets).
    Expect {
        file: "gitleaks/gitleaks-8_sarif_simple.sarif",
        runs: 1,
        counts: &[(Secrets, Medium, 1)],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[Secrets],
    },
    // Every result has suppressions [{kind: external}] without status (= accepted).
    Expect {
        file: "grype/anchore-0.7.3_all-suppressed_trivy-sarif-demo.sarif",
        runs: 1,
        counts: &[],
        excluded: [429, 0, 0, 0],
        failed: &[],
        covered: &[ScaVulns],
    },
    // Unknown tool with `security` tags: SAST split by CWE; CWE-798 → secrets (9.8 critical),
    // CWE-1220 → sast_auth (5.0 medium), CWE-79 ×2 / 89 / 22 → sast_security high, the CWE-less
    // NOVEL rule (5.0) → sast_security medium.
    Expect {
        file: "sarif-sdk/CweGhasSample.sarif",
        runs: 1,
        counts: &[
            (Secrets, Critical, 1),
            (SastAuth, Medium, 1),
            (SastSecurity, High, 4),
            (SastSecurity, Medium, 1),
        ],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[Secrets, SastSecurity, SastAuth],
    },
    // ShouldBeNone (level none) and kind open are excluded; ShouldBeNote takes the invocation
    // override (note → low) over the rule default (error); explicit warning/error win.
    Expect {
        file: "sarif-sdk/InvocationOverridesRuleDefaultConfiguration.sarif",
        runs: 1,
        counts: &[
            (CodeQuality, High, 1),
            (CodeQuality, Medium, 1),
            (CodeQuality, Low, 1),
        ],
        excluded: [0, 0, 1, 1],
        failed: &[],
        covered: &[CodeQuality],
    },
    // baselineState absent is excluded; new/unchanged/updated count.
    Expect {
        file: "sarif-sdk/NewAndOldResults_baselineState.sarif",
        runs: 1,
        counts: &[(CodeQuality, High, 4)],
        excluded: [0, 1, 0, 0],
        failed: &[],
        covered: &[CodeQuality],
    },
    // CIS-CAT is a configuration benchmark → iac_issues; security-severity 8.0 → high.
    Expect {
        file: "sarif-sdk/ciscat-converter_compliance.sarif",
        runs: 1,
        counts: &[(IacIssues, High, 1)],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[IacIssues],
    },
    // CWE-120/119 via rule relationships into the CWE taxonomy: plain security; level decides.
    Expect {
        file: "sarif-sdk/flawfinder-converter_taxonomies.sarif",
        runs: 1,
        counts: &[(SastSecurity, High, 2), (SastSecurity, Low, 1)],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: SAST3,
    },
    // Two runs; rule security-severity 3.0 → low and 9.0 → critical (beats level and Nessus'
    // numeric `severity`).
    Expect {
        file: "sarif-sdk/nessus-converter_2runs.sarif",
        runs: 2,
        counts: &[(ScaVulns, Critical, 1), (ScaVulns, Low, 1)],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[ScaVulns],
    },
    // Untagged semgrep rule: SAST; rule default level warning → medium.
    Expect {
        file: "semgrep/semgrep_dataflow_traces.sarif",
        runs: 1,
        counts: &[(SastSecurity, Medium, 1)],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: SAST3,
    },
    Expect {
        file: "semgrep/semgrep_nosemgrep_suppressed.sarif",
        runs: 1,
        counts: &[],
        excluded: [1, 0, 0, 0],
        failed: &[],
        covered: SAST3,
    },
    // executionSuccessful true, but an error notification and no results: failed, covers
    // nothing (a scan that could not read its target is not a clean scan).
    Expect {
        file: "semgrep/semgrep_when_errors_noresults.sarif",
        runs: 1,
        counts: &[],
        excluded: [0, 0, 0, 0],
        failed: &["Semgrep OSS"],
        covered: &[],
    },
    // security-severity (CVSS) beats Snyk's own label in the rule text (mostly "Low
    // severity"): 9.8 ×3 critical; 7.5 ×6 and 7.8 high; 4.7-6.5 ×9 medium; 2.5 low.
    Expect {
        file: "snyk/snyk-container-1.1292.1_reloader.sarif",
        runs: 2,
        counts: &[
            (ScaVulns, Critical, 3),
            (ScaVulns, High, 7),
            (ScaVulns, Medium, 9),
            (ScaVulns, Low, 1),
        ],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[ScaVulns],
    },
    // No security-severity: the rule text ("High severity - …", "Medium severity - …") decides
    // (it agrees with the levels here). The first, empty run is a clean run.
    Expect {
        file: "snyk/snyk-open-source_allprojects_4runs_tbdex.sarif",
        runs: 4,
        counts: &[(ScaVulns, High, 3), (ScaVulns, Medium, 3)],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[ScaVulns],
    },
    // Trivy misconfigurations (tag `misconfiguration`) → iac_issues; security-severity 8.0 ×5
    // high, 5.5 medium, 2.0 ×2 low.
    Expect {
        file: "trivy/trivy-0.69_config_misconfig_terraform.sarif",
        runs: 1,
        counts: &[
            (IacIssues, High, 5),
            (IacIssues, Medium, 1),
            (IacIssues, Low, 2),
        ],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[IacIssues],
    },
    // Trivy vulnerabilities (tag `vulnerability`) → sca_vulns; security-severity 5.3 → medium.
    Expect {
        file: "trivy/trivy_vuln_alpine-310.sarif",
        runs: 1,
        counts: &[(ScaVulns, Medium, 4)],
        excluded: [0, 0, 0, 0],
        failed: &[],
        covered: &[ScaVulns],
    },
];

/// Every rejected file of the corpus: the error path and a part of the message.
const REJECTED: &[(&str, &str, &str)] = &[
    // A run without `results`: the tool did not run (§3.14.23); no run has any.
    (
        "invalid/sdk_NullResults_no_results_key.sarif",
        "runs[0].results",
        "no run of the log has a `results` array",
    ),
    // Version 2.1.0 with a pre-release `$schema` URI (accepted as such: Anchore writes rtm.4),
    // but an unrecognised tool with no rules and no results: no evidence of anything.
    (
        "invalid/sdk_ReferenceFinalSchema_Invalid_oldschema.sarif",
        "runs",
        "no evidence",
    ),
    // Bandit's own JSON format is not SARIF.
    (
        "bandit/bandit-1.8.6_open-hostfactory.json",
        "",
        "not a SARIF log: the document has neither `version` nor `runs`",
    ),
    (
        "invalid/sdk_JSON1001_SyntaxError.sarif",
        "",
        "not valid JSON: key must be a string (line 3, column 3)",
    ),
    ("invalid/sdk_Invalid_not_sarif.sarif", "", "not a SARIF log"),
    (
        "invalid/sdk_Comprehensive_v2.0.0.sarif",
        "version",
        "unsupported SARIF version \"2.0.0\": only 2.1.0 is accepted",
    ),
    (
        "invalid/codeql-action_invalid_results_is_number.sarif",
        "runs[0].results",
        "invalid type: integer `42`, expected a sequence",
    ),
    (
        "invalid/gitleaks_baseline_empty_runs.sarif",
        "runs",
        "no runs",
    ),
    (
        "invalid/smithy_checkov_empty_0bytes.sarif",
        "",
        "empty document",
    ),
    (
        "invalid/checkov_openapi_no_tool.sarif",
        "runs[0].tool",
        "missing `tool`",
    ),
];

fn severity_table(scan: &NormalisedScan) -> BTreeMap<(CheckType, Severity), usize> {
    let mut m = BTreeMap::new();
    for f in &scan.findings {
        *m.entry((f.check_type, f.severity)).or_insert(0) += 1;
    }
    m
}

#[test]
fn corpus_accepted_files_have_their_expected_numbers() {
    for e in ACCEPTED {
        let scan = parse_sarif(&sample(e.file)).unwrap_or_else(|err| panic!("{}: {err}", e.file));
        let want: BTreeMap<(CheckType, Severity), usize> =
            e.counts.iter().map(|(c, s, n)| ((*c, *s), *n)).collect();
        assert_eq!(severity_table(&scan), want, "{}: counts", e.file);
        let total: usize = e.counts.iter().map(|(_, _, n)| n).sum();
        assert_eq!(scan.findings.len(), total, "{}: counted", e.file);
        assert_eq!(
            scan.tools.iter().map(|t| t.results_counted).sum::<usize>(),
            total,
            "{}: per-run counted",
            e.file
        );
        let ex = scan.excluded;
        assert_eq!(
            [
                ex.suppressed,
                ex.baseline_absent,
                ex.not_fail_kind,
                ex.level_none
            ],
            e.excluded,
            "{}: excluded",
            e.file
        );
        assert_eq!(
            scan.tools.iter().map(|t| t.results_excluded).sum::<usize>(),
            ex.total(),
            "{}: per-run excluded",
            e.file
        );
        assert_eq!(scan.tools.len(), e.runs, "{}: runs", e.file);
        let failed: Vec<&str> = scan.failed_runs().map(|t| t.tool.as_str()).collect();
        assert_eq!(failed, e.failed, "{}: failed runs", e.file);
        let covered: BTreeSet<CheckType> = e.covered.iter().copied().collect();
        assert_eq!(scan.covered(), covered, "{}: coverage", e.file);
        for f in &scan.findings {
            assert!(f.message.chars().count() <= model::MESSAGE_MAX_CHARS);
            assert_eq!(f.fingerprint.len(), 32, "{}: fingerprint", e.file);
        }
        // Parsing is deterministic.
        assert_eq!(parse_sarif(&sample(e.file)).unwrap(), scan, "{}", e.file);
    }
}

#[test]
fn corpus_rejected_files_say_what_is_wrong() {
    for (file, path, message) in REJECTED {
        let err = parse_sarif(&sample(file)).expect_err(file);
        assert_eq!(err.path, *path, "{file}: {err}");
        assert!(err.message.contains(message), "{file}: {err}");
        // Display carries both.
        assert!(err.to_string().contains(message));
    }
}

#[test]
fn every_corpus_file_has_an_expected_outcome() {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("samples dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let root = Path::new(samples_dir!());
    let mut files = Vec::new();
    walk(root, &mut files);
    let known: BTreeSet<&str> = ACCEPTED
        .iter()
        .map(|e| e.file)
        .chain(REJECTED.iter().map(|r| r.0))
        .chain(["SOURCES.md"])
        .collect();
    assert_eq!(
        known.len(),
        ACCEPTED.len() + REJECTED.len() + 1,
        "duplicates"
    );
    let mut missing = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .replace('\\', "/");
        if !known.contains(rel.as_str()) {
            missing.push(rel);
        }
    }
    assert!(
        missing.is_empty(),
        "samples without an expected outcome: {missing:?}"
    );
    assert_eq!(
        files.len(),
        known.len(),
        "expected files missing from the corpus"
    );
    // Every file under invalid/ has a written-down outcome.
    let invalid = files
        .iter()
        .filter(|f| f.parent().is_some_and(|p| p.ends_with("invalid")))
        .count();
    assert_eq!(invalid, 9);
}

#[test]
fn corpus_findings_carry_cwe_locations_and_stable_fingerprints() {
    let scan = parse_sarif(&sample("sarif-sdk/flawfinder-converter_taxonomies.sarif")).unwrap();
    let cwes: Vec<Vec<u32>> = scan.findings.iter().map(|f| f.cwe.clone()).collect();
    assert_eq!(cwes, vec![vec![120], vec![119, 120], vec![120]]);
    // Flawfinder's contextHash repeats across files; the file keeps fingerprints distinct.
    let fps: BTreeSet<&str> = scan
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    assert_eq!(fps.len(), 3);
    assert_eq!(
        scan.findings[0].location,
        Some(Location {
            uri: "test1.cpp".into(),
            start_line: Some(32)
        })
    );

    let scan = parse_sarif(&sample("bandit/bandit-1.8.6_open-hostfactory.sarif")).unwrap();
    assert_eq!(scan.findings[0].cwe, vec![605]);
    assert_eq!(scan.findings[2].cwe, vec![703]);
    assert_eq!(scan.tools[0].version.as_deref(), Some("1.8.6"));

    let scan = parse_sarif(&sample("codeql/codeql-2.20.4_javascript_smithy.sarif")).unwrap();
    let creds = scan
        .findings
        .iter()
        .find(|f| f.rule_id == "js/hardcoded-credentials")
        .unwrap();
    assert_eq!(creds.cwe, vec![259, 321, 798]);
    assert_eq!(creds.check_type, Secrets);
    assert_eq!(scan.tools[0].version.as_deref(), Some("2.20.4"));
    let fps: BTreeSet<&str> = scan
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    assert_eq!(fps.len(), 35);

    let scan = parse_sarif(&sample(
        "snyk/snyk-open-source_allprojects_4runs_tbdex.sarif",
    ))
    .unwrap();
    assert!(scan
        .findings
        .iter()
        .all(|f| f.cwe == [400] || f.cwe == [78]));
}

// --- Summary --------------------------------------------------------------------------------

#[test]
fn summary_of_a_multi_tool_scan() {
    // Concatenate the runs of several samples into one scan.
    let mut scan = NormalisedScan::default();
    for file in [
        "codeql/codeql-2.20.4_javascript_smithy.sarif",
        "gitleaks/gitleaks-8_edd-core_noresults.sarif",
        "semgrep/semgrep_when_errors_noresults.sarif",
        "snyk/snyk-open-source_allprojects_4runs_tbdex.sarif",
        "eslint/eslint-9.26_uptime-watcher.sarif",
    ] {
        let s = parse_sarif(&sample(file)).unwrap();
        scan.tools.extend(s.tools);
        scan.findings.extend(s.findings);
        scan.excluded.add(&s.excluded);
    }
    let signals = parse_native(NATIVE_EXAMPLE).unwrap().signals;
    let sum = summarise(&scan, &signals);

    assert_eq!(
        sum.covered,
        BTreeSet::from([
            Secrets,
            SastSecurity,
            SastCrypto,
            SastAuth,
            ScaVulns,
            CodeQuality
        ])
    );
    // Secrets: covered by gitleaks (0 findings) and CodeQL's hard-coded credential.
    assert_eq!(
        sum.counts[&Secrets],
        SeverityCounts {
            critical: 1,
            ..Default::default()
        }
    );
    assert_eq!(sum.counts[&SastAuth].high, 25);
    assert_eq!(
        sum.counts[&ScaVulns],
        SeverityCounts {
            high: 3,
            medium: 3,
            ..Default::default()
        }
    );
    assert_eq!(
        sum.counts[&CodeQuality],
        SeverityCounts {
            high: 3,
            ..Default::default()
        }
    );
    assert!(!sum.counts.contains_key(&IacIssues));
    assert_eq!(sum.totals.findings, 35 + 6 + 3);
    assert_eq!(sum.totals.excluded, 4);
    assert_eq!(sum.totals.runs, 1 + 1 + 1 + 4 + 1);
    assert_eq!(sum.totals.failed_runs, 1);
    assert_eq!(sum.totals.by_severity.critical, 4);
    assert_eq!(sum.failed_tools.len(), 1);
    assert_eq!(sum.failed_tools[0].tool, "Semgrep OSS");
    // Snyk's four runs are one tool entry.
    let snyk = sum
        .tools
        .iter()
        .find(|t| t.tool == "Snyk Open Source")
        .unwrap();
    assert_eq!((snyk.runs, snyk.results_counted), (4, 6));
    assert_eq!(sum.tools.len(), 5);
    assert_eq!(sum.excluded.suppressed, 4);
    assert_eq!(sum.signals, signals);

    // Evidence: most severe first, ≤ 5 per check type, ≤ 25 overall.
    let top = &sum.top_findings;
    assert!(top.len() <= summary::TOP_FINDINGS_MAX);
    assert!(top.windows(2).all(|w| w[0].severity >= w[1].severity));
    assert_eq!(top[0].severity, Critical);
    let mut per: BTreeMap<CheckType, usize> = BTreeMap::new();
    for f in top {
        *per.entry(f.check_type).or_default() += 1;
    }
    assert!(per
        .values()
        .all(|n| *n <= summary::TOP_FINDINGS_PER_CHECK_TYPE));
    assert_eq!(per[&SastAuth], 5);
    assert_eq!(per[&Secrets], 1);
    assert_eq!(top.len(), 1 + 5 + 1 + 5 + 5 + 3);

    // Stored as JSON, read back unchanged.
    let bytes = serde_json::to_vec(&sum).unwrap();
    let back: ScanSummary = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(back, sum);
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["counts"]["sast_auth"]["high"], 25);
    assert_eq!(v["top_findings"][0]["severity"], "critical");
}
