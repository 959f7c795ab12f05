//! A rule of a pack: the reference's twelve fields, typed, and the checks that keep a rule's
//! numbers, window and type consistent with what its condition executes.

use compliance_domain::labels;
use serde::{Deserialize, Serialize, Serializer};

use super::condition::{Condition, Operand};
use super::window::TimeWindow;

labels! {
    /// How a rule is evaluated (FORMAT.md, "Rule types").
    pub enum RuleType as "rule type" {
        /// A condition on one record's attributes; no threshold window.
        Boolean => "boolean",
        /// An aggregate over the time window compared with the rule's `threshold`.
        Threshold => "threshold",
        /// A behaviour over the time window: a combination of aggregates and record conditions
        /// (structuring, in-and-out movement, dormant reactivation…).
        Pattern => "pattern",
        /// Something must happen within `time_window` of an event (a `within` condition).
        Deadline => "deadline",
    }
}

labels! {
    /// How serious a finding against the rule is; ordered `Low < Medium < High < Critical`.
    pub enum RuleSeverity as "rule severity" {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
}

/// One compliance rule, as the reference's `Rule` object. Every field is always present:
/// `threshold` and `time_window` are `null` when they do not apply (a stable shape for typed
/// clients).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub rule_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub rule_type: RuleType,
    pub description: String,
    #[serde(default, serialize_with = "serialize_threshold")]
    pub threshold: Option<f64>,
    #[serde(default)]
    pub time_window: Option<TimeWindow>,
    pub severity: RuleSeverity,
    pub conditions: Condition,
    pub policy_excerpt: String,
    pub policy_section: String,
    pub category: String,
    pub historical_context: String,
}

/// Whole thresholds are written as integers (`10000`, not `10000.0`).
pub fn serialize_threshold<S: Serializer>(
    threshold: &Option<f64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match threshold {
        Some(t) if t.fract() == 0.0 && t.abs() < 9.0e15 => s.serialize_i64(*t as i64),
        Some(t) => s.serialize_f64(*t),
        None => s.serialize_none(),
    }
}

