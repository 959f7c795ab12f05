//! The prebuilt policy packs (`aml`, `gdpr`, `soc2`) that `POST /api/audits` loads rules from.
//!
//! Each pack is a JSON file in `data/`, compiled into the binary with `include_str!`, parsed once
//! on first use and validated: every rule's `conditions` must parse into the typed [`Condition`]
//! form, its `time_window` into a [`TimeWindow`], and the rule must be consistent with its
//! [`RuleType`] (see [`Rule::validate`]). Bad data panics with the file and the rule id; the unit
//! tests load every pack, so a bad data file fails the tests rather than a request.
//!
//! The rule model, the condition grammar, the operators, the time-window syntax and the rule
//! types are documented in `FORMAT.md` beside this file.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use compliance_domain::labels;
use serde::Serialize;

mod condition;
pub mod engine;
mod lists;
mod rule;
#[cfg(any(test, feature = "synthetic"))]
pub mod synth;
mod window;

#[cfg(test)]
mod tests;

pub use condition::{AggFn, Condition, Op, Operand};
pub use lists::{named_list, NamedList, NAMED_LISTS};
pub use rule::{serialize_threshold, Rule, RuleSeverity, RuleType};
pub use window::{TimeWindow, WindowUnit};

labels! {
    /// Which prebuilt pack: the request's `policy_type`.
    pub enum PolicyType as "policy_type" {
        Aml => "aml",
        Gdpr => "gdpr",
        Soc2 => "soc2",
    }
}

impl PolicyType {
    /// The human name: "Anti-Money Laundering", "General Data Protection Regulation", "SOC 2".
    pub fn display_name(self) -> &'static str {
        match self {
            PolicyType::Aml => "Anti-Money Laundering",
            PolicyType::Gdpr => "General Data Protection Regulation",
            PolicyType::Soc2 => "SOC 2",
        }
    }

    /// This type's pack.
    pub fn pack(self) -> &'static Pack {
        pack(self)
    }

    /// The record fields the pack's rules read, with their types (see `engine::Schema`).
    pub fn schema(self) -> &'static engine::Schema {
        let index = PolicyType::ALL.iter().position(|p| *p == self);
        &SCHEMAS[index.expect("every policy type is in PolicyType::ALL")]
    }
}

static SCHEMAS: LazyLock<Vec<engine::Schema>> = LazyLock::new(|| {
    packs()
        .iter()
        .map(|p| {
            engine::Schema::for_rules(&p.rules)
                .unwrap_or_else(|e| panic!("packs/data/{}.json: {e}", p.policy_type))
        })
        .collect()
});

/// A prebuilt policy pack: metadata and its rules, in file order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pack {
    pub policy_type: PolicyType,
    pub name: String,
    pub description: String,
    pub version: String,
    pub rules: Vec<Rule>,
}

impl Pack {
    /// The distinct categories of the rules, in order of first appearance.
    pub fn categories(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.rules
            .iter()
            .filter(|r| seen.insert(r.category.as_str()))
            .map(|r| r.category.clone())
            .collect()
    }

    /// The rule with this id.
    pub fn rule(&self, rule_id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.rule_id == rule_id)
    }

    /// The rules whose category is one of `categories` (exact, case-sensitive match), in pack
    /// order. An empty `categories` selects nothing; callers that treat "no filter" as "all"
    /// should use `rules` directly.
    pub fn rules_in<S: AsRef<str>>(&self, categories: &[S]) -> Vec<&Rule> {
        self.rules
            .iter()
            .filter(|r| categories.iter().any(|c| c.as_ref() == r.category))
            .collect()
    }
}

/// The data files, one per [`PolicyType`], in the order of [`PolicyType::ALL`].
const SOURCES: [(&str, &str); 3] = [
    ("packs/data/aml.json", include_str!("data/aml.json")),
    ("packs/data/gdpr.json", include_str!("data/gdpr.json")),
    ("packs/data/soc2.json", include_str!("data/soc2.json")),
];

static PACKS: LazyLock<Vec<Pack>> = LazyLock::new(|| load_all(&PolicyType::ALL, &SOURCES));

/// The pack of this type.
pub fn pack(t: PolicyType) -> &'static Pack {
    let packs = packs();
    let index = PolicyType::ALL.iter().position(|p| *p == t);
    &packs[index.expect("every policy type is in PolicyType::ALL")]
}

