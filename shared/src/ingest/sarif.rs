//! SARIF 2.1.0 → [`NormalisedScan`].
//!
//! Parsing is one pass of serde over typed, borrowing structs: only the properties used below
//! are materialised; everything else (code flows, fixes, snippets, help text, run properties …)
//! is skipped by serde's `IgnoredAny` without allocation, and lists that can be long are
//! bounded (`loose::First`, `loose::StrList`, notification summaries). No `serde_json::Value`
//! of the document is ever built. Only when parsing fails is the document parsed again with
//! path tracking, to say where.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::catalog::{CheckType, Severity};

use super::error::{explain_with_path, IngestError};
use super::loose::{First, Loose, StrList, StrMap};
use super::mapping::{self, cwe_from_tag, parse_cwe, TagFacts, ToolProfile};
use super::model::{
    truncate_chars, ExclusionCounts, Finding, Location, NormalisedScan, ToolRun,
    CWE_MAX_PER_FINDING, MESSAGE_MAX_CHARS, RULE_ID_MAX_CHARS, TOOL_MAX_CHARS, URI_MAX_CHARS,
};
use super::severity::{
    severity_from_label_value, severity_from_score_value, severity_from_text, Level,
};

/// The only SARIF version accepted.
pub const SARIF_VERSION: &str = "2.1.0";

// --- Typed, borrowing view of the parts of SARIF we read ------------------------------------

#[derive(Deserialize)]
#[serde(expecting = "a SARIF log (a JSON object with `version` and `runs`)")]
struct Log<'a> {
    #[serde(borrow, default)]
    version: Option<Loose<'a>>,
    #[serde(borrow, default)]
    runs: Option<Vec<Run<'a>>>,
}

/// Just enough to tell "wrong version" from "broken run" when the full parse fails.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow, default)]
    version: Option<Loose<'a>>,
    #[serde(default)]
    runs: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    #[serde(borrow, default)]
    tool: Option<Tool<'a>>,
    #[serde(borrow, default)]
    invocations: Option<Vec<Invocation<'a>>>,
    #[serde(borrow, default)]
    results: Option<Vec<RawResult<'a>>>,
    #[serde(borrow, default)]
    artifacts: Option<Vec<Artifact<'a>>>,
    #[serde(borrow, default)]
    taxonomies: Option<Vec<Taxonomy<'a>>>,
    #[serde(borrow, default)]
    external_property_file_references: Option<ExternalRefs<'a>>,
}

#[derive(Deserialize)]
struct Tool<'a> {
    #[serde(borrow, default)]
    driver: Option<Component<'a>>,
    #[serde(borrow, default)]
    extensions: Option<Vec<Component<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Component<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    semantic_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    rules: Option<Vec<RawRule<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    short_description: Option<Msg<'a>>,
    #[serde(borrow, default)]
    default_configuration: Option<Config<'a>>,
    #[serde(borrow, default)]
    properties: Option<Props<'a>>,
    #[serde(borrow, default)]
    relationships: Option<Vec<Relationship<'a>>>,
}

#[derive(Deserialize)]
struct Config<'a> {
    #[serde(borrow, default)]
    level: Option<Cow<'a, str>>,
    #[serde(default)]
    enabled: Option<bool>,
}

#[derive(Deserialize)]
struct Msg<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    markdown: Option<Cow<'a, str>>,
}

impl Msg<'_> {
    fn best(&self) -> Option<&str> {
        self.text
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| self.markdown.as_deref().filter(|t| !t.trim().is_empty()))
    }
}

/// The property-bag keys that carry severity, tags or CWE ids; all others are skipped.
#[derive(Deserialize, Default)]
struct Props<'a> {
    #[serde(borrow, default, rename = "security-severity")]
    security_severity: Option<Loose<'a>>,
    #[serde(borrow, default)]
    tags: Option<StrList<'a>>,
    #[serde(borrow, default)]
    cwe: Option<StrList<'a>>,
    #[serde(borrow, default, rename = "CWE")]
    cwe_upper: Option<StrList<'a>>,
    #[serde(borrow, default)]
    issue_severity: Option<Loose<'a>>,
    #[serde(borrow, default)]
    severity: Option<Loose<'a>>,
    #[serde(borrow, default, rename = "cvssv3_baseScore")]
    cvssv3_base_score: Option<Loose<'a>>,
    #[serde(borrow, default, rename = "cvss3BaseScore")]
    cvss3_base_score: Option<Loose<'a>>,
}

#[derive(Deserialize)]
struct Relationship<'a> {
    #[serde(borrow, default)]
    target: Option<DescRef<'a>>,
}

