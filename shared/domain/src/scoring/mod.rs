//! The scoring engine: a pure function of (enabled frameworks, the org's disabled controls, the
//! repository's latest scan summary, the evaluation time). No I/O, no clock, no randomness: the
//! same inputs give the same [`Report`], byte for byte once serialised. It reads only the scan's
//! per-check-type severity counts, its bounded finding groups (per check type and CWE ids), its
//! coverage and its signals, never the findings themselves, so its cost depends on the number
//! of controls and groups, not on the size of the scan.
//!
//! [`evaluate`] is the engine itself: its [`Evaluation`] borrows the frameworks' texts and keeps
//! each control's reason as the facts it states ([`Reason`]), written out only when serialised
//! or displayed, so judging a control allocates nothing. [`score`] is the same evaluation made
//! owned ([`Report`], every reason a `String`); both serialise to the same bytes.
//!
//! ## Control status
//!
//! Each control is judged by its pass condition (see the table of pass conditions) on the
//! evidence of the repository's latest completed scan, and gets one status:
//!
//! | status | meaning |
//! | --- | --- |
//! | `pass` | the evidence meets the condition |
//! | `partial` | the evidence falls short within the condition's tolerance (e.g. 1–2 findings, none critical, under `no_findings`) |
//! | `fail` | the evidence breaks the condition |
//! | `no_evidence` | nothing to judge: the repository was never scanned; no tool run that completed in the latest scan covered the control's check type (a check type nobody looked at is never a silent pass, and findings reported for it by failed runs are shown but not judged); the scan carried no quality-gate status (`quality_gates`), no pull-request stats or no merged pull request (`pr_reviews`); or, for `min_approvals_<N>` with N ≥ 2, every merged pull request was approved but the scan carries no per-pull-request approval count that could tell pass from partial |
//! | `disabled` | marked Not Applicable by the org: listed, never judged, and left out of every count |
//!
//! Every control explains itself: `evidence` holds what it was judged on (the severity counts of
//! its check type and whether that type was covered; the scan's age; the quality-gate status;
//! the pull-request stats and review rate) and `reason` says in one line why it got its status.
//!
//! ## Controls mapped to weaknesses
//!
//! A control whose catalog entry lists CWE ids (`weaknesses`: OWASP Top 10:2021's own lists for
//! A01, A02, A03, A07, A08 and A10, or an org's custom control) and whose check type is
//! finding-based is judged on the findings that concern it rather than on every finding of its
//! check type. Its **counted findings** are:
//!
//! - **by CWE**: every counted finding with CWE ids of which at least one is in the control's
//!   list, of the control's check type or — when both are first-party code check types
//!   (`secrets`, `sast_security`, `sast_crypto`, `sast_auth`, `code_quality`) — of another one.
//!   So a path traversal (CWE-22) that the SAST split filed under `sast_security` counts against
//!   A01 (`sast_auth`), and a hard-coded password (CWE-798, filed under `secrets`) against A07.
//!   Dependency findings (`sca_vulns`) count by CWE only against `sca_vulns` controls, and
//!   infrastructure findings (`iac_issues`) only against `iac_issues` controls: a library's
//!   cross-site scripting (CWE-79) is not the org's injection flaw.
//! - **by check type**: every counted finding without any CWE id, of the control's own check
//!   type (what a scanner did not classify is judged as before).
//!
//! A finding with CWE ids none of which is in the list does not count against the control, even
//! of its check type: an SSRF (CWE-918) fails A10, not A03. The same finding may count against
//! several controls (of one framework or several). The pass condition then applies to these
//! counts as to a check type's. **Coverage**: the control has evidence when a completed run
//! covered its check type or, for a SAST check type, any of the three SAST check types (SAST
//! tools cover them together, and a CWE-mapped SAST control may be failed by any of them); the
//! coverage of `secrets`, `code_quality`, `sca_vulns` or `iac_issues` never stands in for another
//! check type. `evidence.counts` holds the counted findings, and `evidence.matched` splits them
//! (by CWE, by check type) and names the control's CWE ids found among them (at most 20); the
//! reason says it ("2 findings (2 high): 2 matched by CWE-918, 0 by check type sast_security").
//!
//! Controls without a list, signal-based controls, and every control judged on a summary stored
//! before findings were grouped by CWE (`finding_groups` absent) are judged by check type,
//! exactly as before; their evidence has no `matched`. A summary's groups are bounded: past the
//! bound, findings are merged so as to over-match, never to under-match (see
//! [`ScanSummary::finding_groups`]).
//!
//! ## Scores
//!
//! - **Framework score** = (pass + ½ × partial) ÷ counted × 100, where counted = pass + partial +
//!   fail + no_evidence. `no_evidence` counts in the denominator as 0, like `fail`, so missing
//!   evidence can never raise a score; it is reported in its own count. Disabled controls are
//!   on neither side. Rounded to an integer, halves up (82.5 → 83), in exact integer arithmetic.
//!   A framework with no counted control (all disabled, or none at all) has score `null` and
//!   takes no part in the overall score.
//! - **Overall score** = the average of the scored frameworks' (integer) scores, rounded halves
//!   up. With no scored framework it is 0: nothing assessed is never a good posture.
//! - **Posture**: `Strong` ≥ 85, `Moderate` ≥ 70, `Weak` ≥ 50, `Critical` < 50 (of the overall
//!   score).
//! - Counts keep the reference's identity: per framework `pass + partial + fail = total`, and in
//!   the executive summary `passing + partial + failing = total_controls` (the frameworks'
//!   counted controls added up; a control is counted once per framework). A control without
//!   evidence scores as a failure and so counts in `fail` / `failing`; `no_evidence` says how
//!   many of those failing controls had no evidence (`no_evidence ≤ fail`). Each control keeps
//!   its own `no_evidence` status.
//! - `total_issues` is the number of counted findings in the latest scan (0 without a scan).
//! - Adding a finding never raises a control's status, a framework's score or the overall score;
//!   disabling a control never changes another control's status; a finding whose CWE ids are in
//!   no list of a framework leaves that framework's CWE-mapped controls as they were (all three
//!   are property-tested).
//!
//! ## Risk areas and the recommendation
//!
//! - `risk_areas` lists the failing controls, most severe first, at most [`RISK_AREAS_MAX`]. A
//!   finding-based control ranks by its worst counted severity, then by its counts from critical
//!   down; a signal-based one (stale scan, failed quality gate, unreviewed merges) ranks as a
//!   `high` with no counts; ties keep framework then control order.
//! - `recommendation`, the first matching rule:
//!   1. no framework enabled: "Enable a compliance framework to score this repository";
//!   2. every control of the enabled frameworks disabled: "Every control is marked not
//!      applicable: re-enable controls to score this repository";
//!   3. never scanned: "Run a scan to collect evidence";
//!   4. some control fails: "Address failing controls in `<key>`", the framework with the most
//!      failing controls (ties: the lowest score, then framework order);
//!   5. some control has no evidence: "Collect missing evidence in `<key>` (no evidence for:
//!      `<check types>`)", the framework with the most such controls;
//!   6. some control is partial: "Resolve partial controls in `<key>`", likewise;
//!   7. otherwise: "Keep scanning: no failing controls".
//!
//! ## Recommendation refinement
//!
//! [`refine_recommendation`] turns a control's static badge into one refined by the repository's
//! latest scan; the first rule that applies wins, and the reason names the signal:
//!
//! 1. **Findings against the control** make it `required`: counted findings of its check type
//!    ("3 findings of sast_crypto in the latest scan") — for a control judged by its weaknesses,
//!    its counted findings ("2 findings matching its CWE ids or, without CWE id, its check type
//!    sast_security in the latest scan") —, a failed quality gate for `quality_gates`, merged
//!    pull requests without approval for `pr_reviews`.
//! 2. **The stack matches the control's domain**: the badge goes up one step (optional →
//!    recommended → required) when a repository language maps to the control's domain:
//!
//!    | languages | domains |
//!    | --- | --- |
//!    | python, go, c, c++ | crypto, injection |
//!    | java, kotlin, scala, c# | auth, crypto |
//!    | javascript, typescript, ruby, php | auth, injection |
//!    | rust, swift, objective-c | crypto |
//!
//!    (aliases: golang, cpp, csharp, js, ts, objc; compared case-insensitively).
//! 3. **Infrastructure as code present** upgrades IaC controls (domain `iac` or `containers`, or
//!    check type `iac_issues`) one step: counted `iac_issues` findings, a notable file that is
//!    a Dockerfile / Containerfile / Compose file, Terraform (`*.tf`, `*.tf.json`, `*.tfvars`),
//!    CloudFormation / SAM (`template.yaml|yml|json`, `*.template`, names containing
//!    `cloudformation`) or Kubernetes (`kustomization.yaml`, Helm `Chart.yaml`), a language
//!    `hcl` / `terraform` / `dockerfile`, or a completed tool run that covered `iac_issues`.
//! 4. Otherwise (and always without a scan) the static baseline and its reason.
//!
//! An upgrade that would not change the badge (already `required`) keeps the baseline reason.

