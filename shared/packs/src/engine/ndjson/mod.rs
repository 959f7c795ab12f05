//! JSON records, read without building a JSON tree: each object's keys are looked up in the
//! schema's path tree and only the values of fields a rule reads are kept. NDJSON has one
//! object per line; [`RecordReader`] takes them from any other framing (a JSON array's items).

use std::fmt;

use serde::de::{
    DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Unexpected,
    Visitor,
};

use super::input::{id_problem, InputError, Position};
use super::records::{same_bytes, Cell, Kind, Records};
use super::schema::{FieldType, PathNode, PathTree, Schema, Slot, ID_FIELD};

mod flat;

/// Reads one JSON object per line; blank lines are skipped.
pub fn parse_ndjson<'s>(schema: &'s Schema, body: &[u8]) -> Result<Records<'s>, InputError> {
    read_lines(Records::new(schema), utf8(body)?).map(|(records, _)| records)
}

/// [`parse_ndjson`] on up to `threads` threads: the body is cut at line ends into as many runs
/// of lines, each read on its own thread into its own records, which are then appended in input
/// order. The result is exactly `parse_ndjson`'s: the same records (their strings even under the
/// same ids), or the same error, that of the first bad line of the body.
pub fn parse_ndjson_parallel<'s>(
    schema: &'s Schema,
    body: &[u8],
    threads: usize,
) -> Result<Records<'s>, InputError> {
    let mut runs = read_in_runs(schema, Records::new, utf8(body)?, threads, |records| {
        records
    })?
    .into_iter();
    let mut all = runs.next().unwrap_or_else(|| Records::new(schema));
    for records in runs {
        all.append(records);
    }
    Ok(all)
}