/// `reportingDescriptorReference`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescRef<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    index: Option<i64>,
    #[serde(borrow, default)]
    tool_component: Option<CompRef<'a>>,
}

/// `toolComponentReference`.
#[derive(Deserialize)]
struct CompRef<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(default)]
    index: Option<i64>,
    #[serde(borrow, default)]
    guid: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    #[serde(default)]
    execution_successful: Option<bool>,
    #[serde(default)]
    tool_execution_notifications: Option<ErrorNotifications>,
    #[serde(borrow, default)]
    rule_configuration_overrides: Option<Vec<ConfigOverride<'a>>>,
}

#[derive(Deserialize)]
struct ConfigOverride<'a> {
    #[serde(borrow, default)]
    descriptor: Option<DescRef<'a>>,
    #[serde(borrow, default)]
    configuration: Option<Config<'a>>,
}

#[derive(Deserialize)]
struct Notification<'a> {
    #[serde(borrow, default)]
    level: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Msg<'a>>,
}

/// `toolExecutionNotifications`, reduced while parsing to the error-level count and the first
/// error's text (CodeQL writes one notification per extracted file).
#[derive(Default)]
struct ErrorNotifications {
    errors: usize,
    first_error: Option<String>,
}

impl<'de> Deserialize<'de> for ErrorNotifications {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'de>(PhantomData<&'de ()>);
        impl<'de> Visitor<'de> for V<'de> {
            type Value = ErrorNotifications;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of notifications")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = ErrorNotifications::default();
                while let Some(n) = seq.next_element::<Notification<'de>>()? {
                    if n.level.as_deref() == Some("error") {
                        out.errors += 1;
                        if out.first_error.is_none() {
                            out.first_error = n
                                .message
                                .as_ref()
                                .and_then(Msg::best)
                                .map(|t| truncate_chars(t.trim(), 200));
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

#[derive(Deserialize)]
struct Artifact<'a> {
    #[serde(borrow, default)]
    location: Option<ArtifactLocation<'a>>,
}

#[derive(Deserialize)]
struct ArtifactLocation<'a> {
    #[serde(borrow, default)]
    uri: Option<Cow<'a, str>>,
    #[serde(default)]
    index: Option<i64>,
}

#[derive(Deserialize)]
struct Taxonomy<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    guid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    taxa: Option<Vec<Taxon<'a>>>,
}

#[derive(Deserialize)]
struct Taxon<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ExternalRefs<'a> {
    #[serde(borrow, default)]
    taxonomies: Option<Vec<ExternalRef<'a>>>,
}

#[derive(Deserialize)]
struct ExternalRef<'a> {
    #[serde(borrow, default)]
    guid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    location: Option<ArtifactLocation<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResult<'a> {
    #[serde(borrow, default)]
    rule_id: Option<Cow<'a, str>>,
    #[serde(default)]
    rule_index: Option<i64>,
    #[serde(borrow, default)]
    rule: Option<DescRef<'a>>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    level: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Msg<'a>>,
    #[serde(borrow, default)]
    locations: First<SarifLocation<'a>>,
    #[serde(borrow, default)]
    analysis_target: Option<ArtifactLocation<'a>>,
    #[serde(borrow, default)]
    suppressions: Option<Vec<Suppression<'a>>>,
    #[serde(borrow, default)]
    baseline_state: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    fingerprints: Option<StrMap<'a>>,
    #[serde(borrow, default)]
    partial_fingerprints: Option<StrMap<'a>>,
    #[serde(borrow, default)]
    properties: Option<Props<'a>>,
    #[serde(borrow, default)]
    taxa: Option<Vec<DescRef<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation<'a> {
    #[serde(borrow, default)]
    physical_location: Option<PhysicalLocation<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation<'a> {
    #[serde(borrow, default)]
    artifact_location: Option<ArtifactLocation<'a>>,
    #[serde(default)]
    region: Option<Region>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    #[serde(default)]
    start_line: Option<i64>,
}

#[derive(Deserialize)]
struct Suppression<'a> {
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
}

// --- Entry point ----------------------------------------------------------------------------

