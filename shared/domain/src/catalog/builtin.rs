//! The built-in frameworks, compiled in from the data files in `data/` and parsed once.
//!
//! A data file is line-based text (`#` starts a comment line; blank lines separate nothing in
//! particular). Its first line declares the framework:
//!
//! ```text
//! framework <key> | <name> | <description> | requires_plan: <none|free|team|business|enterprise>
//! ```
//!
//! then each control is a header line and three indented lines, in this order, optionally
//! followed by a fourth, the weaknesses (CWE ids) the control covers and the published mapping
//! they come from:
//!
//! ```text
//! <id> | <name> | <category> | <domain>
//!     <check_type>: <pass_condition>
//!     <description>
//!     <required|recommended|optional>: <reason>
//!     cwe: <id>, <id>, … | source: <citation>
//! ```
//!
//! The `cwe:` line lists decimal ids (no `CWE-` prefix, no leading zero), each from 1 to
//! [`CWE_ID_MAX`], separated by commas, in any order but each once; they are stored ascending.
//! The citation names the mapping's publisher, the list and where it is published, and its
//! licence (e.g. `source: OWASP Top 10:2021 A01 "List of Mapped CWEs"
//! (owasp.org/Top10/A01_2021-Broken_Access_Control), CC BY-SA 4.0`). Only a control of a
//! finding-based check type may have one (a signal-based control counts no findings). A control
//! without the line is judged on its check type alone; one with it, on the findings whose CWE
//! ids meet its list (see the `scoring` module documentation). Each data file's header comment
//! says where its mappings come from, or why its controls have none.
//!
//! Everything is validated when the catalog is first used (check types, pass conditions against
//! their check type, domains, plans, unique ids, CWE lists); the unit tests force that, so a bad
//! data file fails the build's tests rather than a request.

use std::sync::LazyLock;

use super::check_type::CheckType;
use super::condition::PassCondition;
use super::model::{Control, Domain, Framework, Recommendation, WeaknessMapping, CWE_ID_MAX};
use crate::plans::Plan;

/// The built-in framework keys, in catalog order.
pub const BUILTIN_KEYS: [&str; 6] = ["soc2", "iso27001", "owasp", "pcidss", "hipaa", "nist_csf"];

/// The data files, in the order of [`BUILTIN_KEYS`].
const SOURCES: [(&str, &str); 6] = [
    ("data/soc2.txt", include_str!("data/soc2.txt")),
    ("data/iso27001.txt", include_str!("data/iso27001.txt")),
    ("data/owasp.txt", include_str!("data/owasp.txt")),
    ("data/pcidss.txt", include_str!("data/pcidss.txt")),
    ("data/hipaa.txt", include_str!("data/hipaa.txt")),
    ("data/nist_csf.txt", include_str!("data/nist_csf.txt")),
];

static BUILTIN: LazyLock<Vec<Framework>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .zip(BUILTIN_KEYS)
        .map(|(&(file, text), key)| {
            let framework = parse_framework(text).unwrap_or_else(|e| panic!("{file}:{e}"));
            assert_eq!(framework.key, key, "{file} declares the wrong key");
            framework
        })
        .collect()
});

/// The built-in frameworks: soc2, iso27001, owasp, pcidss, hipaa, nist_csf, in that order.
pub fn builtin() -> &'static [Framework] {
    &BUILTIN
}

/// The built-in framework with this key.
pub fn builtin_framework(key: &str) -> Option<&'static Framework> {
    builtin().iter().find(|f| f.key == key)
}

/// A parse error: the 1-based line and what is wrong there.
type LineError = (usize, String);

fn at<T, E: ToString>(line: usize, result: Result<T, E>) -> Result<T, LineError> {
    result.map_err(|e| (line, e.to_string()))
}

pub(super) fn parse_framework(text: &str) -> Result<Framework, String> {
    parse_lines(text).map_err(|(line, e)| format!("{line}: {e}"))
}

fn parse_lines(text: &str) -> Result<Framework, LineError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let (first, header) = lines.next().ok_or((1, "empty file".to_string()))?;
    let mut framework = at(first, framework_header(header))?;
    let mut block: Vec<(usize, &str)> = Vec::new();
    for (n, line) in lines {
        if !line.starts_with(char::is_whitespace) && !block.is_empty() {
            add_control(&mut framework, &block)?;
            block.clear();
        }
        block.push((n, line));
    }
    if !block.is_empty() {
        add_control(&mut framework, &block)?;
    }
    Ok(framework)
}

fn fields<const N: usize>(line: &str, what: &str) -> Result<[String; N], String> {
    let parts: Vec<String> = line.split(" | ").map(|p| p.trim().to_string()).collect();
    let count = parts.len();
    let parts: [String; N] = parts
        .try_into()
        .map_err(|_| format!("{what} needs {N} fields separated by ' | ', found {count}"))?;
    match parts.iter().position(String::is_empty) {
        Some(i) => Err(format!("{what}: field {} is empty", i + 1)),
        None => Ok(parts),
    }
}

