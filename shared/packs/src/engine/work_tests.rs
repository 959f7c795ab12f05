//! The work per input byte is constant: each test builds an adversarial input at three sizes
//! (N, 2N, 4N), counts the engine's unit steps on it (`work.rs`) and checks that they grow
//! linearly. Counting, not timing, so the tests neither flake on a busy machine nor pass on a
//! fast one.
//!
//! Two of the shapes are hash floods: keys an attacker computes offline to collide under an
//! unkeyed hash function (rustc-hash's FxHasher, which the engine used), so that every insert
//! compares against every key before it. Each such test first checks that its keys do collide
//! under FxHasher (so the shape is what an attacker can send), then that the engine's tables,
//! keyed per process, do not degrade on them.

use std::hash::{BuildHasher, Hash, Hasher};

use chrono::{TimeZone, Utc};
use rustc_hash::{FxBuildHasher, FxHasher};
use serde_json::{json, Value};

use super::records::Kind;
use super::work::{count, Step};
use super::*;
use crate::{pack, PolicyType, Rule};

/// The sizes each shape is measured at: N, 2N, 4N.
const SIZES: [usize; 3] = [1_000, 2_000, 4_000];

/// `count(n)` measured at each of [`SIZES`]: each doubling may at most double it (with 10 %
/// slack for constant terms).
fn assert_linear(what: &str, count: impl Fn(usize) -> u64) {
    let counts: Vec<u64> = SIZES.iter().map(|&n| count(n)).collect();
    println!("{what}: {counts:?}");
    assert!(counts[0] > 0, "{what}: nothing counted");
    for pair in counts.windows(2) {
        assert!(
            pair[1] as f64 <= 2.2 * pair[0] as f64,
            "{what}: the count grew from {} to {} when the input doubled ({counts:?})",
            pair[0],
            pair[1]
        );
    }
}

fn lines(records: &[Value]) -> Vec<u8> {
    records
        .iter()
        .map(|r| r.to_string() + "\n")
        .collect::<String>()
        .into_bytes()
}

fn custom(window: &str, conditions: Value) -> Rule {
    serde_json::from_value(json!({
        "rule_id": "aml-tst-001", "name": "Test", "type": "pattern", "description": "d",
        "severity": "high", "conditions": conditions, "policy_excerpt": "e",
        "policy_section": "s", "category": "Test", "historical_context": "h",
        "time_window": window,
    }))
    .unwrap()
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()
}

/// Reads `body` against the rule's schema and evaluates it, explaining `keep` findings: the steps
/// of both.
fn steps(rule: &Rule, body: &[u8], keep: usize) -> work::Counts {
    let schema = Schema::for_rules([rule]).unwrap();
    let (_, steps) = count(|| {
        let records = input::parse_ndjson(&schema, body).unwrap();
        evaluate(&[RuleRun::as_written(rule)], &records, now(), keep).unwrap()
    });
    steps
}