/// Parses a SARIF 2.1.0 log and normalises every result (see docs/ingestion.md for the rules).
pub fn parse_sarif(bytes: &[u8]) -> Result<NormalisedScan, IngestError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(IngestError::new(
            "",
            "empty document: expected a SARIF 2.1.0 log (JSON)",
        ));
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        // serde would read a top-level array as a struct in tuple form; say it plainly.
        return Err(match serde_json::from_slice::<IgnoredAny>(bytes) {
            Err(e) => IngestError::from_json("", &e),
            Ok(_) => IngestError::new(
                "",
                "not a SARIF log: the document must be a JSON object with `version` and `runs`",
            ),
        });
    }
    let log: Log = match serde_json::from_slice(bytes) {
        Ok(log) => log,
        Err(e) => return Err(explain_failure(bytes, &e)),
    };
    check_header(log.version.as_ref(), log.runs.as_ref().map(Vec::len))?;
    let runs = log.runs.unwrap_or_default();
    if runs.iter().all(|r| r.results.is_none()) {
        return Err(IngestError::new(
            "runs[0].results",
            "missing: no run of the log has a `results` array, so it records no completed \
             analysis (SARIF 2.1.0 §3.14.23: absent results mean the tool did not run)",
        ));
    }
    let mut scan = NormalisedScan::default();
    for (i, run) in runs.into_iter().enumerate() {
        normalise_run(i, run, &mut scan)?;
    }
    require_evidence(&scan)?;
    Ok(scan)
}

