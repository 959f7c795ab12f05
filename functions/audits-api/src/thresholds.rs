//! A rule's threshold as a caller may set it (tuning an audit's rule, or backtesting a pack):
//! only on a rule that has one, a positive finite number, and the rule still consistent.

use compliance_packs::Rule;

/// The largest threshold accepted: beyond any amount, count or duration a rule compares.
pub const MAX_THRESHOLD: f64 = 1e15;

/// `rule` with `value` as its threshold, or why not.
pub fn with_threshold(rule: &Rule, value: f64) -> Result<Rule, String> {
    if rule.threshold.is_none() {
        return Err(format!(
            "Rule {} has no threshold to set (its conditions use none)",
            rule.rule_id
        ));
    }
    if !(value.is_finite() && value > 0.0 && value <= MAX_THRESHOLD) {
        return Err(format!(
            "Must be a number greater than 0 and at most {MAX_THRESHOLD:e}"
        ));
    }
    let changed = Rule {
        threshold: Some(value),
        ..rule.clone()
    };
    changed.validate()?;
    Ok(changed)
}
