//! The compliance catalog: check types and severities, pass conditions, and the built-in
//! frameworks with their controls (compiled in from `data/`, parsed once).

mod builtin;
mod check_type;
mod condition;
mod model;

pub use builtin::{builtin, builtin_framework, BUILTIN_KEYS};
pub use check_type::{CheckType, Severity};
pub use condition::{
    patterns_for, vocabulary, ConditionForm, FindingNoun, PassCondition, MAX_APPROVALS,
    MAX_FINDINGS_LIMIT, MAX_SCAN_AGE_DAYS, STANDARD_PARTIAL_MAX,
};
pub use model::{
    controls_for_cwe, Control, Domain, Framework, Recommendation, WeaknessMapping, CWE_ID_MAX,
};

#[cfg(test)]
mod tests;
