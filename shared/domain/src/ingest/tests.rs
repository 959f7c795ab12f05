//! Ingestion tests: every file of the SARIF acceptance corpus (`../shared/sarif-samples`) with
//! its expected numbers, every rule of the severity order, CWE extraction, exclusions, failed
//! runs, coverage, the native document and the summary bounds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::*;
use crate::catalog::{CheckType, Severity};

use CheckType::{CodeQuality, IacIssues, SastAuth, SastCrypto, SastSecurity, ScaVulns, Secrets};
use Severity::{Critical, High, Info, Low, Medium};

macro_rules! samples_dir {
    () => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/sarif-samples")
    };
}

fn sample(rel: &str) -> Vec<u8> {
    let path = Path::new(samples_dir!()).join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

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

// --- Synthetic SARIF helpers ----------------------------------------------------------------

fn log(runs: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({ "version": "2.1.0", "runs": runs })).unwrap()
}

fn one_run(tool: &str, rules: Value, results: Value) -> Vec<u8> {
    log(json!([{ "tool": { "driver": { "name": tool, "rules": rules } }, "results": results }]))
}

fn only_finding(bytes: &[u8]) -> Finding {
    let scan = parse_sarif(bytes).unwrap();
    assert_eq!(scan.findings.len(), 1, "{scan:?}");
    scan.findings.into_iter().next().unwrap()
}

fn severity_of(tool: &str, rule: Value, result: Value) -> Severity {
    let mut result = result;
    result["ruleId"] = json!("R1");
    result["message"] = json!({ "text": "m" });
    let mut rule = rule;
    rule["id"] = json!("R1");
    only_finding(&one_run(tool, json!([rule]), json!([result]))).severity
}

// --- Severity order -------------------------------------------------------------------------

#[test]
fn severity_1_result_security_severity_beats_everything() {
    let s = severity_of(
        "x",
        json!({ "properties": { "security-severity": "2.0", "severity": "HIGH" }, "defaultConfiguration": { "level": "error" } }),
        json!({ "level": "error", "properties": { "security-severity": 9.5, "issue_severity": "LOW" } }),
    );
    assert_eq!(s, Critical);
}

#[test]
fn severity_1_rule_security_severity_beats_cvss_labels_and_levels() {
    let s = severity_of(
        "Trivy",
        json!({ "properties": { "security-severity": "5.3", "cvssv3_baseScore": 9.8, "tags": ["vulnerability", "HIGH"] } }),
        json!({ "level": "error", "properties": { "issue_severity": "LOW" } }),
    );
    assert_eq!(s, Medium);
}

#[test]
fn severity_1_numbers_in_strings_and_labels_where_numbers_are_expected() {
    let rule = |v: Value| json!({ "properties": { "security-severity": v } });
    assert_eq!(
        severity_of("x", rule(json!(" 7.5 (High)")), json!({})),
        High
    );
    assert_eq!(severity_of("x", rule(json!("HIGH")), json!({})), High);
    assert_eq!(
        severity_of("x", rule(json!("critical")), json!({})),
        Critical
    );
    assert_eq!(severity_of("x", rule(json!(0)), json!({})), Info);
    assert_eq!(severity_of("x", rule(json!("0.0")), json!({})), Info);
    assert_eq!(severity_of("x", rule(json!(4)), json!({})), Medium);
    // Unusable values fall through to the next source (here: the result level).
    assert_eq!(
        severity_of("x", rule(json!("n/a")), json!({ "level": "note" })),
        Low
    );
    assert_eq!(
        severity_of("x", rule(json!(11)), json!({ "level": "error" })),
        High
    );
    assert_eq!(
        severity_of("x", rule(json!([9.8])), json!({ "level": "error" })),
        High
    );
    assert_eq!(severity_of("x", rule(json!(null)), json!({})), Medium);
}

#[test]
fn severity_2_cvss_base_scores_beat_labels_and_levels() {
    assert_eq!(
        severity_of(
            "x",
            json!({ "properties": { "cvssv3_baseScore": 9.1, "severity": "low" } }),
            json!({ "level": "note" })
        ),
        Critical
    );
    assert_eq!(
        severity_of(
            "x",
            json!({}),
            json!({ "level": "note", "properties": { "cvss3BaseScore": "7.2" } })
        ),
        High
    );
}

#[test]
fn severity_3_tool_labels_beat_levels() {
    // Bandit: result.properties.issue_severity.
    assert_eq!(
        severity_of(
            "Bandit",
            json!({}),
            json!({ "level": "note", "properties": { "issue_severity": "HIGH", "issue_confidence": "LOW" } })
        ),
        High
    );
    // A generic `severity` label (result, then rule).
    assert_eq!(
        severity_of(
            "x",
            json!({ "properties": { "severity": "Moderate" } }),
            json!({ "level": "error" })
        ),
        Medium
    );
    assert_eq!(
        severity_of(
            "x",
            json!({ "properties": { "severity": "low" } }),
            json!({ "level": "error", "properties": { "severity": "critical" } })
        ),
        Critical
    );
    // A numeric `severity` is on an unknown scale (Nessus: 0-4): ignored.
    assert_eq!(
        severity_of(
            "x",
            json!({}),
            json!({ "level": "error", "properties": { "severity": "1" } })
        ),
        High
    );
    // UNDEFINED is no severity.
    assert_eq!(
        severity_of(
            "Bandit",
            json!({}),
            json!({ "level": "note", "properties": { "issue_severity": "UNDEFINED" } })
        ),
        Low
    );
    // Severity tags (trivy writes HIGH/MEDIUM/LOW next to `vulnerability`).
    assert_eq!(
        severity_of(
            "Trivy",
            json!({ "properties": { "tags": ["vulnerability", "security", "CRITICAL"] } }),
            json!({ "level": "warning" })
        ),
        Critical
    );
    // Rule text, only for tools whose profile says so (Snyk, Anchore).
    assert_eq!(
        severity_of(
            "Snyk Open Source",
            json!({ "shortDescription": { "text": "High severity - Command Injection vulnerability in lodash" } }),
            json!({ "level": "warning" })
        ),
        High
    );
    assert_eq!(
        severity_of(
            "Anchore Container Vulnerability Report",
            json!({ "shortDescription": { "text": "CVE-2019-18276 Severity=Critical Package=bash" } }),
            json!({ "level": "warning" })
        ),
        Critical
    );
    assert_eq!(
        severity_of(
            "Unknown scanner",
            json!({ "shortDescription": { "text": "High severity - something" } }),
            json!({ "level": "warning" })
        ),
        Medium
    );
}

