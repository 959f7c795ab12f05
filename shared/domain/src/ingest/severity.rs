//! Severity sources and their mapping onto the catalog's five severities. The ORDER in which a
//! SARIF result's sources are consulted lives in `sarif/mod.rs` (`result_severity`) and in
//! docs/ingestion.md; this module turns each kind of source into a [`Severity`].

use crate::catalog::Severity;

use super::loose::Loose;

/// SARIF `level` (§3.27.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    None,
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "none" => Some(Level::None),
            "note" => Some(Level::Note),
            "warning" => Some(Level::Warning),
            "error" => Some(Level::Error),
            _ => None,
        }
    }

    /// error → high, warning → medium, note → low; `none` is not a finding (not counted).
    pub fn severity(self) -> Option<Severity> {
        match self {
            Level::Error => Some(Severity::High),
            Level::Warning => Some(Severity::Medium),
            Level::Note => Some(Severity::Low),
            Level::None => None,
        }
    }
}

/// CVSS-style score bands (those GitHub code scanning uses for `security-severity`):
/// ≥ 9.0 critical, ≥ 7.0 high, ≥ 4.0 medium, > 0 low, 0 info. Outside 0..=10 (or NaN): none.
pub fn severity_from_score(score: f64) -> Option<Severity> {
    if !score.is_finite() || !(0.0..=10.0).contains(&score) {
        return None;
    }
    Some(if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    })
}

/// A severity word as tools write them, any case: critical; high/error; medium/moderate/warning;
/// low/note/negligible/minor; info/informational/none. `unknown`, `undefined` → none.
pub fn severity_from_label(label: &str) -> Option<Severity> {
    let label = label.trim();
    if label.len() > 16 {
        return None;
    }
    let lower = label.to_ascii_lowercase();
    Some(match lower.as_str() {
        "critical" | "crit" | "blocker" => Severity::Critical,
        "high" | "error" | "severe" | "major" => Severity::High,
        "medium" | "moderate" | "warning" | "med" => Severity::Medium,
        "low" | "note" | "negligible" | "minor" => Severity::Low,
        "info" | "informational" | "information" | "none" => Severity::Info,
        _ => return None,
    })
}

/// A numeric-severity property (`security-severity`, CVSS base scores): a JSON number, a string
/// holding a number (`"7.5"`, `" 7.5 (High)"`), or — where a number is expected but a label is
/// written — a label (`"HIGH"`). Tokens holding `:` or `/` (CVSS vectors) are not scores.
pub fn severity_from_score_value(value: &Loose<'_>) -> Option<Severity> {
    match value {
        Loose::Num(n) => severity_from_score(*n),
        Loose::Str(s) => severity_from_score_text(s),
        _ => None,
    }
}

fn severity_from_score_text(text: &str) -> Option<Severity> {
    let text = text.trim();
    if let Ok(n) = text.parse::<f64>() {
        return severity_from_score(n);
    }
    let mut label = None;
    // Bounded: a property value is short; look at the first few tokens only.
    for token in text
        .split(|c: char| c.is_whitespace() || "()[]{},;=".contains(c))
        .filter(|t| !t.is_empty())
        .take(8)
    {
        if token.contains(':') || token.contains('/') {
            continue;
        }
        if let Ok(n) = token.parse::<f64>() {
            return severity_from_score(n);
        }
        if label.is_none() {
            label = severity_from_label(token);
        }
    }
    label
}

/// A label-valued property (bandit `issue_severity`, a generic `severity`): labels only; a
/// bare number here is on an unknown scale (Nessus writes 0-4) and is ignored.
pub fn severity_from_label_value(value: &Loose<'_>) -> Option<Severity> {
    value.as_str().and_then(severity_from_label)
}

