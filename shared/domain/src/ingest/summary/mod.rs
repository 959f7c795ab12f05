//! The bounded summary stored per scan: whatever the report's size, it stays far below
//! DynamoDB's 400 KB item limit (every list is capped, every string truncated; see the
//! constants below and docs/ingestion.md).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::catalog::{CheckType, Severity};

use super::model::{clip_bytes, ExclusionCounts, Finding, Location, NormalisedScan};
use super::native::Signals;

/// Most findings kept as evidence, overall.
pub const TOP_FINDINGS_MAX: usize = 25;
/// Most findings kept as evidence per check type.
pub const TOP_FINDINGS_PER_CHECK_TYPE: usize = 5;
/// Most distinct tools (name + version) listed.
pub const TOOLS_MAX: usize = 20;
/// Most failed runs listed.
pub const FAILED_TOOLS_MAX: usize = 20;

// Byte bounds (UTF-8) of the strings stored in a summary; control characters become spaces, so
// none of them grows when written as JSON.
const EVIDENCE_MESSAGE_BYTES: usize = 300;
const EVIDENCE_URI_BYTES: usize = 200;
const EVIDENCE_RULE_BYTES: usize = 160;
const EVIDENCE_TOOL_BYTES: usize = 96;
const EVIDENCE_FINGERPRINT_BYTES: usize = 64;
const EVIDENCE_CWE_MAX: usize = 5;
const TOOL_NAME_BYTES: usize = 96;
const VERSION_BYTES: usize = 48;
const REASON_BYTES: usize = 200;

/// Finding counts per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub info: u64,
}

impl SeverityCounts {
    pub fn add(&mut self, severity: Severity) {
        *self.slot(severity) += 1;
    }

    pub fn get(&self, severity: Severity) -> u64 {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    /// Findings at `severity` or worse.
    pub fn at_least(&self, severity: Severity) -> u64 {
        Severity::ALL
            .into_iter()
            .filter(|s| *s >= severity)
            .map(|s| self.get(s))
            .sum()
    }

    pub fn total(&self) -> u64 {
        self.critical + self.high + self.medium + self.low + self.info
    }

    /// The most severe level with at least one finding.
    pub fn worst(&self) -> Option<Severity> {
        Severity::ALL.into_iter().rev().find(|s| self.get(*s) > 0)
    }

    fn slot(&mut self, severity: Severity) -> &mut u64 {
        match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Info => &mut self.info,
        }
    }
}

/// One tool (name + version) across its runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolSummary {
    pub tool: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub runs: u64,
    pub failed_runs: u64,
    /// Union of what its completed runs covered.
    pub covered: BTreeSet<CheckType>,
    pub results_counted: u64,
    pub results_excluded: u64,
}

/// A failed run: it covers nothing, so the check types it would have covered show as "no
/// evidence" unless another tool covered them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedTool {
    pub tool: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Counted findings.
    pub findings: u64,
    /// Results present but not counted.
    pub excluded: u64,
    pub runs: u64,
    pub failed_runs: u64,
    pub by_severity: SeverityCounts,
}

/// What is stored per scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanSummary {
    /// Counted findings per check type × severity; every covered check type has an entry
    /// (zeros included), and so has every check type with findings.
    pub counts: BTreeMap<CheckType, SeverityCounts>,
    /// Check types some run that did not fail covered, findings or not. A check type missing
    /// here has no evidence in this scan.
    pub covered: BTreeSet<CheckType>,
    /// At most [`TOOLS_MAX`], in order of first appearance.
    pub tools: Vec<ToolSummary>,
    /// Distinct tools left out of `tools`.
    #[serde(default)]
    pub tools_omitted: u64,
    /// At most [`FAILED_TOOLS_MAX`] (distinct tool, version and reason).
    pub failed_tools: Vec<FailedTool>,
    pub excluded: ExclusionCounts,
    pub signals: Signals,
    /// The most severe findings, at most [`TOP_FINDINGS_PER_CHECK_TYPE`] per check type and
    /// [`TOP_FINDINGS_MAX`] overall, most severe first; fields truncated.
    pub top_findings: Vec<Finding>,
    pub totals: Totals,
}

