//! SARIF 2.1.0 → [`NormalisedScan`].
//!
//! Parsing is one pass of serde over typed, borrowing structs: only the properties used below
//! are materialised; everything else (code flows, fixes, snippets, help text, run properties …)
//! is skipped by serde's `IgnoredAny` without allocation, and lists that can be long are
//! bounded (`loose::First`, `loose::StrList`, notification summaries). No `serde_json::Value`
//! of the document is ever built. Results are not held either: each run's `results` are read
//! one at a time once the run's other properties are known (its span of the input is kept when
//! they come after it), and each counted finding goes straight to a sink — the
//! [`NormalisedScan`] of [`parse_sarif`], or the summary of [`summarise_sarif`], which builds a
//! [`Finding`] only for the few that may be kept as evidence. When that fast path fails for any
//! reason, the reference path (the whole typed log, then each run) reads the document again and
//! says what is wrong; only then is it parsed a third time with path tracking, to say where.
//!
//! What SARIF 2.1.0 requires of the objects read or skipped here is enforced in the same pass
//! (see "Schema requirements" below): a required property is a non-`Option` field, so serde
//! fails on its absence and `explain_failure` names it (`runs[0].results[0].stacks[0].frames:
//! missing …`); enumerations, `anyOf`/`oneOf` and `minItems` are checked by small validating
//! types or in the normalise pass. Skipped content stays `IgnoredAny`: only its shape is looked at.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::catalog::{CheckType, Severity};

use super::error::{explain_with_path, IngestError};
use super::loose::{First, Loose, StrList, StrMap};
use super::mapping::{self, cwe_from_tag, parse_cwe, TagFacts, ToolProfile};
use super::model::{
    cut, truncate_chars, ExclusionCounts, Finding, Location, NormalisedScan, ToolRun,
    CWE_MAX_PER_FINDING, MESSAGE_MAX_CHARS, TOOL_MAX_CHARS, URI_MAX_CHARS,
};
use super::native::Signals;
use super::severity::{
    severity_from_label_value, severity_from_score_value, severity_from_text, Level,
};
use super::summary::{Candidate, ScanSummary, Summariser};
use super::work;
use rule_ids::RuleIds;

mod rule_ids;

/// The only SARIF version accepted.
pub const SARIF_VERSION: &str = "2.1.0";

// --- Typed, borrowing view of the parts of SARIF we read ------------------------------------

/// The log; `R` is how each run's `results` is read (see [`Run`]).
#[derive(Deserialize)]
#[serde(
    expecting = "a SARIF log (a JSON object with `version` and `runs`)",
    bound(deserialize = "R: Deserialize<'de>")
)]
struct Log<'a, R = Vec<RawResult<'a>>> {
    #[serde(borrow, default)]
    version: Option<Loose<'a>>,
    #[serde(borrow, default)]
    runs: Option<Vec<Run<'a, R>>>,
}

/// Just enough to tell "wrong version" from "broken run" when the full parse fails.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow, default)]
    version: Option<Loose<'a>>,
    #[serde(default)]
    runs: Option<IgnoredAny>,
}

/// A run. `R` is how its `results` is read: whole (`Vec<RawResult>`, the reference path) or
/// kept as its span of the input (`&RawValue`, the fast path), with the same properties and the
/// same checks either way.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "R: Deserialize<'de>"))]
struct Run<'a, R = Vec<RawResult<'a>>> {
    #[serde(borrow, default)]
    tool: Option<Tool<'a>>,
    #[serde(borrow, default)]
    invocations: Option<Vec<Invocation<'a>>>,
    #[serde(default)]
    results: Option<R>,
    #[serde(borrow, default)]
    artifacts: Option<Vec<Artifact<'a>>>,
    #[serde(borrow, default)]
    taxonomies: Option<Vec<Taxonomy<'a>>>,
    #[serde(borrow, default)]
    external_property_file_references: Option<ExternalRefs<'a>>,
}

/// The run's properties other than `results`: what its results are resolved against.
struct RunHead<'a> {
    tool: Option<Tool<'a>>,
    invocations: Option<Vec<Invocation<'a>>>,
    artifacts: Option<Vec<Artifact<'a>>>,
    taxonomies: Option<Vec<Taxonomy<'a>>>,
    external_property_file_references: Option<ExternalRefs<'a>>,
}

