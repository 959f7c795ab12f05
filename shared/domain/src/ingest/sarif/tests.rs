//! Tests of [`parse_sarif`] on synthetic logs: the severity order, CWE extraction,
//! exclusions, failed runs and coverage, rule resolution, messages, locations and fingerprints,
//! invalid input and the SARIF 2.1.0 schema requirements.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::parse_sarif;
use crate::catalog::{CheckType, Severity};
use crate::ingest::model::{self, ExclusionCounts, Finding, Location, NormalisedScan};

use CheckType::{CodeQuality, IacIssues, SastAuth, SastCrypto, SastSecurity, ScaVulns, Secrets};
use Severity::{Critical, High, Info, Low, Medium};

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

// --- The streaming path and the reference path ----------------------------------------------
//
// `parse_sarif` reads each run's results one at a time (the fast path) and falls back on the
// reference path (the whole typed log first) when that fails; in tests, every successful parse
// also runs both and compares them, and `summarise_sarif` compares itself with
// `summarise(parse_sarif)`. These tests give both more to compare.

use super::summarise_sarif;
use crate::ingest::test_support::samples_dir;
use crate::ingest::{summarise, Signals};

#[test]
fn every_corpus_file_summarises_in_one_pass_as_in_two() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("samples dir") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "sarif") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(std::path::Path::new(samples_dir!()), &mut files);
    assert!(files.len() >= 30, "{files:?}");
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        let name = file.display();
        match parse_sarif(&bytes) {
            Ok(scan) => assert_eq!(
                summarise_sarif(&bytes, &Signals::default()).expect("summarised"),
                summarise(&scan, &Signals::default()),
                "{name}"
            ),
            Err(e) => assert_eq!(
                summarise_sarif(&bytes, &Signals::default()).expect_err("refused"),
                e,
                "{name}"
            ),
        }
    }
}

