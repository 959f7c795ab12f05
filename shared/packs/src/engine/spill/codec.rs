//! Records as bytes, for partition files: a record is written as its typed cells (what the
//! reader made of the input), so that reading a partition back costs no JSON or CSV parsing and
//! no value is typed twice. And each record's *order key*: bytes whose order is the order of
//! [`Records::compare`], so that findings evaluated in different processes can be put in the
//! canonical order without their records.
//!
//! A record: its length (LEB128), then its id (length, UTF-8), its presence mask (as many bytes
//! as the schema has fields, in eighths), and its cells in slot order, each a kind byte and a
//! payload: 8 bytes for a number or a time, 1 for a boolean, length and UTF-8 for a string or a
//! value of the wrong type, a count and the elements for an array, nothing otherwise.

use super::super::records::{Cell, Kind, Records, NO_TIME};
use super::super::schema::Slot;

/// The kinds by their byte (`Kind`'s discriminant).
const KINDS: [Kind; 8] = [
    Kind::Number,
    Kind::Bool,
    Kind::Str,
    Kind::Time,
    Kind::Array,
    Kind::Present,
    Kind::Other,
    Kind::Invalid,
];

/// A partition file that is not what [`encode`] wrote.
#[derive(Debug)]
pub(crate) struct Corrupt;

fn mask_bytes(records: &Records) -> usize {
    records.schema.fields().len().div_ceil(8)
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    put_varint(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// Appends record `r` of `records` to `out`.
pub(crate) fn encode(records: &Records, r: usize, out: &mut Vec<u8>) {
    // The body is written after room for its length, which is then filled in (records are
    // short: a length of more than one byte moves the body once).
    let start = out.len();
    out.push(0);
    put_text(out, records.id(r));
    let mask = records.mask(r);
    out.extend_from_slice(&mask.to_le_bytes()[..mask_bytes(records)]);
    let mut rest = mask;
    while rest != 0 {
        let slot = rest.trailing_zeros() as Slot;
        rest &= rest - 1;
        let cell = records.get(r, slot).expect("present in the mask");
        encode_cell(records, cell, out);
    }
    let len = out.len() - start - 1;
    if len < 0x80 {
        out[start] = len as u8;
    } else {
        let mut prefix = Vec::with_capacity(4);
        put_varint(&mut prefix, len as u64);
        out.splice(start..start + 1, prefix);
    }
}

fn encode_cell(records: &Records, cell: Cell, out: &mut Vec<u8>) {
    out.push(cell.kind as u8);
    match cell.kind {
        Kind::Number | Kind::Time => out.extend_from_slice(&cell.bits.to_le_bytes()),
        Kind::Bool => out.push(cell.bits as u8),
        Kind::Str | Kind::Invalid => put_text(out, records.strings.text(cell.bits as u32)),
        Kind::Array => {
            let items = records.array(cell);
            put_varint(out, items.len() as u64);
            for &item in items {
                encode_cell(records, item, out);
            }
        }
        Kind::Present | Kind::Other => {}
    }
}

/// Reads bytes written by [`encode`].
struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Result<&'b [u8], Corrupt> {
        let end = self.at.checked_add(n).ok_or(Corrupt)?;
        let taken = self.bytes.get(self.at..end).ok_or(Corrupt)?;
        self.at = end;
        Ok(taken)
    }

    fn byte(&mut self) -> Result<u8, Corrupt> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<u64, Corrupt> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(n);
            }
        }
        Err(Corrupt)
    }

    fn text(&mut self) -> Result<&'b str, Corrupt> {
        let len = usize::try_from(self.varint()?).map_err(|_| Corrupt)?;
        std::str::from_utf8(self.take(len)?).map_err(|_| Corrupt)
    }

    fn u64(&mut self) -> Result<u64, Corrupt> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}

/// The strings met last in each slot, by a cheap hash of their text: most fields a pack reads
/// as strings (a direction, an instrument, a country, a status) take a few values, which are then
/// found here without the interner's keyed hash and table lookup. A string that is not here (or
/// collides) is interned as usual; the ids are the interner's either way.
pub(crate) struct Recent {
    ids: Vec<[(u64, u32); RECENT]>,
}

const RECENT: usize = 8;

impl Recent {
    pub(crate) fn new(records: &Records) -> Self {
        Recent {
            ids: vec![[(0, u32::MAX); RECENT]; records.schema.fields().len()],
        }
    }

    fn intern(&mut self, records: &mut Records, slot: Slot, text: &str) -> u32 {
        let mut h = rustc_hash::FxHasher::default();
        std::hash::Hasher::write(&mut h, text.as_bytes());
        let hash = std::hash::Hasher::finish(&h);
        let entry = &mut self.ids[usize::from(slot)][(hash >> 58) as usize % RECENT];
        if entry.1 != u32::MAX && entry.0 == hash && records.strings.text(entry.1) == text {
            return entry.1;
        }
        let id = records.strings.intern(text);
        *entry = (hash, id);
        id
    }
}

