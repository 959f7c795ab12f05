//! The engine on hand-made records: the pack examples of FORMAT.md, and the cases a brute-force
//! reference (`brute.rs`) could get wrong the same way: reading the input (CSV typing, NDJSON
//! lines, ids, duplicate keys, nested paths), `contains`, `between`, named lists, exact sums,
//! calendar deadlines and "now".

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use super::*;
use crate::{pack, PolicyType, Rule};

fn ndjson(records: &[Value]) -> Vec<u8> {
    records
        .iter()
        .map(|r| r.to_string() + "\n")
        .collect::<String>()
        .into_bytes()
}

fn run(t: PolicyType, ids: &[&str], records: &[Value]) -> Evaluation {
    let p = pack(t);
    let schema = Schema::for_rules(&p.rules).unwrap();
    let recs = input::parse_ndjson(&schema, &ndjson(records)).unwrap();
    let rules: Vec<RuleRun> = ids
        .iter()
        .map(|id| RuleRun::as_written(p.rule(id).unwrap()))
        .collect();
    let now = Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap();
    evaluate(&rules, &recs, now, 100).unwrap()
}

#[test]
fn currency_transaction_report_over_a_business_day() {
    let tx = |id: &str, at: &str, amount: f64, ctr: Option<&str>| {
        let mut v = json!({"id": id, "timestamp": at, "customer_id": "C1", "direction": "in",
            "instrument": "cash", "amount_usd": amount});
        if let Some(c) = ctr {
            v["ctr_id"] = json!(c);
        }
        v
    };
    let e = run(
        PolicyType::Aml,
        &["aml-ctr-001"],
        &[
            tx("t1", "2025-03-03T09:00:00Z", 6000.0, None),
            tx("t2", "2025-03-03T15:00:00Z", 5000.0, None),
            tx("t3", "2025-03-03T16:00:00Z", 100.0, Some("CTR-1")),
            tx("t4", "2025-03-04T09:00:00Z", 6000.0, None),
        ],
    );
    let r = &e.rules[0];
    assert_eq!(
        (r.evaluated, r.findings, r.not_evaluable),
        (4, 1, 0),
        "{e:#?}"
    );
    let f = &e.findings[0];
    assert_eq!(f.record_ids, ["t2", "t1"]);
    // 2025-03-03 is a Monday: its business day takes in the weekend before it.
    assert_eq!(f.window.as_ref().unwrap().from, "2025-03-01T00:00:00Z");
    assert!(
        f.message
            .contains("sum(amount_usd) over 1 business day by customer_id, direction = 11000"),
        "{}",
        f.message
    );
    assert_eq!(f.group.as_ref().unwrap()["customer_id"], json!("C1"));
}

/// The evaluation time of these tests: 2025-06-01T00:00:00Z.
fn june_first() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()
}

/// A rule of our own, built from JSON as the packs' rules are.
fn custom(threshold: Option<f64>, window: Option<&str>, conditions: Value) -> Rule {
    let mut v = json!({
        "rule_id": "aml-tst-001", "name": "Test", "type": "pattern", "description": "d",
        "severity": "high", "conditions": conditions, "policy_excerpt": "e",
        "policy_section": "s", "category": "Test", "historical_context": "h"
    });
    if let Some(t) = threshold {
        v["threshold"] = json!(t);
    }
    if let Some(w) = window {
        v["time_window"] = json!(w);
    }
    serde_json::from_value(v).unwrap()
}

/// Evaluates one rule of our own over NDJSON `records`.
fn run_custom(rule: &Rule, records: &[Value]) -> Evaluation {
    let schema = Schema::for_rules([rule]).unwrap();
    let recs = input::parse_ndjson(&schema, &ndjson(records)).unwrap();
    evaluate(&[RuleRun::as_written(rule)], &recs, june_first(), 100).unwrap()
}

/// The subjects of the findings, in canonical order.
fn finding_ids(e: &Evaluation) -> Vec<&str> {
    e.findings
        .iter()
        .map(|f| f.record_ids[0].as_str())
        .collect()
}

