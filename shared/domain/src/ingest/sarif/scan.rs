//! Where each run's `results` array is in a report read from a stream, found by a byte scanner
//! that follows only strings and nesting.
//!
//! Why: serde_json reads a reader a byte at a time through its own buffering, several times
//! slower than a slice, and a reader's strings must be copied out where a slice's are borrowed.
//! Almost all of a report is its results. So the passes of `stream` let serde_json read only the
//! rest of the report from the reader (pass 1, the results cut out by [`CutResults`]), and read
//! each result from a slice of its own bytes (pass 2, [`Results`]): the same types, checks and
//! errors as the slice path, at close to its speed, holding one result at a time.
//!
//! The scanner does not validate JSON; it need not. What it cuts out or hands over is read by
//! serde_json after it: the report without its results in pass 1, each result on its own in
//! pass 2, and between results only whitespace and single commas are let through. A report
//! whose shape it does not follow (a run's `results` neither an array nor null) is refused, and
//! `stream` then reads it the reference path's way.

use std::io::{self, BufRead, Read};

/// What a byte of the report is to the passes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Byte {
    /// Outside every run's results.
    Outer,
    /// The `[` opening a run's results.
    Open,
    /// Inside a run's results: part of one result.
    Element,
    /// Inside a run's results, between results: whitespace or a comma.
    Between,
    /// The `]` closing a run's results.
    Close,
}

/// What an object or array is, as far as finding results goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The log (the top-level object).
    Log,
    /// The log's `runs` array.
    Runs,
    /// A run written as an object.
    Run,
    /// A run written as an array: serde reads a struct's fields from it in order, `results`
    /// third.
    RunFields,
    /// A run's `results` array.
    Results,
    Other,
}

/// Index of `results` among a run's fields (`tool`, `invocations`, `results`, …).
const RESULTS_FIELD_INDEX: usize = 2;

#[derive(Clone, Copy)]
struct Frame {
    role: Role,
    object: bool,
    /// In an object: the next string is a key.
    key_next: bool,
    /// In an array: commas read so far (the index of the current item).
    items: usize,
}

/// The scanner: fed the report's bytes in order, says what each one is.
#[derive(Default)]
struct Scanner {
    stack: Vec<Frame>,
    in_string: bool,
    escaped: bool,
    /// The next value starts at the next byte that is not whitespace (after `:`, `[`, `,`).
    value_next: bool,
    /// The bytes of the key being read, when it is a key of the log or of a run.
    key: Option<Vec<u8>>,
    /// What the last key read of the log or a run names.
    named: Named,
    /// `stack.len()` inside a run's results array.
    results_depth: Option<usize>,
    /// Runs begun so far.
    runs: usize,
    /// The report has a shape the passes do not read this way.
    refused: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Default)]
enum Named {
    #[default]
    Other,
    Runs,
    Results,
}

/// Longest key compared with `runs` and `results` (written with escapes, `results` takes 42).
const KEY_MAX: usize = 64;

