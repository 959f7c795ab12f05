//! The wire model: SARIF 2.1.0 as read here, as typed, borrowing serde structs (only the
//! properties used are materialised), and the validating types that enforce what the schema
//! requires of the objects read or skipped.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::ingest::loose::{First, Loose, StrList, StrMap};
use crate::ingest::model::truncate_chars;
use crate::ingest::severity::Level;

// --- Typed, borrowing view of the parts of SARIF we read ------------------------------------

/// The log; `R` is how each run's `results` is read (see [`Run`]).
#[derive(Deserialize)]
#[serde(
    expecting = "a SARIF log (a JSON object with `version` and `runs`)",
    bound(deserialize = "R: Deserialize<'de>")
)]
pub(super) struct Log<'a, R = Vec<RawResult<'a>>> {
    #[serde(borrow, default)]
    pub(super) version: Option<Loose<'a>>,
    #[serde(borrow, default)]
    pub(super) runs: Option<Vec<Run<'a, R>>>,
}

/// Just enough to tell "wrong version" from "broken run" when the full parse fails.
#[derive(Deserialize)]
pub(super) struct Header<'a> {
    #[serde(borrow, default)]
    pub(super) version: Option<Loose<'a>>,
    #[serde(default)]
    pub(super) runs: Option<IgnoredAny>,
}

/// A run. `R` is how its `results` is read: whole (`Vec<RawResult>`, the reference path) or
/// kept as its span of the input (`&RawValue`, the fast path), with the same properties and the
/// same checks either way.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "R: Deserialize<'de>"))]
pub(super) struct Run<'a, R = Vec<RawResult<'a>>> {
    #[serde(borrow, default)]
    tool: Option<Tool<'a>>,
    #[serde(borrow, default)]
    invocations: Option<Vec<Invocation<'a>>>,
    #[serde(default)]
    pub(super) results: Option<R>,
    #[serde(borrow, default)]
    artifacts: Option<Vec<Artifact<'a>>>,
    #[serde(borrow, default)]
    taxonomies: Option<Vec<Taxonomy<'a>>>,
    #[serde(borrow, default)]
    external_property_file_references: Option<ExternalRefs<'a>>,
}

/// The run's properties other than `results`: what its results are resolved against.
pub(super) struct RunHead<'a> {
    pub(super) tool: Option<Tool<'a>>,
    pub(super) invocations: Option<Vec<Invocation<'a>>>,
    pub(super) artifacts: Option<Vec<Artifact<'a>>>,
    pub(super) taxonomies: Option<Vec<Taxonomy<'a>>>,
    pub(super) external_property_file_references: Option<ExternalRefs<'a>>,
}

impl<'a, R> Log<'a, R> {
    /// The same log, each run's `results` (when present) read as `f` makes them.
    pub(super) fn map_results<T>(self, mut f: impl FnMut(R) -> T) -> Log<'a, T> {
        let runs = self.runs.map(|runs| {
            runs.into_iter()
                .map(|run| Run {
                    tool: run.tool,
                    invocations: run.invocations,
                    results: run.results.map(&mut f),
                    artifacts: run.artifacts,
                    taxonomies: run.taxonomies,
                    external_property_file_references: run.external_property_file_references,
                })
                .collect()
        });
        Log {
            version: self.version,
            runs,
        }
    }
}

impl<'a, R> Run<'a, R> {
    #[inline]
    pub(super) fn split(self) -> (RunHead<'a>, Option<R>) {
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
pub(super) struct Tool<'a> {
    #[serde(borrow, default)]
    pub(super) driver: Option<Component<'a>>,
    #[serde(borrow, default)]
    pub(super) extensions: Option<Vec<Component<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Component<'a> {
    #[serde(borrow, default)]
    pub(super) name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) semantic_version: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) rules: Option<Vec<RawRule<'a>>>,
}