/// A log whose runs neither failed, nor covered any check type, nor reported any result (an
/// unrecognised tool with nothing in it) is not evidence of anything: storing it would record a
/// scan that says nothing. Failed runs are evidence (of a failure) and are kept.
fn require_evidence(scan: &NormalisedScan) -> Result<(), IngestError> {
    let results: usize = scan
        .tools
        .iter()
        .map(|t| t.results_counted + t.results_excluded)
        .sum();
    let failed = scan.tools.iter().any(|t| t.failed.is_some());
    if results == 0 && !failed && scan.covered().is_empty() {
        let tools: Vec<&str> = scan.tools.iter().map(|t| t.tool.as_str()).collect();
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

/// Why the typed parse failed, with the best path we can give.
fn explain_failure(bytes: &[u8], err: &serde_json::Error) -> IngestError {
    use serde_json::error::Category;
    if !matches!(err.classify(), Category::Data) {
        return IngestError::from_json("", err);
    }
    // A log of another version fails on its run shapes: say "wrong version" rather than
    // "runs[0].x: invalid type".
    if let Ok(header) = serde_json::from_slice::<Header>(bytes) {
        let runs = header.runs.map(|_| 1);
        if let Err(e) = check_header(header.version.as_ref(), runs) {
            if e.path == "version" || e.path.is_empty() {
                return e;
            }
        }
    }
    match explain_with_path::<Log>(bytes) {
        Err(e) => e,
        Ok(_) => IngestError::from_json("", err),
    }
}

/// `version` must be "2.1.0" and `runs` a non-empty array. Returns the number of runs.
fn check_header(version: Option<&Loose>, runs: Option<usize>) -> Result<usize, IngestError> {
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

// --- Per run --------------------------------------------------------------------------------

/// What a rule contributes to its results, computed once per rule.
#[derive(Default)]
struct RuleInfo {
    id: Option<String>,
    facts: TagFacts,
    cwes: Vec<u32>,
    score: Option<Severity>,
    cvss: Option<Severity>,
    label: Option<Severity>,
    text_severity: Option<Severity>,
    short_text: Option<String>,
    default_level: Option<Level>,
    enabled: bool,
}

/// Severity, tags and CWE ids read from one property bag.
#[derive(Default)]
struct Evidence {
    facts: TagFacts,
    cwes: Vec<u32>,
    /// `security-severity`.
    score: Option<Severity>,
    /// CVSS base-score properties.
    cvss: Option<Severity>,
    /// Severity-label properties: `issue_severity` (bandit), then `severity`.
    label: Option<Severity>,
}

fn evidence(props: Option<&Props>) -> Evidence {
    let mut ev = Evidence::default();
    let Some(p) = props else { return ev };
    if let Some(tags) = &p.tags {
        for t in &tags.0 {
            if let Some(c) = ev.facts.add_tag(t) {
                ev.cwes.push(c);
            }
        }
    }
    for list in [&p.cwe, &p.cwe_upper].into_iter().flatten() {
        ev.cwes.extend(list.0.iter().filter_map(|c| parse_cwe(c)));
    }
    ev.score = p
        .security_severity
        .as_ref()
        .and_then(severity_from_score_value);
    if ev.score.is_some() {
        ev.facts.flags |= TagFacts::SECURITY_SEVERITY;
    }
    ev.cvss = p
        .cvssv3_base_score
        .as_ref()
        .and_then(severity_from_score_value)
        .or_else(|| {
            p.cvss3_base_score
                .as_ref()
                .and_then(severity_from_score_value)
        });
    ev.label = p
        .issue_severity
        .as_ref()
        .and_then(severity_from_label_value)
        .or_else(|| p.severity.as_ref().and_then(severity_from_label_value));
    ev
}

fn parse_level(text: &str, path: impl FnOnce() -> String) -> Result<Level, IngestError> {
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

/// Everything a run's results are resolved against.
struct RunCtx<'r> {
    tool: String,
    profile: Option<&'static ToolProfile>,
    /// Component 0 is the driver, component k+1 is `tool.extensions[k]`.
    components: Vec<Vec<RuleInfo>>,
    component_names: Vec<String>,
    rules_by_id: HashMap<String, (usize, usize)>,
    overrides: HashMap<(usize, usize), Level>,
    overrides_by_id: HashMap<String, Level>,
    artifacts: Vec<Option<Cow<'r, str>>>,
    taxa: Taxa<'r>,
}

/// The run's taxonomies, to resolve CWE references.
struct Taxa<'r> {
    /// `run.taxonomies`, in order (references point at them by index).
    taxonomies: Vec<TaxonomyInfo<'r>>,
    /// GUIDs of CWE taxonomies referenced through `externalPropertyFileReferences`.
    cwe_guids: Vec<Cow<'r, str>>,
}

impl RunCtx<'_> {
    fn rule(&self, at: (usize, usize)) -> Option<&RuleInfo> {
        self.components.get(at.0)?.get(at.1)
    }

    fn component_of(&self, r: Option<&CompRef>) -> usize {
        let Some(c) = r else { return 0 };
        if let Some(i) = c.index.and_then(|i| usize::try_from(i).ok()) {
            return i + 1;
        }
        if let Some(name) = &c.name {
            if let Some(k) = self.component_names.iter().position(|n| n == name) {
                return k;
            }
        }
        0
    }

    fn lookup_id(&self, id: &str) -> Option<(usize, usize)> {
        if let Some(at) = self.rules_by_id.get(id) {
            return Some(*at);
        }
        // Hierarchical ids (§3.27.5): "A/B" is a sub-result of rule "A".
        let mut id = id;
        while let Some(pos) = id.rfind('/') {
            id = &id[..pos];
            if let Some(at) = self.rules_by_id.get(id) {
                return Some(*at);
            }
        }
        None
    }

    /// The rule a result refers to: by index (`rule.index` / `ruleIndex`, in the component
    /// `rule.toolComponent` names), unless that rule's id contradicts `ruleId`; else by id.
    fn resolve(&self, r: &RawResult) -> Option<(usize, usize)> {
        let rule_id = r
            .rule_id
            .as_deref()
            .or_else(|| r.rule.as_ref().and_then(|d| d.id.as_deref()));
        let comp = self.component_of(r.rule.as_ref().and_then(|d| d.tool_component.as_ref()));
        let index = r
            .rule
            .as_ref()
            .and_then(|d| d.index)
            .or(r.rule_index)
            .and_then(|i| usize::try_from(i).ok());
        let by_index = index
            .map(|i| (comp, i))
            .filter(|at| self.rule(*at).is_some());
        if let Some(at) = by_index {
            let consistent = match (rule_id, self.rule(at).and_then(|x| x.id.as_deref())) {
                (Some(want), Some(have)) => {
                    want == have
                        || (want.len() > have.len()
                            && want.starts_with(have)
                            && want.as_bytes()[have.len()] == b'/')
                }
                _ => true,
            };
            if consistent {
                return Some(at);
            }
            return rule_id.and_then(|id| self.lookup_id(id)).or(Some(at));
        }
        rule_id.and_then(|id| self.lookup_id(id))
    }

    fn override_for(&self, at: Option<(usize, usize)>, rule_id: &str) -> Option<Level> {
        if let Some(level) = at.and_then(|at| self.overrides.get(&at)) {
            return Some(*level);
        }
        if self.overrides_by_id.is_empty() {
            return None;
        }
        let mut id = rule_id;
        loop {
            if let Some(level) = self.overrides_by_id.get(id) {
                return Some(*level);
            }
            match id.rfind('/') {
                Some(pos) => id = &id[..pos],
                None => return None,
            }
        }
    }
}

struct TaxonomyInfo<'r> {
    is_cwe: bool,
    guid: Option<Cow<'r, str>>,
    /// Taxa ids, kept for the CWE taxonomy only.
    taxa: Vec<Option<Cow<'r, str>>>,
}

