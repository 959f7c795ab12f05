//! Which counted findings a CWE-mapped control is judged on (rules in the module documentation
//! of `scoring`, "Controls mapped to weaknesses").

use crate::catalog::{CheckType, Control, WeaknessMapping};
use crate::ingest::{FindingGroup, ScanSummary, SeverityCounts};

use super::Matched;

/// Most CWE ids listed in [`Matched::cwe`].
pub const MATCHED_CWE_MAX: usize = 20;

/// The SAST check types: one analysis, split by the ingest's own CWE lists.
const SAST: [CheckType; 3] = [
    CheckType::SastSecurity,
    CheckType::SastCrypto,
    CheckType::SastAuth,
];

/// Whether `check_type` is one of the three SAST check types.
pub(super) fn is_sast(check_type: CheckType) -> bool {
    SAST.contains(&check_type)
}

/// Check types of findings in the repository's own code (not its dependencies, not its
/// infrastructure definitions).
fn is_first_party_code(check_type: CheckType) -> bool {
    matches!(
        check_type,
        CheckType::Secrets
            | CheckType::SastSecurity
            | CheckType::SastCrypto
            | CheckType::SastAuth
            | CheckType::CodeQuality
    )
}

/// Whether a finding of `finding` check type may count against a control of `control` check
/// type by its CWE ids: within the first-party code check types, across them; otherwise only of
/// the control's own check type (a dependency's CWE-79 is the library's flaw, not the org's
/// injection; a misconfiguration stays with the infrastructure controls).
pub(super) fn may_match(finding: CheckType, control: CheckType) -> bool {
    finding == control || (is_first_party_code(finding) && is_first_party_code(control))
}

/// The mapping a control is judged by, when it is judged by weaknesses: it has one, its check
/// type is finding-based, and the summary groups its findings (`None`: judge by check type).
pub(super) fn judged_by_weaknesses<'a>(
    control: &'a Control,
    summary: &'a ScanSummary,
) -> Option<(&'a WeaknessMapping, &'a [FindingGroup])> {
    let mapping = control.weaknesses.as_ref()?;
    let groups = summary.finding_groups.as_deref()?;
    control
        .check_type
        .is_finding_based()
        .then_some((mapping, groups))
}

/// The counted findings of `groups` that count against a control of `check_type` with
/// `mapping`: those whose CWE ids meet the mapping (of a check type that [`may_match`]), and
/// those without any CWE id of the control's own check type.
pub(super) fn matched(
    check_type: CheckType,
    mapping: &WeaknessMapping,
    groups: &[FindingGroup],
) -> Matched {
    let mut by_cwe = SeverityCounts::default();
    let mut by_check_type = SeverityCounts::default();
    let mut ids: Vec<u32> = Vec::new();
    for group in groups {
        if group.without_cwe() {
            if group.check_type == check_type {
                by_check_type.add_counts(&group.counts);
            }
        } else if may_match(group.check_type, check_type) && group.meets(&mapping.cwe) {
            by_cwe.add_counts(&group.counts);
            ids.extend(group.cwe.iter().filter(|id| mapping.contains(**id)));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    ids.truncate(MATCHED_CWE_MAX);
    Matched {
        by_cwe,
        by_check_type,
        cwe: ids,
    }
}

impl Matched {
    /// Every finding counted against the control.
    pub fn total(&self) -> SeverityCounts {
        let mut total = self.by_cwe;
        total.add_counts(&self.by_check_type);
        total
    }
}
