//! CSV records: a header row naming the fields (dotted paths for nested ones, `id` for the
//! record's id), then one record per row. Cells are typed by the schema: numbers as written in
//! JSON, booleans `true` / `false`, timestamps in RFC 3339; an empty cell is a missing value;
//! columns no rule reads are ignored.

use super::input::{id_problem, InputError, Position};
use super::records::{Cell, Kind, Records};
use super::schema::{FieldType, Schema, Slot, ID_FIELD};
use super::timestamp;

enum Column {
    Id,
    Field(Slot),
    Ignored,
}

pub fn parse_csv<'s>(schema: &'s Schema, body: &[u8]) -> Result<Records<'s>, InputError> {
    let mut rows = CsvRows::new(schema, body)?;
    let mut records = Records::new(schema);
    rows.read(&mut records, usize::MAX)?;
    Ok(records)
}

/// A CSV body read a batch of rows at a time, from any reader (a body in memory, or a stream
/// too large for memory: `spill`).
pub(crate) struct CsvRows<'s, R> {
    schema: &'s Schema,
    reader: ::csv::Reader<R>,
    columns: Vec<Column>,
    row: ::csv::ByteRecord,
    /// The row last read, from 1 (the header row).
    number: usize,
}

impl<'s, R: std::io::Read> CsvRows<'s, R> {
    /// Reads the header row.
    pub(crate) fn new(schema: &'s Schema, body: R) -> Result<Self, InputError> {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(body);
        let header_error = |message: String| InputError::at(Position::Row(1), None, message);
        let headers = reader
            .byte_headers()
            .map_err(|e| header_error(csv_message(&e)))?
            .clone();
        let mut columns = Vec::with_capacity(headers.len());
        let mut seen = std::collections::HashSet::new();
        for name in headers.iter() {
            let name = std::str::from_utf8(name)
                .map_err(|_| header_error("the header row is not UTF-8".into()))?
                .trim();
            if !seen.insert(name.to_string()) {
                return Err(InputError::at(
                    Position::Row(1),
                    Some(name),
                    "the column appears twice",
                ));
            }
            columns.push(match schema.slot(name) {
                Some(slot) => Column::Field(slot),
                None if name == ID_FIELD => Column::Id,
                None => Column::Ignored,
            });
        }
        if !columns.iter().any(|c| matches!(c, Column::Id)) {
            return Err(InputError::at(
                Position::Row(1),
                Some(ID_FIELD),
                "the header row needs an 'id' column: the name findings cite each record by",
            ));
        }
        Ok(CsvRows {
            schema,
            reader,
            columns,
            row: ::csv::ByteRecord::new(),
            number: 1,
        })
    }

    pub(crate) fn schema(&self) -> &'s Schema {
        self.schema
    }

    /// The reader the rows are read from.
    pub(crate) fn get_ref(&self) -> &R {
        self.reader.get_ref()
    }

    /// Reads up to `limit` rows into `records`; whether rows may be left.
    pub(crate) fn read(
        &mut self,
        records: &mut Records<'s>,
        limit: usize,
    ) -> Result<bool, InputError> {
        let schema = self.schema;
        for _ in 0..limit {
            self.number += 1;
            let position = Position::Row(self.number);
            match self.reader.read_byte_record(&mut self.row) {
                Ok(false) => return Ok(false),
                Ok(true) => {}
                Err(e) => return Err(InputError::at(position, None, csv_message(&e))),
            }
            let mut id = "";
            for (column, raw) in self.columns.iter().zip(self.row.iter()) {
                let field = |slot: Slot| schema.spec(slot).field.as_str();
                let text = match std::str::from_utf8(raw) {
                    Ok(text) => text,
                    Err(_) => {
                        records.abandon();
                        let name = match column {
                            Column::Field(slot) => Some(field(*slot)),
                            Column::Id => Some(ID_FIELD),
                            Column::Ignored => None,
                        };
                        return Err(InputError::at(position, name, "not UTF-8"));
                    }
                };
                match column {
                    Column::Ignored => {}
                    Column::Id => id = text,
                    Column::Field(_) if text.is_empty() => {}
                    Column::Field(slot) => {
                        if let Err(problem) = put_cell(records, *slot, text) {
                            records.abandon();
                            return Err(InputError::at(position, Some(field(*slot)), problem));
                        }
                    }
                }
            }
            if let Some(problem) = id_problem(id) {
                records.abandon();
                return Err(InputError::at(position, Some(ID_FIELD), problem));
            }
            records.finish(id);
        }
        Ok(true)
    }
}

/// Types one cell by its field, or says what the field expects.
fn put_cell(records: &mut Records, slot: Slot, text: &str) -> Result<(), String> {
    let spec = records.schema().spec(slot);
    match spec.ty {
        FieldType::Number => {
            let v = parse_number(text)
                .ok_or_else(|| format!("expected a number, found '{}'", shorten(text)))?;
            records.put(slot, Cell::number(v));
        }
        FieldType::Boolean => {
            let v = match text {
                "true" => true,
                "false" => false,
                _ => return Err(format!("expected true or false, found '{}'", shorten(text))),
            };
            records.put(slot, Cell::boolean(v));
        }
        FieldType::Timestamp => {
            let t = timestamp::parse_micros(text.as_bytes()).ok_or_else(|| {
                format!(
                    "expected an RFC 3339 timestamp such as 2025-03-03T10:00:00Z, found '{}'",
                    shorten(text)
                )
            })?;
            records.put(slot, Cell::of(Kind::Time, t as u64));
        }
        FieldType::String | FieldType::Any => records.put_text(slot, text),
    }
    Ok(())
}

/// A number as JSON writes one (no `NaN`, `inf`, hex or leading `+`).
fn parse_number(text: &str) -> Option<f64> {
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'e' | b'E' | b'+'))
        && !text.starts_with('+');
    plain
        .then(|| text.parse::<f64>().ok())
        .flatten()
        .filter(|v| v.is_finite())
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

fn csv_message(e: &::csv::Error) -> String {
    match e.kind() {
        ::csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} cells where the header row has {expected_len}"),
        ::csv::ErrorKind::Utf8 { .. } => "not UTF-8".into(),
        _ => e.to_string(),
    }
}