/// `reportingDescriptor`: `id` is required.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawRule<'a> {
    #[serde(borrow)]
    pub(super) id: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) short_description: Option<Msg<'a>>,
    #[serde(borrow, default)]
    pub(super) default_configuration: Option<Config<'a>>,
    #[serde(borrow, default)]
    pub(super) properties: Option<Props<'a>>,
    #[serde(borrow, default)]
    pub(super) relationships: Option<Vec<Relationship<'a>>>,
}

#[derive(Deserialize)]
pub(super) struct Config<'a> {
    #[serde(borrow, default)]
    pub(super) level: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) enabled: Option<bool>,
}

#[derive(Deserialize)]
pub(super) struct Msg<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    markdown: Option<Cow<'a, str>>,
}

impl Msg<'_> {
    pub(super) fn best(&self) -> Option<&str> {
        self.text
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| self.markdown.as_deref().filter(|t| !t.trim().is_empty()))
    }
}

/// The property-bag keys that carry severity, tags or CWE ids; all others are skipped.
#[derive(Deserialize, Default)]
pub(super) struct Props<'a> {
    #[serde(borrow, default, rename = "security-severity")]
    pub(super) security_severity: Option<Loose<'a>>,
    #[serde(borrow, default)]
    pub(super) tags: Option<StrList<'a>>,
    #[serde(borrow, default)]
    pub(super) cwe: Option<StrList<'a>>,
    #[serde(borrow, default, rename = "CWE")]
    pub(super) cwe_upper: Option<StrList<'a>>,
    #[serde(borrow, default)]
    pub(super) issue_severity: Option<Loose<'a>>,
    #[serde(borrow, default)]
    pub(super) severity: Option<Loose<'a>>,
    #[serde(borrow, default, rename = "cvssv3_baseScore")]
    pub(super) cvssv3_base_score: Option<Loose<'a>>,
    #[serde(borrow, default, rename = "cvss3BaseScore")]
    pub(super) cvss3_base_score: Option<Loose<'a>>,
}

/// `reportingDescriptorRelationship`: `target` is required.
#[derive(Deserialize)]
pub(super) struct Relationship<'a> {
    #[serde(borrow)]
    pub(super) target: DescRef<'a>,
}

/// `reportingDescriptorReference`: at least one of `id`, `index`, `guid` (checked when read).
pub(super) struct DescRef<'a> {
    pub(super) id: Option<Cow<'a, str>>,
    pub(super) index: Option<i64>,
    pub(super) tool_component: Option<CompRef<'a>>,
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
pub(super) struct CompRef<'a> {
    #[serde(borrow, default)]
    pub(super) name: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) index: Option<i64>,
    #[serde(borrow, default)]
    pub(super) guid: Option<Cow<'a, str>>,
}

/// `invocation`: `executionSuccessful` (a boolean) is required.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Invocation<'a> {
    pub(super) execution_successful: bool,
    #[serde(default)]
    pub(super) tool_execution_notifications: Option<ErrorNotifications>,
    /// Not read: checked (each a `notification`) and dropped.
    #[serde(default)]
    #[allow(dead_code)]
    tool_configuration_notifications: Option<Each<Obj<Notification<'a>>>>,
    #[serde(borrow, default)]
    pub(super) rule_configuration_overrides: Option<Vec<ConfigOverride<'a>>>,
}

/// `configurationOverride`: `descriptor` and `configuration` are required.
#[derive(Deserialize)]
pub(super) struct ConfigOverride<'a> {
    #[serde(borrow)]
    pub(super) descriptor: DescRef<'a>,
    #[serde(borrow)]
    pub(super) configuration: Config<'a>,
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
pub(super) struct ErrorNotifications {
    pub(super) errors: usize,
    pub(super) first_error: Option<String>,
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
pub(super) struct Artifact<'a> {
    #[serde(borrow, default)]
    pub(super) location: Option<ArtifactLocation<'a>>,
}

#[derive(Deserialize)]
pub(super) struct ArtifactLocation<'a> {
    #[serde(borrow, default)]
    pub(super) uri: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) index: Option<i64>,
}

