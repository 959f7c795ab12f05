//! Pass conditions: the typed rule a control is judged by.
//!
//! A condition arrives as text (a custom framework's `pass_condition`, a catalog data file), is
//! parsed once at the edge against the control's check type, and is carried as a
//! [`PassCondition`] from then on. It serialises back to its canonical text, and every accepted
//! text is already canonical: `parse(ct, s)?.to_string() == s`.
//!
//! Findings are "counted" findings of the control's check type: what the scoring engine counts
//! from the repository's latest scan (suppressed and baseline-absent results excluded). How a
//! check type with no evidence at all is reported (no tool covered it, no scan, no merged pull
//! request) is the scoring engine's business: the conditions below define pass / partial / fail
//! only when there is evidence to judge.

use std::fmt;

use serde::{Serialize, Serializer};

use super::check_type::{CheckType, Severity};

/// Largest `N` in `max_<N>_<noun>`.
pub const MAX_FINDINGS_LIMIT: u32 = 10_000;
/// Largest `N` in `scanned_within_<N>_days` (the smallest is 1).
pub const MAX_SCAN_AGE_DAYS: u32 = 365;
/// Largest `N` in `min_approvals_<N>` (the smallest is 1).
pub const MAX_APPROVALS: u8 = 10;

/// Findings up to this many (none critical) make the standard rule partial rather than fail.
pub const STANDARD_PARTIAL_MAX: u32 = 2;

/// The severities a ceiling may name, most severe first. `info` is not one: "no finding at or
/// above info" is every finding, which `max_0_<noun>` already says.
const CEILING_SEVERITIES: [Severity; 4] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
];

labels! {
    /// The word a finding-based condition uses for what it counts; it also fixes which check
    /// types the condition is valid for.
    pub enum FindingNoun as "finding noun" {
        /// For check type `secrets`.
        Secrets => "secrets",
        /// For `sast_security`, `sast_crypto` and `sast_auth`.
        Findings => "findings",
        /// For `sca_vulns`.
        Vulns => "vulns",
        /// For `iac_issues`.
        Misconfigs => "misconfigs",
        /// For `code_quality`.
        Issues => "issues",
    }
}

impl FindingNoun {
    /// The noun of a finding-based check type; `None` for the signal-based ones.
    pub fn for_check_type(check_type: CheckType) -> Option<FindingNoun> {
        match check_type {
            CheckType::Secrets => Some(FindingNoun::Secrets),
            CheckType::SastSecurity | CheckType::SastCrypto | CheckType::SastAuth => {
                Some(FindingNoun::Findings)
            }
            CheckType::ScaVulns => Some(FindingNoun::Vulns),
            CheckType::IacIssues => Some(FindingNoun::Misconfigs),
            CheckType::CodeQuality => Some(FindingNoun::Issues),
            CheckType::ScanRecency
            | CheckType::QualityGates
            | CheckType::PrReviews
            | CheckType::Manual => None,
        }
    }

    /// The check types this noun is valid for.
    pub fn check_types(self) -> Vec<CheckType> {
        CheckType::ALL
            .into_iter()
            .filter(|&ct| FindingNoun::for_check_type(ct) == Some(self))
            .collect()
    }
}

