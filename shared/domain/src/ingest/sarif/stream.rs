//! A SARIF report read from a stream ([`ReportSource`]: a file on disk, an object downloaded to
//! a temp file) in memory bounded by what is kept of it, never by its size, with the SHA-256 of
//! its bytes computed as it is read. The outcome is [`summarise_sarif`](super::summarise_sarif)'s
//! on the same bytes, errors included.
//!
//! Why two passes: a run's results can only be normalised once the run's other properties
//! (tool and rules, invocations, artifacts, taxonomies) are known, and those may come after the
//! results: semgrep writes `tool` last, and serde_json writes keys sorted (`results` before
//! `tool`). The slice path keeps the results' span of the input until the run is read; a stream
//! cannot without holding them. So pass 1 reads every run's other properties (results skipped,
//! not kept) and hashes the bytes; pass 2 reads the report again, only its results, each
//! normalised against its run's properties from pass 1 as it is read. Spooling the results to
//! a temp file instead would write most of the report to disk again and read it back — more
//! work than reading the source a second time — and need as much free disk as the report.
//! Between the passes, what is held is what the slice path holds too: each run's properties as
//! the wire types reduce them (rules, taxonomies, artifact URIs).
//!
//! When a pass fails, the failure is explained as the reference path explains it, by reading
//! the source again: the document checked whole, each result checked and dropped
//! (`CheckedResults`), then with path tracking to say where (`checks::explain_failure`).

use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Chain, Cursor, Read};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::input::Input;
use super::wire::{CheckedResults, Log, Obj, RunHead};
use super::{
    begin_run, read_results, read_whole, require_evidence, runs_of, RunState, Sink, SummarySink,
};
use crate::ingest::error::{explain_with_path_in, IngestError};
use crate::ingest::native::Signals;
use crate::ingest::summary::ScanSummary;

/// A report that can be read from its start more than once: each pass opens it again. It must
/// not change while it is read (the hash is of the bytes the first pass read).
pub trait ReportSource {
    /// The report's bytes from the start, once more.
    fn open(&self) -> io::Result<Box<dyn Read + '_>>;
}

/// A file on disk: opened for each pass (reads are buffered here, not by the file).
impl ReportSource for Path {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(File::open(self)?))
    }
}

impl ReportSource for PathBuf {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        self.as_path().open()
    }
}

/// A report already in memory (tests, small bodies).
impl ReportSource for [u8] {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(self))
    }
}

/// What [`summarise_sarif_stream`] returns for a valid report.
#[derive(Debug, Clone, PartialEq)]
pub struct Summarised {
    pub summary: ScanSummary,
    /// SHA-256 of the report's bytes (all of them, a byte-order mark included), lower-case hex:
    /// the scan's deduplication key.
    pub sha256: String,
}

/// Why a report read from a stream was not summarised: the report is invalid (the same
/// [`IngestError`] as [`summarise_sarif`](super::summarise_sarif) on its bytes), or it could
/// not be read (the source's own error, whatever was read before it).
#[derive(Debug)]
pub enum StreamError {
    Invalid(IngestError),
    Read(io::Error),
}

impl From<IngestError> for StreamError {
    fn from(e: IngestError) -> Self {
        StreamError::Invalid(e)
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::Invalid(e) => e.fmt(f),
            StreamError::Read(e) => write!(f, "reading the report: {e}"),
        }
    }
}

impl std::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StreamError::Invalid(e) => Some(e),
            StreamError::Read(e) => Some(e),
        }
    }
}

/// [`summarise_sarif`](super::summarise_sarif) of a report read from `source` (twice, see the
/// module's comment), with the SHA-256 of its bytes, in memory bounded by the summary and the
/// runs' rules, whatever the report's size.
pub fn summarise_sarif_stream<Src: ReportSource + ?Sized>(
    source: &Src,
    signals: &Signals,
) -> Result<Summarised, StreamError> {
    let (sink, sha256) = ingest_stream(source, SummarySink::default())?;
    Ok(Summarised {
        summary: sink.finish(signals),
        sha256,
    })
}

