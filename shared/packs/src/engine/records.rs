//! Records held compactly for evaluation: each record keeps only the fields a rule reads, as
//! typed cells (numbers, booleans, interned strings, timestamps in microseconds), found by a
//! presence bit mask. Raw records are never kept; neither is a field no rule reads.

use std::hash::{BuildHasher, Hasher, RandomState};

use hashbrown::HashTable;
use serde_json::{json, Value};

use super::schema::{FieldType, Schema, Slot, TIME_FIELD};
use super::timestamp;
use super::work::{add, Step};

/// What a stored value is. `Invalid` is a value of the wrong type for its field (kept as text for
/// the findings); `Present` a value only tested for presence; `Other` an object (or an array
/// where the field takes scalars).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub(crate) enum Kind {
    Number,
    Bool,
    Str,
    Time,
    Array,
    Present,
    Other,
    Invalid,
}

/// A value: its kind and 64 bits (an f64, a boolean, an interned string's id, microseconds, an
/// index into the arrays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Cell {
    pub(crate) kind: Kind,
    pub(crate) bits: u64,
}

impl Cell {
    pub(crate) fn number(v: f64) -> Cell {
        // -0.0 and 0.0 are one value, as JSON's numbers are.
        let v = if v == 0.0 { 0.0 } else { v };
        Cell {
            kind: Kind::Number,
            bits: v.to_bits(),
        }
    }

    pub(crate) fn boolean(b: bool) -> Cell {
        Cell {
            kind: Kind::Bool,
            bits: u64::from(b),
        }
    }

    pub(crate) fn of(kind: Kind, bits: u64) -> Cell {
        Cell { kind, bits }
    }

    pub(crate) fn as_number(self) -> Option<f64> {
        (self.kind == Kind::Number).then(|| f64::from_bits(self.bits))
    }

    pub(crate) fn as_time(self) -> Option<i64> {
        (self.kind == Kind::Time).then_some(self.bits as i64)
    }

    /// Whether the value is a scalar that can be grouped or counted as distinct.
    pub(crate) fn is_scalar(self) -> bool {
        matches!(
            self.kind,
            Kind::Number | Kind::Bool | Kind::Str | Kind::Time
        )
    }
}

/// Strings seen in the records, each stored once (in one arena) and named by a dense id. A run
/// interns millions of short strings (customer and account ids, codes) from a table too large
/// for the CPU's caches, so each entry carries the string's hash and its first bytes: a lookup
/// touches one entry, and the arena only for strings longer than the inline part.
///
/// The strings are the sender's choice, so the hash is keyed with a random key (std's SipHash):
/// under a fixed hash function such as FxHasher, strings can be computed offline to share one
/// hash, and then every new string is compared with every one before it.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    table: HashTable<Entry>,
    arena: String,
    ends: Vec<u32>,
    keys: RandomState,
    /// Strings only listed, not looked up: see [`Records::listing`].
    listed: bool,
}

const INLINE: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: u64,
    id: u32,
    len: u32,
    head: [u8; INLINE],
}

impl Entry {
    fn head_of(s: &[u8]) -> [u8; INLINE] {
        let mut head = [0u8; INLINE];
        let n = s.len().min(INLINE);
        head[..n].copy_from_slice(&s[..n]);
        head
    }

    /// Whether this entry is `s` (hash `hash`); `tail` gives the stored bytes past the head.
    fn is(&self, hash: u64, s: &[u8], tail: impl Fn(u32) -> bool) -> bool {
        self.hash == hash
            && self.len as usize == s.len()
            && self.head == Self::head_of(s)
            && (s.len() <= INLINE || tail(self.id))
    }
}