/// The rule that turns a control's evidence into pass / partial / fail.
///
/// Canonical texts (`<noun>` is the check type's [`FindingNoun`]):
///
/// | text | variant |
/// | --- | --- |
/// | `no_findings` | [`PassCondition::NoFindings`] |
/// | `no_<critical\|high\|medium\|low>_<noun>` | [`PassCondition::SeverityCeiling`] |
/// | `max_<N>_<noun>` | [`PassCondition::MaxFindings`] |
/// | `scanned_within_<N>_days` | [`PassCondition::ScannedWithinDays`] |
/// | `quality_gate_passed` | [`PassCondition::QualityGatePassed`] |
/// | `pr_review_rate_at_least_<P>` | [`PassCondition::ReviewRateAtLeast`] |
/// | `min_approvals_<N>` | [`PassCondition::MinApprovals`] |
/// | `attested` | [`PassCondition::Attested`] |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PassCondition {
    /// `no_findings`, every finding-based check type. The standard rule: **pass** with no
    /// counted finding; **partial** with 1 or 2 counted findings, none critical; **fail** with 3
    /// or more, or with any critical one.
    NoFindings,
    /// `no_<severity>_<noun>`, a severity ceiling: **fail** with any counted finding at or above
    /// `at_or_above`; **partial** with counted findings all below it (any number); **pass** with
    /// no counted finding at all. `at_or_above` is critical, high, medium or low, never info.
    SeverityCeiling {
        at_or_above: Severity,
        noun: FindingNoun,
    },
    /// `max_<N>_<noun>`, a finding budget (N from 0 to [`MAX_FINDINGS_LIMIT`]): **pass** with at
    /// most `max` counted findings and none critical; **fail** otherwise (more than `max`, or any
    /// critical). Never partial. `max_0_<noun>` is zero tolerance.
    MaxFindings { max: u32, noun: FindingNoun },
    /// `scanned_within_<N>_days`, check type `scan_recency` (N from 1 to
    /// [`MAX_SCAN_AGE_DAYS`]). With `age` = evaluation time minus the completion time of the
    /// repository's latest completed scan: **pass** when `age ≤ N × 24 h`; **partial** when
    /// `N × 24 h < age ≤ 2N × 24 h` (one cadence missed); **fail** when older.
    ScannedWithinDays(u32),
    /// `quality_gate_passed`, check type `quality_gates`: **pass** when the quality-gate status
    /// reported with the latest scan is passed; **fail** when it is failed. Never partial.
    QualityGatePassed,
    /// `pr_review_rate_at_least_<P>`, check type `pr_reviews` (P a percentage from 1 to 100).
    /// With `rate` = the percentage of pull requests merged in the signal's window that had at
    /// least one approving review by someone other than their author before merge: **pass** when
    /// `rate ≥ P`; **partial** when `rate ≥ 4/5 × P` (within a fifth of the target); **fail**
    /// otherwise.
    ReviewRateAtLeast(u8),
    /// `min_approvals_<N>`, check type `pr_reviews` (N from 1 to [`MAX_APPROVALS`]). With `m` =
    /// the fewest approving reviews (by others than the author) that any pull request merged in
    /// the signal's window received: **pass** when `m ≥ N`; **partial** when `1 ≤ m < N` (every
    /// change was approved, some by fewer reviewers than required); **fail** when `m = 0` (some
    /// change merged unapproved).
    MinApprovals(u8),
    /// `attested`, check type `manual`: **pass** while the org's attestation of the control is
    /// current or due soon; no evidence without one, or once it is overdue. Never partial or
    /// fail: a person vouches for it, or nobody does.
    Attested,
}

/// One form of the pass-condition vocabulary, for documentation and error messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionForm {
    /// The form, with `<noun>`, `<severity>`, `<N>` or `<P>` as placeholders.
    pub pattern: &'static str,
    /// The check types the form is valid for.
    pub check_types: Vec<CheckType>,
    /// The allowed values of the placeholders.
    pub parameters: &'static str,
    /// What pass, partial and fail mean under it.
    pub meaning: &'static str,
    /// A valid instance.
    pub example: &'static str,
}

