//! What SARIF 2.1.0 requires beyond the shapes of [`wire`](super::wire) (the header, the
//! enumerations, a log that is evidence of something), and how a failed parse is explained.

use crate::ingest::error::IngestError;
use crate::ingest::loose::Loose;
use crate::ingest::model::{truncate_chars, ToolRun};
use crate::ingest::severity::Level;

use super::input::Input;
use super::wire::{CheckedResults, Header, Log};
use super::SARIF_VERSION;

pub(super) fn no_results() -> IngestError {
    IngestError::new(
        "runs[0].results",
        "missing: no run of the log has a `results` array, so it records no completed \
         analysis (SARIF 2.1.0 §3.14.23: absent results mean the tool did not run)",
    )
}

/// A log whose runs neither failed, nor covered any check type, nor reported any result (an
/// unrecognised tool with nothing in it) is not evidence of anything: storing it would record a
/// scan that says nothing. Failed runs are evidence (of a failure) and are kept.
pub(super) fn require_evidence(runs: &[ToolRun]) -> Result<(), IngestError> {
    let results: usize = runs
        .iter()
        .map(|t| t.results_counted + t.results_excluded)
        .sum();
    let failed = runs.iter().any(|t| t.failed.is_some());
    let covered = runs
        .iter()
        .any(|t| t.failed.is_none() && !t.covered.is_empty());
    if results == 0 && !failed && !covered {
        let tools: Vec<&str> = runs.iter().map(|t| t.tool.as_str()).collect();
        return Err(IngestError::new(
            "runs",
            format!(
                "no evidence: no run reported a result, and no run is from a recognised scanner \
                 or declares rules that say what it checked (tools: {})",
                tools.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Why the typed parse failed, with the best path we can give. The path-tracking parse checks
/// each result and drops it (`CheckedResults`, with the errors of `Vec<RawResult>`): explaining
/// a report of any size holds no more of it than the fast path does.
pub(super) fn explain_failure<I: Input + ?Sized>(
    input: &I,
    err: &serde_json::Error,
) -> IngestError {
    use serde_json::error::Category;
    if !matches!(err.classify(), Category::Data) {
        return IngestError::from_json("", err);
    }
    // A log of another version fails on its run shapes: say "wrong version" rather than
    // "runs[0].x: invalid type".
    if let Ok(header) = input.parse::<Header>() {
        let runs = header.runs.map(|_| 1);
        if let Err(e) = check_header(header.version.as_ref(), runs) {
            if e.path == "version" || e.path.is_empty() {
                return e;
            }
        }
    }
    match input.parse_with_path::<Log<CheckedResults>>() {
        Err(e) => schema_wording(e),
        Ok(_) => IngestError::from_json("", err),
    }
}

/// The document is a JSON object, or says plainly why not (checked before the typed parse).
pub(super) fn check_object<I: Input + ?Sized>(input: &I) -> Result<(), IngestError> {
    match input.first_byte() {
        None => Err(IngestError::new(
            "",
            "empty document: expected a SARIF 2.1.0 log (JSON)",
        )),
        Some(b'{') => Ok(()),
        // serde would read a top-level array as a struct in tuple form; say it plainly.
        Some(_) => Err(match input.parse::<serde::de::IgnoredAny>() {
            Err(e) => IngestError::from_json("", &e),
            Ok(_) => IngestError::new(
                "",
                "not a SARIF log: the document must be a JSON object with `version` and `runs`",
            ),
        }),
    }
}

/// serde reports a missing required property at the object that lacks it ("runs[0].results[0]
/// .stacks[0]: missing field `frames` at line 1 column 80"); point at the property instead and
/// say what requires it: "runs[0].results[0].stacks[0].frames: missing: SARIF 2.1.0 requires
/// `frames` in every stack". Messages of the schema checks here lose serde's position (the path
/// says where).
fn schema_wording(mut e: IngestError) -> IngestError {
    if let Some(field) = e
        .message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        let object = schema_object(&e.path);
        let message = match object {
            Some(object) => {
                format!("missing: SARIF 2.1.0 requires `{field}` in every {object}")
            }
            None => format!("missing: SARIF 2.1.0 requires `{field}` here"),
        };
        if !e.path.is_empty() {
            e.path.push('.');
        }
        e.path.push_str(field);
        e.message = message;
    } else if e.message.contains("SARIF 2.1.0") {
        if let Some(at) = e.message.rfind(" at line ") {
            e.message.truncate(at);
        }
    }
    e
}

/// The SARIF object at `path`, named from the array or property that holds it.
fn schema_object(path: &str) -> Option<&'static str> {
    let last = path.rsplit('.').next()?;
    let name = last.split('[').next().unwrap_or(last);
    Some(match name {
        "results" => "result",
        "stacks" => "stack",
        "codeFlows" => "code flow",
        "threadFlows" => "thread flow",
        "fixes" => "fix",
        "artifactChanges" => "artifact change",
        "replacements" => "replacement",
        "suppressions" => "suppression",
        "nodes" | "children" => "graph node",
        "edges" => "graph edge",
        "edgeTraversals" => "edge traversal",
        "invocations" => "invocation",
        "toolExecutionNotifications" | "toolConfigurationNotifications" => "notification",
        "ruleConfigurationOverrides" => "configuration override",
        "rules" => "rule (reportingDescriptor)",
        "taxa" => "taxon (reportingDescriptor)",
        "taxonomies" => "taxonomy (toolComponent)",
        "relationships" => "rule relationship",
        _ => return None,
    })
}

/// `version` must be "2.1.0" and `runs` a non-empty array. Returns the number of runs.
pub(super) fn check_header(
    version: Option<&Loose>,
    runs: Option<usize>,
) -> Result<usize, IngestError> {
    match (version, runs) {
        (None, None) => Err(IngestError::new(
            "",
            "not a SARIF log: the document has neither `version` nor `runs` (expected SARIF 2.1.0)",
        )),
        (None, Some(_)) => Err(IngestError::new(
            "version",
            "missing `version`: only SARIF 2.1.0 logs are accepted",
        )),
        (Some(v), _) if v.as_str() != Some(SARIF_VERSION) => Err(IngestError::new(
            "version",
            format!(
                "unsupported SARIF version {}: only 2.1.0 is accepted (older logs must be converted, e.g. with the SARIF multitool)",
                v.describe()
            ),
        )),
        (Some(_), None) => Err(IngestError::new(
            "runs",
            "missing `runs`: not a SARIF log",
        )),
        (Some(_), Some(0)) => Err(IngestError::new(
            "runs",
            "no runs: a SARIF log with an empty `runs` array records no tool run, so it is not evidence of any scan",
        )),
        (Some(_), Some(n)) => Ok(n),
    }
}

pub(super) fn parse_level(text: &str, path: impl FnOnce() -> String) -> Result<Level, IngestError> {
    Level::parse(text).ok_or_else(|| {
        IngestError::new(
            path(),
            format!(
                "unknown level \"{}\" (expected none, note, warning or error)",
                truncate_chars(text, 40)
            ),
        )
    })
}

pub(super) const KINDS: &[&str] = &[
    "fail",
    "pass",
    "open",
    "informational",
    "notApplicable",
    "review",
];
pub(super) const BASELINE_STATES: &[&str] = &["new", "unchanged", "updated", "absent"];
pub(super) const SUPPRESSION_STATUSES: &[&str] = &["accepted", "underReview", "rejected"];
pub(super) const SUPPRESSION_KINDS: &[&str] = &["inSource", "external"];
