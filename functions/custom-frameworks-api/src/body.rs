//! The custom framework body, read as a whole: every problem is reported with its location
//! (`controls[2].check_type`), not just the first one.

use std::collections::HashMap;

use compliance_domain::catalog::{CheckType, PassCondition, BUILTIN_KEYS};
use compliance_domain::ids::FrameworkKey;
use compliance_http::body::{FromBody, Object, Problem, Text};
use compliance_services::custom_frameworks::CustomControl;

pub const MAX_CONTROLS: usize = 200;
const NAME: Text = Text::chars(1, 100).with_newlines();
const DESCRIPTION: Text = Text::chars(0, 1000).with_newlines();
const CONTROL_NAME: Text = Text::chars(1, 200).with_newlines();
const CATEGORY: Text = Text::chars(0, 100).with_newlines();
const CONTROL_ID: Text = Text::chars(1, 40);
const DEFAULT_CATEGORY: &str = "General";
/// CWE ids one control may list; ids are MITRE's, from 1.
pub const MAX_CWE_PER_CONTROL: usize = 100;
const MAX_CWE_ID: i64 = 99_999;

/// `POST /api/compliance/custom-frameworks`.
pub struct FrameworkBody {
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

impl FromBody for FrameworkBody {
    fn from_body(body: &mut Object) -> Option<Self> {
        let key = body.required("key", |f| {
            let Some(k) = f.value().as_str() else {
                return f.string().and(None);
            };
            if BUILTIN_KEYS.contains(&k) {
                return f.invalid(format!("'{k}' is a built-in framework key"));
            }
            match FrameworkKey::parse(k) {
                Ok(key) => Some(key),
                Err(_) => f.invalid(
                    "must be 2 to 40 characters: lowercase letters, digits and _, starting with a letter",
                ),
            }
        });
        let name = body.required("name", |f| f.text(NAME));
        let description = body.optional("description", |f| f.text(DESCRIPTION));
        // Control ids are unique ignoring case: the first index of each.
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut index = 0;
        let controls = body.required("controls", |f| {
            f.array(1, MAX_CONTROLS, |c| {
                let i = index;
                index += 1;
                c.object(|o| control(o, i, &mut seen))
            })
        });
        Some(FrameworkBody {
            key: key?,
            name: name?,
            description: description?.unwrap_or_default(),
            controls: controls?,
        })
    }
}

fn control(o: &mut Object, i: usize, seen: &mut HashMap<String, usize>) -> Option<CustomControl> {
    let id = o.required("id", |f| match f.value().as_str().map(str::trim) {
        Some(id) if (1..=40).contains(&id.chars().count()) && !valid_control_id(id) => {
            f.invalid("may contain letters, digits and . _ : ( ) - / only")
        }
        _ => f.text(CONTROL_ID),
    });
    let id = match id {
        Some(id) => match seen.insert(id.to_ascii_lowercase(), i) {
            Some(first) => {
                o.fail_at(
                    "id",
                    Problem::Invalid(format!(
                        "duplicate control id '{id}' (also controls[{first}])"
                    )),
                );
                None
            }
            None => Some(id),
        },
        None => None,
    };
    let name = o.required("name", |f| f.text(CONTROL_NAME));
    let category = o.optional("category", |f| f.text(CATEGORY));
    let description = o.optional("description", |f| f.text(DESCRIPTION));
    let check_type = o.required("check_type", |f| f.parsed(|s| s.parse::<CheckType>()));
    let condition = o.optional("pass_condition", |f| match check_type {
        Some(ct) => f.parsed(|s| PassCondition::parse(ct, s)),
        // Without a valid check type, a condition cannot be checked (that problem is reported).
        None => f.string().map(|_| PassCondition::NoFindings),
    });
    let cwe = o.optional("cwe", |f| {
        f.array(1, MAX_CWE_PER_CONTROL, |id| id.integer(1, MAX_CWE_ID))
    });
    let check_type = check_type?;
    let condition = condition?.unwrap_or_else(|| PassCondition::default_for(check_type));
    let mut cwe: Vec<u32> = cwe?
        .unwrap_or_default()
        .into_iter()
        .map(|id| id as u32)
        .collect();
    cwe.sort_unstable();
    cwe.dedup();
    Some(CustomControl {
        id: id?,
        name: name?,
        category: category?
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| DEFAULT_CATEGORY.to_string()),
        description: description?.unwrap_or_default(),
        check_type,
        pass_condition: condition.as_string(),
        cwe,
    })
}
