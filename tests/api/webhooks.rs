//! Webhooks and events from the outside: a receiver on loopback gets `score.changed` with the
//! scores `GET /api/compliance/score` answered before and after a scan, each delivery verified
//! by Python's `standardwebhooks` as a customer's receiver would; failures are retried with the
//! same `webhook-id` and then stop; URLs that point inside the network are refused at creation
//! and at delivery; a stream record read twice makes one delivery per webhook (both stores);
//! reminders fire once, and not after their subject changed; admins only, each org its own.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event as StreamEvent;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use chrono::Utc;
use compliance_domain::ids::{OrgId, WebhookId};
use compliance_domain::plans::{Plan, Role};
use compliance_domain::time::{Clock, SystemClock};
use compliance_events::{Event, EventType};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{
    eventually, spawn_app, spawn_app_on, spawn_app_strict, test_deliverer, Backend, TestApp,
};

/// One request a receiver got.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    headers: HashMap<String, String>,
    body: String,
}

impl Received {
    fn id(&self) -> &str {
        &self.headers["webhook-id"]
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A receiver on loopback: answers 500 to its first `failures` requests, then 200; while
/// paused, it takes requests in and holds their answers.
#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) url: String,
    got: Arc<Mutex<Vec<Received>>>,
    paused: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Receiver {
    pub(crate) async fn start(failures: usize) -> Receiver {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answered = Arc::new(AtomicUsize::new(0));
        let paused = Arc::new(tokio::sync::watch::Sender::new(false));
        let seen = got.clone();
        let holding = paused.clone();
        let handler = move |headers: HeaderMap, body: String| {
            let (seen, answered, mut held) = (seen.clone(), answered.clone(), holding.subscribe());
            async move {
                let headers = headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
                    .collect();
                seen.lock().unwrap().push(Received { headers, body });
                let _ = held.wait_for(|paused| !paused).await;
                if answered.fetch_add(1, Ordering::SeqCst) < failures {
                    AxumStatus::INTERNAL_SERVER_ERROR
                } else {
                    AxumStatus::OK
                }
            }
        };
        let router = axum::Router::new().route("/hook", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver {
            url: format!("http://{addr}/hook"),
            got,
            paused,
        }
    }

    /// Holds the answers to the requests it takes in from now on, until [`Receiver::resume`].
    pub(crate) fn pause(&self) {
        self.paused.send_replace(true);
    }

    pub(crate) fn resume(&self) {
        self.paused.send_replace(false);
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// The requests of one event type, once at least `n` came (within 20 s).
    pub(crate) async fn wait_for(&self, event_type: &str, n: usize) -> Vec<Received> {
        let found = eventually(Duration::from_secs(20), || async {
            let of_type: Vec<Received> = self
                .received()
                .into_iter()
                .filter(|r| r.json()["type"] == event_type)
                .collect();
            (of_type.len() >= n).then_some(of_type)
        })
        .await;
        for r in self.received() {
            test_support::contract::check_event(&r.json());
        }
        found.unwrap_or_else(|| {
            panic!(
                "{n} {event_type} expected; got {:?}",
                self.received()
                    .iter()
                    .map(|r| r.json()["type"].clone())
                    .collect::<Vec<_>>()
            )
        })
    }
}

async fn create_webhook(app: &TestApp, url: &str, events: Value) -> (String, String) {
    let resp = app
        .post("/api/webhooks", json!({"url": url, "events": events}))
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let secret = resp.body["secret"].as_str().unwrap().to_string();
    (resp.body["id"].as_str().unwrap().to_string(), secret)
}

/// Every delivery verified by `scripts/verify_webhooks.py` (the `standardwebhooks` package).
fn verify_with_python(deliveries: &[(String, Received)]) -> Result<String, String> {
    let list: Vec<Value> = deliveries
        .iter()
        .map(|(secret, r)| json!({"secret": secret, "headers": r.headers, "body": r.body}))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deliveries.json");
    std::fs::write(&file, serde_json::to_vec(&list).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/verify_webhooks.py");
    let out = std::process::Command::new(crate::oscal::tools_python())
        .arg(script)
        .arg(&file)
        .output()
        .expect("python");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

fn native_scan(findings: Value) -> Vec<u8> {
    let finished = Utc::now() - chrono::Duration::minutes(5);
    serde_json::to_vec(&json!({
        "tool": "ci-bundle",
        "started_at": (finished - chrono::Duration::minutes(5)).to_rfc3339(),
        "finished_at": finished.to_rfc3339(),
        "covered": ["secrets", "sast_security", "sast_crypto", "sast_auth", "sca_vulns", "iac_issues", "code_quality"],
        "findings": findings,
        "signals": {"quality_gate": "passed", "pull_requests": {"merged": 20, "reviewed": 20}, "languages": ["python"]}
    }))
    .unwrap()
}

/// Uploads a native scan; its id.
async fn scan(app: &TestApp, repo: u64, findings: Value) -> Value {
    let path = format!("/api/repos/{repo}/scans");
    let resp = app
        .post_bytes(&path, "application/json", native_scan(findings))
        .await;
    assert!(resp.status.is_success(), "{:?}", resp.body);
    resp.body["scan_id"].clone()
}

async fn repo(app: &TestApp) -> u64 {
    let name = format!("hooked-{}", uuid::Uuid::new_v4());
    let resp = app.post("/api/repos", json!({"name": name})).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["repo_id"].as_u64().unwrap()
}

#[tokio::test]
async fn score_changed_carries_the_scores_the_api_answered_signed_for_standardwebhooks() {
    let app = spawn_app().await;
    let receiver = Receiver::start(0).await;
    let (_, secret) = create_webhook(
        &app,
        &receiver.url,
        json!(["score.changed", "scan.ingested"]),
    )
    .await;
    let id = repo(&app).await;

    scan(&app, id, json!([])).await;
    let first = receiver.wait_for("score.changed", 1).await;
    let before = app.get(&format!("/api/compliance/score/{id}")).await.body;
    // A repository's first scored scan: nothing before it.
    assert!(first.iter().all(|r| r.json()["data"]["previous"].is_null()));

    let leak = json!([{"check_type": "secrets", "severity": "critical", "rule_id": "aws-key",
        "message": "AKIA..."}]);
    let second_scan = scan(&app, id, leak).await;
    let changed = eventually(Duration::from_secs(20), || async {
        let of_second = receiver
            .received()
            .iter()
            .any(|r| r.json()["data"]["scan_id"] == second_scan);
        of_second.then_some(())
    })
    .await;
    assert!(changed.is_some(), "no score.changed for the second scan");
    let after = app.get(&format!("/api/compliance/score/{id}")).await.body;
    // Every framework's event of the second scan (sent together, delivered concurrently).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let second: Vec<Value> = receiver
        .received()
        .iter()
        .map(Received::json)
        .filter(|e| e["type"] == "score.changed" && e["data"]["scan_id"] == second_scan)
        .collect();
    assert!(!second.is_empty());
    for event in &second {
        let data = &event["data"];
        let fw = data["framework"].as_str().unwrap();
        assert_eq!(data["repo_id"], id);
        assert_eq!(
            data["previous"]["score"], before["frameworks"][fw]["score"],
            "{fw}"
        );
        assert_eq!(
            data["current"]["score"], after["frameworks"][fw]["score"],
            "{fw}"
        );
        assert_eq!(
            data["previous"]["overall_score"],
            before["executive_summary"]["overall_score"]
        );
        assert_eq!(
            data["current"]["overall_score"],
            after["executive_summary"]["overall_score"]
        );
        assert_eq!(
            data["current"]["posture"],
            after["executive_summary"]["posture"]
        );
        for control in data["controls"].as_array().unwrap() {
            let now = after["frameworks"][fw]["controls"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == control["id"])
                .unwrap();
            assert_eq!(control["current_status"], now["status"]);
            assert_ne!(control["previous_status"], control["current_status"]);
        }
    }
    // The secrets control went from pass to fail in SOC 2.
    let soc2 = second
        .iter()
        .find(|e| e["data"]["framework"] == "soc2")
        .expect("soc2 changed");
    assert!(soc2["data"]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["previous_status"] == "pass" && c["current_status"] == "fail"));
    // A changed framework only: one that stayed the same sent nothing.
    let frameworks = after["frameworks"].as_object().unwrap().len();
    assert!(second.len() <= frameworks);

    let ingested = receiver.wait_for("scan.ingested", 2).await;
    assert_eq!(ingested[1].json()["data"]["findings"], 1);
    let all: Vec<(String, Received)> = receiver
        .received()
        .into_iter()
        .map(|r| (secret.clone(), r))
        .collect();
    let verified = verify_with_python(&all);
    assert!(verified.is_ok(), "{verified:?}");
    // And a tampered body is refused by the same check.
    let mut tampered = all[0].clone();
    tampered.1.body = tampered.1.body.replacen("\"data\"", "\"data\" ", 1);
    assert!(verify_with_python(&[tampered]).is_err());
    for r in receiver.received() {
        assert_eq!(r.headers["content-type"], "application/json");
        assert!(r.id().starts_with("evt_"));
        assert_eq!(r.id(), r.json()["id"]);
        assert_eq!(r.json()["org_id"], app.org_id);
    }
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_same_id_three_times_then_nothing() {
    let app = spawn_app().await;
    let flaky = Receiver::start(2).await;
    let down = Receiver::start(usize::MAX).await;
    let (flaky_id, _) = create_webhook(&app, &flaky.url, json!(["scan.ingested"])).await;
    let (down_id, _) = create_webhook(&app, &down.url, json!(["scan.ingested"])).await;
    let id = repo(&app).await;
    scan(&app, id, json!([])).await;

    let got = flaky.wait_for("scan.ingested", 3).await;
    assert!(got.iter().all(|r| r.id() == got[0].id()), "{got:?}");
    let failed = down.wait_for("scan.ingested", 3).await;
    assert_eq!(failed[0].id(), got[0].id(), "one event, one id everywhere");
    // The schedule has two retries: after them, nothing more.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(flaky.received().len(), 3);
    assert_eq!(down.received().len(), 3);

    let list = app
        .get(&format!("/api/webhooks/{flaky_id}/deliveries"))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let delivery = &list.body["deliveries"][0];
    assert_eq!(delivery["status"], "delivered");
    let codes: Vec<&Value> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(500), &json!(500), &json!(200)]);
    assert!(delivery["next_attempt_at"].is_null());

    let list = app
        .get(&format!("/api/webhooks/{down_id}/deliveries"))
        .await;
    let delivery = &list.body["deliveries"][0];
    assert_eq!(delivery["status"], "failed");
    assert_eq!(delivery["attempts"].as_array().unwrap().len(), 3);
    assert!(delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["outcome"] == "failed" && a["latency_ms"].is_u64()));
    let webhook = app.get(&format!("/api/webhooks/{down_id}")).await.body;
    assert!(webhook["failing_since"].is_string(), "{webhook:?}");
    let webhook = app.get(&format!("/api/webhooks/{flaky_id}")).await.body;
    assert!(webhook["failing_since"].is_null(), "{webhook:?}");

    // A redelivery is one more attempt with the same id; a second one while it is pending
    // is refused.
    let event_id = delivery["id"].as_str().unwrap();
    let path = format!("/api/webhooks/{down_id}/deliveries/{event_id}/redeliver");
    down.pause();
    let again = app
        .call(Method::POST, &path, Some(&app.admin_key), None)
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{:?}", again.body);
    assert_eq!(again.body["status"], "pending");
    assert_eq!(again.body["payload"]["id"], event_id);
    let twice = app
        .call(Method::POST, &path, Some(&app.admin_key), None)
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{:?}", twice.body);
    down.resume();
    let fourth = down.wait_for("scan.ingested", 4).await;
    assert_eq!(fourth[3].id(), event_id);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(down.received().len(), 4, "a redelivery is not retried");
}

#[tokio::test]
async fn urls_into_the_network_are_refused_naming_the_rule() {
    let app = spawn_app_strict().await;
    let refused = [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://10.0.0.1/", "private"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://[::ffff:a9fe:a9fe]/", "link-local"),
        ("https://[fd00::1]/", "unique-local"),
        ("https://[::]/", "unspecified"),
        ("https://224.0.0.1/", "multicast"),
        ("https://100.64.0.1/", "private"),
        // A name that resolves to 127.0.0.1, without the loopback allowance.
        ("https://localhost/hook", "loopback"),
        ("http://127.0.0.1:9/hook", "loopback"),
        ("https://user:secret@example.com/", "credentials"),
        ("http://example.com/", "https"),
        ("ftp://example.com/", "https"),
        ("not a url", "absolute URL"),
    ];
    for (url, rule) in refused {
        let resp = app
            .post(
                "/api/webhooks",
                json!({"url": url, "events": ["scan.ingested"]}),
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::BAD_REQUEST,
            "{url}: {:?}",
            resp.body
        );
        let message = resp.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(resp.body["errors"][0]["path"], json!(["url"]), "{url}");
        assert!(message.contains(rule), "{url}: {message}");
    }
    let list = app.get("/api/webhooks").await;
    assert_eq!(list.body["webhooks"], json!([]));

    // With loopback allowed, still nothing private; http only to loopback.
    let local = spawn_app().await;
    for url in ["http://10.0.0.1/", "https://192.168.1.1/"] {
        let resp = local
            .post(
                "/api/webhooks",
                json!({"url": url, "events": ["scan.ingested"]}),
            )
            .await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{url}");
    }
}

#[tokio::test]
async fn an_address_refused_at_delivery_is_recorded_as_refused() {
    let app = spawn_app().await;
    let receiver = Receiver::start(0).await;
    let (hook, _) = create_webhook(&app, &receiver.url, json!(["scan.ingested"])).await;
    // The name now points inside the network (as after a DNS change): rewrite the stored URL.
    let org = OrgId::parse(&app.org_id).unwrap();
    let key = compliance_store::keys::webhook(&org, &WebhookId::parse(&hook).unwrap());
    let mut item = app.store().get(&key).await.unwrap().unwrap();
    item.insert("url".into(), json!("https://10.1.2.3/hook"));
    app.store()
        .write(vec![compliance_store::WriteOp::put(item)])
        .await
        .unwrap();
    let path = format!("/api/webhooks/{hook}/ping");
    let ping = app
        .call(Method::POST, &path, Some(&app.admin_key), None)
        .await;
    assert_eq!(ping.status, StatusCode::ACCEPTED, "{:?}", ping.body);
    let event_id = ping.body["id"].as_str().unwrap().to_string();
    let delivery_path = format!("/api/webhooks/{hook}/deliveries/{event_id}");
    let attempt = eventually(Duration::from_secs(10), || async {
        let d = app.get(&delivery_path).await.body;
        d["attempts"].as_array().and_then(|a| a.first().cloned())
    })
    .await
    .expect("an attempt");
    assert_eq!(attempt["outcome"], "refused");
    assert!(attempt["status_code"].is_null());
    assert!(
        attempt["error"].as_str().unwrap().contains("private"),
        "{attempt:?}"
    );
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn webhooks_are_managed_by_admins_of_their_own_org() {
    let app = spawn_app().await;
    let (hook, secret) = create_webhook(
        &app,
        "https://203.0.113.10/compliance",
        json!(["exception.requested"]),
    )
    .await;
    assert!(secret.starts_with("whsec_"));
    let listed = app.get("/api/webhooks").await;
    assert_eq!(listed.body["webhooks"][0]["id"], hook);
    assert!(
        !listed.body.to_string().contains(&secret),
        "secrets are shown once"
    );

    let member = app.key_for(&app.org_id, Role::Member).await;
    for (method, path) in [
        (Method::GET, "/api/webhooks".to_string()),
        (Method::GET, format!("/api/webhooks/{hook}")),
        (Method::POST, format!("/api/webhooks/{hook}/ping")),
        (Method::DELETE, format!("/api/webhooks/{hook}")),
    ] {
        let resp = app.call(method, &path, Some(&member), None).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN, "{path}");
    }
    let (_, other) = app.new_org(Plan::Enterprise).await;
    for (method, path) in [
        (Method::GET, format!("/api/webhooks/{hook}")),
        (Method::POST, format!("/api/webhooks/{hook}/ping")),
        (Method::POST, format!("/api/webhooks/{hook}/secret")),
        (Method::GET, format!("/api/webhooks/{hook}/deliveries")),
        (Method::DELETE, format!("/api/webhooks/{hook}")),
    ] {
        let resp = app.call(method, &path, Some(&other), None).await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND, "{path}");
    }
    let theirs = app
        .call(Method::GET, "/api/webhooks", Some(&other), None)
        .await;
    assert_eq!(theirs.body["webhooks"], json!([]));

    // Changes, each audited.
    let path = format!("/api/webhooks/{hook}");
    let patched = app
        .call(
            Method::PATCH,
            &path,
            Some(&app.admin_key),
            Some(json!({"events": ["exception.decided", "score.changed"], "enabled": false})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["enabled"], false);
    assert_eq!(
        patched.body["events"],
        json!(["exception.decided", "score.changed"])
    );
    let rotated = app
        .call(
            Method::POST,
            &format!("{path}/secret"),
            Some(&app.admin_key),
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.body);
    assert_ne!(rotated.body["secret"], secret);
    assert!(rotated.body["previous_secret_expires_at"].is_string());
    let deleted = app.delete(&path).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
    let actions = app.audit_actions("WEBHOOK_").await;
    for action in [
        "WEBHOOK_CREATED",
        "WEBHOOK_UPDATED",
        "WEBHOOK_SECRET_ROTATED",
        "WEBHOOK_DELETED",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
}

#[tokio::test]
async fn bad_webhook_requests_name_the_field() {
    let app = spawn_app().await;
    // A documentation address: public, and no DNS needed.
    let url = "https://203.0.113.10/c";
    let cases = [
        (json!({"events": ["scan.ingested"]}), "url"),
        (json!({"url": url}), "events"),
        (json!({"url": url, "events": []}), "events"),
        (json!({"url": url, "events": ["ping"]}), "events"),
        (
            json!({"url": url, "events": ["scan.ingested", "scan.ingested"]}),
            "events",
        ),
        (json!({"url": url, "events": ["score.exploded"]}), "events"),
        (
            json!({"url": url, "events": ["scan.ingested"], "colour": "red"}),
            "colour",
        ),
        (
            json!({"url": url, "events": ["scan.ingested"], "description": ""}),
            "description",
        ),
    ];
    for (body, field) in cases {
        let resp = app.post("/api/webhooks", body.clone()).await;
        assert_eq!(
            resp.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            resp.body
        );
        assert_eq!(
            resp.body["errors"][0]["path"][0], field,
            "{body}: {:?}",
            resp.body
        );
    }
    let (hook, _) = create_webhook(&app, url, json!(["scan.ingested"])).await;
    let path = format!("/api/webhooks/{hook}");
    let empty = app
        .call(Method::PATCH, &path, Some(&app.admin_key), Some(json!({})))
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{:?}", empty.body);
    let unknown = app.get("/api/webhooks/wh_nope").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let no_delivery = app
        .get(&format!("{path}/deliveries/evt_00000000000000000000000000"))
        .await;
    assert_eq!(no_delivery.status, StatusCode::NOT_FOUND);
    for _ in 1..compliance_events::webhooks::MAX_WEBHOOKS {
        create_webhook(&app, url, json!(["scan.ingested"])).await;
    }
    let over = app
        .post(
            "/api/webhooks",
            json!({"url": url, "events": ["scan.ingested"]}),
        )
        .await;
    assert_eq!(over.status, StatusCode::CONFLICT, "{:?}", over.body);
}

/// The consumer fed the same stream record twice (Lambda's retry): one delivery per webhook;
/// deliverers racing for it make one attempt. On both stores.
async fn once_per_subscription(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let receiver = Receiver::start(0).await;
    let (hook, secret) = create_webhook(&app, &receiver.url, json!(["scan.ingested"])).await;
    let (other, _) = create_webhook(&app, &receiver.url, json!(["score.changed"])).await;
    let store = app.state.store.clone();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let path = format!(
        "{}/../events/notify/scan-inserted.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("ORG_ID_PLACEHOLDER", &app.org_id);
    let event: StreamEvent = serde_json::from_str(&text).unwrap();
    for _ in 0..2 {
        let response =
            compliance_events::handle_stream(store.as_ref(), None, event.clone(), Utc::now()).await;
        assert!(response.batch_item_failures.is_empty());
    }
    let a = test_deliverer(store.clone(), clock.clone(), true);
    let b = test_deliverer(store.clone(), clock, true);
    // On the embedded store the local server's own deliverer races them too.
    let (ra, rb) = tokio::join!(
        a.run_due(Duration::from_secs(30)),
        b.run_due(Duration::from_secs(30))
    );
    assert!(ra.unwrap().attempted + rb.unwrap().attempted <= 1);
    receiver.wait_for("scan.ingested", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].json()["type"], "scan.ingested");
    assert_eq!(got[0].json()["data"]["scan_id"], "0019a6f0c1e2f3a4b5c6d");
    assert!(verify_with_python(&[(secret, got[0].clone())]).is_ok());
    let listed = app.get(&format!("/api/webhooks/{hook}/deliveries")).await;
    assert_eq!(listed.body["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["deliveries"][0]["status"], "delivered");
    let none = app.get(&format!("/api/webhooks/{other}/deliveries")).await;
    assert_eq!(none.body["deliveries"], json!([]));
}

#[tokio::test]
async fn a_record_read_twice_is_delivered_once_embedded() {
    once_per_subscription(Backend::Embedded).await;
}

#[tokio::test]
async fn a_record_read_twice_is_delivered_once_dynamodb() {
    once_per_subscription(Backend::Dynamo).await;
}

/// A rotation: both secrets sign for a day, and a receiver holding either verifies; a second
/// rotation within the day keeps the first secret signing too.
#[tokio::test]
async fn both_secrets_sign_during_a_rotation() {
    let app = spawn_app().await;
    let receiver = Receiver::start(0).await;
    let (hook, old) = create_webhook(&app, &receiver.url, json!(["scan.ingested"])).await;
    let path = format!("/api/webhooks/{hook}/secret");
    let rotated = app
        .call(Method::POST, &path, Some(&app.admin_key), None)
        .await;
    let new = rotated.body["secret"].as_str().unwrap().to_string();
    let ping = format!("/api/webhooks/{hook}/ping");
    let resp = app
        .call(Method::POST, &ping, Some(&app.admin_key), None)
        .await;
    assert_eq!(resp.status, StatusCode::ACCEPTED);
    let got = receiver.wait_for("ping", 1).await;
    assert_eq!(got[0].headers["webhook-signature"].split(' ').count(), 2);
    assert_eq!(got[0].json()["data"]["webhook_id"], hook);
    let both = [(old.clone(), got[0].clone()), (new.clone(), got[0].clone())];
    assert!(verify_with_python(&both).is_ok());
    assert!(
        verify_with_python(&[(compliance_events::signing::new_secret(), got[0].clone())]).is_err()
    );
    // A second rotation within the day: the first secret still signs until its own expiry.
    let again = app
        .call(Method::POST, &path, Some(&app.admin_key), None)
        .await;
    let newest = again.body["secret"].as_str().unwrap().to_string();
    let resp = app
        .call(Method::POST, &ping, Some(&app.admin_key), None)
        .await;
    assert_eq!(resp.status, StatusCode::ACCEPTED);
    let got = receiver.wait_for("ping", 2).await;
    assert_eq!(got[1].headers["webhook-signature"].split(' ').count(), 3);
    let all = [old, new, newest].map(|s| (s, got[1].clone()));
    assert!(verify_with_python(&all).is_ok());
}

/// The Standard Webhooks specification's own example.
#[test]
fn signatures_match_the_specification_example() {
    let sig = compliance_events::signing::signature(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        r#"{"test": 2432232314}"#,
    );
    assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

/// Reminders: an attestation already due soon tells so at once, then overdue at its due date,
/// once; a renewal cancels what the old version scheduled.
#[tokio::test]
async fn attestation_reminders_fire_once_and_not_after_a_renewal() {
    let app = spawn_app().await;
    let receiver = Receiver::start(0).await;
    create_webhook(&app, &receiver.url, json!(["attestation.due"])).await;
    let framework = json!({"key": "policies", "name": "Company policies",
        "controls": [{"id": "POL-1", "name": "Access review done", "check_type": "manual"}]});
    let resp = app
        .post("/api/compliance/custom-frameworks", framework)
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    let path = "/api/compliance/frameworks/policies/controls/POL-1/attestation";
    let effective = Utc::now() - chrono::Duration::days(80);
    let body = json!({"statement": "Access review done.", "owner": "secops@example.com",
        "effective_at": effective.to_rfc3339(), "review_interval": "quarterly"});
    let resp = app.put(path, body).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    let due_at = chrono::DateTime::parse_from_rfc3339(resp.body["due_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc);

    let soon = receiver.wait_for("attestation.due", 1).await;
    let data = soon[0].json()["data"].clone();
    assert_eq!(data["state"], "due_soon");
    assert_eq!(data["control_id"], "POL-1");
    assert_eq!(data["owner"], "secops@example.com");

    // At the due date (the clock moved on): overdue, once however often the queue is read.
    let store = app.store();
    let later = due_at + chrono::Duration::minutes(1);
    assert_eq!(fire(store, later).await, 1);
    assert_eq!(fire(store, later).await, 0);
    deliver_at(&app, later).await;
    let overdue = receiver.wait_for("attestation.due", 2).await;
    assert_eq!(overdue[1].json()["data"]["state"], "overdue");

    // Renewed twice: the second renewal cancels what the first scheduled, so at the time both
    // turn due soon, one event.
    for statement in ["Access review done again.", "Access review redone."] {
        let body = json!({"statement": statement, "owner": "secops@example.com",
            "effective_at": Utc::now().to_rfc3339(), "review_interval": "quarterly"});
        assert_eq!(app.put(path, body).await.status, StatusCode::OK);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 2, "nothing due yet");
    let renewed_due_soon = Utc::now() + chrono::Duration::days(75);
    assert_eq!(fire(store, renewed_due_soon).await, 1);
    deliver_at(&app, renewed_due_soon).await;
    let third = receiver.wait_for("attestation.due", 3).await;
    assert_eq!(third[2].json()["data"]["state"], "due_soon");
}

/// A SARIF report of one run that did not complete.
fn failed_run() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "semgrep", "version": "1.99.0"}},
            "invocations": [{"executionSuccessful": false,
                "toolExecutionNotifications": [{"level": "error", "message": {"text": "out of memory"}}]}],
            "results": []
        }]
    }))
    .unwrap()
}

/// Every event type, each from the change that tells it, to a receiver subscribed to all: each
/// payload as the document's `webhooks` describe it.
#[tokio::test]
async fn every_event_type_arrives_as_documented() {
    let app = spawn_app().await;
    let receiver = Receiver::start(0).await;
    let all: Vec<&str> = EventType::ALL
        .iter()
        .filter(|t| t.subscribable())
        .map(|t| t.as_str())
        .collect();
    create_webhook(&app, &receiver.url, json!(all)).await;
    let repo_id = repo(&app).await;
    let scans = format!("/api/repos/{repo_id}/scans");
    let resp = app
        .post_bytes(&scans, "application/json", failed_run())
        .await;
    assert!(resp.status.is_success(), "{:?}", resp.body);
    // The latest scan has the finding the exception covers (else rescoring would resolve it).
    let xss = json!([{"check_type": "sast_security", "severity": "high", "rule_id": "xss",
        "message": "Reflected XSS", "cwe": [79]}]);
    scan(&app, repo_id, xss).await;

    // An exception requested by a member, approved by an admin, expiring in 10 days.
    let member = app.key_for(&app.org_id, Role::Member).await;
    let expires = (Utc::now() + chrono::Duration::days(10)).to_rfc3339();
    let request = json!({"scope": {"cwe": 79}, "kind": "risk_accepted",
        "justification": "Compensating WAF rule until the rewrite ships.", "expires_at": expires});
    let base = format!("/api/repos/{repo_id}/exceptions");
    let resp = app
        .call(Method::POST, &base, Some(&member), Some(request))
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    let exception = resp.body["exception_id"].as_str().unwrap().to_string();
    let approve = format!("{base}/{exception}/approve");
    let resp = app
        .post(&approve, json!({"reason": "WAF rule verified"}))
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);