#[test]
fn severity_4_5_6_levels_overrides_and_default() {
    // Result level beats the rule default.
    assert_eq!(
        severity_of(
            "x",
            json!({ "defaultConfiguration": { "level": "error" } }),
            json!({ "level": "note" })
        ),
        Low
    );
    // Rule default when the result has no level.
    assert_eq!(
        severity_of(
            "x",
            json!({ "defaultConfiguration": { "level": "error" } }),
            json!({})
        ),
        High
    );
    // SARIF default: warning → medium.
    assert_eq!(severity_of("x", json!({}), json!({})), Medium);
    // Invocation override beats the rule default, by id or by index.
    for descriptor in [json!({ "id": "R1" }), json!({ "index": 0 })] {
        let bytes = log(json!([{
            "tool": { "driver": { "name": "x", "rules": [{ "id": "R1", "defaultConfiguration": { "level": "note" } }] } },
            "invocations": [{ "executionSuccessful": true, "ruleConfigurationOverrides": [
                { "descriptor": descriptor, "configuration": { "level": "error" } }
            ] }],
            "results": [
                { "ruleId": "R1", "message": { "text": "a" } },
                { "ruleId": "R1", "level": "warning", "message": { "text": "b" } },
                { "ruleId": "R1/sub", "message": { "text": "c" } }
            ]
        }]));
        let scan = parse_sarif(&bytes).unwrap();
        let sev: Vec<Severity> = scan.findings.iter().map(|f| f.severity).collect();
        assert_eq!(sev, vec![High, Medium, High]);
    }
    // An override can turn a rule off (level none): excluded as level_none.
    let bytes = log(json!([{
        "tool": { "driver": { "name": "x", "rules": [{ "id": "R1" }] } },
        "invocations": [{ "executionSuccessful": true, "ruleConfigurationOverrides": [
            { "descriptor": { "id": "R1" }, "configuration": { "level": "none" } }
        ] }],
        "results": [{ "ruleId": "R1", "message": { "text": "a" } }]
    }]));
    let scan = parse_sarif(&bytes).unwrap();
    assert_eq!(scan.findings.len(), 0);
    assert_eq!(scan.excluded.level_none, 1);
}

// --- CWE extraction -------------------------------------------------------------------------

fn cwes_of(run: Value) -> Vec<u32> {
    only_finding(&log(json!([run]))).cwe
}

#[test]
fn cwe_from_tags_properties_relationships_and_taxa() {
    // Tags in every spelling, rule and result, deduplicated and sorted.
    assert_eq!(
        cwes_of(json!({
            "tool": { "driver": { "name": "x", "rules": [{ "id": "R", "properties": { "tags": ["external/cwe/cwe-079", "CWE-798", "cwe-89: SQL", "security"] } }] } },
            "results": [{ "ruleId": "R", "message": { "text": "m" }, "properties": { "tags": ["CWE-79"] } }]
        })),
        vec![79, 89, 798]
    );
    // `cwe` / `CWE` properties: strings, numbers, lists.
    assert_eq!(
        cwes_of(json!({
            "tool": { "driver": { "name": "x", "rules": [{ "id": "R", "properties": { "cwe": ["CWE-22", 23, "24"], "CWE": "CWE-25" } }] } },
            "results": [{ "ruleId": "R", "message": { "text": "m" }, "properties": { "cwe": "CWE-26" } }]
        })),
        vec![22, 23, 24, 25, 26]
    );
    // Rule relationships to the CWE taxonomy by name, by index into run.taxonomies (id or
    // taxon index), by GUID of an external CWE taxonomy; a non-CWE taxonomy does not count.
    assert_eq!(
        cwes_of(json!({
            "tool": { "driver": { "name": "x", "rules": [{ "id": "R", "relationships": [
                { "target": { "id": "CWE-120", "toolComponent": { "name": "CWE" } } },
                { "target": { "id": "121", "toolComponent": { "index": 1 } } },
                { "target": { "index": 1, "toolComponent": { "index": 1 } } },
                { "target": { "id": "123", "toolComponent": { "guid": "ffc64c90-42b6-44ce-8beb-f6b7dae649e5" } } },
                { "target": { "id": "A03", "toolComponent": { "index": 0 } } },
                { "target": { "id": "999", "toolComponent": { "name": "OWASP" } } }
            ] }] } },
            "taxonomies": [
                { "name": "OWASP", "taxa": [{ "id": "A03" }] },
                { "name": "CWE", "taxa": [{ "id": "121" }, { "id": "122" }] }
            ],
            "externalPropertyFileReferences": { "taxonomies": [
                { "guid": "FFC64C90-42B6-44CE-8BEB-F6B7DAE649E5", "location": { "uri": "https://raw.githubusercontent.com/sarif-standard/taxonomies/main/CWE_v4.4.sarif" } }
            ] },
            "results": [{ "ruleId": "R", "message": { "text": "m" } }]
        })),
        vec![120, 121, 122, 123]
    );
    // Result taxa.
    assert_eq!(
        cwes_of(json!({
            "tool": { "driver": { "name": "x" } },
            "results": [{ "ruleId": "R", "message": { "text": "m" }, "taxa": [
                { "id": "CWE-327" }, { "id": "327", "toolComponent": { "name": "cwe" } }, { "id": "A02" }
            ] }]
        })),
        vec![327]
    );
}

#[test]
fn cwe_decides_the_sast_check_type() {
    let ct = |tags: Value| {
        only_finding(&one_run(
            "Semgrep OSS",
            json!([{ "id": "R", "properties": { "tags": tags } }]),
            json!([{ "ruleId": "R", "message": { "text": "m" } }]),
        ))
        .check_type
    };
    assert_eq!(
        ct(json!([
            "CWE-327: Use of a Broken or Risky Cryptographic Algorithm"
        ])),
        SastCrypto
    );
    assert_eq!(ct(json!(["CWE-287: Improper Authentication"])), SastAuth);
    assert_eq!(
        ct(json!(["CWE-798: Use of Hard-coded Credentials"])),
        Secrets
    );
    assert_eq!(ct(json!(["CWE-89"])), SastSecurity);
    assert_eq!(ct(json!(["maintainability"])), CodeQuality);
    assert_eq!(ct(json!([])), SastSecurity);
}

// --- Exclusions -----------------------------------------------------------------------------

fn results_run(results: Value) -> NormalisedScan {
    parse_sarif(&one_run("x", json!([]), results)).unwrap()
}

#[test]
fn suppressions_by_status() {
    let r = |sup: Value| json!({ "ruleId": "R", "message": { "text": "m" }, "suppressions": sup });
    let scan = results_run(json!([
        r(json!([{ "kind": "inSource" }])), // status absent: suppressed
        r(json!([{ "kind": "external", "status": "accepted" }])), // suppressed
        r(json!([{ "kind": "external", "status": "underReview" }])), // counted (decision)
        r(json!([{ "kind": "external", "status": "rejected" }])), // counted
        r(
            json!([{ "kind": "inSource", "status": "rejected" }, { "kind": "external", "status": "accepted" }])
        ), // suppressed
        r(
            json!([{ "kind": "inSource", "status": "underReview" }, { "kind": "external", "status": "rejected" }])
        ), // counted
        r(json!([])),                       // counted
    ]));
    assert_eq!(scan.excluded.suppressed, 3);
    assert_eq!(scan.findings.len(), 4);
    assert_eq!(scan.tools[0].results_excluded, 3);
}

