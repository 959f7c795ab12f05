//! The bounded summary stored per scan: whatever the report's size, it stays far below
//! DynamoDB's 400 KB item limit (every list is capped, every string truncated; see the
//! constants below and docs/ingestion.md).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::catalog::{CheckType, Severity};

use super::model::{
    clip_bytes, ExclusionCounts, Finding, FindingKey, FindingKeys, Location, NormalisedScan,
    ToolRun, CWE_MAX_PER_FINDING,
};
use super::native::Signals;

/// Most findings kept as evidence, overall.
pub const TOP_FINDINGS_MAX: usize = 25;
/// Most findings kept as evidence per check type.
pub const TOP_FINDINGS_PER_CHECK_TYPE: usize = 5;
/// Most distinct tools (name + version) listed.
pub const TOOLS_MAX: usize = 20;
/// Most failed runs listed.
pub const FAILED_TOOLS_MAX: usize = 20;
/// Most entries in [`ScanSummary::finding_groups`].
pub const FINDING_GROUPS_MAX: usize = 128;
/// Most CWE ids an overflow group lists; with more, it lists none and stands for every CWE id.
pub const OVERFLOW_CWE_MAX: usize = 64;

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

    /// Adds `other`'s counts, severity by severity (saturating).
    pub fn add_counts(&mut self, other: &SeverityCounts) {
        for severity in Severity::ALL {
            let slot = self.slot(severity);
            *slot = slot.saturating_add(other.get(severity));
        }
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

/// Counted findings of one check type that carry the same CWE ids, by severity: what judging a
/// control by its weaknesses (CWE ids) needs. A finding is in exactly one group, whatever the
/// number of its CWE ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingGroup {
    pub check_type: CheckType,
    /// The findings' CWE ids, ascending, without duplicates; empty for findings without any.
    /// For an overflow group: the union of its findings' ids, or empty when that union would
    /// exceed [`OVERFLOW_CWE_MAX`] ids — then the group stands for every CWE id.
    pub cwe: Vec<u32>,
    /// An overflow group: the findings of this check type, all with CWE ids, left out of the
    /// exact groups when a scan has more than [`FINDING_GROUPS_MAX`] (see
    /// [`ScanSummary::finding_groups`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overflow: bool,
    pub counts: SeverityCounts,
}

impl FindingGroup {
    /// Whether the group's findings carry no CWE id (they are judged by check type).
    pub fn without_cwe(&self) -> bool {
        self.cwe.is_empty() && !self.overflow
    }

    /// Whether some finding of the group may carry one of `ids` (ascending): always for an
    /// overflow group that lists no id, never for findings without CWE id.
    pub fn meets(&self, ids: &[u32]) -> bool {
        if self.overflow && self.cwe.is_empty() {
            return true;
        }
        // Both ascending: a merge walk.
        let (mut i, mut j) = (0, 0);
        while i < self.cwe.len() && j < ids.len() {
            match self.cwe[i].cmp(&ids[j]) {
                Ordering::Less => i += 1,
                Ordering::Greater => j += 1,
                Ordering::Equal => return true,
            }
        }
        false
    }
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
    /// The counted findings (the same as `counts`, exclusions alike) grouped by check type and
    /// CWE ids, ordered by check type, then exact groups by CWE ids (the group without CWE id
    /// first), then the overflow group. Adding up the groups of a check type gives its `counts`.
    ///
    /// Bounded: at most [`FINDING_GROUPS_MAX`] groups. When a scan has more distinct (check
    /// type, CWE ids), the groups without CWE id are kept, then groups with CWE ids taken in
    /// turn from each check type, largest first (most findings; ties by ids) — so no check type
    /// crowds out another —, and the findings of the others are merged into one overflow group
    /// per check type whose CWE ids are the union of theirs — or, past [`OVERFLOW_CWE_MAX`] ids,
    /// every CWE id. A finding with more than
    /// [`CWE_MAX_PER_FINDING`] ids (which parsing never yields) goes to the overflow group too.
    /// So the bound over-matches (an overflow group meets a control when any of its findings
    /// might), never under-matches: no finding drops out of CWE matching.
    ///
    /// `None` for summaries stored before findings were grouped: their controls are judged by
    /// check type, as they were then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding_groups: Option<Vec<FindingGroup>>,
}

