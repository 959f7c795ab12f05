//! `compliance-gate`: a CI step that fails closed. It uploads the build's SARIF reports to the
//! Compliance API as one scan (gzip), waits until the repository's score reflects that scan,
//! prints a table (and Markdown to `$GITHUB_STEP_SUMMARY` when set), and exits
//!
//! - `0` when the score (overall, or `--framework`'s) is at least `--min-score` and, with
//!   `--no-new-failures`, no control is newly failing;
//! - `1` when the score is below `--min-score`, or with `--no-new-failures` when a control that
//!   was `pass` or `partial` in the score before the upload (the previous scan, judged under the
//!   org's current settings) is `fail` or `no_evidence` after it;
//! - `2` on any error: bad arguments, a missing or unreadable report, an unknown repository or
//!   framework, a refused key, an API that is unreachable or answers an error, a timeout.
//!
//! It speaks only the documented HTTP API: `GET /api/repos[/{id}]`,
//! `POST /api/repos/{id}/scans`, `GET /api/compliance/score/{id}`.

pub mod api;
pub mod report;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use serde_json::Value;

use api::{Api, Score};
use report::{Outcome, Report};

/// An error: the gate exits 2 with this message.
#[derive(Debug)]
pub struct Error(pub String);

pub const EXIT_PASS: u8 = 0;
pub const EXIT_FAIL: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "compliance-gate",
    version,
    about = "Upload SARIF reports to the Compliance API and fail the build below a score",
    long_about = "Uploads the SARIF reports (merged into one scan, gzip-compressed), waits for the repository's score and exits 0 (pass), 1 (below --min-score, or with --no-new-failures a control newly failing since the previous scan) or 2 (any error)."
)]
pub struct Args {
    /// The repository: its numeric id, or its name as registered (ignoring case).
    #[arg(long, value_name = "NAME_OR_ID")]
    pub repo: String,
    /// SARIF 2.1.0 reports; their runs are uploaded together as one scan.
    #[arg(long, value_name = "FILE", required = true, num_args = 1..)]
    pub sarif: Vec<PathBuf>,
    /// Judge this framework's score instead of the overall score (it must be enabled).
    #[arg(long, value_name = "KEY")]
    pub framework: Option<String>,
    /// The lowest passing score, 0 to 100.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub min_score: u32,
    /// Also fail when a control that passed (or was partial) before this scan fails now.
    #[arg(long)]
    pub no_new_failures: bool,
    /// The API's base URL, e.g. https://compliance.example.com.
    #[arg(long, env = "COMPLIANCE_API_URL", value_name = "URL")]
    pub api_url: String,
    /// An API key with the member role or above.
    #[arg(
        long,
        env = "COMPLIANCE_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub api_key: String,
    /// Give up (exit 2) after this many seconds in all.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// Reads the reports and merges their runs into one SARIF log: the score is computed from the
/// repository's latest scan, so the runs of every tool must arrive as one scan.
pub fn merged_sarif(files: &[PathBuf]) -> Result<Vec<u8>, Error> {
    let mut docs = Vec::with_capacity(files.len());
    for path in files {
        let bytes = std::fs::read(path)
            .map_err(|e| Error(format!("cannot read {}: {e}", path.display())))?;
        if files.len() == 1 {
            // One report goes as it is (the API names any problem in it).
            return Ok(bytes);
        }
        let doc: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error(format!("{} is not JSON: {e}", path.display())))?;
        if !doc.get("runs").is_some_and(Value::is_array) {
            return Err(Error(format!(
                "{} is not a SARIF log (no `runs` array)",
                path.display()
            )));
        }
        docs.push(doc);
    }
    let mut runs = Vec::new();
    for doc in &mut docs {
        if let Some(Value::Array(r)) = doc.get_mut("runs") {
            runs.append(r);
        }
    }
    let first = &docs[0];
    let merged = serde_json::json!({
        "$schema": first.get("$schema").cloned().unwrap_or_else(|| "https://json.schemastore.org/sarif-2.1.0.json".into()),
        "version": first.get("version").cloned().unwrap_or_else(|| "2.1.0".into()),
        "runs": runs,
    });
    serde_json::to_vec(&merged).map_err(|e| Error(format!("merging the reports: {e}")))
}