#[test]
fn baseline_kind_and_level_exclusions_and_their_order() {
    let scan = results_run(json!([
        { "ruleId": "R", "message": { "text": "a" }, "baselineState": "absent" },
        { "ruleId": "R", "message": { "text": "b" }, "baselineState": "new" },
        { "ruleId": "R", "message": { "text": "c" }, "baselineState": "unchanged" },
        { "ruleId": "R", "message": { "text": "d" }, "baselineState": "updated" },
        { "ruleId": "R", "message": { "text": "e" }, "kind": "pass" },
        { "ruleId": "R", "message": { "text": "f" }, "kind": "open" },
        { "ruleId": "R", "message": { "text": "g" }, "kind": "informational" },
        { "ruleId": "R", "message": { "text": "h" }, "kind": "notApplicable" },
        { "ruleId": "R", "message": { "text": "i" }, "kind": "review" },
        { "ruleId": "R", "message": { "text": "j" }, "kind": "fail" },
        { "ruleId": "R", "message": { "text": "k" }, "level": "none" },
        // Several reasons: counted once, under the first (suppressed, baseline, kind, level).
        { "ruleId": "R", "message": { "text": "l" }, "level": "none", "kind": "pass", "baselineState": "absent", "suppressions": [{ "kind": "inSource" }] },
        { "ruleId": "R", "message": { "text": "m" }, "level": "none", "kind": "pass", "baselineState": "absent" },
        { "ruleId": "R", "message": { "text": "n" }, "level": "none", "kind": "pass" }
    ]));
    assert_eq!(
        scan.excluded,
        ExclusionCounts {
            suppressed: 1,
            baseline_absent: 2,
            not_fail_kind: 6,
            level_none: 1
        }
    );
    assert_eq!(scan.findings.len(), 4);
}

// --- Failed runs and coverage ---------------------------------------------------------------

#[test]
fn failed_runs_cover_nothing_and_are_recorded() {
    let run = |invocations: Value, results: Option<Value>| {
        let mut r =
            json!({ "tool": { "driver": { "name": "gitleaks" } }, "invocations": invocations });
        if let Some(results) = results {
            r["results"] = results;
        }
        parse_sarif(&log(json!([r]))).unwrap()
    };
    let finding = json!([{ "ruleId": "aws", "message": { "text": "leak" } }]);

    // executionSuccessful false: failed even with results; its findings still count.
    let scan = run(
        json!([{ "executionSuccessful": false, "toolExecutionNotifications": [{ "level": "error", "message": { "text": "boom" } }] }]),
        Some(finding.clone()),
    );
    assert_eq!(scan.findings.len(), 1);
    assert!(scan.tools[0].failed.as_deref().unwrap().contains("boom"));
    assert!(scan.tools[0].covered.is_empty());
    assert!(scan.covered().is_empty());

    // Error notifications with results: completed (partial errors are common).
    let scan = run(
        json!([{ "executionSuccessful": true, "toolExecutionNotifications": [{ "level": "error", "message": { "text": "x" } }] }]),
        Some(finding),
    );
    assert_eq!(scan.tools[0].failed, None);
    assert_eq!(scan.covered(), BTreeSet::from([Secrets]));

    // Error notifications and no results: failed.
    let scan = run(
        json!([{ "executionSuccessful": true, "toolExecutionNotifications": [{ "level": "error", "message": { "text": "cannot read repo" } }] }]),
        Some(json!([])),
    );
    assert!(scan.tools[0]
        .failed
        .as_deref()
        .unwrap()
        .contains("cannot read repo"));
    assert!(scan.covered().is_empty());

    // Warning notifications and no results: a clean run.
    let scan = run(
        json!([{ "executionSuccessful": true, "toolExecutionNotifications": [{ "level": "warning", "message": { "text": "slow" } }, { "message": { "text": "default level is warning" } }] }]),
        Some(json!([])),
    );
    assert_eq!(scan.tools[0].failed, None);
    assert_eq!(scan.covered(), BTreeSet::from([Secrets]));

    // No results array: the tool did not run. Beside another run it is recorded as failed;
    // alone, the log is refused (see REJECTED).
    let ran = json!({ "tool": { "driver": { "name": "Checkov" } }, "results": [] });
    let did_not = json!({ "tool": { "driver": { "name": "gitleaks" } } });
    let scan = parse_sarif(&log(json!([ran, did_not]))).unwrap();
    assert!(scan.tools[1]
        .failed
        .as_deref()
        .unwrap()
        .contains("no `results` array"));
    let alone = parse_sarif(&log(
        json!([{ "tool": { "driver": { "name": "gitleaks" } } }]),
    ));
    assert_eq!(alone.unwrap_err().path, "runs[0].results");
}

#[test]
fn coverage_by_tool_identity_rules_and_results() {
    let covered = |runs: Value| parse_sarif(&log(runs)).unwrap().covered();
    let empty_run = |name: &str| json!({ "tool": { "driver": { "name": name } }, "results": [] });

    assert_eq!(
        covered(json!([empty_run("gitleaks")])),
        BTreeSet::from([Secrets])
    );
    assert_eq!(
        covered(json!([empty_run("Semgrep OSS")])),
        BTreeSet::from([SastSecurity, SastCrypto, SastAuth])
    );
    assert_eq!(
        covered(json!([empty_run("Checkov")])),
        BTreeSet::from([IacIssues])
    );
    assert_eq!(
        covered(json!([empty_run("ESLint")])),
        BTreeSet::from([CodeQuality])
    );
    // A clean trivy run does not say what it scanned: no coverage (beside a run that has some,
    // so that the log is evidence at all).
    assert_eq!(
        covered(json!([empty_run("Trivy"), empty_run("gitleaks")])),
        BTreeSet::from([Secrets])
    );
    // An unknown tool covers only what its rules/results show; alone with nothing, the log is
    // refused as no evidence.
    assert_eq!(
        covered(json!([empty_run("My scanner"), empty_run("gitleaks")])),
        BTreeSet::from([Secrets])
    );
    let nothing = parse_sarif(&log(json!([empty_run("My scanner")])));
    assert!(nothing.unwrap_err().message.starts_with("no evidence"));
    // Several runs add up.
    assert_eq!(
        covered(json!([
            empty_run("gitleaks"),
            empty_run("Checkov"),
            empty_run("Snyk Open Source")
        ])),
        BTreeSet::from([Secrets, IacIssues, ScaVulns])
    );
    // Trivy with misconfiguration rules covers iac_issues, with vulnerability results sca_vulns.
    assert_eq!(
        covered(json!([{
            "tool": { "driver": { "name": "Trivy", "rules": [{ "id": "AWS-1", "properties": { "tags": ["misconfiguration"] } }] } },
            "results": [{ "ruleId": "CVE-1", "message": { "text": "m" }, "properties": { "tags": ["vulnerability"] } }]
        }])),
        BTreeSet::from([IacIssues, ScaVulns])
    );
    // ESLint with a security-plugin rule declared covers SAST too; disabled rules don't count.
    assert_eq!(
        covered(json!([{
            "tool": { "driver": { "name": "ESLint", "rules": [
                { "id": "security/detect-eval-with-expression" },
                { "id": "no-secrets/no-secrets", "defaultConfiguration": { "enabled": false } }
            ] } },
            "results": []
        }])),
        BTreeSet::from([CodeQuality, SastSecurity])
    );
    // Excluded results still show what the tool checks for.
    assert_eq!(
        covered(json!([{
            "tool": { "driver": { "name": "My scanner" } },
            "results": [{ "ruleId": "R", "message": { "text": "m" }, "kind": "pass", "properties": { "tags": ["vulnerability"] } }]
        }])),
        BTreeSet::from([ScaVulns])
    );
}