pub mod attesting;
mod excepting;
mod judge;
mod match_memo;
mod matching;
mod reason;
mod recommend;
mod summary;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod weakness_tests;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::catalog::{CheckType, Framework, PassCondition};
use crate::ingest::{PullRequestStats, QualityGate, ScanSummary, SeverityCounts};

pub use crate::ingest::FindingKey;
pub use attesting::{
    AttestationEvidence, AttestationState, Attested, AttestedControl, ReviewInterval, DUE_SOON_DAYS,
};
pub use excepting::{apply as apply_exceptions, Applying, Covers, Excepted, Glob};
pub use match_memo::MatchMemo;
pub use matching::MATCHED_CWE_MAX;
pub use reason::Reason;
pub use recommend::refine_recommendation;
pub use summary::{framework_score, overall_score, Posture};

/// Most entries in [`ExecutiveSummary::risk_areas`].
pub const RISK_AREAS_MAX: usize = 10;

/// The repository's latest completed scan.
#[derive(Debug, Clone, Copy)]
pub struct ScanInput<'a> {
    /// The summary the controls are judged on: with approved exceptions applied, the findings
    /// they cover taken out ([`apply_exceptions`]).
    pub summary: &'a ScanSummary,
    pub completed_at: DateTime<Utc>,
    /// The findings approved exceptions took out of `summary`, for each control's evidence.
    pub excepted: Option<&'a Excepted>,
}

