//! Per run and per result: a run's rules, taxonomies, artifacts and invocations read into the
//! context its results are resolved against, then each result normalised (checked, classified,
//! counted or excluded) into a [`Sink`].

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};

use sha2::{Digest, Sha256};

use crate::catalog::{CheckType, Severity};
use crate::ingest::error::IngestError;
use crate::ingest::loose::First;
use crate::ingest::mapping::{self, cwe_from_tag, parse_cwe, TagFacts, ToolProfile};
use crate::ingest::model::{
    cut, truncate_chars, ExclusionCounts, Finding, FindingKey, Location, SuppressionPolicy,
    ToolRun, CWE_MAX_PER_FINDING, MESSAGE_MAX_CHARS, TOOL_MAX_CHARS, URI_MAX_CHARS,
};
use crate::ingest::severity::{
    severity_from_label_value, severity_from_score_value, severity_from_text, Level,
};
use crate::ingest::summary::Candidate;
use crate::ingest::work;

use super::checks::{parse_level, BASELINE_STATES, KINDS, SUPPRESSION_KINDS, SUPPRESSION_STATUSES};
use super::rule_ids::{self, RuleIds};
use super::wire::{CompRef, DescRef, Locations, Msg, Props, RawResult, RawRule, RunHead};

/// Where normalised results go, in input order: each counted finding as it is read, then each
/// run once its results are done.
pub(super) trait Sink {
    fn finding(&mut self, f: FindingRef<'_>);
    fn run(&mut self, run: ToolRun, excluded: &ExclusionCounts);
    fn tools(&self) -> &[ToolRun];
    /// Whether an accepted suppression excludes its result (`honour`), or the result counts and
    /// its suppression is reported for someone to approve (`require_approval`).
    fn policy(&self) -> SuppressionPolicy {
        SuppressionPolicy::Honour
    }
    /// A counted result the tool marked suppressed, under `require_approval`.
    fn suppression(&mut self, _f: &FindingRef<'_>, _s: &SuppressionText<'_>) {}
}

/// What a result's (first accepted) suppression says.
pub(super) struct SuppressionText<'x> {
    pub(super) kind: &'x str,
    pub(super) justification: Option<&'x str>,
}

// --- Per run --------------------------------------------------------------------------------

/// What a rule contributes to its results, computed once per rule.
#[derive(Default)]
struct RuleInfo {
    id: String,
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

/// Everything a run's results are resolved against.
struct RunCtx<'r> {
    tool: String,
    profile: Option<&'static ToolProfile>,
    /// Component 0 is the driver, component k+1 is `tool.extensions[k]`.
    components: Vec<Vec<RuleInfo>>,
    /// Component name → its first index (as `components`).
    component_by_name: HashMap<String, usize>,
    rules_by_id: RuleIds<(usize, usize)>,
    overrides: HashMap<(usize, usize), Level>,
    overrides_by_id: RuleIds<Level>,
    artifacts: Vec<Option<Cow<'r, str>>>,
    taxa: Taxa<'r>,
}

/// The run's taxonomies, to resolve CWE references.
struct Taxa<'r> {
    /// `run.taxonomies`, in order (references point at them by index).
    taxonomies: Vec<TaxonomyInfo<'r>>,
    /// GUIDs (lower case) of the CWE taxonomies: those of `run.taxonomies` named CWE and those
    /// referenced through `externalPropertyFileReferences`. A set, so that a reference costs one
    /// lookup however many taxonomies the run declares.
    cwe_guids: HashSet<String>,
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
            work::charge(name.len());
            if let Some(k) = self.component_by_name.get(name.as_ref()) {
                return *k;
            }
        }
        0
    }

    fn lookup_id(&self, id: &str) -> Option<(usize, usize)> {
        self.rules_by_id.get(id).copied()
    }

    /// The rule a result refers to: by index (`rule.index` / `ruleIndex`, in the component
    /// `rule.toolComponent` names), unless that rule's id contradicts `ruleId`; else by id.
    /// `rule_id` is the result's id as kept ([`rule_ids::kept`]).
    fn resolve(&self, r: &RawResult, rule_id: Option<&str>) -> Option<(usize, usize)> {
        let comp = self.component_of(r.rule.as_ref().and_then(|d| d.tool_component.as_ref()));
        let index = r
            .rule
            .as_ref()
            .and_then(|d| d.index)
            .or(r.rule_index.map(|i| i.0))
            .and_then(|i| usize::try_from(i).ok());
        let by_index = index
            .map(|i| (comp, i))
            .filter(|at| self.rule(*at).is_some());
        if let Some(at) = by_index {
            let consistent = match (rule_id, self.rule(at).map(|x| x.id.as_str())) {
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
        self.overrides_by_id.get(rule_id).copied()
    }
}

struct TaxonomyInfo<'r> {
    is_cwe: bool,
    /// Taxa ids, kept for the CWE taxonomy only.
    taxa: Vec<Cow<'r, str>>,
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
                    work::charge(g.len());
                    self.cwe_guids.contains(&g.to_ascii_lowercase())
                })
        });
        match d.id.as_deref() {
            Some(id) if is_cwe => parse_cwe(id),
            Some(id) => cwe_from_tag(id),
            None if is_cwe => {
                let taxa = &taxonomy?.taxa;
                let i = usize::try_from(d.index?).ok()?;
                parse_cwe(taxa.get(i)?)
            }
            None => None,
        }
    }
}

