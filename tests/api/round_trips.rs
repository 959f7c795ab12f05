//! Store calls per read operation, counted at the storage port on both adapters: each `GET` of
//! the request path is made in as few requests to the table as its data allows, and the
//! scores, the trend and each page of the org-wide summary in one (`docs/single-table.md`
//! tells why the others take what they take). A call is one `get`, one `get_many` (one
//! BatchGetItem) or one `query` (one Query, which DynamoDB's adapter follows past 1 MB
//! responses); the API-key lookup (cached) is left out. Counted once the process holds what
//! it keeps between requests (the org's inputs at their counts, a scan's matched exceptions):
//! the state of a warm Lambda container.

use std::sync::{Arc, Mutex};

use compliance_domain::plans::Role;
use compliance_services::{repos, scans, scores};
use compliance_store::Key;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::intercept::{Intercept, Intercepted};
use test_support::{spawn_app_on, Backend, TestApp};
use tower::ServiceExt;

use crate::audit_runs::{aml_records, create_audit, ndjson, run_ndjson, user};
use crate::exceptions::injections;
use crate::summary::{repo_of, scan_of};

/// The partition of each call, with what kind of call it was.
#[derive(Default)]
struct Calls(Mutex<Vec<String>>);

impl Intercept for Calls {
    fn read(&self, pk: &str) {
        self.0.lock().unwrap().push(pk.to_owned());
    }

    fn read_batch(&self, keys: &[Key]) {
        let pks: Vec<&str> = keys.iter().map(|k| k.pk.as_str()).collect();
        self.0
            .lock()
            .unwrap()
            .push(format!("batch[{}]", pks.join(",")));
    }
}

impl Calls {
    /// The calls since the last take, the API-key lookup left out.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
            .into_iter()
            .filter(|pk| !pk.starts_with("KEYHASH#"))
            .collect()
    }
}

struct Counting {
    router: axum::Router,
    calls: Arc<Intercepted<Calls>>,
}

impl Counting {
    fn new(app: &TestApp) -> Counting {
        let calls = Arc::new(Intercepted {
            inner: app.state.store.clone(),
            hook: Calls::default(),
        });
        let mut state = app.state.clone();
        state.store = calls.clone();
        Counting {
            router: compliance_local::app(state),
            calls,
        }
    }

    /// The answer to a GET with these credentials, and the store calls it made.
    async fn get(&self, path: &str, auth: (&str, &str)) -> (Value, Vec<String>) {
        self.calls.hook.take();
        let req = axum::http::Request::get(path)
            .header(auth.0, auth.1)
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        (body, self.calls.hook.take())
    }

    /// The calls of the operation once warm: asked three times, the last counted.
    async fn warm(&self, path: &str, auth: (&str, &str)) -> (Value, Vec<String>) {
        self.get(path, auth).await;
        self.get(path, auth).await;
        self.get(path, auth).await
    }
}

