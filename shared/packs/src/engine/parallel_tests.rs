//! NDJSON read on several threads (`ndjson::parse_ndjson_parallel`) against the one-thread
//! reading, on the synthetic datasets (`crate::synth`) of every pack, roughened as real uploads
//! are: blank and whitespace lines, CRLF line ends, keys given twice, nulls, arrays, values of
//! the wrong type, sometimes no final newline and sometimes bad lines; and `Records::append`.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

use super::*;
use crate::synth::{generate, Rng};
use crate::{pack, PolicyType};

/// A value to put in place of a field's: null, an array (strings, numbers, a boolean, null, a
/// nested array), an object, or a value of another type than the field's.
fn odd_value(rng: &mut Rng, old: &Value, others: &[Value]) -> Value {
    let borrowed = || match others.first() {
        Some(Value::String(s)) => json!(s),
        _ => json!("C-000001"),
    };
    match rng.below(6) {
        0 => Value::Null,
        1 => json!([borrowed(), "x", 3, true, null, [1], {"a": 1}]),
        2 => json!({"nested": old.clone()}),
        3 => match old {
            Value::Number(n) => json!(n.to_string()),
            Value::String(_) => json!(rng.below(1000)),
            Value::Bool(b) => json!(if *b { "yes" } else { "no" }),
            _ => json!("wrong"),
        },
        4 => borrowed(),
        _ => json!(format!("new-{}", rng.below(50))),
    }
}

/// The object's text, with some key given a second time (a later value replaces an earlier).
fn object_text(rng: &mut Rng, record: &Map<String, Value>, others: &[Value]) -> String {
    let mut pairs: Vec<String> = record
        .iter()
        .map(|(k, v)| format!("{}:{}", json!(k), v))
        .collect();
    if !record.is_empty() && rng.chance(0.15) {
        let keys: Vec<&String> = record.keys().collect();
        let key = *rng.pick(&keys);
        // An id given again stays an id (another type would fail the line: bad lines are
        // placed on purpose).
        let value = match rng.below(3) {
            0 => record[key].clone(),
            _ if key == "id" => json!(format!("{}-again", record[key])),
            _ => odd_value(rng, &record[key], others),
        };
        let at = rng.below(pairs.len() as u64 + 1) as usize;
        pairs.insert(at, format!("{}:{}", json!(key), value));
    }
    format!("{{{}}}", pairs.join(","))
}

/// Lines no reader accepts: bad JSON, not an object, no id, an id of a wrong type, two objects.
const BAD_LINES: [&str; 7] = [
    "{\"id\": }",
    "[1, 2]",
    "{\"amount_usd\": 1}",
    "{\"id\": 1.5}",
    "{\"id\": \"a\"} {\"id\": \"b\"}",
    "not json",
    "{\"id\": \"\"}",
];

/// An NDJSON body from `policy`'s synthetic dataset, roughened by `noise`'s draws, with
/// `bad` bad lines at random places.
pub(super) fn body(
    policy: PolicyType,
    seed: u64,
    size: usize,
    noise: u64,
    few: bool,
    bad: usize,
) -> Vec<u8> {
    let mut data = generate(policy, seed, size);
    let mut rng = Rng::new(noise);
    if few {
        // Fewer lines than threads, or none.
        data.records.truncate(rng.below(4) as usize);
    }
    let values: Vec<Value> = data
        .records
        .iter()
        .flat_map(|r| r.as_object().into_iter().flat_map(|m| m.values().cloned()))
        .filter(Value::is_string)
        .take(64)
        .collect();
    let crlf = rng.chance(0.5);
    let mut lines: Vec<String> = Vec::new();
    for record in &data.records {
        while rng.chance(0.05) {
            lines.push(rng.pick(&["", "  ", "\t", " \r"]).to_string());
        }
        let mut record = record.as_object().cloned().unwrap_or_default();
        if rng.chance(0.3) {
            let keys: Vec<String> = record.keys().filter(|k| *k != "id").cloned().collect();
            if !keys.is_empty() {
                let key = rng.pick(&keys).clone();
                let start = rng.below(values.len().max(1) as u64) as usize;
                let new = odd_value(&mut rng, &record[&key], values.get(start..).unwrap_or(&[]));
                record.insert(key, new);
            }
        }
        lines.push(object_text(&mut rng, &record, &values));
    }
    for _ in 0..bad {
        let at = rng.below(lines.len() as u64 + 1) as usize;
        lines.insert(at, rng.pick(&BAD_LINES).to_string());
    }
    let end = if crlf { "\r\n" } else { "\n" };
    let mut text = lines.join(end);
    if rng.chance(0.7) {
        text.push_str(end);
    }
    text.into_bytes()
}

