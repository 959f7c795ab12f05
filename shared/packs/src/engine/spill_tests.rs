//! The spilled evaluation (`spill`) against the evaluation of the records in memory: for every
//! body, `evaluate_spilled`, and the three steps run apart as separate processes would run them
//! (manifest, tasks and part results through JSON, the parts evaluated and merged in a shuffled
//! order), give exactly `evaluate`'s evaluation, or exactly `input::parse`'s error, and leave no
//! file behind. Bodies: the synthetic datasets of every pack (`crate::synth`) as NDJSON and CSV,
//! NDJSON roughened as in `parallel_tests` (with bad lines and bytes that are not UTF-8), and
//! `brute`'s small record sets with missing and mistyped values, repeated ids and random rules
//! (among them rules that need every record at once); read through reads of random sizes, in
//! batches of random sizes, on 1 to 3 threads, into 1 to 8 partitions.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

use super::brute;
use super::parallel_tests;
use super::spill::{self, order_key, Manifest, PartResult, PartTask, SpillError, SpillOptions};
use super::*;
use crate::synth::{generate, Rng};
use crate::{pack, PolicyType, Rule};

/// A body handed out in reads of 1 to `max` bytes, sizes drawn from `rng`.
struct Chunky<'a> {
    bytes: &'a [u8],
    rng: Rng,
    max: u64,
}

impl Read for Chunky<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (1 + self.rng.below(self.max) as usize)
            .min(buf.len())
            .min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// A folder of its own for a test case, removed by the case.
fn scratch() -> PathBuf {
    static CASES: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "compliance-spill-tests-{}-{}",
        std::process::id(),
        CASES.fetch_add(1, Ordering::Relaxed)
    ))
}

/// How a case reads, splits and evaluates.
#[derive(Debug, Clone, Copy)]
struct Plan {
    parts: usize,
    batch_bytes: usize,
    threads: usize,
    /// The largest read of the input.
    read_max: u64,
    /// Draws the read sizes and the order the parts are evaluated and merged in.
    seed: u64,
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        1..=8usize,
        select(vec![1usize, 7, 100, 1000, 4096, 1 << 20]),
        1..=3usize,
        select(vec![1u64, 3, 64, 5000, 1 << 20]),
        any::<u64>(),
    )
        .prop_map(|(parts, batch_bytes, threads, read_max, seed)| Plan {
            parts,
            batch_bytes,
            threads,
            read_max,
            seed,
        })
}

fn options(dir: PathBuf, plan: Plan) -> SpillOptions {
    SpillOptions {
        partitions: plan.parts,
        batch_bytes: plan.batch_bytes,
        ..SpillOptions::new(dir, 0, plan.threads)
    }
}

