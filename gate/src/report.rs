//! What the gate prints: a plain table on stdout and the same as Markdown for the job summary.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::api::{Repo, Score};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
}

/// A control that was `pass` or `partial` before the scan and fails now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regression {
    pub framework: String,
    pub control: String,
    pub name: String,
    pub before: String,
    pub after: String,
}

pub struct Report {
    pub repo: Repo,
    pub scan_id: String,
    pub duplicate: bool,
    pub framework: Option<String>,
    /// The judged score: the framework's, or the overall one.
    pub score: u32,
    pub min_score: u32,
    pub checked_regressions: bool,
    pub regressions: Vec<Regression>,
    pub after: Score,
    pub outcome: Outcome,
}

fn score_text(score: Option<u32>) -> String {
    score.map_or_else(|| "-".to_string(), |s| s.to_string())
}

impl Report {
    fn judged(&self) -> String {
        match &self.framework {
            Some(key) => format!("framework {key}"),
            None => "overall".to_string(),
        }
    }

    fn verdict(&self) -> String {
        let mut reasons = Vec::new();
        if self.score < self.min_score {
            reasons.push(format!(
                "{} score {} is below {}",
                self.judged(),
                self.score,
                self.min_score
            ));
        }
        if !self.regressions.is_empty() {
            reasons.push(format!(
                "{} control(s) newly failing since the previous scan",
                self.regressions.len()
            ));
        }
        match self.outcome {
            Outcome::Pass => format!(
                "PASS: {} score {} >= {}{}",
                self.judged(),
                self.score,
                self.min_score,
                if self.checked_regressions {
                    ", no control newly failing"
                } else {
                    ""
                }
            ),
            Outcome::Fail => format!("FAIL: {}", reasons.join("; ")),
        }
    }

    /// The plain-text table.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let s = &self.after.executive_summary;
        let _ = writeln!(
            out,
            "Compliance gate: {} (repo {}), scan {}{}",
            self.repo.name,
            self.repo.repo_id,
            self.scan_id,
            if self.duplicate {
                " (same report as before)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            out,
            "{:<24} {:>5} {:>5} {:>7} {:>5} {:>11}",
            "framework", "score", "pass", "partial", "fail", "no evidence"
        );
        for (key, f) in &self.after.frameworks {
            let _ = writeln!(
                out,
                "{:<24} {:>5} {:>5} {:>7} {:>5} {:>11}",
                key,
                score_text(f.score),
                f.pass,
                f.partial,
                f.fail,
                f.no_evidence
            );
        }
        let _ = writeln!(out, "overall score {} ({})", s.overall_score, s.posture);
        if !self.regressions.is_empty() {
            let _ = writeln!(out, "Newly failing since the previous scan:");
            for r in &self.regressions {
                let _ = writeln!(
                    out,
                    "  {} {} {}: {} -> {}",
                    r.framework, r.control, r.name, r.before, r.after
                );
            }
        }
        let _ = writeln!(out, "{}", self.verdict());
        out
    }

    /// The same as Markdown, for `$GITHUB_STEP_SUMMARY`.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let icon = match self.outcome {
            Outcome::Pass => "✅",
            Outcome::Fail => "❌",
        };
        let s = &self.after.executive_summary;
        let _ = writeln!(
            out,
            "### {icon} Compliance gate: `{}`\n",
            md(&self.repo.name)
        );
        let _ = writeln!(out, "**{}**\n", md(&self.verdict()));
        let _ = writeln!(
            out,
            "Overall score **{}** ({}), scan `{}`.\n",
            s.overall_score, s.posture, self.scan_id
        );
        let _ = writeln!(
            out,
            "| framework | score | pass | partial | fail | no evidence |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        for (key, f) in &self.after.frameworks {
            let _ = writeln!(
                out,
                "| {} ({}) | {} | {} | {} | {} | {} |",
                md(key),
                md(&f.name),
                score_text(f.score),
                f.pass,
                f.partial,
                f.fail,
                f.no_evidence
            );
        }
        if !self.regressions.is_empty() {
            let _ = writeln!(out, "\nNewly failing since the previous scan:\n");
            let _ = writeln!(out, "| framework | control | before | now |");
            let _ = writeln!(out, "|---|---|---|---|");
            for r in &self.regressions {
                let _ = writeln!(
                    out,
                    "| {} | {} {} | {} | {} |",
                    md(&r.framework),
                    md(&r.control),
                    md(&r.name),
                    r.before,
                    r.after
                );
            }
        }
        out.push('\n');
        out
    }
}

pub fn error_markdown(message: &str) -> String {
    format!(
        "### ❌ Compliance gate: error\n\n{}\n\nThe gate fails closed: no score was judged.\n\n",
        md(message)
    )
}

/// Table cells: no pipe or newline breaks the table.
fn md(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

pub fn append(path: &std::ffi::OsStr, markdown: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(markdown.as_bytes())
}