fn framework_header(line: &str) -> Result<Framework, String> {
    let rest = line.strip_prefix("framework ").ok_or(
        "the first line must be 'framework <key> | <name> | <description> | requires_plan: <plan>'",
    )?;
    let [key, name, description, plan] = fields(rest, "framework line")?;
    let plan = plan
        .strip_prefix("requires_plan: ")
        .ok_or("the fourth field must be 'requires_plan: <plan or none>'")?;
    let requires_plan = match plan {
        "none" => None,
        other => Some(other.parse::<Plan>().map_err(|e| e.to_string())?),
    };
    Ok(Framework {
        key,
        name,
        description,
        requires_plan,
        custom: false,
        controls: Vec::new(),
    })
}

/// `<label>: <rest>`, both non-empty.
fn labelled<'a>(line: &'a str, what: &str) -> Result<(&'a str, &'a str), String> {
    match line.split_once(": ") {
        Some((label, rest)) if !label.is_empty() && !rest.trim().is_empty() => {
            Ok((label, rest.trim()))
        }
        _ => Err(format!("expected '{what}'")),
    }
}

fn add_control(framework: &mut Framework, block: &[(usize, &str)]) -> Result<(), LineError> {
    let (head_line, head) = block[0];
    if head.starts_with(char::is_whitespace) {
        return Err((head_line, "indented line outside a control".to_string()));
    }
    let (lines, cwe_line) = match block[1..] {
        [a, b, c] => ([a, b, c], None),
        [a, b, c, d] => ([a, b, c], Some(d)),
        _ => {
            return Err((
                head_line,
                format!(
                    "control '{}' needs three indented lines (check, description, \
                     recommendation) and optionally a fourth (cwe), found {}",
                    head.trim(),
                    block.len() - 1
                ),
            ))
        }
    };
    let [(check_line, check), (description_line, description), (why_line, why)] = lines;
    let [id, name, category, domain] = at(
        head_line,
        fields(head, "control line '<id> | <name> | <category> | <domain>'"),
    )?;
    if framework.control(&id).is_some() {
        return Err((head_line, format!("duplicate control id '{id}'")));
    }
    let domain = at(head_line, domain.parse::<Domain>())?;
    let (check_type, condition) = at(
        check_line,
        labelled(check.trim(), "<check_type>: <pass_condition>"),
    )?;
    let check_type = at(check_line, check_type.parse::<CheckType>())?;
    let pass_condition = at(check_line, PassCondition::parse(check_type, condition))?;
    let description = description.trim();
    if description.contains(" | ") {
        return Err((description_line, "a description has no ' | '".to_string()));
    }
    let (recommendation, reason) = at(
        why_line,
        labelled(why.trim(), "<required|recommended|optional>: <reason>"),
    )?;
    let recommendation = at(why_line, recommendation.parse::<Recommendation>())?;
    let weaknesses = match cwe_line {
        None => None,
        Some((line, _)) if !check_type.is_finding_based() => {
            return Err((
                line,
                format!(
                    "a cwe line needs a finding-based check type; '{check_type}' is judged on \
                     signals, not findings"
                ),
            ));
        }
        Some((line, text)) => Some(at(line, weakness_line(text.trim()))?),
    };
    framework.controls.push(Control {
        id,
        name,
        category,
        description: description.to_string(),
        check_type,
        pass_condition,
        recommendation,
        recommendation_reason: reason.to_string(),
        domain,
        weaknesses,
    });
    Ok(())
}

/// `cwe: <id>, <id>, … | source: <citation>`.
fn weakness_line(line: &str) -> Result<WeaknessMapping, String> {
    const FORM: &str = "expected 'cwe: <id>, <id>, … | source: <citation>'";
    let rest = line.strip_prefix("cwe: ").ok_or(FORM)?;
    let (ids, source) = rest.split_once(" | ").ok_or(FORM)?;
    let source = source
        .strip_prefix("source: ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(FORM)?;
    if source.contains(" | ") {
        return Err("a source has no ' | '".to_string());
    }
    if ids.trim().is_empty() {
        return Err("a cwe line lists at least one CWE id".to_string());
    }
    let mut cwe = Vec::new();
    for token in ids.split(',').map(str::trim) {
        let id = cwe_id(token)?;
        if cwe.contains(&id) {
            return Err(format!("CWE id {id} is listed twice"));
        }
        cwe.push(id);
    }
    WeaknessMapping::new(cwe, source)
}

/// One id of a `cwe:` line: decimal digits, no leading zero, 1..=CWE_ID_MAX.
fn cwe_id(token: &str) -> Result<u32, String> {
    let canonical = !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_digit())
        && !token.starts_with('0')
        && token.len() <= 5;
    match token.parse::<u32>() {
        Ok(id) if canonical && (1..=CWE_ID_MAX).contains(&id) => Ok(id),
        _ => Err(format!(
            "'{token}' is not a CWE id: write a number from 1 to {CWE_ID_MAX}, without \
             'CWE-' or leading zeros"
        )),
    }
}
