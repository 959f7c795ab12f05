//! The org-wide summary (`GET /api/compliance/summary`): every repository of the caller's org,
//! scored as the score endpoint scores it; aggregates that add up; pages that combine exactly;
//! on both adapters; another org's repositories never appear; any role reads it.

use std::collections::{BTreeMap, BTreeSet};

use compliance_domain::plans::{Plan, Role};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::intercept::{Intercept, Intercepted};
use test_support::{hs256_token, sarif_sample, spawn_app, spawn_app_on, Backend, TestApp};

pub(crate) async fn repo_of(app: &TestApp, key: &str, name: &str) -> u64 {
    let resp = app
        .call(
            Method::POST,
            "/api/repos",
            Some(key),
            Some(json!({ "name": name })),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.body);
    resp.body["repo_id"].as_u64().unwrap()
}

pub(crate) async fn scan_of(app: &TestApp, key: &str, repo: u64, sample: &str) -> String {
    let resp = app
        .send(
            app.request(Method::POST, &format!("/api/repos/{repo}/scans"))
                .header("X-API-Key", key)
                .header("Content-Type", "application/sarif+json")
                .body(sarif_sample(sample)),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.body);
    resp.body["scan_id"].as_str().unwrap().to_string()
}

async fn summary(app: &TestApp, key: &str, query: &str) -> Value {
    let resp = app
        .call(
            Method::GET,
            &format!("/api/compliance/summary{query}"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    resp.body
}

fn posture(score: u64) -> &'static str {
    match score {
        85.. => "Strong",
        70..=84 => "Moderate",
        50..=69 => "Weak",
        _ => "Critical",
    }
}

/// The aggregate the API should answer for these scores.
fn expected_aggregate(scores: &[u64]) -> Value {
    let mut distribution: BTreeMap<&str, u64> = ["Strong", "Moderate", "Weak", "Critical"]
        .into_iter()
        .map(|p| (p, 0))
        .collect();
    for s in scores {
        *distribution.get_mut(posture(*s)).unwrap() += 1;
    }
    let sum: u64 = scores.iter().sum();
    let n = scores.len() as u64;
    let average = if n == 0 {
        Value::Null
    } else {
        json!((2 * sum + n) / (2 * n))
    };
    json!({"scored": n, "score_sum": sum, "average": average, "distribution": distribution})
}

fn without_name(v: &Value) -> Value {
    let mut v = v.clone();
    v.as_object_mut().unwrap().remove("name");
    v
}

/// Three repositories: one failing secrets scan, one clean secrets scan, one never scanned.
async fn org_with_repos(app: &TestApp) -> (Vec<u64>, String, String) {
    let key = app.admin_key.clone();
    let leaky = repo_of(app, &key, "leaky-service").await;
    let clean = repo_of(app, &key, "clean-service").await;
    let fresh = repo_of(app, &key, "fresh-service").await;
    let leaky_scan = scan_of(
        app,
        &key,
        leaky,
        "gitleaks/gitleaks-8_provenancepass_3results.sarif",
    )
    .await;
    let clean_scan = scan_of(
        app,
        &key,
        clean,
        "gitleaks/gitleaks-8_edd-core_noresults.sarif",
    )
    .await;
    (vec![leaky, clean, fresh], leaky_scan, clean_scan)
}

async fn the_view_agrees_with_the_scores(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let key = app.admin_key.clone();
    let (ids, leaky_scan, clean_scan) = org_with_repos(&app).await;

    let all = summary(&app, &key, "?limit=100").await;
    assert_eq!(all["page_repos"], 3);
    assert_eq!(all["unscanned"], 1);
    assert_eq!(all["next_cursor"], Value::Null);
    let repos = all["repos"].as_array().unwrap();
    let listed: Vec<u64> = repos
        .iter()
        .map(|r| r["repo_id"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, ids, "every repository, by id");
    assert_eq!(repos[0]["scan_id"], leaky_scan.as_str());
    assert_eq!(repos[1]["scan_id"], clean_scan.as_str());
    assert_eq!(repos[2]["scan_id"], Value::Null);
    assert_eq!(repos[2]["last_scan_at"], Value::Null);
    assert!(repos[0]["last_scan_at"].as_str().unwrap().ends_with('Z'));

    // Each line is what the score endpoint says of the repository.
    let mut per_framework: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut overall = Vec::new();
    for r in repos {
        let id = r["repo_id"].as_u64().unwrap();
        let score = app.get(&format!("/api/compliance/score/{id}")).await.body;
        let summary = &score["executive_summary"];
        assert_eq!(r["overall_score"], summary["overall_score"], "repo {id}");
        assert_eq!(r["posture"], summary["posture"], "repo {id}");
        let frameworks = score["frameworks"].as_object().unwrap();
        let scores: BTreeMap<&String, &Value> =
            frameworks.iter().map(|(k, f)| (k, &f["score"])).collect();
        let line: BTreeMap<&String, &Value> = r["frameworks"].as_object().unwrap().iter().collect();
        assert_eq!(line, scores, "repo {id}");
        let (worst_key, worst) = frameworks
            .iter()
            .filter_map(|(k, f)| f["score"].as_u64().map(|s| (k, s)))
            .min_by_key(|(_, s)| *s)
            .unwrap();
        assert_eq!(r["worst_framework"]["key"], worst_key.as_str());
        assert_eq!(r["worst_framework"]["score"], worst);
        assert_eq!(r["worst_framework"]["name"], frameworks[worst_key]["name"]);
        overall.push(summary["overall_score"].as_u64().unwrap());
        for (k, f) in frameworks {
            if let Some(s) = f["score"].as_u64() {
                per_framework.entry(k.clone()).or_default().push(s);
            }
        }
    }
    // A leaked secret scores below a clean secrets scan, and no scan at all scores 0.
    assert!(
        repos[0]["overall_score"].as_u64() < repos[1]["overall_score"].as_u64(),
        "{repos:?}"
    );
    assert_eq!(repos[2]["overall_score"], 0);
    assert_eq!(repos[2]["posture"], "Critical");

    // The aggregates are those of the lines.
    assert_eq!(all["overall"], expected_aggregate(&overall));
    let frameworks = all["frameworks"].as_object().unwrap();
    assert_eq!(
        frameworks.keys().collect::<BTreeSet<_>>(),
        per_framework.keys().collect::<BTreeSet<_>>()
    );
    for (k, scores) in &per_framework {
        assert_eq!(
            without_name(&frameworks[k]),
            expected_aggregate(scores),
            "{k}"
        );
    }
    assert_eq!(frameworks["soc2"]["name"], "SOC 2 Type II");

    // Pages: two, then one; together the same lines, and their sums add up to the whole.
    let first = summary(&app, &key, "?limit=2").await;
    assert_eq!(first["page_repos"], 2);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let second = summary(&app, &key, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(second["page_repos"], 1);
    assert_eq!(second["next_cursor"], Value::Null);
    let mut both: Vec<Value> = first["repos"].as_array().unwrap().clone();
    both.extend(second["repos"].as_array().unwrap().iter().cloned());
    for (a, b) in both.iter().zip(repos) {
        assert_eq!(a["repo_id"], b["repo_id"]);
        assert_eq!(a["overall_score"], b["overall_score"]);
        assert_eq!(a["worst_framework"], b["worst_framework"]);
    }
    assert_eq!(both.len(), repos.len());
    let add = |field: &str, of: &dyn Fn(&Value) -> &Value| {
        of(&first)[field].as_u64().unwrap() + of(&second)[field].as_u64().unwrap()
    };
    for field in ["scored", "score_sum"] {
        assert_eq!(
            add(field, &|p| &p["overall"]),
            all["overall"][field].as_u64().unwrap()
        );
        assert_eq!(
            add(field, &|p| &p["frameworks"]["owasp"]),
            all["frameworks"]["owasp"][field].as_u64().unwrap()
        );
    }
    for band in ["Strong", "Moderate", "Weak", "Critical"] {
        assert_eq!(
            first["overall"]["distribution"][band].as_u64().unwrap()
                + second["overall"]["distribution"][band].as_u64().unwrap(),
            all["overall"]["distribution"][band].as_u64().unwrap()
        );
    }
    assert_eq!(
        first["unscanned"].as_u64().unwrap() + second["unscanned"].as_u64().unwrap(),
        1
    );

    // The framework selection shapes the view: only enabled frameworks are scored and listed.
    let resp = app
        .put(
            "/api/compliance/frameworks/enabled",
            json!({"keys": ["soc2", "owasp"]}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    let narrowed = summary(&app, &key, "").await;
    let keys: Vec<&String> = narrowed["frameworks"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["owasp", "soc2"]);
    for r in narrowed["repos"].as_array().unwrap() {
        let keys: Vec<&String> = r["frameworks"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["owasp", "soc2"]);
        let id = r["repo_id"].as_u64().unwrap();
        let score = app.get(&format!("/api/compliance/score/{id}")).await.body;
        assert_eq!(
            r["overall_score"],
            score["executive_summary"]["overall_score"]
        );
    }
}

#[tokio::test]
async fn summary_agrees_with_the_scores_on_the_embedded_store() {
    the_view_agrees_with_the_scores(Backend::Embedded).await;
}

#[tokio::test]
async fn summary_agrees_with_the_scores_on_dynamodb() {
    the_view_agrees_with_the_scores(Backend::Dynamo).await;
}

async fn another_orgs_repositories_never_appear(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let key = app.admin_key.clone();
    org_with_repos(&app).await;
    let (_, other_key) = app.new_org(Plan::Team).await;
    let theirs = repo_of(&app, &other_key, "other-org-payroll").await;
    scan_of(
        &app,
        &other_key,
        theirs,
        "gitleaks/gitleaks-8_provenancepass_3results.sarif",
    )
    .await;

    let mine = summary(&app, &key, "?limit=100").await;
    let names: Vec<&str> = mine["repos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["leaky-service", "clean-service", "fresh-service"]);

    let other = summary(&app, &other_key, "?limit=100").await;
    assert_eq!(other["page_repos"], 1);
    assert_eq!(other["repos"][0]["name"], "other-org-payroll");
    assert_eq!(other["repos"][0]["repo_id"], theirs);
    assert_eq!(other["unscanned"], 0);
    // The team plan's frameworks, not the enterprise org's (HIPAA needs enterprise).
    assert!(other["frameworks"].get("hipaa").is_none());
    assert!(mine["frameworks"].get("hipaa").is_some());

    // A cursor carries no org: one org's cursor in another's request pages the caller's own.
    let page = summary(&app, &key, "?limit=1").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let with_theirs = summary(&app, &other_key, &format!("?cursor={cursor}")).await;
    for r in with_theirs["repos"].as_array().unwrap() {
        assert_eq!(r["name"], "other-org-payroll");
    }
}

#[tokio::test]
async fn another_orgs_repositories_never_appear_on_the_embedded_store() {
    another_orgs_repositories_never_appear(Backend::Embedded).await;
}

#[tokio::test]
async fn another_orgs_repositories_never_appear_on_dynamodb() {
    another_orgs_repositories_never_appear(Backend::Dynamo).await;
}

#[tokio::test]
async fn summary_roles_and_bad_input() {
    let app = spawn_app().await;
    org_with_repos(&app).await;
    for role in [Role::Viewer, Role::Member, Role::Admin, Role::Owner] {
        let key = app.key_for(&app.org_id, role).await;
        let body = summary(&app, &key, "").await;
        assert_eq!(body["page_repos"], 3, "{role:?}");
    }
    let token = hs256_token(&app.org_id, "viewer", json!({}));
    let resp = app
        .with_bearer(Method::GET, "/api/compliance/summary", &token, None)
        .await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(resp.body["page_repos"], 3);

    let resp = app
        .call(Method::GET, "/api/compliance/summary", None, None)
        .await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    assert_eq!(resp.body, json!({"detail": "Not authenticated"}));
    let resp = app
        .call(
            Method::GET,
            "/api/compliance/summary",
            Some("csk_not_a_key"),
            None,
        )
        .await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);

    for (query, field) in [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=ten", "limit"),
        ("?cursor=%21%21", "cursor"),
        ("?framework=soc2", "framework"),
    ] {
        let resp = app.get(&format!("/api/compliance/summary{query}")).await;
        assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(
            resp.body["detail"].as_str().unwrap().contains(field),
            "{query}: {}",
            resp.body
        );
        assert!(resp.body["errors"].is_array(), "{query}");
    }
    // A well-formed cursor from another listing (outside the repositories' range) is refused.
    let foreign = "QVBJS0VZI3gx"; // base64url of "APIKEY#x1"
    let resp = app
        .get(&format!("/api/compliance/summary?cursor={foreign}"))
        .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST, "{}", resp.body);
    // Writing is not a thing here.
    let resp = app.post("/api/compliance/summary", json!({})).await;
    assert_eq!(resp.status, StatusCode::METHOD_NOT_ALLOWED);
}

/// Records the partition of each read; the store behind it does the rest.
#[derive(Default)]
struct Reads(std::sync::Mutex<Vec<String>>);

impl Intercept for Reads {
    fn read(&self, pk: &str) {
        self.0.lock().unwrap().push(pk.to_owned());
    }
}

/// A page of `n` scanned (or never scanned) repositories is one Query of the org's partition
/// (the org's versions item, then the repositories with the copies of their latest scans),
/// whatever `n`, and no repository's own partition, once the process holds the org's inputs
/// at their counts (the first page's reads warm them). A repository without a copy (stored
/// before copies were kept) costs one Query of its own partition.
async fn a_page_is_one_query_of_the_org_partition(backend: Backend) {
    use compliance_store::{keys, WriteOp};
    use tower::ServiceExt;
    let app = spawn_app_on(backend).await;
    let (ids, leaky_scan, _) = org_with_repos(&app).await;
    for i in 0..3 {
        repo_of(&app, &app.admin_key, &format!("more-{i}")).await;
    }
    let counting = std::sync::Arc::new(Intercepted {
        inner: app.state.store.clone(),
        hook: Reads::default(),
    });
    let org = compliance_domain::ids::OrgId::parse(&app.org_id).unwrap();
    let org_pk = format!("ORG#{org}");

    let mut state = app.state.clone();
    state.store = counting.clone();
    let router = scores_api::app(state);
    let page = |limit: usize| {
        let router = router.clone();
        let counting = counting.clone();
        let key = app.admin_key.clone();
        async move {
            counting.hook.0.lock().unwrap().clear();
            let req = axum::http::Request::get(format!("/api/compliance/summary?limit={limit}"))
                .header("X-API-Key", &key)
                .body(axum::body::Body::empty())
                .unwrap();
            let resp = router.oneshot(req).await.unwrap();
            assert_eq!(resp.status(), 200);
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            let body: Value = serde_json::from_slice(&body).unwrap();
            let reads = counting.hook.0.lock().unwrap().clone();
            (body, reads)
        }
    };
    // The first call warms the API-key cache and the org's inputs; the counted ones follow.
    page(1).await;
    for limit in [1, 2, 6] {
        let (body, reads) = page(limit).await;
        assert_eq!(body["page_repos"], limit, "{body}");
        let reads: Vec<&String> = reads
            .iter()
            .filter(|pk| !pk.starts_with("KEYHASH#"))
            .collect();
        assert_eq!(reads, vec![&org_pk], "limit {limit}");
    }
    let (all, _) = page(6).await;
    assert_eq!(all["repos"][0]["scan_id"], leaky_scan.as_str());

    // A scanned repository without a copy (as stored before copies were kept) is read from its
    // own partition: one Query more, and the same line.
    let leaky = compliance_domain::ids::RepoId::new(ids[0]).unwrap();
    app.store()
        .write(vec![WriteOp::delete(keys::repo_latest_scan(&org, leaky))])
        .await
        .unwrap();
    let (body, reads) = page(6).await;
    assert_eq!(body["repos"], all["repos"]);
    let reads: Vec<&String> = reads
        .iter()
        .filter(|pk| !pk.starts_with("KEYHASH#"))
        .collect();
    let own = format!("{org_pk}#REPO#{:010}", ids[0]);
    assert_eq!(reads, vec![&org_pk, &own]);
    // Its next scan writes the copy again.
    let next = scan_of(
        &app,
        &app.admin_key,
        ids[0],
        "gitleaks/gitleaks-8_edd-core_noresults.sarif",
    )
    .await;
    let (body, reads) = page(6).await;
    assert_eq!(body["repos"][0]["scan_id"], next.as_str());
    let reads: Vec<&String> = reads
        .iter()
        .filter(|pk| !pk.starts_with("KEYHASH#"))
        .collect();
    assert_eq!(reads, vec![&org_pk]);
    // GET /api/repos lists repositories only, in pages of `limit`.
    let listed = app.get("/api/repos?limit=4").await.body;
    let listed = listed["repos"].as_array().unwrap();
    assert_eq!(listed.len(), 4);
    for r in listed {
        assert!(r.get("scan").is_none() && r.get("version").is_none(), "{r}");
    }
}

#[tokio::test]
async fn a_page_is_one_query_of_the_org_partition_on_the_embedded_store() {
    a_page_is_one_query_of_the_org_partition(Backend::Embedded).await;
}

#[tokio::test]
async fn a_page_is_one_query_of_the_org_partition_on_dynamodb() {
    a_page_is_one_query_of_the_org_partition(Backend::Dynamo).await;
}

/// A native report with its own content (so no two are duplicates).
fn native(n: usize, finished: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let started = finished - chrono::Duration::minutes(5);
    serde_json::to_vec(&json!({
        "tool": format!("ci-bundle-{n}"), "started_at": started.to_rfc3339(),
        "finished_at": finished.to_rfc3339(), "covered": ["secrets"], "findings": [],
    }))
    .unwrap()
}

async fn upload(app: &TestApp, repo: u64, body: Vec<u8>) -> String {
    let resp = app
        .post_bytes(
            &format!("/api/repos/{repo}/scans"),
            "application/json",
            body,
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.body);
    resp.body["scan_id"].as_str().unwrap().to_string()
}

/// The scan the score endpoint scores, the summary's and the stored copy's: the same one.
async fn latest_everywhere(app: &TestApp, repo: u64) -> String {
    let score = app.get(&format!("/api/compliance/score/{repo}")).await.body;
    let scored = score["scan_id"].as_str().expect("a scan").to_string();
    let page = summary(app, &app.admin_key, "?limit=100").await;
    let line = page["repos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["repo_id"] == repo)
        .unwrap();
    assert_eq!(line["scan_id"], scored.as_str());
    let org = compliance_domain::ids::OrgId::parse(&app.org_id).unwrap();
    let id = compliance_domain::ids::RepoId::new(repo).unwrap();
    let copy = app
        .store()
        .get(&compliance_store::keys::repo_latest_scan(&org, id))
        .await
        .unwrap()
        .expect("a copy");
    assert_eq!(copy["latest"]["scan_id"], scored.as_str());
    assert_eq!(copy["entity"], "repo_latest_scan");
    scored
}

/// Scans committed out of order (an older one after a newer one) or at once leave the newest
/// (the greatest id, as the score endpoint picks it) as the copy.
async fn the_copy_is_the_newest_scan(backend: Backend) {
    use compliance_domain::time::ManualClock;
    let start: chrono::DateTime<chrono::Utc> = "2031-02-28T12:00:00Z".parse().unwrap();
    let clock = std::sync::Arc::new(ManualClock::new(start));
    let app =
        test_support::spawn_app_with(test_support::store_for(backend).await, Some(clock.clone()))
            .await;
    let repo = repo_of(&app, &app.admin_key, "busy-service").await;
    let hour = chrono::Duration::hours(1);

    let newer = upload(&app, repo, native(0, start - hour)).await;
    assert_eq!(latest_everywhere(&app, repo).await, newer);
    // A scan stamped earlier (a slow ingest) commits after it: the copy stays.
    clock.set(start - hour);
    let older = upload(&app, repo, native(1, start - hour * 2)).await;
    assert!(older < newer);
    assert_eq!(latest_everywhere(&app, repo).await, newer);

    // Six at once: every write races for the copy; the greatest id wins.
    clock.set(start + hour);
    let sent: Vec<_> = (2..8)
        .map(|n| {
            let req = app
                .request(Method::POST, &format!("/api/repos/{repo}/scans"))
                .header("X-API-Key", &app.admin_key)
                .header("Content-Type", "application/json")
                .body(native(n, start));
            tokio::spawn(req.send())
        })
        .collect();
    let mut ids = Vec::new();
    for sent in sent {
        let resp = sent.await.unwrap().unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let body: Value = resp.json().await.unwrap();
        ids.push(body["scan_id"].as_str().unwrap().to_string());
    }
    let newest = ids.iter().max().unwrap().clone();
    assert_eq!(latest_everywhere(&app, repo).await, newest);
    let listed = app
        .get(&format!("/api/repos/{repo}/scans?limit=100"))
        .await
        .body;
    assert_eq!(listed["scans"].as_array().unwrap().len(), 8, "{listed}");
}

#[tokio::test]
async fn the_copy_is_the_newest_scan_on_the_embedded_store() {
    the_copy_is_the_newest_scan(Backend::Embedded).await;
}

#[tokio::test]
async fn the_copy_is_the_newest_scan_on_dynamodb() {
    the_copy_is_the_newest_scan(Backend::Dynamo).await;
}

/// Refuses, once set, any write that puts an item of this entity.
#[derive(Default)]
struct Refuse(std::sync::Mutex<Option<&'static str>>);

impl Intercept for Refuse {
    fn write(&self, ops: &[compliance_store::WriteOp]) -> Result<(), compliance_store::StoreError> {
        let Some(entity) = *self.0.lock().unwrap() else {
            return Ok(());
        };
        let refused = ops.iter().any(|op| {
            matches!(op, compliance_store::WriteOp::Put { item, .. } if item.get("entity") == Some(&json!(entity)))
        });
        if refused {
            return Err(compliance_store::StoreError::Backend(
                "ProvisionedThroughputExceededException".into(),
            ));
        }
        Ok(())
    }
}

/// The copy is written in the scan's own write: refusing either refuses both.
#[tokio::test]
async fn the_copy_is_written_with_the_scan() {
    let (store, dir) = test_support::embedded_store();
    let refusing = std::sync::Arc::new(Intercepted {
        inner: store.clone(),
        hook: Refuse::default(),
    });
    let stores = test_support::TestStore {
        store: refusing.clone(),
        feed: Some(store),
        dir: Some(dir),
    };
    let app = test_support::spawn_app_with(stores, None).await;
    let repo = repo_of(&app, &app.admin_key, "flaky-table").await;
    let first = upload(&app, repo, native(0, chrono::Utc::now())).await;
    for entity in ["scan", "repo_latest_scan"] {
        *refusing.hook.0.lock().unwrap() = Some(entity);
        let resp = app
            .send(
                app.request(Method::POST, &format!("/api/repos/{repo}/scans"))
                    .header("X-API-Key", &app.admin_key)
                    .header("Content-Type", "application/json")
                    .body(native(1, chrono::Utc::now())),
            )
            .await;
        assert_eq!(resp.status, StatusCode::INTERNAL_SERVER_ERROR, "{entity}");
        *refusing.hook.0.lock().unwrap() = None;
        assert_eq!(latest_everywhere(&app, repo).await, first, "{entity}");
        let listed = app.get(&format!("/api/repos/{repo}/scans")).await.body;
        assert_eq!(
            listed["scans"].as_array().unwrap().len(),
            1,
            "{entity}: {listed}"
        );
    }
}