fn json_round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(value: &T) -> T {
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

/// The three steps apart: the manifest, each task and each part result through JSON, the parts
/// evaluated in a shuffled order and merged in another.
#[allow(clippy::too_many_arguments)]
fn in_steps(
    runs: &[RuleRun],
    schema: &Schema,
    format: Format,
    body: &[u8],
    now: DateTime<Utc>,
    keep: usize,
    plan: Plan,
) -> Result<Evaluation, SpillError> {
    let dir = scratch();
    let mut rng = Rng::new(plan.seed);
    let reader = Chunky {
        bytes: body,
        rng: Rng::new(rng.next_u64()),
        max: plan.read_max,
    };
    let steps = (|| {
        let options = options(dir.clone(), plan);
        let manifest: Manifest =
            json_round_trip(&spill::partition(runs, schema, format, reader, &options)?);
        let mut tasks: Vec<PartTask> = manifest.tasks().iter().map(json_round_trip).collect();
        rng.shuffle(&mut tasks);
        let mut results: Vec<PartResult> = Vec::new();
        for task in &tasks {
            let file = std::fs::File::open(dir.join(&task.file)).unwrap();
            let part = spill::evaluate_part(runs, schema, task, file, now, keep)?;
            results.push(json_round_trip(&part));
        }
        rng.shuffle(&mut results);
        spill::merge(runs, &manifest, keep, results)
    })();
    let left = std::fs::read_dir(&dir).map_or(0, |d| d.count());
    let _ = std::fs::remove_dir_all(&dir);
    if steps.is_err() {
        // `partition` removes its files on error.
        assert_eq!(left, 0, "files left after an error");
    }
    steps
}

/// `evaluate_spilled`, checking that it leaves nothing in its folder.
#[allow(clippy::too_many_arguments)]
fn spilled(
    runs: &[RuleRun],
    schema: &Schema,
    format: Format,
    body: &[u8],
    now: DateTime<Utc>,
    keep: usize,
    plan: Plan,
) -> Result<Evaluation, SpillError> {
    let dir = scratch();
    let reader = Chunky {
        bytes: body,
        rng: Rng::new(plan.seed),
        max: plan.read_max,
    };
    let result = evaluate_spilled(
        runs,
        schema,
        format,
        reader,
        now,
        keep,
        &options(dir.clone(), plan),
    );
    let left = std::fs::read_dir(&dir).map_or(0, |d| d.count());
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(left, 0, "evaluate_spilled left files");
    result
}

/// Both spilled ways against the evaluation in memory (or the parse's error).
#[allow(clippy::too_many_arguments)]
fn check(
    label: &str,
    runs: &[RuleRun],
    schema: &Schema,
    format: Format,
    body: &[u8],
    now: DateTime<Utc>,
    keep: usize,
    plan: Plan,
) -> Result<(), TestCaseError> {
    let expected = input::parse(schema, format, body)
        .map_err(SpillError::Input)
        .map(|records| evaluate(runs, &records, now, keep).unwrap());
    for (way, got) in [
        (
            "evaluate_spilled",
            spilled(runs, schema, format, body, now, keep, plan),
        ),
        (
            "in steps",
            in_steps(runs, schema, format, body, now, keep, plan),
        ),
    ] {
        match (&expected, got) {
            (Ok(whole), Ok(got)) => {
                let difference = brute::first_difference(whole, &got);
                prop_assert!(
                    difference.is_none() && *whole == got,
                    "{label} {way}, keep {keep}, {plan:?}: {}",
                    difference.unwrap_or_default()
                );
            }
            (Err(SpillError::Input(x)), Err(SpillError::Input(y))) => {
                prop_assert_eq!(x, &y, "{} {}, {:?}", label, way, plan)
            }
            (x, y) => {
                return Err(TestCaseError::fail(format!(
                    "{label} {way}, {plan:?}: {:?} in memory, {:?} spilled",
                    x.as_ref().map(|e| e.findings_total),
                    y.map(|e| e.findings_total)
                )))
            }
        }
    }
    Ok(())
}

/// A CSV body with, now and then, a row of the wrong width or a cell of the wrong type.
fn rough_csv(csv: Vec<u8>, rng: &mut Rng) -> Vec<u8> {
    let text = String::from_utf8(csv).unwrap();
    let mut rows: Vec<String> = text.lines().map(str::to_string).collect();
    if rows.len() > 1 && rng.chance(0.3) {
        let at = 1 + rng.below(rows.len() as u64 - 1) as usize;
        let bad = match rng.below(2) {
            0 => "x,y".to_string(),
            _ => rows[at].replace(".", "..") + ",",
        };
        rows.insert(at, bad);
    }
    (rows.join("\n") + "\n").into_bytes()
}

/// An NDJSON body with, now and then, a byte that is not UTF-8 (after a bad line, or alone).
fn not_utf8(mut body: Vec<u8>, rng: &mut Rng) -> Vec<u8> {
    if !body.is_empty() && rng.chance(0.2) {
        let at = rng.below(body.len() as u64) as usize;
        body.insert(at, 0xff);
    }
    body
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every pack's synthetic dataset, shuffled, as NDJSON (roughened, sometimes with bad lines
    /// or bytes) and as CSV (sometimes with a bad row).
    #[test]
    fn spilled_evaluation_of_synthetic_datasets_is_the_evaluation(
        seed in any::<u64>(),
        size in 0..250usize,
        noise in any::<u64>(),
        bad in select(vec![0usize, 0, 0, 1, 2]),
        keep in select(vec![0usize, 5, 40, usize::MAX / 2]),
        plan in plan(),
    ) {
        for policy in PolicyType::ALL {
            let p = pack(policy);
            let schema = Schema::for_rules(&p.rules).unwrap();
            let runs: Vec<RuleRun> = p.rules.iter().map(RuleRun::as_written).collect();
            let mut rng = Rng::new(noise);
            let now = crate::synth::dataset_now();
            let ndjson = not_utf8(parallel_tests::body(policy, seed, size, noise, false, bad), &mut rng);
            check(&format!("{policy} NDJSON"), &runs, &schema, Format::Ndjson, &ndjson, now, keep, plan)?;
            let mut data = generate(policy, seed, size);
            rng.shuffle(&mut data.records);
            let csv = rough_csv(data.csv(), &mut rng);
            check(&format!("{policy} CSV"), &runs, &schema, Format::Csv, &csv, data.now, keep, plan)?;
        }
    }

    /// `brute`'s record sets (values missing, null, of the wrong type; repeated ids) for every
    /// pack, and pairs of random aggregate rules (grouped by any fields, or by none: evaluated
    /// whole); and the order keys order the records as `Records::compare` does.
    #[test]
    fn spilled_evaluation_of_brute_record_sets_is_the_evaluation(
        rows in brute::rows(),
        b in 0..6usize,
        order in prop::collection::vec(any::<u32>(), 40),
        keep in select(vec![0usize, 1, 3, 1000]),
        plan in plan(),
        random in (brute::random_rule(), brute::random_rule()),
    ) {
        let ids = |i: usize| {
            if rows[i][brute::WIDTH - 1] % 8 == 0 { "r0".to_string() } else { brute::unique_ids(i) }
        };
        let mut cases: Vec<(String, Vec<RuleRun>, Schema, Vec<Value>)> = Vec::new();
        for t in PolicyType::ALL {
            let p = pack(t);
            let rules: Vec<&Rule> = p.rules.iter().collect();
            let schema = Schema::for_rules(&p.rules).unwrap();
            let records = brute::build(&brute::gens_for(&rules, &schema, b, None), &rows, ids);
            cases.push((t.to_string(), brute::pack_runs(t, None), schema, records));
        }
        let (x, y) = &random;
        let pair = match Schema::for_rules([x, y]) {
            Ok(schema) => (vec![x, y], schema),
            Err(_) => (vec![x], Schema::for_rules([x]).unwrap()),
        };
        cases.push((
            pair.0.iter().map(|r| r.conditions.to_json().to_string()).collect::<Vec<_>>().join("\n"),
            pair.0.iter().map(|r| RuleRun::as_written(r)).collect(),
            pair.1,
            brute::build(&brute::vocabulary(b), &rows, ids),
        ));
        let now = brute::now(brute::base(b));
        for (label, runs, schema, records) in &cases {
            let body = brute::ndjson(&brute::shuffle(records, &order));
            check(label, runs, schema, Format::Ndjson, &body, now, keep, plan)?;
            let parsed = input::parse_ndjson(schema, &body).unwrap();
            for r in 0..parsed.len() {
                for s in 0..parsed.len() {
                    prop_assert_eq!(
                        order_key(&parsed, r).cmp(&order_key(&parsed, s)),
                        parsed.compare(r, s),
                        "{}: records {} and {}", label, r, s
                    );
                }
            }
        }
    }
}

/// Partition files hold the records as they were read: every cell, string and id.
#[test]
fn partition_files_hold_the_records_as_read() {
    for policy in PolicyType::ALL {
        let p = pack(policy);
        let schema = Schema::for_rules(&p.rules).unwrap();
        let runs: Vec<RuleRun> = p.rules.iter().map(RuleRun::as_written).collect();
        let body = parallel_tests::body(policy, 7, 200, 11, false, 0);
        let dir = scratch();
        let options = SpillOptions {
            partitions: 1,
            ..SpillOptions::new(&dir, 0, 1)
        };
        let manifest =
            spill::partition(&runs, &schema, Format::Ndjson, &body[..], &options).unwrap();
        let whole = input::parse_ndjson(&schema, &body).unwrap();
        let bytes = std::fs::read(dir.join(&manifest.classes[0].parts[0].file)).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let mut read = Records::new(&schema);
        assert_eq!(spill::decode_all(&bytes, &mut read), Some(()), "{policy}");
        assert_eq!(parallel_tests::difference(&whole, &read), None, "{policy}");
        assert_eq!(manifest.records, whole.len() as u64);
        assert_eq!(manifest.bytes_read, body.len() as u64);
    }
}

/// Rules that need every record at once are refused past the bound, and leave no file.
#[test]
fn rules_over_all_records_are_bounded() {
    let rule: Rule = serde_json::from_value(serde_json::json!({
        "rule_id": "aml-all-001", "name": "All", "type": "pattern", "description": "d",
        "threshold": 3, "time_window": "24h", "severity": "high",
        "conditions": {"aggregate": "count", "op": "lte", "value": {"ref": "threshold"}},
        "policy_excerpt": "e", "policy_section": "s", "category": "c", "historical_context": "h"
    }))
    .unwrap();
    let schema = Schema::for_rules([&rule]).unwrap();
    let runs = [RuleRun::as_written(&rule)];
    let body: String = (0..10)
        .map(|i| format!("{{\"id\":\"r{i}\",\"timestamp\":\"2025-01-01T00:00:0{i}Z\"}}\n"))
        .collect();
    let dir = scratch();
    let now = crate::synth::dataset_now();
    let mut options = SpillOptions::new(&dir, 0, 2);
    options.whole_max_records = 9;
    let refused = evaluate_spilled(
        &runs,
        &schema,
        Format::Ndjson,
        body.as_bytes(),
        now,
        5,
        &options,
    );
    assert!(
        matches!(&refused, Err(SpillError::WholeTooLarge { rules, limit: 9 }) if rules == &["aml-all-001"]),
        "{refused:?}"
    );
    options.whole_max_records = 10;
    let records = input::parse_ndjson(&schema, body.as_bytes()).unwrap();
    let whole = evaluate(&runs, &records, now, 5).unwrap();
    assert_eq!(whole.findings_total, 10 - 3);
    let spilled = evaluate_spilled(
        &runs,
        &schema,
        Format::Ndjson,
        body.as_bytes(),
        now,
        5,
        &options,
    )
    .unwrap();
    assert_eq!(spilled, whole);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A merge refuses a part twice, a part missing, and a part result sent for other rules.
#[test]
fn merging_needs_every_part_once() {
    let p = pack(PolicyType::Aml);
    let schema = Schema::for_rules(&p.rules).unwrap();
    let runs: Vec<RuleRun> = p.rules.iter().map(RuleRun::as_written).collect();
    let data = generate(PolicyType::Aml, 3, 100);
    let dir = scratch();
    let options = SpillOptions {
        partitions: 3,
        ..SpillOptions::new(&dir, 0, 1)
    };
    let manifest =
        spill::partition(&runs, &schema, Format::Ndjson, &data.ndjson()[..], &options).unwrap();
    let results: Vec<PartResult> = manifest
        .tasks()
        .iter()
        .map(|task| {
            let file = std::fs::File::open(dir.join(&task.file)).unwrap();
            spill::evaluate_part(&runs, &schema, task, file, data.now, 10).unwrap()
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(spill::merge(&runs, &manifest, 10, results.clone()).is_ok());
    let mut twice = results.clone();
    twice.push(results[0].clone());
    assert!(matches!(
        spill::merge(&runs, &manifest, 10, twice),
        Err(SpillError::Mismatch(_))
    ));
    let missing = results[1..].to_vec();
    assert!(matches!(
        spill::merge(&runs, &manifest, 10, missing),
        Err(SpillError::Mismatch(_))
    ));
    let fewer = &runs[1..];
    assert!(matches!(
        spill::merge(fewer, &manifest, 10, results),
        Err(SpillError::Mismatch(_))
    ));
}

/// The parts' memory is planned from the input's size.
#[test]
fn partitions_grow_with_the_input() {
    assert_eq!(partitions_for(0), 1);
    assert_eq!(partitions_for(40 << 20), 1);
    assert_eq!(partitions_for(1 << 30), 22);
    assert_eq!(partitions_for(2_000_000_000), 40);
}

/// A byte that is not UTF-8 is the error even after a bad line, in a later batch, as the body
/// read whole is refused for it before any line is read.
#[test]
fn a_body_that_is_not_utf8_is_refused_as_such_after_a_bad_line() {
    let p = pack(PolicyType::Aml);
    let schema = Schema::for_rules(&p.rules).unwrap();
    let runs: Vec<RuleRun> = p.rules.iter().map(RuleRun::as_written).collect();
    let mut body = b"{\"id\":\"a\"}\n{\"id\": }\n".to_vec();
    for _ in 0..50 {
        body.extend_from_slice(b"{\"id\":\"b\"}\n");
    }
    body.extend_from_slice(b"{\"id\":\"\xff\"}\n{\"id\":\"c\"}\n");
    let expected = input::parse_ndjson(&schema, &body).unwrap_err();
    assert_eq!(
        (expected.position, expected.message.as_str()),
        (Position::Line(53), "not UTF-8")
    );
    for batch_bytes in [1, 16, 100, 1 << 20] {
        let plan = Plan {
            parts: 2,
            batch_bytes,
            threads: 2,
            read_max: 1 << 20,
            seed: 1,
        };
        let now = crate::synth::dataset_now();
        match spilled(&runs, &schema, Format::Ndjson, &body, now, 5, plan) {
            Err(SpillError::Input(e)) => assert_eq!(e, expected, "batches of {batch_bytes}"),
            other => panic!("batches of {batch_bytes}: {other:?}"),
        }
    }
}

/// A part result's floats come back from JSON exactly, though serde_json (without its
/// `float_roundtrip` feature) reads some floats' shortest form a unit in the last place off.
/// Whether that feature is on depends on the build (a workspace build may unify it in), so the
/// floats are those it reads back wrong when there are any, and any floats otherwise.
#[test]
fn part_results_carry_their_floats_exactly() {
    let mut rng = Rng::new(5);
    let read_back = |x: f64| serde_json::from_str::<f64>(&serde_json::to_string(&x).unwrap());
    let mut candidates: Vec<f64> = (0..100_000)
        .map(|_| rng.unit() * 10f64.powi(rng.below(12) as i32))
        .collect();
    let inexact: Vec<f64> = candidates
        .iter()
        .copied()
        .filter(|&x| read_back(x).unwrap() != x)
        .take(3)
        .collect();
    let json_is_inexact = inexact.len() == 3;
    let inexact = if json_is_inexact {
        inexact
    } else {
        candidates.truncate(3);
        candidates
    };
    let finding = Finding {
        rule_id: "aml-x-001".into(),
        severity: crate::RuleSeverity::High,
        category: "c".into(),
        record_ids: vec!["r1".into()],
        group: Some([("k".to_string(), serde_json::json!([inexact[0], 1, "s"]))].into()),
        window: None,
        at: None,
        observed: inexact
            .iter()
            .map(|&x| Observation {
                condition: "c".into(),
                value: serde_json::json!(x),
                holds: false,
            })
            .collect(),
        threshold: Some(inexact[1]),
        message: "m".into(),
        policy_section: "s".into(),
        policy_excerpt: "e".into(),
    };
    let sent = spill::PartFinding::new(0, "00".into(), finding.clone());
    let received: spill::PartFinding = json_round_trip(&sent);
    if json_is_inexact {
        assert_ne!(
            received.finding, finding,
            "the JSON alone changes the floats"
        );
    }
    let (_, _, exact) = received.exact().unwrap();
    assert_eq!(exact, finding);
}