/// Reads `body` (whole lines of a body, or all of it) in up to `threads` runs of lines, each on
/// its own thread into its own records (made by `new`), which `then` takes on that thread (to
/// append them later, or to write them out: `spill`). The runs' results come in input order; an
/// error is that of the first bad line of `body`, its line counted from `body`'s first line.
pub(crate) fn read_in_runs<'s, T: Send>(
    schema: &'s Schema,
    new: fn(&'s Schema) -> Records<'s>,
    body: &str,
    threads: usize,
    then: impl Fn(Records<'s>) -> T + Sync,
) -> Result<Vec<T>, InputError> {
    let chunks = line_chunks(body, threads);
    if chunks.len() <= 1 {
        return chunks
            .into_iter()
            .map(|chunk| read_lines(new(schema), chunk).map(|(records, _)| then(records)))
            .collect();
    }
    let then = &then;
    let read: Vec<Result<(T, usize), InputError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|&chunk| {
                scope.spawn(move || {
                    read_lines(new(schema), chunk).map(|(records, lines)| (then(records), lines))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    // In input order, so that the first bad line of the body is the error reported, whichever
    // thread met its own first; a chunk's line numbers are counted from its start, so the lines
    // of the chunks before it (all read whole, or their error would have been returned) are
    // added.
    let mut lines_before = 0;
    let mut out = Vec::with_capacity(read.len());
    for chunk in read {
        let (value, lines) = chunk.map_err(|e| e.after_lines(lines_before))?;
        lines_before += lines;
        out.push(value);
    }
    Ok(out)
}

/// The body as text: validated once, so the JSON reader need not check each string again.
pub(crate) fn utf8(body: &[u8]) -> Result<&str, InputError> {
    std::str::from_utf8(body).map_err(|e| {
        let line = 1 + memchr::memchr_iter(b'\n', &body[..e.valid_up_to()]).count();
        InputError::at(Position::Line(line), None, "not UTF-8")
    })
}

/// The body cut into at most `parts` runs of whole lines of about equal size (each but the last
/// ending with its line's `\n`), none empty.
fn line_chunks(body: &str, parts: usize) -> Vec<&str> {
    let bytes = body.as_bytes();
    let parts = parts.max(1);
    let mut chunks = Vec::with_capacity(parts);
    let mut start = 0;
    for k in 1..=parts {
        if start >= bytes.len() {
            break;
        }
        let target = (bytes.len() as u128 * k as u128 / parts as u128) as usize;
        let end = if k == parts || target >= bytes.len() {
            bytes.len()
        } else {
            // The line that holds the target byte ends this chunk (`\n` is never inside a
            // UTF-8 sequence, so the cut is at a character boundary).
            memchr::memchr(b'\n', &bytes[target.max(start)..])
                .map_or(bytes.len(), |i| target.max(start) + i + 1)
        };
        if end > start {
            chunks.push(&body[start..end]);
            start = end;
        }
    }
    chunks
}

/// Reads the lines of `body` (a whole body or a run of its lines) into `records`; line numbers
/// in errors are counted from its first line. Also how many lines were read (blank lines count).
fn read_lines<'s>(records: Records<'s>, body: &str) -> Result<(Records<'s>, usize), InputError> {
    read_lines_by(records, body, true)
}

/// [`read_lines`], trying the hand reader ([`flat`]) first on each line or (`by_hand` false,
/// for the tests that hold it to serde_json) reading every line with serde_json.
fn read_lines_by<'s>(
    records: Records<'s>,
    body: &str,
    by_hand: bool,
) -> Result<(Records<'s>, usize), InputError> {
    let mut reader = RecordReader::adding_to(records);
    let mut start = 0;
    let mut index = 0;
    while start < body.len() {
        let end =
            memchr::memchr(b'\n', &body.as_bytes()[start..]).map_or(body.len(), |i| start + i);
        let line = &body[start..end];
        start = end + 1;
        index += 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.bytes().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let unread = if by_hand && flat::read_flat(reader.object(), line) {
            None
        } else {
            // Read again from its start, by serde_json: what the hand reader put is forgotten.
            reader.records.abandon();
            let mut de = serde_json::Deserializer::from_str(line);
            let read = reader.object().deserialize(&mut de).and_then(|()| de.end());
            read.err().map(|e| json_message(&e))
        };
        reader.end(Position::Line(index), unread);
        if let Some(e) = reader.error.take() {
            return Err(e);
        }
    }
    Ok((reader.records, index))
}

/// How much of serde_json's message is kept: it quotes the value it did not expect, which can
/// be the whole line.
const MESSAGE_CHARS: usize = 160;

fn shortened(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// serde_json's message without its "at line 1 column N" (every line is line 1 to it).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(message, _)| message);
    let text = shortened(text);
    if e.is_data() {
        text
    } else {
        format!("not a JSON object ({text} at column {})", e.column())
    }
}

/// Reads records one JSON object at a time, as NDJSON's lines are read, from a reader that
/// frames them otherwise: the items of a JSON array (a dry run's envelope). The first record
/// that cannot be read is the error; the objects after it are skipped, not read.
pub struct RecordReader<'s> {
    records: Records<'s>,
    id: String,
    /// A problem with the record's `id` (its type), kept rather than failing the reader, so
    /// that an envelope's reading can go on to check the items after it.
    id_type: Option<String>,
    keys: KeyCache<'s>,
    error: Option<InputError>,
}

impl<'s> RecordReader<'s> {
    pub fn new(schema: &'s Schema) -> Self {
        Self::adding_to(Records::new(schema))
    }

    /// A reader adding to `records`.
    fn adding_to(records: Records<'s>) -> Self {
        RecordReader {
            records,
            id: String::new(),
            id_type: None,
            keys: KeyCache::default(),
            error: None,
        }
    }

    /// A seed that reads any JSON value as the record at `position`: an object is read (unless
    /// a record before it could not be); anything else is skipped, its JSON type returned for
    /// the caller to refuse.
    pub fn record(&mut self, position: Position) -> RecordSeed<'_, 's> {
        RecordSeed {
            reader: self,
            position,
        }
    }

    /// The records, or the first that could not be read.
    pub fn finish(self) -> Result<Records<'s>, InputError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.records),
        }
    }

    fn object(&mut self) -> ObjectSeed<'_, 's> {
        self.id.clear();
        self.id_type = None;
        let schema = self.records.schema();
        ObjectSeed {
            tree: &schema.tree,
            records: &mut self.records,
            top: Some(Top {
                id: &mut self.id,
                id_type: &mut self.id_type,
                keys: &mut self.keys,
            }),
        }
    }

    /// Ends the record read at `position` (`unread`: why the JSON reader stopped in it).
    fn end(&mut self, position: Position, unread: Option<String>) {
        // The first problem met in the record is the one reported.
        let problem = match (self.id_type.take().or(unread), id_problem(&self.id)) {
            (Some(message), _) => Some((None, message)),
            (None, _) if self.id.is_empty() => Some((
                Some(ID_FIELD),
                "required: a string or an integer that names the record".to_string(),
            )),
            (None, Some(length)) => Some((Some(ID_FIELD), length)),
            (None, None) => None,
        };
        match problem {
            Some((field, message)) => {
                self.records.abandon();
                self.error = Some(InputError::at(position, field, message));
            }
            None => self.records.finish(&self.id),
        }
    }
}