/// Adds the whole records at the start of `bytes` to `records`; how many bytes they took (the
/// rest is the start of a record whose end is not in `bytes` yet).
pub(crate) fn decode(
    bytes: &[u8],
    records: &mut Records,
    recent: &mut Recent,
) -> Result<usize, Corrupt> {
    let mut whole = 0;
    let mut framing = Reader { bytes, at: 0 };
    while framing.at < bytes.len() {
        let Ok(len) = framing.varint() else {
            // The length itself is cut off.
            break;
        };
        let len = usize::try_from(len).map_err(|_| Corrupt)?;
        let Ok(body) = framing.take(len) else { break };
        decode_record(body, records, recent).inspect_err(|_| records.abandon())?;
        whole = framing.at;
    }
    Ok(whole)
}

fn decode_record(body: &[u8], records: &mut Records, recent: &mut Recent) -> Result<(), Corrupt> {
    let mut reader = Reader { bytes: body, at: 0 };
    let id = reader.text()?;
    let mut mask = [0u8; 16];
    mask[..mask_bytes(records)].copy_from_slice(reader.take(mask_bytes(records))?);
    let mut rest = u128::from_le_bytes(mask);
    while rest != 0 {
        let slot = rest.trailing_zeros() as Slot;
        rest &= rest - 1;
        let cell = decode_cell(&mut reader, records, recent, slot)?;
        records.put(slot, cell);
    }
    if reader.at != body.len() {
        return Err(Corrupt);
    }
    records.finish(id);
    Ok(())
}

fn decode_cell(
    reader: &mut Reader,
    records: &mut Records,
    recent: &mut Recent,
    slot: Slot,
) -> Result<Cell, Corrupt> {
    let kind = *KINDS.get(usize::from(reader.byte()?)).ok_or(Corrupt)?;
    let bits = match kind {
        Kind::Number | Kind::Time => reader.u64()?,
        Kind::Bool => u64::from(reader.byte()? != 0),
        Kind::Str | Kind::Invalid => u64::from(recent.intern(records, slot, reader.text()?)),
        Kind::Array => {
            let n = reader.varint()?;
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(decode_cell(reader, records, recent, slot)?);
            }
            return Ok(records.array_cell(items));
        }
        Kind::Present | Kind::Other => 0,
    };
    Ok(Cell::of(kind, bits))
}

/// Record `r`'s order key, in hex: keys of two records compare (as strings) as
/// [`Records::compare`] compares the records: time (none last), id, then each field in slot
/// order (missing first; values of different kinds by kind; strings by their bytes, numbers in
/// total order, arrays element by element then by length; the rest by their bits as signed).
pub(crate) fn order_key(records: &Records, r: usize) -> String {
    let mut key = Vec::with_capacity(64);
    let time = match records.times[r] {
        NO_TIME => i64::MAX,
        t => t,
    };
    put_signed(&mut key, time);
    put_ordered_text(&mut key, records.id(r));
    for slot in 0..records.schema.fields().len() as Slot {
        match records.get(r, slot) {
            None => key.push(0),
            Some(cell) => {
                key.push(1);
                put_ordered_cell(&mut key, records, cell);
            }
        }
    }
    let mut hex = String::with_capacity(key.len() * 2);
    for b in key {
        hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    hex
}

/// A signed number, big-endian with its sign bit flipped: byte order is numeric order.
fn put_signed(key: &mut Vec<u8>, n: i64) {
    key.extend_from_slice(&((n as u64) ^ (1 << 63)).to_be_bytes());
}

/// Text whose byte order holds however it is followed: each zero byte escaped as `00 ff`, the
/// end marked `00 01` (before any byte of a longer text).
fn put_ordered_text(key: &mut Vec<u8>, text: &str) {
    for &b in text.as_bytes() {
        key.push(b);
        if b == 0 {
            key.push(0xff);
        }
    }
    key.extend_from_slice(&[0, 1]);
}

fn put_ordered_cell(key: &mut Vec<u8>, records: &Records, cell: Cell) {
    key.push(cell.kind as u8);
    match cell.kind {
        Kind::Str | Kind::Invalid => put_ordered_text(key, records.strings.text(cell.bits as u32)),
        Kind::Number => {
            // f64::total_cmp's order: negative numbers with every bit flipped, the others with
            // the sign bit.
            let bits = cell.bits;
            let ordered = if bits >> 63 == 1 {
                !bits
            } else {
                bits ^ (1 << 63)
            };
            key.extend_from_slice(&ordered.to_be_bytes());
        }
        Kind::Array => {
            for &item in records.array(cell) {
                key.push(1);
                put_ordered_cell(key, records, item);
            }
            key.push(0);
        }
        Kind::Bool | Kind::Time | Kind::Present | Kind::Other => put_signed(key, cell.bits as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_listed_by_their_byte() {
        for (i, kind) in KINDS.iter().enumerate() {
            assert_eq!(*kind as usize, i);
        }
    }
}