/// One enabled framework, the ids of its controls the org marked Not Applicable (ids that are
/// not in the framework are ignored), and the org's attestations of its controls (sorted by
/// control id).
#[derive(Debug, Clone, Copy)]
pub struct FrameworkInput<'a> {
    pub framework: &'a Framework,
    pub disabled: &'a [String],
    pub attested: &'a [AttestedControl],
}

labels! {
    /// What a control's evidence amounts to under its pass condition.
    pub enum ControlStatus as "control status" {
        Pass => "pass",
        Partial => "partial",
        Fail => "fail",
        NoEvidence => "no_evidence",
        /// Marked Not Applicable: not judged, not counted.
        Disabled => "disabled",
    }
}

/// What a control was judged on. Absent fields do not apply to its check type (or there was
/// no scan).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evidence {
    /// Whether the latest scan carried evidence for the check type: a completed tool run
    /// covered it (finding-based types), a scan exists (`scan_recency`), the signal was
    /// reported (`quality_gates`, `pr_reviews`).
    pub covered: bool,
    /// Counted findings of the check type in the latest scan (finding-based types); for a
    /// control judged by its weaknesses, the findings counted against it (`matched` splits them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<SeverityCounts>,
    /// For a control judged by its weaknesses (CWE ids): which findings counted, and by what.
    /// Absent for every other control (boxed: most controls have none, and a verdict stays
    /// small).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<Box<Matched>>,
    /// Whole days since the latest scan completed (`scan_recency`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan_age_days: Option<u64>,
    /// Whole hours since the latest scan completed (`scan_recency`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan_age_hours: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality_gate: Option<QualityGate>,
    /// The pull-request stats reported with the scan (`pr_reviews`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_requests: Option<PullRequestStats>,
    /// Percentage of merged pull requests with an approving review, one decimal
    /// (`pr_reviews`, when any was merged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_rate: Option<f64>,
    /// Findings that would count against the control but approved, unexpired exceptions set
    /// aside (absent when none): a `pass` with exceptions says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excepted: Option<u64>,
    /// When the soonest of those findings counts again (absent when none ever does).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::time::micros::option::serialize"
    )]
    pub exceptions_expire_at: Option<DateTime<Utc>>,
    /// The org's attestation of the control, as it stands at the evaluation time (absent when
    /// there is none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation: Option<AttestationEvidence>,
}

/// The findings counted against a control judged by its weaknesses (module documentation,
/// "Controls mapped to weaknesses"); `by_cwe` + `by_check_type` = `Evidence::counts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Matched {
    /// Counted findings with a CWE id in the control's list.
    pub by_cwe: SeverityCounts,
    /// Counted findings without any CWE id, of the control's check type.
    pub by_check_type: SeverityCounts,
    /// The control's CWE ids that the findings counted by CWE carry, ascending, at most
    /// [`MATCHED_CWE_MAX`] (the lowest). May be empty while `by_cwe` is not, when the ids were
    /// merged away by the summary's bound.
    pub cwe: Vec<u32>,
}