impl Taxa<'_> {
    /// A CWE id from a `reportingDescriptorReference` into a taxonomy (rule `relationships`,
    /// result `taxa`): the component must be the CWE taxonomy (by name, by index into
    /// `run.taxonomies`, or by GUID of a taxonomy named CWE or an external CWE taxonomy file), or
    /// the id must itself read `CWE-n`.
    fn cwe_from_ref(&self, d: &DescRef) -> Option<u32> {
        let comp = d.tool_component.as_ref();
        let taxonomy = comp
            .and_then(|c| c.index)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.taxonomies.get(i));
        let is_cwe = comp.is_some_and(|c| {
            c.name
                .as_deref()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case("cwe"))
                || taxonomy.is_some_and(|t| t.is_cwe)
                || c.guid.as_deref().is_some_and(|g| {
                    self.cwe_guids.iter().any(|x| x.eq_ignore_ascii_case(g))
                        || self.taxonomies.iter().any(|t| {
                            t.is_cwe
                                && t.guid
                                    .as_deref()
                                    .is_some_and(|tg| tg.eq_ignore_ascii_case(g))
                        })
                })
        });
        match d.id.as_deref() {
            Some(id) if is_cwe => parse_cwe(id),
            Some(id) => cwe_from_tag(id),
            None if is_cwe => {
                let taxa = &taxonomy?.taxa;
                let i = usize::try_from(d.index?).ok()?;
                taxa.get(i)?.as_deref().and_then(parse_cwe)
            }
            None => None,
        }
    }
}