// --- Rule resolution, messages, locations ---------------------------------------------------

#[test]
fn rule_resolution_by_index_id_hierarchy_and_extensions() {
    // ruleIndex that contradicts ruleId (Anchore writes index 0 everywhere): the id wins.
    let bytes = one_run(
        "Anchore Container Vulnerability Report",
        json!([
            { "id": "A", "shortDescription": { "text": "CVE-1 Severity=Low Package=a" } },
            { "id": "B", "shortDescription": { "text": "CVE-2 Severity=Critical Package=b" } }
        ]),
        json!([{ "ruleId": "B", "ruleIndex": 0, "message": { "text": "m" } }]),
    );
    assert_eq!(only_finding(&bytes).severity, Critical);
    // Rules in an extension, referenced through rule.toolComponent.index.
    let bytes = log(json!([{
        "tool": {
            "driver": { "name": "CodeQL", "rules": [] },
            "extensions": [{ "name": "codeql/javascript-queries", "rules": [
                { "id": "js/x", "properties": { "tags": ["security", "external/cwe/cwe-327"], "security-severity": "9.1" } }
            ] }]
        },
        "results": [{ "rule": { "id": "js/x", "index": 0, "toolComponent": { "index": 0 } }, "message": { "text": "m" } }]
    }]));
    let f = only_finding(&bytes);
    assert_eq!(
        (f.rule_id.as_str(), f.check_type, f.severity),
        ("js/x", SastCrypto, Critical)
    );
}

#[test]
fn long_rule_ids_and_many_cwes() {
    // A rule id longer than the stored bound still resolves; the finding keeps a cut copy.
    let id = "r".repeat(1000);
    let f = only_finding(&one_run(
        "x",
        json!([{ "id": id, "properties": { "security-severity": "9.9" } }]),
        json!([{ "ruleId": id, "message": { "text": "m" } }]),
    ));
    assert_eq!(f.severity, Critical);
    assert_eq!(f.rule_id.chars().count(), model::RULE_ID_MAX_CHARS);
    // More CWE ids than are kept: classification sees them all (CWE-798 → secrets).
    let tags: Vec<String> = (1..=20)
        .map(|c| format!("CWE-{c}"))
        .chain(["CWE-798".into()])
        .collect();
    let f = only_finding(&one_run(
        "Semgrep OSS",
        json!([{ "id": "R", "properties": { "tags": tags } }]),
        json!([{ "ruleId": "R", "message": { "text": "m" } }]),
    ));
    assert_eq!(f.check_type, Secrets);
    assert_eq!(f.cwe, (1..=16).collect::<Vec<u32>>());
}

#[test]
fn messages_locations_and_fingerprints() {
    let long = "x".repeat(5000);
    let bytes = log(json!([{
        "tool": { "driver": { "name": "x", "rules": [{ "id": "R", "shortDescription": { "text": "Rule text" } }] } },
        "artifacts": [{ "location": { "uri": "src/a.py" } }],
        "results": [
            { "ruleId": "R", "message": { "text": long } },
            { "ruleId": "R", "message": { "id": "md", "markdown": "**md**" }, "locations": [
                { "physicalLocation": { "artifactLocation": { "index": 0 }, "region": { "startLine": 7 } } },
                { "physicalLocation": { "artifactLocation": { "uri": "ignored.py" } } }
            ] },
            { "ruleId": "R", "message": { "id": "default" }, "analysisTarget": { "uri": "Dockerfile" } },
            { "ruleId": "R", "message": { "text": "same" }, "partialFingerprints": { "h": "1" }, "locations": [{ "physicalLocation": { "artifactLocation": { "uri": "a" } } }] },
            { "ruleId": "R", "message": { "text": "other text" }, "partialFingerprints": { "h": "1" }, "locations": [{ "physicalLocation": { "artifactLocation": { "uri": "a" }, "region": { "startLine": 99 } } }] },
            { "ruleId": "R", "message": { "text": "same" }, "partialFingerprints": { "h": "1" }, "locations": [{ "physicalLocation": { "artifactLocation": { "uri": "b" } } }] }
        ]
    }]));
    let scan = parse_sarif(&bytes).unwrap();
    let f = &scan.findings;
    assert_eq!(f[0].message.chars().count(), model::MESSAGE_MAX_CHARS);
    assert!(f[0].message.ends_with('…'));
    assert_eq!(f[0].location, None);
    assert_eq!(f[1].message, "**md**");
    assert_eq!(
        f[1].location,
        Some(Location {
            uri: "src/a.py".into(),
            start_line: Some(7)
        })
    );
    assert_eq!(f[2].message, "Rule text");
    assert_eq!(
        f[2].location,
        Some(Location {
            uri: "Dockerfile".into(),
            start_line: None
        })
    );
    // Partial fingerprints: stable across message/line changes, distinct across files.
    assert_eq!(f[3].fingerprint, f[4].fingerprint);
    assert_ne!(f[3].fingerprint, f[5].fingerprint);
    // Without fingerprints the content decides.
    assert_ne!(f[0].fingerprint, f[1].fingerprint);
}

// --- Invalid input --------------------------------------------------------------------------

fn rejects(bytes: &[u8], path: &str, message: &str) {
    let err = parse_sarif(bytes).expect_err(message);
    assert_eq!(err.path, path, "{err}");
    assert!(err.message.contains(message), "{err}");
}

