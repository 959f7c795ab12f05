//! Builders shared by the unit and property tests.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeZone, Utc};

use crate::catalog::{CheckType, Control, Domain, Framework, PassCondition, Recommendation};
use crate::ingest::{FindingGroup, ScanSummary, SeverityCounts, Signals, Totals};

use super::{score, FrameworkInput, Report, ScanInput};

/// A fixed evaluation time.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 26, 12, 0, 0).unwrap()
}

pub fn control(id: &str, check_type: CheckType, condition: PassCondition) -> Control {
    Control {
        id: id.to_string(),
        name: format!("Control {id}"),
        category: "Test".to_string(),
        description: String::new(),
        check_type,
        pass_condition: condition,
        recommendation: Recommendation::Recommended,
        recommendation_reason: "Baseline reason.".to_string(),
        domain: Domain::for_check_type(check_type),
        weaknesses: None,
    }
}

/// A control with its check type's default condition.
pub fn default_control(id: &str, check_type: CheckType) -> Control {
    control(id, check_type, PassCondition::default_for(check_type))
}

pub fn framework(key: &str, controls: Vec<Control>) -> Framework {
    Framework {
        key: key.to_string(),
        name: format!("Framework {key}"),
        description: String::new(),
        requires_plan: None,
        custom: true,
        controls,
    }
}

pub fn counts(critical: u64, high: u64, medium: u64, low: u64, info: u64) -> SeverityCounts {
    SeverityCounts {
        critical,
        high,
        medium,
        low,
        info,
    }
}

/// A scan summary covering `covered`, with these counts (check types with counts are not made
/// covered by that alone) and signals; totals follow the counts.
pub fn summary(
    covered: &[CheckType],
    counts: &[(CheckType, SeverityCounts)],
    signals: Signals,
) -> ScanSummary {
    let mut by_type: BTreeMap<CheckType, SeverityCounts> = covered
        .iter()
        .filter(|ct| ct.is_finding_based())
        .map(|ct| (*ct, SeverityCounts::default()))
        .collect();
    for (ct, c) in counts {
        by_type.insert(*ct, *c);
    }
    let mut s = ScanSummary {
        counts: by_type,
        covered: covered.iter().copied().collect::<BTreeSet<_>>(),
        tools: Vec::new(),
        tools_omitted: 0,
        failed_tools: Vec::new(),
        excluded: Default::default(),
        signals,
        top_findings: Vec::new(),
        totals: Totals::default(),
        finding_groups: None,
    };
    recount(&mut s);
    s
}

/// A scan summary covering `covered` whose counted findings are `groups` (check type, CWE ids,
/// counts; ids in any order, keys may repeat): the groups are normalised as ingestion stores
/// them and the per-check-type counts and totals follow them.
pub fn grouped_summary(
    covered: &[CheckType],
    groups: &[(CheckType, Vec<u32>, SeverityCounts)],
    signals: Signals,
) -> ScanSummary {
    let mut s = summary(covered, &[], signals);
    s.finding_groups = Some(Vec::new());
    for (ct, cwe, c) in groups {
        add_group(&mut s, *ct, cwe, c);
    }
    s
}

/// Adds counted findings of `check_type` with CWE ids `cwe` to a grouped summary: to their group
/// (created if need be, in order), to the check type's counts and to the totals.
pub fn add_group(s: &mut ScanSummary, check_type: CheckType, cwe: &[u32], c: &SeverityCounts) {
    let mut cwe = cwe.to_vec();
    cwe.sort_unstable();
    cwe.dedup();
    let groups = s.finding_groups.get_or_insert_with(Vec::new);
    match groups
        .iter_mut()
        .find(|g| g.check_type == check_type && g.cwe == cwe && !g.overflow)
    {
        Some(g) => g.counts.add_counts(c),
        None => {
            groups.push(FindingGroup {
                check_type,
                cwe,
                overflow: false,
                counts: *c,
            });
            groups.sort_by(|a, b| {
                (a.check_type, a.overflow, &a.cwe).cmp(&(b.check_type, b.overflow, &b.cwe))
            });
        }
    }
    s.counts.entry(check_type).or_default().add_counts(c);
    recount(s);
}

/// A copy of `framework` without any weakness mapping: every control judged by check type.
pub fn unmapped(framework: &Framework) -> Framework {
    let mut f = framework.clone();
    for c in &mut f.controls {
        c.weaknesses = None;
    }
    f
}

/// Recomputes the totals from the counts.
pub fn recount(s: &mut ScanSummary) {
    let by_severity = s.counts.values().fold(SeverityCounts::default(), |t, c| {
        counts(
            t.critical + c.critical,
            t.high + c.high,
            t.medium + c.medium,
            t.low + c.low,
            t.info + c.info,
        )
    });
    s.totals.findings = by_severity.total();
    s.totals.by_severity = by_severity;
}

/// Every finding-based check type.
pub fn finding_types() -> Vec<CheckType> {
    CheckType::ALL
        .into_iter()
        .filter(|ct| ct.is_finding_based())
        .collect()
}

/// Scores `frameworks` (each with its disabled ids) against `scan`, a summary and its
/// completion time, at [`now`].
pub fn run(
    frameworks: &[(&Framework, &[String])],
    scan: Option<(&ScanSummary, DateTime<Utc>)>,
) -> Report {
    let inputs: Vec<FrameworkInput> = frameworks
        .iter()
        .map(|(framework, disabled)| FrameworkInput {
            framework,
            disabled,
            attested: &[],
        })
        .collect();
    let scan = scan.map(|(summary, completed_at)| ScanInput {
        summary,
        completed_at,
        excepted: None,
    });
    score(&inputs, scan.as_ref(), now())
}