/// Normalises the report into the sink; the sink and the hex SHA-256 of the report's bytes.
pub(super) fn ingest_stream<Src: ReportSource + ?Sized, S: Sink>(
    source: &Src,
    sink: S,
) -> Result<(S, String), StreamError> {
    let input = Reopened {
        source,
        io_error: RefCell::new(None),
    };
    let stopped = match two_passes(&input, sink) {
        Ok(done) => return Ok(done),
        Err(stopped) => stopped,
    };
    if let Some(e) = input.io_error.take() {
        return Err(StreamError::Read(e));
    }
    let explained = explain(&input, stopped);
    match input.io_error.take() {
        Some(e) => Err(StreamError::Read(e)),
        None => Err(StreamError::Invalid(explained)),
    }
}

/// Why the passes stopped.
enum Stopped {
    /// The JSON did not read as the wire types (explained by re-reading).
    Json(serde_json::Error),
    /// What normalising said, once the JSON had read fine up to there.
    Normalised(IngestError),
}

impl From<serde_json::Error> for Stopped {
    fn from(e: serde_json::Error) -> Self {
        Stopped::Json(e)
    }
}

impl From<IngestError> for Stopped {
    fn from(e: IngestError) -> Self {
        Stopped::Normalised(e)
    }
}

/// The report normalised into the sink in two passes (see the module's comment), and the hex
/// SHA-256 of its bytes; on failure, what stopped them (explained by [`explain`]).
fn two_passes<Src: ReportSource + ?Sized, S: Sink>(
    input: &Reopened<'_, Src>,
    mut sink: S,
) -> Result<(S, String), Stopped> {
    // Pass 1: the log with its runs' results skipped (`Obj`: a JSON object, as the reference
    // path requires, where a derived struct would also read an array).
    let (Obj(log), sha) = input.pass(true, PhantomData::<Obj<Log<'static, IgnoredAny>>>)?;
    let heads: Vec<(RunHead<'static>, bool)> = runs_of(log)?
        .into_iter()
        .map(|run| {
            let (head, results) = run.split();
            (head, results.is_some())
        })
        .collect();

    // Pass 2: each run's results, normalised as they are read.
    let mut failed = None;
    let results = ResultsPass {
        heads: heads.into_iter(),
        next: 0,
        sink: &mut sink,
        failed: &mut failed,
    };
    if let Err(e) = input.pass(false, results) {
        return Err(failed.map_or(Stopped::Json(e), Stopped::Normalised));
    }
    require_evidence(sink.tools())?;
    let sha = sha.expect("pass 1 hashes");
    Ok((sink, hex::encode(sha.finalize())))
}

/// What the reference path says of a report the passes stopped on. It first reads the
/// document whole, so a JSON error anywhere wins over a normalisation error met earlier; if the
/// document reads, the normalisation error stands (the passes normalise in the reference's
/// order: header, then each run's properties and results, then the evidence check).
fn explain<Src: ReportSource + ?Sized>(input: &Reopened<'_, Src>, stopped: Stopped) -> IngestError {
    match read_whole::<_, CheckedResults>(input) {
        Err(e) => input.as_in_slice(e),
        Ok(_) => match stopped {
            Stopped::Normalised(e) => e,
            // Not expected: the passes read nothing the whole read does not.
            Stopped::Json(e) => input.as_in_slice(IngestError::from_json("", &e)),
        },
    }
}

// --- Reading the source ---------------------------------------------------------------------

/// Read buffer of a pass: large enough that the source sees few reads.
const BUFFER: usize = 256 * 1024;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The source, read from its start by each pass. The first I/O error of any pass is kept: the
/// outcome is then that error, whatever the JSON read so far looked like.
struct Reopened<'s, Src: ?Sized> {
    source: &'s Src,
    io_error: RefCell<Option<io::Error>>,
}

/// The report's bytes as one pass reads them: a byte-order mark dropped (`Cursor`: the first
/// bytes, given back when they are not one), buffered for serde_json (which reads a byte at a
/// time).
type PassReader<'a> = BufReader<Chain<Cursor<Vec<u8>>, Tap<'a>>>;

/// The source's reads: hashed when asked, an I/O error recorded. (Both are kept outside the
/// reader, which serde_json owns: it reads a `BufReader` it owns a byte at a time fastest.)
struct Tap<'a> {
    inner: Box<dyn Read + 'a>,
    sha: Option<&'a RefCell<Sha256>>,
    io_error: &'a RefCell<Option<io::Error>>,
}