impl Interner {
    fn hash_of(&self, s: &str) -> u64 {
        let mut h = self.keys.build_hasher();
        h.write(s.as_bytes());
        h.finish()
    }

    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        if self.listed {
            self.arena.push_str(s);
            self.ends.push(self.arena.len() as u32);
            return self.ends.len() as u32 - 1;
        }
        // Hashed once, for the lookup and the insert: a keyed hash is the dearer part.
        let hash = self.hash_of(s);
        if let Some(id) = self.find(hash, s) {
            return id;
        }
        let id = self.ends.len() as u32;
        self.arena.push_str(s);
        self.ends.push(self.arena.len() as u32);
        let entry = Entry {
            hash,
            id,
            len: s.len() as u32,
            head: Entry::head_of(s.as_bytes()),
        };
        self.table.insert_unique(hash, entry, |e| e.hash);
        id
    }

    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        debug_assert!(!self.listed, "listed strings are not looked up");
        self.find(self.hash_of(s), s)
    }

    fn find(&self, hash: u64, s: &str) -> Option<u32> {
        let bytes = s.as_bytes();
        add(Step::HashProbe, 1);
        self.table
            .find(hash, |e| {
                add(Step::HashProbe, 1);
                e.is(hash, bytes, |id| {
                    self.text(id).as_bytes()[INLINE..] == bytes[INLINE..]
                })
            })
            .map(|e| e.id)
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn text(&self, id: u32) -> &str {
        let start = match id {
            0 => 0,
            _ => self.ends[id as usize - 1] as usize,
        };
        &self.arena[start..self.ends[id as usize] as usize]
    }
}

/// Byte equality without a call into libc's memcmp, for short keys.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut x = a.chunks_exact(8);
    let mut y = b.chunks_exact(8);
    let word = |c: &[u8]| u64::from_ne_bytes(c.try_into().expect("eight bytes"));
    for (p, q) in (&mut x).zip(&mut y) {
        if word(p) != word(q) {
            return false;
        }
    }
    x.remainder().iter().zip(y.remainder()).all(|(p, q)| p == q)
}

/// A record set's strings: its own, or those of the records it was taken from
/// ([`Records::subset`]), so that a string keeps its id, and cells are copied as they are.
#[derive(Debug)]
pub(crate) enum Strings<'s> {
    Own(Interner),
    Shared(&'s Interner),
}

impl std::ops::Deref for Strings<'_> {
    type Target = Interner;

    fn deref(&self) -> &Interner {
        match self {
            Strings::Own(i) => i,
            Strings::Shared(i) => i,
        }
    }
}

impl Strings<'_> {
    pub(crate) fn intern(&mut self, s: &str) -> u32 {
        match self {
            Strings::Own(i) => i.intern(s),
            // A subset is made from finished records and never has a record added.
            Strings::Shared(_) => unreachable!("a subset of records is never added to"),
        }
    }
}

/// "No valid timestamp" in the time column.
pub(crate) const NO_TIME: i64 = i64::MIN;

/// How much of an invalid value is kept to show in a finding.
const INVALID_TEXT_CHARS: usize = 120;

/// The records of one run or dry run.
#[derive(Debug)]
pub struct Records<'s> {
    pub(crate) schema: &'s Schema,
    masks: Vec<u128>,
    starts: Vec<u32>,
    kinds: Vec<Kind>,
    bits: Vec<u64>,
    /// Each record's `timestamp`, or [`NO_TIME`].
    pub(crate) times: Vec<i64>,
    id_text: String,
    id_ends: Vec<u32>,
    pub(crate) strings: Strings<'s>,
    arrays: Vec<Box<[Cell]>>,
    time_slot: Option<Slot>,
    /// The record being built: a cell per slot, set where `pending_mask` has the slot's bit.
    /// One place per field, so giving a key again (or null) costs the same as giving it once.
    pending: Vec<Cell>,
    pending_mask: u128,
}

