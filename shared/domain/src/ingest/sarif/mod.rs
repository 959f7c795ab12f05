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
//! [`Finding`](super::Finding) only for the few that may be kept as evidence. When that fast
//! path fails for any reason, the reference path (the whole typed log, then each run) reads the
//! document again and says what is wrong; only then is it parsed a third time with path
//! tracking, to say where.
//!
//! What SARIF 2.1.0 requires of the objects read or skipped here is enforced in the same pass
//! (see "Schema requirements" in `wire`): a required property is a non-`Option` field, so serde
//! fails on its absence and `explain_failure` names it (`runs[0].results[0].stacks[0].frames:
//! missing …`); enumerations, `anyOf`/`oneOf` and `minItems` are checked by small validating
//! types or in the normalise pass. Skipped content stays `IgnoredAny`: only its shape is looked at.
//!
//! Where things are:
//! - `wire`: the typed, borrowing serde model of SARIF 2.1.0 as read here, with the validating
//!   types that check what the schema requires while it is read.
//! - `checks`: the rest of what SARIF 2.1.0 requires (the header, the enumerations, a log that
//!   is evidence of something) and how a failed parse is explained.
//! - `normalise`: per run and per result: what a run's results are resolved against, and each
//!   result normalised into a `Sink`.
//! - `rule_ids`: rule ids as results refer to them (exactly or hierarchically).
//! - `input`: the document as the reference path and the failure explanations read it, from a
//!   slice or reopened from its source.
//! - `stream`: [`summarise_sarif_stream`], the same outcome for a report read from a
//!   [`ReportSource`] in bounded memory (two passes), and `scan`, which finds each run's
//!   results in such a report so that they are read one at a time.
//! - Here: the entry points, the two sinks, and the two read paths (the fast path and the
//!   reference path) that read the log and hand its runs to `normalise`.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::IngestError;
use super::model::{
    truncate_chars, ExclusionCounts, FindingKeys, NormalisedScan, SuppressionPolicy,
    SuppressionRequest, Suppressions, ToolRun, SUPPRESSIONS_MAX,
};
use super::native::Signals;
use super::summary::{ScanSummary, Summariser};
use checks::{check_header, check_object, explain_failure, no_results, require_evidence};
use input::Input;
use normalise::{FindingRef, RunState, Sink, SuppressionText};
use wire::{Log, RawResult, Run, RunHead};

pub use stream::{
    summarise_sarif_stream, summarise_sarif_stream_for, ReportSource, StreamError, Summarised,
};

mod checks;
mod input;
mod normalise;
mod rule_ids;
mod scan;
mod stream;
mod wire;

/// The only SARIF version accepted.
pub const SARIF_VERSION: &str = "2.1.0";

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
    summarise_sarif_keyed(bytes, signals).map(|(summary, _)| summary)
}

/// [`summarise_sarif`], with the keys of the counted findings (the first
/// [`FINDING_KEYS_MAX`](crate::ingest::FINDING_KEYS_MAX)) that exceptions are matched on.
pub fn summarise_sarif_keyed(
    bytes: &[u8],
    signals: &Signals,
) -> Result<(ScanSummary, FindingKeys), IngestError> {
    let Ingested { summary, keys, .. } =
        summarise_sarif_for(bytes, signals, SuppressionPolicy::Honour)?;
    // Every test that summarises a log checks that both ways give the same summary.
    #[cfg(test)]
    assert_eq!(
        summary,
        super::summarise(&parse_sarif(bytes).expect("parsed once"), signals),
        "summarise_sarif and summarise(parse_sarif) differ"
    );
    #[cfg(test)]
    assert_eq!(
        keys,
        FindingKeys::of_scan(&parse_sarif(bytes).expect("parsed once")),
        "the keys read in one pass and those of the parsed findings differ"
    );
    Ok((summary, keys))
}

/// [`summarise_sarif_keyed`] under the org's suppression `policy`: with `require_approval`,
/// suppressed results count and their suppressions are reported.
pub fn summarise_sarif_for(
    bytes: &[u8],
    signals: &Signals,
    policy: SuppressionPolicy,
) -> Result<Ingested, IngestError> {
    Ok(ingest(bytes, || SummarySink::with(policy))?.finish(signals))
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
    policy: SuppressionPolicy,
    suppressions: Suppressions,
}

impl SummarySink {
    fn with(policy: SuppressionPolicy) -> Self {
        SummarySink {
            policy,
            ..SummarySink::default()
        }
    }

    fn finish(self, signals: &Signals) -> Ingested {
        let (summary, keys) = self
            .summariser
            .finish_keyed(&self.runs, self.excluded, signals);
        Ingested {
            summary,
            keys,
            suppressions: self.suppressions,
        }
    }
}

/// A report read into its summary, the keys of its counted findings, and (under
/// `require_approval`) the suppressions that await approval.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub summary: ScanSummary,
    pub keys: FindingKeys,
    pub suppressions: Suppressions,
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
    fn policy(&self) -> SuppressionPolicy {
        self.policy
    }
    fn suppression(&mut self, f: &FindingRef<'_>, s: &SuppressionText<'_>) {
        let found = &mut self.suppressions;
        if found.found.len() == SUPPRESSIONS_MAX {
            found.omitted += 1;
            return;
        }
        let key = f.finding_key();
        if found
            .found
            .iter()
            .any(|r| r.key.fingerprint == key.fingerprint)
        {
            return;
        }
        found.found.push(SuppressionRequest {
            tool: f.tool().to_string(),
            kind: s.kind.to_string(),
            justification: s
                .justification
                .map(|j| truncate_chars(j, JUSTIFICATION_MAX_CHARS)),
            key,
        });
    }
}