impl<'a, R> Run<'a, R> {
    #[inline]
    fn split(self) -> (RunHead<'a>, Option<R>) {
        let Run {
            tool,
            invocations,
            results,
            artifacts,
            taxonomies,
            external_property_file_references,
        } = self;
        let head = RunHead {
            tool,
            invocations,
            artifacts,
            taxonomies,
            external_property_file_references,
        };
        (head, results)
    }
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

/// `reportingDescriptor`: `id` is required.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
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

/// `reportingDescriptorRelationship`: `target` is required.
#[derive(Deserialize)]
struct Relationship<'a> {
    #[serde(borrow)]
    target: DescRef<'a>,
}

/// `reportingDescriptorReference`: at least one of `id`, `index`, `guid` (checked when read).
struct DescRef<'a> {
    id: Option<Cow<'a, str>>,
    index: Option<i64>,
    tool_component: Option<CompRef<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescRefFields<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    index: Option<Index>,
    #[serde(default)]
    guid: Option<AnyStr>,
    #[serde(borrow, default)]
    tool_component: Option<CompRef<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for DescRef<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Obj(r) = Obj::<DescRefFields<'a>>::deserialize(d)?;
        if r.id.is_none() && r.index.is_none() && r.guid.is_none() {
            return Err(de::Error::custom(
                "missing `id`, `index` and `guid`: SARIF 2.1.0 requires a reportingDescriptor \
                 reference to have at least one of them",
            ));
        }
        Ok(DescRef {
            id: r.id,
            index: r.index.map(|i| i.0),
            tool_component: r.tool_component,
        })
    }
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

/// `invocation`: `executionSuccessful` (a boolean) is required.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    #[serde(default)]
    tool_execution_notifications: Option<ErrorNotifications>,
    /// Not read: checked (each a `notification`) and dropped.
    #[serde(default)]
    #[allow(dead_code)]
    tool_configuration_notifications: Option<Each<Obj<Notification<'a>>>>,
    #[serde(borrow, default)]
    rule_configuration_overrides: Option<Vec<ConfigOverride<'a>>>,
}

/// `configurationOverride`: `descriptor` and `configuration` are required.
#[derive(Deserialize)]
struct ConfigOverride<'a> {
    #[serde(borrow)]
    descriptor: DescRef<'a>,
    #[serde(borrow)]
    configuration: Config<'a>,
}

/// `notification`: `message` is required; `level` is one of the four levels.
#[derive(Deserialize)]
struct Notification<'a> {
    #[serde(default)]
    level: Option<NoteLevel>,
    #[serde(borrow)]
    message: Message<'a>,
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
                while let Some(Obj(n)) = seq.next_element::<Obj<Notification<'de>>>()? {
                    if matches!(n.level, Some(NoteLevel(Level::Error))) {
                        out.errors += 1;
                        if out.first_error.is_none() {
                            out.first_error =
                                n.message.0.best().map(|t| truncate_chars(t.trim(), 200));
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

/// A taxonomy is a `toolComponent`: `name` is required.
#[derive(Deserialize)]
struct Taxonomy<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, default)]
    guid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    taxa: Option<Vec<Taxon<'a>>>,
}

/// A taxon is a `reportingDescriptor`: `id` is required.
#[derive(Deserialize)]
struct Taxon<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
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

/// `result`: `message` is required; `kind`, `level`, `baselineState` and suppressions are
/// checked in [`normalise_result`]; stacks, code flows, fixes, graphs and related locations are
/// checked for what the schema requires of them and dropped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResult<'a> {
    #[serde(borrow, default)]
    rule_id: Option<Cow<'a, str>>,
    #[serde(default)]
    rule_index: Option<Index>,
    #[serde(borrow, default)]
    rule: Option<DescRef<'a>>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    level: Option<Cow<'a, str>>,
    #[serde(borrow)]
    message: Message<'a>,
    #[serde(borrow, default)]
    locations: Locations<'a>,
    #[serde(default)]
    #[allow(dead_code)] // checked, not read
    related_locations: Option<Each<AnyObject>>,
    #[serde(default)]
    #[allow(dead_code)] // checked, not read
    stacks: Option<Each<Obj<Stack>>>,
    #[serde(default)]
    #[allow(dead_code)] // checked, not read
    code_flows: Option<Each<Obj<CodeFlow>>>,
    #[serde(default)]
    #[allow(dead_code)] // checked, not read
    fixes: Option<Each<Obj<Fix>>>,
    #[serde(default)]
    #[allow(dead_code)] // checked, not read
    graphs: Option<Each<Obj<Graph>>>,
    #[serde(default)]
    #[allow(dead_code)] // checked, not read
    graph_traversals: Option<Each<GraphTraversal>>,
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

