//! Problems of a request, located and kept in words neutral to the API family; each family
//! words them its own way (the Compliance API in serde's style, the Audits API in Zod's).

use compliance_domain::labels::UnknownLabel;
use serde::Serialize;
use serde_json::{json, Value};

/// What is wrong with one value.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// A required field is absent (or `null`).
    Missing,
    /// The value has another JSON type than the one expected.
    WrongType {
        expected: &'static str,
        found: &'static str,
    },
    /// A field the object does not have.
    UnknownField { allowed: Vec<&'static str> },
    /// A text shorter than `min` characters (after trimming).
    TooShort { min: usize },
    /// A text longer than `max` characters (after trimming).
    TooLong { max: usize },
    /// An array with fewer than `min` items.
    TooFew { min: usize },
    /// An array with more than `max` items.
    TooMany { max: usize },
    /// A text with control characters where none may be.
    ControlCharacters,
    /// Not one of a closed set of values.
    NotOneOf {
        received: String,
        expected: &'static [&'static str],
    },
    /// Anything else, in words that hold for every family.
    Invalid(String),
}

impl Problem {
    pub(crate) fn from_label(e: UnknownLabel) -> Self {
        Problem::NotOneOf {
            received: e.received,
            expected: e.expected,
        }
    }
}

/// The JSON type of a value, as messages name it.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `a string`, `an object`, `an array`.
fn with_article(kind: &str) -> String {
    match kind.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

/// One problem of a request, located: `path` names the field (`["controls", 2, "check_type"]`).
/// The problem is worded when the error is rendered, in the words of the API family.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub path: Vec<Value>,
    pub problem: Problem,
}

/// A problem as a family's error body lists it.
#[derive(Serialize)]
pub(crate) struct Worded<'a> {
    path: &'a [Value],
    pub(crate) message: String,
}

impl FieldError {
    pub fn problem(path: Vec<Value>, problem: Problem) -> Self {
        FieldError { path, problem }
    }

    /// A problem whose words hold for every family.
    pub fn new(path: Vec<Value>, message: impl Into<String>) -> Self {
        FieldError::problem(path, Problem::Invalid(message.into()))
    }

    pub fn at(field: &str, message: impl Into<String>) -> Self {
        FieldError::new(vec![json!(field)], message)
    }

    /// The field's own name (the path's last name), for messages that name it.
    fn name(&self) -> &str {
        self.path
            .iter()
            .rev()
            .find_map(Value::as_str)
            .unwrap_or("body")
    }

    /// In the Compliance API's words (serde's, as its typed bodies always answered).
    pub(crate) fn compliance_words(&self) -> String {
        let quoted = |names: &[&str]| {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &self.problem {
            Problem::Missing => format!("missing field `{}`", self.name()),
            Problem::WrongType { expected, found } => {
                format!("invalid type: {found}, expected {}", with_article(expected))
            }
            Problem::UnknownField { allowed } => format!(
                "unknown field `{}`, expected one of {}",
                self.name(),
                quoted(allowed)
            ),
            Problem::TooShort { min: 1 } => "must not be empty".to_string(),
            Problem::TooShort { min } => format!("at least {min} characters"),
            Problem::TooLong { max } => format!("at most {max} characters"),
            Problem::TooFew { min } => format!("at least {min} items"),
            Problem::TooMany { max } => format!("at most {max} items"),
            Problem::ControlCharacters => "must not contain control characters".to_string(),
            Problem::NotOneOf { received, expected } => format!(
                "unknown variant `{received}`, expected one of {}",
                quoted(expected)
            ),
            Problem::Invalid(message) => message.clone(),
        }
    }

    /// In the Audits API's words (the reference's Zod schema).
    pub(crate) fn audits_words(&self) -> String {
        match &self.problem {
            Problem::Missing => "Required".to_string(),
            Problem::WrongType { expected, found } => {
                format!("Expected {expected}, received {found}")
            }
            Problem::UnknownField { .. } => format!("Unrecognized key: '{}'", self.name()),
            Problem::TooShort { min } => format!("String must contain at least {min} character(s)"),
            Problem::TooLong { max } => format!("String must contain at most {max} character(s)"),
            Problem::TooFew { min } => format!("Array must contain at least {min} element(s)"),
            Problem::TooMany { max } => format!("Array must contain at most {max} element(s)"),
            Problem::ControlCharacters => "String must not contain control characters".to_string(),
            Problem::NotOneOf { expected, .. } => {
                format!(
                    "Invalid enum value. Expected {}",
                    compliance_domain::labels::quoted(expected)
                )
            }
            Problem::Invalid(message) => message.clone(),
        }
    }

    pub(crate) fn worded(&self, words: fn(&FieldError) -> String) -> Worded<'_> {
        Worded {
            path: &self.path,
            message: words(self),
        }
    }

    /// `controls[2].check_type` for humans.
    pub fn location(&self) -> String {
        let mut out = String::new();
        for part in &self.path {
            match part {
                Value::Number(n) => out.push_str(&format!("[{n}]")),
                Value::String(s) if out.is_empty() => out.push_str(s),
                Value::String(s) => out.push_str(&format!(".{s}")),
                other => out.push_str(&format!(".{other}")),
            }
        }
        out
    }
}
