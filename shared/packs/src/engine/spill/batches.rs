//! A body too large for memory, read a batch at a time with the readers of a body in memory
//! (`ndjson`, `csv`), so that the records, and the first bad line or row, are theirs.

use std::io::Read;

use super::super::csv::CsvRows;
use super::super::input::{Format, InputError};
use super::super::ndjson::{read_in_runs, utf8};
use super::super::records::Records;
use super::super::schema::Schema;
use super::SpillError;

/// Counts the bytes read through it.
pub(crate) struct Counted<R> {
    inner: R,
    pub(crate) bytes: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The input, in batches of records.
pub(crate) enum Batches<'s, R: Read> {
    Ndjson(Lines<'s, R>),
    Csv {
        rows: Box<CsvRows<'s, Counted<R>>>,
        /// Rows per batch.
        batch: usize,
        done: bool,
    },
}

impl<'s, R: Read> Batches<'s, R> {
    /// Reads CSV's header row, if that is the format.
    pub(crate) fn new(
        schema: &'s Schema,
        format: Format,
        reader: R,
        batch_bytes: usize,
        threads: usize,
    ) -> Result<Self, SpillError> {
        let reader = Counted {
            inner: reader,
            bytes: 0,
        };
        Ok(match format {
            Format::Ndjson => Batches::Ndjson(Lines {
                schema,
                reader,
                buf: Vec::new(),
                batch_bytes: batch_bytes.max(1),
                threads,
                lines_before: 0,
                done: false,
            }),
            Format::Csv => Batches::Csv {
                rows: Box::new(CsvRows::new(schema, reader)?),
                // CSV rows of a pack's fields are a hundred bytes or more.
                batch: (batch_bytes / 100).max(1),
                done: false,
            },
        })
    }

    /// The next batch's records, handed to `then` run by run (NDJSON's runs on threads of
    /// their own); `None` at the end of the input. The records are only to be encoded: their
    /// strings are listed, not interned ([`Records::listing`]).
    pub(crate) fn next<T: Send>(
        &mut self,
        then: impl Fn(Records<'s>) -> T + Sync,
    ) -> Result<Option<Vec<T>>, SpillError> {
        match self {
            Batches::Ndjson(lines) => lines.next(then),
            Batches::Csv { done: true, .. } => Ok(None),
            Batches::Csv { rows, batch, done } => {
                let mut records = Records::listing(rows.schema());
                *done = !rows.read(&mut records, *batch)?;
                Ok(Some(vec![then(records)]))
            }
        }
    }

    /// Bytes read so far.
    pub(crate) fn bytes_read(&self) -> u64 {
        match self {
            Batches::Ndjson(lines) => lines.reader.bytes,
            Batches::Csv { rows, .. } => rows.get_ref().bytes,
        }
    }
}

/// NDJSON: batches of whole lines.
pub(crate) struct Lines<'s, R> {
    schema: &'s Schema,
    reader: Counted<R>,
    /// Bytes read and not yet handed out: the batch being cut, and the start of a line.
    buf: Vec<u8>,
    batch_bytes: usize,
    threads: usize,
    /// Lines in the batches before: what a batch's line numbers are counted after.
    lines_before: usize,
    done: bool,
}

impl<'s, R: Read> Lines<'s, R> {
    fn next<T: Send>(
        &mut self,
        then: impl Fn(Records<'s>) -> T + Sync,
    ) -> Result<Option<Vec<T>>, SpillError> {
        let end = self.fill()?;
        if end == 0 {
            return Ok(None);
        }
        // The batches before were UTF-8: this is the body's first byte that is not.
        let text = utf8(&self.buf[..end]).map_err(|e| e.after_lines(self.lines_before))?;
        let read = read_in_runs(self.schema, Records::listing, text, self.threads, then)
            .map_err(|e| e.after_lines(self.lines_before));
        self.consume(end);
        match read {
            Ok(runs) => Ok(Some(runs)),
            // A body that is not UTF-8 is refused as such whatever its lines hold (the whole
            // body is validated before any line is read): the rest is checked before the first
            // bad line is reported.
            Err(bad_line) => match self.first_non_utf8()? {
                Some(not_utf8) => Err(not_utf8.into()),
                None => Err(bad_line.into()),
            },
        }
    }

    /// Reads until the buffer holds a batch, or the input ends; where the batch ends: after the
    /// last whole line, or at the end of the input.
    fn fill(&mut self) -> Result<usize, SpillError> {
        let mut want = self.batch_bytes;
        loop {
            while !self.done && self.buf.len() < want {
                let asked = (want - self.buf.len()) as u64;
                let n = (&mut self.reader)
                    .take(asked)
                    .read_to_end(&mut self.buf)
                    .map_err(SpillError::io(None))?;
                self.done = (n as u64) < asked;
            }
            if self.done {
                return Ok(self.buf.len());
            }
            match memchr::memrchr(b'\n', &self.buf) {
                Some(i) => return Ok(i + 1),
                // A line longer than a batch.
                None => want = self.buf.len() * 2,
            }
        }
    }

    /// Drops the batch's bytes, counting its lines.
    fn consume(&mut self, end: usize) {
        let batch = &self.buf[..end];
        self.lines_before += memchr::memchr_iter(b'\n', batch).count();
        if !batch.ends_with(b"\n") {
            // The last line, without a line end.
            self.lines_before += 1;
        }
        self.buf.drain(..end);
    }

    /// The rest of the input checked for UTF-8 alone: the error of the first byte that is not.
    fn first_non_utf8(&mut self) -> Result<Option<InputError>, SpillError> {
        loop {
            let end = self.fill()?;
            if end == 0 {
                return Ok(None);
            }
            if let Err(e) = utf8(&self.buf[..end]) {
                return Ok(Some(e.after_lines(self.lines_before)));
            }
            self.consume(end);
        }
    }
}