/// One JSON value read as a record by a [`RecordReader`]: `Err` with the value's JSON type
/// (`"string"`, `"array"`…) when it is not an object.
pub struct RecordSeed<'a, 's> {
    reader: &'a mut RecordReader<'s>,
    position: Position,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, '_> {
    type Value = Result<(), &'static str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_, '_> {
    type Value = Result<(), &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if self.reader.error.is_some() {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Ok(()));
        }
        let read = self.reader.object().visit_map(map);
        let unread = read.as_ref().err().map(|e| shortened(&e.to_string()));
        self.reader.end(self.position, unread);
        read.map(Ok)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err("array"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("number"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("string"))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err("null"))
    }
}

/// A JSON object at some depth of the path tree; at the top it also reads the `id`.
struct ObjectSeed<'a, 's> {
    tree: &'s PathTree,
    records: &'a mut Records<'s>,
    top: Option<Top<'a, 's>>,
}

/// What only the top level of a record has: its id (or what is wrong with its type), and the
/// keys of the records before.
struct Top<'a, 's> {
    id: &'a mut String,
    id_type: &'a mut Option<String>,
    keys: &'a mut KeyCache<'s>,
}

/// The top-level keys met in the records before, each with the key that followed it last time:
/// lines of one export give their keys in one order, some left out here and there, so a key is
/// most often the one that followed the key before it, recognised by comparing bytes without a
/// lookup; failing that, by a scan of the few keys known.
#[derive(Default)]
struct KeyCache<'s> {
    known: Vec<Known<'s>>,
    /// The entry of the first key of the last record.
    first: usize,
    /// The entry of the key just read ([`NONE`] when it was not kept).
    last: usize,
}

struct Known<'s> {
    key: Box<str>,
    target: Target<'s>,
    next: usize,
}

/// No entry.
const NONE: usize = usize::MAX;

/// The most keys kept: a sender making up keys gets lookups, not a growing scan.
const MAX_KNOWN: usize = 64;

impl<'s> KeyCache<'s> {
    /// The target of the record's key at `position` (from 0).
    fn target(&mut self, position: usize, key: &str, tree: &'s PathTree) -> Target<'s> {
        let guess = match position {
            0 => self.first,
            _ => self.known.get(self.last).map_or(NONE, |k| k.next),
        };
        let is = |k: &Known| same_bytes(k.key.as_bytes(), key.as_bytes());
        let found = match self.known.get(guess) {
            Some(k) if is(k) => guess,
            _ => match self.known.iter().position(is) {
                Some(at) => at,
                None if self.known.len() < MAX_KNOWN => {
                    self.known.push(Known {
                        key: key.into(),
                        target: lookup(tree, key, true),
                        next: NONE,
                    });
                    self.known.len() - 1
                }
                None => NONE,
            },
        };
        match position {
            0 => self.first = found,
            _ => {
                if let Some(k) = self.known.get_mut(self.last) {
                    k.next = found;
                }
            }
        }
        self.last = found;
        match self.known.get(found) {
            Some(k) => k.target,
            None => lookup(tree, key, true),
        }
    }
}

fn lookup<'s>(tree: &'s PathTree, key: &str, top: bool) -> Target<'s> {
    match tree.children.get(key) {
        Some(PathNode::Leaf(slot)) => Target::Field(*slot),
        Some(PathNode::Branch(tree)) => Target::Object(tree),
        None if top && key == ID_FIELD => Target::Id,
        None => Target::Skip,
    }
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut position = 0;
        while let Some(target) = map.next_key_seed(KeySeed {
            tree: self.tree,
            keys: self.top.as_mut().map(|top| &mut *top.keys),
            position,
        })? {
            position += 1;
            match target {
                Target::Field(slot) => map.next_value_seed(ValueSeed {
                    slot,
                    records: self.records,
                })?,
                Target::Object(tree) => {
                    // A scalar where an object of fields was expected holds none of them; the
                    // last object given for the key is the one read.
                    clear_tree(self.records, tree);
                    map.next_value_seed(NestedSeed(ObjectSeed {
                        tree,
                        records: self.records,
                        top: None,
                    }))?
                }
                Target::Id => {
                    let top = self.top.as_mut().expect("only at the top");
                    map.next_value_seed(IdSeed {
                        id: top.id,
                        problem: top.id_type,
                    })?
                }
                Target::Skip => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Forgets the values given so far under a nested path's object.
fn clear_tree(records: &mut Records, tree: &PathTree) {
    for node in tree.children.values() {
        match node {
            PathNode::Leaf(slot) => records.clear(*slot),
            PathNode::Branch(sub) => clear_tree(records, sub),
        }
    }
}

/// A nested object of a dotted path: anything else there is ignored.
struct NestedSeed<'a, 's>(ObjectSeed<'a, 's>);

impl<'de> DeserializeSeed<'de> for NestedSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NestedSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.visit_map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Target<'a> {
    Field(Slot),
    Object(&'a PathTree),
    Id,
    Skip,
}

struct KeySeed<'a, 's> {
    tree: &'s PathTree,
    /// At the top level only.
    keys: Option<&'a mut KeyCache<'s>>,
    position: usize,
}

impl<'de, 's> DeserializeSeed<'de> for KeySeed<'_, 's> {
    type Value = Target<'s>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Target<'s>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 's> Visitor<'de> for KeySeed<'_, 's> {
    type Value = Target<'s>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Target<'s>, E> {
        Ok(match self.keys {
            Some(keys) => keys.target(self.position, key, self.tree),
            None => lookup(self.tree, key, false),
        })
    }
}

/// The record's `id`; a value of another type is noted (the first such) and skipped.
struct IdSeed<'a> {
    id: &'a mut String,
    problem: &'a mut Option<String>,
}

impl IdSeed<'_> {
    fn wrong(self, found: Unexpected) {
        if self.problem.is_none() {
            // Worded as serde_json words a visitor's refusal of a type.
            let e = serde_json::Error::invalid_type(found, &self);
            *self.problem = Some(shortened(&e.to_string()));
        }
    }
}

