//! Every response an HTTP test receives is checked against `openapi.json`: the operation's
//! documented schema for that status (JSON Schema 2020-12, `$ref`s into the components). An
//! undocumented status of a documented operation fails the test, so the document cannot drift
//! from the code. Routes the document does not have (unknown paths) are not checked here.

use std::sync::LazyLock;

use serde_json::{json, Value};

static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("openapi.json")).expect("valid JSON")
});

pub fn document() -> &'static Value {
    &DOCUMENT
}

/// The documented path template a concrete path matches (`/api/repos/7` → `/api/repos/{repo_id}`).
pub fn template_for(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    document()["paths"]
        .as_object()?
        .keys()
        .find_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            let matches = parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(t, s)| {
                    (t.starts_with('{') && t.ends_with('}') && !s.is_empty()) || t == s
                });
            matches.then_some(template.as_str())
        })
}

/// Panics when `body` is not what the document promises for this response.
pub fn check_response(method: &str, path: &str, status: u16, body: &Value) {
    let Some(template) = template_for(path) else {
        return;
    };
    let Some(operation) = document()["paths"][template].get(method.to_ascii_lowercase()) else {
        return;
    };
    let responses = &operation["responses"];
    let response = responses
        .get(status.to_string())
        .or_else(|| responses.get(format!("{}XX", status / 100)))
        .or_else(|| responses.get("default"))
        .unwrap_or_else(|| panic!("{method} {template}: status {status} is not documented"));
    let response = resolve(response);
    let Some(schema) = response
        .get("content")
        .and_then(|c| c.get("application/json"))
        .and_then(|c| c.get("schema"))
    else {
        return;
    };
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": document()["components"],
    });
    let validator = jsonschema::validator_for(&root)
        .unwrap_or_else(|e| panic!("{method} {template} {status}: unusable schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} ({template}) {status}: the body breaks the documented schema:\n{}\nbody: {body}",
        errors.join("\n")
    );
}

/// A `$ref` to `#/components/responses/...` resolved.
fn resolve(response: &'static Value) -> &'static Value {
    match response.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.trim_start_matches('#');
            document()
                .pointer(pointer)
                .unwrap_or_else(|| panic!("dangling $ref {r}"))
        }
        None => response,
    }
}