/// The first way `b` differs from `a`: record count, ids, values, strings.
pub(super) fn difference(a: &Records, b: &Records) -> Option<String> {
    if a.len() != b.len() {
        return Some(format!("{} records, not {}", b.len(), a.len()));
    }
    for r in 0..a.len() {
        if a.id(r) != b.id(r) {
            return Some(format!("record {r}: id {:?}, not {:?}", b.id(r), a.id(r)));
        }
        for (slot, field) in a.schema().fields().iter().enumerate() {
            let slot = slot as schema::Slot;
            let (x, y) = (a.render(a.get(r, slot)), b.render(b.get(r, slot)));
            if x != y || a.get(r, slot).map(|c| c.kind) != b.get(r, slot).map(|c| c.kind) {
                return Some(format!("record {r} field {}: {y}, not {x}", field.field));
            }
        }
        if a.times[r] != b.times[r] {
            return Some(format!(
                "record {r}: time {}, not {}",
                b.times[r], a.times[r]
            ));
        }
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn ndjson_read_on_threads_is_ndjson_read_on_one(
        seed in any::<u64>(),
        size in 0..300usize,
        noise in any::<u64>(),
        few in prop::bool::weighted(0.15),
        bad in select(vec![0usize, 0, 1, 2]),
        threads in 1..=8usize,
        keep in select(vec![0usize, 7, 1000]),
    ) {
        for policy in PolicyType::ALL {
            let p = pack(policy);
            let schema = Schema::for_rules(&p.rules).unwrap();
            let body = body(policy, seed, size, noise, few, bad);
            let one = input::parse_ndjson(&schema, &body);
            let many = input::parse_ndjson_parallel(&schema, &body, threads);
            let (one, many) = match (one, many) {
                (Err(x), Err(y)) => {
                    prop_assert_eq!(x, y, "{} on {} threads", policy, threads);
                    continue;
                }
                (Ok(x), Ok(y)) => (x, y),
                (x, y) => {
                    return Err(TestCaseError::fail(format!(
                        "{policy} on {threads} threads: {:?} on one, {:?} on threads",
                        x.map(|r| r.len()),
                        y.map(|r| r.len())
                    )))
                }
            };
            prop_assert!(bad == 0, "{policy}: a bad line was accepted");
            let d = difference(&one, &many);
            prop_assert!(d.is_none(), "{} on {} threads: {}", policy, threads, d.unwrap_or_default());
            let runs: Vec<RuleRun> = p.rules.iter().map(RuleRun::as_written).collect();
            let now = crate::synth::dataset_now();
            let x = evaluate(&runs, &one, now, keep).unwrap();
            let y = evaluate(&runs, &many, now, keep).unwrap();
            prop_assert!(x == y, "{} on {} threads: the evaluations differ", policy, threads);
        }
    }
}

/// Every cell, string table entry and id is what reading the two bodies as one gives: strings
/// only the second part holds get the next ids, in the order it met them; strings both hold get
/// the first part's ids; arrays (of strings, in a group-by field) and wrong-type text move too.
#[test]
fn appended_records_are_the_records_read_as_one() {
    let p = pack(PolicyType::Aml);
    let schema = Schema::for_rules(&p.rules).unwrap();
    let first = "{\"id\":\"a1\",\"customer_id\":\"C1\",\"amount_usd\":5,\"timestamp\":\"2025-01-02T00:00:00Z\"}\n\
                 {\"id\":\"a2\",\"customer_id\":[\"C9\",\"C1\",2],\"amount_usd\":\"lots\"}\n";
    let cases = [
        // Shares C1 with the first part, met after strings of its own (C2, then an array's C3).
        "{\"id\":\"b1\",\"customer_id\":\"C2\",\"amount_usd\":\"many\"}\n\
         {\"id\":\"b2\",\"customer_id\":[\"C3\",\"C1\"],\"timestamp\":\"2025-01-03T00:00:00Z\"}\n\
         {\"id\":\"b3\",\"customer_id\":\"C1\",\"amount_usd\":\"lots\"}\n",
        // Shares nothing.
        "{\"id\":\"b1\",\"customer_id\":\"D1\",\"amount_usd\":\"few\"}\n\
         {\"id\":\"b2\",\"customer_id\":[\"D2\"]}\n",
        // No strings, no arrays.
        "{\"id\":\"b1\",\"amount_usd\":7}\n",
    ];
    for second in cases {
        let mut appended = input::parse_ndjson(&schema, first.as_bytes()).unwrap();
        appended.append(input::parse_ndjson(&schema, second.as_bytes()).unwrap());
        let whole = input::parse_ndjson(&schema, (first.to_string() + second).as_bytes()).unwrap();
        assert_eq!(difference(&whole, &appended), None, "{second}");
        let texts = |r: &Records| {
            (0..r.strings.len() as u32)
                .map(|id| r.strings.text(id).to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(texts(&appended), texts(&whole), "{second}");
        for r in 0..whole.len() {
            for slot in 0..schema.fields().len() as schema::Slot {
                assert_eq!(
                    appended.get(r, slot),
                    whole.get(r, slot),
                    "record {r} slot {slot}"
                );
            }
        }
    }
}

/// Errors name the body's line, counted over the chunks before (blank lines among them), and
/// the first bad line of the body is the one reported, whichever thread reads it.
#[test]
fn the_first_bad_line_of_the_body_is_the_error() {
    let schema = Schema::for_rules(&pack(PolicyType::Aml).rules).unwrap();
    let good = "{\"id\":\"x\",\"amount_usd\":1}\r\n\n";
    let mut body = good.repeat(50);
    body.push_str("{\"id\": }\n");
    body.push_str(&good.repeat(50));
    body.push_str("[1]\n");
    for threads in 1..=8 {
        let err = input::parse_ndjson_parallel(&schema, body.as_bytes(), threads).unwrap_err();
        assert_eq!(err.position, Position::Line(101), "{threads} threads");
        assert_eq!(
            err,
            input::parse_ndjson(&schema, body.as_bytes()).unwrap_err()
        );
    }
}