impl Scanner {
    #[inline]
    fn step(&mut self, b: u8) -> Byte {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                if let Some(key) = self.key.take() {
                    self.named = name_of(&key);
                }
                return self.inner();
            }
            if let Some(key) = &mut self.key {
                if key.len() < KEY_MAX {
                    key.push(b);
                }
            }
            return self.inner();
        }
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => return self.between_or(Byte::Outer),
            b',' => {
                if let Some(top) = self.stack.last_mut() {
                    if top.object {
                        top.key_next = true;
                    } else {
                        top.items += 1;
                        self.value_next = true;
                    }
                }
                return self.between_or(Byte::Outer);
            }
            b':' => self.value_next = true,
            b'"' => {
                self.in_string = true;
                if self.value_next {
                    self.value_start(b);
                } else if let Some(top) = self.stack.last_mut() {
                    if top.key_next {
                        top.key_next = false;
                        if matches!(top.role, Role::Log | Role::Run) {
                            self.key = Some(Vec::new());
                        }
                    }
                }
            }
            b'{' | b'[' => {
                let role = if self.value_next || self.stack.is_empty() {
                    self.value_start(b)
                } else {
                    Role::Other
                };
                self.stack.push(Frame {
                    role,
                    object: b == b'{',
                    key_next: b == b'{',
                    items: 0,
                });
                self.value_next = b == b'[';
                if role == Role::Results {
                    self.results_depth = Some(self.stack.len());
                    return Byte::Open;
                }
            }
            b'}' | b']' => {
                self.value_next = false;
                let closing = self.results_depth == Some(self.stack.len());
                self.stack.pop();
                if closing {
                    self.results_depth = None;
                    return Byte::Close;
                }
            }
            _ => {
                if self.value_next {
                    self.value_start(b);
                }
            }
        }
        self.inner()
    }

    /// The role of the value starting with `b`, from where it is.
    fn value_start(&mut self, b: u8) -> Role {
        self.value_next = false;
        let Some(top) = self.stack.last().copied() else {
            return if b == b'{' { Role::Log } else { Role::Other };
        };
        match (top.role, self.named, b) {
            (Role::Log, Named::Runs, b'[') => Role::Runs,
            (Role::Run, Named::Results, b'[') => Role::Results,
            (Role::Run, Named::Results, b'n') => Role::Other,
            (Role::Run, Named::Results, _) => self.refuse(),
            (Role::Runs, _, b'{') => {
                self.runs += 1;
                Role::Run
            }
            (Role::Runs, _, b'[') => {
                self.runs += 1;
                Role::RunFields
            }
            (Role::Runs, _, _) => self.refuse(),
            (Role::RunFields, _, b'[') if top.items == RESULTS_FIELD_INDEX => Role::Results,
            (Role::RunFields, _, b'n') => Role::Other,
            (Role::RunFields, _, _) if top.items == RESULTS_FIELD_INDEX => self.refuse(),
            _ => Role::Other,
        }
    }

    /// How many of `input`'s first bytes are plain string content (no quote, no backslash, no
    /// key being read): what they are is what the next one is, so they are taken together.
    #[inline]
    fn plain_string_bytes(&self, input: &[u8]) -> usize {
        if !self.in_string || self.escaped || self.key.is_some() {
            return 0;
        }
        input
            .iter()
            .position(|&b| b == b'"' || b == b'\\')
            .unwrap_or(input.len())
    }

    fn refuse(&mut self) -> Role {
        self.refused = true;
        Role::Other
    }

    /// A byte inside a string or a nested value.
    #[inline]
    fn inner(&self) -> Byte {
        match self.results_depth {
            Some(_) => Byte::Element,
            None => Byte::Outer,
        }
    }

    /// Whitespace or a comma: between results when directly in a results array.
    #[inline]
    fn between_or(&self, outside: Byte) -> Byte {
        match self.results_depth {
            Some(d) if d == self.stack.len() => Byte::Between,
            Some(_) => Byte::Element,
            None => outside,
        }
    }
}

fn name_of(key: &[u8]) -> Named {
    let decoded;
    let key = if key.contains(&b'\\') {
        let mut quoted = Vec::with_capacity(key.len() + 2);
        quoted.push(b'"');
        quoted.extend_from_slice(key);
        quoted.push(b'"');
        decoded = serde_json::from_slice::<String>(&quoted).unwrap_or_default();
        decoded.as_bytes()
    } else {
        key
    };
    match key {
        b"runs" => Named::Runs,
        b"results" => Named::Results,
        _ => Named::Other,
    }
}

/// Pass 1's input: the report with every run's results cut out (`"results": []`).
pub(super) struct CutResults<R> {
    inner: R,
    scanner: Scanner,
}

impl<R> CutResults<R> {
    pub(super) fn new(inner: R) -> Self {
        CutResults {
            inner,
            scanner: Scanner::default(),
        }
    }
}