/// Reduces a normalised scan and its signals to the bounded stored summary.
pub fn summarise(scan: &NormalisedScan, signals: &Signals) -> ScanSummary {
    let mut summariser = Summariser::default();
    for f in &scan.findings {
        summariser.add(f);
    }
    summariser.finish(&scan.tools, scan.excluded, signals)
}

/// A counted finding as the summary sees it: a [`Finding`], or a borrowed view of one that
/// builds the owned finding (messages cut, fingerprint hashed) only when it may become
/// evidence.
pub(crate) trait Candidate {
    fn check_type(&self) -> CheckType;
    fn severity(&self) -> Severity;
    /// CWE ids as the finding carries them.
    fn cwe(&self) -> &[u32];
    /// `rank(self as a finding, other)`, computing no more than the comparison needs.
    fn rank_against(&self, other: &Finding) -> Ordering;
    fn to_finding(&self) -> Finding;
    /// What matching an exception needs of it.
    fn key(&self) -> FindingKey;
}

impl Candidate for Finding {
    fn check_type(&self) -> CheckType {
        self.check_type
    }
    fn severity(&self) -> Severity {
        self.severity
    }
    fn cwe(&self) -> &[u32] {
        &self.cwe
    }
    fn rank_against(&self, other: &Finding) -> Ordering {
        rank(self, other)
    }
    fn to_finding(&self) -> Finding {
        self.clone()
    }
    fn key(&self) -> FindingKey {
        FindingKey::of(self)
    }
}

/// The summary built one finding at a time, in input order (what [`summarise`] does over a
/// whole scan, without holding every finding): counts, CWE groups and the few findings kept
/// as evidence. The result is the same as [`summarise`] over the same findings and runs.
#[derive(Default)]
pub(crate) struct Summariser {
    counts: BTreeMap<CheckType, SeverityCounts>,
    by_severity: SeverityCounts,
    findings: u64,
    /// Exact groups by check type, then CWE ids.
    exact: BTreeMap<CheckType, BTreeMap<Vec<u32>, SeverityCounts>>,
    /// Findings whose ids are not a valid group key, per check type.
    overflow: BTreeMap<CheckType, (BTreeSet<u32>, SeverityCounts)>,
    /// The best few per check type, best first (duplicates by fingerprint skipped).
    best: BTreeMap<CheckType, Vec<Finding>>,
    /// The first findings' keys, for exceptions.
    keys: FindingKeys,
}

impl Summariser {
    /// Counts one counted finding.
    pub(crate) fn add<C: Candidate + ?Sized>(&mut self, f: &C) {
        let check_type = f.check_type();
        let severity = f.severity();
        self.counts.entry(check_type).or_default().add(severity);
        self.by_severity.add(severity);
        self.findings += 1;
        self.group(check_type, severity, f.cwe());
        self.keep_if_best(f);
        self.keys.push_with(|| f.key());
    }

    fn group(&mut self, check_type: CheckType, severity: Severity, cwe: &[u32]) {
        if cwe.len() > CWE_MAX_PER_FINDING {
            let (ids, counts) = self.overflow.entry(check_type).or_default();
            ids.extend(cwe.iter().copied());
            counts.add(severity);
            return;
        }
        let of_type = self.exact.entry(check_type).or_default();
        let canonical = cwe.windows(2).all(|w| w[0] < w[1]);
        let counts = if canonical {
            // Look up by slice: the key is copied once per distinct group, not per finding.
            if !of_type.contains_key(cwe) {
                of_type.insert(cwe.to_vec(), SeverityCounts::default());
            }
            of_type.get_mut(cwe).expect("inserted just above")
        } else {
            let mut ids = cwe.to_vec();
            ids.sort_unstable();
            ids.dedup();
            of_type.entry(ids).or_default()
        };
        counts.add(severity);
    }