#[test]
fn keys_given_again_and_again_cost_a_step_each() {
    // One line that sets a field k times, then clears another k times (null, and an object
    // for a nested path): every clear used to look at every value given so far in the line.
    let rule = custom(
        "1d",
        json!({"all": [
            {"field": "amount_usd", "op": "gt", "value": 0},
            {"field": "kind", "op": "eq", "value": "tx"},
            {"field": "account.owner_id", "op": "exists", "value": true},
        ]}),
    );
    let line = |k: usize| {
        let mut text = String::from(r#"{"id": "r""#);
        for _ in 0..k {
            text.push_str(r#", "amount_usd": 1"#);
        }
        for _ in 0..k {
            text.push_str(r#", "kind": null, "account": {}"#);
        }
        text.push_str("}\n");
        text.into_bytes()
    };
    assert_linear("cells of the record being built", |k| {
        steps(&rule, &line(k), 10).of(Step::PendingCell)
    });
}

/// rustc-hash's multiplier, and its inverse modulo 2^64.
const FX_K: u64 = 0xf135_7aea_2e62_a9c5;

fn inverse(k: u64) -> u64 {
    // Newton's iteration doubles the correct low bits each step (k is odd).
    let mut x = k;
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(k.wrapping_mul(x)));
    }
    assert_eq!(x.wrapping_mul(k), 1);
    x
}

/// `count` finite numbers `v` that JSON carries exactly, such that `key(v)` all hash alike
/// under FxHasher: the same bucket (the low 26 bits) and the same 7-bit tag (the top bits) in
/// any table of up to 2^26 buckets. FxHasher ends a key of integers with `(h + bits) · K`
/// rotated left by 26, so fixing bits 31..63 of the product fixes both.
fn colliding_numbers<T: Hash>(key: impl Fn(u64) -> T, count: usize) -> Vec<f64> {
    let fx = |bits: u64| FxBuildHasher.hash_one(key(bits));
    let k_inv = inverse(FX_K);
    let h = fx(0).rotate_right(26).wrapping_mul(k_inv);
    for probe in [1u64, 12_345, u64::MAX / 3] {
        let model = h.wrapping_add(probe).wrapping_mul(FX_K).rotate_left(26);
        assert_eq!(
            fx(probe),
            model,
            "FxHasher is not the hash these keys were made for"
        );
    }
    let high = 0x3ff0_0000_8000_0000u64;
    let mut out = Vec::with_capacity(count);
    for low in 1u64.. {
        let bits = (high | low).wrapping_mul(k_inv).wrapping_sub(h);
        let v = f64::from_bits(bits);
        let exact = v.is_finite()
            && v != 0.0
            && serde_json::from_str::<f64>(&json!(v).to_string())
                .is_ok_and(|w| w.to_bits() == bits);
        if exact {
            out.push(v);
            if out.len() == count {
                break;
            }
        }
    }
    let bucket = |v: f64| fx(v.to_bits()) & ((1 << 26) - 1);
    let tag = |v: f64| fx(v.to_bits()) >> 57;
    assert!(out
        .iter()
        .all(|&v| bucket(v) == bucket(out[0]) && tag(v) == tag(out[0])));
    out
}

#[test]
fn numbers_made_to_collide_as_group_keys_cost_a_probe_each() {
    // The CTR rule groups by customer and direction; a direction sent as a number is a group
    // key of its own, hashed with the customer's group.
    let rule = pack(PolicyType::Aml).rule("aml-ctr-001").unwrap().clone();
    let body = |n: usize| {
        let directions = colliding_numbers(|bits| (0u32, Kind::Number, bits), n);
        let records: Vec<Value> = directions
            .iter()
            .enumerate()
            .map(|(i, d)| {
                json!({"id": format!("t{i}"), "timestamp": "2025-03-03T09:00:00Z",
                    "customer_id": "C1", "direction": d, "instrument": "cash", "amount_usd": 1})
            })
            .collect();
        lines(&records)
    };
    assert_linear("hash probes of the grouping", |n| {
        steps(&rule, &body(n), 0).of(Step::HashProbe)
    });
}

#[test]
fn numbers_made_to_collide_as_distinct_values_cost_a_probe_each() {
    let rule = custom(
        "30d",
        json!({"aggregate": "count_distinct", "field": "branch_id", "group_by": ["customer_id"],
            "op": "lt", "value": 0}),
    );
    let body = |n: usize| {
        let branches = colliding_numbers(|bits| (Kind::Number, bits), n);
        let records: Vec<Value> = branches
            .iter()
            .enumerate()
            .map(|(i, b)| {
                json!({"id": format!("t{i}"), "timestamp": "2025-03-03T09:00:00Z",
                    "customer_id": "C1", "branch_id": b})
            })
            .collect();
        lines(&records)
    };
    assert_linear("hash probes of count_distinct", |n| {
        steps(&rule, &body(n), 0).of(Step::HashProbe)
    });
}

/// `count` distinct ASCII strings of 32 bytes with one FxHasher hash (all 64 bits). For 32
/// bytes FxHasher's byte hash is `mix(SEED2 ^ c, mix(SEED1 ^ a, ZERO ^ b) ^ d)` of the four
/// 8-byte words `a b c d`: with `c` fixed, choosing `d = mix(SEED1 ^ a, ZERO ^ b) ^ target` for
/// any `a b` gives the same hash, and one `a b` in 256 makes `d` ASCII.
fn colliding_strings(count: usize) -> Vec<String> {
    const SEED1: u64 = 0x243f_6a88_85a3_08d3;
    const ZERO: u64 = 0xa409_3822_299f_31d0;
    let mix = |x: u64, y: u64| {
        let full = u128::from(x) * u128::from(y);
        (full as u64) ^ ((full >> 64) as u64)
    };
    let word = |s: &[u8]| u64::from_le_bytes(s.try_into().unwrap());
    let target = word(b"collide!");
    let mut out = Vec::with_capacity(count);
    for i in 0u64.. {
        let head = format!("{i:016}");
        let (a, b) = (word(&head.as_bytes()[..8]), word(&head.as_bytes()[8..]));
        let d = (mix(SEED1 ^ a, ZERO ^ b) ^ target).to_le_bytes();
        if d.iter().all(|c| c.is_ascii_graphic()) {
            out.push(format!(
                "{head}FIXEDPRT{}",
                std::str::from_utf8(&d).unwrap()
            ));
            if out.len() == count {
                break;
            }
        }
    }
    let fx = |s: &str| {
        let mut h = FxHasher::default();
        h.write(s.as_bytes());
        h.finish()
    };
    assert!(
        out.iter().all(|s| fx(s) == fx(&out[0])),
        "FxHasher is not the hash these strings were made for"
    );
    out
}

#[test]
fn strings_made_to_collide_cost_a_probe_each() {
    let rule = custom(
        "1d",
        json!({"field": "customer_id", "op": "eq", "value": "C1"}),
    );
    let body = |n: usize| {
        let records: Vec<Value> = colliding_strings(n)
            .iter()
            .enumerate()
            .map(|(i, s)| json!({"id": format!("t{i}"), "customer_id": s}))
            .collect();
        lines(&records)
    };
    assert_linear("hash probes of the string table", |n| {
        steps(&rule, &body(n), 0).of(Step::HashProbe)
    });
}

#[test]
fn findings_in_one_crowded_window_cost_a_bounded_look_each() {
    // Every record of one customer at one instant is a finding; each finding lists the other
    // records of its window, which used to mean walking to the last record of that instant.
    let rule = custom(
        "1d",
        json!({"aggregate": "count", "group_by": ["customer_id"], "op": "lt", "value": 0}),
    );
    let body = |n: usize| {
        let records: Vec<Value> = (0..n)
            .map(|i| {
                json!({"id": format!("t{i:05}"), "timestamp": "2025-03-03T09:00:00Z",
                    "customer_id": "C1"})
            })
            .collect();
        lines(&records)
    };
    assert_linear("records looked at to list findings' windows", |n| {
        steps(&rule, &body(n), n).of(Step::WindowRecord)
    });
}

#[test]
fn a_line_that_is_not_an_object_is_refused_in_a_bounded_message() {
    // serde quotes the value it did not expect; a line of one long string used to come back
    // whole in the error.
    let schema = Schema::for_rules(&pack(PolicyType::Aml).rules).unwrap();
    for n in [10_000, 20_000, 40_000] {
        let body = format!("\"{}\"\n", "x".repeat(n));
        let e = input::parse_ndjson(&schema, body.as_bytes()).unwrap_err();
        assert_eq!(e.position, Position::Line(1));
        assert!(
            e.message.starts_with("invalid type: string"),
            "{}",
            e.message
        );
        assert!(
            e.message.chars().count() <= 200,
            "{n}: a message of {} characters",
            e.message.chars().count()
        );
    }
}
