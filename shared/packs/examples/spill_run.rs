//! Streams an NDJSON (or CSV) file of records through `engine::evaluate_spilled` with a pack's
//! rules and prints the counts and the time taken:
//!
//! ```text
//! cargo run --release -p compliance-packs --example spill_run -- FILE [aml|gdpr|soc2] [THREADS] [SPILL_DIR]
//! ```
//!
//! The pack defaults to AML, THREADS to the cores available, SPILL_DIR to the system's temporary
//! folder; a file ending in `.csv` is read as CSV. The partitions per class are chosen from the
//! file's size (`engine::partitions_for`). Evaluated at the synthetic datasets' time
//! (2025-03-01T12:00:00Z), keeping 10,000 findings as a stored run does. Run it under
//! `/usr/bin/time -v` for the peak memory.

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use compliance_packs::engine::{
    evaluate_spilled, input::Format, partitions_for, RuleRun, Schema, SpillOptions,
};
use compliance_packs::{pack, PolicyType};

const KEEP: usize = 10_000;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: spill_run FILE [aml|gdpr|soc2] [THREADS] [SPILL_DIR]");
        return ExitCode::from(2);
    };
    let policy = match args.get(1).map(String::as_str).unwrap_or("aml") {
        "aml" => PolicyType::Aml,
        "gdpr" => PolicyType::Gdpr,
        "soc2" => PolicyType::Soc2,
        other => {
            eprintln!("spill_run: no pack '{other}'");
            return ExitCode::from(2);
        }
    };
    let threads = args
        .get(2)
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(compliance_packs::engine::default_partitions);
    let dir = args
        .get(3)
        .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    let format = if path.ends_with(".csv") {
        Format::Csv
    } else {
        Format::Ndjson
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("spill_run: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let size = file.metadata().map_or(0, |m| m.len());
    let p = pack(policy);
    let schema = Schema::for_rules(&p.rules).expect("the pack's schema");
    let runs: Vec<RuleRun> = p.rules.iter().map(RuleRun::as_written).collect();
    let options = SpillOptions::new(dir, size, threads);
    let now = Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap();
    let start = Instant::now();
    let evaluation = match evaluate_spilled(
        &runs,
        &schema,
        format,
        BufReader::with_capacity(1 << 20, file),
        now,
        KEEP,
        &options,
    ) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("spill_run: {e}");
            return ExitCode::FAILURE;
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    for r in &evaluation.rules {
        println!(
            "  {:<15} {:<14} findings {:>9}  evaluated {:>9}  not evaluable {:>9}",
            r.rule_id,
            format!("{:?}", r.status),
            r.findings,
            r.evaluated,
            r.not_evaluable
        );
    }
    println!(
        "spill_run: records={} bytes={size} partitions={} threads={threads} findings={} kept={} \
         seconds={seconds:.2} mb_per_s={:.1}",
        evaluation.records,
        partitions_for(size),
        evaluation.findings_total,
        evaluation.findings.len(),
        size as f64 / 1e6 / seconds,
    );
    ExitCode::SUCCESS
}