impl<'de> DeserializeSeed<'de> for IdSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // A key given twice keeps its last value, as for every field.
        self.id.clear();
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for IdSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the record's id as a string or an integer")
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.id.push_str(v);
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.id.push_str(&v.to_string());
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.id.push_str(&v.to_string());
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.wrong(Unexpected::Float(v));
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.wrong(Unexpected::Bool(v));
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.wrong(Unexpected::Unit);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.wrong(Unexpected::Seq);
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.wrong(Unexpected::Map);
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// A field's value, stored as its schema's type says (or as a wrong type).
struct ValueSeed<'a, 's> {
    slot: Slot,
    records: &'a mut Records<'s>,
}

impl ValueSeed<'_, '_> {
    fn ty(&self) -> FieldType {
        self.records.schema.spec(self.slot).ty
    }

    fn value_read(&self) -> bool {
        self.records.schema.spec(self.slot).value_read
    }

    /// Stores `cell` if its kind is what the field takes, or the value as a wrong type.
    fn store(self, cell: Cell, shown: impl FnOnce() -> String) {
        let fits = match self.ty() {
            FieldType::Number => cell.kind == Kind::Number,
            FieldType::Boolean => cell.kind == Kind::Bool,
            FieldType::Any => true,
            FieldType::String | FieldType::Timestamp => false,
        };
        match (fits, self.value_read()) {
            (true, true) => self.records.put(self.slot, cell),
            (true, false) => self.records.put(self.slot, Cell::of(Kind::Present, 0)),
            (false, _) => self.records.put_invalid(self.slot, &shown()),
        }
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.store(Cell::boolean(v), || v.to_string());
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.store(Cell::number(v as f64), || v.to_string());
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.store(Cell::number(v as f64), || v.to_string());
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.store(Cell::number(v), || v.to_string());
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.records.put_text(self.slot, v);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        // null is a missing value (given last, it replaces an earlier value of the key).
        self.records.clear(self.slot);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Scalar>()? {
            items.extend(item.0);
        }
        if self.ty() != FieldType::Any {
            self.records.put_invalid(self.slot, "(an array)");
        } else if !self.value_read() {
            self.records.put(self.slot, Cell::of(Kind::Present, 0));
        } else {
            let cells = items
                .into_iter()
                .map(|s| match s {
                    ScalarValue::Cell(c) => c,
                    ScalarValue::Text(t) => {
                        Cell::of(Kind::Str, u64::from(self.records.strings.intern(&t)))
                    }
                })
                .collect();
            self.records.put_array(self.slot, cells);
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        match self.ty() {
            FieldType::Any => self.records.put(self.slot, Cell::of(Kind::Other, 0)),
            _ => self.records.put_invalid(self.slot, "(an object)"),
        }
        Ok(())
    }
}

/// An array element: a scalar is kept (for `contains`), anything else skipped.
struct Scalar(Option<ScalarValue>);

enum ScalarValue {
    Cell(Cell),
    Text(String),
}

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(Some(ScalarValue::Cell(Cell::boolean(v)))))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(Some(ScalarValue::Cell(Cell::number(v as f64)))))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(Some(ScalarValue::Cell(Cell::number(v as f64)))))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(Some(ScalarValue::Cell(Cell::number(v)))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(Some(ScalarValue::Text(v.to_string()))))
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
        }
        d.deserialize_any(V)
    }
}
