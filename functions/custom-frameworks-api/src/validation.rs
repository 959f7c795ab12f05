//! The custom framework body, validated field by field: every problem is reported with its
//! location (`controls[2].check_type`), not just the first one.

use std::collections::HashMap;

use compliance_domain::catalog::{CheckType, PassCondition, BUILTIN_KEYS};
use compliance_domain::ids::FrameworkKey;
use compliance_http::FieldError;
use compliance_services::custom_frameworks::CustomControl;
use serde_json::{json, Map, Value};

pub const MAX_CONTROLS: usize = 200;
const MAX_NAME: usize = 100;
const MAX_CONTROL_NAME: usize = 200;
const MAX_CATEGORY: usize = 100;
const MAX_DESCRIPTION: usize = 1000;
const DEFAULT_CATEGORY: &str = "General";

/// A parsed, valid body.
pub struct Input {
    pub key: FrameworkKey,
    pub name: String,
    pub description: String,
    pub controls: Vec<CustomControl>,
}

/// Control ids such as `ISP-1`, `A.8.24`, `164.312(a)(1)`, `A01:2021`.
fn valid_control_id(id: &str) -> bool {
    let b = id.as_bytes();
    (1..=40).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"._:()-/".contains(c))
}

struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn fail(&mut self, path: &[Value], message: impl Into<String>) {
        self.errors.push(FieldError::new(path.to_vec(), message));
    }

    fn unknown_fields(&mut self, obj: &Map<String, Value>, allowed: &[&str], at: &[Value]) {
        for field in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
            let mut path = at.to_vec();
            path.push(json!(field));
            self.fail(
                &path,
                format!("unknown field (allowed: {})", allowed.join(", ")),
            );
        }
    }

    /// A string field of bounded length without control characters; `None` when absent.
    fn text(
        &mut self,
        obj: &Map<String, Value>,
        field: &str,
        at: &[Value],
        required: bool,
        max: usize,
    ) -> Option<String> {
        let mut path = at.to_vec();
        path.push(json!(field));
        match obj.get(field) {
            None | Some(Value::Null) if required => {
                self.fail(&path, "field required");
                None
            }
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let s = s.trim();
                if required && s.is_empty() {
                    self.fail(&path, "must not be empty");
                } else if s.chars().count() > max {
                    self.fail(&path, format!("at most {max} characters"));
                } else if s.chars().any(|c| c.is_control() && c != '\n') {
                    self.fail(&path, "must not contain control characters");
                } else {
                    return Some(s.to_string());
                }
                None
            }
            Some(_) => {
                self.fail(&path, "must be a string");
                None
            }
        }
    }
}

pub fn validate(body: &Value) -> Result<Input, Vec<FieldError>> {
    let mut c = Checker { errors: vec![] };
    let Some(obj) = body.as_object() else {
        return Err(vec![FieldError::new(vec![], "body must be a JSON object")]);
    };
    c.unknown_fields(obj, &["name", "key", "description", "controls"], &[]);
    let name = c.text(obj, "name", &[], true, MAX_NAME);
    let description = c.text(obj, "description", &[], false, MAX_DESCRIPTION);
    let key = match obj.get("key") {
        Some(Value::String(k)) if BUILTIN_KEYS.contains(&k.as_str()) => {
            c.fail(
                &[json!("key")],
                format!("'{k}' is a built-in framework key"),
            );
            None
        }
        Some(Value::String(k)) if FrameworkKey::parse(k).is_ok() => FrameworkKey::parse(k).ok(),
        Some(Value::String(_)) => {
            c.fail(
                &[json!("key")],
                "must be 2 to 40 characters: lowercase letters, digits and _, starting with a letter",
            );
            None
        }
        None | Some(Value::Null) => {
            c.fail(&[json!("key")], "field required");
            None
        }
        Some(_) => {
            c.fail(&[json!("key")], "must be a string");
            None
        }
    };
    let controls = match obj.get("controls") {
        Some(Value::Array(items)) if items.is_empty() => {
            c.fail(&[json!("controls")], "at least one control is required");
            vec![]
        }
        Some(Value::Array(items)) if items.len() > MAX_CONTROLS => {
            c.fail(
                &[json!("controls")],
                format!("at most {MAX_CONTROLS} controls"),
            );
            vec![]
        }
        Some(Value::Array(items)) => controls(&mut c, items),
        None | Some(Value::Null) => {
            c.fail(&[json!("controls")], "field required");
            vec![]
        }
        Some(_) => {
            c.fail(&[json!("controls")], "must be an array");
            vec![]
        }
    };
    match (key, name, c.errors.is_empty()) {
        (Some(key), Some(name), true) => Ok(Input {
            key,
            name,
            description: description.unwrap_or_default(),
            controls,
        }),
        _ => Err(c.errors),
    }
}

fn controls(c: &mut Checker, items: &[Value]) -> Vec<CustomControl> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = [json!("controls"), json!(i)];
        let Some(obj) = item.as_object() else {
            c.fail(&at, "must be an object");
            continue;
        };
        c.unknown_fields(
            obj,
            &[
                "id",
                "name",
                "category",
                "description",
                "check_type",
                "pass_condition",
            ],
            &at,
        );
        let id_path = [json!("controls"), json!(i), json!("id")];
        let id = match c.text(obj, "id", &at, true, 40) {
            Some(id) if !valid_control_id(&id) => {
                c.fail(
                    &id_path,
                    "may contain letters, digits and . _ : ( ) - / only",
                );
                None
            }
            Some(id) => match seen.insert(id.to_ascii_lowercase(), i) {
                Some(first) => {
                    c.fail(
                        &id_path,
                        format!("duplicate control id '{id}' (also controls[{first}])"),
                    );
                    None
                }
                None => Some(id),
            },
            None => None,
        };
        let name = c.text(obj, "name", &at, true, MAX_CONTROL_NAME);
        let category = c.text(obj, "category", &at, false, MAX_CATEGORY);
        let description = c.text(obj, "description", &at, false, MAX_DESCRIPTION);
        let ct_path = [json!("controls"), json!(i), json!("check_type")];
        let check_type = match obj.get("check_type") {
            Some(Value::String(s)) => match s.parse::<CheckType>() {
                Ok(ct) => Some(ct),
                Err(e) => {
                    c.fail(&ct_path, e.to_string());
                    None
                }
            },
            None | Some(Value::Null) => {
                c.fail(
                    &ct_path,
                    format!("field required (one of: {})", CheckType::valid_list()),
                );
                None
            }
            Some(_) => {
                c.fail(&ct_path, "must be a string");
                None
            }
        };
        let pc_path = [json!("controls"), json!(i), json!("pass_condition")];
        let condition = match (check_type, obj.get("pass_condition")) {
            (Some(ct), None | Some(Value::Null)) => Some(PassCondition::default_for(ct)),
            (Some(ct), Some(Value::String(s))) => match PassCondition::parse(ct, s) {
                Ok(pc) => Some(pc),
                Err(e) => {
                    c.fail(&pc_path, e);
                    None
                }
            },
            (_, Some(v)) if !v.is_string() && !v.is_null() => {
                c.fail(&pc_path, "must be a string");
                None
            }
            _ => None,
        };
        if let (Some(id), Some(name), Some(check_type), Some(condition)) =
            (id, name, check_type, condition)
        {
            out.push(CustomControl {
                id,
                name,
                category: category.unwrap_or_else(|| DEFAULT_CATEGORY.to_string()),
                description: description.unwrap_or_default(),
                check_type,
                pass_condition: condition.as_string(),
            });
        }
    }
    out
}