/// One control's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlResult {
    pub id: String,
    pub name: String,
    pub category: String,
    pub check_type: CheckType,
    /// The canonical text of the pass condition.
    pub pass_condition: String,
    pub status: ControlStatus,
    pub evidence: Evidence,
    /// One line: why this status.
    pub reason: String,
}

/// One framework's verdict. `total` counts the judged controls (disabled ones excluded).
///
/// Owned as [`score`] returns it (the defaults: `String` texts, [`ControlResult`]s), or as
/// [`evaluate`] makes it ([`FrameworkVerdict`]: borrowed texts, lazy reasons); both serialise
/// to the same bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameworkResult<S = String, C = ControlResult> {
    pub key: S,
    pub name: S,
    /// `None` when no control is counted.
    pub score: Option<u32>,
    pub pass: u32,
    pub partial: u32,
    /// Failing controls, those without evidence included: `pass + partial + fail = total`.
    pub fail: u32,
    /// How many of the failing controls had no evidence.
    pub no_evidence: u32,
    pub total: u32,
    pub disabled: u32,
    /// Every control, in catalog order, disabled ones included with status `disabled`.
    pub controls: Vec<C>,
}

/// A failing control worth looking at first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskArea {
    /// The framework's key.
    pub framework: String,
    pub control_id: String,
    pub name: String,
    pub check_type: CheckType,
    pub status: ControlStatus,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecutiveSummary {
    pub overall_score: u32,
    pub total_controls: u32,
    pub passing: u32,
    pub partial: u32,
    /// Failing controls, those without evidence included: `passing + partial + failing =
    /// total_controls`.
    pub failing: u32,
    /// How many of the failing controls had no evidence.
    pub no_evidence: u32,
    pub posture: Posture,
    pub risk_areas: Vec<RiskArea>,
    pub recommendation: String,
    /// The findings of the latest scan that approved exceptions set aside (absent when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exceptions: Option<ExceptionsSummary>,
}

/// How many findings approved exceptions set aside, and when the soonest counts again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExceptionsSummary {
    pub excepted_findings: u64,
    /// Absent when none ever counts again.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::time::micros::option::serialize"
    )]
    pub soonest_expiry: Option<DateTime<Utc>>,
}

/// The scores of one repository.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Counted findings in the latest scan.
    pub total_issues: u64,
    pub executive_summary: ExecutiveSummary,
    /// By framework key.
    pub frameworks: BTreeMap<String, FrameworkResult>,
    /// The framework keys in input order (not serialised).
    #[serde(skip)]
    pub order: Vec<String>,
}

impl Report {
    /// The frameworks in input order.
    pub fn frameworks_in_order(&self) -> impl Iterator<Item = &FrameworkResult> {
        self.order.iter().filter_map(|k| self.frameworks.get(k))
    }
}

/// [`ControlResult`] as [`evaluate`] makes it: the texts borrowed from the catalog entry it
/// judges, the reason formatted only when shown. Serialises exactly as the `ControlResult` it
/// stands for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlVerdict<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub category: &'a str,
    pub check_type: CheckType,
    /// Serialised as the canonical text of the pass condition.
    pub pass_condition: PassCondition,
    pub status: ControlStatus,
    pub evidence: Evidence,
    /// One line: why this status.
    pub reason: Reason,
}

impl ControlVerdict<'_> {
    pub fn to_result(&self) -> ControlResult {
        ControlResult {
            id: self.id.to_string(),
            name: self.name.to_string(),
            category: self.category.to_string(),
            check_type: self.check_type,
            pass_condition: self.pass_condition.to_string(),
            status: self.status,
            evidence: self.evidence.clone(),
            reason: self.reason.to_string(),
        }
    }
}

/// [`FrameworkResult`] as [`evaluate`] makes it (borrowed texts, lazy reasons); serialises
/// exactly as the `FrameworkResult` it stands for.
pub type FrameworkVerdict<'a> = FrameworkResult<&'a str, ControlVerdict<'a>>;

impl FrameworkVerdict<'_> {
    pub fn to_result(&self) -> FrameworkResult {
        FrameworkResult {
            key: self.key.to_string(),
            name: self.name.to_string(),
            score: self.score,
            pass: self.pass,
            partial: self.partial,
            fail: self.fail,
            no_evidence: self.no_evidence,
            total: self.total,
            disabled: self.disabled,
            controls: self
                .controls
                .iter()
                .map(ControlVerdict::to_result)
                .collect(),
        }
    }
}