/// A run being normalised: its context, then what its results add up to.
pub(super) struct RunState<'r> {
    ctx: RunCtx<'r>,
    version: Option<String>,
    covered: BTreeSet<CheckType>,
    execution_failed: bool,
    error_notes: usize,
    first_error: Option<String>,
    excluded: ExclusionCounts,
    counted: usize,
    /// Results read (counted or excluded).
    results: usize,
    /// Whether the run has a `results` array.
    pub(super) results_present: bool,
}

impl<'r> RunState<'r> {
    /// Reads run `i`'s tool, rules, taxonomies, artifacts and invocations.
    pub(super) fn begin(i: usize, run: RunHead<'r>) -> Result<Self, IngestError> {
        let at = |rest: &str| format!("runs[{i}]{rest}");
        let Some(tool) = run.tool else {
            return Err(IngestError::new(
            at(".tool"),
            "missing `tool`: SARIF 2.1.0 requires every run to name its tool in `tool.driver.name`",
        ));
        };
        let Some(driver) = tool.driver else {
            return Err(IngestError::new(
            at(".tool.driver"),
            "missing `tool.driver`: SARIF 2.1.0 requires it and names the tool in `tool.driver.name` (`tool.name` is SARIF 1.x/2.0)",
        ));
        };
        let name = match driver.name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => truncate_chars(n, TOOL_MAX_CHARS),
            _ => return Err(IngestError::new(
                at(".tool.driver.name"),
                "missing or empty `tool.driver.name`: SARIF 2.1.0 requires the tool to be named",
            )),
        };
        let version = driver
            .version
            .as_deref()
            .or(driver.semantic_version.as_deref())
            .map(|v| truncate_chars(v.trim(), 64))
            .filter(|v| !v.is_empty());
        let profile = mapping::profile_for(&name);

        let mut cwe_guids = HashSet::new();
        let taxonomies: Vec<_> = run
            .taxonomies
            .unwrap_or_default()
            .into_iter()
            .map(|t| {
                let is_cwe = t.name.trim().eq_ignore_ascii_case("cwe");
                if let Some(guid) = t.guid.as_deref().filter(|_| is_cwe) {
                    cwe_guids.insert(guid.to_ascii_lowercase());
                }
                let taxa = if is_cwe {
                    t.taxa
                        .unwrap_or_default()
                        .into_iter()
                        .map(|x| x.id)
                        .collect()
                } else {
                    Vec::new()
                };
                TaxonomyInfo { is_cwe, taxa }
            })
            .collect();
        cwe_guids.extend(
            run.external_property_file_references
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
                .map(|g| g.to_ascii_lowercase()),
        );
        let taxa = Taxa {
            taxonomies,
            cwe_guids,
        };

