//! The rescoring handler fed with DynamoDB stream event JSON (`events/rescore/`), as Lambda
//! delivers it: a stored scan gets exactly one trend point, redelivery changes nothing, other
//! items are ignored, and a record that cannot be processed is reported by sequence number.

use aws_lambda_events::event::dynamodb::Event;
use compliance_domain::identity::ActorKind;
use compliance_domain::ids::{OrgId, RepoId, ScanId};
use compliance_domain::plans::Plan;
use compliance_domain::time::rfc3339;
use compliance_services::audit_log::AuditContext;
use compliance_services::orgs::{self, Org};
use compliance_services::{repos, trends};
use compliance_store::Store;
use test_support::embedded_store;

fn event(name: &str, org: &str) -> Event {
    let path = format!("{}/../events/rescore/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("ORG_ID_PLACEHOLDER", org);
    serde_json::from_str(&text).expect("a DynamoDB stream event")
}

async fn org_with_repo(store: &dyn Store) -> OrgId {
    let org = Org::new("Acme", Plan::Enterprise);
    orgs::create(store, &org, (ActorKind::Operator, "tests"), 400, None)
        .await
        .unwrap();
    let ctx = AuditContext::system(&org.id, ActorKind::Operator, "tests", 400);
    repos::create(store, &ctx, "checkout-service", None, vec![])
        .await
        .unwrap();
    org.id
}

async fn points(store: &dyn Store, org: &OrgId) -> Vec<trends::TrendPoint> {
    let since = chrono::DateTime::UNIX_EPOCH;
    let repo = RepoId::new(1).unwrap();
    trends::window(store, org, repo, since)
        .await
        .unwrap()
        .expect("the repository exists")
        .points
}

#[tokio::test]
async fn a_stored_scan_gets_one_trend_point() {
    let (store, _dir) = embedded_store();
    let org = org_with_repo(store.as_ref()).await;
    let response = rescore::handle(store.as_ref(), event("scan-inserted.json", org.as_str())).await;
    assert!(response.batch_item_failures.is_empty());
    let written = points(store.as_ref(), &org).await;
    assert_eq!(written.len(), 1);
    let point = &written[0];
    assert_eq!(
        point.scan_id.as_ref().map(ScanId::as_str),
        Some("0019a6f0c1e2f3a4b5c6d")
    );
    assert_eq!(rfc3339(point.at), "2026-11-22T09:14:58.000000Z");
    assert_eq!(
        point.frameworks.len(),
        6,
        "every framework the enterprise org has"
    );
    assert!(
        point.frameworks["soc2"].unwrap() < 100,
        "three secrets findings cost SOC 2"
    );

    // Redelivered (as Lambda does after a partial failure): nothing changes.
    let again = rescore::handle(store.as_ref(), event("scan-inserted.json", org.as_str())).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(points(store.as_ref(), &org).await, written);
}

#[tokio::test]
async fn other_items_are_ignored_and_failures_are_reported() {
    let (store, _dir) = embedded_store();
    let org = org_with_repo(store.as_ref()).await;
    // An audit entry, then the scan: only the scan counts.
    let response = rescore::handle(store.as_ref(), event("mixed-batch.json", org.as_str())).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(points(store.as_ref(), &org).await.len(), 1);

    // A scan of an org that does not exist cannot be scored: reported, not dropped.
    let response = rescore::handle(store.as_ref(), event("mixed-batch.json", "no-such-org")).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap())
        .collect();
    assert_eq!(failed, vec!["4421584500000000017450439093".to_string()]);
}
