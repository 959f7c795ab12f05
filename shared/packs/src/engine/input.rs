//! Reading records from a run's body: NDJSON (one JSON object per line) or CSV with a header row.
//! A record must carry an `id` (a string or an integer, at most [`MAX_ID_CHARS`] characters),
//! the name findings cite it by. A body that cannot be read is refused whole, naming the line or
//! row and the field; a value of the wrong type in JSON is kept as such and makes the rules that
//! read it not evaluable for that record (CSV has no types of its own: its cells are typed by the
//! schema, and a cell that is not of its field's type is refused).

use std::fmt;

use serde::Serialize;

use super::records::Records;
use super::schema::Schema;

pub use super::csv::parse_csv;
pub use super::ndjson::{parse_ndjson, parse_ndjson_parallel, RecordReader, RecordSeed};

/// The longest record id accepted.
pub const MAX_ID_CHARS: usize = 256;

/// Where in the body a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// An NDJSON line, from 1.
    Line(usize),
    /// A CSV row, from 1 (the header row).
    Row(usize),
}

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub position: Position,
    /// The field at fault, when one is.
    pub field: Option<String>,
    pub message: String,
}

impl InputError {
    pub(crate) fn at(position: Position, field: Option<&str>, message: impl Into<String>) -> Self {
        InputError {
            position,
            field: field.map(str::to_string),
            message: message.into(),
        }
    }

    /// The error of a body's line (or row) read as part of a longer body that had `lines` lines
    /// before it.
    pub(crate) fn after_lines(mut self, lines: usize) -> Self {
        match &mut self.position {
            Position::Line(n) | Position::Row(n) => *n += lines,
        }
        self
    }

    /// `line 3` or `row 3, field amount_usd`.
    pub fn location(&self) -> String {
        let place = match self.position {
            Position::Line(n) => format!("line {n}"),
            Position::Row(n) => format!("row {n}"),
        };
        match &self.field {
            Some(field) => format!("{place}, field {field}"),
            None => place,
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)
    }
}

impl std::error::Error for InputError {}

/// The format of a run's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Ndjson,
    Csv,
}

/// Reads the body in `format` against `schema`.
pub fn parse<'s>(
    schema: &'s Schema,
    format: Format,
    body: &[u8],
) -> Result<Records<'s>, InputError> {
    match format {
        Format::Ndjson => parse_ndjson(schema, body),
        Format::Csv => parse_csv(schema, body),
    }
}

/// Checks a record id's length; `None` when it is acceptable.
pub(crate) fn id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        Some("must not be empty".into())
    } else if id.chars().count() > MAX_ID_CHARS {
        Some(format!("longer than {MAX_ID_CHARS} characters"))
    } else {
        None
    }
}
