//! The dry run's envelope reader (streaming, no JSON tree) answers as reading a tree does: for
//! every body below, its result (the options, the records or the first bad one, or every
//! problem in order) is the reference's. The reference is the tree reader the dry run had:
//! `parse_json`, the `compliance_http::body` readers, each record written back as an NDJSON
//! line and read by the engine.

use chrono::{TimeZone, Utc};
use compliance_http::body::{FromBody, Object};
use compliance_http::{parse_json, ApiError};
use compliance_packs::engine::{evaluate, input, RuleRun};
use compliance_packs::{pack, PolicyType};
use serde_json::{json, Value};

struct Reference {
    records: Vec<u8>,
    thresholds: Vec<(String, f64)>,
    rule_ids: Option<Vec<String>>,
    findings_limit: Option<u32>,
}

impl FromBody for Reference {
    fn from_body(body: &mut Object) -> Option<Self> {
        let records = body.required("records", |f| {
            f.array(1, 100_000, |r| {
                let record = r.raw_object()?;
                let mut line = serde_json::to_vec(record).ok()?;
                line.push(b'\n');
                Some(line)
            })
        });
        let thresholds = body.optional("thresholds", |f| f.entries(100, |_, value| value.number()));
        let rule_ids = body.optional("rule_ids", |f| {
            f.array(1, 100, |id| id.string().map(str::to_string))
        });
        let findings_limit = body.optional("findings_limit", |f| {
            match f.value().as_u64().filter(|n| *n <= 1000) {
                Some(n) => Some(n as u32),
                None => f.invalid("Expected an integer between 0 and 1000"),
            }
        });
        Some(Reference {
            records: records?.concat(),
            thresholds: thresholds?.unwrap_or_default(),
            rule_ids: rule_ids?,
            findings_limit: findings_limit?,
        })
    }
}

/// What a reader made of a body, in comparable form: the options and, for the records, their
/// ids and the AML pack's evaluation of them (which reads every value kept), or the error.
fn outcome(read: Result<OptionsAndRecords, ApiError>) -> String {
    match read {
        Err(e) => format!("refused: {e:?}"),
        Ok(o) => format!("{o:?}"),
    }
}

#[derive(Debug)]
#[allow(dead_code)] // read through Debug
struct OptionsAndRecords {
    thresholds: Vec<(String, f64)>,
    rule_ids: Option<Vec<String>>,
    findings_limit: Option<u32>,
    records: Result<(Vec<String>, String), String>,
}

fn records_of(
    records: Result<compliance_packs::engine::Records<'static>, input::InputError>,
) -> Result<(Vec<String>, String), String> {
    let records = records.map_err(|e| format!("{e:?}"))?;
    let ids = (0..records.len())
        .map(|i| records.id(i).to_string())
        .collect();
    let rules: Vec<RuleRun> = pack(PolicyType::Aml)
        .rules
        .iter()
        .map(RuleRun::as_written)
        .collect();
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    let evaluation = evaluate(&rules, &records, now, 100).unwrap();
    Ok((ids, format!("{evaluation:?}")))
}

fn reference(body: &[u8]) -> String {
    let schema = PolicyType::Aml.schema();
    let read = parse_json(body).and_then(|tree| {
        let r: Reference = compliance_http::body::read(&tree).map_err(ApiError::Validation)?;
        Ok(OptionsAndRecords {
            thresholds: r.thresholds,
            rule_ids: r.rule_ids,
            findings_limit: r.findings_limit,
            records: records_of(input::parse_ndjson(schema, &r.records)),
        })
    });
    outcome(read)
}

fn streamed(body: &[u8]) -> String {
    let read =
        audits_api::envelope::read(PolicyType::Aml.schema(), body).map(|e| OptionsAndRecords {
            thresholds: e.thresholds,
            rule_ids: e.rule_ids,
            findings_limit: e.findings_limit,
            records: records_of(e.records),
        });
    outcome(read)
}

fn same(body: &[u8]) {
    let (want, got) = (reference(body), streamed(body));
    let shown = String::from_utf8_lossy(&body[..body.len().min(200)]);
    assert_eq!(got, want, "for the body {shown}");
}

fn tx(id: Value) -> Value {
    json!({"id": id, "timestamp": "2025-03-03T09:00:00Z", "customer_id": "C1",
        "direction": "in", "instrument": "cash", "amount_usd": 6000,
        "account": {"owner_id": "O1", "opened": [1, 2]}, "memo": {"x": [true, null]}})
}