/// Every pack, in the order of [`PolicyType::ALL`]: aml, gdpr, soc2.
pub fn packs() -> &'static [Pack] {
    &PACKS
}

/// Loads `sources[i]` as the pack of `types[i]`, panicking with the file name (and the rule id,
/// where one is to blame) on bad data. Rule ids must be unique across all the packs.
fn load_all(types: &[PolicyType], sources: &[(&str, &str)]) -> Vec<Pack> {
    let mut owners: HashMap<String, &str> = HashMap::new();
    types
        .iter()
        .zip(sources)
        .map(|(&t, &(file, text))| {
            let pack = load_pack(t, text).unwrap_or_else(|e| panic!("{file}: {e}"));
            for rule in &pack.rules {
                if let Some(other) = owners.insert(rule.rule_id.clone(), file) {
                    panic!("{file}: rule {}: id already used in {other}", rule.rule_id);
                }
            }
            pack
        })
        .collect()
}

/// A pack file as written: the rules stay raw JSON until each is parsed, so that an error can
/// name the rule it is in.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    policy_type: PolicyType,
    name: String,
    description: String,
    version: String,
    rules: Vec<serde_json::Value>,
}

/// Parses and validates one pack file's text as the pack of type `expected`.
fn load_pack(expected: PolicyType, text: &str) -> Result<Pack, String> {
    let file: PackFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if file.policy_type != expected {
        return Err(format!(
            "policy_type: '{}' in the file of pack '{expected}'",
            file.policy_type
        ));
    }
    for (what, text) in [
        ("name", &file.name),
        ("description", &file.description),
        ("version", &file.version),
    ] {
        if text.trim().is_empty() {
            return Err(format!("{what}: must not be empty"));
        }
    }
    let mut abbrevs = CategoryAbbrevs::default();
    let mut rules: Vec<Rule> = Vec::with_capacity(file.rules.len());
    for (i, raw) in file.rules.into_iter().enumerate() {
        let label = raw
            .get("rule_id")
            .and_then(serde_json::Value::as_str)
            .map_or_else(|| format!("rules[{i}]"), |id| format!("rule {id}"));
        let rule: Rule = serde_json::from_value(raw).map_err(|e| format!("{label}: {e}"))?;
        rule.validate().map_err(|e| format!("{label}: {e}"))?;
        check_id_in_pack(&rule, expected, &mut abbrevs).map_err(|e| format!("{label}: {e}"))?;
        if rules.iter().any(|r| r.rule_id == rule.rule_id) {
            return Err(format!("{label}: rule_id: used twice in this pack"));
        }
        rules.push(rule);
    }
    Ok(Pack {
        policy_type: file.policy_type,
        name: file.name,
        description: file.description,
        version: file.version,
        rules,
    })
}

/// The one-to-one pairing of categories and rule-id abbreviations seen so far in a pack.
#[derive(Default)]
struct CategoryAbbrevs {
    by_category: HashMap<String, String>,
    by_abbrev: HashMap<String, String>,
}

/// The id is `<pack>-<abbrev>-<nnn>` with this pack's key, and every category has its own abbrev.
fn check_id_in_pack(rule: &Rule, t: PolicyType, seen: &mut CategoryAbbrevs) -> Result<(), String> {
    let (prefix, abbrev, _) = rule::split_rule_id(&rule.rule_id)?;
    if prefix != t.as_str() {
        return Err(format!(
            "rule_id: must start with '{t}-' in the {t} pack, found '{prefix}-'"
        ));
    }
    let category = rule.category.as_str();
    if let Some(known) = pair(&mut seen.by_category, category, abbrev) {
        return Err(format!(
            "rule_id: category '{category}' uses the abbreviation '{known}', not '{abbrev}'"
        ));
    }
    if let Some(known) = pair(&mut seen.by_abbrev, abbrev, category) {
        return Err(format!(
            "rule_id: the abbreviation '{abbrev}' belongs to category '{known}'"
        ));
    }
    Ok(())
}

/// Pairs `key` with `value` unless it is already paired with something else, which it returns.
fn pair<'m>(pairs: &'m mut HashMap<String, String>, key: &str, value: &str) -> Option<&'m str> {
    let known = pairs
        .entry(key.to_string())
        .or_insert_with(|| value.to_string());
    (known != value).then_some(known.as_str())
}
