//! Scoring a repository as the org sees it right now: the I/O around the pure engine, shared by
//! the score endpoint, the rescoring function and the daily snapshot.

use chrono::{DateTime, Utc};

use crate::org_view::OrgView;
use crate::scans::StoredScan;
use compliance_domain::scoring::{self, FrameworkInput, Report, ScanInput};

/// Scores `scan` (the repository's latest, or none) against the org's enabled frameworks, or
/// only `only` among them.
pub fn score_repo(
    view: &OrgView,
    scan: Option<&StoredScan>,
    only: Option<&str>,
    now: DateTime<Utc>,
) -> Report {
    let inputs: Vec<FrameworkInput> = view
        .frameworks
        .iter()
        .filter(|f| view.enabled(f) && only.is_none_or(|k| k == f.key))
        .map(|f| FrameworkInput {
            framework: f,
            disabled: view.settings.disabled(&f.key),
        })
        .collect();
    let input = scan.map(|s| ScanInput {
        summary: &s.summary,
        completed_at: s.scanned_at,
    });
    scoring::score(&inputs, input.as_ref(), now)
}