/// A taxonomy is a `toolComponent`: `name` is required.
#[derive(Deserialize)]
pub(super) struct Taxonomy<'a> {
    #[serde(borrow)]
    pub(super) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) guid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) taxa: Option<Vec<Taxon<'a>>>,
}

/// A taxon is a `reportingDescriptor`: `id` is required.
#[derive(Deserialize)]
pub(super) struct Taxon<'a> {
    #[serde(borrow)]
    pub(super) id: Cow<'a, str>,
}

#[derive(Deserialize)]
pub(super) struct ExternalRefs<'a> {
    #[serde(borrow, default)]
    pub(super) taxonomies: Option<Vec<ExternalRef<'a>>>,
}

#[derive(Deserialize)]
pub(super) struct ExternalRef<'a> {
    #[serde(borrow, default)]
    pub(super) guid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) location: Option<ArtifactLocation<'a>>,
}

/// `result`: `message` is required; `kind`, `level`, `baselineState` and suppressions are
/// checked in [`normalise_result`]; stacks, code flows, fixes, graphs and related locations are
/// checked for what the schema requires of them and dropped.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawResult<'a> {
    #[serde(borrow, default)]
    pub(super) rule_id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) rule_index: Option<Index>,
    #[serde(borrow, default)]
    pub(super) rule: Option<DescRef<'a>>,
    #[serde(borrow, default)]
    pub(super) kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) level: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) message: Message<'a>,
    #[serde(borrow, default)]
    pub(super) locations: Locations<'a>,
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
    pub(super) analysis_target: Option<ArtifactLocation<'a>>,
    #[serde(borrow, default)]
    pub(super) suppressions: Option<Vec<Suppression<'a>>>,
    #[serde(borrow, default)]
    pub(super) baseline_state: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) fingerprints: Option<StrMap<'a>>,
    #[serde(borrow, default)]
    pub(super) partial_fingerprints: Option<StrMap<'a>>,
    #[serde(borrow, default)]
    pub(super) properties: Option<Props<'a>>,
    #[serde(borrow, default)]
    pub(super) taxa: Option<Vec<DescRef<'a>>>,
}

/// A run's `results` checked as the reference path reads them (`Vec<RawResult>`: the same
/// checks, the same errors, "a sequence" included) but dropped one by one, so that a report read
/// from a stream is explained without holding its results.
pub(super) struct CheckedResults;

impl<'de> Deserialize<'de> for CheckedResults {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CheckedResults;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<RawResult<'de>>()?.is_some() {}
                Ok(CheckedResults)
            }
        }
        d.deserialize_seq(V)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SarifLocation<'a> {
    #[serde(borrow, default)]
    pub(super) physical_location: Option<PhysicalLocation<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PhysicalLocation<'a> {
    #[serde(borrow, default)]
    pub(super) artifact_location: Option<ArtifactLocation<'a>>,
    #[serde(default)]
    pub(super) region: Option<Region>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Region {
    #[serde(default)]
    pub(super) start_line: Option<i64>,
}

/// `suppression`: `kind` is required (its value is checked in [`normalise_result`]).
#[derive(Deserialize)]
pub(super) struct Suppression<'a> {
    #[serde(borrow)]
    pub(super) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) justification: Option<Cow<'a, str>>,
}

// --- Schema requirements --------------------------------------------------------------------
//
// Validating types for what SARIF 2.1.0 requires of the objects above and of the parts of a
// result that are not read. Nothing here is kept: contents are `IgnoredAny`, so checking costs
// about what skipping did. A required property is a field without `default`: serde fails on
// its absence ("missing field `frames`"), and `explain_failure` turns that into the path of the
// property and "missing: …".

/// A JSON object read as `T` (a derived struct alone would also accept an array).
pub(super) struct Obj<T>(pub(super) T);

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
pub(super) struct Index(pub(super) i64);

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
pub(super) struct Message<'a>(pub(super) Msg<'a>);

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
pub(super) struct Locations<'a>(pub(super) First<SarifLocation<'a>>);

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
