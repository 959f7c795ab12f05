//! Writes the benchmark's AML transaction feed to a file, for tools outside the crate (DuckDB in
//! `scripts/bench-audit-runs.sh`):
//!
//! ```text
//! cargo run --release -p compliance-packs --features synthetic --example write_aml_bench_data -- PATH [COUNT] [SEED]
//! ```
//!
//! COUNT defaults to 1,000,000 and SEED to 2025, the benchmark's; the bytes are exactly those
//! that `benches/audit_run.rs` evaluates.

use std::process::ExitCode;

use compliance_packs::synth::aml_transactions_ndjson;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: write_aml_bench_data PATH [COUNT] [SEED]");
        return ExitCode::from(2);
    };
    let number = |i: usize, default: u64| match args.get(i) {
        None => Ok(default),
        Some(text) => text
            .replace('_', "")
            .parse::<u64>()
            .map_err(|e| format!("{text}: {e}")),
    };
    let (count, seed) = match (number(1, 1_000_000), number(2, 2025)) {
        (Ok(count), Ok(seed)) => (count, seed),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("write_aml_bench_data: {e}");
            return ExitCode::from(2);
        }
    };
    let bytes = aml_transactions_ndjson(seed, count as usize);
    if let Err(e) = std::fs::write(path, &bytes) {
        eprintln!("write_aml_bench_data: {path}: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "wrote {count} transactions, {} bytes, to {path}",
        bytes.len()
    );
    ExitCode::SUCCESS
}
