//! The create-audit body, read as the reference's Zod schema reads it: one problem per field,
//! all of them at once, worded by the Audits family.

use compliance_http::body::{FromBody, Object, Problem, Text};
use compliance_packs::{pack, PolicyType};
use serde_json::json;

const NAME: Text = Text::chars(1, 200);
const MAX_CATEGORIES: usize = 50;

/// `POST /api/audits`.
pub struct CreateAudit {
    pub name: String,
    pub policy_type: PolicyType,
    /// The pack's own category names the request selected (`None`: every category).
    pub categories: Option<Vec<String>>,
}

/// Case and runs of white space do not matter: "access  control" selects "Access Control".
pub fn normalise_category(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl FromBody for CreateAudit {
    fn from_body(body: &mut Object) -> Option<Self> {
        let name = body.required("name", |f| f.text(NAME));
        let policy_type = body.required("policy_type", |f| f.label::<PolicyType>());
        let requested = body.optional("selected_categories", |f| {
            f.array(1, MAX_CATEGORIES, |c| c.string().map(str::to_string))
        });
        // Absent or null: every category. Categories can only be checked against a known pack.
        let categories = match (policy_type, requested?) {
            (Some(t), Some(requested)) => Some(categories_of(body, t, requested)?),
            _ => None,
        };
        Some(CreateAudit {
            name: name?,
            policy_type: policy_type?,
            categories,
        })
    }
}

/// The pack's categories the names select, each once; an unknown name is a problem listing
/// the pack's categories.
fn categories_of(body: &mut Object, t: PolicyType, requested: Vec<String>) -> Option<Vec<String>> {
    let valid = pack(t).categories();
    let mut chosen: Vec<String> = Vec::new();
    let mut complete = true;
    for (i, name) in requested.iter().enumerate() {
        match valid
            .iter()
            .find(|c| normalise_category(c) == normalise_category(name))
        {
            Some(c) if !chosen.contains(c) => chosen.push(c.clone()),
            Some(_) => {}
            None => {
                complete = false;
                let list: Vec<String> = valid.iter().map(|c| format!("'{c}'")).collect();
                let shown: String = name.chars().filter(|c| !c.is_control()).take(100).collect();
                body.fail_below(
                    vec![json!("selected_categories"), json!(i)],
                    Problem::Invalid(format!(
                        "Unknown category '{shown}' for policy_type '{}'. Expected {}",
                        t.as_str(),
                        list.join(" | ")
                    )),
                );
            }
        }
    }
    complete.then_some(chosen)
}