fn normalise_run(i: usize, run: Run, scan: &mut NormalisedScan) -> Result<(), IngestError> {
    let at = |rest: &str| format!("runs[{i}]{rest}");
    let Some(tool) = run.tool else {
        return Err(IngestError::new(
            at(".tool"),
            "missing `tool`: every run must name its tool in `tool.driver.name`",
        ));
    };
    let Some(driver) = tool.driver else {
        return Err(IngestError::new(
            at(".tool.driver"),
            "missing `tool.driver` (SARIF 2.1.0 names the tool in `tool.driver.name`; `tool.name` is SARIF 1.x/2.0)",
        ));
    };
    let name = match driver.name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => truncate_chars(n, TOOL_MAX_CHARS),
        _ => {
            return Err(IngestError::new(
                at(".tool.driver.name"),
                "missing or empty `tool.driver.name`: the tool must be named",
            ))
        }
    };
    let version = driver
        .version
        .as_deref()
        .or(driver.semantic_version.as_deref())
        .map(|v| truncate_chars(v.trim(), 64))
        .filter(|v| !v.is_empty());
    let profile = mapping::profile_for(&name);

    let taxonomies: Vec<_> = run
        .taxonomies
        .unwrap_or_default()
        .into_iter()
        .map(|t| {
            let is_cwe = t
                .name
                .as_deref()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case("cwe"));
            let taxa = if is_cwe {
                t.taxa
                    .unwrap_or_default()
                    .into_iter()
                    .map(|x| x.id)
                    .collect()
            } else {
                Vec::new()
            };
            TaxonomyInfo {
                is_cwe,
                guid: t.guid,
                taxa,
            }
        })
        .collect();
    let cwe_guids: Vec<_> = run
        .external_property_file_references
        .and_then(|e| e.taxonomies)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| {
            r.location
                .as_ref()
                .and_then(|l| l.uri.as_deref())
                .is_some_and(|u| u.to_ascii_lowercase().contains("cwe"))
        })
        .filter_map(|r| r.guid)
        .collect();
    let taxa = Taxa {
        taxonomies,
        cwe_guids,
    };

    // Rules of the driver and of each extension.
    let mut components = Vec::new();
    let mut component_names = vec![name.clone()];
    let mut rules_by_id = HashMap::new();
    let extensions = tool.extensions.unwrap_or_default();
    let comps = std::iter::once((None, driver.rules))
        .chain(extensions.into_iter().enumerate().map(|(k, ext)| {
            component_names.push(ext.name.as_deref().unwrap_or_default().to_owned());
            (Some(k), ext.rules)
        }))
        .collect::<Vec<_>>();
    for (ci, (ext, rules)) in comps.into_iter().enumerate() {
        let comp_path = match ext {
            None => ".tool.driver".to_owned(),
            Some(k) => format!(".tool.extensions[{k}]"),
        };
        let mut infos = Vec::new();
        for (ri, rule) in rules.unwrap_or_default().into_iter().enumerate() {
            let info = rule_info(rule, profile, &taxa, || {
                at(&format!(
                    "{comp_path}.rules[{ri}].defaultConfiguration.level"
                ))
            })?;
            if let Some(id) = &info.id {
                rules_by_id.entry(id.clone()).or_insert((ci, ri));
            }
            infos.push(info);
        }
        components.push(infos);
    }

    let artifacts = run
        .artifacts
        .unwrap_or_default()
        .into_iter()
        .map(|a| a.location.and_then(|l| l.uri))
        .collect();

    let mut ctx = RunCtx {
        tool: name.clone(),
        profile,
        components,
        component_names,
        rules_by_id,
        overrides: HashMap::new(),
        overrides_by_id: HashMap::new(),
        artifacts,
        taxa,
    };

    // Invocations: failure signals and rule configuration overrides.
    let mut execution_failed = false;
    let mut error_notes = 0usize;
    let mut first_error = None;
    for (k, inv) in run.invocations.unwrap_or_default().into_iter().enumerate() {
        if inv.execution_successful == Some(false) {
            execution_failed = true;
        }
        if let Some(n) = inv.tool_execution_notifications {
            error_notes += n.errors;
            if first_error.is_none() {
                first_error = n.first_error;
            }
        }
        for (o, ov) in inv
            .rule_configuration_overrides
            .unwrap_or_default()
            .into_iter()
            .enumerate()
        {
            let Some(level) = ov.configuration.and_then(|c| c.level) else {
                continue;
            };
            let level = parse_level(&level, || {
                at(&format!(
                    ".invocations[{k}].ruleConfigurationOverrides[{o}].configuration.level"
                ))
            })?;
            let Some(desc) = ov.descriptor else { continue };
            let comp = ctx.component_of(desc.tool_component.as_ref());
            let by_index = desc
                .index
                .and_then(|x| usize::try_from(x).ok())
                .map(|x| (comp, x))
                .filter(|x| ctx.rule(*x).is_some());
            let target = by_index.or_else(|| desc.id.as_deref().and_then(|id| ctx.lookup_id(id)));
            match (target, desc.id) {
                (Some(t), _) => {
                    ctx.overrides.entry(t).or_insert(level);
                }
                (None, Some(id)) => {
                    ctx.overrides_by_id.entry(id.into_owned()).or_insert(level);
                }
                (None, None) => {}
            }
        }
    }

    let mut covered: BTreeSet<CheckType> = profile
        .map(|p| p.covers.iter().copied().collect())
        .unwrap_or_default();
    // Declared (enabled) rules show what the tool checked for.
    for rule in ctx.components.iter().flatten().filter(|r| r.enabled) {
        covered.insert(mapping::classify(
            profile,
            rule.id.as_deref().unwrap_or_default(),
            &rule.cwes,
            &rule.facts,
        ));
    }

    let mut run_excluded = ExclusionCounts::default();
    let mut counted = 0usize;
    let results_present = run.results.is_some();
    let result_count = run.results.as_ref().map_or(0, Vec::len);
    for (j, result) in run.results.into_iter().flatten().enumerate() {
        let (check_type, outcome) =
            normalise_result(&ctx, &result, || format!("runs[{i}].results[{j}]"))?;
        covered.insert(check_type);
        match outcome {
            Outcome::Counted(f) => {
                counted += 1;
                scan.findings.push(*f);
            }
            Outcome::Suppressed => run_excluded.suppressed += 1,
            Outcome::BaselineAbsent => run_excluded.baseline_absent += 1,
            Outcome::NotFailKind => run_excluded.not_fail_kind += 1,
            Outcome::LevelNone => run_excluded.level_none += 1,
        }
    }

    let failed = if execution_failed {
        Some(match &first_error {
            Some(e) => format!("invocation reported executionSuccessful: false ({e})"),
            None => "invocation reported executionSuccessful: false".to_owned(),
        })
    } else if !results_present {
        Some(
            "no `results` array: the tool did not run or produced no results (SARIF 2.1.0 §3.14.23)"
                .to_owned(),
        )
    } else if error_notes > 0 && result_count == 0 {
        Some(match &first_error {
            Some(e) => format!("{error_notes} error notification(s) and no results: {e}"),
            None => format!("{error_notes} error notification(s) and no results"),
        })
    } else {
        None
    };
    if failed.is_some() {
        covered.clear();
    }
    // Signal check types are never covered by a scanner run.
    covered.retain(|c| c.is_finding_based());

    scan.excluded.add(&run_excluded);
    scan.tools.push(ToolRun {
        tool: ctx.tool,
        version,
        covered,
        failed,
        results_counted: counted,
        results_excluded: run_excluded.total(),
    });
    Ok(())
}