impl<'s> Records<'s> {
    pub fn new(schema: &'s Schema) -> Records<'s> {
        Records {
            schema,
            masks: Vec::new(),
            starts: Vec::new(),
            kinds: Vec::new(),
            bits: Vec::new(),
            times: Vec::new(),
            id_text: String::new(),
            id_ends: Vec::new(),
            strings: Strings::Own(Interner::default()),
            arrays: Vec::new(),
            time_slot: schema.slot(TIME_FIELD),
            pending: vec![Cell::of(Kind::Present, 0); schema.fields().len()],
            pending_mask: 0,
        }
    }

    /// Records read only to be written out again (`spill`'s partition files): their strings
    /// are listed as read, not interned, which spares a keyed hash and a table lookup per
    /// string. A string read twice then has two ids, so cells cannot be compared for equality:
    /// such records are encoded, never evaluated.
    pub(crate) fn listing(schema: &'s Schema) -> Records<'s> {
        let mut records = Records::new(schema);
        records.strings = Strings::Own(Interner {
            listed: true,
            ..Interner::default()
        });
        records
    }

    pub fn len(&self) -> usize {
        self.masks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.masks.is_empty()
    }

    pub fn schema(&self) -> &'s Schema {
        self.schema
    }

    /// The record's `id`.
    pub fn id(&self, record: usize) -> &str {
        let start = if record == 0 {
            0
        } else {
            self.id_ends[record - 1] as usize
        };
        &self.id_text[start..self.id_ends[record] as usize]
    }

    /// Which fields the record has, a bit per slot.
    #[inline]
    pub(crate) fn mask(&self, record: usize) -> u128 {
        self.masks[record]
    }

    /// The record's value of the field in `slot`, if present.
    #[inline]
    pub(crate) fn get(&self, record: usize, slot: Slot) -> Option<Cell> {
        let mask = self.masks[record];
        let bit = 1u128 << slot;
        if mask & bit == 0 {
            return None;
        }
        let at = self.starts[record] as usize + (mask & (bit - 1)).count_ones() as usize;
        Some(Cell::of(self.kinds[at], self.bits[at]))
    }

    pub(crate) fn array(&self, cell: Cell) -> &[Cell] {
        &self.arrays[cell.bits as usize]
    }

    /// The value as JSON, as a finding shows it.
    pub(crate) fn render(&self, cell: Option<Cell>) -> Value {
        let Some(cell) = cell else {
            return Value::Null;
        };
        match cell.kind {
            Kind::Number => json!(f64::from_bits(cell.bits)),
            Kind::Bool => json!(cell.bits == 1),
            Kind::Str | Kind::Invalid => json!(self.strings.text(cell.bits as u32)),
            Kind::Time => json!(timestamp::format_micros(cell.bits as i64)),
            Kind::Array => Value::Array(
                self.array(cell)
                    .iter()
                    .map(|c| self.render(Some(*c)))
                    .collect(),
            ),
            Kind::Present | Kind::Other => json!("(present)"),
        }
    }

    /// Orders records for findings by what they hold, so that the order of the input does not
    /// matter: time (records without one last), id, then every value.
    pub(crate) fn compare(&self, a: usize, b: usize) -> std::cmp::Ordering {
        let time = |r: usize| match self.times[r] {
            NO_TIME => i64::MAX,
            t => t,
        };
        time(a)
            .cmp(&time(b))
            .then_with(|| self.id(a).cmp(self.id(b)))
            .then_with(|| {
                (0..self.schema.fields().len() as Slot)
                    .map(|slot| self.compare_cells(self.get(a, slot), self.get(b, slot)))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
    }

    fn compare_cells(&self, a: Option<Cell>, b: Option<Cell>) -> std::cmp::Ordering {
        match (a, b) {
            (Some(a), Some(b)) if a.kind == b.kind => match a.kind {
                Kind::Str | Kind::Invalid => self
                    .strings
                    .text(a.bits as u32)
                    .cmp(self.strings.text(b.bits as u32)),
                Kind::Number => f64::from_bits(a.bits).total_cmp(&f64::from_bits(b.bits)),
                Kind::Array => {
                    let (x, y) = (self.array(a), self.array(b));
                    x.iter()
                        .zip(y)
                        .map(|(p, q)| self.compare_cells(Some(*p), Some(*q)))
                        .find(|o| o.is_ne())
                        .unwrap_or_else(|| x.len().cmp(&y.len()))
                }
                _ => (a.bits as i64).cmp(&(b.bits as i64)),
            },
            (Some(a), Some(b)) => a.kind.cmp(&b.kind),
            (a, b) => a.is_some().cmp(&b.is_some()),
        }
    }

    /// The records at `picks` (in that order), holding the same strings under the same ids.
    pub(crate) fn subset<'a>(&'a self, picks: &[u32]) -> Records<'a> {
        let cells: usize = picks
            .iter()
            .map(|&r| self.masks[r as usize].count_ones() as usize)
            .sum();
        let mut out = Records {
            schema: self.schema,
            masks: Vec::with_capacity(picks.len()),
            starts: Vec::with_capacity(picks.len()),
            kinds: Vec::with_capacity(cells),
            bits: Vec::with_capacity(cells),
            times: Vec::with_capacity(picks.len()),
            id_text: String::new(),
            id_ends: Vec::with_capacity(picks.len()),
            strings: Strings::Shared(&self.strings),
            arrays: Vec::new(),
            time_slot: self.time_slot,
            pending: Vec::new(),
            pending_mask: 0,
        };
        for &r in picks {
            let r = r as usize;
            let mask = self.masks[r];
            let start = self.starts[r] as usize;
            out.starts.push(out.kinds.len() as u32);
            for at in start..start + mask.count_ones() as usize {
                let (kind, mut bits) = (self.kinds[at], self.bits[at]);
                if kind == Kind::Array {
                    // Array elements are scalars (`ndjson`), so only the outer index moves.
                    out.arrays.push(self.arrays[bits as usize].clone());
                    bits = (out.arrays.len() - 1) as u64;
                }
                out.kinds.push(kind);
                out.bits.push(bits);
            }
            out.masks.push(mask);
            out.id_text.push_str(self.id(r));
            out.id_ends.push(out.id_text.len() as u32);
            out.times.push(self.times[r]);
        }
        out
    }

    /// Adds `other`'s records after these, as if they had been read after them into this set
    /// (NDJSON read in chunks on several threads, `ndjson::parse_ndjson_parallel`). Each set
    /// numbers its strings in its own table, so `other`'s strings are interned into this one and
    /// every cell that names a string (a string, a wrong-type value's text, a string in an
    /// array) takes its id here. A string gets the id it would have had if read here: ids follow
    /// first appearance, `other`'s new strings in their order there.
    pub(crate) fn append(&mut self, other: Records<'_>) {
        assert!(
            std::ptr::eq(self.schema, other.schema),
            "records of one schema are appended"
        );
        debug_assert!(self.pending_mask == 0 && other.pending_mask == 0);
        let ids: Vec<u32> = (0..other.strings.len() as u32)
            .map(|id| self.strings.intern(other.strings.text(id)))
            .collect();
        let remap = |cell: Cell| match cell.kind {
            Kind::Str | Kind::Invalid => Cell::of(cell.kind, u64::from(ids[cell.bits as usize])),
            _ => cell,
        };
        let array_base = self.arrays.len() as u64;
        self.arrays.extend(
            other
                .arrays
                .into_iter()
                .map(|items| items.iter().map(|&c| remap(c)).collect()),
        );
        let cell_base = self.kinds.len() as u32;
        self.starts
            .extend(other.starts.iter().map(|&s| s + cell_base));
        self.bits.reserve(other.bits.len());
        for (&kind, &bits) in other.kinds.iter().zip(&other.bits) {
            self.bits.push(match kind {
                Kind::Array => bits + array_base,
                _ => remap(Cell::of(kind, bits)).bits,
            });
        }
        self.kinds.extend_from_slice(&other.kinds);
        let id_base = self.id_text.len() as u32;
        self.id_text.push_str(&other.id_text);
        self.id_ends
            .extend(other.id_ends.iter().map(|&e| e + id_base));
        self.masks.extend_from_slice(&other.masks);
        self.times.extend_from_slice(&other.times);
    }

    // Building, one record at a time: values with `put_*`, then `finish` with the id.

    /// Sets the field's value; a field given twice keeps its last value.
    pub(crate) fn put(&mut self, slot: Slot, cell: Cell) {
        add(Step::PendingCell, 1);
        self.pending[usize::from(slot)] = cell;
        self.pending_mask |= 1u128 << slot;
    }

    /// Forgets the value given so far for `slot` (its key given again, as null).
    pub(crate) fn clear(&mut self, slot: Slot) {
        add(Step::PendingCell, 1);
        self.pending_mask &= !(1u128 << slot);
    }

    pub(crate) fn put_str(&mut self, slot: Slot, text: &str) {
        let id = self.strings.intern(text);
        self.put(slot, Cell::of(Kind::Str, u64::from(id)));
    }

    /// A value of the wrong type: kept (shortened) only to be shown.
    pub(crate) fn put_invalid(&mut self, slot: Slot, shown: &str) {
        let shown = match shown.char_indices().nth(INVALID_TEXT_CHARS) {
            Some((end, _)) => format!("{}…", &shown[..end]),
            None => shown.to_string(),
        };
        let id = self.strings.intern(&shown);
        self.put(slot, Cell::of(Kind::Invalid, u64::from(id)));
    }

    pub(crate) fn put_array(&mut self, slot: Slot, items: Vec<Cell>) {
        let cell = self.array_cell(items);
        self.put(slot, cell);
    }

    /// A cell for an array of `items` (scalars), to be put in a record.
    pub(crate) fn array_cell(&mut self, items: Vec<Cell>) -> Cell {
        self.arrays.push(items.into_boxed_slice());
        Cell::of(Kind::Array, (self.arrays.len() - 1) as u64)
    }

    /// A text value for a field of type `ty`: a string, a timestamp, or a wrong type.
    pub(crate) fn put_text(&mut self, slot: Slot, text: &str) {
        match self.schema.spec(slot).ty {
            FieldType::String => self.put_str(slot, text),
            FieldType::Any if self.schema.spec(slot).value_read => self.put_str(slot, text),
            FieldType::Any => self.put(slot, Cell::of(Kind::Present, 0)),
            FieldType::Timestamp => match timestamp::parse_micros(text.as_bytes()) {
                Some(t) => self.put(slot, Cell::of(Kind::Time, t as u64)),
                None => self.put_invalid(slot, text),
            },
            FieldType::Number | FieldType::Boolean => self.put_invalid(slot, text),
        }
    }

    /// Ends the record being built: its cells are stored in slot order.
    pub(crate) fn finish(&mut self, id: &str) {
        let start = self.kinds.len();
        let mask = std::mem::take(&mut self.pending_mask);
        let mut rest = mask;
        while rest != 0 {
            add(Step::PendingCell, 1);
            let cell = self.pending[rest.trailing_zeros() as usize];
            self.kinds.push(cell.kind);
            self.bits.push(cell.bits);
            rest &= rest - 1;
        }
        self.masks.push(mask);
        self.starts.push(start as u32);
        self.id_text.push_str(id);
        self.id_ends.push(self.id_text.len() as u32);
        let record = self.masks.len() - 1;
        let time = self
            .time_slot
            .and_then(|slot| self.get(record, slot))
            .and_then(Cell::as_time)
            .unwrap_or(NO_TIME);
        self.times.push(time);
    }

    /// Drops the record being built (its input was refused).
    pub(crate) fn abandon(&mut self) {
        self.pending_mask = 0;
    }
}