/// `suppression`: `kind` is required (its value is checked in [`normalise_result`]).
#[derive(Deserialize)]
struct Suppression<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
}

// --- Schema requirements --------------------------------------------------------------------
//
// Validating types for what SARIF 2.1.0 requires of the objects above and of the parts of a
// result that are not read. Nothing here is kept: contents are `IgnoredAny`, so checking costs
// about what skipping did. A required property is a field without `default`: serde fails on
// its absence ("missing field `frames`"), and `explain_failure` turns that into the path of the
// property and "missing: …".

/// A JSON object read as `T` (a derived struct alone would also accept an array).
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Obj)
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// Any JSON object, skipped.
type AnyObject = Obj<IgnoredAny>;

/// An array whose items are each checked as `T` and dropped; `MIN` is the schema's `minItems`.
struct Each<T, const MIN: usize = 0>(PhantomData<T>);

impl<'de, T: Deserialize<'de>, const MIN: usize> Deserialize<'de> for Each<T, MIN> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const MIN: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const MIN: usize> Visitor<'de> for V<T, MIN> {
            type Value = Each<T, MIN>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut n = 0usize;
                while seq.next_element::<T>()?.is_some() {
                    n += 1;
                }
                if n < MIN {
                    return Err(de::Error::custom(if MIN == 1 {
                        "empty: SARIF 2.1.0 requires at least one item here".to_owned()
                    } else {
                        format!("empty: SARIF 2.1.0 requires at least {MIN} items here")
                    }));
                }
                Ok(Each(PhantomData))
            }
        }
        d.deserialize_seq(V::<T, MIN>(PhantomData))
    }
}

/// A string, not kept.
struct AnyStr;

impl<'de> Deserialize<'de> for AnyStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AnyStr;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<AnyStr, E> {
                Ok(AnyStr)
            }
        }
        d.deserialize_str(V)
    }
}

/// An index (`ruleIndex`, a reference's `index`): an integer ≥ -1, -1 meaning none.
#[derive(Clone, Copy)]
struct Index(i64);

impl<'de> Deserialize<'de> for Index {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let i = i64::deserialize(d)?;
        if i < -1 {
            return Err(de::Error::custom(format!(
                "invalid index {i}: SARIF 2.1.0 requires an integer ≥ -1"
            )));
        }
        Ok(Index(i))
    }
}

/// A `message` (of a result, a notification): SARIF 2.1.0 requires `text` or `id` (an id
/// refers to the rule's `messageStrings`; the finding then shows the rule's description).
struct Message<'a>(Msg<'a>);

#[derive(Deserialize)]
struct MessageFields<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    markdown: Option<Cow<'a, str>>,
    #[serde(default)]
    id: Option<AnyStr>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Message<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Obj(m) = Obj::<MessageFields<'a>>::deserialize(d)?;
        if m.text.is_none() && m.id.is_none() {
            return Err(de::Error::custom(
                "missing `text` and `id`: SARIF 2.1.0 requires a message to have `text` or `id`",
            ));
        }
        Ok(Message(Msg {
            text: m.text,
            markdown: m.markdown,
        }))
    }
}

/// A notification's `level`: one of the four levels (only `error` matters here).
struct NoteLevel(Level);

