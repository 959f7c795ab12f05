//! The common line read by hand: one flat JSON object whose keys and strings carry no escapes
//! and whose values are strings, numbers, `true`, `false` or `null`. Such lines are nearly all
//! of an export, and serde_json spends most of a line's time on the values no rule reads, which
//! here are only checked for their grammar. Values a rule reads go through the very seeds of the
//! serde path (numbers through serde_json itself), so what is stored is the same.
//!
//! Anything else (a nested value, an escape, a control character, a syntax error, trailing
//! text) makes the line unsure: the caller forgets what was put and serde_json reads the line
//! again from its start, and words the error if there is one. So what is accepted, stored and
//! refused stays serde_json's.

use serde::de::value::{BoolDeserializer, StrDeserializer, UnitDeserializer};
use serde::de::DeserializeSeed;

use super::{IdSeed, ObjectSeed, Target, ValueSeed};

/// Whether the line was read whole (`true`), or must be read again by serde_json.
pub(super) fn read_flat(seed: ObjectSeed<'_, '_>, line: &str) -> bool {
    read(seed, line).is_some()
}

fn read(seed: ObjectSeed<'_, '_>, text: &str) -> Option<()> {
    let ObjectSeed { tree, records, top } = seed;
    let top = top?;
    let line = text.as_bytes();
    let mut at = skip_space(line, 0);
    expect(line, &mut at, b'{')?;
    at = skip_space(line, at);
    if line.get(at) == Some(&b'}') {
        return end(line, at + 1);
    }
    let mut position = 0;
    loop {
        expect(line, &mut at, b'"')?;
        let key_end = string_end(line, at)?;
        // Quotes are ASCII, so they cut the text at character boundaries.
        let key = &text[at..key_end];
        at = skip_space(line, key_end + 1);
        expect(line, &mut at, b':')?;
        at = skip_space(line, at);
        let target = top.keys.target(position, key, tree);
        position += 1;
        let value = Value::at(line, at)?;
        match (target, value) {
            (Target::Skip, _) => {}
            // A scalar where an object of fields is expected: rare enough to leave to serde.
            (Target::Object(_), _) => return None,
            (Target::Field(slot), v) => v.give(text, ValueSeed { slot, records })?,
            (Target::Id, v) => v.give(
                text,
                IdSeed {
                    id: &mut *top.id,
                    problem: &mut *top.id_type,
                },
            )?,
        }
        at = skip_space(line, value.end());
        match line.get(at)? {
            b',' => at = skip_space(line, at + 1),
            b'}' => return end(line, at + 1),
            _ => return None,
        }
    }
}

/// A scalar value's kind and extent in the line.
#[derive(Clone, Copy)]
enum Value {
    /// The text between the quotes, `start..end` (the closing quote at `end`).
    Str {
        start: usize,
        end: usize,
    },
    Number {
        start: usize,
        end: usize,
    },
    Bool {
        value: bool,
        end: usize,
    },
    Null {
        end: usize,
    },
}

impl Value {
    /// The value that starts at `at`, its grammar checked; `None` for anything else.
    fn at(line: &[u8], at: usize) -> Option<Value> {
        let literal = |word: &[u8]| line.get(at..at + word.len()) == Some(word);
        match *line.get(at)? {
            b'"' => {
                let end = string_end(line, at + 1)?;
                Some(Value::Str { start: at + 1, end })
            }
            b'-' | b'0'..=b'9' => Some(Value::Number {
                start: at,
                end: number_end(line, at)?,
            }),
            b't' if literal(b"true") => Some(Value::Bool {
                value: true,
                end: at + 4,
            }),
            b'f' if literal(b"false") => Some(Value::Bool {
                value: false,
                end: at + 5,
            }),
            b'n' if literal(b"null") => Some(Value::Null { end: at + 4 }),
            _ => None,
        }
    }

    /// Where the value's text ends (past a string's closing quote).
    fn end(self) -> usize {
        match self {
            Value::Str { end, .. } => end + 1,
            Value::Number { end, .. } | Value::Bool { end, .. } | Value::Null { end } => end,
        }
    }

    /// Hands the value to `seed` as serde_json would.
    fn give<'de, S: DeserializeSeed<'de, Value = ()>>(self, line: &'de str, seed: S) -> Option<()> {
        type E = serde_json::Error;
        match self {
            Value::Str { start, end } => seed
                .deserialize(StrDeserializer::<E>::new(&line[start..end]))
                .ok(),
            Value::Number { start, end } => {
                // serde_json decides integer or float, and its float parsing is the reference.
                let mut de = serde_json::Deserializer::from_str(&line[start..end]);
                seed.deserialize(&mut de).ok()
            }
            Value::Bool { value, .. } => seed.deserialize(BoolDeserializer::<E>::new(value)).ok(),
            Value::Null { .. } => seed.deserialize(UnitDeserializer::<E>::new()).ok(),
        }
    }
}