impl Read for Tap<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                if let Some(sha) = self.sha {
                    sha.borrow_mut().update(&buf[..n]);
                }
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    let mut kept = self.io_error.borrow_mut();
                    kept.get_or_insert_with(|| io::Error::new(e.kind(), e.to_string()));
                }
                Err(e)
            }
        }
    }
}

impl<Src: ReportSource + ?Sized> Reopened<'_, Src> {
    fn open<'a>(
        &'a self,
        sha: Option<&'a RefCell<Sha256>>,
    ) -> Result<PassReader<'a>, serde_json::Error> {
        let inner = self.source.open().map_err(|e| {
            let mut kept = self.io_error.borrow_mut();
            kept.get_or_insert_with(|| io::Error::new(e.kind(), e.to_string()));
            serde_json::Error::io(e)
        })?;
        let mut tap = Tap {
            inner,
            sha,
            io_error: &self.io_error,
        };
        let mut first = Vec::with_capacity(BOM.len());
        (&mut tap)
            .take(BOM.len() as u64)
            .read_to_end(&mut first)
            .map_err(serde_json::Error::io)?;
        if first == BOM {
            first.clear();
        }
        Ok(BufReader::with_capacity(
            BUFFER,
            Cursor::new(first).chain(tap),
        ))
    }

    /// One pass: the report read by `seed` from its start, then checked to end there (as
    /// `serde_json::from_slice`), and the hash of all its bytes when asked.
    fn pass<'de, T: DeserializeSeed<'de>>(
        &self,
        hash: bool,
        seed: T,
    ) -> Result<(T::Value, Option<Sha256>), serde_json::Error> {
        let sha = hash.then(|| RefCell::new(Sha256::new()));
        let mut de = serde_json::Deserializer::from_reader(self.open(sha.as_ref())?);
        let value = seed.deserialize(&mut de)?;
        // Only the end of the input passes: every byte has been read, and hashed.
        de.end()?;
        drop(de);
        Ok((value, sha.map(RefCell::into_inner)))
    }
}

impl<Src: ReportSource + ?Sized> Reopened<'_, Src> {
    /// The error as the slice path words it: serde_json places an error at the end of what it
    /// has taken from its input, and from a reader that includes a byte it only peeked at,
    /// which from a slice it does not. Which byte was only peeked at follows from how serde_json
    /// reads (`Placed::peeked`); the position is moved back over it, and the message is then
    /// the slice's word for word.
    fn as_in_slice(&self, mut e: IngestError) -> IngestError {
        let Some(at) = Placed::parse(&e.message) else {
            return e;
        };
        let Some((line, column)) = self.slice_position(&at) else {
            return e;
        };
        e.message = match at.syntax {
            false => format!("{} at line {line} column {column}", at.text),
            true => format!("{} (line {line}, column {column})", at.text),
        };
        e
    }

    /// `at`'s position as the slice path places it, if not where the reader did; found by
    /// reading the source again to there, a byte at a time, holding nothing. Positions are
    /// serde_json's: lines from 1, columns in bytes from 0 (a newline starts column 0).
    fn slice_position(&self, at: &Placed<'_>) -> Option<(usize, usize)> {
        let target = (at.line, at.column);
        let (mut position, mut previous_line_len) = ((1, 0), 0);
        let (mut before, mut last) = (None, None);
        let mut bytes = self.open(None).ok()?.bytes();
        while position != target {
            let b = bytes.next()?.ok()?;
            if b == b'\n' {
                previous_line_len = position.1;
                position = (position.0 + 1, 0);
            } else {
                position.1 += 1;
            }
            (before, last) = (last, Some(b));
        }
        match at.peeked(before, last?) {
            Shift::None => None,
            Shift::Back if last == Some(b'\n') => Some((at.line - 1, previous_line_len)),
            Shift::Back => Some((at.line, at.column - 1)),
        }
    }
}