fn rule_info(
    rule: RawRule,
    profile: Option<&ToolProfile>,
    taxa: &Taxa,
    level_path: impl FnOnce() -> String,
) -> Result<RuleInfo, IngestError> {
    let mut ev = evidence(rule.properties.as_ref());
    let default_level = match rule
        .default_configuration
        .as_ref()
        .and_then(|c| c.level.as_deref())
    {
        Some(l) => Some(parse_level(l, level_path)?),
        None => None,
    };
    let enabled = rule
        .default_configuration
        .as_ref()
        .and_then(|c| c.enabled)
        .unwrap_or(true);
    let short_text = rule
        .short_description
        .as_ref()
        .and_then(Msg::best)
        .map(|t| truncate_chars(t.trim(), MESSAGE_MAX_CHARS));
    let text_severity = if profile.is_some_and(|p| p.severity_in_rule_text) {
        short_text.as_deref().and_then(severity_from_text)
    } else {
        None
    };
    ev.cwes.extend(
        rule.relationships
            .iter()
            .flatten()
            .take(32)
            .filter_map(|rel| rel.target.as_ref())
            .filter_map(|target| taxa.cwe_from_ref(target)),
    );
    ev.cwes.sort_unstable();
    ev.cwes.dedup();
    Ok(RuleInfo {
        // Kept whole: results refer to it by its exact text.
        id: rule.id.map(Cow::into_owned),
        facts: ev.facts,
        cwes: ev.cwes,
        score: ev.score,
        cvss: ev.cvss,
        label: ev.label,
        text_severity,
        short_text,
        default_level,
        enabled,
    })
}

// --- Per result -----------------------------------------------------------------------------

enum Outcome {
    Counted(Box<Finding>),
    Suppressed,
    BaselineAbsent,
    NotFailKind,
    LevelNone,
}

const KINDS: &[&str] = &[
    "fail",
    "pass",
    "open",
    "informational",
    "notApplicable",
    "review",
];
const BASELINE_STATES: &[&str] = &["new", "unchanged", "updated", "absent"];
const SUPPRESSION_STATUSES: &[&str] = &["accepted", "underReview", "rejected"];

fn normalise_result(
    ctx: &RunCtx,
    r: &RawResult,
    path: impl Fn() -> String,
) -> Result<(CheckType, Outcome), IngestError> {
    // Enumerations first: an unknown value could hide a finding, so it is an error.
    let kind = r.kind.as_deref().unwrap_or("fail");
    if !KINDS.contains(&kind) {
        return Err(IngestError::new(
            format!("{}.kind", path()),
            format!(
                "unknown kind \"{}\" (expected one of: {})",
                truncate_chars(kind, 40),
                KINDS.join(", ")
            ),
        ));
    }
    let level = match r.level.as_deref() {
        Some(l) => Some(parse_level(l, || format!("{}.level", path()))?),
        None => None,
    };
    if let Some(b) = r.baseline_state.as_deref() {
        if !BASELINE_STATES.contains(&b) {
            return Err(IngestError::new(
                format!("{}.baselineState", path()),
                format!(
                    "unknown baselineState \"{}\" (expected one of: {})",
                    truncate_chars(b, 40),
                    BASELINE_STATES.join(", ")
                ),
            ));
        }
    }
    let mut suppressed = false;
    for (k, s) in r.suppressions.iter().flatten().enumerate() {
        match s.status.as_deref() {
            None | Some("accepted") => suppressed = true,
            Some(st) if SUPPRESSION_STATUSES.contains(&st) => {}
            Some(st) => {
                return Err(IngestError::new(
                    format!("{}.suppressions[{k}].status", path()),
                    format!(
                        "unknown suppression status \"{}\" (expected one of: {})",
                        truncate_chars(st, 40),
                        SUPPRESSION_STATUSES.join(", ")
                    ),
                ))
            }
        }
    }

    // Rule, tags, CWE ids and the check type (computed for every result: excluded ones still
    // show what the tool checks for).
    let at = ctx.resolve(r);
    let rule = at.and_then(|a| ctx.rule(a));
    let rule_id_raw = r
        .rule_id
        .as_deref()
        .or_else(|| r.rule.as_ref().and_then(|d| d.id.as_deref()))
        .or_else(|| rule.and_then(|x| x.id.as_deref()))
        .unwrap_or("unknown");
    let rev = evidence(r.properties.as_ref());
    let mut facts = rule.map(|x| x.facts).unwrap_or_default();
    facts.merge(&rev.facts);
    let mut cwes = rev.cwes.clone();
    if let Some(x) = rule {
        cwes.extend_from_slice(&x.cwes);
    }
    cwes.extend(
        r.taxa
            .iter()
            .flatten()
            .take(32)
            .filter_map(|d| ctx.taxa.cwe_from_ref(d)),
    );
    cwes.sort_unstable();
    cwes.dedup();
    // Classified on every id; at most CWE_MAX_PER_FINDING are kept on the finding.
    let check_type = mapping::classify(ctx.profile, rule_id_raw, &cwes, &facts);
    cwes.truncate(CWE_MAX_PER_FINDING);

    // Exclusions, first reason wins.
    let effective_level = level
        .or_else(|| ctx.override_for(at, rule_id_raw))
        .or_else(|| rule.and_then(|x| x.default_level))
        .unwrap_or(if kind == "fail" {
            Level::Warning
        } else {
            Level::None
        });
    if suppressed {
        return Ok((check_type, Outcome::Suppressed));
    }
    if r.baseline_state.as_deref() == Some("absent") {
        return Ok((check_type, Outcome::BaselineAbsent));
    }
    if kind != "fail" {
        return Ok((check_type, Outcome::NotFailKind));
    }
    let Some(level_severity) = effective_level.severity() else {
        return Ok((check_type, Outcome::LevelNone));
    };

    // Severity, in the documented order.
    let severity = rev
        .score
        .or(rule.and_then(|x| x.score))
        .or(rev.cvss)
        .or(rule.and_then(|x| x.cvss))
        .or(rev.label)
        .or(rule.and_then(|x| x.label))
        .or(rev.facts.severity)
        .or(rule.and_then(|x| x.facts.severity))
        .or(rule.and_then(|x| x.text_severity))
        .unwrap_or(level_severity);

    let message_full = r
        .message
        .as_ref()
        .and_then(Msg::best)
        .or_else(|| rule.and_then(|x| x.short_text.as_deref()))
        .unwrap_or(rule_id_raw)
        .trim();
    let location = location_of(ctx, r);
    let fingerprint = fingerprint(&ctx.tool, rule_id_raw, r, location.as_ref(), message_full);

    Ok((
        check_type,
        Outcome::Counted(Box::new(Finding {
            check_type,
            severity,
            rule_id: truncate_chars(rule_id_raw, RULE_ID_MAX_CHARS),
            tool: ctx.tool.clone(),
            cwe: cwes,
            message: truncate_chars(message_full, MESSAGE_MAX_CHARS),
            location,
            fingerprint,
        })),
    ))
}