/// (evaluated, findings, not evaluable) of the first rule.
fn counts(e: &Evaluation) -> (u64, u64, u64) {
    let r = &e.rules[0];
    (r.evaluated, r.findings, r.not_evaluable)
}

fn aml_schema() -> Schema {
    Schema::for_rules(&pack(PolicyType::Aml).rules).unwrap()
}

#[test]
fn csv_cells_are_typed_by_the_schema_and_errors_name_row_and_field() {
    let schema = aml_schema();
    let header = "id,timestamp,customer_id,direction,instrument,amount_usd,edd_completed,note\n";
    let ok = format!(
        "{header}t1,2025-03-03T09:00:00Z,C1,in,cash,6000,true,x\n\
         t2,2025-03-03T10:00:00Z,C1,in,cash,,false,y\n"
    );
    let records = input::parse_csv(&schema, ok.as_bytes()).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records.id(1), "t2");
    // An empty cell is a missing value: the CTR rule cannot judge t2 (its sum is unknown).
    let rule = pack(PolicyType::Aml).rule("aml-ctr-001").unwrap();
    let e = evaluate(&[RuleRun::as_written(rule)], &records, june_first(), 10).unwrap();
    assert_eq!(counts(&e), (1, 0, 1));

    let cases = [
        (
            "t2,2025-03-03T10:00:00Z,C1,in,cash,abc,true,x\n",
            "row 3, field amount_usd: expected a number, found 'abc'",
        ),
        (
            "t2,2025-03-03T10:00:00Z,C1,in,cash,+5,true,x\n",
            "row 3, field amount_usd: expected a number, found '+5'",
        ),
        (
            "t2,2025-03-03T10:00:00Z,C1,in,cash,5,yes,x\n",
            "row 3, field edd_completed: expected true or false, found 'yes'",
        ),
        (
            "t2,2025-03-03,C1,in,cash,5,true,x\n",
            "row 3, field timestamp: expected an RFC 3339 timestamp such as \
             2025-03-03T10:00:00Z, found '2025-03-03'",
        ),
        (
            ",2025-03-03T10:00:00Z,C1,in,cash,5,true,x\n",
            "row 3, field id: must not be empty",
        ),
    ];
    for (row, message) in cases {
        let body = format!("{header}t1,2025-03-03T09:00:00Z,C1,in,cash,6000,true,x\n{row}");
        let err = input::parse_csv(&schema, body.as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), message);
        assert_eq!(err.position, Position::Row(3));
    }
    let err = input::parse_csv(&schema, b"id,amount_usd\nt1,1,2\n").unwrap_err();
    assert_eq!(err.location(), "row 2");
    let err = input::parse_csv(&schema, b"amount_usd\n1\n").unwrap_err();
    assert_eq!(err.location(), "row 1, field id");
    let err = input::parse_csv(&schema, b"id,amount_usd,amount_usd\nt1,1,2\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "row 1, field amount_usd: the column appears twice"
    );
}

#[test]
fn ndjson_errors_name_the_line() {
    let schema = aml_schema();
    // Blank lines count as lines but hold no record.
    let body = b"{\"id\": \"a\", \"amount_usd\": 1}\n\n{\"id\": \"b\", \"amount_usd\": }\n";
    let err = input::parse_ndjson(&schema, body).unwrap_err();
    assert_eq!(err.position, Position::Line(3));
    assert_eq!(err.location(), "line 3");
    assert!(err.to_string().starts_with("line 3: "), "{err}");
    let err = input::parse_ndjson(&schema, b"{\"id\": \"a\"}\r\n[1, 2]\r\n").unwrap_err();
    assert_eq!(err.location(), "line 2");
    let err = input::parse_ndjson(&schema, b"{\"id\": \"a\"} {\"id\": \"b\"}\n").unwrap_err();
    assert_eq!(err.location(), "line 1");
    let records = input::parse_ndjson(&schema, b"\n{\"id\": 7}\r\n  \n{\"id\": \"x\"}").unwrap();
    assert_eq!((records.len(), records.id(0), records.id(1)), (2, "7", "x"));
}