/// How the slice path's position differs from the reader's.
enum Shift {
    None,
    /// One byte earlier: the reader's last byte was only peeked at.
    Back,
}

/// Where an error message says serde_json placed it.
struct Placed<'m> {
    /// The message before the position.
    text: &'m str,
    line: usize,
    column: usize,
    /// Worded by [`IngestError::from_json`] for a syntax error: "… (line L, column C)";
    /// otherwise serde_json's own "… at line L column C".
    syntax: bool,
}

impl<'m> Placed<'m> {
    fn parse(message: &'m str) -> Option<Self> {
        if let Some(rest) = message.strip_suffix(')') {
            let (rest, column) = rest.rsplit_once(", column ")?;
            let (text, line) = rest.rsplit_once(" (line ")?;
            return Some(Placed {
                text,
                line: line.parse().ok()?,
                column: column.parse().ok()?,
                syntax: true,
            });
        }
        let (rest, column) = message.rsplit_once(" column ")?;
        let (text, line) = rest.rsplit_once(" at line ")?;
        Some(Placed {
            text,
            line: line.parse().ok()?,
            column: column.parse().ok()?,
            syntax: false,
        })
    }

    /// How the slice path places this error, given the last two bytes the reader had taken.
    ///
    /// A type error, or any error a visitor raises, is placed by serde_json after the value
    /// is read and, inside an object or array, after it has looked for the container's end.
    /// The last byte is then only peeked at, unless it was consumed: a string's closing quote,
    /// a literal's last letter, a number's last digit at the end of the input, the closing
    /// bracket of the container whose visitor failed. A bracket after a number is the number's
    /// end, peeked at, when the error is about the number. Whitespace is always only peeked
    /// at (consumed on the way to the next byte).
    ///
    /// A syntax error is placed alike by both, but for a number out of range (placed after its
    /// end is peeked at). One difference is left: a raw control character in a string that
    /// the wire types skip (not one they read) is counted by the reader, not by the slice, and
    /// which strings are skipped is not known here; such a message says one byte later.
    fn peeked(&self, before: Option<u8>, last: u8) -> Shift {
        let t = self.text;
        let after_number = before.is_some_and(|b| b.is_ascii_digit()) && !last.is_ascii_digit();
        if self.syntax {
            return if t.ends_with("number out of range") && after_number {
                Shift::Back
            } else {
                Shift::None
            };
        }
        let names_a_number = t.contains("integer `") || t.contains("floating point `");
        match last {
            _ if names_a_number && after_number => Shift::Back,
            b'}' | b']' | b'"' => Shift::None,
            b if b.is_ascii_alphanumeric() => Shift::None,
            _ => Shift::Back,
        }
    }
}

/// The reference path's reads, from the source.
impl<Src: ReportSource + ?Sized> Input for Reopened<'_, Src> {
    fn first_byte(&self) -> Option<u8> {
        for b in self.open(None).ok()?.bytes() {
            match b {
                Ok(b) if b.is_ascii_whitespace() => continue,
                Ok(b) => return Some(b),
                Err(_) => return None, // kept in `io_error`, which decides the outcome
            }
        }
        None
    }

    fn parse<'x, T: Deserialize<'x>>(&'x self) -> Result<T, serde_json::Error> {
        self.pass(false, PhantomData::<T>).map(|(value, _)| value)
    }

    fn parse_with_path<'x, T: Deserialize<'x>>(&'x self) -> Result<T, IngestError> {
        let reader = self
            .open(None)
            .map_err(|e| IngestError::from_json("", &e))?;
        explain_with_path_in(serde_json::Deserializer::from_reader(reader))
    }
}

// --- Pass 2 ---------------------------------------------------------------------------------

/// Pass 2: the log read again for its runs' results only, every other property skipped; each
/// run normalised against its properties from pass 1 (`heads`, in order).
struct ResultsPass<'p, S> {
    heads: std::vec::IntoIter<(RunHead<'static>, bool)>,
    next: usize,
    sink: &'p mut S,
    /// The normalisation error that stopped the pass, if that is what stopped it.
    failed: &'p mut Option<IngestError>,
}