fn expect(line: &[u8], at: &mut usize, byte: u8) -> Option<()> {
    (line.get(*at) == Some(&byte)).then(|| *at += 1)
}

/// The object ended at `at`: only whitespace may follow.
fn end(line: &[u8], at: usize) -> Option<()> {
    (skip_space(line, at) == line.len()).then_some(())
}

/// Past JSON's whitespace.
fn skip_space(line: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = line.get(at) {
        at += 1;
    }
    at
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// A high bit in each byte of `word` below `n` (at most 128); the lowest such byte is exact
/// (a borrow only ever marks bytes above a true one).
#[inline]
fn bytes_below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS
}

/// The index of the quote that closes the string whose text starts at `at`; `None` when an
/// escape or a control character comes first, or no quote does.
fn string_end(line: &[u8], mut at: usize) -> Option<usize> {
    // Eight bytes at a time: a quote, a backslash or a control character in a word.
    while let Some(chunk) = line.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let stops = bytes_below(word ^ (ONES * u64::from(b'"')), 1)
            | bytes_below(word ^ (ONES * u64::from(b'\\')), 1)
            | bytes_below(word, 0x20);
        if stops != 0 {
            let stop = at + (stops.trailing_zeros() / 8) as usize;
            return (line[stop] == b'"').then_some(stop);
        }
        at += 8;
    }
    loop {
        match *line.get(at)? {
            b'"' => return Some(at),
            b'\\' | 0..=0x1f => return None,
            _ => at += 1,
        }
    }
}

