//! The native scan document (format in docs/ingestion.md) and repository [`Signals`], which
//! SARIF callers may also send on their own ([`parse_signals`]).
//!
//! Validation is strict: unknown fields are rejected, every error names its path
//! (`findings[3].severity`).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::{CheckType, Severity};

use super::error::{explain_with_path, IngestError};
use super::model::{
    clip_bytes, truncate_chars, ExclusionCounts, Finding, Location, NormalisedScan, ToolRun,
    CWE_MAX_PER_FINDING, MESSAGE_MAX_CHARS, RULE_ID_MAX_CHARS, TOOL_MAX_CHARS, URI_MAX_CHARS,
};

/// Most languages in [`Signals::languages`].
pub const LANGUAGES_MAX: usize = 50;
/// Longest language name, in bytes (UTF-8).
pub const LANGUAGE_MAX_BYTES: usize = 64;
/// Most file names in [`Signals::files`].
pub const FILES_MAX: usize = 100;
/// Longest file name, in bytes (UTF-8).
pub const FILE_MAX_BYTES: usize = 200;
/// Longest caller-supplied fingerprint, in characters.
pub const FINGERPRINT_MAX_CHARS: usize = 128;

/// Quality-gate status as the CI pipeline reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityGate {
    Passed,
    Failed,
}

/// Pull-request review statistics for the period the scan reports on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequestStats {
    /// Pull requests merged.
    pub merged: u32,
    /// Of those, merged with at least one approving review.
    pub reviewed: u32,
    /// Median number of approvals per merged pull request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals_median: Option<f64>,
}

/// Repository signals scanners don't produce: quality gate, review stats, languages, notable
/// files (which tell whether IaC checks apply, e.g. `Dockerfile`, `main.tf`). Bounded, see
/// [`Signals::validate`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signals {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality_gate: Option<QualityGate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_requests: Option<PullRequestStats>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

impl Signals {
    pub fn is_empty(&self) -> bool {
        self.quality_gate.is_none()
            && self.pull_requests.is_none()
            && self.languages.is_empty()
            && self.files.is_empty()
    }

    /// Checks bounds and normalises: languages trimmed, lower-cased, sorted, deduplicated; files
    /// trimmed, sorted, deduplicated. `path` prefixes error paths (`"signals"` inside a native
    /// document, `""` for a standalone signals document).
    pub fn validate(self, path: &str) -> Result<Signals, IngestError> {
        let at = |rest: &str| {
            if path.is_empty() {
                rest.to_owned()
            } else {
                format!("{path}.{rest}")
            }
        };
        if let Some(pr) = &self.pull_requests {
            if pr.reviewed > pr.merged {
                return Err(IngestError::new(
                    at("pull_requests.reviewed"),
                    format!(
                        "reviewed ({}) cannot exceed merged ({})",
                        pr.reviewed, pr.merged
                    ),
                ));
            }
            if let Some(m) = pr.approvals_median {
                if !m.is_finite() || !(0.0..=100.0).contains(&m) {
                    return Err(IngestError::new(
                        at("pull_requests.approvals_median"),
                        "must be a number from 0 to 100",
                    ));
                }
            }
        }
        let languages = clean_list(
            self.languages,
            LANGUAGES_MAX,
            LANGUAGE_MAX_BYTES,
            true,
            |i| at(&format!("languages[{i}]")),
            &at("languages"),
        )?;
        let files = clean_list(
            self.files,
            FILES_MAX,
            FILE_MAX_BYTES,
            false,
            |i| at(&format!("files[{i}]")),
            &at("files"),
        )?;
        Ok(Signals {
            quality_gate: self.quality_gate,
            pull_requests: self.pull_requests,
            languages,
            files,
        })
    }

    /// A copy cut to the documented bounds without failing (for signals that did not come
    /// through [`Signals::validate`]).
    pub(crate) fn bounded(&self) -> Signals {
        let cut = |list: &[String], max: usize, bytes: usize| -> Vec<String> {
            list.iter()
                .take(max)
                .map(|s| clip_bytes(s, bytes))
                .collect()
        };
        Signals {
            quality_gate: self.quality_gate,
            pull_requests: self.pull_requests.clone(),
            languages: cut(&self.languages, LANGUAGES_MAX, LANGUAGE_MAX_BYTES),
            files: cut(&self.files, FILES_MAX, FILE_MAX_BYTES),
        }
    }
}