/// A run whose `results` come before the properties they are resolved against (semgrep writes
/// `tool` last) reads the same as one in the usual order.
#[test]
fn results_before_the_run_properties_read_the_same() {
    let tool = r#""tool":{"driver":{"name":"CodeQL","rules":[{"id":"R0","properties":{"tags":["security"]}},{"id":"R1","defaultConfiguration":{"level":"note"}}]}}"#;
    let invocations = r#""invocations":[{"executionSuccessful":true,"ruleConfigurationOverrides":[{"descriptor":{"index":1},"configuration":{"level":"error"}}]}]"#;
    let artifacts = r#""artifacts":[{"location":{"uri":"src/a.js"}}]"#;
    let taxonomies = r#""taxonomies":[{"name":"CWE","taxa":[{"id":"79"}]}]"#;
    let results = r#""results":[{"ruleIndex":0,"message":{"text":"x"},"locations":[{"physicalLocation":{"artifactLocation":{"index":0},"region":{"startLine":3}}}],"taxa":[{"index":0,"toolComponent":{"index":0}}]},{"ruleId":"R1","message":{"text":"y"}}]"#;
    let doc = |parts: &[&str]| format!(r#"{{"version":"2.1.0","runs":[{{{}}}]}}"#, parts.join(","));
    let usual =
        parse_sarif(doc(&[tool, invocations, artifacts, taxonomies, results]).as_bytes()).unwrap();
    assert_eq!(usual.findings.len(), 2);
    assert_eq!(usual.findings[0].cwe, vec![79]);
    assert_eq!(usual.findings[1].severity, High);
    assert_eq!(
        usual.findings[0].location.as_ref().map(|l| l.uri.as_str()),
        Some("src/a.js")
    );
    for order in [
        [results, tool, invocations, artifacts, taxonomies],
        [tool, results, invocations, artifacts, taxonomies],
        [invocations, results, tool, taxonomies, artifacts],
        [tool, invocations, artifacts, results, taxonomies],
    ] {
        let bytes = doc(&order);
        assert_eq!(parse_sarif(bytes.as_bytes()).unwrap(), usual, "{bytes}");
        assert_eq!(
            summarise_sarif(bytes.as_bytes(), &Signals::default()).unwrap(),
            summarise(&usual, &Signals::default())
        );
    }
}

/// Evidence is chosen among findings that tie on severity, tool, rule and file, some with long
/// rule ids and URIs (cut when stored) or duplicate fingerprints: the one-pass summary, which
/// builds a finding only when it may be kept, chooses the same.
#[test]
fn one_pass_evidence_matches_on_ties_long_texts_and_duplicates() {
    let long_rule = format!("R/{}", "r".repeat(300));
    let long_uri = format!("src/{}.py", "d/".repeat(300));
    let mut results = Vec::new();
    for k in 0..60 {
        let rule = if k % 3 == 0 { long_rule.as_str() } else { "R" };
        let uri = if k % 4 == 0 {
            long_uri.as_str()
        } else {
            "a.py"
        };
        let mut r = json!({
            "ruleId": rule,
            "level": if k % 5 == 0 { "error" } else { "warning" },
            "message": { "text": format!("m{}", k % 7) },
            "locations": [{ "physicalLocation": {
                "artifactLocation": { "uri": uri }, "region": { "startLine": 1 + k % 2 } } }],
        });
        if k % 6 == 1 {
            r["partialFingerprints"] = json!({ "h": format!("{}", k % 4) });
        }
        if k % 8 == 2 {
            r["locations"] = json!([]);
        }
        results.push(r);
    }
    let bytes = one_run("semgrep", json!([{ "id": "R" }]), Value::Array(results));
    let scan = parse_sarif(&bytes).unwrap();
    let summary = summarise_sarif(&bytes, &Signals::default()).unwrap();
    assert_eq!(summary, summarise(&scan, &Signals::default()));
    assert!(!summary.top_findings.is_empty());
}

/// Invalid UTF-8 inside a skipped string was always accepted (serde skips it unread); it still
/// is, through the reference path.
#[test]
fn invalid_utf8_in_skipped_text_is_still_accepted() {
    let good = one_run(
        "gitleaks",
        json!([]),
        json!([{ "ruleId": "R", "message": { "text": "m" }, "fixes": [], "properties": { "note": "AB" } }]),
    );
    let at = good.windows(2).position(|w| w == b"AB").unwrap();
    let mut bad = good.clone();
    bad[at] = 0xFF;
    assert!(std::str::from_utf8(&bad).is_err());
    assert_eq!(parse_sarif(&bad).unwrap(), parse_sarif(&good).unwrap());
    assert_eq!(
        summarise_sarif(&bad, &Signals::default()).unwrap(),
        summarise_sarif(&good, &Signals::default()).unwrap()
    );
}

/// Under `require_approval` an accepted suppression no longer hides its result: the finding
/// counts (the same finding as with the suppression removed) and the suppression is reported
/// once per finding, with its kind and justification; from a stream alike. `honour` is the
/// parser's own behaviour.
#[test]
fn suppressions_count_and_are_reported_under_require_approval() {
    use crate::ingest::model::SuppressionPolicy::{Honour, RequireApproval};
    use crate::ingest::native::Signals;
    use crate::ingest::sarif::{summarise_sarif_for, summarise_sarif_stream_for};
    let bytes = crate::ingest::test_support::sample("semgrep/semgrep_nosemgrep_suppressed.sarif");
    let signals = Signals::default();
    let honoured = summarise_sarif_for(&bytes, &signals, Honour).unwrap();
    assert_eq!(honoured.summary.totals.findings, 0);
    assert_eq!(honoured.summary.excluded.suppressed, 1);
    assert!(honoured.suppressions.found.is_empty());

    let required = summarise_sarif_for(&bytes, &signals, RequireApproval).unwrap();
    assert_eq!(required.summary.totals.findings, 1);
    assert_eq!(required.summary.excluded.suppressed, 0);
    let found = &required.suppressions.found;
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].kind.as_str(), found[0].justification.as_deref()),
        ("inSource", None)
    );
    assert_eq!(found[0].key, required.keys.keys[0]);
    assert_eq!(found[0].key.rule_id, "rules.eqeq-is-bad");
    // The counted finding is the one the same result makes without its suppression.
    let mut doc: Value = serde_json::from_slice(&bytes).unwrap();
    doc["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("suppressions");
    let plain = summarise_sarif_for(&serde_json::to_vec(&doc).unwrap(), &signals, Honour).unwrap();
    assert_eq!(plain.summary.counts, required.summary.counts);
    assert_eq!(plain.keys, required.keys);

    // A justification is kept; a result suppressed twice is reported once.
    let mut doc: Value = serde_json::from_slice(&bytes).unwrap();
    let result = doc["runs"][0]["results"][0].clone();
    let mut justified = result.clone();
    justified["suppressions"] =
        json!([{"kind": "external", "justification": "Reviewed: test fixture"}]);
    doc["runs"][0]["results"] = json!([justified.clone(), justified]);
    let twice = summarise_sarif_for(
        &serde_json::to_vec(&doc).unwrap(),
        &signals,
        RequireApproval,
    )
    .unwrap();
    assert_eq!(twice.summary.totals.findings, 2);
    assert_eq!(twice.suppressions.found.len(), 1);
    assert_eq!(
        twice.suppressions.found[0].justification.as_deref(),
        Some("Reviewed: test fixture")
    );

    // Read as a stream: the same.
    let streamed = summarise_sarif_stream_for(&bytes[..], &signals, RequireApproval).unwrap();
    assert_eq!(streamed.summary, required.summary);
    assert_eq!(streamed.suppressions, required.suppressions);
}