    // An audit run whose findings open alerts; one closed as a confirmed risk, recommended.
    let officer = test_support::hs256_token(&app.org_id, "admin", json!({"sub": "officer-1"}));
    let (audit, _) = crate::audit_runs::create_audit(&app, &officer, "aml").await;
    let records = crate::audit_runs::ndjson(&crate::audit_runs::aml_records());
    let runs = format!("/api/audits/{audit}/runs");
    let run = crate::audit_runs::run_ndjson(&app, &officer, &runs, records).await;
    assert_eq!(run.status, StatusCode::CREATED, "{:?}", run.body);
    let opened = receiver.wait_for("alert.opened", 1).await;
    let alert = opened[0].json()["data"]["alert_id"]
        .as_str()
        .unwrap()
        .to_string();
    let one = format!("/api/audits/{audit}/alerts/{alert}");
    for step in [
        json!({"to": "investigating"}),
        json!({"to": "closed", "outcome": "confirmed_risk", "reason": "Structuring pattern"}),
    ] {
        let path = format!("{one}/transitions");
        let resp = app
            .with_bearer(Method::POST, &path, &officer, Some(step))
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    }
    let recommendation =
        json!({"recommendation": "file_report", "narrative": "Cash split below the threshold."});
    let path = format!("{one}/recommendation");
    let resp = app
        .with_bearer(Method::POST, &path, &officer, Some(recommendation))
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);

    // A control attested 80 days ago, quarterly: due soon now.
    let framework = json!({"key": "policies", "name": "Company policies",
        "controls": [{"id": "POL-1", "name": "Access review done", "check_type": "manual"}]});
    let resp = app
        .post("/api/compliance/custom-frameworks", framework)
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    let effective = (Utc::now() - chrono::Duration::days(80)).to_rfc3339();
    let body = json!({"statement": "Access review done.", "owner": "secops@example.com",
        "effective_at": effective, "review_interval": "quarterly"});
    let path = "/api/compliance/frameworks/policies/controls/POL-1/attestation";
    assert_eq!(app.put(path, body).await.status, StatusCode::OK);

    for event_type in [
        "scan.ingested",
        "score.changed",
        "scan.run_failed",
        "exception.requested",
        "exception.decided",
        "audit_run.completed",
        "attestation.due",
    ] {
        receiver.wait_for(event_type, 1).await;
    }
    let failed = receiver.wait_for("scan.run_failed", 1).await[0].json();
    assert_eq!(failed["data"]["tool"], "semgrep");
    assert!(failed["data"]["reason"]
        .as_str()
        .unwrap()
        .contains("out of memory"));
    let decided = receiver.wait_for("exception.decided", 1).await[0].json();
    assert_eq!(decided["data"]["decision"], "approved");
    let run = receiver.wait_for("audit_run.completed", 1).await[0].json();
    assert_eq!(run["data"]["audit_id"], audit.as_str());

    // A month on: the exception's last day, the attestation overdue, the decision due.
    let later = Utc::now() + chrono::Duration::days(31);
    assert_eq!(fire(app.store(), later).await, 3);
    deliver_at(&app, later).await;
    let expiring = receiver.wait_for("exception.expiring", 1).await;
    assert_eq!(
        expiring.len(),
        1,
        "the 14-day reminder was past when approved"
    );
    assert_eq!(expiring[0].json()["data"]["days_left"], 1);
    let due = receiver.wait_for("alert.decision_due", 1).await[0].json();
    assert_eq!(due["data"]["alert_id"], alert.as_str());
    assert_eq!(due["data"]["recommendation"], "file_report");
    let attestation = receiver.wait_for("attestation.due", 2).await;
    assert_eq!(attestation[1].json()["data"]["state"], "overdue");
}