        // Rules of the driver and of each extension.
        let mut components = Vec::new();
        let mut component_by_name = HashMap::from([(name.clone(), 0)]);
        let mut rules_by_id = RuleIds::default();
        let extensions = tool.extensions.unwrap_or_default();
        let mut comps = vec![(None, driver.rules)];
        for (k, ext) in extensions.into_iter().enumerate() {
            let Some(ext_name) = ext.name else {
                return Err(IngestError::new(
                    at(&format!(".tool.extensions[{k}].name")),
                    "missing: SARIF 2.1.0 requires `name` in every tool component (extension)",
                ));
            };
            component_by_name
                .entry(ext_name.into_owned())
                .or_insert(k + 1);
            comps.push((Some(k), ext.rules));
        }
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
                rules_by_id.insert_first(&info.id, (ci, ri));
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
            component_by_name,
            rules_by_id,
            overrides: HashMap::new(),
            overrides_by_id: RuleIds::default(),
            artifacts,
            taxa,
        };

        // Invocations: failure signals and rule configuration overrides.
        let mut execution_failed = false;
        let mut error_notes = 0usize;
        let mut first_error = None;
        for (k, inv) in run.invocations.unwrap_or_default().into_iter().enumerate() {
            if !inv.execution_successful {
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
                let Some(level) = ov.configuration.level else {
                    continue;
                };
                let level = parse_level(&level, || {
                    at(&format!(
                        ".invocations[{k}].ruleConfigurationOverrides[{o}].configuration.level"
                    ))
                })?;
                let desc = ov.descriptor;
                let comp = ctx.component_of(desc.tool_component.as_ref());
                let by_index = desc
                    .index
                    .and_then(|x| usize::try_from(x).ok())
                    .map(|x| (comp, x))
                    .filter(|x| ctx.rule(*x).is_some());
                let target =
                    by_index.or_else(|| desc.id.as_deref().and_then(|id| ctx.lookup_id(id)));
                match (target, desc.id) {
                    (Some(t), _) => {
                        ctx.overrides.entry(t).or_insert(level);
                    }
                    (None, Some(id)) => ctx.overrides_by_id.insert_first(&id, level),
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
                &rule.id,
                &rule.cwes,
                &rule.facts,
            ));
        }

        Ok(RunState {
            ctx,
            version,
            covered,
            execution_failed,
            error_notes,
            first_error,
            excluded: ExclusionCounts::default(),
            counted: 0,
            results: 0,
            results_present: false,
        })
    }

    /// Normalises result `j` of run `i` into the sink.
    pub(super) fn result<S: Sink>(
        &mut self,
        i: usize,
        j: usize,
        result: &RawResult,
        sink: &mut S,
    ) -> Result<(), IngestError> {
        let honour = sink.policy() == SuppressionPolicy::Honour;
        let (check_type, outcome) = normalise_result(&self.ctx, result, honour, || {
            format!("runs[{i}].results[{j}]")
        })?;
        self.results += 1;
        self.covered.insert(check_type);
        match outcome {
            Outcome::Counted(f) => {
                self.counted += 1;
                sink.finding(f);
            }
            Outcome::CountedSuppressed(f, s) => {
                self.counted += 1;
                sink.suppression(&f, &s);
                sink.finding(f);
            }
            Outcome::Suppressed => self.excluded.suppressed += 1,
            Outcome::BaselineAbsent => self.excluded.baseline_absent += 1,
            Outcome::NotFailKind => self.excluded.not_fail_kind += 1,
            Outcome::LevelNone => self.excluded.level_none += 1,
        }
        Ok(())
    }

    /// The run's outcome (failed or not, what it covered), once its results are read.
    pub(super) fn finish<S: Sink>(self, sink: &mut S) {
        let RunState {
            ctx,
            version,
            mut covered,
            execution_failed,
            error_notes,
            first_error,
            excluded,
            counted,
            results,
            results_present,
        } = self;
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
        } else if error_notes > 0 && results == 0 {
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

        sink.run(
            ToolRun {
                tool: ctx.tool,
                version,
                covered,
                failed,
                results_counted: counted,
                results_excluded: excluded.total(),
            },
            &excluded,
        );
    }
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
            .filter_map(|rel| taxa.cwe_from_ref(&rel.target)),
    );
    ev.cwes.sort_unstable();
    ev.cwes.dedup();
    Ok(RuleInfo {
        // Kept as findings keep it (cut): results refer to it by that text (`rule_ids`).
        id: rule_ids::kept(&rule.id).into_owned(),
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

enum Outcome<'x> {
    Counted(FindingRef<'x>),
    /// Counted although the tool suppressed it: its suppression awaits approval.
    CountedSuppressed(FindingRef<'x>, SuppressionText<'x>),
    Suppressed,
    BaselineAbsent,
    NotFailKind,
    LevelNone,
}

fn normalise_result<'x>(
    ctx: &'x RunCtx,
    r: &'x RawResult<'x>,
    honour_suppressions: bool,
    path: impl Fn() -> String,
) -> Result<(CheckType, Outcome<'x>), IngestError> {
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
    let mut suppressed: Option<SuppressionText<'x>> = None;
    for (k, s) in r.suppressions.iter().flatten().enumerate() {
        if !SUPPRESSION_KINDS.contains(&s.kind.as_ref()) {
            return Err(IngestError::new(
                format!("{}.suppressions[{k}].kind", path()),
                format!(
                    "unknown suppression kind \"{}\" (expected one of: {})",
                    truncate_chars(&s.kind, 40),
                    SUPPRESSION_KINDS.join(", ")
                ),
            ));
        }
        match s.status.as_deref() {
            None | Some("accepted") => {
                suppressed.get_or_insert(SuppressionText {
                    kind: s.kind.as_ref(),
                    justification: s.justification.as_deref(),
                });
            }
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
    // show what the tool checks for). The id is cut to what a finding keeps before anything
    // reads it, so no work per result grows with the id's length in the report.
    let named = r
        .rule_id
        .as_deref()
        .or_else(|| r.rule.as_ref().and_then(|d| d.id.as_deref()))
        .map(rule_ids::kept);
    let at = ctx.resolve(r, named.as_deref());
    let rule = at.and_then(|a| ctx.rule(a));
    let rule_id = named
        .or_else(|| rule.map(|x| Cow::Borrowed(x.id.as_str())))
        .unwrap_or(Cow::Borrowed("unknown"));
    let rev = evidence(r.properties.as_ref());
    let mut facts = rule.map(|x| x.facts).unwrap_or_default();
    facts.merge(&rev.facts);
    let mut cwes = rev.cwes.clone();
    if let Some(x) = rule {
        work::charge(x.cwes.len());
        cwes.extend_from_slice(&x.cwes);
    }
    // Classifying and fingerprinting read the rule id.
    work::charge(rule_id.len());
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
    let check_type = mapping::classify(ctx.profile, &rule_id, &cwes, &facts);
    cwes.truncate(CWE_MAX_PER_FINDING);

    // Exclusions, first reason wins.
    let effective_level = level
        .or_else(|| ctx.override_for(at, &rule_id))
        .or_else(|| rule.and_then(|x| x.default_level))
        .unwrap_or(if kind == "fail" {
            Level::Warning
        } else {
            Level::None
        });
    if suppressed.is_some() && honour_suppressions {
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

    let message = match r
        .message
        .0
        .best()
        .or_else(|| rule.and_then(|x| x.short_text.as_deref()))
    {
        Some(text) => Cow::Borrowed(text.trim()),
        None => match &rule_id {
            Cow::Borrowed(id) => Cow::Borrowed(id.trim()),
            Cow::Owned(id) => Cow::Owned(id.trim().to_owned()),
        },
    };
    let (uri, start_line) = match location_of(ctx, r) {
        Some((uri, line)) => (Some(uri), line),
        None => (None, None),
    };

    let f = FindingRef {
        check_type,
        severity,
        rule_id,
        tool: &ctx.tool,
        cwe: cwes,
        message,
        uri,
        start_line,
        result: r,
    };
    Ok((
        check_type,
        match suppressed {
            Some(s) => Outcome::CountedSuppressed(f, s),
            None => Outcome::Counted(f),
        },
    ))
}

/// A counted finding as read, borrowing from the result and its run: what the summary
/// counts; the [`Finding`] (texts cut, fingerprint hashed) is built only when asked for.
pub(super) struct FindingRef<'x> {
    check_type: CheckType,
    severity: Severity,
    /// As kept (cut to [`RULE_ID_MAX_CHARS`]).
    rule_id: Cow<'x, str>,
    /// The run's tool name (already cut to [`TOOL_MAX_CHARS`]).
    tool: &'x str,
    cwe: Vec<u32>,
    /// Whole (trimmed): the result's, its rule's short description, or the rule id.
    message: Cow<'x, str>,
    /// The location's URI, whole; no location without one.
    uri: Option<&'x str>,
    start_line: Option<u32>,
    result: &'x RawResult<'x>,
}

impl FindingRef<'_> {
    fn location(&self) -> Option<Location> {
        self.uri.map(|uri| Location {
            uri: truncate_chars(uri, URI_MAX_CHARS),
            start_line: self.start_line,
        })
    }

    fn fingerprint(&self) -> String {
        let uri = self.uri.map(|u| cut(u, URI_MAX_CHARS));
        fingerprint(
            self.tool,
            &self.rule_id,
            self.result,
            uri.as_deref(),
            self.start_line,
            &self.message,
        )
    }

    pub(super) fn into_finding(self) -> Finding {
        let fingerprint = self.fingerprint();
        let location = self.location();
        Finding {
            check_type: self.check_type,
            severity: self.severity,
            rule_id: self.rule_id.into_owned(),
            tool: self.tool.to_owned(),
            message: truncate_chars(&self.message, MESSAGE_MAX_CHARS),
            location,
            cwe: self.cwe,
            fingerprint,
        }
    }
}

impl Candidate for FindingRef<'_> {
    fn check_type(&self) -> CheckType {
        self.check_type
    }
    fn severity(&self) -> Severity {
        self.severity
    }
    fn cwe(&self) -> &[u32] {
        &self.cwe
    }
    /// `summary::rank` over the finding this would build, field by field, cutting texts and
    /// hashing the fingerprint only when the fields before it tie.
    fn rank_against(&self, other: &Finding) -> std::cmp::Ordering {
        other
            .severity
            .cmp(&self.severity)
            .then(self.check_type.cmp(&other.check_type))
            .then_with(|| self.tool.cmp(other.tool.as_str()))
            .then_with(|| self.rule_id.as_ref().cmp(other.rule_id.as_str()))
            .then_with(|| {
                let mine = self.uri.map(|u| (cut(u, URI_MAX_CHARS), self.start_line));
                let theirs = other
                    .location
                    .as_ref()
                    .map(|l| (Cow::Borrowed(l.uri.as_str()), l.start_line));
                mine.cmp(&theirs)
            })
            .then_with(|| self.fingerprint().cmp(&other.fingerprint))
    }
    fn key(&self) -> FindingKey {
        self.finding_key()
    }

    fn to_finding(&self) -> Finding {
        self.finding()
    }
}

impl FindingRef<'_> {
    pub(super) fn tool(&self) -> &str {
        self.tool
    }

    /// What matching an exception needs of it.
    pub(super) fn finding_key(&self) -> FindingKey {
        let mut cwe = self.cwe.clone();
        cwe.sort_unstable();
        cwe.dedup();
        FindingKey {
            fingerprint: self.fingerprint(),
            rule_id: self.rule_id.to_string(),
            path: self.location().map(|l| l.uri),
            cwe,
            check_type: self.check_type,
            severity: self.severity,
        }
    }

    fn finding(&self) -> Finding {
        FindingRef {
            check_type: self.check_type,
            severity: self.severity,
            rule_id: self.rule_id.clone(),
            tool: self.tool,
            cwe: self.cwe.clone(),
            message: self.message.clone(),
            uri: self.uri,
            start_line: self.start_line,
            result: self.result,
        }
        .into_finding()
    }
}