/// Longest suppression justification kept, in characters.
const JUSTIFICATION_MAX_CHARS: usize = 1_000;

/// Parses and normalises into a sink. The fast path reads each run's `results` as it goes,
/// without holding them (see [`fast`]); when it fails for any reason, the document is read
/// again by the reference path ([`reference`]: the whole typed log first, then every run),
/// which says what is wrong exactly as it always has — and whose result stands, should the
/// fast path have refused what it accepts.
fn ingest<S: Sink>(bytes: &[u8], new: impl Fn() -> S) -> Result<S, IngestError> {
    // Every test that parses a log checks that reading it from a stream gives the same outcome.
    #[cfg(test)]
    stream::assert_same_as_slice(bytes);
    ingest_slice(bytes, new)
}

/// [`ingest`] itself: the fast path, then the reference path if it fails.
fn ingest_slice<S: Sink>(bytes: &[u8], new: impl Fn() -> S) -> Result<S, IngestError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some(sink) = fast(bytes, new()) {
        // Every test that parses a log checks that both paths agree on it.
        #[cfg(test)]
        assert_eq!(
            fast(bytes, Collect::default()).map(|c| c.0),
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
    let log: Log = read_whole(bytes)?;
    normalise_log(log, sink)
}

/// The whole document as one typed log, each run's results read as `R`; on failure, what is
/// wrong and where (the reference path's errors, also those of a report read from a stream).
fn read_whole<'s, I, R>(input: &'s I) -> Result<Log<'s, R>, IngestError>
where
    I: Input + ?Sized,
    R: Deserialize<'s>,
{
    check_object(input)?;
    input.parse().map_err(|e| explain_failure(input, &e))
}

/// The fast path: the log with each run's `results` kept as its span of the input; once a
/// run's other properties are read (they may come after its results: semgrep writes `tool`
/// last), its results are read one at a time from that span and normalised straight into the
/// sink. The same types and checks as the reference path, so it accepts no document the
/// reference refuses and yields the same outcome; `None` on any failure (the reference path
/// then says what it is).
fn fast<S: Sink>(bytes: &[u8], sink: S) -> Option<S> {
    // Checked once here, strings need no check each (a document with invalid UTF-8 takes the
    // reference path, which decides whether that matters).
    let text = std::str::from_utf8(bytes).ok()?;
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let log: Log<&RawValue> = serde_json::from_str(text).ok()?;
    normalise_log(log, sink).ok()
}

/// What every path does with the log once read: the header checked, then each run normalised
/// into the sink, its results read as `R` reads them.
fn normalise_log<R: RunResults, S: Sink>(log: Log<'_, R>, mut sink: S) -> Result<S, IngestError> {
    for (i, run) in runs_of(log)?.into_iter().enumerate() {
        let (head, results) = run.split();
        let mut state = begin_run(i, head, results.is_some())?;
        if let Some(results) = results {
            results.normalise(i, &mut state, &mut sink)?;
        }
        state.finish(&mut sink);
    }
    require_evidence(sink.tools())?;
    Ok(sink)
}

/// The log's runs, once its header says it is a SARIF 2.1.0 log that records results.
fn runs_of<R>(log: Log<'_, R>) -> Result<Vec<Run<'_, R>>, IngestError> {
    check_header(log.version.as_ref(), log.runs.as_ref().map(Vec::len))?;
    let runs = log.runs.unwrap_or_default();
    if runs.iter().all(|r| r.results.is_none()) {
        return Err(no_results());
    }
    Ok(runs)
}

/// Run `i`'s context, from its properties other than `results`.
fn begin_run(i: usize, head: RunHead<'_>, has_results: bool) -> Result<RunState<'_>, IngestError> {
    let mut state = RunState::begin(i, head)?;
    state.results_present = has_results;
    Ok(state)
}

/// A run's `results` as read by one path, normalised into the sink in order.
trait RunResults {
    fn normalise<S: Sink>(
        self,
        run: usize,
        state: &mut RunState<'_>,
        sink: &mut S,
    ) -> Result<(), IngestError>;
}

/// The reference path: the results already read, whole.
impl RunResults for Vec<RawResult<'_>> {
    #[inline]
    fn normalise<S: Sink>(
        self,
        run: usize,
        state: &mut RunState<'_>,
        sink: &mut S,
    ) -> Result<(), IngestError> {
        for (j, result) in self.into_iter().enumerate() {
            state.result(run, j, &result, sink)?;
        }
        Ok(())
    }
}

/// The fast path: the results' span of the input, read one result at a time. Its error says
/// little: the fast path's errors are dropped, and the reference path says what is wrong.
impl RunResults for &RawValue {
    #[inline]
    fn normalise<S: Sink>(
        self,
        run: usize,
        state: &mut RunState<'_>,
        sink: &mut S,
    ) -> Result<(), IngestError> {
        let mut de = serde_json::Deserializer::from_str(self.get());
        de.deserialize_seq(ResultsInto { run, state, sink })
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

#[cfg(test)]
mod stream_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod work_tests;