/// Control statuses that score as failing.
fn failing(status: &str) -> bool {
    matches!(status, "fail" | "no_evidence")
}

/// Controls that were `pass` or `partial` before and fail (or lack evidence) now:
/// `(framework, control id, control name, before, after)`.
pub fn newly_failing(before: &Score, after: &Score) -> Vec<report::Regression> {
    let mut out = Vec::new();
    for (key, framework) in &after.frameworks {
        let Some(prior) = before.frameworks.get(key) else {
            continue;
        };
        for control in framework.controls.iter().filter(|c| failing(&c.status)) {
            if let Some(was) = prior
                .controls
                .iter()
                .find(|c| c.id == control.id)
                .filter(|c| matches!(c.status.as_str(), "pass" | "partial"))
            {
                out.push(report::Regression {
                    framework: key.clone(),
                    control: control.id.clone(),
                    name: control.name.clone(),
                    before: was.status.clone(),
                    after: control.status.clone(),
                });
            }
        }
    }
    out
}

/// Scan ids are time-ordered (13 hex digits of milliseconds, then random): a later scan's id
/// sorts after an earlier one's.
fn reflects(score: &Score, scan_id: &str) -> bool {
    score
        .scan_id
        .as_deref()
        .is_some_and(|latest| latest >= scan_id)
}

/// The gate's work, bounded by the caller's timeout.
pub async fn run(args: &Args) -> Result<Report, Error> {
    let api = Api::new(&args.api_url, &args.api_key)?;
    let sarif = merged_sarif(&args.sarif)?;
    let repo = api.resolve_repo(&args.repo).await?;
    let framework = args.framework.as_deref();
    // The baseline (and a check that the framework exists and is enabled) before uploading.
    let before = api.score(repo.repo_id, framework).await?;
    let created = api.upload(repo.repo_id, &sarif).await?;
    let after = loop {
        let score = api.score(repo.repo_id, framework).await?;
        if reflects(&score, &created.scan_id) {
            break score;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let score = match framework {
        None => after.executive_summary.overall_score,
        Some(key) => after
            .frameworks
            .get(key)
            .ok_or_else(|| Error(format!("the score has no framework '{key}'")))?
            .score
            .ok_or_else(|| {
                Error(format!(
                    "framework '{key}' has no score: every control of it is disabled"
                ))
            })?,
    };
    let regressions = if args.no_new_failures {
        newly_failing(&before, &after)
    } else {
        Vec::new()
    };
    let outcome = if score < args.min_score || !regressions.is_empty() {
        Outcome::Fail
    } else {
        Outcome::Pass
    };
    Ok(Report {
        repo,
        scan_id: created.scan_id,
        duplicate: created.duplicate,
        framework: args.framework.clone(),
        score,
        min_score: args.min_score,
        checked_regressions: args.no_new_failures,
        regressions,
        after,
        outcome,
    })
}

/// Runs the gate and renders its result; returns the exit code.
pub async fn main_with(args: Args) -> u8 {
    let limit = Duration::from_secs(args.timeout);
    let result = match tokio::time::timeout(limit, run(&args)).await {
        Ok(result) => result,
        Err(_) => Err(Error(format!(
            "timed out after {}s waiting for the API",
            args.timeout
        ))),
    };
    let summary_file = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty());
    let (code, markdown) = match result {
        Ok(report) => {
            print!("{}", report.text());
            let code = match report.outcome {
                Outcome::Pass => EXIT_PASS,
                Outcome::Fail => EXIT_FAIL,
            };
            (code, report.markdown())
        }
        Err(Error(message)) => {
            eprintln!("compliance-gate: error: {message}");
            (EXIT_ERROR, report::error_markdown(&message))
        }
    };
    if let Some(path) = summary_file {
        if let Err(e) = report::append(&path, &markdown) {
            eprintln!("compliance-gate: warning: cannot write GITHUB_STEP_SUMMARY: {e}");
        }
    }
    code
}
