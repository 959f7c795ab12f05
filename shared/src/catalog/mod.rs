//! The compliance catalog: check types and severities (here), built-in frameworks and their
//! controls, pass conditions.

mod check_type;

pub use check_type::{CheckType, Severity};