fn clean_list(
    list: Vec<String>,
    max: usize,
    max_bytes: usize,
    lowercase: bool,
    item_path: impl Fn(usize) -> String,
    list_path: &str,
) -> Result<Vec<String>, IngestError> {
    if list.len() > max {
        return Err(IngestError::new(
            list_path,
            format!("at most {max} entries (got {})", list.len()),
        ));
    }
    let mut out = BTreeSet::new();
    for (i, item) in list.into_iter().enumerate() {
        let item = item.trim();
        if item.is_empty() {
            return Err(IngestError::new(item_path(i), "must not be empty"));
        }
        if item.len() > max_bytes {
            return Err(IngestError::new(
                item_path(i),
                format!("longer than {max_bytes} bytes"),
            ));
        }
        if item.chars().any(char::is_control) {
            return Err(IngestError::new(
                item_path(i),
                "must not contain control characters",
            ));
        }
        out.insert(if lowercase {
            item.to_lowercase()
        } else {
            item.to_owned()
        });
    }
    Ok(out.into_iter().collect())
}

/// Parses a standalone signals document (what a SARIF upload may carry alongside the log).
pub fn parse_signals(bytes: &[u8]) -> Result<Signals, IngestError> {
    let signals: Signals = parse_json(bytes)?;
    signals.validate("")
}

/// A parsed native scan document.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeScan {
    pub scan: NormalisedScan,
    pub signals: Signals,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeDoc {
    tool: String,
    #[serde(default)]
    version: Option<String>,
    started_at: String,
    finished_at: String,
    covered: Vec<CheckType>,
    #[serde(default)]
    findings: Vec<NativeFinding>,
    #[serde(default)]
    signals: Signals,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeFinding {
    check_type: CheckType,
    severity: Severity,
    rule_id: String,
    #[serde(default)]
    cwe: Vec<u32>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    line: Option<u32>,
    #[serde(default)]
    fingerprint: Option<String>,
}

fn parse_json<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, IngestError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(IngestError::new(
            "",
            "empty document: expected a JSON object",
        ));
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Err(e) => IngestError::from_json("", &e),
                Ok(_) => IngestError::new("", "the document must be a JSON object"),
            },
        );
    }
    // Fast path without path tracking; on failure, parse again to say where.
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(e) => match explain_with_path::<T>(bytes) {
            Err(explained) => Err(explained),
            Ok(_) => Err(IngestError::from_json("", &e)),
        },
    }
}