impl PassCondition {
    /// Parses `text` as a pass condition for a control of `check_type`. The error says what is
    /// wrong and lists what is valid for that check type.
    pub fn parse(check_type: CheckType, text: &str) -> Result<PassCondition, String> {
        let valid = || valid_for(check_type);
        match recognise(text) {
            None => Err(format!(
                "unknown pass_condition '{text}' for check_type '{check_type}'; {}",
                valid()
            )),
            Some((types, _)) if !types.contains(&check_type) => Err(format!(
                "pass_condition '{text}' is for check_type {}, not '{check_type}'; {}",
                join_types(&types),
                valid()
            )),
            Some((_, Err(why))) => Err(format!(
                "invalid pass_condition '{text}': {why}; {}",
                valid()
            )),
            Some((_, Ok(condition))) => Ok(condition),
        }
    }

    /// The condition a control of `check_type` gets when none is given: the standard rule for
    /// finding-based types, a weekly scan for `scan_recency`, a passed gate for `quality_gates`,
    /// and every merged pull request reviewed for `pr_reviews`.
    pub fn default_for(check_type: CheckType) -> PassCondition {
        match check_type {
            CheckType::ScanRecency => PassCondition::ScannedWithinDays(7),
            CheckType::QualityGates => PassCondition::QualityGatePassed,
            CheckType::PrReviews => PassCondition::ReviewRateAtLeast(100),
            CheckType::Manual => PassCondition::Attested,
            _ => PassCondition::NoFindings,
        }
    }

    /// The canonical text, which [`PassCondition::parse`] accepts back.
    pub fn as_string(&self) -> String {
        self.to_string()
    }

    /// The check types this condition is valid for.
    pub fn check_types(&self) -> Vec<CheckType> {
        match self {
            PassCondition::NoFindings => CheckType::ALL
                .into_iter()
                .filter(|ct| ct.is_finding_based())
                .collect(),
            PassCondition::SeverityCeiling { noun, .. }
            | PassCondition::MaxFindings { noun, .. } => noun.check_types(),
            PassCondition::ScannedWithinDays(_) => vec![CheckType::ScanRecency],
            PassCondition::QualityGatePassed => vec![CheckType::QualityGates],
            PassCondition::ReviewRateAtLeast(_) | PassCondition::MinApprovals(_) => {
                vec![CheckType::PrReviews]
            }
            PassCondition::Attested => vec![CheckType::Manual],
        }
    }

    /// Whether this condition is valid for a control of `check_type`.
    pub fn applies_to(&self, check_type: CheckType) -> bool {
        self.check_types().contains(&check_type)
    }

    /// The noun of a finding-based condition other than the standard rule.
    pub fn noun(&self) -> Option<FindingNoun> {
        match self {
            PassCondition::SeverityCeiling { noun, .. }
            | PassCondition::MaxFindings { noun, .. } => Some(*noun),
            _ => None,
        }
    }
}

impl fmt::Display for PassCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PassCondition::NoFindings => f.write_str("no_findings"),
            PassCondition::SeverityCeiling { at_or_above, noun } => {
                write!(f, "no_{}_{}", at_or_above.as_str(), noun.as_str())
            }
            PassCondition::MaxFindings { max, noun } => write!(f, "max_{max}_{}", noun.as_str()),
            PassCondition::ScannedWithinDays(days) => write!(f, "scanned_within_{days}_days"),
            PassCondition::QualityGatePassed => f.write_str("quality_gate_passed"),
            PassCondition::ReviewRateAtLeast(percent) => {
                write!(f, "pr_review_rate_at_least_{percent}")
            }
            PassCondition::MinApprovals(n) => write!(f, "min_approvals_{n}"),
            PassCondition::Attested => f.write_str("attested"),
        }
    }
}

