//! The daily snapshot: driven by the EventBridge scheduled event's shape, it writes one point per
//! scanned repository and day, across orgs and shards, resumes where a cut-off run stopped, and
//! a second run of the day writes nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use compliance_domain::identity::ActorKind;
use compliance_domain::ids::{OrgId, RepoId};
use compliance_domain::ingest::{summarise, NormalisedScan, Signals};
use compliance_domain::plans::Plan;
use compliance_services::audit_log::AuditContext;
use compliance_services::orgs::{self, Org};
use compliance_services::repos::{self, Created};
use compliance_services::scans::{self, NewScan, ScanFormat};
use compliance_services::trends;
use compliance_store::Store;
use test_support::embedded_store;
use trend_snapshot::{run, Limits};

async fn org_with_repos(store: &dyn Store, repos_count: u64, scanned: u64) -> OrgId {
    let org = Org::new("Acme", Plan::Team);
    orgs::create(store, &org, (ActorKind::Operator, "tests"), 400, None)
        .await
        .unwrap();
    let ctx = AuditContext::system(&org.id, ActorKind::Operator, "tests", 400);
    for i in 0..repos_count {
        let Created::Repo(repo) = repos::create(store, &ctx, &format!("repo-{i}"), None, vec![])
            .await
            .unwrap()
        else {
            panic!("name taken")
        };
        if i < scanned {
            let summary = summarise(&NormalisedScan::default(), &Signals::default());
            let new = NewScan {
                repo_id: repo.repo_id,
                format: ScanFormat::Native,
                content_sha256: format!("{i:064}"),
                idempotency_key: None,
                scanned_at: None,
                summary,
                finding_keys: Default::default(),
                also: None,
            };
            scans::store_scan(store, &ctx, new).await.unwrap();
        }
    }
    org.id
}

async fn point_count(store: &dyn Store, org: &OrgId, repos_count: u64) -> usize {
    let since = chrono::Utc::now() - chrono::Duration::days(2);
    let mut n = 0;
    for id in 1..=repos_count {
        let repo = RepoId::new(id).unwrap();
        n += trends::window(store, org, repo, since)
            .await
            .unwrap()
            .expect("the repository exists")
            .points
            .len();
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_point_per_scanned_repository_and_day_resumably() {
    let (store, _dir) = embedded_store();
    let store: Arc<dyn Store> = store;
    let a = org_with_repos(store.as_ref(), 12, 10).await;
    let b = org_with_repos(store.as_ref(), 5, 5).await;

    let fixture = format!(
        "{}/../events/trend-snapshot/scheduled.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: EventBridgeEvent =
        serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    assert_eq!(event.detail_type, "Scheduled Event");

    let now = chrono::Utc::now();
    let far = Instant::now() + Duration::from_secs(600);
    // Cut off after every page: each run continues where the last one stopped.
    let small = Limits {
        concurrency: 3,
        page: 2,
        max_pages: 1,
    };
    let mut runs = 0;
    loop {
        let progress = run(store.clone(), now, far, small).await.unwrap();
        runs += 1;
        if progress.complete {
            assert_eq!(progress.repos_seen, 17, "every indexed repository, once");
            assert_eq!(
                progress.points_written, 15,
                "never-scanned repositories have no trend"
            );
            break;
        }
        assert!(runs < 200, "the snapshot does not finish");
    }
    assert!(runs > 1, "it was resumed");
    assert_eq!(point_count(store.as_ref(), &a, 12).await, 10);
    assert_eq!(point_count(store.as_ref(), &b, 5).await, 5);

    // The day is done: another run writes nothing; so does a fresh run over the same day.
    let again = run(store.clone(), now, far, Limits::default())
        .await
        .unwrap();
    assert!(again.complete);
    assert_eq!(point_count(store.as_ref(), &a, 12).await, 10);
    let next_day = now + chrono::Duration::days(1);
    let tomorrow = run(store.clone(), next_day, far, Limits::default())
        .await
        .unwrap();
    assert_eq!(tomorrow.points_written, 15, "a new day, a new point each");
}