/// Fires the reminders due at `at` (a time the tests moved the clock to); how many were sent.
async fn fire(store: &dyn compliance_store::Store, at: chrono::DateTime<Utc>) -> usize {
    compliance_events::fire_reminders(store, None, at)
        .await
        .unwrap()
}

/// Makes the attempts due at `at` (a time the tests moved the clock to).
async fn deliver_at(app: &TestApp, at: chrono::DateTime<Utc>) {
    let clock: Arc<dyn Clock> = Arc::new(compliance_domain::time::ManualClock::new(at));
    let deliverer = test_deliverer(app.state.store.clone(), clock, true);
    let round = deliverer.run_due(Duration::from_secs(30)).await.unwrap();
    assert!(round.attempted >= 1, "{round:?}");
}

/// Events as subscribers get them: ids told by what they describe.
#[test]
fn event_ids_are_stable_and_payloads_carry_the_envelope() {
    let org = OrgId::parse("o1").unwrap();
    let at = Utc::now();
    let a = Event::new(EventType::ScanIngested, &org, at, "k|s", json!({"x": 1}));
    let b = Event::new(EventType::ScanIngested, &org, at, "k|s", json!({"x": 1}));
    let c = Event::new(EventType::ScanIngested, &org, at, "k|t", json!({"x": 1}));
    assert_eq!(a.id, b.id);
    assert_ne!(a.id, c.id);
    let payload: Value = serde_json::from_str(&a.payload()).unwrap();
    assert_eq!(payload["type"], "scan.ingested");
    assert_eq!(payload["org_id"], "o1");
    assert_eq!(payload["id"], a.id.as_str());
    assert!(payload["timestamp"].is_string());
}