/// Splits `<pack>-<abbrev>-<nnn>` (`soc2-ac-001`): a pack key, 2 to 6 lower-case letters, three
/// digits.
pub(super) fn split_rule_id(id: &str) -> Result<(&str, &str, u16), String> {
    let malformed =
        || format!("rule_id: '{id}' is not <pack>-<category abbrev>-<nnn>, e.g. soc2-ac-001");
    let mut parts = id.split('-');
    let (Some(pack), Some(abbrev), Some(number), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let letters = |s: &str, range: std::ops::RangeInclusive<usize>| {
        range.contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    if !letters(pack, 2..=8)
        || !letters(abbrev, 2..=6)
        || !abbrev.chars().all(|c| c.is_ascii_lowercase())
        || number.len() != 3
        || !number.chars().all(|c| c.is_ascii_digit())
    {
        return Err(malformed());
    }
    let number: u16 = number.parse().map_err(|_| malformed())?;
    Ok((pack, abbrev, number))
}

impl Rule {
    /// Checks the rule on its own: the id's shape, no empty text, a finite threshold, and
    /// consistency between the type, the threshold, the window and the condition:
    /// - `threshold` is set exactly when some operand is `{"ref": "threshold"}`;
    /// - `time_window` is set exactly when the condition has an aggregate or a `within`;
    /// - `boolean`: neither aggregates nor `within` (one record);
    /// - `threshold`: a threshold, and an aggregate compared with it;
    /// - `pattern`: a window (an aggregate or a `within`);
    /// - `deadline`: a `within`.
    pub fn validate(&self) -> Result<(), String> {
        split_rule_id(&self.rule_id)?;
        for (what, text) in [
            ("name", &self.name),
            ("description", &self.description),
            ("policy_excerpt", &self.policy_excerpt),
            ("policy_section", &self.policy_section),
            ("category", &self.category),
            ("historical_context", &self.historical_context),
        ] {
            if text.trim().is_empty() {
                return Err(format!("{what}: must not be empty"));
            }
        }
        if self.threshold.is_some_and(|t| !t.is_finite()) {
            return Err("threshold: must be a finite number".into());
        }
        let c = &self.conditions;
        match (self.threshold.is_some(), c.uses_threshold()) {
            (true, false) => {
                return Err(
                    "threshold: set, but no condition refers to it with {\"ref\": \"threshold\"}"
                        .into(),
                )
            }
            (false, true) => {
                return Err("conditions: refer to the threshold, but the rule has none".into())
            }
            _ => {}
        }
        match (self.time_window.is_some(), c.uses_window()) {
            (true, false) => {
                return Err(
                    "time_window: set, but no aggregate or 'within' condition uses it".into(),
                )
            }
            (false, true) => {
                return Err("time_window: required by the aggregate or 'within' conditions".into())
            }
            _ => {}
        }
        let has_within = c.any_node(|n| matches!(n, Condition::Within { .. }));
        let compares_aggregate_with_threshold = c.any_node(|n| {
            matches!(
                n,
                Condition::Aggregate {
                    value: Operand::Threshold { .. },
                    ..
                }
            )
        });
        let problem = match self.rule_type {
            RuleType::Boolean if c.uses_window() => {
                "a boolean rule looks at one record: no aggregate or 'within' conditions"
            }
            RuleType::Threshold if !compares_aggregate_with_threshold => {
                "a threshold rule compares an aggregate with {\"ref\": \"threshold\"}"
            }
            RuleType::Pattern if !c.uses_window() => {
                "a pattern rule spans a time window: it needs an aggregate or a 'within' condition"
            }
            RuleType::Deadline if !has_within => "a deadline rule needs a 'within' condition",
            _ => return Ok(()),
        };
        Err(format!("type: {problem}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(
        rule_type: &str,
        threshold: Option<f64>,
        window: Option<&str>,
        conditions: serde_json::Value,
    ) -> Rule {
        let mut v = json!({
            "rule_id": "aml-tm-001", "name": "n", "type": rule_type, "description": "d",
            "severity": "high", "conditions": conditions, "policy_excerpt": "e",
            "policy_section": "FATF R.20", "category": "Transaction Monitoring",
            "historical_context": "h"
        });
        if let Some(t) = threshold {
            v["threshold"] = json!(t);
        }
        if let Some(w) = window {
            v["time_window"] = json!(w);
        }
        serde_json::from_value(v).unwrap()
    }

    fn count_over_threshold() -> serde_json::Value {
        json!({"aggregate": "count", "group_by": ["customer_id"], "op": "lte", "value": {"ref": "threshold"}})
    }

    #[test]
    fn consistent_rules_pass() {
        rule("threshold", Some(20.0), Some("24h"), count_over_threshold())
            .validate()
            .unwrap();
        rule(
            "boolean",
            None,
            None,
            json!({"field": "a", "op": "eq", "value": true}),
        )
        .validate()
        .unwrap();
        rule(
            "deadline",
            None,
            Some("72h"),
            json!({"within": {"from": "a", "to": "b"}}),
        )
        .validate()
        .unwrap();
        rule("pattern", Some(5.0), Some("7d"), count_over_threshold())
            .validate()
            .unwrap();
    }

    #[test]
    fn inconsistent_rules_are_named() {
        let cases = [
            (rule("threshold", None, Some("24h"), count_over_threshold()), "conditions: refer to the threshold, but the rule has none"),
            (rule("threshold", Some(5.0), None, count_over_threshold()), "time_window: required by the aggregate or 'within' conditions"),
            (
                rule("threshold", Some(5.0), Some("24h"), json!({"all": [{"aggregate": "count", "op": "gt", "value": 1}, {"field": "a", "op": "gt", "value": {"ref": "threshold"}}]})),
                "type: a threshold rule compares an aggregate with {\"ref\": \"threshold\"}",
            ),
            (rule("boolean", Some(5.0), None, json!({"field": "a", "op": "eq", "value": true})), "threshold: set, but no condition refers to it with {\"ref\": \"threshold\"}"),
            (rule("boolean", None, Some("1 month"), json!({"field": "a", "op": "eq", "value": true})), "time_window: set, but no aggregate or 'within' condition uses it"),
            (rule("boolean", None, Some("72h"), json!({"within": {"from": "a"}})), "type: a boolean rule looks at one record: no aggregate or 'within' conditions"),
            (rule("pattern", None, None, json!({"field": "a", "op": "eq", "value": true})), "type: a pattern rule spans a time window: it needs an aggregate or a 'within' condition"),
            (rule("deadline", Some(3.0), Some("7d"), count_over_threshold()), "type: a deadline rule needs a 'within' condition"),
        ];
        for (r, message) in cases {
            assert_eq!(
                r.validate().unwrap_err(),
                message,
                "{}",
                r.conditions.to_json()
            );
        }
        let mut r = rule(
            "boolean",
            None,
            None,
            json!({"field": "a", "op": "eq", "value": true}),
        );
        r.policy_section = " ".into();
        assert_eq!(
            r.validate().unwrap_err(),
            "policy_section: must not be empty"
        );
        r.policy_section = "CC6.1".into();
        r.threshold = Some(f64::NAN);
        assert_eq!(
            r.validate().unwrap_err(),
            "threshold: must be a finite number"
        );
    }

    #[test]
    fn rule_ids_have_three_parts() {
        assert_eq!(split_rule_id("soc2-ac-001"), Ok(("soc2", "ac", 1)));
        assert_eq!(split_rule_id("aml-struct-012"), Ok(("aml", "struct", 12)));
        for bad in [
            "soc2-ac-1",
            "soc2-ac-0001",
            "soc2-AC-001",
            "soc2-a-001",
            "soc2-ac-001-x",
            "soc2_ac_001",
            "soc2-a1-001",
        ] {
            assert!(split_rule_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_has_the_reference_fields_in_order() {
        let r = rule(
            "threshold",
            Some(10000.0),
            Some("1 business day"),
            count_over_threshold(),
        );
        let text = serde_json::to_string(&r).unwrap();
        assert!(text.starts_with(r#"{"rule_id":"aml-tm-001","name":"n","type":"threshold","description":"d","threshold":10000,"time_window":"1 business day","severity":"high","conditions":{"#));
        assert!(text.ends_with(r#","policy_excerpt":"e","policy_section":"FATF R.20","category":"Transaction Monitoring","historical_context":"h"}"#));
        assert_eq!(serde_json::from_str::<Rule>(&text).unwrap(), r);
        let boolean = rule(
            "boolean",
            None,
            None,
            json!({"field": "a", "op": "eq", "value": true}),
        );
        let v = serde_json::to_value(&boolean).unwrap();
        assert!(v["threshold"].is_null() && v["time_window"].is_null());
        let fractional = Rule {
            threshold: Some(43.2),
            ..r
        };
        assert_eq!(
            serde_json::to_value(&fractional).unwrap()["threshold"],
            json!(43.2)
        );
    }

    #[test]
    fn unknown_fields_and_keywords_are_rejected() {
        let mut v = serde_json::to_value(rule(
            "boolean",
            None,
            None,
            json!({"field": "a", "op": "eq", "value": true}),
        ))
        .unwrap();
        v["severity"] = json!("severe");
        let err = serde_json::from_value::<Rule>(v.clone())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "unknown variant `severe`, expected one of `low`, `medium`, `high`, `critical`"
            ),
            "{err}"
        );
        v["severity"] = json!("low");
        v["owner"] = json!("x");
        assert!(serde_json::from_value::<Rule>(v)
            .unwrap_err()
            .to_string()
            .starts_with("unknown field `owner`"));
    }
}
