//! The create-audit body, checked the way the reference's Zod schema reports problems: one
//! `{"path": [...], "message": ...}` per problem, all of them at once.

use compliance_http::FieldError;
use serde_json::{json, Value};

use compliance_packs::{pack, PolicyType};

const MAX_NAME: usize = 200;
const MAX_CATEGORIES: usize = 50;

pub struct CreateAudit {
    pub name: String,
    pub policy_type: PolicyType,
    /// The pack's own category names the request selected (`None`: every category).
    pub categories: Option<Vec<String>>,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn expected(path: Vec<Value>, what: &str, got: &Value) -> FieldError {
    FieldError::new(
        path,
        format!("Expected {what}, received {}", type_name(got)),
    )
}

/// Case and runs of white space do not matter: "access  control" selects "Access Control".
pub fn normalise_category(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

pub fn enum_message() -> String {
    let names: Vec<String> = PolicyType::ALL
        .iter()
        .map(|t| format!("'{}'", t.as_str()))
        .collect();
    format!("Invalid enum value. Expected {}", names.join(" | "))
}

pub fn validate(body: &Value) -> Result<CreateAudit, Vec<FieldError>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![expected(vec![], "object", body)]);
    };
    let mut errors = Vec::new();
    for key in obj.keys() {
        if !["name", "policy_type", "selected_categories"].contains(&key.as_str()) {
            errors.push(FieldError::new(
                vec![json!(key)],
                format!("Unrecognized key: '{key}'"),
            ));
        }
    }
    let name = match obj.get("name") {
        None => {
            errors.push(FieldError::at("name", "Required"));
            None
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            errors.push(FieldError::at(
                "name",
                "String must contain at least 1 character(s)",
            ));
            None
        }
        Some(Value::String(s)) if s.chars().count() > MAX_NAME => {
            errors.push(FieldError::at(
                "name",
                format!("String must contain at most {MAX_NAME} character(s)"),
            ));
            None
        }
        Some(Value::String(s)) if s.chars().any(char::is_control) => {
            errors.push(FieldError::at(
                "name",
                "String must not contain control characters",
            ));
            None
        }
        Some(Value::String(s)) => Some(s.trim().to_string()),
        Some(other) => {
            errors.push(expected(vec![json!("name")], "string", other));
            None
        }
    };
    let policy_type = match obj.get("policy_type") {
        None => {
            errors.push(FieldError::at("policy_type", "Required"));
            None
        }
        Some(Value::String(s)) => match s.parse::<PolicyType>() {
            Ok(t) => Some(t),
            Err(_) => {
                errors.push(FieldError::at("policy_type", enum_message()));
                None
            }
        },
        Some(other) => {
            errors.push(expected(
                vec![json!("policy_type")],
                "'aml' | 'gdpr' | 'soc2'",
                other,
            ));
            None
        }
    };
    let requested: Option<Vec<(usize, String)>> = match obj.get("selected_categories") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) if items.len() > MAX_CATEGORIES => {
            errors.push(FieldError::at(
                "selected_categories",
                format!("Array must contain at most {MAX_CATEGORIES} element(s)"),
            ));
            None
        }
        Some(Value::Array(items)) => {
            let mut names = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => names.push((i, s.clone())),
                    other => errors.push(expected(
                        vec![json!("selected_categories"), json!(i)],
                        "string",
                        other,
                    )),
                }
            }
            Some(names)
        }
        Some(other) => {
            errors.push(expected(vec![json!("selected_categories")], "array", other));
            None
        }
    };
    // Categories can only be checked against a known pack.
    let categories = match (policy_type, requested) {
        (Some(t), Some(requested)) => {
            let valid = pack(t).categories();
            let mut chosen: Vec<String> = Vec::new();
            for (i, name) in requested {
                match valid
                    .iter()
                    .find(|c| normalise_category(c) == normalise_category(&name))
                {
                    Some(c) if !chosen.contains(c) => chosen.push(c.clone()),
                    Some(_) => {}
                    None => {
                        let list: Vec<String> = valid.iter().map(|c| format!("'{c}'")).collect();
                        let shown: String =
                            name.chars().filter(|c| !c.is_control()).take(100).collect();
                        errors.push(FieldError::new(
                            vec![json!("selected_categories"), json!(i)],
                            format!(
                                "Unknown category '{shown}' for policy_type '{}'. Expected {}",
                                t.as_str(),
                                list.join(" | ")
                            ),
                        ));
                    }
                }
            }
            Some(chosen)
        }
        _ => None,
    };
    match (name, policy_type, errors.is_empty()) {
        (Some(name), Some(policy_type), true) => Ok(CreateAudit {
            name,
            policy_type,
            categories,
        }),
        _ => Err(errors),
    }
}