    /// One step of the evidence choice: keeps the best few per check type (duplicates by
    /// fingerprint skipped); O(1) per finding.
    fn keep_if_best<C: Candidate + ?Sized>(&mut self, c: &C) {
        let list = self.best.entry(c.check_type()).or_default();
        if list.len() == TOP_FINDINGS_PER_CHECK_TYPE
            && list
                .last()
                .is_some_and(|worst| c.rank_against(worst) != Ordering::Less)
        {
            return;
        }
        let f = c.to_finding();
        if list.iter().any(|g| g.fingerprint == f.fingerprint) {
            return;
        }
        let at = list
            .iter()
            .position(|g| rank(&f, g) == Ordering::Less)
            .unwrap_or(list.len());
        list.insert(at, f);
        list.truncate(TOP_FINDINGS_PER_CHECK_TYPE);
    }

    /// The summary of the findings added, with the scan's runs (in input order), exclusions
    /// and signals.
    /// The summary, and the findings' keys.
    pub(crate) fn finish_keyed(
        mut self,
        runs: &[ToolRun],
        excluded: ExclusionCounts,
        signals: &Signals,
    ) -> (ScanSummary, FindingKeys) {
        let keys = std::mem::take(&mut self.keys);
        (self.finish(runs, excluded, signals), keys)
    }

    pub(crate) fn finish(
        self,
        runs: &[ToolRun],
        excluded: ExclusionCounts,
        signals: &Signals,
    ) -> ScanSummary {
        let covered: BTreeSet<CheckType> = runs
            .iter()
            .filter(|t| t.failed.is_none())
            .flat_map(|t| t.covered.iter().copied())
            .collect();
        let mut counts = self.counts;
        for c in covered.iter().filter(|c| c.is_finding_based()) {
            counts.entry(*c).or_default();
        }
        let (tools, tools_omitted, failed_tools) = tool_summaries(runs);
        ScanSummary {
            counts,
            covered,
            tools,
            tools_omitted,
            failed_tools,
            excluded,
            signals: signals.bounded(),
            top_findings: top_findings(self.best),
            finding_groups: Some(finding_groups(self.exact, self.overflow)),
            totals: Totals {
                findings: self.findings,
                excluded: excluded.total() as u64,
                runs: runs.len() as u64,
                failed_runs: runs.iter().filter(|t| t.failed.is_some()).count() as u64,
                by_severity: self.by_severity,
            },
        }
    }
}

