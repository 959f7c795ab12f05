//! Figures for the product's hot paths (run: `cargo bench -p compliance-core`):
//! - ingest throughput: a ≥ 50 MB SARIF report built from the real samples, parsed, normalised
//!   and summarised (MB/s), from memory and read from a file (the upload path);
//! - scoring one repository against every built-in framework plus ten custom ones, and the same
//!   with 1,000 approved exceptions applied to the scan's finding keys (fingerprints, rules with
//!   path globs, CWE ids) as a read does it (the match kept per scan and set of exceptions), side
//!   by side (target: within 2× of scoring without); and the match itself, made once per scan
//!   and set.

use std::hint::black_box;

use chrono::Utc;
use compliance_domain::catalog::{
    builtin, CheckType, Control, Domain, Framework, PassCondition, Recommendation,
};
use compliance_domain::ingest::{
    parse_sarif, summarise, summarise_sarif, summarise_sarif_keyed, summarise_sarif_stream,
    FindingKey, Signals,
};
use compliance_domain::scoring::{
    apply_exceptions, evaluate, score, Applying, Covers, FrameworkInput, Glob, MatchMemo, ScanInput,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};

const TARGET_BYTES: usize = 50 * 1024 * 1024;

fn sample(path: &str) -> Value {
    let full = format!(
        "{}/../../../shared/sarif-samples/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))).unwrap()
}

/// The samples' runs, each run's results repeated `rounds` times; each copy gets its own line
/// numbers and fingerprints, so findings differ.
fn report_with(runs: &[Value], rounds: usize) -> Vec<u8> {
    let mut runs = runs.to_vec();
    for run in &mut runs {
        let Some(results) = run["results"].as_array().cloned() else {
            continue;
        };
        let mut grown = Vec::with_capacity(results.len() * rounds);
        for round in 0..rounds {
            for r in &results {
                let mut r = r.clone();
                if let Some(loc) = r.pointer_mut("/locations/0/physicalLocation/region/startLine") {
                    *loc = json!(loc.as_u64().unwrap_or(1) + (round as u64) * 10_000);
                }
                if let Some(fp) = r.get_mut("partialFingerprints") {
                    *fp = json!({"round": round.to_string()});
                }
                grown.push(r);
            }
        }
        run["results"] = Value::Array(grown);
    }
    let log = json!({"version": "2.1.0", "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": runs});
    serde_json::to_vec(&log).unwrap()
}

/// One log of at least [`TARGET_BYTES`] made of real scanners' runs.
fn large_report() -> Vec<u8> {
    let sources = [
        "codeql/codeql-2.20.4_javascript_smithy.sarif",
        "snyk/snyk-container-1.1292.1_reloader.sarif",
        "trivy/trivy-0.69_config_misconfig_terraform.sarif",
        "semgrep/semgrep_dataflow_traces.sarif",
        "gitleaks/gitleaks-8_provenancepass_3results.sarif",
        "bandit/bandit-1.8.6_open-hostfactory.sarif",
    ];
    let runs: Vec<Value> = sources
        .iter()
        .flat_map(|p| sample(p)["runs"].as_array().cloned().unwrap_or_default())
        .collect();
    let mut rounds = 16;
    loop {
        let bytes = report_with(&runs, rounds);
        if bytes.len() >= TARGET_BYTES {
            return bytes;
        }
        rounds = rounds * TARGET_BYTES / bytes.len() + 1;
    }
}

fn ingest(c: &mut Criterion) {
    let report = large_report();
    eprintln!("report: {:.1} MB", report.len() as f64 / 1e6);
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(report.len() as u64));
    // What the HTTP ingest runs: parse, normalise and summarise in one pass.
    group.bench_function("parse_sarif+summarise 50MB", |b| {
        b.iter(|| black_box(summarise_sarif(black_box(&report), &Signals::default()).unwrap()))
    });
    // What an upload runs: the same report read from a file in bounded memory (two passes:
    // its runs' `results` come before `tool`, keys being written sorted), hashed as it is read.
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    std::io::Write::write_all(&mut file, &report).expect("report written");
    let streamed = summarise_sarif_stream(file.path(), &Signals::default()).unwrap();
    assert_eq!(
        streamed.summary,
        summarise_sarif(&report, &Signals::default()).unwrap(),
        "the stream and the slice paths differ on the bench's report"
    );
    group.bench_function("summarise_sarif_stream 50MB file", |b| {
        b.iter(|| black_box(summarise_sarif_stream(file.path(), &Signals::default()).unwrap()))
    });
    group.finish();
}