/// The URI (whole) and start line of a result's first location, or of its analysis target.
fn location_of<'x>(ctx: &'x RunCtx, r: &'x RawResult<'x>) -> Option<(&'x str, Option<u32>)> {
    let Locations(First(first)) = &r.locations;
    let physical = first.as_ref().and_then(|l| l.physical_location.as_ref());
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
    Some((uri, start_line))
}

/// A stable id: SHA-256 (first 16 bytes, hex) over tool name, rule id and file plus, in order
/// of preference, the result's `fingerprints`, its `partialFingerprints`, or the line and
/// message. The file is always included: some tools' fingerprints hash only the code context
/// (Flawfinder's `contextHash`, CodeQL's `primaryLocationLineHash`), which repeats across files.
/// `uri` is the finding's location URI as stored (cut to [`URI_MAX_CHARS`]).
fn fingerprint(
    tool: &str,
    rule_id: &str,
    r: &RawResult,
    uri: Option<&str>,
    start_line: Option<u32>,
    message: &str,
) -> String {
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update(s.as_bytes());
        h.update([0u8]);
    };
    put(tool);
    put(rule_id);
    put(uri.unwrap_or_default());
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
        let line = uri
            .and(start_line)
            .map(|l| l.to_string())
            .unwrap_or_default();
        put(&line);
        let bounded = match message.char_indices().nth(4096) {
            Some((at, _)) => &message[..at],
            None => message,
        };
        put(bounded);
    }
    hex::encode(&h.finalize()[..16])
}
