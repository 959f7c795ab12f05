//! The engine on hand-made records: the pack examples of FORMAT.md.

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use super::*;
use crate::{pack, PolicyType};

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