/// Ten org frameworks of twenty controls each, over every check type.
fn custom_frameworks() -> Vec<Framework> {
    (0..10)
        .map(|f| Framework {
            key: format!("custom_{f}"),
            name: format!("Custom {f}"),
            description: String::new(),
            requires_plan: None,
            custom: true,
            controls: (0..20)
                .map(|i| {
                    let check_type = CheckType::ALL[(f + i) % CheckType::ALL.len()];
                    Control {
                        id: format!("C-{i}"),
                        name: format!("Control {i}"),
                        category: "General".into(),
                        description: String::new(),
                        check_type,
                        pass_condition: PassCondition::default_for(check_type),
                        recommendation: Recommendation::Required,
                        recommendation_reason: "custom".into(),
                        domain: Domain::for_check_type(check_type),
                        weaknesses: None,
                    }
                })
                .collect(),
        })
        .collect()
}

fn scoring(c: &mut Criterion) {
    let report = large_report();
    let summary = summarise(&parse_sarif(&report).unwrap(), &Signals::default());
    let custom = custom_frameworks();
    let frameworks: Vec<&Framework> = builtin().iter().chain(custom.iter()).collect();
    let disabled = vec!["CC8.1".to_string()];
    let inputs: Vec<FrameworkInput> = frameworks
        .iter()
        .map(|f| FrameworkInput {
            framework: f,
            disabled: &disabled,
            attested: &[],
        })
        .collect();
    let now = Utc::now();
    let scan = ScanInput {
        summary: &summary,
        completed_at: now,
        excepted: None,
    };
    // What the score endpoint runs: every control judged, reasons written only when the
    // response is serialised.
    c.bench_function("score 6 built-in + 10 custom frameworks", |b| {
        b.iter(|| black_box(evaluate(black_box(&inputs), Some(&scan), now)))
    });
    // The owned report, every reason written out (trend points, OSCAL, summaries).
    c.bench_function("score+to_report 6 built-in + 10 custom frameworks", |b| {
        b.iter(|| black_box(score(black_box(&inputs), Some(&scan), now)))
    });
    // The same scan with 1,000 approved exceptions, as a read scores it: the match of the scan's
    // keys against the exceptions that apply is looked up (made once per scan and set of
    // exceptions, see `MatchMemo`), then every control is judged with its excepted findings.
    let (summary, keys) = summarise_sarif_keyed(&report, &Signals::default()).unwrap();
    let exceptions = thousand_exceptions(&keys.keys, now);
    let ids: Vec<String> = (0..exceptions.len())
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    eprintln!(
        "scoring with exceptions: {} finding keys, {} exceptions",
        keys.keys.len(),
        exceptions.len()
    );
    let memo = MatchMemo::new();
    let matched = apply_exceptions(&summary, &keys.keys, &exceptions);
    memo.put(
        "scan".to_string(),
        ids.clone(),
        std::sync::Arc::new(matched),
        0,
    );
    c.bench_function(
        "score 6 built-in + 10 custom frameworks, 1,000 approved exceptions",
        |b| {
            b.iter(|| {
                let set: Vec<&str> = black_box(&ids).iter().map(String::as_str).collect();
                let matched = memo.get("scan", &set).expect("kept");
                let (kept, excepted) = &*matched;
                let scan = ScanInput {
                    summary: kept,
                    completed_at: now,
                    excepted: Some(excepted),
                };
                black_box(evaluate(black_box(&inputs), Some(&scan), now).total_issues)
            })
        },
    );
    // Matching itself, once per scan and set of exceptions: every key against the exceptions'
    // index, the summary adjusted.
    c.bench_function("match 10,000 finding keys against 1,000 exceptions", |b| {
        b.iter(|| {
            black_box(apply_exceptions(
                black_box(&summary),
                black_box(&keys.keys),
                &exceptions,
            ))
        })
    });
}

/// 1,000 exceptions: 600 by one fingerprint each (every tenth key), 300 by rule (half with a
/// path glob), 100 by CWE id; every other one expiring in a month.
fn thousand_exceptions(keys: &[FindingKey], now: chrono::DateTime<Utc>) -> Vec<Applying> {
    let rules: Vec<&str> = {
        let mut r: Vec<&str> = keys.iter().map(|k| k.rule_id.as_str()).collect();
        r.sort_unstable();
        r.dedup();
        r
    };
    (0..1_000)
        .map(|i| {
            let covers = match i {
                0..600 => {
                    Covers::Fingerprints([keys[(i * 10) % keys.len()].fingerprint.clone()].into())
                }
                600..900 => Covers::Rule {
                    rule_id: rules[i % rules.len()].to_string(),
                    path: (i % 2 == 0).then(|| Glob::new("src/**/test_*.py")),
                },
                _ => Covers::Cwe(i as u32 - 880),
            };
            Applying {
                covers,
                expires_at: (i % 2 == 0).then(|| now + chrono::Duration::days(30)),
            }
        })
        .collect()
}

criterion_group!(benches, ingest, scoring);
criterion_main!(benches);
