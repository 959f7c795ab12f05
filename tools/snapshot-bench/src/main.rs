//! The daily snapshot's throughput against DynamoDB Local (scripts/bench-snapshot.sh).
//!
//! ```text
//! snapshot-bench [--repos 10000] [--orgs 50] [--concurrency 32] [--seed-concurrency 32] [--runs 1]
//! ```
//!
//! `snapshot-bench --create-table NAME` only creates that (empty) table.
//!
//! Needs `DYNAMODB_ENDPOINT` (and the usual test credentials in the environment). Creates a
//! fresh table, seeds `--repos` repositories spread over `--orgs` orgs (enterprise plan: every
//! built-in framework scored) through the services the API uses (repository creation, then
//! one stored scan each, summarised from real SARIF samples), then runs `trend_snapshot::run`
//! over the table to completion (`--runs` times: the snapshots of that many days), through a store that counts every call. Prints one JSON
//! line: repositories/s, and the reads and writes per repository, split by kind, e.g.
//!
//! ```text
//! {"repos":10000,"seconds":6.1,"repos_per_s":1640,"reads_per_repo":1.02,"writes_per_repo":1.0,...}
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use compliance_domain::identity::ActorKind;
use compliance_domain::ingest::{parse_sarif, summarise, NormalisedScan, ScanSummary, Signals};
use compliance_domain::plans::Plan;
use compliance_services::audit_log::AuditContext;
use compliance_services::orgs::{self, Org};
use compliance_services::repos::{self, Created};
use compliance_services::scans::{self, NewScan, ScanFormat};
use compliance_store::dynamo::DynamoStore;
use compliance_store::{Item, Key, Page, Query, Store, StoreError, WriteOp};
use serde_json::json;
use trend_snapshot::Limits;

/// Every call to the store, counted.
#[derive(Default)]
struct Counts {
    get: AtomicU64,
    query: AtomicU64,
    write_calls: AtomicU64,
    write_items: AtomicU64,
    conditional_items: AtomicU64,
    increment: AtomicU64,
}

impl Counts {
    fn snapshot(&self) -> [u64; 6] {
        [
            &self.get,
            &self.query,
            &self.write_calls,
            &self.write_items,
            &self.conditional_items,
            &self.increment,
        ]
        .map(|c| c.load(Ordering::Relaxed))
    }
}

struct Counting {
    inner: Arc<dyn Store>,
    counts: Arc<Counts>,
}

#[async_trait]
impl Store for Counting {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.counts.get.fetch_add(1, Ordering::Relaxed);
        self.inner.get(key).await
    }

    async fn get_many(
        &self,
        keys: &[Key],
        projection: Option<&compliance_store::Projection>,
    ) -> Result<Vec<Option<Item>>, StoreError> {
        self.counts.get.fetch_add(1, Ordering::Relaxed);
        self.inner.get_many(keys, projection).await
    }

    fn instance(&self) -> u64 {
        self.inner.instance()
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.counts.query.fetch_add(1, Ordering::Relaxed);
        self.inner.query(query).await
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let conditional = ops
            .iter()
            .filter(|op| match op {
                WriteOp::Put { condition, .. } | WriteOp::Delete { condition, .. } => {
                    condition.is_some()
                }
                WriteOp::Check { .. } => true,
                WriteOp::Add { .. } => false,
            })
            .count() as u64;
        self.counts.write_calls.fetch_add(1, Ordering::Relaxed);
        self.counts
            .write_items
            .fetch_add(ops.len() as u64, Ordering::Relaxed);
        self.counts
            .conditional_items
            .fetch_add(conditional, Ordering::Relaxed);
        self.inner.write(ops).await
    }

    async fn increment(&self, key: &Key, attr: &str, by: i64) -> Result<i64, StoreError> {
        self.counts.increment.fetch_add(1, Ordering::Relaxed);
        self.inner.increment(key, attr, by).await
    }
}

struct Args {
    repos: u64,
    orgs: u64,
    concurrency: usize,
    seed_concurrency: usize,
    runs: u64,
    create_table: Option<String>,
}

fn args() -> Args {
    let mut args = Args {
        repos: 10_000,
        orgs: 50,
        concurrency: Limits::default().concurrency,
        seed_concurrency: 32,
        runs: 1,
        create_table: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        let number = || -> u64 {
            value
                .parse()
                .unwrap_or_else(|_| panic!("{flag} {value}: expected a number"))
        };
        match flag.as_str() {
            "--repos" => args.repos = number(),
            "--orgs" => args.orgs = number().max(1),
            "--concurrency" => args.concurrency = number().max(1) as usize,
            "--seed-concurrency" => args.seed_concurrency = number().max(1) as usize,
            "--runs" => args.runs = number().max(1),
            "--create-table" => args.create_table = Some(value),
            _ => panic!("unknown argument {flag} (see the doc comment of tools/snapshot-bench)"),
        }
    }
    args
}