impl<R: BufRead> Read for CutResults<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let input = self.inner.fill_buf()?;
            if input.is_empty() || out.is_empty() {
                return Ok(0);
            }
            let (mut taken, mut given) = (0, 0);
            while taken < input.len() && given < out.len() {
                let plain = self.scanner.plain_string_bytes(&input[taken..]);
                if plain > 0 {
                    // A run of string content: cut out inside results, copied elsewhere.
                    let n = match self.scanner.inner() {
                        Byte::Element => plain,
                        _ => plain.min(out.len() - given),
                    };
                    if self.scanner.inner() != Byte::Element {
                        out[given..given + n].copy_from_slice(&input[taken..taken + n]);
                        given += n;
                    }
                    taken += n;
                    continue;
                }
                let b = input[taken];
                taken += 1;
                if matches!(self.scanner.step(b), Byte::Outer | Byte::Open | Byte::Close) {
                    out[given] = b;
                    given += 1;
                }
            }
            self.inner.consume(taken);
            if given > 0 {
                return Ok(given);
            }
        }
    }
}

/// What pass 2 meets next.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// A run's results begin; the run's index.
    Results(usize),
    /// One result: its bytes are in the buffer given.
    Result,
    /// The run's results end.
    End,
    /// The end of the report.
    Eof,
    /// Not a shape pass 2 reads (a run's `results` neither an array nor null, a comma out of
    /// place between results): the reference path's reading says what it is.
    Refused,
}

/// Pass 2's input: each run's results, one result at a time.
pub(super) struct Results<R> {
    inner: R,
    scanner: Scanner,
    /// Where the last result or comma was: results must be separated by exactly one comma.
    after: After,
    /// A result ended at its array's `]`: the end is reported next.
    end_next: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum After {
    Open,
    Result,
    Comma,
}

impl<R: BufRead> Results<R> {
    pub(super) fn new(inner: R) -> Self {
        Results {
            inner,
            scanner: Scanner::default(),
            after: After::Open,
            end_next: false,
        }
    }

    /// The next event; a result's bytes are appended to `result` (left empty otherwise).
    pub(super) fn next(&mut self, result: &mut Vec<u8>) -> io::Result<Next> {
        if std::mem::take(&mut self.end_next) {
            return Ok(Next::End);
        }
        loop {
            let input = self.inner.fill_buf()?;
            if input.is_empty() {
                return Ok(if result.is_empty() {
                    Next::Eof
                } else {
                    Next::Refused
                });
            }
            let mut taken = 0;
            let mut event = None;
            while taken < input.len() {
                let plain = self.scanner.plain_string_bytes(&input[taken..]);
                if plain > 0 {
                    // A run of string content: part of a result, or outside every result.
                    if self.scanner.inner() == Byte::Element {
                        result.extend_from_slice(&input[taken..taken + plain]);
                    }
                    taken += plain;
                    continue;
                }
                let b = input[taken];
                taken += 1;
                let byte = self.scanner.step(b);
                if self.scanner.refused {
                    event = Some(Next::Refused);
                    break;
                }
                match byte {
                    Byte::Outer => {}
                    Byte::Open => {
                        self.after = After::Open;
                        event = Some(Next::Results(self.scanner.runs.saturating_sub(1)));
                        break;
                    }
                    Byte::Element => {
                        if result.is_empty() && self.after == After::Result {
                            event = Some(Next::Refused);
                            break;
                        }
                        result.push(b);
                    }
                    Byte::Between => {
                        let comma = b == b',';
                        if !result.is_empty() {
                            self.after = if comma { After::Comma } else { After::Result };
                            event = Some(Next::Result);
                            break;
                        }
                        if comma {
                            if self.after != After::Result {
                                event = Some(Next::Refused);
                                break;
                            }
                            self.after = After::Comma;
                        }
                    }
                    Byte::Close => {
                        if !result.is_empty() {
                            self.end_next = true;
                            event = Some(Next::Result);
                        } else if self.after == After::Comma {
                            event = Some(Next::Refused);
                        } else {
                            event = Some(Next::End);
                        }
                        break;
                    }
                }
            }
            self.inner.consume(taken);
            if let Some(event) = event {
                return Ok(event);
            }
        }
    }
}