#[test]
fn a_record_needs_an_id_of_at_most_256_characters() {
    let schema = aml_schema();
    let parse = |v: Value| input::parse_ndjson(&schema, &ndjson(&[json!({"id": "a"}), v]));
    let err = parse(json!({"amount_usd": 1})).unwrap_err();
    assert_eq!(err.location(), "line 2, field id");
    assert!(err.message.starts_with("required"), "{err}");
    assert_eq!(
        parse(json!({"id": ""})).unwrap_err().location(),
        "line 2, field id"
    );
    assert_eq!(parse(json!({"id": 1.5})).unwrap_err().location(), "line 2");
    assert_eq!(parse(json!({"id": true})).unwrap_err().location(), "line 2");
    let err = parse(json!({"id": "x".repeat(MAX_ID_CHARS + 1)})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2, field id: longer than 256 characters"
    );
    // Characters, not bytes.
    let longest = "é".repeat(MAX_ID_CHARS);
    let records = parse(json!({"id": longest})).unwrap();
    assert_eq!(records.id(1), longest);
    let err = input::parse_csv(&schema, format!("id\n{}\n", "x".repeat(257)).as_bytes());
    assert_eq!(
        err.unwrap_err().to_string(),
        "row 2, field id: longer than 256 characters"
    );
}