#[test]
fn invalid_documents_are_rejected_with_a_path() {
    rejects(b"[]", "", "must be a JSON object");
    rejects(b"\"x\"", "", "must be a JSON object");
    rejects(b"[1, 2", "", "not valid JSON");
    rejects(
        b"{\"version\": \"2.1.0\", \"runs\": {}}",
        "runs",
        "expected a sequence",
    );
    rejects(
        b"{\"version\": 2.1, \"runs\": []}",
        "version",
        "unsupported SARIF version 2.1",
    );
    rejects(b"{\"runs\": []}", "version", "missing `version`");
    rejects(b"{\"version\": \"2.1.0\"}", "runs", "missing `runs`");
    rejects(
        b"{\"version\": \"2.1.0\", \"runs\": [1]}",
        "runs[0]",
        "invalid type",
    );
    rejects(
        b"{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"name\": \"x\"}, \"results\": []}]}",
        "runs[0].tool.driver",
        "missing `tool.driver`",
    );
    rejects(
        b"{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {}}, \"results\": []}]}",
        "runs[0].tool.driver.name",
        "missing or empty",
    );
    rejects(b"{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {\"name\": \"  \"}}, \"results\": []}]}", "runs[0].tool.driver.name", "missing or empty");
    rejects(
        &one_run(
            "x",
            json!([]),
            json!([{ "ruleId": "R", "message": { "text": "m" } }, { "ruleId": "R", "message": { "text": "m" }, "level": "warn" }]),
        ),
        "runs[0].results[1].level",
        "unknown level \"warn\"",
    );
    rejects(
        &one_run(
            "x",
            json!([]),
            json!([{ "message": { "text": "m" }, "kind": "failed" }]),
        ),
        "runs[0].results[0].kind",
        "unknown kind",
    );
    rejects(
        &one_run(
            "x",
            json!([]),
            json!([{ "message": { "text": "m" }, "baselineState": "gone" }]),
        ),
        "runs[0].results[0].baselineState",
        "unknown baselineState",
    );
    rejects(
        &one_run(
            "x",
            json!([]),
            json!([{ "message": { "text": "m" }, "suppressions": [{ "kind": "external", "status": "approved" }] }]),
        ),
        "runs[0].results[0].suppressions[0].status",
        "unknown suppression status",
    );
    rejects(
        &one_run(
            "x",
            json!([]),
            json!([{ "message": { "text": "m" }, "locations": {} }]),
        ),
        "runs[0].results[0].locations",
        "expected an array",
    );
    rejects(
        &one_run(
            "x",
            json!([{ "id": "R", "defaultConfiguration": { "level": "fatal" } }]),
            json!([]),
        ),
        "runs[0].tool.driver.rules[0].defaultConfiguration.level",
        "unknown level",
    );
    rejects(
        b"{\"version\": \"2.1.0\", \"runs\": []} trailing",
        "",
        "not valid JSON",
    );
    rejects(b"  \n ", "", "empty document");
}

// --- SARIF 2.1.0 schema requirements -------------------------------------------------------

/// A log whose one result is `{ ruleId, message }` with `extra` merged in (`null` removes).
fn with_result(extra: Value) -> Vec<u8> {
    let mut result = json!({ "ruleId": "R", "message": { "text": "m" } });
    for (k, v) in extra.as_object().expect("an object") {
        if v.is_null() {
            result.as_object_mut().unwrap().remove(k);
        } else {
            result[k] = v.clone();
        }
    }
    one_run("gitleaks", json!([{ "id": "R" }]), json!([result]))
}

/// A gitleaks run with one valid result, `extra` merged into the run.
fn with_run(extra: Value) -> Vec<u8> {
    let mut run = json!({
        "tool": { "driver": { "name": "gitleaks", "rules": [{ "id": "R" }] } },
        "results": [{ "ruleId": "R", "message": { "text": "m" } }]
    });
    for (k, v) in extra.as_object().expect("an object") {
        run[k] = v.clone();
    }
    log(json!([run]))
}

/// Rejected, with `path`, a message starting with `message_start`, and the SARIF 2.1.0
/// requirement named.
fn schema_rejects(bytes: &[u8], path: &str, message_start: &str) {
    let err = parse_sarif(bytes).expect_err(path);
    assert_eq!(err.path, path, "{err}");
    assert!(err.message.starts_with(message_start), "{err}");
    assert!(err.message.contains("SARIF 2.1.0"), "{err}");
    assert!(!err.message.contains(" at line "), "{err}");
}

#[test]
fn schema_a_stack_without_frames_is_refused() {
    // The issue's case: `stacks: [{}]` was stored as a finding with rule `unknown`.
    let bytes = log(json!([{
        "tool": { "driver": { "name": "gitleaks" } },
        "results": [{ "message": { "text": "m" }, "stacks": [{}] }]
    }]));
    let err = parse_sarif(&bytes).unwrap_err();
    assert_eq!(err.path, "runs[0].results[0].stacks[0].frames");
    assert_eq!(
        err.to_string(),
        "runs[0].results[0].stacks[0].frames: missing: SARIF 2.1.0 requires `frames` in every stack"
    );
    schema_rejects(
        &with_result(json!({ "stacks": [{ "frames": [] }, { "message": { "text": "s" } }] })),
        "runs[0].results[0].stacks[1].frames",
        "missing",
    );
    rejects(
        &with_result(json!({ "stacks": [{ "frames": [7] }] })),
        "runs[0].results[0].stacks[0].frames[0]",
        "invalid type: integer `7`, expected an object",
    );
    // A stack with frames (even none) is fine.
    assert_eq!(
        only_finding(&with_result(
            json!({ "stacks": [{ "frames": [] }, { "frames": [{ "module": "a" }] }] })
        ))
        .rule_id,
        "R"
    );
}

#[test]
fn schema_a_result_needs_a_message_with_text_or_id() {
    schema_rejects(
        &with_result(json!({ "message": null })),
        "runs[0].results[0].message",
        "missing: SARIF 2.1.0 requires `message` in every result",
    );
    for message in [
        json!({}),
        json!({ "markdown": "**m**" }),
        json!({ "arguments": ["a"] }),
    ] {
        schema_rejects(
            &with_result(json!({ "message": message })),
            "runs[0].results[0].message",
            "missing `text` and `id`",
        );
    }
    let err = parse_sarif(&with_result(json!({ "message": "text" }))).unwrap_err();
    assert_eq!(err.path, "runs[0].results[0].message", "{err}");
    assert!(err.message.contains("expected an object"), "{err}");
    // An id alone is valid (it names one of the rule's messageStrings).
    let f = only_finding(&with_result(json!({ "message": { "id": "default" } })));
    assert_eq!(f.message, "R");
}

#[test]
fn schema_runs_tools_and_components_are_named() {
    // Extensions and taxonomies are tool components: named too.
    schema_rejects(
        &with_run(
            json!({ "tool": { "driver": { "name": "CodeQL" }, "extensions": [
            { "name": "codeql/javascript-queries" }, { "version": "1.0" }
        ] } }),
        ),
        "runs[0].tool.extensions[1].name",
        "missing: SARIF 2.1.0 requires `name` in every tool component",
    );
    schema_rejects(
        &with_run(json!({ "taxonomies": [{ "taxa": [{ "id": "79" }] }] })),
        "runs[0].taxonomies[0].name",
        "missing: SARIF 2.1.0 requires `name` in every taxonomy",
    );
    // The run's own tool (these three were already refused before the schema checks).
    rejects(
        &log(json!([{ "results": [{ "message": { "text": "m" } }] }])),
        "runs[0].tool",
        "missing `tool`: SARIF 2.1.0 requires",
    );
    rejects(
        &log(json!([{ "tool": {}, "results": [] }])),
        "runs[0].tool.driver",
        "missing `tool.driver`: SARIF 2.1.0 requires",
    );
    rejects(
        &log(json!([{ "tool": { "driver": { "version": "1" } }, "results": [] }])),
        "runs[0].tool.driver.name",
        "missing or empty `tool.driver.name`: SARIF 2.1.0 requires",
    );
}