/// Severity written in rule text by tools that have no property for it (profiles with
/// `severity_in_rule_text`): Snyk's `"High severity - …"`, Anchore's `"… Severity=Low …"`,
/// `"Severity: HIGH"`. Only the first 200 bytes are looked at.
pub fn severity_from_text(text: &str) -> Option<Severity> {
    let head: String = text
        .chars()
        .take(200)
        .collect::<String>()
        .to_ascii_lowercase();
    for key in ["severity=", "severity:"] {
        if let Some(at) = head.find(key) {
            let rest = head[at + key.len()..].trim_start();
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            if let Some(s) = severity_from_label(&word) {
                return Some(s);
            }
        }
    }
    let mut words = head.split_whitespace();
    if let (Some(first), Some(second)) = (words.next(), words.next()) {
        if second.trim_end_matches(|c: char| !c.is_ascii_alphabetic()) == "severity" {
            return severity_from_label(first);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn score_bands() {
        assert_eq!(severity_from_score(10.0), Some(Severity::Critical));
        assert_eq!(severity_from_score(9.0), Some(Severity::Critical));
        assert_eq!(severity_from_score(8.99), Some(Severity::High));
        assert_eq!(severity_from_score(7.0), Some(Severity::High));
        assert_eq!(severity_from_score(6.9), Some(Severity::Medium));
        assert_eq!(severity_from_score(4.0), Some(Severity::Medium));
        assert_eq!(severity_from_score(3.9), Some(Severity::Low));
        assert_eq!(severity_from_score(0.1), Some(Severity::Low));
        assert_eq!(severity_from_score(0.0), Some(Severity::Info));
        assert_eq!(severity_from_score(-1.0), None);
        assert_eq!(severity_from_score(10.5), None);
        assert_eq!(severity_from_score(f64::NAN), None);
    }

    fn s(text: &str) -> Loose<'_> {
        Loose::Str(Cow::Borrowed(text))
    }

    #[test]
    fn score_values_accept_numbers_numeric_strings_and_labels() {
        assert_eq!(
            severity_from_score_value(&Loose::Num(9.8)),
            Some(Severity::Critical)
        );
        assert_eq!(severity_from_score_value(&s("5.3")), Some(Severity::Medium));
        assert_eq!(severity_from_score_value(&s(" 7.5 ")), Some(Severity::High));
        assert_eq!(
            severity_from_score_value(&s("7.5 (High)")),
            Some(Severity::High)
        );
        assert_eq!(
            severity_from_score_value(&s("High (8.1)")),
            Some(Severity::High)
        );
        assert_eq!(severity_from_score_value(&s("HIGH")), Some(Severity::High));
        assert_eq!(
            severity_from_score_value(&s("critical")),
            Some(Severity::Critical)
        );
        assert_eq!(severity_from_score_value(&s("0")), Some(Severity::Info));
        // A CVSS vector is not a score.
        assert_eq!(
            severity_from_score_value(&s("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N")),
            None
        );
        assert_eq!(severity_from_score_value(&s("n/a")), None);
        assert_eq!(severity_from_score_value(&s("")), None);
        assert_eq!(severity_from_score_value(&s("42")), None);
        assert_eq!(severity_from_score_value(&Loose::Bool(true)), None);
        assert_eq!(severity_from_score_value(&Loose::Other), None);
    }

    #[test]
    fn label_values_ignore_numbers() {
        assert_eq!(
            severity_from_label_value(&s("MEDIUM")),
            Some(Severity::Medium)
        );
        assert_eq!(
            severity_from_label_value(&s("Moderate")),
            Some(Severity::Medium)
        );
        assert_eq!(severity_from_label_value(&s("UNDEFINED")), None);
        assert_eq!(severity_from_label_value(&s("2")), None);
        assert_eq!(severity_from_label_value(&Loose::Num(2.0)), None);
    }

    #[test]
    fn text_severity_patterns() {
        assert_eq!(
            severity_from_text("High severity - Command Injection vulnerability in lodash"),
            Some(Severity::High)
        );
        assert_eq!(
            severity_from_text("CVE-2019-18276 Severity=Low Package=bash-4.3"),
            Some(Severity::Low)
        );
        assert_eq!(
            severity_from_text("Severity: CRITICAL\nx"),
            Some(Severity::Critical)
        );
        assert_eq!(severity_from_text("Disallow unused variables"), None);
        assert_eq!(severity_from_text(""), None);
    }

    #[test]
    fn levels() {
        assert_eq!(
            Level::parse("error").and_then(Level::severity),
            Some(Severity::High)
        );
        assert_eq!(
            Level::parse("warning").and_then(Level::severity),
            Some(Severity::Medium)
        );
        assert_eq!(
            Level::parse("note").and_then(Level::severity),
            Some(Severity::Low)
        );
        assert_eq!(Level::parse("none").and_then(Level::severity), None);
        assert_eq!(Level::parse("Error"), None);
    }
}