#[test]
fn an_id_of_another_type_is_refused_in_serde_json_words() {
    // The first problem of a line is the one reported, a broken rest of the line included.
    let schema = aml_schema();
    let expected = "the record's id as a string or an integer";
    for (line, found) in [
        (r#"{"id": 1.5}"#, "floating point `1.5`"),
        (r#"{"id": true, "amount_usd": 1}"#, "boolean `true`"),
        (r#"{"id": null}"#, "null"),
        (r#"{"id": [1, {"a": 2}]}"#, "sequence"),
        (r#"{"id": {"a": [1]}, "id": "b"}"#, "map"),
        (r#"{"id": 1.5, "id": true}"#, "floating point `1.5`"),
        (r#"{"id": 1.5, "amount_usd": }"#, "floating point `1.5`"),
    ] {
        let err = input::parse_ndjson(&schema, line.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("line 1: invalid type: {found}, expected {expected}"),
            "{line}"
        );
    }
    let err = input::parse_ndjson(&schema, br#"{"amount_usd": , "id": 1.5}"#).unwrap_err();
    assert!(err.message.starts_with("not a JSON object"), "{err}");
}

#[test]
fn a_key_given_twice_keeps_its_last_value() {
    let body = concat!(
        r#"{"id": "first", "id": "kept", "retention_years": 7, "retention_years": 1}"#,
        "\n",
        r#"{"id": "passes", "retention_years": 1, "retention_years": 7}"#,
        "\n",
        r#"{"id": "cleared", "retention_years": 1, "retention_years": null}"#,
        "\n",
    );
    let schema = aml_schema();
    let records = input::parse_ndjson(&schema, body.as_bytes()).unwrap();
    let rule = pack(PolicyType::Aml).rule("aml-rec-002").unwrap();
    let e = evaluate(&[RuleRun::as_written(rule)], &records, june_first(), 10).unwrap();
    assert_eq!(finding_ids(&e), ["kept"]);
    // null is a missing value, given last as any other: the rule cannot judge "cleared".
    assert_eq!(counts(&e), (2, 1, 1));

    // The same for the object of a nested path: the last object is the one read.
    let rule = custom(
        None,
        None,
        json!({"field": "account.owner_id", "op": "eq", "value": "O1"}),
    );
    let body = concat!(
        r#"{"id": "replaced", "account": {"owner_id": "O1"}, "account": {"owner_id": "O2"}}"#,
        "
",
        r#"{"id": "emptied", "account": {"owner_id": "O2"}, "account": {}}"#,
        "
",
        r#"{"id": "nulled", "account": {"owner_id": "O2"}, "account": null}"#,
        "
",
        r#"{"id": "inner", "account": {"owner_id": "O1", "owner_id": "O2"}}"#,
        "
",
    );
    let schema = Schema::for_rules([&rule]).unwrap();
    let records = input::parse_ndjson(&schema, body.as_bytes()).unwrap();
    let e = evaluate(&[RuleRun::as_written(&rule)], &records, june_first(), 10).unwrap();
    let mut ids = finding_ids(&e);
    ids.sort_unstable();
    assert_eq!(ids, ["inner", "replaced"]);
    assert_eq!(counts(&e), (2, 2, 2));
}

#[test]
fn nested_field_paths_read_nested_objects() {
    let rule = custom(
        None,
        Some("24h"),
        json!({"all": [
            {"field": "account.owner_id", "op": "ne", "value": "O9"},
            {"aggregate": "count", "group_by": ["account.owner_id"], "op": "lte", "value": 1}
        ]}),
    );
    let schema = Schema::for_rules([&rule]).unwrap();
    let paths: Vec<&str> = schema.fields().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(paths, ["account.owner_id", "timestamp"]);
    let at = |h: u32| format!("2025-03-03T{h:02}:00:00Z");
    let records = [
        json!({"id": "a1", "timestamp": at(9), "account": {"owner_id": "O1", "type": "x"}}),
        json!({"id": "a2", "timestamp": at(10), "account": {"owner_id": "O1"}}),
        json!({"id": "b1", "timestamp": at(11), "account": {"owner_id": "O2"}}),
        json!({"id": "o9", "timestamp": at(12), "account": {"owner_id": "O9"}}),
        // Not the nested path: a scalar, a dotted key, an array, nothing.
        json!({"id": "s", "timestamp": at(13), "account": "O1"}),
        json!({"id": "d", "timestamp": at(13), "account.owner_id": "O1"}),
        json!({"id": "l", "timestamp": at(13), "account": [{"owner_id": "O1"}]}),
        json!({"id": "n", "timestamp": at(13), "account": {"owner_id": null}}),
    ];
    let e = run_custom(&rule, &records);
    assert_eq!(finding_ids(&e), ["a2", "o9"]);
    assert_eq!(counts(&e), (4, 2, 4));
    assert_eq!(e.findings[0].record_ids, ["a2", "a1"]);
    assert_eq!(
        e.findings[0].group.as_ref().unwrap()["account.owner_id"],
        json!("O1")
    );
    // CSV names a nested field by its path.
    let csv =
        "id,timestamp,account.owner_id\na1,2025-03-03T09:00:00Z,O1\na2,2025-03-03T10:00:00Z,O1\n";
    let recs = input::parse_csv(&schema, csv.as_bytes()).unwrap();
    let e = evaluate(&[RuleRun::as_written(&rule)], &recs, june_first(), 10).unwrap();
    assert_eq!(finding_ids(&e), ["a2"]);
}

#[test]
fn contains_looks_into_arrays_and_strings() {
    let rule = custom(
        None,
        None,
        json!({"field": "tags", "op": "contains", "value": "pii"}),
    );
    let records = [
        json!({"id": "array", "tags": ["x", "pii"]}),
        json!({"id": "array-without", "tags": ["x", "pii-like", ["pii"]]}),
        json!({"id": "empty", "tags": []}),
        json!({"id": "string", "tags": "has pii inside"}),
        json!({"id": "string-without", "tags": "PII"}),
        json!({"id": "number", "tags": 5}),
        json!({"id": "object", "tags": {"pii": true}}),
        json!({"id": "missing"}),
        json!({"id": "null", "tags": null}),
    ];
    let e = run_custom(&rule, &records);
    let mut ids = finding_ids(&e);
    ids.sort_unstable();
    assert_eq!(ids, ["array-without", "empty", "string-without"]);
    assert_eq!(counts(&e), (5, 3, 4));

    // A number is found among numbers (numerically), not among strings or in a string.
    let rule = custom(
        None,
        None,
        json!({"field": "codes", "op": "contains", "value": 7}),
    );
    let records = [
        json!({"id": "int", "codes": [1, 7]}),
        json!({"id": "float", "codes": [7.0]}),
        json!({"id": "text", "codes": ["7"]}),
        json!({"id": "string", "codes": "7"}),
    ];
    let e = run_custom(&rule, &records);
    let mut ids = finding_ids(&e);
    ids.sort_unstable();
    assert_eq!(ids, ["string", "text"]);
}

#[test]
fn between_includes_both_bounds() {
    let rule = custom(
        None,
        None,
        json!({"field": "score", "op": "between", "value": [1, 2.5]}),
    );
    let records = [
        json!({"id": "low", "score": 1}),
        json!({"id": "high", "score": 2.5}),
        json!({"id": "inside", "score": 2}),
        json!({"id": "above", "score": 2.51}),
        json!({"id": "below", "score": 0.99}),
        json!({"id": "text", "score": "2"}),
        json!({"id": "missing"}),
    ];
    let e = run_custom(&rule, &records);
    assert_eq!(finding_ids(&e), ["above", "below"]);
    assert_eq!(counts(&e), (5, 2, 2));

    // An aggregate compared with [low, high].
    let rule = custom(
        None,
        Some("24h"),
        json!({"aggregate": "count", "group_by": ["customer_id"], "op": "between", "value": [2, 3]}),
    );
    let tx = |id: &str, h: u32| json!({"id": id, "customer_id": "C1", "timestamp": format!("2025-03-03T{h:02}:00:00Z")});
    let e = run_custom(&rule, &[tx("t1", 1), tx("t2", 2), tx("t3", 3), tx("t4", 4)]);
    assert_eq!(finding_ids(&e), ["t1", "t4"]);
}

#[test]
fn named_lists_hold_their_current_values() {
    let tx = |id: &str, country: Value, edd: Option<bool>| {
        let mut v = json!({"id": id, "counterparty_country": country});
        if let Some(done) = edd {
            v["edd_completed"] = json!(done);
            v["senior_management_approval"] = json!(done);
        }
        v
    };
    let e = run(
        PolicyType::Aml,
        &["aml-hrj-001"],
        &[
            tx("iran", json!("IR"), None),
            tx("iran-edd", json!("IR"), Some(true)),
            tx("north-korea-no-edd", json!("KP"), Some(false)),
            tx("us", json!("US"), None),
            // Codes are upper case: "ir" is not on the list.
            tx("lower-case", json!("ir"), None),
            tx("number", json!(98), None),
        ],
    );
    assert_eq!(finding_ids(&e), ["north-korea-no-edd"]);
    // "iran" has no EDD fields: the rule cannot judge it; a number is not a country code.
    assert_eq!(counts(&e), (4, 1, 2));
    let rule = custom(
        None,
        None,
        json!({"field": "country", "op": "in", "value": {"list": "eea_countries"}}),
    );
    let e = run_custom(
        &rule,
        &[
            json!({"id": "de", "country": "DE"}),
            json!({"id": "ch", "country": "CH"}),
        ],
    );
    assert_eq!(finding_ids(&e), ["ch"]);
}

#[test]
fn sums_are_exact_in_decimal() {
    let rule = custom(
        Some(10000.0),
        Some("24h"),
        json!({"aggregate": "sum", "field": "amount_usd", "group_by": ["customer_id"],
               "op": "ne", "value": {"ref": "threshold"}}),
    );
    let tx = |id: &str, c: &str, h: u32, amount: Value| {
        json!({"id": id, "customer_id": c, "amount_usd": amount,
               "timestamp": format!("2025-03-03T{h:02}:00:00Z")})
    };
    let e = run_custom(
        &rule,
        &[
            tx("a1", "A", 1, json!(4.1)),
            tx("a2", "A", 2, json!(9995.9)),
            tx("b1", "B", 1, json!(9999.99)),
            tx("b2", "B", 2, json!(0.01)),
            tx("c1", "C", 1, json!(3333.33)),
            tx("c2", "C", 2, json!(3333.33)),
            tx("c3", "C", 3, json!(3333.34)),
        ],
    );
    // Each group's last record sees a sum of exactly 10000.
    assert_eq!(finding_ids(&e), ["a2", "b2", "c3"]);

    // 0 and -0.0 are one value, to group by and to count as distinct.
    let rule = custom(
        None,
        Some("24h"),
        json!({"aggregate": "count_distinct", "field": "amount_usd", "group_by": ["level"],
               "op": "lte", "value": 1}),
    );
    let body = concat!(
        r#"{"id": "z1", "level": 0, "amount_usd": 0, "timestamp": "2025-03-03T01:00:00Z"}"#,
        "\n",
        r#"{"id": "z2", "level": -0.0, "amount_usd": -0.0, "timestamp": "2025-03-03T02:00:00Z"}"#,
        "\n",
        r#"{"id": "z3", "level": 0.0, "amount_usd": 1, "timestamp": "2025-03-03T03:00:00Z"}"#,
        "\n",
    );
    let schema = Schema::for_rules([&rule]).unwrap();
    let records = input::parse_ndjson(&schema, body.as_bytes()).unwrap();
    let e = evaluate(&[RuleRun::as_written(&rule)], &records, june_first(), 10).unwrap();
    assert_eq!(finding_ids(&e), ["z3"]);
    assert_eq!(e.findings[0].record_ids, ["z3", "z2", "z1"]);
}

#[test]
fn a_month_deadline_is_clamped_to_the_end_of_the_month() {
    let request = |id: &str, received: &str, responded: &str| {
        json!({"id": id, "request_type": "erasure", "received_at": received,
               "responded_at": responded})
    };
    let e = run(
        PolicyType::Gdpr,
        &["gdpr-dsr-001"],
        &[
            request("on-time", "2025-01-31T10:00:00Z", "2025-02-28T10:00:00Z"),
            request("late", "2025-01-31T10:00:00Z", "2025-02-28T10:00:01Z"),
            request("leap-year", "2024-01-31T10:00:00Z", "2024-02-29T10:00:00Z"),
            request(
                "offset",
                "2025-01-31T10:00:00Z",
                "2025-02-28T11:00:00+01:00",
            ),
            request("bad-to", "2025-01-31T10:00:00Z", "soon"),
        ],
    );
    assert_eq!(finding_ids(&e), ["late"]);
    assert_eq!(counts(&e), (4, 1, 1));
    let f = &e.findings[0];
    let w = f.window.as_ref().unwrap();
    assert_eq!(
        (w.from.as_str(), w.to.as_str()),
        ("2025-01-31T10:00:00Z", "2025-02-28T10:00:00Z")
    );
    assert!(
        f.message
            .contains("responded_at 2025-02-28T10:00:01Z is after the deadline"),
        "{}",
        f.message
    );
}

#[test]
fn now_stands_in_for_a_missing_to() {
    // Evaluated at 2025-06-01T00:00:00Z; a month after 2025-05-01T00:00:00Z is exactly then.
    let request = |id: &str, received: &str| json!({"id": id, "request_type": "erasure", "received_at": received});
    let e = run(
        PolicyType::Gdpr,
        &["gdpr-dsr-001"],
        &[
            request("due-now", "2025-05-01T00:00:00Z"),
            request("overdue", "2025-04-30T23:59:59Z"),
            json!({"id": "no-start", "request_type": "erasure"}),
        ],
    );
    assert_eq!(finding_ids(&e), ["overdue"]);
    assert_eq!(counts(&e), (2, 1, 1));
    assert!(
        e.findings[0].message.contains(
            "responded_at is missing and the deadline 2025-05-30T23:59:59Z (1 month after \
             received_at 2025-04-30T23:59:59Z) has passed"
        ),
        "{}",
        e.findings[0].message
    );
    // A rule without `to`: the review is due 90 days after the last one.
    let e = run(
        PolicyType::Soc2,
        &["soc2-ac-005"],
        &[
            json!({"id": "fresh", "last_access_review_at": "2025-03-03T00:00:00Z"}),
            json!({"id": "stale", "last_access_review_at": "2025-03-02T23:59:59Z"}),
            json!({"id": "never"}),
        ],
    );
    assert_eq!(finding_ids(&e), ["stale"]);
    assert_eq!(counts(&e), (2, 1, 1));
}

#[test]
fn ndjson_that_is_not_utf8_names_its_line() {
    let schema = Schema::for_rules(&pack(PolicyType::Aml).rules).unwrap();
    let body = b"{\"id\": \"a\"}\n{\"id\": \"b\"}\n{\"id\": \"\xff\"}\n";
    let err = input::parse_ndjson(&schema, body).unwrap_err();
    assert_eq!(err.to_string(), "line 3: not UTF-8");
}
