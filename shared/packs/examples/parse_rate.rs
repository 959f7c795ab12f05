//! Times the NDJSON parse (and the evaluation) of one pack rule, or the whole AML pack, over a
//! file, for profiling the reader (`perf record` around it):
//!
//! ```text
//! cargo run --release -p compliance-packs --example parse_rate -- FILE [RULE_ID|aml] [THREADS] [ROUNDS]
//! ```

use std::time::Instant;

use chrono::{TimeZone, Utc};
use compliance_packs::engine::{evaluate_partitioned, input, RuleRun, Schema};
use compliance_packs::{pack, PolicyType, Rule};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .expect("usage: parse_rate FILE [RULE_ID|aml] [THREADS] [ROUNDS]");
    let which = args.get(1).map_or("aml-tm-001", String::as_str);
    let threads: usize = args.get(2).and_then(|t| t.parse().ok()).unwrap_or(1);
    let rounds: usize = args.get(3).and_then(|t| t.parse().ok()).unwrap_or(5);
    let body = std::fs::read(path).expect("the file reads");
    let p = pack(PolicyType::Aml);
    let rules: Vec<&Rule> = match which {
        "aml" => p.rules.iter().collect(),
        id => vec![p.rule(id).expect("a rule of the AML pack")],
    };
    let schema = Schema::for_rules(rules.iter().copied()).expect("the rules' schema");
    let runs: Vec<RuleRun> = rules.iter().map(|r| RuleRun::as_written(r)).collect();
    let now = Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap();
    let mb = body.len() as f64 / 1e6;
    for _ in 0..rounds {
        let t = Instant::now();
        let records = match threads {
            1 => input::parse_ndjson(&schema, &body),
            n => input::parse_ndjson_parallel(&schema, &body, n),
        }
        .expect("the file parses");
        let parsed = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let e =
            evaluate_partitioned(&runs, &records, now, 100, threads).expect("the rules compile");
        let evaluated = t.elapsed().as_secs_f64();
        println!(
            "{which} on {threads} thread(s): parse {parsed:.3} s ({:.0} MB/s), evaluate {evaluated:.3} s, \
             total {:.3} s; {} findings",
            mb / parsed,
            parsed + evaluated,
            e.findings_total
        );
    }
}