#[test]
fn well_formed_envelopes_read_the_same() {
    for body in [
        json!({"records": [tx(json!("a")), tx(json!(7)), tx(json!(-3))]}),
        json!({"records": [tx(json!("a")), tx(json!("b"))], "thresholds": {"aml-ctr-001": 5000, "aml-tm-001": 2.5, "aml-ctr-002": -1},
            "rule_ids": ["aml-ctr-001"], "findings_limit": 2}),
        json!({"findings_limit": 0, "records": [{"id": "x", "amount_usd": "not a number", "timestamp": "yesterday"}],
            "thresholds": null, "rule_ids": null}),
        json!({"records": [{"id": "x", "amount_usd": 1e300, "customer_id": 12.5, "direction": [1, "in"]}],
            "findings_limit": null}),
        json!({"records": [{"id": "é".repeat(256), "account": null}, {"id": "b", "account": 5}]}),
    ] {
        same(&serde_json::to_vec(&body).unwrap());
    }
    // Spacing and line breaks between and inside records, and a number wider than u64.
    same(b"{\n  \"records\": [\n    {\"id\": \"a\",\n \"amount_usd\": 18446744073709551616},\r\n    {\"id\":\"b\"}\n  ]\n}\n");
    same(br#"{"records": [{"id": "a"}], "findings_limit": -0}"#);
}

#[test]
fn bad_records_are_refused_the_same() {
    for body in [
        json!({"records": [tx(json!("a")), {"amount_usd": 2}]}),
        json!({"records": [{"id": ""}]}),
        json!({"records": [{"id": "x".repeat(257)}]}),
        json!({"records": [{"id": 1.5}]}),
        json!({"records": [{"id": true}, {"id": null}]}),
        json!({"records": [{"id": null}]}),
        json!({"records": [{"id": [1]}]}),
        json!({"records": [{"id": {"a": 1}}]}),
        json!({"records": [{"id": 100000000000000000000.0}]}),
        // The first bad record is the one named, before a later one of another kind.
        json!({"records": [{"id": "a"}, {"id": 2.5}, {"amount_usd": 1}]}),
        // Items that are not objects are refused first, every one of them.
        json!({"records": [{"amount_usd": 1}, 1, "a", null, [], true, {"id": "b"}, 2.5]}),
    ] {
        same(&serde_json::to_vec(&body).unwrap());
    }
}

#[test]
fn bad_options_are_refused_the_same() {
    let ok = json!([{"id": "a"}]);
    let many = |n: usize| {
        (0..n)
            .map(|i| json!({"id": format!("r{i}")}))
            .collect::<Vec<_>>()
    };
    let ids = |n: usize| {
        (0..n)
            .map(|i| json!(format!("aml-x-{i}")))
            .collect::<Vec<_>>()
    };
    let entries = |n: usize| {
        (0..n)
            .map(|i| (format!("aml-x-{i:03}"), json!(i)))
            .collect::<serde_json::Map<_, _>>()
    };
    for body in [
        json!({}),
        json!([]),
        json!("records"),
        json!(1),
        json!(null),
        json!(true),
        json!({"records": null}),
        json!({"records": 5}),
        json!({"records": "a"}),
        json!({"records": {}}),
        json!({"records": []}),
        json!({"records": many(100_000)}),
        json!({"records": many(100_001)}),
        json!({"records": ok, "thresholds": 5}),
        json!({"records": ok, "thresholds": []}),
        json!({"records": ok, "thresholds": {"b": "x", "a": true, "c": 1, "d": null, "e": [1], "f": {}}}),
        json!({"records": ok, "thresholds": entries(100)}),
        json!({"records": ok, "thresholds": entries(101)}),
        json!({"records": ok, "rule_ids": "aml-ctr-001"}),
        json!({"records": ok, "rule_ids": []}),
        json!({"records": ok, "rule_ids": [1, "aml-ctr-001", null, {}, [], false]}),
        json!({"records": ok, "rule_ids": ids(100)}),
        json!({"records": ok, "rule_ids": ids(101)}),
        json!({"records": ok, "findings_limit": 1000}),
        json!({"records": ok, "findings_limit": 1001}),
        json!({"records": ok, "findings_limit": -1}),
        json!({"records": ok, "findings_limit": 5.0}),
        json!({"records": ok, "findings_limit": "5"}),
        json!({"records": ok, "findings_limit": true}),
        json!({"records": ok, "findings_limit": [5]}),
        json!({"records": ok, "findings_limit": {"n": 5}}),
        json!({"zeta": 1, "records": ok, "alpha": [2], "Beta": null}),
        // Every kind of problem at once, each field's in its order.
        json!({"records": [1, {"id": 2.5}], "thresholds": {"z": "1", "a": "2"}, "rule_ids": [3],
            "findings_limit": -2, "extra": 0}),
        // A bad record waits for the options: they are refused first.
        json!({"records": [{"amount_usd": 1}], "rule_ids": "x"}),
    ] {
        same(&serde_json::to_vec(&body).unwrap());
    }
    // Keys out of order (json! would sort them): problems follow the tree's key order.
    same(br#"{"zeta": 1, "records": [{"id": "a"}], "alpha": [2], "Beta": null}"#);
    same(br#"{"records": [{"id": "a"}], "thresholds": {"b": "x", "a": true, "c": 1, "B": 2}}"#);
    same(br#"{"thresholds": {"aml-tm-001": 3, "aml-ctr-001": 5000}, "records": [{"id": "a"}]}"#);
}

#[test]
fn malformed_json_is_refused_the_same() {
    let deep = format!(
        "{{\"records\": [{{\"id\": \"a\", \"x\": {}{}}}]}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    for body in [
        &b""[..],
        b"   ",
        b"{",
        b"{\"records\": [",
        b"{\"records\": [{\"id\": \"a\",}]}",
        b"{\"records\": [{\"id\": \"a\"}]} x",
        b"{\"records\": [{\"id\": \"a\"}]}{}",
        b"{\"records\": [], \"records\": [{\"id\": \"a\"}]}",
        b"{\"records\": [{\"id\": \"a\", \"id\": \"b\"}]}",
        b"{\"records\": [{\"id\": \"a\", \"m\": {\"k\": 1, \"k\": 2}}]}",
        b"{\"records\": [{\"id\": \"a\", \"amount_usd\": 1e400}]}",
        b"{\"records\": [{\"id\": \"a\", \"x\": 1e400}]}",
        b"{\"records\": [{\"id\": \"a\", \"s\": \"\\ud800\"}]}",
        b"{\"records\": [{\"id\": \"a\xff\"}]}",
        b"{\"records\": [{\"id\": 01}]}",
        b"{\"records\": [{\"id\": \"a\"}], \"thresholds\": {\"a\": 1, \"a\": 2}}",
        b"{\"thresholds\": {\"a\": 1, \"a\": 2}, \"records\": 5 5}",
        b"\xef\xbb\xbf{\"records\": [{\"id\": \"a\"}]}",
        deep.as_bytes(),
    ] {
        same(body);
    }
}
