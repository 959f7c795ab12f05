//! A SARIF report read from a stream ([`ReportSource`]: a file on disk, an object downloaded to
//! a temp file) in memory bounded by what is kept of it, never by its size, with the SHA-256 of
//! its bytes computed as it is read. The outcome is [`summarise_sarif`](super::summarise_sarif)'s
//! on the same bytes, errors included.
//!
//! Why two passes: a run's results can only be normalised once the run's other properties
//! (tool and rules, invocations, artifacts, taxonomies) are known, and those may come after the
//! results: semgrep writes `tool` last, and serde_json writes keys sorted (`results` before
//! `tool`). The slice path keeps the results' span of the input until the run is read; a stream
//! cannot without holding them. So pass 1 reads the report with every run's results cut out
//! (`scan::CutResults`) into the runs' other properties, and hashes the bytes; pass 2 reads the
//! report again and normalises each run's results against them, one result at a time, each
//! parsed from a slice of its own bytes (`scan::Results`) by the same `normalise_log` as the
//! other paths. Spooling the results to a temp file instead would write most of the report to
//! disk again and read it back — more work than reading the source a second time — and need as
//! much free disk as the report. Between the passes, what is held is what the slice path holds
//! too: each run's properties as the wire types reduce them (rules, taxonomies, artifact URIs);
//! during pass 2, one result's bytes.
//!
//! When a pass fails, the failure is explained as the reference path explains it, by reading
//! the source again: the document checked whole, each result checked and dropped
//! (`CheckedResults`), then with path tracking to say where (`checks::explain_failure`).

use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Chain, Cursor, Read};
use std::path::{Path, PathBuf};

use serde::de::{self, IgnoredAny};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::input::Input;
use super::scan::{CutResults, Next, Results};
use super::wire::{CheckedResults, Log, Obj, RawResult};
use super::{normalise_log, read_whole, RunResults, RunState, Sink, SummarySink};
use crate::ingest::error::{explain_with_path_in, IngestError};
use crate::ingest::model::{FindingKeys, SuppressionPolicy, Suppressions};
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
    /// The keys of the counted findings, for exceptions.
    pub keys: FindingKeys,
    /// Under `require_approval`: the suppressions that await approval.
    pub suppressions: Suppressions,
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
    summarise_sarif_stream_for(source, signals, SuppressionPolicy::Honour)
}

/// [`summarise_sarif_stream`] under the org's suppression `policy` (see
/// [`summarise_sarif_for`](super::summarise_sarif_for)).
pub fn summarise_sarif_stream_for<Src: ReportSource + ?Sized>(
    source: &Src,
    signals: &Signals,
    policy: SuppressionPolicy,
) -> Result<Summarised, StreamError> {
    let (sink, sha256) = ingest_stream(source, SummarySink::with(policy))?;
    let ingested = sink.finish(signals);
    Ok(Summarised {
        summary: ingested.summary,
        keys: ingested.keys,
        suppressions: ingested.suppressions,
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
    sink: S,
) -> Result<(S, String), Stopped> {
    // Pass 1: the log without its runs' results, hashed (`Obj`: a JSON object, as the
    // reference path requires, where a derived struct would also read an array).
    let sha = RefCell::new(Sha256::new());
    let cut = CutResults::new(input.open(Some(&sha))?);
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(BUFFER, cut));
    let Obj(log) = Obj::<Log<'static, IgnoredAny>>::deserialize(&mut de)?;
    // Only the end of the input passes: every byte has been read, and hashed.
    de.end()?;
    drop(de);

    // Pass 2: each run's results, one at a time, normalised as the other paths do.
    let results = RefCell::new(ResultsIn {
        results: Results::new(input.open(None)?),
        bytes: Vec::new(),
        json: None,
    });
    let normalised = normalise_log(log.map_results(|_| Streamed(&results)), sink);
    let mut results = results.into_inner();
    if let Some(e) = results.json {
        return Err(Stopped::Json(e));
    }
    let sink = normalised?;
    if results.next()? != Next::Eof {
        return Err(refused().into());
    }
    Ok((sink, hex::encode(sha.into_inner().finalize())))
}

/// Pass 2's reader, shared by the runs in turn.
struct ResultsIn<'a> {
    results: Results<PassReader<'a>>,
    /// The bytes of the result being read.
    bytes: Vec<u8>,
    /// Why the results could not be read, when that stopped the pass.
    json: Option<serde_json::Error>,
}

impl ResultsIn<'_> {
    fn next(&mut self) -> Result<Next, serde_json::Error> {
        self.bytes.clear();
        self.results
            .next(&mut self.bytes)
            .map_err(serde_json::Error::io)
    }
}

/// A run's results in pass 2: read from the report where pass 1 cut them out.
struct Streamed<'r, 'a>(&'r RefCell<ResultsIn<'a>>);

impl RunResults for Streamed<'_, '_> {
    fn normalise<S: Sink>(
        self,
        run: usize,
        state: &mut RunState<'_>,
        sink: &mut S,
    ) -> Result<(), IngestError> {
        let mut input = self.0.borrow_mut();
        match input.read_run(run, state, sink) {
            Ok(()) => Ok(()),
            Err(Stopped::Normalised(e)) => Err(e),
            // Kept for `two_passes` (the reference path's reading explains it); the error
            // returned here only stops the passes.
            Err(Stopped::Json(e)) => {
                input.json = Some(e);
                Err(IngestError::new("", "the results could not be read"))
            }
        }
    }
}

impl ResultsIn<'_> {
    /// Run `run`'s results, each normalised into the sink as it is read.
    fn read_run<S: Sink>(
        &mut self,
        run: usize,
        state: &mut RunState<'_>,
        sink: &mut S,
    ) -> Result<(), Stopped> {
        if self.next()? != Next::Results(run) {
            return Err(refused().into());
        }
        for j in 0.. {
            match self.next()? {
                Next::Result => {}
                Next::End => break,
                _ => return Err(refused().into()),
            }
            let result: RawResult = serde_json::from_slice(&self.bytes)?;
            state.result(run, j, &result, sink)?;
        }
        Ok(())
    }
}

/// A shape pass 2 does not read (see `scan`); the reference path's reading says what it is.
fn refused() -> serde_json::Error {
    de::Error::custom("not read by the stream passes")
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
        let mut de = serde_json::Deserializer::from_reader(self.open(None)?);
        let value = T::deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }

    fn parse_with_path<'x, T: Deserialize<'x>>(&'x self) -> Result<T, IngestError> {
        let reader = self
            .open(None)
            .map_err(|e| IngestError::from_json("", &e))?;
        explain_with_path_in(serde_json::Deserializer::from_reader(reader))
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
