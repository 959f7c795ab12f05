//! The work of ingesting a report grows no faster than the report: adversarial shapes (long and
//! deeply hierarchical rule ids, many rules, tool components and taxonomies, rules with many
//! tags, long tags, huge property bags) at growing sizes, with the work counted by
//! [`work`](crate::ingest::work) rather than timed. A shape passes when the work per input byte
//! at the largest size is at most that at the smallest (plus a margin for rounding): linear
//! work keeps it flat or falling as fixed costs spread; quadratic work multiplies it by the
//! size factor (16 here).

use serde_json::{json, Value};

use super::summarise_sarif;
use crate::ingest::native::Signals;
use crate::ingest::work;

/// Sizes each shape is measured at: n, 2n, 4n, 16n.
const SCALE: [usize; 4] = [1, 2, 4, 16];

fn doc(run: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({ "version": "2.1.0", "runs": [run] })).unwrap()
}

/// Work per input byte of `shape(n)` at each size, printed for the record.
fn work_per_byte(name: &str, base: usize, shape: impl Fn(usize) -> Vec<u8>) -> Vec<f64> {
    SCALE
        .iter()
        .map(|k| {
            let bytes = shape(base * k);
            work::take();
            summarise_sarif(&bytes, &Signals::default()).expect("the shape is a valid report");
            let units = work::take();
            let per_byte = units as f64 / bytes.len() as f64;
            eprintln!(
                "{name}: n = {:>7}, {:>9} bytes, {:>12} units of work, {per_byte:.2} per byte",
                base * k,
                bytes.len(),
                units
            );
            per_byte
        })
        .collect()
}

fn assert_linear(name: &str, base: usize, shape: impl Fn(usize) -> Vec<u8>) {
    let per_byte = work_per_byte(name, base, shape);
    let (first, last) = (per_byte[0], per_byte[per_byte.len() - 1]);
    assert!(
        last <= first * 1.25 + 0.5,
        "{name}: work per input byte grew from {first:.2} to {last:.2} as the input grew 16-fold"
    );
}

fn result(extra: Value) -> Value {
    let mut r = json!({ "message": { "text": "m" }, "level": "warning" });
    r.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    r
}

#[test]
fn a_rule_id_of_many_slashes() {
    // One declared rule "a" and one result whose ruleId is n slashes (the review's 238-byte gzip
    // upload at n = 80,000): every prefix was hashed in turn.
    assert_linear("slashes in ruleId", 2_000, |n| {
        doc(json!({
            "tool": { "driver": { "name": "scanner", "rules": [{ "id": "a" }] } },
            "results": [result(json!({ "ruleId": "/".repeat(n) }))],
        }))
    });
}

#[test]
fn a_rule_id_of_many_segments_against_overrides_by_id() {
    // A configuration override for an undeclared id is matched by id prefix, as rules are.
    assert_linear("slashes against overrides", 2_000, |n| {
        doc(json!({
            "tool": { "driver": { "name": "scanner", "rules": [{ "id": "a" }] } },
            "invocations": [{
                "executionSuccessful": true,
                "ruleConfigurationOverrides": [
                    { "descriptor": { "id": "zz" }, "configuration": { "level": "error" } }
                ],
            }],
            "results": [
                { "message": { "text": "m" }, "ruleId": format!("b{}", "/x".repeat(n)) }
            ],
        }))
    });
}

#[test]
fn many_rules_of_distinct_lengths_and_long_hierarchical_ids() {
    // Rules "a", "aa", ... of 300 lengths, past the kept length: every declared length is a
    // candidate prefix of results whose ids are n slashes.
    let rules: Vec<Value> = (1..=300).map(|l| json!({ "id": "a".repeat(l) })).collect();
    assert_linear("rules of every length", 2_000, |n| {
        let results: Vec<Value> = (0..10)
            .map(|_| result(json!({ "ruleId": "/".repeat(n) })))
            .collect();
        doc(json!({
            "tool": { "driver": { "name": "scanner", "rules": rules } },
            "results": results,
        }))
    });
}

#[test]
fn many_tool_components_named_by_every_result() {
    assert_linear("extensions by name", 200, |n| {
        let extensions: Vec<Value> = (0..n)
            .map(|k| json!({ "name": format!("ext{k}"), "rules": [{ "id": "r" }] }))
            .collect();
        let last = format!("ext{}", n - 1);
        let results: Vec<Value> = (0..n)
            .map(|_| {
                result(json!({
                    "ruleId": "r",
                    "rule": { "id": "r", "toolComponent": { "name": last } },
                }))
            })
            .collect();
        doc(json!({
            "tool": { "driver": { "name": "scanner" }, "extensions": extensions },
            "results": results,
        }))
    });
}

#[test]
fn many_taxonomies_referenced_by_guid() {
    assert_linear("taxonomies by guid", 200, |n| {
        let guid = |k: usize| format!("00000000-0000-0000-0000-{k:012}");
        let taxonomies: Vec<Value> = (0..n)
            .map(|k| json!({ "name": format!("t{k}"), "guid": guid(k) }))
            .collect();
        let results: Vec<Value> = (0..n)
            .map(|_| {
                result(json!({
                    "ruleId": "r",
                    "taxa": [{ "id": "CWE-79", "toolComponent": { "guid": guid(n - 1) } }],
                }))
            })
            .collect();
        doc(json!({
            "tool": { "driver": { "name": "scanner" } },
            "taxonomies": taxonomies,
            "results": results,
        }))
    });
}

#[test]
fn a_rule_with_many_cwe_tags_referenced_by_every_result() {
    assert_linear("CWE tags of a rule", 200, |n| {
        let tags: Vec<String> = (1..=n).map(|k| format!("CWE-{k}")).collect();
        let results: Vec<Value> = (0..n).map(|_| result(json!({ "ruleId": "r" }))).collect();
        doc(json!({
            "tool": { "driver": { "name": "scanner", "rules": [
                { "id": "r", "properties": { "tags": tags } }
            ] } },
            "results": results,
        }))
    });
}

#[test]
fn a_long_declared_rule_id_referenced_by_index() {
    // Results naming the rule by index only carry none of its id's bytes themselves.
    assert_linear("long rule id by index", 200, |n| {
        let results: Vec<Value> = (0..n).map(|_| result(json!({ "ruleIndex": 0 }))).collect();
        doc(json!({
            "tool": { "driver": { "name": "scanner", "rules": [{ "id": "a".repeat(100 * n) }] } },
            "results": results,
        }))
    });
}

#[test]
fn long_tags_and_huge_property_bags() {
    assert_linear("long tags, big property bags", 200, |n| {
        let bag: serde_json::Map<String, Value> = (0..n)
            .map(|k| (format!("p{k}"), json!({ "nested": [k, "x".repeat(50)] })))
            .collect();
        let tags: Vec<String> = (0..n)
            .map(|k| format!("{}{k}", "security-".repeat(30)))
            .collect();
        let results: Vec<Value> = (0..n)
            .map(|_| result(json!({ "ruleId": "r", "properties": { "tags": ["CWE-79"] } })))
            .collect();
        let mut properties = Value::Object(bag);
        properties["tags"] = json!(tags);
        doc(json!({
            "tool": { "driver": { "name": "scanner", "rules": [
                { "id": "r", "properties": properties }
            ] } },
            "results": results,
        }))
    });
}