impl<S: Sink> ResultsPass<'_, S> {
    /// The next run's context.
    fn begin<E: de::Error>(&mut self) -> Result<(usize, RunState<'static>), E> {
        let (head, has_results) = self
            .heads
            .next()
            .ok_or_else(|| E::custom("the report changed between two reads"))?;
        let i = self.next;
        self.next += 1;
        match begin_run(i, head, has_results) {
            Ok(state) => Ok((i, state)),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn fail<E: de::Error>(&mut self, e: IngestError) -> E {
        let message = E::custom(&e.message);
        *self.failed = Some(e);
        message
    }
}

/// The log's keys as the derived `Log` matches them.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum LogKey {
    Runs,
    #[serde(other)]
    Other,
}

/// A run's keys as the derived `Run` matches them.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum RunKey {
    Results,
    #[serde(other)]
    Other,
}

/// Where `results` is in a run written as an array (serde reads a struct from an array, its
/// fields in order: `tool`, `invocations`, `results`, …); pass 1 accepted what is read here.
const RESULTS_FIELD_INDEX: usize = 2;

impl<'de, S: Sink> DeserializeSeed<'de> for ResultsPass<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(mut self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(InLog(&mut self))
    }
}

struct InLog<'a, 'p, S>(&'a mut ResultsPass<'p, S>);

impl<'de, S: Sink> Visitor<'de> for InLog<'_, '_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a SARIF log")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<LogKey>()? {
            match key {
                LogKey::Runs => map.next_value_seed(InRuns(&mut *self.0))?,
                LogKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct InRuns<'a, 'p, S>(&'a mut ResultsPass<'p, S>);

impl<'de, S: Sink> DeserializeSeed<'de> for InRuns<'_, '_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for InRuns<'_, '_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of runs")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(InRun(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

struct InRun<'a, 'p, S>(&'a mut ResultsPass<'p, S>);

impl<'de, S: Sink> DeserializeSeed<'de> for InRun<'_, '_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for InRun<'_, '_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a run")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let pass = self.0;
        let (run, mut state) = pass.begin()?;
        while let Some(key) = map.next_key::<RunKey>()? {
            match key {
                RunKey::Results => map.next_value_seed(Results {
                    pass: &mut *pass,
                    run,
                    state: &mut state,
                })?,
                RunKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        state.finish(&mut *pass.sink);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let pass = self.0;
        let (run, mut state) = pass.begin()?;
        for k in 0.. {
            let more = if k == RESULTS_FIELD_INDEX {
                let results = Results {
                    pass: &mut *pass,
                    run,
                    state: &mut state,
                };
                seq.next_element_seed(results)?.is_some()
            } else {
                seq.next_element::<IgnoredAny>()?.is_some()
            };
            if !more {
                break;
            }
        }
        state.finish(&mut *pass.sink);
        Ok(())
    }
}

/// A run's `results` (`null` being none), normalised as read.
struct Results<'a, 'p, 'r, S> {
    pass: &'a mut ResultsPass<'p, S>,
    run: usize,
    state: &'a mut RunState<'r>,
}

impl<'de, S: Sink> DeserializeSeed<'de> for Results<'_, '_, '_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: Sink> Visitor<'de> for Results<'_, '_, '_, S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of results")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let pass = self.pass;
        read_results(d, self.run, self.state, &mut *pass.sink, pass.failed)
    }
}

// --- Tests' check ---------------------------------------------------------------------------

/// Reading `bytes` from a stream gives what the slice path gives on them, and their SHA-256.
#[cfg(test)]
pub(super) fn assert_same_as_slice(bytes: &[u8]) {
    use super::{ingest_slice, Collect};
    let streamed = match ingest_stream(bytes, Collect::default()) {
        Ok((c, sha)) => Ok((c.0, sha)),
        Err(StreamError::Invalid(e)) => Err(e),
        Err(StreamError::Read(e)) => panic!("reading from memory failed: {e}"),
    };
    let sliced =
        ingest_slice(bytes, Collect::default).map(|c| (c.0, hex::encode(Sha256::digest(bytes))));
    assert_eq!(streamed, sliced, "the stream and the slice paths differ");
}