impl Serialize for PassCondition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Every form of the vocabulary, in the order the README documents them.
pub fn vocabulary() -> Vec<ConditionForm> {
    let finding_based: Vec<CheckType> = CheckType::ALL
        .into_iter()
        .filter(|ct| ct.is_finding_based())
        .collect();
    vec![
        ConditionForm {
            pattern: "no_findings",
            check_types: finding_based.clone(),
            parameters: "none",
            meaning: "The standard rule. Pass with no counted finding; partial with 1 or 2, none \
                      critical; fail with 3 or more, or any critical one.",
            example: "no_findings",
        },
        ConditionForm {
            pattern: "no_<severity>_<noun>",
            check_types: finding_based.clone(),
            parameters: "severity: critical, high, medium or low; noun: the check type's \
                         (secrets, findings, vulns, misconfigs, issues)",
            meaning: "A severity ceiling. Fail with any counted finding at or above the \
                      severity; partial with findings all below it (any number); pass with none.",
            example: "no_critical_secrets",
        },
        ConditionForm {
            pattern: "max_<N>_<noun>",
            check_types: finding_based,
            parameters: "N: 0 to 10000; noun: the check type's",
            meaning: "A finding budget. Pass with at most N counted findings and none critical; \
                      fail otherwise. Never partial; max_0_<noun> is zero tolerance.",
            example: "max_5_vulns",
        },
        ConditionForm {
            pattern: "scanned_within_<N>_days",
            check_types: vec![CheckType::ScanRecency],
            parameters: "N: 1 to 365",
            meaning: "Scan age. Pass when the latest completed scan is at most N days old; \
                      partial when at most 2N days old; fail when older.",
            example: "scanned_within_7_days",
        },
        ConditionForm {
            pattern: "quality_gate_passed",
            check_types: vec![CheckType::QualityGates],
            parameters: "none",
            meaning: "Pass when the quality gate reported with the latest scan passed; fail \
                      when it failed. Never partial.",
            example: "quality_gate_passed",
        },
        ConditionForm {
            pattern: "pr_review_rate_at_least_<P>",
            check_types: vec![CheckType::PrReviews],
            parameters: "P: a percentage, 1 to 100",
            meaning: "Review coverage. Pass when at least P% of the pull requests merged in the \
                      window had an approving review by someone other than the author; partial \
                      when at least four fifths of P%; fail below.",
            example: "pr_review_rate_at_least_100",
        },
        ConditionForm {
            pattern: "min_approvals_<N>",
            check_types: vec![CheckType::PrReviews],
            parameters: "N: 1 to 10",
            meaning: "Approvals per change. Pass when every pull request merged in the window \
                      had at least N approving reviews by others than the author; partial when \
                      each had at least one; fail when any merged without approval.",
            example: "min_approvals_2",
        },
        ConditionForm {
            pattern: "attested",
            check_types: vec![CheckType::Manual],
            parameters: "none",
            meaning: "Judged by the org's attestation only. Pass while the control's attestation \
                      is current or due for review soon; no evidence without one or once it is \
                      overdue. Never partial or fail.",
            example: "attested",
        },
    ]
}

/// The concrete texts valid for `check_type`, for error messages.
pub fn patterns_for(check_type: CheckType) -> Vec<String> {
    match FindingNoun::for_check_type(check_type) {
        Some(noun) => {
            let noun = noun.as_str();
            vec![
                "no_findings".to_string(),
                format!("no_<critical|high|medium|low>_{noun}"),
                format!("max_<N>_{noun} (N 0-{MAX_FINDINGS_LIMIT})"),
            ]
        }
        None => match check_type {
            CheckType::ScanRecency => {
                vec![format!("scanned_within_<N>_days (N 1-{MAX_SCAN_AGE_DAYS})")]
            }
            CheckType::QualityGates => vec!["quality_gate_passed".to_string()],
            CheckType::Manual => vec!["attested".to_string()],
            _ => vec![
                "pr_review_rate_at_least_<P> (P 1-100)".to_string(),
                format!("min_approvals_<N> (N 1-{MAX_APPROVALS})"),
            ],
        },
    }
}

fn valid_for(check_type: CheckType) -> String {
    format!(
        "valid for {check_type}: {}",
        patterns_for(check_type).join(", ")
    )
}

