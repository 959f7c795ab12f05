//! Every response an HTTP test receives is checked against `openapi.json`: the operation's
//! documented media types for that status, and the body against the documented schema of its
//! media type (JSON Schema 2020-12, `$ref`s into the components; a JSON body is validated as
//! JSON, any other documented media type, such as the Statement of Applicability's `text/csv`,
//! as the text it is). An undocumented status of a documented operation, an undocumented media
//! type, and any answer but the shared 405 to a method the document does not have on a
//! documented path fail the test, so the document cannot drift from the code. Routes the
//! document does not have (unknown paths) are not checked here.

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

/// Whether a media type carries JSON (`application/json`, `application/problem+json`).
pub fn is_json(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// A `Content-Type` without its parameters, lower-cased (`text/csv; charset=utf-8` → `text/csv`).
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The answer to a method a documented path does not have: the shared fallback's 405.
const METHOD_NOT_ALLOWED: &str = "/components/responses/MethodNotAllowed";

/// Panics when the response is not what the document promises: its status, its media type
/// (`content_type`, the `Content-Type` header) and its body.
pub fn check_response(
    method: &str,
    path: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) {
    let Some(template) = template_for(path) else {
        return;
    };
    let response = match document()["paths"][template].get(method.to_ascii_lowercase()) {
        Some(operation) => {
            let responses = &operation["responses"];
            let response = responses
                .get(status.to_string())
                .or_else(|| responses.get(format!("{}XX", status / 100)))
                .or_else(|| responses.get("default"))
                .unwrap_or_else(|| {
                    panic!("{method} {template}: status {status} is not documented")
                });
            resolve(response)
        }
        None if status == 405 => document()
            .pointer(METHOD_NOT_ALLOWED)
            .expect("the shared 405 is documented"),
        None => panic!(
            "{method} {path} ({template}): the document has no {method} on this path, yet it \
             answered {status} (only the shared 405 may)"
        ),
    };
    let operation = format!("{method} {path} ({template}) {status}");
    let content = response.get("content").and_then(Value::as_object);
    let Some(content) = content.filter(|c| !c.is_empty()) else {
        assert!(
            body.is_empty(),
            "{operation}: documents no body, yet answered {} bytes",
            body.len()
        );
        return;
    };
    let documented: Vec<&String> = content.keys().collect();
    let media_type = media_type(content_type.unwrap_or_else(|| {
        panic!("{operation}: no Content-Type; the document has {documented:?}")
    }));
    let entry = content.get(&media_type).unwrap_or_else(|| {
        panic!("{operation}: answered {media_type}, the document has {documented:?}")
    });
    // A file answered as it was given: its bytes are the body, there is no shape to check.
    if entry.pointer("/schema/format").and_then(Value::as_str) == Some("binary") {
        return;
    }
    let instance = if is_json(&media_type) {
        serde_json::from_slice(body).unwrap_or_else(|e| {
            panic!(
                "{operation}: {media_type} that is not JSON ({e}): {}",
                String::from_utf8_lossy(body)
            )
        })
    } else {
        // Documented as text: the body is the string its schema describes.
        Value::String(
            String::from_utf8(body.to_vec())
                .unwrap_or_else(|e| panic!("{operation}: {media_type} that is not UTF-8: {e}")),
        )
    };
    let schema = entry
        .get("schema")
        .unwrap_or_else(|| panic!("{operation}: {media_type} has no schema in the document"));
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": document()["components"],
    });
    let validator = jsonschema::validator_for(&root)
        .unwrap_or_else(|e| panic!("{operation}: unusable schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{operation}: the {media_type} body breaks the documented schema:\n{}\nbody: {instance}",
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

/// Panics when an event's payload (a webhook body) is not what the document's `webhooks` entry
/// for its type describes.
pub fn check_event(payload: &Value) {
    let event_type = payload["type"].as_str().expect("an event has a type");
    let schema = document()["webhooks"][event_type]
        .pointer("/post/requestBody/content/application~1json/schema")
        .unwrap_or_else(|| panic!("the document has no webhook `{event_type}`"));
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [schema],
        "components": document()["components"],
    });
    let validator = jsonschema::validator_for(&root)
        .unwrap_or_else(|e| panic!("{event_type}: unusable schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(payload)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{event_type}: the payload breaks the documented schema:\n{}\npayload: {payload}",
        errors.join("\n")
    );
}