/// Past a number in JSON's grammar (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`),
/// or `None` when what starts at `at` is not one.
fn number_end(line: &[u8], mut at: usize) -> Option<usize> {
    let digits = |at: usize| {
        let n = line[at.min(line.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        (n > 0).then_some(at + n)
    };
    if line.get(at) == Some(&b'-') {
        at += 1;
    }
    at = match line.get(at)? {
        b'0' => at + 1,
        b'1'..=b'9' => digits(at)?,
        _ => return None,
    };
    if line.get(at) == Some(&b'.') {
        at = digits(at + 1)?;
    }
    if let Some(b'e' | b'E') = line.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = line.get(at) {
            at += 1;
        }
        at = digits(at)?;
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::super::read_lines_by;
    use super::*;
    use crate::engine::records::Records;
    use crate::engine::schema::Schema;
    use crate::{pack, PolicyType, Rule};

    /// The AML pack's fields (strings, numbers, booleans, the timestamp) and a nested path.
    fn schema() -> Schema {
        let nested: Rule = serde_json::from_value(json!({
            "rule_id": "aml-tst-001", "name": "Test", "type": "pattern", "description": "d",
            "severity": "high", "policy_excerpt": "e", "policy_section": "s", "category": "Test",
            "historical_context": "h",
            "conditions": {"field": "account.owner_id", "op": "eq", "value": "O1"}
        }))
        .unwrap();
        let aml = pack(PolicyType::Aml);
        Schema::for_rules(aml.rules.iter().chain([&nested])).unwrap()
    }

    /// What the records hold: ids, times, and each field's kind and value as a finding shows it.
    fn snapshot(records: &Records) -> Vec<String> {
        (0..records.len())
            .map(|r| {
                let cells: Vec<String> = (0..records.schema().fields().len() as u8)
                    .map(|slot| {
                        let cell = records.get(r, slot);
                        format!("{:?}={}", cell.map(|c| c.kind), records.render(cell))
                    })
                    .collect();
                format!("{} {} {}", records.id(r), records.times[r], cells.join(","))
            })
            .collect()
    }

    fn read(schema: &Schema, body: &str, by_hand: bool) -> Result<Vec<String>, String> {
        read_lines_by(Records::new(schema), body, by_hand)
            .map(|(records, lines)| {
                let mut out = snapshot(&records);
                out.push(format!("{lines} lines"));
                out
            })
            .map_err(|e| e.to_string())
    }

    fn key() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "id",
            "timestamp",
            "customer_id",
            "amount_usd",
            "ctr_required",
            "account",
            "direction",
            "pep",
            "risk_rating",
            "unread",
            "",
            "cust\\u006fmer_id",
            "caf\u{e9}",
        ])
        .prop_map(|k| format!("\"{k}\""))
    }

    fn value() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "\"C001\"",
            "\"a longer string than eight bytes\"",
            "\"\"",
            "\"caf\u{e9} \u{1f600}\"",
            "\"a\\nb\"",
            "\"C\\u0030\"",
            "\"a\tb\"",
            "\"2025-03-01T00:00:00Z\"",
            "\"2025-03-01T00:00:00.123456+02:00\"",
            "\"yesterday\"",
            "0",
            "-0",
            "12.5",
            "7",
            "-3",
            "1e400",
            "-1e400",
            "01",
            "-",
            "1.",
            "12345678901234567890123",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "1.5E+3",
            "2.5e-3",
            "true",
            "false",
            "null",
            "tru",
            "nul",
            "{\"owner_id\": \"O1\"}",
            "{\"owner_id\": 1, \"owner_id\": \"O1\"}",
            "{}",
            "[1, \"a\", null, [2]]",
            "[]",
        ])
        .prop_map(str::to_string)
    }

    fn space() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", "", "", " ", "\t", "  "])
    }

    /// A line: an object of entries, now and then broken (a character dropped, a brace or a
    /// comma added, text after it).
    fn line() -> impl Strategy<Value = String> {
        let entry = (space(), key(), space(), space(), value(), space())
            .prop_map(|(a, k, b, c, v, d)| format!("{a}{k}{b}:{c}{v}{d}"));
        (
            prop::collection::vec(entry, 0..8),
            space(),
            0..12usize,
            any::<prop::sample::Index>(),
        )
            .prop_map(|(entries, s, breakage, at)| {
                let mut line = format!("{s}{{{}}}{s}", entries.join(","));
                match breakage {
                    0 if !line.is_empty() => {
                        let cut = at.index(line.len());
                        if line.is_char_boundary(cut) && line.is_char_boundary(cut + 1) {
                            line.remove(cut);
                        }
                    }
                    1 => line.push('}'),
                    2 => {
                        let mut mid = line.len() / 2;
                        while !line.is_char_boundary(mid) {
                            mid += 1;
                        }
                        line.insert(mid, ',');
                    }
                    3 => line.push_str(" x"),
                    4 => line = line.replace('}', ",}"),
                    _ => {}
                }
                line
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The hand reader stores what serde_json's reader stores and refuses what it refuses,
        /// with the same error, line and field.
        #[test]
        fn the_hand_reader_reads_as_serde_json_does(lines in prop::collection::vec(line(), 1..6)) {
            let schema = schema();
            let body = lines.join("\n");
            prop_assert_eq!(read(&schema, &body, true), read(&schema, &body, false), "{}", body);
        }
    }

    #[test]
    fn strings_end_at_their_quote_and_stop_at_escapes_and_control_characters() {
        let cases: &[(&[u8], Option<usize>)] = &[
            (b"\"", Some(0)),
            (b"abc\"", Some(3)),
            (b"abcdefghijklmnop\"x", Some(16)),
            (b"abcdefg\"", Some(7)),
            (b"abcdefgh\"", Some(8)),
            (b"ab\\\"c\"", None),
            (b"abcdefghij\\n\"", None),
            (b"ab\tc\"", None),
            (b"abcdefghi\x1f\"", None),
            (b"abc", None),
            (b"abcdefghijklmnop", None),
            ("caf\u{e9} \u{1f600}\"".as_bytes(), Some(10)),
            (b"\x7f\x20\"", Some(2)),
        ];
        for (text, end) in cases {
            assert_eq!(
                string_end(text, 0),
                *end,
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn numbers_follow_json_grammar() {
        let cases: &[(&str, Option<usize>)] = &[
            ("0", Some(1)),
            ("-0", Some(2)),
            ("123,", Some(3)),
            ("12.50}", Some(5)),
            ("1e5", Some(3)),
            ("1E+05", Some(5)),
            ("-1.5e-3 ", Some(7)),
            ("01", Some(1)),
            ("-", None),
            ("1.", None),
            ("1.e3", None),
            ("1e", None),
            ("1e+", None),
            ("-a", None),
            (".5", None),
        ];
        for (text, end) in cases {
            assert_eq!(number_end(text.as_bytes(), 0), *end, "{text}");
        }
    }

    #[test]
    fn bytes_below_marks_the_first_byte_exactly() {
        let word = u64::from_le_bytes(*b"ab\x00\x01cdef");
        assert_eq!(bytes_below(word, 1).trailing_zeros() / 8, 2);
        assert_eq!(bytes_below(word, 0x20).trailing_zeros() / 8, 2);
        assert_eq!(bytes_below(u64::from_le_bytes(*b"abcdefgh"), 0x20), 0);
    }
}