async fn calls_per_operation(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let key = app.admin_key.clone();
    let leaky = repo_of(&app, &key, "leaky-service").await;
    let clean = repo_of(&app, &key, "clean-service").await;
    repo_of(&app, &key, "fresh-service").await;
    let scanned = app
        .post_bytes(
            &format!("/api/repos/{leaky}/scans"),
            "application/sarif+json",
            injections(),
        )
        .await;
    assert_eq!(scanned.status, StatusCode::CREATED, "{}", scanned.body);
    scan_of(
        &app,
        &key,
        clean,
        "gitleaks/gitleaks-8_edd-core_noresults.sarif",
    )
    .await;
    // An approved exception on the scanned repository, and an attestation: both scored.
    let member = app.key_for(&app.org_id, Role::Member).await;
    let requested = app
        .call(
            Method::POST,
            &format!("/api/repos/{leaky}/exceptions"),
            Some(&member),
            Some(
                json!({"scope": {"rule_id": "js/sql-injection"}, "kind": "false_positive",
                        "justification": "Queries built from constants only."}),
            ),
        )
        .await;
    assert_eq!(requested.status, StatusCode::CREATED, "{}", requested.body);
    let id = requested.body["exception_id"].as_str().unwrap();
    let approved = app
        .post(
            &format!("/api/repos/{leaky}/exceptions/{id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(approved.body["state"], "approved", "{}", approved.body);
    let attested = app
        .put(
            "/api/compliance/frameworks/soc2/controls/CC6.1/attestation",
            json!({"statement": "Access reviewed quarterly by the CISO.", "owner": "ciso@example.com",
                   "effective_at": chrono::Utc::now().to_rfc3339(), "review_interval": "quarterly"}),
        )
        .await;
    assert_eq!(attested.status, StatusCode::OK, "{}", attested.body);
    // An audit with a run and its findings.
    let officer = user(&app, "officer-1");
    let (audit, _) = create_audit(&app, &officer, "aml").await;
    let run = run_ndjson(
        &app,
        &officer,
        &format!("/api/audits/{audit}/runs"),
        ndjson(&aml_records()),
    )
    .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.body);
    let run = run.body["run_id"].as_str().unwrap().to_string();

    let counting = Counting::new(&app);
    let api_key = ("X-API-Key", key.as_str());
    let bearer = format!("Bearer {officer}");
    let jwt = ("Authorization", bearer.as_str());
    let org_pk = format!("ORG#{}", app.org_id);

    // One request each: the org's versions item with the repository and its latest scan's copy.
    let (score, calls) = counting
        .warm(&format!("/api/compliance/score/{leaky}"), api_key)
        .await;
    assert!(
        score["executive_summary"]["exceptions"]["excepted_findings"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "the approved exception is applied: {score}"
    );
    assert_eq!(calls, vec![format!("batch[{org_pk},{org_pk},{org_pk}]")]);
    // The trend: one Query of the repository's partition (its marker, then its points).
    let (_, calls) = counting
        .warm(&format!("/api/compliance/trend/{leaky}"), api_key)
        .await;
    assert_eq!(calls, vec![format!("{org_pk}#REPO#{leaky:010}")]);
    // The summary: the first page is one Query that reads the versions item with the
    // repositories; the next page, one Query, scored with the inputs the first read.
    let (first, calls) = counting
        .warm("/api/compliance/summary?limit=2", api_key)
        .await;
    assert_eq!(calls, vec![org_pk.clone()]);
    assert_eq!(first["page_repos"], 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (second, calls) = counting
        .warm(
            &format!("/api/compliance/summary?limit=2&cursor={cursor}"),
            api_key,
        )
        .await;
    assert_eq!(calls, vec![org_pk.clone()]);
    assert_eq!(second["page_repos"], 1);

    // The others, as docs/single-table.md explains them.
    let others: Vec<(&str, String, (&str, &str), usize)> = vec![
        (
            "score with framework filter",
            format!("/api/compliance/score/{leaky}?framework=soc2"),
            api_key,
            1,
        ),
        (
            "score as OSCAL",
            format!("/api/compliance/score/{leaky}/oscal"),
            api_key,
            1,
        ),
        (
            "trend with framework filter",
            format!("/api/compliance/trend/{leaky}?framework=soc2"),
            api_key,
            2,
        ),
        (
            "SoA",
            "/api/compliance/frameworks/soc2/soa".into(),
            api_key,
            1,
        ),
        (
            "frameworks",
            "/api/compliance/frameworks".into(),
            api_key,
            1,
        ),
        (
            "controls",
            "/api/compliance/frameworks/soc2/controls".into(),
            api_key,
            1,
        ),
        ("repos", "/api/repos".into(), api_key, 1),
        ("repo", format!("/api/repos/{leaky}"), api_key, 1),
        ("scans", format!("/api/repos/{leaky}/scans"), api_key, 1),
        ("audits", "/api/audits".into(), jwt, 1),
        ("runs", format!("/api/audits/{audit}/runs"), jwt, 1),
        (
            "findings",
            format!("/api/audits/{audit}/runs/{run}/findings"),
            jwt,
            1,
        ),
    ];
    let mut table = Vec::new();
    for (name, path, auth, _) in &others {
        let (_, calls) = counting.warm(path, *auth).await;
        table.push((name.to_string(), calls));
    }
    for (name, calls) in &table {
        eprintln!("{name}: {} calls {calls:?}", calls.len());
    }
    let measured: Vec<(&str, usize)> = table.iter().map(|(n, c)| (n.as_str(), c.len())).collect();
    let expected: Vec<(&str, usize)> = others.iter().map(|(n, _, _, e)| (*n, *e)).collect();
    assert_eq!(measured, expected);
    // The projected read holds the whole repository and, through its pointer, the whole
    // latest scan: what full reads hold.
    let store = app.state.store.as_ref();
    let org = compliance_domain::ids::OrgId::parse(&app.org_id).unwrap();
    let id = compliance_domain::ids::RepoId::new(leaky).unwrap();
    let (_, repo, latest) = scores::read_repo(store, &org, id).await.unwrap();
    assert_eq!(repo, repos::get(store, &org, id).await.unwrap());
    let full = scans::latest(store, &org, id).await.unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(latest.as_deref().unwrap()).unwrap(),
        serde_json::to_value(&full).unwrap()
    );
    // The pointer names the scan in `latest` and leaves `scan` null, which the releases before
    // pointers read as a repository not scanned yet rather than failing on.
    let pointer = store
        .get(&compliance_store::keys::repo_latest_scan(&org, id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pointer["scan"], Value::Null, "{pointer:?}");
    assert_eq!(pointer["latest"]["scan_id"], score["scan_id"]);
    // A pointer written by such a release holds the whole scan: read the same, its id alone
    // through the projection.
    let mut fat = serde_json::Map::new();
    let key = compliance_store::keys::repo_latest_scan(&org, id);
    for (k, v) in [
        ("PK", json!(key.pk)),
        ("SK", json!(key.sk)),
        ("entity", json!("repo_latest_scan")),
        ("org_id", json!(app.org_id)),
        ("repo_id", json!(leaky)),
        ("version", json!(99)),
        ("scan", serde_json::to_value(&full).unwrap()),
    ] {
        fat.insert(k.into(), v);
    }
    store
        .write(vec![compliance_store::WriteOp::put(fat)])
        .await
        .unwrap();
    let (again, calls) = counting
        .warm(&format!("/api/compliance/score/{leaky}"), api_key)
        .await;
    assert_eq!(calls, vec![format!("batch[{org_pk},{org_pk},{org_pk}]")]);
    assert_eq!(again["executive_summary"], score["executive_summary"]);
    assert_eq!(again["scan_id"], score["scan_id"]);
    // An unknown audit is a 404 whatever the cursor (the caller's own runs are read first).
    let foreign = "QVBJS0VZI3gx"; // base64url of "APIKEY#x1"
    let unknown = format!("/api/audits/{}/runs?cursor={foreign}", uuid::Uuid::new_v4());
    let resp = app.with_bearer(Method::GET, &unknown, &officer, None).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND, "{}", resp.body);
    // The viewer's answer is the admin's: nothing kept crosses roles or orgs.
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    let (as_viewer, _) = counting
        .get(
            &format!("/api/compliance/score/{leaky}"),
            ("X-API-Key", &viewer),
        )
        .await;
    assert_eq!(as_viewer["executive_summary"], score["executive_summary"]);
}

#[tokio::test]
async fn calls_per_operation_on_the_embedded_store() {
    calls_per_operation(Backend::Embedded).await;
}

#[tokio::test]
async fn calls_per_operation_on_dynamodb() {
    calls_per_operation(Backend::Dynamo).await;
}