/// Scan summaries of real reports, so that scoring has findings of several check types to weigh.
fn summaries() -> Vec<ScanSummary> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/sarif-samples");
    let samples = [
        "semgrep/semgrep_dataflow_traces.sarif",
        "gitleaks/gitleaks-8_provenancepass_3results.sarif",
        "bandit/bandit-1.8.6_open-hostfactory.sarif",
        "codeql/codeql-2.20.4_javascript_smithy.sarif",
    ];
    let found: Vec<ScanSummary> = samples
        .iter()
        .filter_map(|s| std::fs::read(dir.join(s)).ok())
        .filter_map(|bytes| parse_sarif(&bytes).ok())
        .map(|scan| summarise(&scan, &Signals::default()))
        .collect();
    if found.is_empty() {
        vec![summarise(&NormalisedScan::default(), &Signals::default())]
    } else {
        found
    }
}

async fn seed(store: Arc<dyn Store>, args: &Args) -> Result<u64, StoreError> {
    let summaries = Arc::new(summaries());
    let per_org = args.repos.div_ceil(args.orgs);
    let mut tasks = tokio::task::JoinSet::new();
    let mut seeded = 0u64;
    let mut created = 0u64;
    for o in 0..args.orgs {
        let org = Org::new(&format!("Bench org {o}"), Plan::Enterprise);
        orgs::create(
            store.as_ref(),
            &org,
            (ActorKind::Operator, "bench"),
            400,
            None,
        )
        .await?;
        let ctx = Arc::new(AuditContext::system(
            &org.id,
            ActorKind::Operator,
            "bench",
            400,
        ));
        for r in 0..per_org {
            if created == args.repos {
                break;
            }
            created += 1;
            if tasks.len() >= args.seed_concurrency {
                seeded += tasks.join_next().await.expect("a task").expect("joined")?;
            }
            let (store, ctx, summaries) = (store.clone(), ctx.clone(), summaries.clone());
            tasks.spawn(async move {
                let Created::Repo(repo) =
                    repos::create(store.as_ref(), &ctx, &format!("repo-{r}"), None, vec![]).await?
                else {
                    return Err(StoreError::Invalid("repository name taken".into()));
                };
                let new = NewScan {
                    repo_id: repo.repo_id,
                    format: ScanFormat::Sarif,
                    content_sha256: format!("{:064x}", u128::from(repo.repo_id.get())),
                    idempotency_key: None,
                    scanned_at: None,
                    summary: summaries[(r as usize) % summaries.len()].clone(),
                    finding_keys: Default::default(),
                    also: None,
                };
                scans::store_scan(store.as_ref(), &ctx, new).await?;
                Ok(1u64)
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        seeded += done.expect("joined")?;
    }
    Ok(seeded)
}

async fn snapshot(
    dynamo: Arc<dyn Store>,
    args: &Args,
    now: chrono::DateTime<chrono::Utc>,
    seed_seconds: f64,
) -> Result<(), StoreError> {
    let counts = Arc::new(Counts::default());
    let store: Arc<dyn Store> = Arc::new(Counting {
        inner: dynamo,
        counts: counts.clone(),
    });
    let limits = Limits {
        concurrency: args.concurrency,
        ..Limits::default()
    };
    let started = Instant::now();
    let progress = trend_snapshot::run(
        store,
        now,
        Instant::now() + Duration::from_secs(3600),
        limits,
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    let [get, query, write_calls, write_items, conditional, increment] = counts.snapshot();
    let repos = progress.repos_seen.max(1) as f64;
    let per = |n: u64| (n as f64 / repos * 1000.0).round() / 1000.0;
    println!(
        "{}",
        json!({
            "repos": progress.repos_seen,
            "points_written": progress.points_written,
            "complete": progress.complete,
            "orgs": args.orgs,
            "concurrency": args.concurrency,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "repos_per_s": (progress.repos_seen as f64 / seconds).round(),
            "reads_per_repo": per(get + query),
            "writes_per_repo": per(write_calls + increment),
            "gets": get,
            "queries": query,
            "write_calls": write_calls,
            "written_items": write_items,
            "conditional_items": conditional,
            "increments": increment,
            "seed_seconds": (seed_seconds * 10.0).round() / 10.0,
        })
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args();
    let endpoint = std::env::var("DYNAMODB_ENDPOINT")
        .map_err(|_| "DYNAMODB_ENDPOINT is not set (scripts/bench-snapshot.sh sets it)")?;
    let client = DynamoStore::client_from_env(Some(&endpoint)).await;
    if let Some(name) = &args.create_table {
        // scripts/bench.sh: the table the functions' init measurement names.
        compliance_store::table::create_table(&client, name).await?;
        return Ok(());
    }
    let table = format!("snapshot-bench-{}", std::process::id());
    compliance_store::table::create_table(&client, &table).await?;
    let dynamo: Arc<dyn Store> = Arc::new(DynamoStore::new(client, table));

    let started = Instant::now();
    let seeded = seed(dynamo.clone(), &args).await?;
    let seed_seconds = started.elapsed().as_secs_f64();
    eprintln!("seeded {seeded} repositories with a scan each in {seed_seconds:.1} s");

    for run in 0..args.runs {
        // Each run is the snapshot of another day (the next one), over the same repositories.
        let now = chrono::Utc::now() + chrono::Duration::days(run as i64);
        snapshot(dynamo.clone(), &args, now, seed_seconds).await?;
    }
    Ok(())
}
