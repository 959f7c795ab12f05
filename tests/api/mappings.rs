//! CWE-level mapping through HTTP: `GET /api/compliance/mappings` (a weakness → every control of
//! every framework it maps to, with the source; a control → its weaknesses and the controls that
//! share one), custom controls that list CWE ids, and the controls listing showing mappings.

use compliance_domain::plans::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use test_support::{spawn_app, TestApp};

const MAPPINGS: &str = "/api/compliance/mappings";

fn controls(answer: &Value) -> Vec<String> {
    answer["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}:{}",
                m["framework_key"].as_str().unwrap(),
                m["control_id"].as_str().unwrap()
            )
        })
        .collect()
}

async fn mappings(app: &TestApp, query: &str) -> Value {
    let resp = app.get(&format!("{MAPPINGS}?{query}")).await;
    assert_eq!(resp.status, StatusCode::OK, "{query}: {:?}", resp.body);
    resp.body
}

#[tokio::test]
async fn a_weakness_maps_to_the_controls_that_cover_it() {
    let app = spawn_app().await;
    // OWASP's own lists: SSRF is A10, cross-site scripting A03, path traversal A01.
    let ssrf = mappings(&app, "cwe=918").await;
    assert_eq!(ssrf["cwe"], json!([918]));
    assert!(
        controls(&ssrf).contains(&"owasp:A10:2021".to_string()),
        "{ssrf}"
    );
    assert!(
        !controls(&ssrf).contains(&"owasp:A03:2021".to_string()),
        "{ssrf}"
    );
    let a10 = ssrf["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["control_id"] == "A10:2021")
        .unwrap();
    assert!(a10["source"].as_str().unwrap().contains("OWASP"), "{a10}");
    assert_eq!(mappings(&app, "cwe=CWE-79").await["cwe"], json!([79]));
    assert!(controls(&mappings(&app, "cwe=79").await).contains(&"owasp:A03:2021".to_string()));
    assert!(controls(&mappings(&app, "cwe=22").await).contains(&"owasp:A01:2021".to_string()));
    // A weakness no control lists maps to nothing.
    assert_eq!(mappings(&app, "cwe=99999").await["mappings"], json!([]));

    // A control: its weaknesses, and the other controls that share one.
    let a03 = mappings(&app, "control=owasp:A03:2021").await;
    assert!(a03["cwe"].as_array().unwrap().contains(&json!(79)));
    assert_eq!(a03["control"]["control_id"], "A03:2021");
    assert!(
        !controls(&a03).contains(&"owasp:A03:2021".to_string()),
        "not itself"
    );
    // A control judged by its check type alone has no weaknesses.
    let cc = mappings(&app, "control=soc2:CC6.1").await;
    assert_eq!(
        (cc["cwe"].clone(), cc["control"].clone()),
        (json!([]), Value::Null)
    );

    // The controls listing shows the mapping.
    let listing = app
        .get("/api/compliance/frameworks/owasp/controls")
        .await
        .body;
    let a01 = listing["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "A01:2021")
        .unwrap()
        .clone();
    assert!(a01["weaknesses"]["cwe"]
        .as_array()
        .unwrap()
        .contains(&json!(22)));
}

#[tokio::test]
async fn custom_controls_list_their_weaknesses() {
    let app = spawn_app().await;
    let body = json!({"key": "appsec", "name": "AppSec policy", "controls": [
        {"id": "XSS-1", "name": "No XSS", "check_type": "sast_security", "cwe": [79, 80, 79]},
        {"id": "SEC-1", "name": "No secrets", "check_type": "secrets"}]});
    let saved = app.post("/api/compliance/custom-frameworks", body).await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
    let listed = app.get("/api/compliance/custom-frameworks").await.body;
    let controls_of = &listed["frameworks"][0]["controls"];
    assert_eq!(controls_of[0]["cwe"], json!([79, 80]), "sorted, once each");
    assert!(controls_of[1].get("cwe").is_none());
    let xss = mappings(&app, "cwe=79").await;
    let custom = xss["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["framework_key"] == "appsec")
        .unwrap_or_else(|| panic!("{xss}"))
        .clone();
    assert_eq!(
        (
            custom["custom"].clone(),
            custom["source"].clone(),
            custom["cwe"].clone()
        ),
        (json!(true), json!("custom"), json!([79]))
    );
    // Another org sees only its own frameworks.
    let (_, other) = app
        .new_org(compliance_domain::plans::Plan::Enterprise)
        .await;
    let theirs = app
        .call(
            reqwest::Method::GET,
            &format!("{MAPPINGS}?cwe=79"),
            Some(&other),
            None,
        )
        .await;
    assert!(theirs.body["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["framework_key"] != "appsec"));
    // Bad ids are 400s that say where.
    for (cwe, message) in [
        (json!([0]), "must be an integer from 1 to 99999"),
        (json!(["CWE-79"]), "integer"),
        (json!([]), "at least 1"),
    ] {
        let body = json!({"key": "bad", "name": "Bad", "controls": [
            {"id": "B-1", "name": "b", "check_type": "sast_security", "cwe": cwe}]});
        let resp = app.post("/api/compliance/custom-frameworks", body).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{:?}", resp.body);
        assert!(
            resp.body["detail"]
                .as_str()
                .unwrap()
                .contains("controls.0.cwe")
                || resp.body["errors"][0]["path"].to_string().contains("cwe"),
            "{:?}",
            resp.body
        );
        assert!(
            resp.body["detail"].as_str().unwrap().contains(message),
            "{message}: {:?}",
            resp.body
        );
    }
}

#[tokio::test]
async fn mapping_queries_are_checked() {
    let app = spawn_app().await;
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    let ok = app
        .call(
            reqwest::Method::GET,
            &format!("{MAPPINGS}?cwe=79"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    for (query, status) in [
        ("", StatusCode::BAD_REQUEST),
        ("cwe=79&control=owasp:A03:2021", StatusCode::BAD_REQUEST),
        ("cwe=0", StatusCode::BAD_REQUEST),
        ("cwe=abc", StatusCode::BAD_REQUEST),
        ("cwe=100000", StatusCode::BAD_REQUEST),
        ("control=owasp", StatusCode::BAD_REQUEST),
        ("control=nope:A01:2021", StatusCode::NOT_FOUND),
        ("control=owasp:A99:2021", StatusCode::NOT_FOUND),
        ("unknown=1", StatusCode::BAD_REQUEST),
    ] {
        let resp = app.get(&format!("{MAPPINGS}?{query}")).await;
        assert_eq!(resp.status, status, "{query}: {:?}", resp.body);
    }
    let anonymous = app
        .call(
            reqwest::Method::GET,
            &format!("{MAPPINGS}?cwe=79"),
            None,
            None,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
