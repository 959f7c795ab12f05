//! Concurrent writers to one org's settings, on both adapters: no update is lost, and every
//! applied change has exactly one audit entry. Writers of different frameworks never contend
//! (each framework's selection is its own item); fifty writers of the one framework selection
//! are serialised by optimistic writes and retries, and every writer's change is one link of
//! one unbroken chain of before → after. A framework's list emptied and refilled behind a
//! writer's back is never mistaken for the list it read.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use compliance_domain::identity::ActorKind;
use compliance_domain::ids::OrgId;
use compliance_domain::plans::Plan;
use compliance_services::audit_log::{AuditAction, AuditContext};
use compliance_services::orgs::Org;
use compliance_services::settings::{self, Applied, Change, OrgSettings};
use compliance_store::{Item, Key, Page, Query, Store, StoreError, WriteOp};
use reqwest::StatusCode;
use serde_json::{json, Value};
use test_support::{spawn_app_on, store_for, Backend, TestApp};

const WRITERS: usize = 50;
/// How many times a writer of the selection sends its change again after a 409.
const MAX_RETRIES: usize = 20;

async fn join_all(tasks: Vec<tokio::task::JoinHandle<StatusCode>>) -> Vec<StatusCode> {
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// A list of framework keys in one order, whatever order it was sent or stored in.
fn sorted(keys: &Value) -> Vec<String> {
    let mut keys: Vec<String> = keys
        .as_array()
        .unwrap_or_else(|| panic!("a list of keys: {keys}"))
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    keys.sort();
    keys
}

async fn entries(app: &TestApp, action: &str) -> Vec<Value> {
    let body = app
        .get(&format!("/api/audit-logs?action={action}&limit=100"))
        .await
        .body;
    body["entries"].as_array().unwrap().clone()
}

/// Fifty writers, each marking a control of its own framework Not Applicable at once.
async fn writers_of_different_frameworks(backend: Backend) {
    let app = Arc::new(spawn_app_on(backend).await);
    let mut frameworks: Vec<(String, String)> = [
        ("soc2", "CC8.1"),
        ("owasp", "A01:2021"),
        ("iso27001", "A.8.24"),
        ("pcidss", "6.2.4"),
        ("hipaa", "164.312(b)"),
        ("nist_csf", "ID.RA-01"),
    ]
    .iter()
    .map(|(f, c)| (f.to_string(), c.to_string()))
    .collect();
    for n in frameworks.len()..WRITERS {
        let key = format!("team_{n:02}");
        let body = json!({"key": key, "name": key, "controls": [
            {"id": "T-1", "name": "one", "check_type": "secrets"},
            {"id": "T-2", "name": "two", "check_type": "sca_vulns"},
        ]});
        let resp = app.post("/api/compliance/custom-frameworks", body).await;
        assert_eq!(resp.status, StatusCode::OK);
        frameworks.push((key, "T-2".into()));
    }
    let tasks = frameworks
        .iter()
        .cloned()
        .map(|(fw, control)| {
            let app = app.clone();
            tokio::spawn(async move {
                let path = format!("/api/compliance/frameworks/{fw}/controls");
                app.put(&path, json!({"disabled": [control]})).await.status
            })
        })
        .collect();
    let statuses = join_all(tasks).await;
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    println!("{backend:?}: {WRITERS} writers of different frameworks: {conflicts} × 409");
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    for (fw, control) in &frameworks {
        let body = app
            .get(&format!("/api/compliance/frameworks/{fw}/controls"))
            .await
            .body;
        let disabled: Vec<&Value> = body["controls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["disabled"] == true)
            .map(|c| &c["id"])
            .collect();
        assert_eq!(disabled, vec![&json!(control)], "{fw} kept its change");
    }
    assert_eq!(
        entries(&app, "COMPLIANCE_CONTROLS_UPDATED").await.len(),
        WRITERS
    );
}

/// Fifty writers of the framework selection (one item) at once, each with its own selection.
async fn writers_of_one_selection(backend: Backend) {
    let app = Arc::new(spawn_app_on(backend).await);
    let builtin = ["soc2", "iso27001", "owasp", "pcidss", "hipaa", "nist_csf"];
    // Fifty distinct non-empty subsets of the built-in frameworks.
    let selections: Vec<Vec<&str>> = (1..=WRITERS)
        .map(|mask| {
            builtin
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, k)| *k)
                .collect()
        })
        .collect();
    // A writer answered 409 (the service's own retries exhausted) sends its change again, as a
    // client would: every writer's change must get in.
    let tasks: Vec<_> = selections
        .iter()
        .cloned()
        .map(|keys| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut conflicts = 0;
                loop {
                    let resp = app
                        .put("/api/compliance/frameworks/enabled", json!({"keys": keys}))
                        .await;
                    match resp.status {
                        StatusCode::OK => return conflicts,
                        StatusCode::CONFLICT if conflicts < MAX_RETRIES => conflicts += 1,
                        other => panic!("{keys:?}: {other} after {conflicts} × 409"),
                    }
                }
            })
        })
        .collect();
    let mut conflicts = 0;
    for t in tasks {
        conflicts += t.await.unwrap();
    }
    println!("{backend:?}: {WRITERS} writers of one selection: {conflicts} × 409, each retried");
    // No lost update: one change per writer, chained from the initial selection to the final
    // one, each starting from exactly what the one before it left.
    let logged = entries(&app, "COMPLIANCE_FRAMEWORKS_UPDATED").await;
    assert_eq!(logged.len(), WRITERS, "one audit entry per writer");
    let mut next: HashMap<String, Value> = HashMap::new();
    for e in &logged {
        let before = e["metadata"]["before"]["enabled_keys"].to_string();
        assert!(
            next.insert(
                before.clone(),
                e["metadata"]["after"]["enabled_keys"].clone()
            )
            .is_none(),
            "two changes applied to the same state {before}: one was lost"
        );
    }
    let mut state = Value::Null;
    let mut chained = Vec::new();
    for _ in 0..WRITERS {
        state = next
            .remove(&state.to_string())
            .unwrap_or_else(|| panic!("the chain breaks after {state}"));
        chained.push(sorted(&state));
    }
    chained.sort();
    let mut wanted: Vec<Vec<String>> = selections.iter().map(|keys| sorted(&json!(keys))).collect();
    wanted.sort();
    assert_eq!(chained, wanted, "each writer's selection applied once");
    let stored = app.get("/api/compliance/frameworks").await.body["enabled_keys"].clone();
    assert_eq!(stored, state, "the last applied change is what is stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_store_different_frameworks() {
    writers_of_different_frameworks(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_local_different_frameworks() {
    writers_of_different_frameworks(Backend::Dynamo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_store_one_selection() {
    writers_of_one_selection(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_local_one_selection() {
    writers_of_one_selection(Backend::Dynamo).await;
}

/// The stale writer's view of the store: its first write waits until two other writers have
/// emptied the framework's list and refilled it, then goes on; what that write answered is
/// kept for the test.
struct StaleWriter {
    inner: Arc<dyn Store>,
    org: OrgId,
    interleaved: AtomicBool,
    first_write: Mutex<Option<Result<(), String>>>,
}

#[async_trait]
impl Store for StaleWriter {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }

    async fn get_many(
        &self,
        keys: &[Key],
        projection: Option<&compliance_store::Projection>,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        self.inner.get_many(keys, projection).await
    }

    fn instance(&self) -> u64 {
        self.inner.instance()
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if self.interleaved.swap(true, Ordering::SeqCst) {
            return self.inner.write(ops).await;
        }
        let others = self.inner.as_ref();
        assert_eq!(set_soc2(others, &self.org, &[]).await, Applied::Changed);
        assert_eq!(
            set_soc2(others, &self.org, &["CC7.1"]).await,
            Applied::Changed
        );
        let result = self.inner.write(ops).await;
        *self.first_write.lock().unwrap() = Some(match &result {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { .. }) => Err("condition failed".into()),
            Err(e) => Err(e.to_string()),
        });
        result
    }

    async fn increment(&self, key: &Key, attr: &str, by: i64) -> Result<i64, StoreError> {
        self.inner.increment(key, attr, by).await
    }
}

/// A change of the settings alone: nothing else written, no metadata.
fn settings_only(next: OrgSettings) -> Result<Change<()>, Infallible> {
    Ok(Change {
        next,
        also: Vec::new(),
        metadata: json!({}),
        outcome: (),
    })
}

/// Sets SOC 2's disabled controls through the settings service, as the controls endpoint does.
async fn set_soc2(store: &dyn Store, org: &OrgId, ids: &[&str]) -> Applied {
    let ctx = AuditContext::system(org, ActorKind::Operator, "tests", 400);
    let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    let (_, applied) = settings::update(
        store,
        &ctx,
        AuditAction::ComplianceControlsUpdated,
        |current| {
            let mut next = current.clone();
            next.set_disabled("soc2", ids.clone());
            settings_only(next)
        },
    )
    .await
    .unwrap();
    applied
}

/// A framework's list emptied and refilled between a writer's read and its write (ABA): the
/// refilled list must not carry the version the writer read, so its conditional write fails
/// and its change is re-applied to what the others left, losing neither.
async fn a_list_emptied_and_refilled_is_not_the_list_read(backend: Backend) {
    let stores = store_for(backend).await;
    let org = Org::new("ABA", Plan::Enterprise).id;
    assert_eq!(
        set_soc2(stores.store.as_ref(), &org, &["CC8.1"]).await,
        Applied::Changed
    );
    let stale = StaleWriter {
        inner: stores.store.clone(),
        org: org.clone(),
        interleaved: AtomicBool::new(false),
        first_write: Mutex::new(None),
    };
    let ctx = AuditContext::system(&org, ActorKind::Operator, "stale writer", 400);
    let mut read = Vec::new();
    let (_, applied) = settings::update(
        &stale,
        &ctx,
        AuditAction::ComplianceControlsUpdated,
        |current| {
            let mut ids = current.disabled("soc2").to_vec();
            read.push(ids.clone());
            ids.push("CC6.1".into());
            let mut next = current.clone();
            next.set_disabled("soc2", ids);
            settings_only(next)
        },
    )
    .await
    .unwrap();
    assert_eq!(applied, Applied::Changed);
    assert_eq!(
        stale.first_write.lock().unwrap().clone(),
        Some(Err("condition failed".to_string())),
        "the write conditioned on the version read before the list was emptied"
    );
    assert_eq!(read, vec![vec!["CC8.1"], vec!["CC7.1"]], "re-applied once");
    let stored = settings::load(stores.store.as_ref(), &org).await.unwrap();
    assert_eq!(stored.disabled("soc2"), ["CC7.1", "CC6.1"]);

    // An emptied list reads as empty, and emptying it again writes nothing.
    assert_eq!(
        set_soc2(stores.store.as_ref(), &org, &[]).await,
        Applied::Changed
    );
    let stored = settings::load(stores.store.as_ref(), &org).await.unwrap();
    assert!(stored.disabled_controls.is_empty(), "{stored:?}");
    assert_eq!(
        set_soc2(stores.store.as_ref(), &org, &[]).await,
        Applied::Unchanged
    );
}

#[tokio::test]
async fn embedded_store_emptied_and_refilled() {
    a_list_emptied_and_refilled_is_not_the_list_read(Backend::Embedded).await;
}

#[tokio::test]
async fn dynamodb_local_emptied_and_refilled() {
    a_list_emptied_and_refilled_is_not_the_list_read(Backend::Dynamo).await;
}