#[test]
fn schema_rules_and_references_need_ids() {
    schema_rejects(
        &one_run(
            "x",
            json!([{ "id": "A" }, { "shortDescription": { "text": "no id" } }]),
            json!([]),
        ),
        "runs[0].tool.driver.rules[1].id",
        "missing: SARIF 2.1.0 requires `id` in every rule",
    );
    schema_rejects(
        &with_run(json!({ "tool": { "driver": { "name": "x" }, "extensions": [
            { "name": "pack", "rules": [{ "name": "no id" }] }
        ] } })),
        "runs[0].tool.extensions[0].rules[0].id",
        "missing",
    );
    schema_rejects(
        &with_run(json!({ "taxonomies": [{ "name": "CWE", "taxa": [{ "name": "XSS" }] }] })),
        "runs[0].taxonomies[0].taxa[0].id",
        "missing",
    );
    schema_rejects(
        &one_run(
            "x",
            json!([{ "id": "A", "relationships": [{ "kinds": ["superset"] }] }]),
            json!([]),
        ),
        "runs[0].tool.driver.rules[0].relationships[0].target",
        "missing",
    );
    // A reportingDescriptorReference needs `id`, `index` or `guid`.
    schema_rejects(
        &with_result(json!({ "rule": { "toolComponent": { "index": 0 } } })),
        "runs[0].results[0].rule",
        "missing `id`, `index` and `guid`",
    );
    schema_rejects(
        &with_result(json!({ "taxa": [{ "id": "CWE-79" }, {}] })),
        "runs[0].results[0].taxa[1]",
        "missing `id`, `index` and `guid`",
    );
    assert_eq!(
        only_finding(&with_result(
            json!({ "rule": { "guid": "a6c3f0ab-6f5b-4b3a-9c43-7a7c8e1c2d3e" } })
        ))
        .rule_id,
        "R"
    );
}

#[test]
fn schema_result_level_kind_and_rule_index() {
    // Unknown enumeration values (checked since before the schema work; kept here with the
    // rest of the result's requirements).
    rejects(
        &with_result(json!({ "level": "fatal" })),
        "runs[0].results[0].level",
        "unknown level \"fatal\" (expected none, note, warning or error)",
    );
    rejects(
        &with_result(json!({ "kind": "failure" })),
        "runs[0].results[0].kind",
        "unknown kind \"failure\"",
    );
    let err = parse_sarif(&with_result(json!({ "level": 3 }))).unwrap_err();
    assert_eq!(err.path, "runs[0].results[0].level", "{err}");
    // ruleIndex and rule.index: integers ≥ -1.
    schema_rejects(
        &with_result(json!({ "ruleIndex": -2 })),
        "runs[0].results[0].ruleIndex",
        "invalid index -2",
    );
    schema_rejects(
        &with_result(json!({ "rule": { "id": "R", "index": -5 } })),
        "runs[0].results[0].rule.index",
        "invalid index -5",
    );
    let err = parse_sarif(&with_result(json!({ "ruleIndex": "0" }))).unwrap_err();
    assert_eq!(err.path, "runs[0].results[0].ruleIndex", "{err}");
    assert!(err.message.contains("invalid type"), "{err}");
    assert_eq!(
        only_finding(&with_result(json!({ "ruleIndex": -1 }))).rule_id,
        "R"
    );
}

#[test]
fn schema_code_flows_need_thread_flows_with_locations() {
    schema_rejects(
        &with_result(json!({ "codeFlows": [{ "message": { "text": "flow" } }] })),
        "runs[0].results[0].codeFlows[0].threadFlows",
        "missing: SARIF 2.1.0 requires `threadFlows` in every code flow",
    );
    schema_rejects(
        &with_result(json!({ "codeFlows": [{ "threadFlows": [] }] })),
        "runs[0].results[0].codeFlows[0].threadFlows",
        "empty",
    );
    schema_rejects(
        &with_result(
            json!({ "codeFlows": [{ "threadFlows": [{ "locations": [{}] }, { "id": "t" }] }] }),
        ),
        "runs[0].results[0].codeFlows[0].threadFlows[1].locations",
        "missing: SARIF 2.1.0 requires `locations` in every thread flow",
    );
    schema_rejects(
        &with_result(json!({ "codeFlows": [{ "threadFlows": [{ "locations": [] }] }] })),
        "runs[0].results[0].codeFlows[0].threadFlows[0].locations",
        "empty",
    );
}

#[test]
fn schema_fixes_need_artifact_changes_and_replacements() {
    let change = |c: Value| with_result(json!({ "fixes": [{ "artifactChanges": [c] }] }));
    schema_rejects(
        &with_result(json!({ "fixes": [{ "description": { "text": "upgrade" } }] })),
        "runs[0].results[0].fixes[0].artifactChanges",
        "missing: SARIF 2.1.0 requires `artifactChanges` in every fix",
    );
    schema_rejects(
        &with_result(json!({ "fixes": [{ "artifactChanges": [] }] })),
        "runs[0].results[0].fixes[0].artifactChanges",
        "empty",
    );
    schema_rejects(
        &change(json!({ "replacements": [{ "deletedRegion": { "startLine": 1 } }] })),
        "runs[0].results[0].fixes[0].artifactChanges[0].artifactLocation",
        "missing: SARIF 2.1.0 requires `artifactLocation` in every artifact change",
    );
    schema_rejects(
        &change(json!({ "artifactLocation": { "uri": "a.py" } })),
        "runs[0].results[0].fixes[0].artifactChanges[0].replacements",
        "missing",
    );
    schema_rejects(
        &change(json!({ "artifactLocation": { "uri": "a.py" }, "replacements": [] })),
        "runs[0].results[0].fixes[0].artifactChanges[0].replacements",
        "empty",
    );
    schema_rejects(
        &change(
            json!({ "artifactLocation": { "uri": "a.py" }, "replacements": [{ "insertedContent": { "text": "x" } }] }),
        ),
        "runs[0].results[0].fixes[0].artifactChanges[0].replacements[0].deletedRegion",
        "missing: SARIF 2.1.0 requires `deletedRegion` in every replacement",
    );
}