impl<'de> Deserialize<'de> for NoteLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NoteLevel;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a level (none, note, warning or error)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NoteLevel, E> {
                Level::parse(v).map(NoteLevel).ok_or_else(|| {
                    E::custom(format!(
                        "unknown level \"{}\" (SARIF 2.1.0: none, note, warning or error)",
                        truncate_chars(v, 40)
                    ))
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// `result.locations`: the first location is read, the others only checked to be objects.
#[derive(Default)]
struct Locations<'a>(First<SarifLocation<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Locations<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Locations<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let first = seq.next_element::<Obj<SarifLocation<'a>>>()?;
                while seq.next_element::<AnyObject>()?.is_some() {}
                Ok(Locations(First(first.map(|o| o.0))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Locations::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Locations::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_seq(self)
            }
        }
        d.deserialize_option(V(PhantomData))
    }
}

// The shapes below are only checked: their fields are never read.

/// `stack`: `frames` (an array of stackFrame objects) is required.
#[allow(dead_code)]
#[derive(Deserialize)]
struct Stack {
    frames: Each<AnyObject>,
}

/// `codeFlow`: `threadFlows` is required, with at least one item.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CodeFlow {
    thread_flows: Each<Obj<ThreadFlow>, 1>,
}

/// `threadFlow`: `locations` is required, with at least one item.
#[allow(dead_code)]
#[derive(Deserialize)]
struct ThreadFlow {
    locations: Each<AnyObject, 1>,
}

/// `fix`: `artifactChanges` is required, with at least one item.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fix {
    artifact_changes: Each<Obj<ArtifactChange>, 1>,
}

/// `artifactChange`: `artifactLocation` and `replacements` (at least one) are required.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: AnyObject,
    replacements: Each<Obj<Replacement>, 1>,
}

/// `replacement`: `deletedRegion` is required.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: AnyObject,
}

/// `graph`: its nodes and edges.
#[allow(dead_code)]
#[derive(Deserialize)]
struct Graph {
    #[serde(default)]
    nodes: Option<Each<Obj<Node>>>,
    #[serde(default)]
    edges: Option<Each<Obj<Edge>>>,
}

/// `node`: `id` is required.
#[allow(dead_code)]
#[derive(Deserialize)]
struct Node {
    id: AnyStr,
    #[serde(default)]
    children: Option<Each<Obj<Node>>>,
}

/// `edge`: `id`, `sourceNodeId` and `targetNodeId` are required.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Edge {
    id: AnyStr,
    source_node_id: AnyStr,
    target_node_id: AnyStr,
}

/// `graphTraversal`: exactly one of `runGraphIndex` and `resultGraphIndex`; each
/// `edgeTraversals` item needs `edgeId`.
struct GraphTraversal;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphTraversalFields {
    #[serde(default)]
    run_graph_index: Option<Index>,
    #[serde(default)]
    result_graph_index: Option<Index>,
    #[serde(default)]
    #[allow(dead_code)]
    edge_traversals: Option<Each<Obj<EdgeTraversal>>>,
}

/// `edgeTraversal`: `edgeId` is required.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EdgeTraversal {
    edge_id: AnyStr,
}

impl<'de> Deserialize<'de> for GraphTraversal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Obj(g) = Obj::<GraphTraversalFields>::deserialize(d)?;
        if g.run_graph_index.is_some() == g.result_graph_index.is_some() {
            return Err(de::Error::custom(
                "SARIF 2.1.0 requires a graph traversal to have exactly one of `runGraphIndex` \
                 and `resultGraphIndex`",
            ));
        }
        Ok(GraphTraversal)
    }
}

// --- Entry point ----------------------------------------------------------------------------

/// Parses a SARIF 2.1.0 log and normalises every result (see docs/ingestion.md for the rules).
pub fn parse_sarif(bytes: &[u8]) -> Result<NormalisedScan, IngestError> {
    let collect = ingest(bytes, Collect::default)?;
    Ok(collect.0)
}

/// [`parse_sarif`] then [`summarise`](super::summarise), in one pass that never holds the
/// report's findings: each counted finding goes into the summary as it is read, and is built
/// (message cut, fingerprint hashed) only when it may be kept as evidence. The summary is the
/// same as `summarise(&parse_sarif(bytes)?, signals)`, errors alike.
pub fn summarise_sarif(bytes: &[u8], signals: &Signals) -> Result<ScanSummary, IngestError> {
    let sink = ingest(bytes, SummarySink::default)?;
    let summary = sink.summariser.finish(&sink.runs, sink.excluded, signals);
    // Every test that summarises a log checks that both ways give the same summary.
    #[cfg(test)]
    assert_eq!(
        summary,
        super::summarise(&parse_sarif(bytes).expect("parsed once"), signals),
        "summarise_sarif and summarise(parse_sarif) differ"
    );
    Ok(summary)
}

