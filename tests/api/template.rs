//! `template.yaml` agrees with the code: the table is the one `store::table` creates, and every
//! HttpApi route the template declares is served by the local app (the same routers).

use std::collections::BTreeSet;

use compliance_store::table;
use reqwest::{Method, StatusCode};
use serde_yaml::Value;
use test_support::spawn_app;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v:?}"))
}

#[test]
fn table_definition_matches_the_code() {
    let t = template();
    let props = &t["Resources"]["Table"]["Properties"];
    let keys: Vec<(&str, &str)> = props["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| (s(&k["AttributeName"]), s(&k["KeyType"])))
        .collect();
    assert_eq!(
        keys,
        vec![(table::HASH_KEY, "HASH"), (table::RANGE_KEY, "RANGE")]
    );
    let attrs: Vec<(&str, &str)> = props["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| (s(&a["AttributeName"]), s(&a["AttributeType"])))
        .collect();
    assert_eq!(
        attrs,
        vec![(table::HASH_KEY, "S"), (table::RANGE_KEY, "S")],
        "no other indexed attribute, no GSI"
    );
    assert!(props.get("GlobalSecondaryIndexes").is_none());
    assert_eq!(s(&props["BillingMode"]), table::BILLING_MODE);
    assert_eq!(
        s(&props["StreamSpecification"]["StreamViewType"]),
        table::STREAM_VIEW_TYPE
    );
    assert_eq!(
        s(&props["TimeToLiveSpecification"]["AttributeName"]),
        table::TTL_ATTRIBUTE
    );
    assert_eq!(
        props["TimeToLiveSpecification"]["Enabled"],
        Value::Bool(true)
    );
    assert_eq!(
        props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        Value::Bool(table::POINT_IN_TIME_RECOVERY)
    );
}

/// (method, path) of every HttpApi event in the template.
fn template_routes() -> Vec<(String, String)> {
    let t = template();
    let mut routes = Vec::new();
    for (_, resource) in t["Resources"].as_mapping().unwrap() {
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for (_, event) in events {
            if event["Type"].as_str() == Some("HttpApi") {
                let p = &event["Properties"];
                routes.push((s(&p["Method"]).to_uppercase(), s(&p["Path"]).to_string()));
            }
        }
    }
    routes
}

/// (method, path) of the HttpApi events of one function resource.
fn function_routes(logical_id: &str) -> BTreeSet<(String, String)> {
    let t = template();
    let events = t["Resources"][logical_id]["Properties"]["Events"]
        .as_mapping()
        .unwrap_or_else(|| panic!("{logical_id} has no events"));
    events
        .iter()
        .filter(|(_, e)| e["Type"].as_str() == Some("HttpApi"))
        .map(|(_, e)| {
            let p = &e["Properties"];
            (s(&p["Method"]).to_uppercase(), s(&p["Path"]).to_string())
        })
        .collect()
}

#[test]
fn every_router_path_has_its_http_api_route_and_no_more() {
    let functions = [
        ("AdminApiFunction", admin_api::routes()),
        ("FrameworksApiFunction", frameworks_api::routes()),
        (
            "CustomFrameworksApiFunction",
            custom_frameworks_api::routes(),
        ),
        ("ScansApiFunction", scans_api::routes()),
        ("ScoresApiFunction", scores_api::routes()),
        ("AuditsApiFunction", audits_api::routes()),
    ];
    let mut all = BTreeSet::new();
    for (logical_id, routes) in functions {
        let served: BTreeSet<(String, String)> = routes
            .table()
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(served, function_routes(logical_id), "{logical_id}");
        all.extend(served);
    }
    // The dashboard's page and assets, outside /api.
    let dashboard: BTreeSet<(String, String)> = compliance_dashboard::ROUTES
        .iter()
        .map(|p| ("GET".to_string(), p.to_string()))
        .collect();
    assert_eq!(dashboard, function_routes("DashboardFunction"));
    all.extend(dashboard);
    let declared: BTreeSet<(String, String)> = template_routes().into_iter().collect();
    assert_eq!(
        all, declared,
        "every HttpApi route belongs to one of these functions"
    );
}

#[tokio::test]
async fn every_template_route_is_served() {
    let app = spawn_app().await;
    let routes = template_routes();
    assert!(!routes.is_empty());
    for (method, path) in routes {
        if !path.starts_with("/api/") {
            continue; // the dashboard's files: below
        }
        let concrete = path.replace(['{', '}'], "");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let resp = app.call(method.clone(), &concrete, None, None).await;
        let fallback = resp.status == StatusCode::NOT_FOUND && resp.body["detail"] == "Not found";
        assert!(
            !fallback,
            "{method} {path} is in the template but no router serves it"
        );
        assert_ne!(
            resp.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
    }
}

/// The dashboard's routes, served by the local app (the same router the function runs) with the
/// Content-Security-Policy, beside the API (an unknown /api path is still the API's JSON 404).
#[tokio::test]
async fn the_dashboard_routes_are_served_beside_the_api() {
    let app = spawn_app().await;
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/assets/js/app.js", "text/javascript; charset=utf-8"),
        (
            "/assets/vendor/uplot/uPlot.esm.js",
            "text/javascript; charset=utf-8",
        ),
    ] {
        let resp = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()["content-type"], content_type, "{path}");
        assert_eq!(
            resp.headers()["content-security-policy"],
            compliance_dashboard::CONTENT_SECURITY_POLICY
        );
    }
    let missing = app.get("/api/no-such-route").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["detail"], "Not found");
}