/// Parses and validates a native scan document.
pub fn parse_native(bytes: &[u8]) -> Result<NativeScan, IngestError> {
    let doc: NativeDoc = parse_json(bytes)?;

    let tool = doc.tool.trim();
    if tool.is_empty() {
        return Err(IngestError::new("tool", "must not be empty"));
    }
    if tool.chars().count() > TOOL_MAX_CHARS {
        return Err(IngestError::new(
            "tool",
            format!("longer than {TOOL_MAX_CHARS} characters"),
        ));
    }
    let tool = tool.to_owned();
    let version = match doc.version.as_deref().map(str::trim) {
        Some(v) if v.chars().count() > 64 => {
            return Err(IngestError::new("version", "longer than 64 characters"))
        }
        Some(v) if !v.is_empty() => Some(v.to_owned()),
        _ => None,
    };
    let started_at = instant(&doc.started_at, "started_at")?;
    let finished_at = instant(&doc.finished_at, "finished_at")?;
    if finished_at < started_at {
        return Err(IngestError::new(
            "finished_at",
            "must not be earlier than started_at",
        ));
    }

    let mut covered = BTreeSet::new();
    for (i, ct) in doc.covered.iter().enumerate() {
        if !ct.is_finding_based() {
            return Err(IngestError::new(
                format!("covered[{i}]"),
                format!("'{ct}' is judged on signals or scan time, not on findings: send it in `signals` (or not at all for scan_recency)"),
            ));
        }
        covered.insert(*ct);
    }

    let mut findings = Vec::with_capacity(doc.findings.len());
    for (i, f) in doc.findings.into_iter().enumerate() {
        let at = |field: &str| format!("findings[{i}].{field}");
        if !f.check_type.is_finding_based() {
            return Err(IngestError::new(
                at("check_type"),
                format!(
                    "'{}' is judged on signals or scan time, not on findings",
                    f.check_type
                ),
            ));
        }
        let rule_id = f.rule_id.trim();
        if rule_id.is_empty() {
            return Err(IngestError::new(at("rule_id"), "must not be empty"));
        }
        if rule_id.chars().count() > RULE_ID_MAX_CHARS {
            return Err(IngestError::new(
                at("rule_id"),
                format!("longer than {RULE_ID_MAX_CHARS} characters"),
            ));
        }
        if f.cwe.len() > CWE_MAX_PER_FINDING {
            return Err(IngestError::new(
                at("cwe"),
                format!("at most {CWE_MAX_PER_FINDING} CWE ids"),
            ));
        }
        if let Some(k) = f.cwe.iter().position(|c| !(1..=99_999).contains(c)) {
            return Err(IngestError::new(
                format!("findings[{i}].cwe[{k}]"),
                "a CWE id is a number from 1 to 99999",
            ));
        }
        let mut cwe = f.cwe;
        cwe.sort_unstable();
        cwe.dedup();
        let file = match f.file.as_deref().map(str::trim) {
            Some(path) if path.chars().count() > URI_MAX_CHARS => {
                return Err(IngestError::new(
                    at("file"),
                    format!("longer than {URI_MAX_CHARS} characters"),
                ))
            }
            Some(path) if !path.is_empty() => Some(path.to_owned()),
            _ => None,
        };
        if f.line == Some(0) {
            return Err(IngestError::new(at("line"), "lines are numbered from 1"));
        }
        if f.line.is_some() && file.is_none() {
            return Err(IngestError::new(at("line"), "a line needs a `file`"));
        }
        let message = f.message.as_deref().map(str::trim).unwrap_or_default();
        let fingerprint = match f.fingerprint.as_deref().map(str::trim) {
            Some(fp) if fp.chars().count() > FINGERPRINT_MAX_CHARS => {
                return Err(IngestError::new(
                    at("fingerprint"),
                    format!("longer than {FINGERPRINT_MAX_CHARS} characters"),
                ))
            }
            Some(fp) if !fp.is_empty() => fp.to_owned(),
            _ => content_fingerprint(&tool, rule_id, file.as_deref(), f.line, message),
        };
        covered.insert(f.check_type);
        findings.push(Finding {
            check_type: f.check_type,
            severity: f.severity,
            rule_id: rule_id.to_owned(),
            tool: tool.clone(),
            cwe,
            message: truncate_chars(
                if message.is_empty() { rule_id } else { message },
                MESSAGE_MAX_CHARS,
            ),
            location: file.map(|uri| Location {
                uri,
                start_line: f.line,
            }),
            fingerprint,
        });
    }

    let signals = doc.signals.validate("signals")?;
    let counted = findings.len();
    Ok(NativeScan {
        scan: NormalisedScan {
            tools: vec![ToolRun {
                tool,
                version,
                covered,
                failed: None,
                results_counted: counted,
                results_excluded: 0,
            }],
            findings,
            excluded: ExclusionCounts::default(),
        },
        signals,
        started_at,
        finished_at,
    })
}

fn instant(text: &str, path: &str) -> Result<DateTime<Utc>, IngestError> {
    crate::time::parse_instant(text.trim()).ok_or_else(|| {
        IngestError::new(
            path,
            format!(
                "not an RFC 3339 timestamp: \"{}\" (e.g. 2024-05-01T12:00:00Z)",
                truncate_chars(text, 40)
            ),
        )
    })
}

/// SHA-256 (first 16 bytes, hex) of tool, rule, file, line and message.
fn content_fingerprint(
    tool: &str,
    rule_id: &str,
    file: Option<&str>,
    line: Option<u32>,
    message: &str,
) -> String {
    let mut h = Sha256::new();
    let line = line.map(|l| l.to_string()).unwrap_or_default();
    for part in [
        tool,
        rule_id,
        file.unwrap_or_default(),
        "content",
        &line,
        message,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests;