/// Where normalised results go, in input order: each counted finding as it is read, then each
/// run once its results are done.
trait Sink {
    fn finding(&mut self, f: FindingRef<'_>);
    fn run(&mut self, run: ToolRun, excluded: &ExclusionCounts);
    fn tools(&self) -> &[ToolRun];
}

/// Collects the [`NormalisedScan`].
#[derive(Default)]
struct Collect(NormalisedScan);

impl Sink for Collect {
    fn finding(&mut self, f: FindingRef<'_>) {
        self.0.findings.push(f.into_finding());
    }
    fn run(&mut self, run: ToolRun, excluded: &ExclusionCounts) {
        self.0.excluded.add(excluded);
        self.0.tools.push(run);
    }
    fn tools(&self) -> &[ToolRun] {
        &self.0.tools
    }
}

/// Builds the summary as results are read.
#[derive(Default)]
struct SummarySink {
    summariser: Summariser,
    runs: Vec<ToolRun>,
    excluded: ExclusionCounts,
}

impl Sink for SummarySink {
    fn finding(&mut self, f: FindingRef<'_>) {
        self.summariser.add(&f);
    }
    fn run(&mut self, run: ToolRun, excluded: &ExclusionCounts) {
        self.excluded.add(excluded);
        self.runs.push(run);
    }
    fn tools(&self) -> &[ToolRun] {
        &self.runs
    }
}

/// Parses and normalises into a sink. The fast path reads each run's `results` as it goes,
/// without holding them (see [`stream`]); when it fails for any reason, the document is read
/// again by the reference path ([`reference`]: the whole typed log first, then every run),
/// which says what is wrong exactly as it always has — and whose result stands, should the
/// fast path have refused what it accepts.
fn ingest<S: Sink>(bytes: &[u8], new: impl Fn() -> S) -> Result<S, IngestError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some(sink) = stream(bytes, new()) {
        // Every test that parses a log checks that both paths agree on it.
        #[cfg(test)]
        assert_eq!(
            stream(bytes, Collect::default()).map(|c| c.0),
            reference(bytes, Collect::default()).ok().map(|c| c.0),
            "the fast and the reference paths differ"
        );
        return Ok(sink);
    }
    reference(bytes, new())
}

/// The reference path: the document as one typed log (results included), then each run
/// normalised in turn. Every error message and position comes from here.
fn reference<S: Sink>(bytes: &[u8], sink: S) -> Result<S, IngestError> {
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
    normalise_log(log, sink)
}

/// The fast path: the log with each run's `results` kept as its span of the input; once a
/// run's other properties are read (they may come after its results: semgrep writes `tool`
/// last), its results are read one at a time from that span and normalised straight into the
/// sink. The same types and checks as the reference path, so it accepts no document the
/// reference refuses and yields the same outcome; `None` on any failure (the reference path
/// then says what it is).
fn stream<S: Sink>(bytes: &[u8], sink: S) -> Option<S> {
    // Checked once here, strings need no check each (a document with invalid UTF-8 takes the
    // reference path, which decides whether that matters).
    let text = std::str::from_utf8(bytes).ok()?;
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let log: Log<&RawValue> = serde_json::from_str(text).ok()?;
    normalise_log(log, sink).ok()
}

/// What both paths do with the log once read: the header checked, then each run normalised
/// into the sink, its results read as `R` reads them.
fn normalise_log<R: RunResults, S: Sink>(log: Log<'_, R>, mut sink: S) -> Result<S, IngestError> {
    check_header(log.version.as_ref(), log.runs.as_ref().map(Vec::len))?;
    let runs = log.runs.unwrap_or_default();
    if runs.iter().all(|r| r.results.is_none()) {
        return Err(no_results());
    }
    for (i, run) in runs.into_iter().enumerate() {
        let (head, results) = run.split();
        let mut state = RunState::begin(i, head)?;
        state.results_present = results.is_some();
        if let Some(results) = results {
            results.normalise(ResultsInto {
                run: i,
                state: &mut state,
                sink: &mut sink,
            })?;
        }
        state.finish(&mut sink);
    }
    require_evidence(sink.tools())?;
    Ok(sink)
}