/// Reduces a normalised scan and its signals to the bounded stored summary.
pub fn summarise(scan: &NormalisedScan, signals: &Signals) -> ScanSummary {
    let covered = scan.covered();

    let mut counts: BTreeMap<CheckType, SeverityCounts> = covered
        .iter()
        .filter(|c| c.is_finding_based())
        .map(|c| (*c, SeverityCounts::default()))
        .collect();
    let mut by_severity = SeverityCounts::default();
    for f in &scan.findings {
        counts.entry(f.check_type).or_default().add(f.severity);
        by_severity.add(f.severity);
    }

    // Tools, aggregated by name and version.
    let mut tools: Vec<ToolSummary> = Vec::new();
    let mut tools_omitted = 0u64;
    let mut omitted_keys: BTreeSet<(&str, Option<&str>)> = BTreeSet::new();
    let mut failed_tools: Vec<FailedTool> = Vec::new();
    for run in &scan.tools {
        let name = clip_bytes(&run.tool, TOOL_NAME_BYTES);
        let version = run.version.as_deref().map(|v| clip_bytes(v, VERSION_BYTES));
        let known = tools
            .iter()
            .position(|t| t.tool == name && t.version == version);
        match known {
            Some(k) => {
                let t = &mut tools[k];
                t.runs += 1;
                t.failed_runs += u64::from(run.failed.is_some());
                t.covered.extend(run.covered.iter().copied());
                t.results_counted += run.results_counted as u64;
                t.results_excluded += run.results_excluded as u64;
            }
            None if tools.len() < TOOLS_MAX => tools.push(ToolSummary {
                tool: name.clone(),
                version: version.clone(),
                runs: 1,
                failed_runs: u64::from(run.failed.is_some()),
                covered: run.covered.clone(),
                results_counted: run.results_counted as u64,
                results_excluded: run.results_excluded as u64,
            }),
            None => {
                if omitted_keys.insert((run.tool.as_str(), run.version.as_deref())) {
                    tools_omitted += 1;
                }
            }
        }
        if let Some(reason) = &run.failed {
            let failed = FailedTool {
                tool: name,
                version,
                reason: clip_bytes(reason, REASON_BYTES),
            };
            if failed_tools.len() < FAILED_TOOLS_MAX && !failed_tools.contains(&failed) {
                failed_tools.push(failed);
            }
        }
    }

    ScanSummary {
        counts,
        covered,
        tools,
        tools_omitted,
        failed_tools,
        excluded: scan.excluded,
        signals: signals.bounded(),
        top_findings: top_findings(&scan.findings),
        totals: Totals {
            findings: scan.findings.len() as u64,
            excluded: scan.excluded.total() as u64,
            runs: scan.tools.len() as u64,
            failed_runs: scan.failed_runs().count() as u64,
            by_severity,
        },
    }
}

/// Evidence order: most severe first, then by check type, tool, rule, file, line, fingerprint
/// (so the choice is deterministic).
fn rank(a: &Finding, b: &Finding) -> Ordering {
    b.severity
        .cmp(&a.severity)
        .then(a.check_type.cmp(&b.check_type))
        .then_with(|| a.tool.cmp(&b.tool))
        .then_with(|| a.rule_id.cmp(&b.rule_id))
        .then_with(|| {
            let loc = |f: &Finding| f.location.as_ref().map(|l| (l.uri.clone(), l.start_line));
            loc(a).cmp(&loc(b))
        })
        .then_with(|| a.fingerprint.cmp(&b.fingerprint))
}

/// One pass keeping the best few per check type (duplicates by fingerprint skipped), then the
/// best overall: O(n) in the number of findings.
fn top_findings(findings: &[Finding]) -> Vec<Finding> {
    let mut best: BTreeMap<CheckType, Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        let list = best.entry(f.check_type).or_default();
        if list.len() == TOP_FINDINGS_PER_CHECK_TYPE
            && list
                .last()
                .is_some_and(|worst| rank(f, worst) != Ordering::Less)
        {
            continue;
        }
        if list.iter().any(|g| g.fingerprint == f.fingerprint) {
            continue;
        }
        let at = list
            .iter()
            .position(|g| rank(f, g) == Ordering::Less)
            .unwrap_or(list.len());
        list.insert(at, f);
        list.truncate(TOP_FINDINGS_PER_CHECK_TYPE);
    }
    let mut all: Vec<&Finding> = best.into_values().flatten().collect();
    all.sort_by(|a, b| rank(a, b));
    all.into_iter()
        .take(TOP_FINDINGS_MAX)
        .map(|f| Finding {
            check_type: f.check_type,
            severity: f.severity,
            rule_id: clip_bytes(&f.rule_id, EVIDENCE_RULE_BYTES),
            tool: clip_bytes(&f.tool, EVIDENCE_TOOL_BYTES),
            cwe: f.cwe.iter().take(EVIDENCE_CWE_MAX).copied().collect(),
            message: clip_bytes(&f.message, EVIDENCE_MESSAGE_BYTES),
            location: f.location.as_ref().map(|l| Location {
                uri: clip_bytes(&l.uri, EVIDENCE_URI_BYTES),
                start_line: l.start_line,
            }),
            fingerprint: clip_bytes(&f.fingerprint, EVIDENCE_FINGERPRINT_BYTES),
        })
        .collect()
}

#[cfg(test)]
mod tests;
