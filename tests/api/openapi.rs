//! `openapi.json` agrees with the code: every (method, path) of every function's `routes()`
//! table is documented and every documented operation is routed; the document is well formed
//! (OpenAPI 3.1, unique operation ids, declared path parameters, resolvable references, the two
//! security schemes with the unauthenticated exceptions, the common errors on every operation);
//! and one walk over the API reaches every operation, each response checked against the document
//! by the harness (`test_support::contract`, called from `TestApp::send`).

use std::collections::{BTreeMap, BTreeSet};

use compliance_domain::plans::{Plan, Role};
use reqwest::Method;
use serde_json::{json, Value};
use test_support::{contract, hs256_token, spawn_app, Response, TestApp};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Paths anyone may call: no credential.
const UNAUTHENTICATED: [&str; 3] = ["/api/health", "/api/ready", "/api/openapi.json"];

fn document() -> &'static Value {
    contract::document()
}

/// (METHOD, path) of every operation the document has.
fn documented() -> BTreeSet<(String, String)> {
    let paths = document()["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

/// (METHOD, path) of every route the functions serve.
fn routed() -> BTreeSet<(String, String)> {
    [
        admin_api::routes(),
        frameworks_api::routes(),
        custom_frameworks_api::routes(),
        scans_api::routes(),
        scores_api::routes(),
        audits_api::routes(),
    ]
    .iter()
    .flat_map(|routes| {
        routes
            .table()
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect::<Vec<_>>()
    })
    .collect()
}

#[test]
fn every_route_is_documented_and_every_documented_operation_is_routed() {
    let documented = documented();
    let routed = routed();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routed but not in openapi.json: {undocumented:?}\nin openapi.json but not routed: {unrouted:?}"
    );
}

/// Every operation with its (METHOD, path).
fn operations() -> Vec<(String, String, &'static Value)> {
    let mut out = Vec::new();
    for (path, item) in document()["paths"].as_object().unwrap() {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                out.push((m.to_uppercase(), path.clone(), op));
            }
        }
    }
    out
}

fn resolve(value: &'static Value) -> &'static Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => document()
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {r}")),
        None => value,
    }
}

fn collect_refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_document_is_well_formed() {
    let doc = document();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "an OpenAPI 3.1 document"
    );

    // Every reference resolves, inside the document.
    let mut refs = Vec::new();
    collect_refs(doc, &mut refs);
    for r in &refs {
        assert!(r.starts_with("#/"), "external reference {r}");
        assert!(doc.pointer(&r[1..]).is_some(), "dangling reference {r}");
    }

    // Both security schemes, applied globally.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["ApiKeyAuth"]["type"], "apiKey");
    assert_eq!(schemes["ApiKeyAuth"]["in"], "header");
    assert_eq!(schemes["ApiKeyAuth"]["name"], "X-API-Key");
    assert_eq!(schemes["BearerAuth"]["type"], "http");
    assert_eq!(schemes["BearerAuth"]["scheme"], "bearer");
    assert_eq!(schemes["BearerAuth"]["bearerFormat"], "JWT");
    assert_eq!(
        doc["security"],
        json!([{"ApiKeyAuth": []}, {"BearerAuth": []}])
    );

    let mut ids = BTreeMap::new();
    for (method, path, op) in operations() {
        let name = format!("{method} {path}");
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no operationId"));
        if let Some(other) = ids.insert(id.to_string(), name.clone()) {
            panic!("operationId {id} of both {other} and {name}");
        }

        // The path's {parameters} are exactly the operation's path parameters.
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let params: Vec<&Value> = op["parameters"]
            .as_array()
            .map(|ps| ps.iter().map(resolve).collect())
            .unwrap_or_default();
        let declared: BTreeSet<&str> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{name}: path parameters are required");
                p["name"].as_str().unwrap()
            })
            .collect();
        assert_eq!(in_path, declared, "{name}: path parameters");

        let responses = op["responses"].as_object().expect("responses");
        let has = |code: &str| responses.contains_key(code);
        assert!(
            responses.keys().any(|c| c.starts_with('2')),
            "{name}: no success response"
        );
        for (code, response) in responses {
            let response = resolve(response);
            assert!(
                response["description"].is_string(),
                "{name} {code}: no description"
            );
            assert!(
                response["headers"].get("x-request-id").is_some(),
                "{name} {code}: every response carries x-request-id"
            );
        }
        for code in ["404", "405"] {
            assert!(has(code), "{name}: {code} is common to every operation");
        }

        let public = UNAUTHENTICATED.contains(&path.as_str());
        if public {
            assert_eq!(op["security"], json!([]), "{name}: unauthenticated");
        } else {
            assert!(op.get("security").is_none(), "{name}: the global security");
            for code in ["401", "500", "503"] {
                assert!(
                    has(code),
                    "{name}: {code} is common to authenticated operations"
                );
            }
        }
        if op.get("requestBody").is_some() {
            for code in ["413", "415"] {
                assert!(
                    has(code),
                    "{name}: {code} is common to operations with a body"
                );
            }
        }

        // The family's error shape.
        let audits = [
            "/api/audits",
            "/api/alerts/",
            "/api/policies/",
            "/api/policy-packs",
        ]
        .iter()
        .any(|p| path.starts_with(p));
        let shape = if audits { "AuditsError" } else { "Error" };
        for (code, response) in responses {
            if (!code.starts_with('4') && !code.starts_with('5')) || code == "402" {
                continue;
            }
            // Unknown routes and wrong methods come from the shared fallback.
            let expected = if (code == "404" && response.get("$ref").is_some()) || code == "405" {
                "Error"
            } else {
                shape
            };
            let schema = &resolve(response)["content"]["application/json"]["schema"];
            let text = schema.to_string();
            assert!(
                text.contains(&format!("#/components/schemas/{expected}\"")),
                "{name} {code}: expected the {expected} shape, got {text}"
            );
        }
    }
}