/// A run's `results` as read by one path, normalised into the sink in order.
trait RunResults {
    fn normalise<S: Sink>(self, into: ResultsInto<'_, '_, S>) -> Result<(), IngestError>;
}

/// The reference path: the results already read, whole.
impl RunResults for Vec<RawResult<'_>> {
    #[inline]
    fn normalise<S: Sink>(self, into: ResultsInto<'_, '_, S>) -> Result<(), IngestError> {
        for (j, result) in self.into_iter().enumerate() {
            into.state.result(into.run, j, &result, into.sink)?;
        }
        Ok(())
    }
}

/// The fast path: the results' span of the input, read one result at a time. Its error says
/// little: the fast path's errors are dropped, and the reference path says what is wrong.
impl RunResults for &RawValue {
    #[inline]
    fn normalise<S: Sink>(self, into: ResultsInto<'_, '_, S>) -> Result<(), IngestError> {
        let mut de = serde_json::Deserializer::from_str(self.get());
        de.deserialize_seq(into)
            .map_err(|e| IngestError::new("", e.to_string()))
    }
}

/// Where run `run`'s results go: normalised one at a time, as they are read (as a serde
/// visitor, straight from the input).
struct ResultsInto<'s, 'r, S> {
    run: usize,
    state: &'s mut RunState<'r>,
    sink: &'s mut S,
}

impl<'de, S: Sink> Visitor<'de> for ResultsInto<'_, '_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of results")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut j = 0;
        while let Some(result) = seq.next_element::<RawResult<'de>>()? {
            self.state
                .result(self.run, j, &result, self.sink)
                .map_err(|e| de::Error::custom(e.message))?;
            j += 1;
        }
        Ok(())
    }
}

fn no_results() -> IngestError {
    IngestError::new(
        "runs[0].results",
        "missing: no run of the log has a `results` array, so it records no completed \
         analysis (SARIF 2.1.0 §3.14.23: absent results mean the tool did not run)",
    )
}

/// A log whose runs neither failed, nor covered any check type, nor reported any result (an
/// unrecognised tool with nothing in it) is not evidence of anything: storing it would record a
/// scan that says nothing. Failed runs are evidence (of a failure) and are kept.
fn require_evidence(runs: &[ToolRun]) -> Result<(), IngestError> {
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
        Err(e) => schema_wording(e),
        Ok(_) => IngestError::from_json("", err),
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
struct RunState<'r> {
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
    results_present: bool,
}

impl<'r> RunState<'r> {
    /// Reads run `i`'s tool, rules, taxonomies, artifacts and invocations.
    fn begin(i: usize, run: RunHead<'r>) -> Result<Self, IngestError> {
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
    fn result<S: Sink>(
        &mut self,
        i: usize,
        j: usize,
        result: &RawResult,
        sink: &mut S,
    ) -> Result<(), IngestError> {
        let (check_type, outcome) =
            normalise_result(&self.ctx, result, || format!("runs[{i}].results[{j}]"))?;
        self.results += 1;
        self.covered.insert(check_type);
        match outcome {
            Outcome::Counted(f) => {
                self.counted += 1;
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
    fn finish<S: Sink>(self, sink: &mut S) {
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
const SUPPRESSION_KINDS: &[&str] = &["inSource", "external"];

fn normalise_result<'x>(
    ctx: &'x RunCtx,
    r: &'x RawResult<'x>,
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
    let mut suppressed = false;
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

    Ok((
        check_type,
        Outcome::Counted(FindingRef {
            check_type,
            severity,
            rule_id,
            tool: &ctx.tool,
            cwe: cwes,
            message,
            uri,
            start_line,
            result: r,
        }),
    ))
}

/// A counted finding as read, borrowing from the result and its run: what the summary
/// counts; the [`Finding`] (texts cut, fingerprint hashed) is built only when asked for.
struct FindingRef<'x> {
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

    fn into_finding(self) -> Finding {
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
    fn to_finding(&self) -> Finding {
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

#[cfg(test)]
mod tests;
#[cfg(test)]
mod work_tests;