#[test]
fn schema_invocations_and_notifications() {
    schema_rejects(
        &with_run(json!({ "invocations": [{ "commandLine": "gitleaks detect" }] })),
        "runs[0].invocations[0].executionSuccessful",
        "missing: SARIF 2.1.0 requires `executionSuccessful` in every invocation",
    );
    let err = parse_sarif(&with_run(
        json!({ "invocations": [{ "executionSuccessful": "yes" }] }),
    ))
    .unwrap_err();
    assert_eq!(err.path, "runs[0].invocations[0].executionSuccessful");
    assert!(err.message.contains("expected a boolean"), "{err}");
    schema_rejects(
        &with_run(json!({ "invocations": [{ "executionSuccessful": true,
            "toolExecutionNotifications": [{ "level": "error" }] }] })),
        "runs[0].invocations[0].toolExecutionNotifications[0].message",
        "missing: SARIF 2.1.0 requires `message` in every notification",
    );
    schema_rejects(
        &with_run(json!({ "invocations": [{ "executionSuccessful": true,
            "toolConfigurationNotifications": [{ "message": {} }] }] })),
        "runs[0].invocations[0].toolConfigurationNotifications[0].message",
        "missing `text` and `id`",
    );
    schema_rejects(
        &with_run(json!({ "invocations": [{ "executionSuccessful": true,
            "toolExecutionNotifications": [{ "level": "fatal", "message": { "text": "x" } }] }] })),
        "runs[0].invocations[0].toolExecutionNotifications[0].level",
        "unknown level \"fatal\"",
    );
    schema_rejects(
        &with_run(json!({ "invocations": [{ "executionSuccessful": true,
            "ruleConfigurationOverrides": [{ "configuration": { "level": "error" } }] }] })),
        "runs[0].invocations[0].ruleConfigurationOverrides[0].descriptor",
        "missing: SARIF 2.1.0 requires `descriptor` in every configuration override",
    );
}

#[test]
fn schema_suppressions_need_a_kind() {
    schema_rejects(
        &with_result(json!({ "suppressions": [{ "status": "accepted" }] })),
        "runs[0].results[0].suppressions[0].kind",
        "missing: SARIF 2.1.0 requires `kind` in every suppression",
    );
    rejects(
        &with_result(json!({ "suppressions": [{ "kind": "inSource" }, { "kind": "baseline" }] })),
        "runs[0].results[0].suppressions[1].kind",
        "unknown suppression kind \"baseline\" (expected one of: inSource, external)",
    );
}

#[test]
fn schema_locations_are_objects() {
    let err = parse_sarif(&with_result(json!({ "locations": [
        { "physicalLocation": { "artifactLocation": { "uri": "a" } } }, "b.py"
    ] })))
    .unwrap_err();
    assert_eq!(err.path, "runs[0].results[0].locations[1]", "{err}");
    assert!(err.message.contains("expected an object"), "{err}");
    let err = parse_sarif(&with_result(json!({ "locations": [[]] }))).unwrap_err();
    assert_eq!(err.path, "runs[0].results[0].locations[0]", "{err}");
    let err = parse_sarif(&with_result(
        json!({ "relatedLocations": [{ "id": 1 }, 2] }),
    ))
    .unwrap_err();
    assert_eq!(err.path, "runs[0].results[0].relatedLocations[1]", "{err}");
    assert!(err.message.contains("expected an object"), "{err}");
}

#[test]
fn schema_graphs_and_graph_traversals() {
    schema_rejects(
        &with_result(
            json!({ "graphs": [{ "nodes": [{ "id": "a" }, { "label": { "text": "b" } }] }] }),
        ),
        "runs[0].results[0].graphs[0].nodes[1].id",
        "missing: SARIF 2.1.0 requires `id` in every graph node",
    );
    schema_rejects(
        &with_result(json!({ "graphs": [{ "edges": [{ "id": "e", "sourceNodeId": "a" }] }] })),
        "runs[0].results[0].graphs[0].edges[0].targetNodeId",
        "missing",
    );
    for traversal in [
        json!({}),
        json!({ "runGraphIndex": 0, "resultGraphIndex": 0 }),
    ] {
        schema_rejects(
            &with_result(json!({ "graphTraversals": [traversal] })),
            "runs[0].results[0].graphTraversals[0]",
            "SARIF 2.1.0 requires a graph traversal to have exactly one of",
        );
    }
    schema_rejects(
        &with_result(
            json!({ "graphTraversals": [{ "resultGraphIndex": 0, "edgeTraversals": [{}] }] }),
        ),
        "runs[0].results[0].graphTraversals[0].edgeTraversals[0].edgeId",
        "missing",
    );
}

#[test]
fn schema_valid_rich_results_are_accepted() {
    // Everything the checks look at, present and valid: the finding is read as before.
    let f = only_finding(&with_result(json!({
        "ruleIndex": 0,
        "rule": { "id": "R", "index": 0 },
        "kind": "fail",
        "level": "error",
        "message": { "text": "m", "id": "default", "arguments": ["x"] },
        "locations": [
            { "physicalLocation": { "artifactLocation": { "uri": "a.py" }, "region": { "startLine": 3 } } },
            { "logicalLocations": [{ "name": "f" }] }
        ],
        "relatedLocations": [{ "id": 1, "message": { "text": "here" } }],
        "stacks": [{ "message": { "text": "s" }, "frames": [{ "location": { "message": { "text": "f" } } }] }],
        "codeFlows": [{ "threadFlows": [{ "locations": [{ "location": {} }, { "nestingLevel": 1 }] }] }],
        "fixes": [{ "artifactChanges": [{ "artifactLocation": { "uri": "a.py" },
            "replacements": [{ "deletedRegion": { "startLine": 3 }, "insertedContent": { "text": "y" } }] }] }],
        "graphs": [{ "nodes": [{ "id": "n1", "children": [{ "id": "n2" }] }],
            "edges": [{ "id": "e", "sourceNodeId": "n1", "targetNodeId": "n2" }] }],
        "graphTraversals": [{ "resultGraphIndex": 0, "edgeTraversals": [{ "edgeId": "e" }] }],
        "suppressions": [{ "kind": "external", "status": "rejected" }],
        "taxa": [{ "index": 0, "toolComponent": { "name": "CWE" } }]
    })));
    assert_eq!(f.severity, High);
    assert_eq!(f.message, "m");
    assert_eq!(
        f.location,
        Some(Location {
            uri: "a.py".into(),
            start_line: Some(3)
        })
    );
}

#[test]
fn bom_and_property_bag_oddities_are_accepted() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(one_run("gitleaks", json!([]), json!([])));
    assert_eq!(parse_sarif(&bytes).unwrap().tools.len(), 1);
    // Property bags are tool-defined: odd shapes are skipped, not errors.
    let f = only_finding(&one_run(
        "x",
        json!([{ "id": "R", "properties": { "tags": "security", "security-severity": { "v": 1 }, "cwe": [{ "id": 1 }, true], "severity": 3 } }]),
        json!([{ "ruleId": "R", "message": { "text": "m" }, "properties": { "tags": [1, null, ["nested"]] } }]),
    ));
    assert_eq!((f.check_type, f.severity), (SastSecurity, Medium));
}

// --- Native document ------------------------------------------------------------------------

const NATIVE_EXAMPLE: &[u8] = include_bytes!("testdata/native_example.json");

