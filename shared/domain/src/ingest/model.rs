//! The normalised scan: what every input format (SARIF, native) is turned into.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::catalog::{CheckType, Severity};

/// Longest message kept on a finding, in characters (an ellipsis marks the cut).
pub const MESSAGE_MAX_CHARS: usize = 300;
/// Longest location URI kept on a finding, in characters.
pub const URI_MAX_CHARS: usize = 512;
/// Longest rule id kept on a finding, in characters.
pub const RULE_ID_MAX_CHARS: usize = 256;
/// Longest tool name kept, in characters.
pub const TOOL_MAX_CHARS: usize = 128;
/// Most CWE ids kept on one finding.
pub const CWE_MAX_PER_FINDING: usize = 16;

labels! {
    /// What an accepted SARIF suppression (`// nosemgrep`, `# nosec`, an external triage) does.
    pub enum SuppressionPolicy as "suppression policy" {
        /// The result counts like any other, and its suppression is reported for someone to
        /// approve (the org's default).
        RequireApproval => "require_approval",
        /// The result does not count (excluded as `suppressed`), as the tool asked.
        Honour => "honour",
    }
}

/// What the parser does unless told otherwise: what the tool asked (the org's setting defaults
/// to `require_approval`, applied by the caller).
impl Default for SuppressionPolicy {
    fn default() -> Self {
        SuppressionPolicy::Honour
    }
}

/// Most suppressions reported per scan ([`Suppressions`]).
pub const SUPPRESSIONS_MAX: usize = 100;

/// A counted result its tool marked suppressed: what a request to approve it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionRequest {
    pub key: FindingKey,
    pub tool: String,
    /// `inSource` (a comment in the code) or `external` (a triage outside it).
    pub kind: String,
    /// The suppression's own `justification`, cut to 1,000 characters.
    pub justification: Option<String>,
}

/// The suppressions of a scan under [`SuppressionPolicy::RequireApproval`]: the first
/// [`SUPPRESSIONS_MAX`] distinct ones (by fingerprint), and how many more there were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suppressions {
    pub found: Vec<SuppressionRequest>,
    pub omitted: u64,
}

/// Most finding keys kept per scan ([`FindingKeys`]).
pub const FINDING_KEYS_MAX: usize = 10_000;

/// What matching an exception needs of one counted finding of a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingKey {
    /// As the finding's own (see docs/ingestion.md).
    pub fingerprint: String,
    pub rule_id: String,
    /// The file, as the report names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Ascending, without duplicates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwe: Vec<u32>,
    pub check_type: CheckType,
    pub severity: Severity,
}

impl FindingKey {
    pub fn of(f: &Finding) -> FindingKey {
        FindingKey {
            fingerprint: f.fingerprint.clone(),
            rule_id: f.rule_id.clone(),
            path: f.location.as_ref().map(|l| l.uri.clone()),
            cwe: f.cwe.clone(),
            check_type: f.check_type,
            severity: f.severity,
        }
    }

    /// About how many bytes it holds (for bounding what is kept of many).
    pub fn weight(&self) -> usize {
        std::mem::size_of::<FindingKey>()
            + self.fingerprint.len()
            + self.rule_id.len()
            + self.path.as_ref().map_or(0, String::len)
            + 4 * self.cwe.len()
    }
}

/// The keys of a scan's counted findings, in report order: the first [`FINDING_KEYS_MAX`], and
/// how many were left out (those can never be excepted: a bound only makes a score stricter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingKeys {
    pub keys: Vec<FindingKey>,
    pub omitted: u64,
}

impl FindingKeys {
    /// Whether one more key is kept (then `key` is called for it).
    pub(crate) fn push_with(&mut self, key: impl FnOnce() -> FindingKey) {
        if self.keys.len() < FINDING_KEYS_MAX {
            self.keys.push(key());
        } else {
            self.omitted += 1;
        }
    }

    /// The keys of every counted finding of `scan` (a native document's, or a parsed log's).
    pub fn of_scan(scan: &NormalisedScan) -> FindingKeys {
        let mut keys = FindingKeys::default();
        for f in &scan.findings {
            keys.push_with(|| FindingKey::of(f));
        }
        keys
    }
}

/// One counted finding, whatever tool reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub check_type: CheckType,
    pub severity: Severity,
    pub rule_id: String,
    pub tool: String,
    /// CWE ids, ascending, without duplicates.
    pub cwe: Vec<u32>,
    /// At most [`MESSAGE_MAX_CHARS`] characters.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Stable across re-runs of the same tool on the same code (see docs/ingestion.md).
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_line: Option<u32>,
}