fn join_types(types: &[CheckType]) -> String {
    types
        .iter()
        .map(|ct| format!("'{ct}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a text is, independent of any check type: `None` when it matches no form; otherwise the
/// check types its form is valid for and either the condition or why its parameter is wrong.
type Recognised = (Vec<CheckType>, Result<PassCondition, String>);

fn recognise(text: &str) -> Option<Recognised> {
    if text == "no_findings" {
        let condition = PassCondition::NoFindings;
        return Some((condition.check_types(), Ok(condition)));
    }
    if text == "attested" {
        return Some((vec![CheckType::Manual], Ok(PassCondition::Attested)));
    }
    if text == "quality_gate_passed" {
        return Some((
            vec![CheckType::QualityGates],
            Ok(PassCondition::QualityGatePassed),
        ));
    }
    if let Some(n) = text
        .strip_prefix("scanned_within_")
        .and_then(|rest| rest.strip_suffix("_days"))
    {
        let days = bounded(n, 1, MAX_SCAN_AGE_DAYS.into(), "days")?;
        let condition = days.map(|d| PassCondition::ScannedWithinDays(d as u32));
        return Some((vec![CheckType::ScanRecency], condition));
    }
    if let Some(p) = text.strip_prefix("pr_review_rate_at_least_") {
        let percent = bounded(p, 1, 100, "the percentage")?;
        let condition = percent.map(|p| PassCondition::ReviewRateAtLeast(p as u8));
        return Some((vec![CheckType::PrReviews], condition));
    }
    if let Some(n) = text.strip_prefix("min_approvals_") {
        let approvals = bounded(n, 1, MAX_APPROVALS.into(), "approvals")?;
        let condition = approvals.map(|n| PassCondition::MinApprovals(n as u8));
        return Some((vec![CheckType::PrReviews], condition));
    }
    let (head, noun) = split_noun(text)?;
    let types = noun.check_types();
    if let Some(n) = head.strip_prefix("max_") {
        let max = bounded(n, 0, MAX_FINDINGS_LIMIT.into(), "the finding budget")?;
        let condition = max.map(|m| PassCondition::MaxFindings {
            max: m as u32,
            noun,
        });
        return Some((types, condition));
    }
    if head == "no" {
        return Some((
            types,
            Err(format!(
                "no_{0} names no rule: use no_findings for the standard rule or max_0_{0} for \
                 zero tolerance",
                noun.as_str()
            )),
        ));
    }
    let severity = head.strip_prefix("no_")?;
    let condition = match CEILING_SEVERITIES
        .into_iter()
        .find(|s| s.as_str() == severity)
    {
        Some(at_or_above) => Ok(PassCondition::SeverityCeiling { at_or_above, noun }),
        None if severity == "info" => Err(format!(
            "a ceiling at info would be every finding: use max_0_{} for zero tolerance",
            noun.as_str()
        )),
        None => Err(format!(
            "unknown severity '{severity}' (a ceiling is critical, high, medium or low)"
        )),
    };
    Some((types, condition))
}

/// Splits `<head>_<noun>`, or reads `no_<noun>` (which names no rule) as an empty severity.
fn split_noun(text: &str) -> Option<(&str, FindingNoun)> {
    FindingNoun::ALL.into_iter().find_map(|noun| {
        let head = text.strip_suffix(noun.as_str())?;
        match head.strip_suffix('_') {
            Some(head) if !head.is_empty() => Some((head, noun)),
            _ => None,
        }
    })
}

/// Reads a decimal parameter written canonically (digits only, no leading zero) within
/// `min..=max`. `None`: not a number, so the text matches no form.
fn bounded(digits: &str, min: u64, max: u64, what: &str) -> Option<Result<u64, String>> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Some(Err(format!("write {what} without leading zeros")));
    }
    let value = digits
        .parse::<u64>()
        .ok()
        .filter(|v| (min..=max).contains(v));
    Some(value.ok_or_else(|| format!("{what} must be between {min} and {max}, not {digits}")))
}