/// Tools aggregated by name and version, the number left out, and the failed runs.
fn tool_summaries(runs: &[ToolRun]) -> (Vec<ToolSummary>, u64, Vec<FailedTool>) {
    let mut tools: Vec<ToolSummary> = Vec::new();
    let mut tools_omitted = 0u64;
    let mut omitted_keys: BTreeSet<(&str, Option<&str>)> = BTreeSet::new();
    let mut failed_tools: Vec<FailedTool> = Vec::new();
    for run in runs {
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
    (tools, tools_omitted, failed_tools)
}

/// The findings grouped by check type and CWE ids, bounded (see [`ScanSummary::finding_groups`]).
fn finding_groups(
    exact: BTreeMap<CheckType, BTreeMap<Vec<u32>, SeverityCounts>>,
    mut overflow: BTreeMap<CheckType, (BTreeSet<u32>, SeverityCounts)>,
) -> Vec<FindingGroup> {
    let mut with_cwe: Vec<(CheckType, Vec<u32>, SeverityCounts)> = Vec::new();
    let mut groups: Vec<FindingGroup> = Vec::new();
    for (check_type, of_type) in exact {
        for (cwe, counts) in of_type {
            if cwe.is_empty() {
                groups.push(FindingGroup {
                    check_type,
                    cwe,
                    overflow: false,
                    counts,
                });
            } else {
                with_cwe.push((check_type, cwe, counts));
            }
        }
    }
    let mut overflow_types: BTreeSet<CheckType> = overflow.keys().copied().collect();
    if groups.len() + with_cwe.len() + overflow_types.len() > FINDING_GROUPS_MAX {
        // Room is left for one overflow group per check type with CWE ids. Each check type's
        // groups are ranked largest first (ties by ids); the room is filled rank by rank across
        // the check types, so a dependency scan with many distinct CWE ids cannot crowd out the
        // SAST groups. The rest overflow.
        overflow_types.extend(with_cwe.iter().map(|(ct, _, _)| *ct));
        let room = FINDING_GROUPS_MAX - groups.len() - overflow_types.len();
        type Group = (CheckType, Vec<u32>, SeverityCounts);
        // Largest first, ties by check type then ids: a total order, so the choice is
        // deterministic.
        let larger = |a: &Group, b: &Group| {
            b.2.total()
                .cmp(&a.2.total())
                .then(a.0.cmp(&b.0))
                .then_with(|| a.1.cmp(&b.1))
        };
        with_cwe.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| larger(a, b)));
        let mut ranked: Vec<(usize, Group)> = Vec::with_capacity(with_cwe.len());
        let mut previous: Option<CheckType> = None;
        let mut rank = 0;
        for group in with_cwe.drain(..) {
            rank = if previous == Some(group.0) {
                rank + 1
            } else {
                0
            };
            previous = Some(group.0);
            ranked.push((rank, group));
        }
        ranked.sort_by(|(ra, a), (rb, b)| ra.cmp(rb).then_with(|| larger(a, b)));
        let overflowing = ranked.split_off(room.min(ranked.len()));
        with_cwe = ranked.into_iter().map(|(_, group)| group).collect();
        for (_, (check_type, cwe, counts)) in overflowing {
            let (ids, total) = overflow.entry(check_type).or_default();
            ids.extend(cwe);
            total.add_counts(&counts);
        }
    }
    groups.extend(
        with_cwe
            .into_iter()
            .map(|(check_type, cwe, counts)| FindingGroup {
                check_type,
                cwe,
                overflow: false,
                counts,
            }),
    );
    groups.extend(
        overflow
            .into_iter()
            .map(|(check_type, (ids, counts))| FindingGroup {
                check_type,
                cwe: if ids.len() > OVERFLOW_CWE_MAX {
                    Vec::new()
                } else {
                    ids.into_iter().collect()
                },
                overflow: true,
                counts,
            }),
    );
    groups.sort_by(|a, b| {
        a.check_type
            .cmp(&b.check_type)
            .then(a.overflow.cmp(&b.overflow))
            .then_with(|| a.cwe.cmp(&b.cwe))
    });
    groups
}

/// Evidence order: most severe first, then by check type, tool, rule, file, line, fingerprint
/// (so the choice is deterministic).
pub(crate) fn rank(a: &Finding, b: &Finding) -> Ordering {
    b.severity
        .cmp(&a.severity)
        .then(a.check_type.cmp(&b.check_type))
        .then_with(|| a.tool.cmp(&b.tool))
        .then_with(|| a.rule_id.cmp(&b.rule_id))
        .then_with(|| {
            fn loc(f: &Finding) -> Option<(&str, Option<u32>)> {
                f.location.as_ref().map(|l| (l.uri.as_str(), l.start_line))
            }
            loc(a).cmp(&loc(b))
        })
        .then_with(|| a.fingerprint.cmp(&b.fingerprint))
}

/// The best findings overall from the best few per check type (see
/// [`Summariser::keep_if_best`]), fields clipped.
fn top_findings(best: BTreeMap<CheckType, Vec<Finding>>) -> Vec<Finding> {
    let mut all: Vec<Finding> = best.into_values().flatten().collect();
    all.sort_by(rank);
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