/// DynamoDB has no change feed here (DynamoDB Local's stream is not read by the tests): its
/// stored items are handed to `rescore` and to the events consumer as the stream would carry
/// them, and the deliverer sends what they made. The whole path on the DynamoDB adapter.
#[tokio::test]
async fn scan_to_score_changed_on_dynamodb() {
    use compliance_store::change_feed::{Change, ChangeKind};
    use compliance_store::{keys, stream, Query, Store};

    let app = spawn_app_on(Backend::Dynamo).await;
    let receiver = Receiver::start(0).await;
    create_webhook(
        &app,
        &receiver.url,
        json!(["score.changed", "scan.ingested"]),
    )
    .await;
    let repo_id = repo(&app).await;
    scan(&app, repo_id, json!([])).await;
    let store: &dyn Store = app.store();
    let org = OrgId::parse(&app.org_id).unwrap();
    let repo = compliance_domain::ids::RepoId::new(repo_id).unwrap();
    // Each item of a partition prefix, as inserted records of one stream batch.
    let inserted = |(pk, range): (String, compliance_store::SortKeyRange)| async move {
        let page = store.query(&Query::new(pk, range)).await.unwrap();
        let records = page
            .items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let change = Change {
                    sequence: i as u64 + 1,
                    at: Utc::now().timestamp(),
                    kind: ChangeKind::Insert,
                    key: compliance_store::Key::of(&item).unwrap(),
                    new_image: Some(item),
                    old_image: None,
                };
                stream::event_record(&change).unwrap()
            })
            .collect::<Vec<_>>();
        assert!(!records.is_empty());
        stream::event(records).unwrap()
    };
    let scans = inserted(keys::scans(&org, repo)).await;
    assert!(rescore::handle(store, scans.clone())
        .await
        .batch_item_failures
        .is_empty());
    let told = compliance_events::handle_stream(store, None, scans, Utc::now()).await;
    assert!(told.batch_item_failures.is_empty());
    let postures = inserted(keys::repo_postures(&org, repo)).await;
    let told = compliance_events::handle_stream(store, None, postures, Utc::now()).await;
    assert!(told.batch_item_failures.is_empty());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let round = test_deliverer(app.state.store.clone(), clock, true)
        .run_due(Duration::from_secs(30))
        .await
        .unwrap();
    let changed = receiver.wait_for("score.changed", 1).await;
    assert_eq!(round.attempted, changed.len() + 1, "{round:?}");
    let score = app
        .get(&format!("/api/compliance/score/{repo_id}"))
        .await
        .body;
    for event in changed.iter().map(Received::json) {
        let fw = event["data"]["framework"].as_str().unwrap();
        assert!(event["data"]["previous"].is_null());
        assert_eq!(
            event["data"]["current"]["score"],
            score["frameworks"][fw]["score"]
        );
    }
    receiver.wait_for("scan.ingested", 1).await;
}
