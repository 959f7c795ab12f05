//! The engine against synthetic datasets whose findings are known (`crate::synth`): for every
//! rule of every pack, over NDJSON and over CSV, the subjects flagged are exactly the planted
//! ones, every finding carries its rule's law, and every rule fails (each has planted
//! violations).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::*;
use crate::synth::{aml_transactions_ndjson, dataset_now, generate, Dataset};
use crate::{pack, PolicyType};

const SEEDS: [u64; 3] = [1, 2, 20_250_301];
const SIZES: [usize; 3] = [0, 300, 3_000];

/// Evaluates every rule of the pack over the body; the findings' subjects per rule.
fn run(policy: PolicyType, format: Format, body: &[u8], now: chrono::DateTime<Utc>) -> Evaluation {
    let p = pack(policy);
    let schema = Schema::for_rules(&p.rules).unwrap();
    let records = input::parse(&schema, format, body).unwrap_or_else(|e| panic!("{format:?}: {e}"));
    let runs: Vec<RuleRun> = p.rules.iter().map(RuleRun::as_written).collect();
    let keep = records.len() * runs.len() + 1;
    evaluate(&runs, &records, now, keep).unwrap()
}

fn check(policy: PolicyType, seed: u64, size: usize) {
    let data = generate(policy, seed, size);
    let p = pack(policy);
    assert_eq!(
        data.planted.keys().collect::<Vec<_>>(),
        p.rules
            .iter()
            .map(|r| &r.rule_id)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    for (format, body) in [(Format::Ndjson, data.ndjson()), (Format::Csv, data.csv())] {
        let label = format!("{policy} seed {seed} size {size} {format:?}");
        let e = run(policy, format, &body, data.now);
        assert_eq!(e.records, data.records.len() as u64, "{label}");
        assert_eq!(
            e.findings.len() as u64,
            e.findings_total,
            "{label}: every finding kept"
        );
        let mut got: BTreeMap<&str, BTreeSet<String>> = p
            .rules
            .iter()
            .map(|r| (r.rule_id.as_str(), BTreeSet::new()))
            .collect();
        let mut messages: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        for f in &e.findings {
            let rule = p.rule(&f.rule_id).expect("a rule of the pack");
            assert_eq!(
                f.policy_section, rule.policy_section,
                "{label}: {}",
                f.rule_id
            );
            assert_eq!(
                f.policy_excerpt, rule.policy_excerpt,
                "{label}: {}",
                f.rule_id
            );
            assert_eq!(f.severity, rule.severity, "{label}: {}", f.rule_id);
            let subject = &f.record_ids[0];
            assert!(
                got.get_mut(f.rule_id.as_str())
                    .unwrap()
                    .insert(subject.clone()),
                "{label}: {} flagged {subject} twice",
                f.rule_id
            );
            messages.insert((f.rule_id.as_str(), subject.as_str()), f.message.as_str());
        }
        let mut problems = Vec::new();
        for (outcome, rule) in e.rules.iter().zip(&p.rules) {
            let want = &data.planted[&rule.rule_id];
            let have = &got[rule.rule_id.as_str()];
            for missing in want.difference(have) {
                problems.push(format!(
                    "{}: {missing} not flagged: {}",
                    rule.rule_id,
                    record(&data, missing)
                ));
            }
            for extra in have.difference(want) {
                problems.push(format!(
                    "{}: {extra} flagged but not planted ({}): {}",
                    rule.rule_id,
                    messages[&(rule.rule_id.as_str(), extra.as_str())],
                    record(&data, extra)
                ));
            }
            assert_eq!(outcome.rule_id, rule.rule_id);
            assert_eq!(
                outcome.status,
                RuleStatus::Fail,
                "{label}: {}",
                rule.rule_id
            );
            assert_eq!(
                outcome.findings,
                have.len() as u64,
                "{label}: {}",
                rule.rule_id
            );
            assert_eq!(
                outcome.evaluated + outcome.not_evaluable,
                data.records.len() as u64,
                "{label}: {}",
                rule.rule_id
            );
        }
        assert!(problems.is_empty(), "{label}:\n{}", problems.join("\n"));
    }
}

fn record(data: &Dataset, id: &str) -> String {
    data.records
        .iter()
        .find(|r| r["id"] == Value::String(id.to_string()))
        .map_or_else(|| "(no such record)".into(), Value::to_string)
}

fn check_all(policy: PolicyType) {
    for seed in SEEDS {
        for size in SIZES {
            check(policy, seed, size);
        }
    }
}

#[test]
fn aml_findings_are_exactly_the_planted_ones() {
    check_all(PolicyType::Aml);
}

#[test]
fn gdpr_findings_are_exactly_the_planted_ones() {
    check_all(PolicyType::Gdpr);
}

#[test]
fn soc2_findings_are_exactly_the_planted_ones() {
    check_all(PolicyType::Soc2);
}

#[test]
fn datasets_are_a_function_of_the_seed() {
    for policy in PolicyType::ALL {
        let a = generate(policy, 9, 500);
        let b = generate(policy, 9, 500);
        assert_eq!(a.ndjson(), b.ndjson(), "{policy}");
        assert_eq!(a.planted, b.planted, "{policy}");
        assert_ne!(a.ndjson(), generate(policy, 10, 500).ndjson(), "{policy}");
        assert!(a.records.len() >= 500, "{policy}: {}", a.records.len());
    }
}

#[test]
fn the_benchmark_feed_parses_and_breaks_several_aml_rules() {
    let body = aml_transactions_ndjson(11, 30_000);
    let e = run(PolicyType::Aml, Format::Ndjson, &body, dataset_now());
    assert_eq!(e.records, 30_000);
    let failing: BTreeSet<&str> = e
        .rules
        .iter()
        .filter(|r| r.status == RuleStatus::Fail)
        .map(|r| r.rule_id.as_str())
        .collect();
    for rule in [
        "aml-ctr-001",
        "aml-struct-001",
        "aml-struct-002",
        "aml-tm-001",
        "aml-tm-004",
        "aml-rec-001",
    ] {
        assert!(
            failing.contains(rule),
            "{rule} has no finding: {:#?}",
            e.rules
        );
    }
    // Customer-profile and SAR rules read fields that transactions do not have.
    let cdd = e.rules.iter().find(|r| r.rule_id == "aml-cdd-001").unwrap();
    assert_eq!(cdd.status, RuleStatus::NotEvaluable);
}