/// [`Report`] as [`evaluate`] makes it: it borrows the frameworks it was given (keys, names,
/// control texts) and formats no control's reason until shown, so scoring allocates nothing
/// per control. Serialises exactly as the `Report` it stands for ([`Evaluation::to_report`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation<'a> {
    /// Counted findings in the latest scan.
    pub total_issues: u64,
    pub executive_summary: ExecutiveSummary,
    /// By framework key.
    pub frameworks: BTreeMap<&'a str, FrameworkVerdict<'a>>,
    /// The framework keys in input order (not serialised).
    #[serde(skip)]
    pub order: Vec<&'a str>,
}

impl<'a> Evaluation<'a> {
    /// The frameworks in input order.
    pub fn frameworks_in_order(&self) -> impl Iterator<Item = &FrameworkVerdict<'a>> {
        self.order.iter().filter_map(|k| self.frameworks.get(k))
    }

    /// The owned report, every reason written out.
    pub fn to_report(&self) -> Report {
        Report {
            total_issues: self.total_issues,
            executive_summary: self.executive_summary.clone(),
            frameworks: self
                .frameworks
                .iter()
                .map(|(k, f)| (k.to_string(), f.to_result()))
                .collect(),
            order: self.order.iter().map(|k| k.to_string()).collect(),
        }
    }
}

/// Scores the enabled `frameworks` against the repository's latest `scan` (`None`: never
/// scanned) at time `now`. A framework key given twice is scored once (the first). The owned
/// form of [`evaluate`].
pub fn score(
    frameworks: &[FrameworkInput],
    scan: Option<&ScanInput>,
    now: DateTime<Utc>,
) -> Report {
    evaluate(frameworks, scan, now).to_report()
}

/// [`score`] without writing anything out: one pass over the controls with no allocation per
/// control (texts borrowed, reasons formatted when shown), plus one vector per framework.
pub fn evaluate<'a>(
    frameworks: &[FrameworkInput<'a>],
    scan: Option<&ScanInput>,
    now: DateTime<Utc>,
) -> Evaluation<'a> {
    let facts = scan.map(|s| judge::ScanFacts::new(s, now));
    let mut seen = BTreeSet::new();
    let results: Vec<FrameworkVerdict<'a>> = frameworks
        .iter()
        .filter(|input| seen.insert(input.framework.key.as_str()))
        .map(|input| score_framework(input, facts.as_ref(), now))
        .collect();
    let mut executive_summary = summary::executive_summary(&results, scan.is_some());
    executive_summary.exceptions =
        scan.and_then(|s| s.excepted)
            .filter(|e| e.total() > 0)
            .map(|e| ExceptionsSummary {
                excepted_findings: e.total(),
                soonest_expiry: e.soonest_end(),
            });
    let order = results.iter().map(|r| r.key).collect();
    Evaluation {
        total_issues: scan.map_or(0, |s| s.summary.totals.findings),
        executive_summary,
        frameworks: results.into_iter().map(|r| (r.key, r)).collect(),
        order,
    }
}

/// What a report depends on of the evaluation time `now`: the age of the latest scan (completed
/// at `completed_at`) in whole hours, and whether that age is a whole number of hours (`None`
/// without a scan: then nothing depends on the time). The scan-recency controls read the age in whole hours and days, and their limits are
/// whole days, so an age of exactly N days and one a second older fall apart only there. Two
/// scorings of the same frameworks and scan whose `age_class` is equal give the same report
/// (property-tested): a memo of a report may be reused as long as it is.
pub fn age_class(completed_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<(u64, bool)> {
    completed_at.map(|at| {
        let age = judge::age_seconds(at, now);
        (age / 3600, age.is_multiple_of(3600))
    })
}

/// Above this many disabled ids, a framework looks them up in a sorted copy.
const DISABLED_LINEAR_MAX: usize = 16;

fn score_framework<'a>(
    input: &FrameworkInput<'a>,
    facts: Option<&judge::ScanFacts>,
    now: DateTime<Utc>,
) -> FrameworkVerdict<'a> {
    let sorted: Option<Vec<&str>> = (input.disabled.len() > DISABLED_LINEAR_MAX).then(|| {
        let mut ids: Vec<&str> = input.disabled.iter().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    });
    let is_disabled = |id: &str| match &sorted {
        Some(ids) => ids.binary_search(&id).is_ok(),
        None => input.disabled.iter().any(|d| d == id),
    };
    let controls: Vec<ControlVerdict<'a>> = input
        .framework
        .controls
        .iter()
        .map(|control| {
            if is_disabled(&control.id) {
                judge::disabled(control)
            } else {
                let attested = attesting::find(input.attested, &control.id);
                judge::control_result(control, facts, attested, now)
            }
        })
        .collect();
    summary::framework_result(input.framework, controls)
}