/// One tool run (one SARIF `runs[]` entry, or the native document's tool).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolRun {
    pub tool: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Check types this run is evidence for, findings or not. Empty when the run failed.
    pub covered: BTreeSet<CheckType>,
    /// Why the run counts as failed (then it covers nothing), `None` for a run that completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    pub results_counted: usize,
    pub results_excluded: usize,
}

/// Results present in the input but not counted, by reason. A result is counted under the
/// first reason that applies, in this order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusionCounts {
    /// Suppressed (a suppression with status absent or `accepted`).
    pub suppressed: usize,
    /// `baselineState: "absent"`: the result is gone since the baseline.
    pub baseline_absent: usize,
    /// `kind` other than `fail` (pass, open, informational, notApplicable, review).
    pub not_fail_kind: usize,
    /// Effective level `none`.
    pub level_none: usize,
}

impl ExclusionCounts {
    pub fn total(&self) -> usize {
        self.suppressed + self.baseline_absent + self.not_fail_kind + self.level_none
    }

    pub(crate) fn add(&mut self, other: &ExclusionCounts) {
        self.suppressed += other.suppressed;
        self.baseline_absent += other.baseline_absent;
        self.not_fail_kind += other.not_fail_kind;
        self.level_none += other.level_none;
    }
}

/// A scan normalised from any input format.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormalisedScan {
    /// One entry per run, in input order.
    pub tools: Vec<ToolRun>,
    /// Counted findings only, in input order.
    pub findings: Vec<Finding>,
    pub excluded: ExclusionCounts,
}

impl NormalisedScan {
    /// Check types covered by at least one run that did not fail.
    pub fn covered(&self) -> BTreeSet<CheckType> {
        self.tools
            .iter()
            .filter(|t| t.failed.is_none())
            .flat_map(|t| t.covered.iter().copied())
            .collect()
    }

    /// Runs that failed, with their reasons.
    pub fn failed_runs(&self) -> impl Iterator<Item = &ToolRun> {
        self.tools.iter().filter(|t| t.failed.is_some())
    }
}

/// Cuts `text` to at most `max` characters (on a char boundary), marking a cut with `…`.
pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    if max == 0 {
        return String::new();
    }
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some(_) => {
            // Keep max-1 characters plus the ellipsis, so the result has exactly `max`.
            let cut = text
                .char_indices()
                .nth(max - 1)
                .map(|(i, _)| i)
                .unwrap_or(text.len());
            let mut out = String::with_capacity(cut + 3);
            out.push_str(&text[..cut]);
            out.push('…');
            out
        }
    }
}

/// [`truncate_chars`], borrowing when nothing is cut (at most `max` bytes is at most `max`
/// characters).
pub(crate) fn cut(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max && max > 0 {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(truncate_chars(text, max))
    }
}

/// Cuts `text` to at most `max_bytes` bytes of UTF-8 (on a char boundary, `…` marking a cut)
/// and replaces control characters by spaces, so that its JSON form is at most about
/// `max_bytes` + 2 bytes (no `\uXXXX` escapes). Used for everything stored in a summary.
pub(crate) fn clip_bytes(text: &str, max_bytes: usize) -> String {
    const ELLIPSIS: char = '…';
    let clean = |c: char| if c.is_control() { ' ' } else { c };
    if text.len() <= max_bytes {
        return text.chars().map(clean).collect();
    }
    let budget = max_bytes.saturating_sub(ELLIPSIS.len_utf8());
    let mut out = String::with_capacity(max_bytes);
    for c in text.chars() {
        if out.len() + c.len_utf8() > budget {
            break;
        }
        out.push(clean(c));
    }
    if max_bytes >= ELLIPSIS.len_utf8() {
        out.push(ELLIPSIS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_bounds_bytes_and_drops_control_characters() {
        assert_eq!(clip_bytes("abc", 3), "abc");
        assert_eq!(clip_bytes("a\nb\u{1}", 10), "a b ");
        assert_eq!(clip_bytes("abcdef", 5), "ab…");
        let emoji = "😀".repeat(100);
        let clipped = clip_bytes(&emoji, 50);
        assert!(clipped.len() <= 50);
        assert!(clipped.ends_with('…'));
        assert_eq!(clip_bytes("abcdef", 2), "");
    }

    #[test]
    fn truncate_keeps_short_text_and_cuts_long_text_on_char_boundaries() {
        assert_eq!(truncate_chars("abc", 3), "abc");
        assert_eq!(truncate_chars("abcd", 3), "ab…");
        assert_eq!(truncate_chars("ééééé", 4), "ééé…");
        assert_eq!(truncate_chars("", 4), "");
        assert_eq!(truncate_chars("abc", 0), "");
        assert_eq!(truncate_chars("abcd", 3).chars().count(), 3);
    }
}