fn location_of(ctx: &RunCtx, r: &RawResult) -> Option<Location> {
    let physical = r
        .locations
        .0
        .as_ref()
        .and_then(|l| l.physical_location.as_ref());
    let artifact = physical
        .and_then(|p| p.artifact_location.as_ref())
        .or(r.analysis_target.as_ref());
    let uri = artifact.and_then(|a| {
        a.uri.as_deref().filter(|u| !u.is_empty()).or_else(|| {
            let i = usize::try_from(a.index?).ok()?;
            ctx.artifacts.get(i)?.as_deref()
        })
    })?;
    let start_line = physical
        .and_then(|p| p.region.as_ref())
        .and_then(|reg| reg.start_line)
        .filter(|l| *l >= 1)
        .and_then(|l| u32::try_from(l).ok());
    Some(Location {
        uri: truncate_chars(uri, URI_MAX_CHARS),
        start_line,
    })
}

/// A stable id: SHA-256 (first 16 bytes, hex) over tool name, rule id and file plus, in order
/// of preference, the result's `fingerprints`, its `partialFingerprints`, or the line and
/// message. The file is always included: some tools' fingerprints hash only the code context
/// (Flawfinder's `contextHash`, CodeQL's `primaryLocationLineHash`), which repeats across files.
fn fingerprint(
    tool: &str,
    rule_id: &str,
    r: &RawResult,
    location: Option<&Location>,
    message: &str,
) -> String {
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update(s.as_bytes());
        h.update([0u8]);
    };
    put(tool);
    put(rule_id);
    put(location.map(|l| l.uri.as_str()).unwrap_or_default());
    if let Some(fp) = r.fingerprints.as_ref().filter(|m| !m.0.is_empty()) {
        put("fingerprints");
        for (k, v) in &fp.0 {
            put(k);
            put(v);
        }
    } else if let Some(fp) = r.partial_fingerprints.as_ref().filter(|m| !m.0.is_empty()) {
        put("partialFingerprints");
        for (k, v) in &fp.0 {
            put(k);
            put(v);
        }
    } else {
        put("content");
        let line = location
            .and_then(|l| l.start_line)
            .map(|l| l.to_string())
            .unwrap_or_default();
        put(&line);
        let bounded: String = message.chars().take(4096).collect();
        put(&bounded);
    }
    hex::encode(&h.finalize()[..16])
}