/// One walk over the API: every operation, its success and its main errors. Each response is
/// checked against the document by `TestApp::send`; here the status is checked too.
struct Walk<'a> {
    app: &'a TestApp,
    reached: BTreeSet<(String, String)>,
}

impl Walk<'_> {
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        req: reqwest::RequestBuilder,
        expected: u16,
    ) -> Value {
        let resp: Response = self.app.send(req).await;
        assert_eq!(
            resp.status.as_u16(),
            expected,
            "{method} {path}: {}",
            resp.body
        );
        assert!(
            resp.headers.contains_key("x-request-id"),
            "{method} {path}: no x-request-id"
        );
        if resp.status.is_success() {
            let template = contract::template_for(path.split('?').next().unwrap())
                .unwrap_or_else(|| panic!("{path}: not documented"));
            self.reached
                .insert((method.to_string(), template.to_string()));
        }
        resp.body
    }

    async fn call(
        &mut self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let mut req = self.app.request(method.clone(), path);
        if let Some(key) = key {
            req = req.header("X-API-Key", key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.send(method, path, req, expected).await
    }

    async fn bearer(
        &mut self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let mut req = self.app.request(method.clone(), path).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.send(method, path, req, expected).await
    }

    async fn raw(
        &mut self,
        method: Method,
        path: &str,
        key: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        expected: u16,
    ) -> Value {
        let mut req = self
            .app
            .request(method.clone(), path)
            .header("X-API-Key", key)
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(method, path, req, expected).await
    }
}

#[tokio::test]
async fn every_operation_answers_as_documented() {
    let app = spawn_app().await;
    let admin_key = app.admin_key.clone();
    let admin = Some(admin_key.as_str());
    let member_key = app.key_for(&app.org_id, Role::Member).await;
    let member = Some(member_key.as_str());
    let viewer_key = app.key_for(&app.org_id, Role::Viewer).await;
    let viewer = Some(viewer_key.as_str());
    let second_admin_key = app.key_for(&app.org_id, Role::Admin).await;
    let second_admin = Some(second_admin_key.as_str());
    let user = hs256_token(&app.org_id, "member", json!({"sub": "openapi-user"}));
    let mut w = Walk {
        app: &app,
        reached: BTreeSet::new(),
    };
    use Method as M;

    // Health, the document, the fallbacks.
    assert_eq!(
        w.call(M::GET, "/api/health", None, None, 200).await,
        json!({"status": "ok"})
    );
    let served = w.call(M::GET, "/api/openapi.json", None, None, 200).await;
    assert_eq!(&served, document(), "the document as served is the file");
    w.call(M::PATCH, "/api/health", None, None, 405).await;
    let ready = w.call(M::GET, "/api/ready", None, None, 200).await;
    assert_eq!(ready, json!({"status": "ready", "store": "embedded"}));
    w.call(M::GET, "/api/no-such-route", admin, None, 404).await;
    w.call(M::PATCH, "/api/audits", admin, None, 405).await;

    // Webhooks: to a receiver on loopback (the test app allows it), so a ping is delivered and
    // may be redelivered.
    let receiver = crate::webhooks::Receiver::start(0).await;
    let hook = json!({"url": receiver.url, "events": ["scan.ingested"], "description": "CI"});
    let created_hook = w
        .call(M::POST, "/api/webhooks", admin, Some(hook.clone()), 201)
        .await;
    let private = json!({"url": "https://10.0.0.1/", "events": ["scan.ingested"]});
    w.call(M::POST, "/api/webhooks", admin, Some(private), 400)
        .await;
    w.call(M::POST, "/api/webhooks", member, Some(hook), 403)
        .await;
    w.call(M::GET, "/api/webhooks", admin, None, 200).await;
    let hook_path = format!("/api/webhooks/{}", created_hook["id"].as_str().unwrap());
    w.call(M::GET, &hook_path, admin, None, 200).await;
    w.call(
        M::GET,
        "/api/webhooks/wh_00000000000000000000000000",
        admin,
        None,
        404,
    )
    .await;
    let enabled = json!({"enabled": true});
    w.call(M::PATCH, &hook_path, admin, Some(enabled), 200)
        .await;
    w.call(M::PATCH, &hook_path, admin, Some(json!({})), 400)
        .await;
    w.call(M::POST, &format!("{hook_path}/secret"), admin, None, 200)
        .await;
    let ping = w
        .call(M::POST, &format!("{hook_path}/ping"), admin, None, 202)
        .await;
    receiver.wait_for("ping", 1).await;
    let delivery_path = format!("{hook_path}/deliveries/{}", ping["id"].as_str().unwrap());
    let delivered = test_support::eventually(std::time::Duration::from_secs(10), || async {
        let d = app.get(&delivery_path).await.body;
        (d["status"] == "delivered").then_some(())
    })
    .await;
    assert!(delivered.is_some(), "the ping was delivered");
    w.call(
        M::GET,
        &format!("{hook_path}/deliveries?limit=5"),
        admin,
        None,
        200,
    )
    .await;
    w.call(M::GET, &delivery_path, admin, None, 200).await;
    let redeliver = format!("{delivery_path}/redeliver");
    // The receiver holds its answer, so the redelivery is still pending when asked again.
    receiver.pause();
    w.call(M::POST, &redeliver, admin, None, 202).await;
    w.call(M::POST, &redeliver, admin, None, 409).await;
    receiver.resume();
    w.call(M::DELETE, &hook_path, admin, None, 204).await;
    w.call(M::DELETE, &hook_path, admin, None, 404).await;

    // API keys and the audit log.
    let created = w
        .call(
            M::POST,
            "/api/api-keys",
            admin,
            Some(json!({"name": "GitHub Actions", "role": "member"})),
            201,
        )
        .await;
    w.call(
        M::POST,
        "/api/api-keys",
        admin,
        Some(json!({"name": "x", "role": "owner"})),
        403,
    )
    .await;
    w.call(
        M::POST,
        "/api/api-keys",
        admin,
        Some(json!({"name": "x", "role": "boss"})),
        400,
    )
    .await;
    w.call(
        M::POST,
        "/api/api-keys",
        member,
        Some(json!({"name": "x", "role": "viewer"})),
        403,
    )
    .await;
    w.raw(
        M::POST,
        "/api/api-keys",
        &admin_key,
        &[("Content-Type", "text/plain")],
        b"{}".to_vec(),
        415,
    )
    .await;
    let big = format!(r#"{{"name": "{}", "role": "viewer"}}"#, "a".repeat(20_000));
    w.raw(
        M::POST,
        "/api/api-keys",
        &admin_key,
        &[("Content-Type", "application/json")],
        big.into_bytes(),
        413,
    )
    .await;
    w.call(M::GET, "/api/api-keys?limit=2", admin, None, 200)
        .await;
    w.call(M::GET, "/api/api-keys?limit=0", admin, None, 400)
        .await;
    w.call(M::GET, "/api/api-keys", None, None, 401).await;
    w.call(M::GET, "/api/api-keys", Some("csk_unknown"), None, 401)
        .await;
    w.bearer(M::GET, "/api/api-keys", "not.a.jwt", None, 401)
        .await;
    let id = created["id"].as_str().unwrap();
    w.call(M::DELETE, &format!("/api/api-keys/{id}"), admin, None, 200)
        .await;
    w.call(M::DELETE, &format!("/api/api-keys/{id}"), admin, None, 404)
        .await;
    w.call(
        M::GET,
        "/api/audit-logs?action=API_KEY_CREATED&limit=5",
        admin,
        None,
        200,
    )
    .await;
    w.call(M::GET, "/api/audit-logs?from=yesterday", admin, None, 400)
        .await;
    w.call(M::GET, "/api/audit-logs?unknown=1", admin, None, 400)
        .await;
    w.call(M::GET, "/api/audit-logs", viewer, None, 403).await;

    // Frameworks and controls.
    w.call(M::GET, "/api/compliance/frameworks", viewer, None, 200)
        .await;
    let enabled = "/api/compliance/frameworks/enabled";
    w.call(
        M::PUT,
        enabled,
        admin,
        Some(json!({"keys": ["soc2", "owasp", "soc2"]})),
        200,
    )
    .await;
    w.call(M::PUT, enabled, admin, Some(json!({"keys": ["nope"]})), 400)
        .await;
    w.call(M::PUT, enabled, admin, Some(json!({})), 400).await;
    w.call(M::PUT, enabled, viewer, Some(json!({"keys": null})), 403)
        .await;
    let (_, team_key) = app.new_org(Plan::Team).await;
    w.call(
        M::PUT,
        enabled,
        Some(&team_key),
        Some(json!({"keys": ["hipaa"]})),
        402,
    )
    .await;
    let controls = "/api/compliance/frameworks/soc2/controls";
    w.call(M::GET, controls, viewer, None, 200).await;
    w.call(M::GET, &format!("{controls}?repo_id=0"), viewer, None, 400)
        .await;
    w.call(M::GET, &format!("{controls}?repo_id=99"), viewer, None, 404)
        .await;
    w.call(
        M::GET,
        "/api/compliance/frameworks/nope/controls",
        viewer,
        None,
        404,
    )
    .await;
    w.call(
        M::PUT,
        controls,
        admin,
        Some(json!({"disabled": ["CC8.1", "CC2.1"]})),
        200,
    )
    .await;
    w.call(
        M::PUT,
        controls,
        admin,
        Some(json!({"disabled": ["CC99.9"]})),
        400,
    )
    .await;
    w.call(M::PUT, controls, member, Some(json!({"disabled": []})), 403)
        .await;

    // Weakness mappings.
    w.call(M::GET, "/api/compliance/mappings?cwe=79", viewer, None, 200)
        .await;
    w.call(
        M::GET,
        "/api/compliance/mappings?control=owasp:A03:2021",
        viewer,
        None,
        200,
    )
    .await;
    w.call(M::GET, "/api/compliance/mappings", viewer, None, 400)
        .await;
    w.call(
        M::GET,
        "/api/compliance/mappings?control=owasp:A99:2021",
        viewer,
        None,
        404,
    )
    .await;

    // Custom frameworks.
    let custom = "/api/compliance/custom-frameworks";
    let body = json!({"name": "Internal Security Policy", "key": "internal_sec", "controls": [
        {"id": "ISP-1", "name": "No hardcoded secrets", "category": "Credentials",
         "description": "All credentials live in the secret manager.", "check_type": "secrets",
         "pass_condition": "no_critical_secrets"},
        {"id": "ISP-2", "name": "Reviews", "check_type": "pr_reviews", "pass_condition": "min_approvals_2"}]});
    w.call(M::POST, custom, admin, Some(body), 200).await;
    w.call(
        M::POST,
        custom,
        admin,
        Some(json!({"key": "soc2", "name": "", "controls": [{"id": "a", "check_type": "dast"}]})),
        400,
    )
    .await;
    w.call(M::GET, custom, viewer, None, 200).await;
    w.call(
        M::GET,
        "/api/compliance/frameworks/internal_sec/controls",
        viewer,
        None,
        200,
    )
    .await;
    w.call(M::POST, custom, admin, Some(json!({"key": "gone_soon", "name": "Gone", "controls": [{"id": "G-1", "name": "g", "check_type": "scan_recency"}]})), 200)
        .await;
    w.call(M::DELETE, &format!("{custom}/gone_soon"), admin, None, 200)
        .await;
    w.call(M::DELETE, &format!("{custom}/gone_soon"), admin, None, 404)
        .await;

    // Attestations: an admin attests, anyone reads, an admin withdraws.
    let attestation = "/api/compliance/frameworks/internal_sec/controls/ISP-2/attestation";
    let statement = json!({"statement": "Branch protection reviewed.", "owner": "platform@example.com",
        "effective_at": "2026-01-01T00:00:00Z", "review_interval": "annual"});
    w.call(M::PUT, attestation, admin, Some(statement.clone()), 200)
        .await;
    w.call(M::PUT, attestation, member, Some(statement), 403)
        .await;
    w.call(
        M::PUT,
        attestation,
        admin,
        Some(json!({"statement": "x"})),
        400,
    )
    .await;
    w.call(M::GET, attestation, viewer, None, 200).await;
    w.call(
        M::GET,
        "/api/compliance/frameworks/internal_sec/controls/ISP-9/attestation",
        viewer,
        None,
        404,
    )
    .await;
    w.call(
        M::GET,
        "/api/compliance/attestations?state=current",
        viewer,
        None,
        200,
    )
    .await;
    w.call(
        M::GET,
        "/api/compliance/attestations?state=stale",
        viewer,
        None,
        400,
    )
    .await;
    let file = format!("{attestation}/file");
    let attach = |content_type: &'static str| {
        app.request(M::PUT, &format!("{file}?name=review.txt"))
            .header("X-API-Key", &admin_key)
            .header("Content-Type", content_type)
            .body("Reviewed on 2026-01-01.")
    };
    w.send(M::PUT, &file, attach("text/plain"), 200).await;
    w.send(M::PUT, &file, attach("text/html"), 415).await;
    w.call(M::GET, &file, viewer, None, 200).await;
    w.call(M::GET, &format!("{file}?version=1"), viewer, None, 404)
        .await;
    w.call(M::GET, &format!("{file}?version=0"), viewer, None, 400)
        .await;
    w.call(M::DELETE, attestation, admin, None, 200).await;
    w.call(M::DELETE, attestation, admin, None, 404).await;

    // Repositories and scans.
    let repo = w
        .call(M::POST, "/api/repos", member, Some(json!({"name": "checkout-service", "default_branch": "main", "languages": ["Python"]})), 201)
        .await["repo_id"]
        .as_u64()
        .unwrap();
    w.call(
        M::POST,
        "/api/repos",
        admin,
        Some(json!({"name": "Checkout-Service"})),
        409,
    )
    .await;
    let uploads = format!("/api/repos/{repo}/uploads");
    let form = w
        .call(
            M::POST,
            &uploads,
            member,
            Some(json!({"content_type": "application/sarif+json"})),
            201,
        )
        .await;
    w.call(
        M::GET,
        form["status_url"].as_str().unwrap(),
        viewer,
        None,
        200,
    )
    .await;
    let csv_upload = json!({"content_type": "text/csv"});
    w.call(M::POST, &uploads, member, Some(csv_upload), 400)
        .await;
    let json_upload = json!({"content_type": "application/json"});
    w.call(M::POST, &uploads, viewer, Some(json_upload), 403)
        .await;

    // Exceptions: requested by a member, decided by an admin; the org's by an admin, decided by
    // a second one.
    let exceptions = format!("/api/repos/{repo}/exceptions");
    let request = json!({"scope": {"rule_id": "js/sql-injection", "path": "test/**"}, "kind": "false_positive", "justification": "Constants only."});
    let mut requested = Vec::new();
    for _ in 0..3 {
        let created = w
            .call(M::POST, &exceptions, member, Some(request.clone()), 201)
            .await;
        requested.push(created["exception_id"].as_str().unwrap().to_string());
    }
    w.call(M::POST, &exceptions, viewer, Some(request.clone()), 403)
        .await;
    w.call(
        M::POST,
        &exceptions,
        member,
        Some(json!({"kind": "false_positive"})),
        400,
    )
    .await;
    w.call(
        M::GET,
        &format!("{exceptions}?state=requested&limit=2"),
        viewer,
        None,
        200,
    )
    .await;
    let one = format!("{exceptions}/{}", requested[0]);
    w.call(M::GET, &one, viewer, None, 200).await;
    w.call(
        M::POST,
        &format!("{one}/approve"),
        member,
        Some(json!({})),
        403,
    )
    .await;
    w.call(
        M::POST,
        &format!("{one}/approve"),
        admin,
        Some(json!({})),
        200,
    )
    .await;
    w.call(
        M::POST,
        &format!("{one}/approve"),
        admin,
        Some(json!({})),
        409,
    )
    .await;
    let reject = format!("{exceptions}/{}/reject", requested[1]);
    w.call(
        M::POST,
        &reject,
        admin,
        Some(json!({"reason": "Takes input."})),
        200,
    )
    .await;
    w.call(
        M::POST,
        &format!("{exceptions}/{}/revoke", requested[2]),
        admin,
        Some(json!({})),
        200,
    )
    .await;
    w.call(
        M::GET,
        &format!("{exceptions}/00000000-0000-0000-0000-000000000001"),
        viewer,
        None,
        404,
    )
    .await;
    let org_request = json!({"scope": {"cwe": 1333}, "kind": "risk_accepted", "justification": "Build scripts only.", "expires_at": (chrono::Utc::now() + chrono::Duration::days(90)).to_rfc3339()});
    let mut org_requested = Vec::new();
    for _ in 0..3 {
        let created = w
            .call(
                M::POST,
                "/api/compliance/exceptions",
                admin,
                Some(org_request.clone()),
                201,
            )
            .await;
        org_requested.push(created["exception_id"].as_str().unwrap().to_string());
    }
    w.call(
        M::POST,
        "/api/compliance/exceptions",
        member,
        Some(org_request),
        403,
    )
    .await;
    w.call(M::GET, "/api/compliance/exceptions", viewer, None, 200)
        .await;
    let org_one = format!("/api/compliance/exceptions/{}", org_requested[0]);
    w.call(M::GET, &org_one, viewer, None, 200).await;
    w.call(
        M::POST,
        &format!("{org_one}/approve"),
        admin,
        Some(json!({})),
        403,
    )
    .await;
    w.call(
        M::POST,
        &format!("{org_one}/approve"),
        second_admin,
        Some(json!({})),
        200,
    )
    .await;
    let org_reject = format!("/api/compliance/exceptions/{}/reject", org_requested[1]);
    w.call(
        M::POST,
        &org_reject,
        second_admin,
        Some(json!({"reason": "No."})),
        200,
    )
    .await;
    // What suppressions do: read by anyone, set by admins (kept at the default).
    w.call(M::GET, "/api/compliance/settings", viewer, None, 200)
        .await;
    let settings = json!({"suppressions": "require_approval"});
    w.call(
        M::PUT,
        "/api/compliance/settings",
        member,
        Some(settings.clone()),
        403,
    )
    .await;
    w.call(
        M::PUT,
        "/api/compliance/settings",
        admin,
        Some(json!({"suppressions": "ignore"})),
        400,
    )
    .await;
    w.call(
        M::PUT,
        "/api/compliance/settings",
        admin,
        Some(settings),
        200,
    )
    .await;
    let org_revoke = format!("/api/compliance/exceptions/{}/revoke", org_requested[2]);
    w.call(
        M::POST,
        &org_revoke,
        admin,
        Some(json!({"reason": "Fixed."})),
        200,
    )
    .await;
    w.call(
        M::POST,
        "/api/repos",
        admin,
        Some(json!({"name": "bad name!"})),
        400,
    )
    .await;
    w.call(
        M::POST,
        "/api/repos",
        viewer,
        Some(json!({"name": "v"})),
        403,
    )
    .await;
    w.call(M::GET, "/api/repos?limit=1", viewer, None, 200)
        .await;
    w.call(M::GET, &format!("/api/repos/{repo}"), viewer, None, 200)
        .await;
    w.call(M::GET, "/api/repos/0", viewer, None, 404).await;
    // A score before any scan: no evidence anywhere.
    w.call(
        M::GET,
        &format!("/api/compliance/score/{repo}"),
        viewer,
        None,
        200,
    )
    .await;

    let scans = format!("/api/repos/{repo}/scans");
    let native = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/domain/src/ingest/testdata/native_example.json"
    ))
    .unwrap();
    let json_type = [("Content-Type", "application/json")];
    let first = w
        .raw(
            M::POST,
            &scans,
            &member_key,
            &json_type,
            native.clone(),
            201,
        )
        .await;
    let again = w
        .raw(M::POST, &scans, &member_key, &json_type, native, 200)
        .await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["scan_id"], first["scan_id"]);
    let signals = r#"{"quality_gate": "passed", "pull_requests": {"merged": 10, "reviewed": 9, "approvals_median": 1.5}, "files": ["Dockerfile"]}"#;
    for (i, file) in [
        "codeql/codeql-2.20.4_javascript_smithy.sarif",
        "semgrep/semgrep_when_errors_noresults.sarif",
        "gitleaks/gitleaks-8_provenancepass_3results.sarif",
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("openapi-{i}");
        let headers = [
            ("Content-Type", "application/sarif+json"),
            ("Content-Encoding", "gzip"),
            ("Idempotency-Key", key.as_str()),
            ("X-Scan-Signals", signals),
        ];
        w.raw(
            M::POST,
            &scans,
            &admin_key,
            &headers,
            test_support::gzip(&test_support::sarif_sample(file)),
            201,
        )
        .await;
    }
    let sarif = test_support::sarif_sample("gitleaks/gitleaks-8_sarif_simple.sarif");
    w.raw(
        M::POST,
        &scans,
        &admin_key,
        &[("Content-Type", "text/plain")],
        sarif.clone(),
        415,
    )
    .await;
    w.raw(
        M::POST,
        &scans,
        &admin_key,
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "br"),
        ],
        sarif.clone(),
        415,
    )
    .await;
    w.raw(
        M::POST,
        &scans,
        &admin_key,
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "gzip"),
        ],
        sarif.clone(),
        400,
    )
    .await;
    w.raw(
        M::POST,
        &scans,
        &admin_key,
        &[
            ("Content-Type", "application/json"),
            ("Idempotency-Key", "not valid"),
        ],
        sarif.clone(),
        400,
    )
    .await;
    w.raw(
        M::POST,
        &scans,
        &admin_key,
        &[
            ("Content-Type", "application/sarif+json"),
            ("X-Scan-Signals", r#"{"x": 1}"#),
        ],
        sarif.clone(),
        400,
    )
    .await;
    w.raw(
        M::POST,
        &scans,
        &admin_key,
        &json_type,
        br#"{"version": "2.0.0", "runs": []}"#.to_vec(),
        400,
    )
    .await;
    w.raw(
        M::POST,
        &scans,
        &admin_key,
        &json_type,
        br#"{"tool": "t", "started_at": "x", "finished_at": "y", "covered": []}"#.to_vec(),
        400,
    )
    .await;
    w.raw(
        M::POST,
        &scans,
        &admin_key,
        &json_type,
        vec![b' '; compliance_http::upload::MAX_DIRECT_BODY_BYTES + 1],
        413,
    )
    .await;
    w.raw(M::POST, &scans, &viewer_key, &json_type, sarif.clone(), 403)
        .await;
    w.raw(
        M::POST,
        "/api/repos/424242/scans",
        &admin_key,
        &json_type,
        sarif,
        404,
    )
    .await;
    w.call(M::GET, &format!("{scans}?limit=2"), viewer, None, 200)
        .await;
    w.call(M::GET, &format!("{scans}?cursor=bad"), viewer, None, 400)
        .await;
    let scan_id = first["scan_id"].as_str().unwrap();
    w.call(M::GET, &format!("{scans}/{scan_id}"), viewer, None, 200)
        .await;
    w.call(
        M::GET,
        &format!("{scans}/{}", "0".repeat(21)),
        viewer,
        None,
        404,
    )
    .await;

    // Scores and trends.
    let score = format!("/api/compliance/score/{repo}");
    w.call(M::GET, &score, viewer, None, 200).await;
    w.bearer(
        M::GET,
        &format!("{score}?framework=internal_sec"),
        &user,
        None,
        200,
    )
    .await;
    w.call(
        M::GET,
        &format!("{score}?framework=hipaa"),
        viewer,
        None,
        400,
    )
    .await;
    w.call(
        M::GET,
        &format!("{score}?framework=nope"),
        viewer,
        None,
        404,
    )
    .await;
    w.call(M::GET, &format!("{score}?unknown=1"), viewer, None, 400)
        .await;
    w.call(M::GET, "/api/compliance/score/0", viewer, None, 404)
        .await;
    // The evaluation as OSCAL, and a framework's Statement of Applicability.
    let oscal = format!("{score}/oscal");
    w.call(M::GET, &oscal, viewer, None, 200).await;
    w.call(M::GET, &format!("{oscal}?x=1"), viewer, None, 400)
        .await;
    w.call(M::GET, "/api/compliance/score/0/oscal", viewer, None, 404)
        .await;
    let soa = "/api/compliance/frameworks/soc2/soa";
    w.call(M::GET, soa, viewer, None, 200).await;
    w.call(M::GET, &format!("{soa}?x=1"), viewer, None, 400)
        .await;
    w.call(
        M::GET,
        "/api/compliance/frameworks/nope/soa",
        viewer,
        None,
        404,
    )
    .await;
    let trend = format!("/api/compliance/trend/{repo}");
    w.call(M::GET, &trend, viewer, None, 200).await;
    w.call(
        M::GET,
        &format!("{trend}?framework=soc2&days=365"),
        viewer,
        None,
        200,
    )
    .await;
    w.call(M::GET, &format!("{trend}?days=0"), viewer, None, 400)
        .await;
    w.call(
        M::GET,
        &format!("{trend}?framework=hipaa"),
        viewer,
        None,
        400,
    )
    .await;
    w.call(M::GET, "/api/compliance/trend/424242", viewer, None, 404)
        .await;
    // The org-wide summary.
    let summary = w
        .call(M::GET, "/api/compliance/summary?limit=1", viewer, None, 200)
        .await;
    assert_eq!(summary["page_repos"], 1);
    w.call(M::GET, "/api/compliance/summary?limit=0", viewer, None, 400)
        .await;
    w.call(
        M::GET,
        "/api/compliance/summary?cursor=%21",
        viewer,
        None,
        400,
    )
    .await;

    // Audits.
    let audit = w
        .bearer(M::POST, "/api/audits", &user, Some(json!({"name": "Q4 2024 SOC2 Compliance Audit", "policy_type": "soc2", "selected_categories": ["Access Control", "Encryption"]})), 201)
        .await;
    w.call(
        M::POST,
        "/api/audits",
        member,
        Some(json!({"name": "AML", "policy_type": "aml", "selected_categories": null})),
        201,
    )
    .await;
    w.call(
        M::POST,
        "/api/audits",
        member,
        Some(json!({"name": 1, "policy_type": "x", "extra": true})),
        400,
    )
    .await;
    w.call(
        M::POST,
        "/api/audits",
        member,
        Some(json!({"name": "x", "policy_type": "gdpr", "selected_categories": ["Nope"]})),
        400,
    )
    .await;
    w.raw(
        M::POST,
        "/api/audits",
        &member_key,
        &json_type,
        b"{\"name\":".to_vec(),
        400,
    )
    .await;
    w.raw(
        M::POST,
        "/api/audits",
        &member_key,
        &[],
        b"{}".to_vec(),
        415,
    )
    .await;
    let big = format!(
        r#"{{"name": "{}", "policy_type": "soc2"}}"#,
        "a".repeat(20_000)
    );
    w.raw(
        M::POST,
        "/api/audits",
        &member_key,
        &json_type,
        big.into_bytes(),
        413,
    )
    .await;
    w.call(M::POST, "/api/audits", viewer, Some(json!({})), 403)
        .await;
    w.call(M::POST, "/api/audits", None, Some(json!({})), 401)
        .await;
    w.bearer(M::GET, "/api/audits?limit=1", &user, None, 200)
        .await;
    w.call(M::GET, "/api/audits?limit=1000", member, None, 400)
        .await;
    let audit_id = audit["audit_id"].as_str().unwrap();
    let policy_id = audit["policy_id"].as_str().unwrap();
    w.bearer(M::GET, &format!("/api/audits/{audit_id}"), &user, None, 200)
        .await;
    w.call(M::GET, &format!("/api/audits/{audit_id}"), admin, None, 404)
        .await;
    w.call(M::GET, "/api/audits/not-a-uuid", admin, None, 404)
        .await;
    let rules = format!("/api/policies/{policy_id}/rules");
    w.bearer(M::GET, &rules, &user, None, 200).await;
    w.bearer(
        M::GET,
        &format!("{rules}?category=encryption&severity=critical"),
        &user,
        None,
        200,
    )
    .await;
    w.bearer(M::GET, &format!("{rules}?severity=info"), &user, None, 400)
        .await;
    w.call(M::GET, &rules, admin, None, 404).await;
    w.call(M::GET, "/api/policy-packs", viewer, None, 200).await;
    w.call(M::GET, "/api/policy-packs", None, None, 401).await;
    w.call(M::GET, "/api/policy-packs/aml", viewer, None, 200)
        .await;
    w.call(M::GET, "/api/policy-packs/fatca", viewer, None, 404)
        .await;

    // Audit runs, rules tuned, dry runs.
    let aml = w
        .call(
            M::POST,
            "/api/audits",
            member,
            Some(json!({"name": "Q4 AML", "policy_type": "aml"})),
            201,
        )
        .await;
    let (aml_audit, aml_policy) = (
        aml["audit_id"].as_str().unwrap(),
        aml["policy_id"].as_str().unwrap(),
    );
    let runs = format!("/api/audits/{aml_audit}/runs");
    let ndjson = [("Content-Type", "application/x-ndjson")];
    let records = br#"{"id": "t1", "timestamp": "2025-03-03T09:00:00Z", "customer_id": "C1", "direction": "in", "instrument": "cash", "amount_usd": 6000}
{"id": "t2", "timestamp": "2025-03-03T15:00:00Z", "customer_id": "C1", "direction": "in", "instrument": "cash", "amount_usd": 5000}
"#.to_vec();
    let run = w
        .raw(M::POST, &runs, &member_key, &ndjson, records.clone(), 201)
        .await;
    let uploads = format!("/api/audits/{aml_audit}/uploads");
    let form = w
        .call(
            M::POST,
            &uploads,
            member,
            Some(json!({"content_type": "application/x-ndjson", "content_encoding": "gzip"})),
            201,
        )
        .await;
    let pending = w
        .call(
            M::GET,
            form["status_url"].as_str().unwrap(),
            member,
            None,
            200,
        )
        .await;
    assert_eq!(pending["status"], "pending");
    let wrong = json!({"content_type": "application/sarif+json"});
    w.call(M::POST, &uploads, member, Some(wrong), 400).await;
    let ndjson_upload = json!({"content_type": "application/x-ndjson"});
    w.call(M::POST, &uploads, viewer, Some(ndjson_upload), 403)
        .await;
    w.call(
        M::GET,
        &format!("{uploads}/01a24349-8d84-70e9-af98-53c35b8232c9"),
        member,
        None,
        404,
    )
    .await;
    let csv = b"id,timestamp,customer_id,direction,instrument,amount_usd\nt1,2025-03-03T09:00:00Z,C1,in,cash,ten\n".to_vec();
    w.raw(
        M::POST,
        &runs,
        &member_key,
        &[("Content-Type", "text/csv")],
        csv,
        400,
    )
    .await;
    w.raw(
        M::POST,
        &runs,
        &member_key,
        &json_type,
        records.clone(),
        415,
    )
    .await;
    w.raw(
        M::POST,
        &runs,
        &member_key,
        &ndjson,
        vec![b' '; compliance_http::upload::MAX_DIRECT_BODY_BYTES + 1],
        413,
    )
    .await;
    w.raw(M::POST, &runs, &viewer_key, &ndjson, records.clone(), 403)
        .await;
    w.raw(M::POST, &runs, &admin_key, &ndjson, records.clone(), 404)
        .await;
    w.call(M::GET, &format!("{runs}?limit=1"), member, None, 200)
        .await;
    w.call(M::GET, &format!("{runs}?limit=0"), member, None, 400)
        .await;
    w.call(M::GET, &runs, admin, None, 404).await;
    let run_id = run["run_id"].as_str().unwrap();
    w.call(M::GET, &format!("{runs}/{run_id}"), member, None, 200)
        .await;
    w.call(M::GET, &format!("{runs}/not-a-run"), member, None, 404)
        .await;
    w.call(M::GET, &format!("{runs}/{run_id}/oscal"), member, None, 200)
        .await;
    w.call(M::GET, &format!("{runs}/{run_id}/oscal"), admin, None, 404)
        .await;

    // Alerts: the run's finding opened one; worked by the creator, decided by a reviewer.
    let alerts = format!("/api/audits/{aml_audit}/alerts");
    let page = w
        .call(
            M::GET,
            &format!("{alerts}?status=open&limit=10"),
            member,
            None,
            200,
        )
        .await;
    let alert_id = page["alerts"][0]["alert_id"].as_str().unwrap().to_string();
    w.call(
        M::GET,
        &format!("{alerts}?severity=urgent"),
        member,
        None,
        400,
    )
    .await;
    w.call(M::GET, &alerts, admin, None, 404).await;
    let alert = format!("{alerts}/{alert_id}");
    w.call(M::GET, &alert, member, None, 200).await;
    w.call(M::GET, &format!("{alerts}/0000"), member, None, 404)
        .await;
    let step = |path: &str| format!("{alert}/{path}");
    w.call(
        M::POST,
        &step("assignment"),
        member,
        Some(json!({"assignee": "analyst-2"})),
        200,
    )
    .await;
    w.call(
        M::POST,
        &step("comments"),
        member,
        Some(json!({"text": "Deposit slips requested."})),
        200,
    )
    .await;
    w.call(
        M::POST,
        &step("comments"),
        viewer,
        Some(json!({"text": "x"})),
        403,
    )
    .await;
    w.call(
        M::POST,
        &step("transitions"),
        member,
        Some(json!({"to": "closed"})),
        400,
    )
    .await;
    w.call(
        M::POST,
        &step("transitions"),
        member,
        Some(json!({"to": "closed", "outcome": "confirmed_risk", "reason": "CTR missing."})),
        200,
    )
    .await;
    w.call(
        M::POST,
        &step("transitions"),
        member,
        Some(json!({"to": "closed", "outcome": "confirmed_risk", "reason": "again"})),
        409,
    )
    .await;
    w.call(
        M::POST,
        &step("recommendation"),
        member,
        Some(json!({"recommendation": "file_report", "narrative": "11,000 in cash, no CTR."})),
        200,
    )
    .await;
    let filed = json!({"decision": "report_filed", "reference": "BSA-1", "filed_on": "2026-12-01"});
    w.call(M::POST, &step("decision"), member, Some(filed.clone()), 403)
        .await;
    let listed_keys = app.get("/api/api-keys?limit=100").await.body;
    let second_admin_id = listed_keys["api_keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| second_admin_key.starts_with(k["prefix"].as_str().unwrap().trim_end_matches('…')))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reviewers = format!("/api/audits/{aml_audit}/reviewers");
    w.call(
        M::PUT,
        &reviewers,
        member,
        Some(json!({"reviewers": [second_admin_id]})),
        200,
    )
    .await;
    w.call(
        M::PUT,
        &reviewers,
        member,
        Some(json!({"reviewers": ["key_ffffffffffffffff"]})),
        400,
    )
    .await;
    w.call(M::GET, &reviewers, second_admin, None, 200).await;
    w.call(M::POST, &step("decision"), second_admin, Some(filed), 200)
        .await;
    w.call(M::GET, &step("case"), second_admin, None, 200).await;
    w.call(M::GET, "/api/alerts/summary", viewer, None, 200)
        .await;
    let until = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
    let snoozes = format!("/api/audits/{aml_audit}/snoozes");
    w.call(
        M::POST,
        &snoozes,
        member,
        Some(json!({"rule_id": "aml-ctr-001",
        "group_value": "customer_id=C1, direction=in", "until": until, "reason": "Reviewed."})),
        201,
    )
    .await;
    w.call(
        M::POST,
        &snoozes,
        member,
        Some(json!({"rule_id": "no-such-rule",
        "group_value": "x", "until": until, "reason": "r"})),
        400,
    )
    .await;
    let found = format!("{runs}/{run_id}/findings");
    w.call(
        M::GET,
        &format!("{found}?severity=high&limit=10"),
        member,
        None,
        200,
    )
    .await;
    w.call(
        M::GET,
        &format!("{found}?rule_id=soc2-ac-001"),
        member,
        None,
        400,
    )
    .await;
    w.call(
        M::GET,
        &format!("{runs}/00000000-0000-7000-8000-000000000000/findings"),
        member,
        None,
        404,
    )
    .await;
    let tune = format!("/api/policies/{aml_policy}/rules/aml-ctr-001");
    w.call(
        M::PATCH,
        &tune,
        member,
        Some(json!({"threshold": 5000})),
        200,
    )
    .await;
    w.call(
        M::PATCH,
        &tune,
        member,
        Some(json!({"threshold": "high"})),
        400,
    )
    .await;
    w.call(
        M::PATCH,
        &tune,
        viewer,
        Some(json!({"is_active": false})),
        403,
    )
    .await;
    w.call(
        M::PATCH,
        &format!("/api/policies/{aml_policy}/rules/aml-nope-001"),
        member,
        Some(json!({"is_active": false})),
        404,
    )
    .await;
    w.raw(M::PATCH, &tune, &member_key, &[], b"{}".to_vec(), 415)
        .await;
    w.raw(
        M::PATCH,
        &tune,
        &member_key,
        &json_type,
        vec![b' '; 20_000],
        413,
    )
    .await;
    for rule in aml_rules() {
        w.call(
            M::PATCH,
            &format!("/api/policies/{aml_policy}/rules/{rule}"),
            member,
            Some(json!({"is_active": false})),
            200,
        )
        .await;
    }
    w.raw(M::POST, &runs, &member_key, &ndjson, records.clone(), 409)
        .await;
    let evaluate = "/api/policy-packs/aml/evaluate";
    w.raw(
        M::POST,
        &format!("{evaluate}?thresholds=aml-ctr-001:5000"),
        &viewer_key,
        &ndjson,
        records.clone(),
        200,
    )
    .await;
    w.raw(M::POST, evaluate, &viewer_key, &json_type, serde_json::to_vec(&json!({"records": [{"id": "t1", "amount_usd": 1}], "thresholds": {"aml-ctr-001": 5000}})).unwrap(), 200).await;
    w.raw(
        M::POST,
        &format!("{evaluate}?thresholds=aml-rec-002:1"),
        &viewer_key,
        &ndjson,
        records.clone(),
        400,
    )
    .await;
    w.raw(
        M::POST,
        evaluate,
        &viewer_key,
        &[("Content-Type", "text/plain")],
        records.clone(),
        415,
    )
    .await;
    w.raw(
        M::POST,
        evaluate,
        &viewer_key,
        &ndjson,
        vec![b' '; compliance_http::upload::MAX_DIRECT_BODY_BYTES + 1],
        413,
    )
    .await;
    w.raw(
        M::POST,
        "/api/policy-packs/fatca/evaluate",
        &viewer_key,
        &ndjson,
        records,
        404,
    )
    .await;

    let unreached: Vec<_> = documented().difference(&w.reached).cloned().collect();
    assert!(
        unreached.is_empty(),
        "operations this walk did not reach with a success: {unreached:?}"
    );
}

/// Every rule id of the AML pack.
fn aml_rules() -> Vec<String> {
    compliance_packs::pack(compliance_packs::PolicyType::Aml)
        .rules
        .iter()
        .map(|r| r.rule_id.clone())
        .collect()
}

const SOA: &str = "/api/compliance/frameworks/soc2/soa";
const CSV: &[u8] = b"framework_key,control_id\r\nsoc2,CC8.1\r\n";

/// The response check itself: what the document describes passes, the shared 405 included.
#[test]
fn the_contract_check_passes_what_the_document_describes() {
    let check = contract::check_response;
    check("GET", SOA, 200, Some("text/csv; charset=utf-8"), CSV);
    let error = br#"{"detail": "Method not allowed"}"#;
    check(
        "DELETE",
        "/api/health",
        405,
        Some("application/json"),
        error,
    );
}

/// A method the document does not have on a documented path answered with anything but the
/// shared 405: the code serves what the document does not describe.
#[test]
#[should_panic(expected = "the document has no DELETE on this path")]
fn the_contract_check_refuses_an_undocumented_method() {
    let health = br#"{"status": "ok"}"#;
    contract::check_response(
        "DELETE",
        "/api/health",
        200,
        Some("application/json"),
        health,
    );
}

/// A CSV answer is checked against its own documented media type, not skipped.
#[test]
#[should_panic(expected = "answered text/html")]
fn the_contract_check_refuses_an_undocumented_media_type() {
    contract::check_response("GET", SOA, 200, Some("text/html"), CSV);
}

#[test]
#[should_panic(expected = "text/csv that is not UTF-8")]
fn the_contract_check_refuses_a_csv_that_is_not_text() {
    contract::check_response("GET", SOA, 200, Some("text/csv"), &[0xff, 0xfe, b'\n']);
}

/// An error documented only as JSON does not pass as CSV.
#[test]
#[should_panic(expected = "answered text/csv")]
fn the_contract_check_refuses_csv_where_only_json_is_documented() {
    contract::check_response("GET", SOA, 404, Some("text/csv"), CSV);
}
