//! Reads a SARIF report from a file with `summarise_sarif_stream`, for measuring its peak memory
//! on reports of any size:
//!
//! ```text
//! python3 scripts/make-large-sarif.py /tmp/sarif-1g.sarif --target-bytes 1100000000
//! cargo build --release -p compliance-domain --example sarif_stream_rss
//! /usr/bin/time -v target/release/examples/sarif_stream_rss /tmp/sarif-1g.sarif
//! ```

use std::path::PathBuf;
use std::time::Instant;

use compliance_domain::ingest::{summarise_sarif_stream, Signals};

fn main() {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: sarif_stream_rss REPORT.sarif");
        std::process::exit(2);
    };
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let started = Instant::now();
    match summarise_sarif_stream(path.as_path(), &Signals::default()) {
        Ok(read) => {
            let secs = started.elapsed().as_secs_f64();
            let t = &read.summary.totals;
            println!(
                "{}: {:.1} MB in {secs:.2} s ({:.0} MB/s); {} runs, {} findings, {} excluded; sha256 {}",
                path.display(),
                size as f64 / 1e6,
                size as f64 / 1e6 / secs,
                t.runs,
                t.findings,
                t.excluded,
                read.sha256
            );
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            std::process::exit(1);
        }
    }
}