#[test]
fn native_example_parses() {
    let n = parse_native(NATIVE_EXAMPLE).unwrap();
    assert_eq!(n.started_at.to_rfc3339(), "2024-05-01T12:00:00+00:00");
    assert_eq!(n.finished_at.to_rfc3339(), "2024-05-01T12:04:30+00:00");
    let run = &n.scan.tools[0];
    assert_eq!(
        (run.tool.as_str(), run.version.as_deref()),
        ("acme-ci-scanner", Some("3.2.0"))
    );
    // The code_quality finding adds its check type to `covered`.
    assert_eq!(
        run.covered,
        BTreeSet::from([
            Secrets,
            SastSecurity,
            SastCrypto,
            SastAuth,
            ScaVulns,
            CodeQuality
        ])
    );
    assert_eq!(run.results_counted, 3);
    let f = &n.scan.findings;
    assert_eq!(f[0].cwe, vec![327, 328]);
    assert_eq!(f[0].fingerprint, "acme:weak-hash-md5:src/auth/hash.py:9f2c");
    assert_eq!(
        f[1].location,
        Some(Location {
            uri: "pom.xml".into(),
            start_line: None
        })
    );
    assert_eq!(f[1].fingerprint.len(), 32);
    assert_eq!(f[2].message, "unused-import");
    assert_eq!(n.signals.quality_gate, Some(QualityGate::Passed));
    assert_eq!(n.signals.languages, vec!["java", "python"]);
    assert_eq!(n.signals.files, vec!["Dockerfile", "infra/main.tf"]);
    assert_eq!(
        n.signals.pull_requests,
        Some(PullRequestStats {
            merged: 40,
            reviewed: 38,
            approvals_median: Some(1.0)
        })
    );
}

fn native_rejects(doc: Value, path: &str, message: &str) {
    let err = parse_native(&serde_json::to_vec(&doc).unwrap()).expect_err(message);
    assert_eq!(err.path, path, "{err}");
    assert!(err.message.contains(message), "{err}");
}

#[test]
fn native_validation_is_strict_with_paths() {
    let base: Value = serde_json::from_slice(NATIVE_EXAMPLE).unwrap();
    let with = |ptr: &str, v: Value| {
        let mut d = base.clone();
        *d.pointer_mut(ptr).unwrap() = v;
        d
    };
    let mut extra = base.clone();
    extra["repo"] = json!("x");
    native_rejects(extra, "repo", "unknown field `repo`");
    let mut extra = base.clone();
    extra["findings"][1]["path"] = json!("x");
    native_rejects(extra, "findings[1].path", "unknown field `path`");
    let mut extra = base.clone();
    extra["signals"]["pull_requests"]["open"] = json!(1);
    native_rejects(extra, "signals.pull_requests.open", "unknown field `open`");
    let mut missing = base.clone();
    missing.as_object_mut().unwrap().remove("covered");
    native_rejects(missing, "", "missing field `covered`");
    native_rejects(
        with("/findings/0/severity", json!("severe")),
        "findings[0].severity",
        "unknown variant `severe`",
    );
    native_rejects(
        with("/findings/0/check_type", json!("sast")),
        "findings[0].check_type",
        "unknown variant `sast`",
    );
    native_rejects(
        with("/findings/0/check_type", json!("pr_reviews")),
        "findings[0].check_type",
        "judged on signals",
    );
    native_rejects(
        with("/covered/1", json!("quality_gates")),
        "covered[1]",
        "judged on signals",
    );
    native_rejects(
        with("/findings/0/line", json!(0)),
        "findings[0].line",
        "numbered from 1",
    );
    native_rejects(
        with("/findings/0/line", json!(-3)),
        "findings[0].line",
        "invalid value",
    );
    native_rejects(
        with("/findings/0/cwe/0", json!(0)),
        "findings[0].cwe[0]",
        "CWE id",
    );
    native_rejects(
        with("/findings/0/rule_id", json!(" ")),
        "findings[0].rule_id",
        "must not be empty",
    );
    native_rejects(with("/tool", json!("")), "tool", "must not be empty");
    native_rejects(
        with("/started_at", json!("yesterday")),
        "started_at",
        "not an RFC 3339 timestamp",
    );
    native_rejects(
        with("/finished_at", json!("2024-05-01T11:00:00Z")),
        "finished_at",
        "earlier than started_at",
    );
    native_rejects(
        with("/signals/quality_gate", json!("green")),
        "signals.quality_gate",
        "unknown variant `green`",
    );
    native_rejects(
        with("/signals/pull_requests/reviewed", json!(41)),
        "signals.pull_requests.reviewed",
        "cannot exceed merged",
    );
    native_rejects(
        with("/signals/languages/0", json!("")),
        "signals.languages[0]",
        "must not be empty",
    );
    native_rejects(
        with("/signals/files", json!(vec!["f"; 101])),
        "signals.files",
        "at most 100",
    );
    native_rejects(
        with("/signals/files/0", json!("x".repeat(300))),
        "signals.files[0]",
        "longer than 200 bytes",
    );
    assert!(parse_native(b"")
        .unwrap_err()
        .message
        .contains("empty document"));
    assert!(parse_native(b"{")
        .unwrap_err()
        .message
        .contains("not valid JSON"));
    assert!(parse_native(b"[]")
        .unwrap_err()
        .message
        .contains("must be a JSON object"));
    // The bandit native JSON is not our native format either.
    let err = parse_native(&sample("bandit/bandit-1.8.6_open-hostfactory.json")).unwrap_err();
    assert!(err.message.contains("unknown field"), "{err}");
}

#[test]
fn native_minimal_document() {
    let n = parse_native(
        br#"{"tool":"gitleaks","started_at":"2024-01-01T00:00:00Z","finished_at":"2024-01-01T00:00:00Z","covered":["secrets"]}"#,
    )
    .unwrap();
    assert_eq!(n.scan.findings.len(), 0);
    assert_eq!(n.scan.covered(), BTreeSet::from([Secrets]));
    assert!(n.signals.is_empty());
}

#[test]
fn standalone_signals() {
    let s =
        parse_signals(br#"{"quality_gate":"failed","languages":[" Rust ","rust","Go"]}"#).unwrap();
    assert_eq!(s.quality_gate, Some(QualityGate::Failed));
    assert_eq!(s.languages, vec!["go", "rust"]);
    let err = parse_signals(br#"{"quality_gate":"failed","coverage":80}"#).unwrap_err();
    assert!(err.message.contains("unknown field `coverage`"), "{err}");
    let err = parse_signals(br#"{"pull_requests":{"merged":1,"reviewed":2}}"#).unwrap_err();
    assert_eq!(err.path, "pull_requests.reviewed");
    let err =
        parse_signals(br#"{"pull_requests":{"merged":1,"reviewed":1,"approvals_median":-1}}"#)
            .unwrap_err();
    assert_eq!(err.path, "pull_requests.approvals_median");
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
