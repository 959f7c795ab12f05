//! The local stand-in for DynamoDB Streams and EventBridge: the same handlers as in AWS, fed
//! with the same event shapes, in process. The embedded store records every committed change in
//! its change feed within the same transaction (see `compliance_store::change_feed`); one
//! consumer per stream function reads the feed from its own checkpoint, applies the function's
//! event filter and batch size as the template does, and hands the batch to the handler as a
//! DynamoDB stream event. A crash between a commit and its delivery loses nothing: the consumer
//! starts again from its checkpoint. A timer runs the daily snapshot.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use compliance_domain::time::Clock;
use compliance_events::deliver::Deliverer;
use compliance_services::audit_log::AuditLogItem;
use compliance_services::scans::ScanRecord;
use compliance_store::change_feed::RETENTION_SECONDS;
use compliance_store::record::{Record, ENTITY};
use compliance_store::stream::{self, DynamoDbEventResponse, Event};
use compliance_store::{Change, ChangeFeed, ChangeKind, Store, StoreError};
use serde_json::{json, Value};

/// A stream function as its event source mapping in `template.yaml` wires it.
pub struct Subscription {
    /// Also the name of its checkpoint.
    pub name: &'static str,
    pub batch_size: usize,
    /// Retries of a failing batch before its failed record goes to the dead letters.
    pub max_retries: u32,
    /// The event filter: the changes (`eventName`) and the new image's `entity` it lets
    /// through, as the template's `FilterCriteria` do.
    pub filter: &'static [(&'static [ChangeKind], &'static [&'static str])],
}

impl Subscription {
    fn matches(&self, change: &Change) -> bool {
        let entity = change
            .new_image
            .as_ref()
            .and_then(|i| i.get(ENTITY))
            .and_then(Value::as_str);
        self.filter.iter().any(|(kinds, entities)| {
            kinds.contains(&change.kind) && entity.is_some_and(|e| entities.contains(&e))
        })
    }
}

const INSERT: &[ChangeKind] = &[ChangeKind::Insert];
const INSERT_OR_MODIFY: &[ChangeKind] = &[ChangeKind::Insert, ChangeKind::Modify];

pub const RESCORE: Subscription = Subscription {
    name: "rescore",
    batch_size: 25,
    max_retries: 5,
    filter: &[(INSERT, &[ScanRecord::ENTITY])],
};

pub const AUDIT_STREAM: Subscription = Subscription {
    name: "audit-log-export",
    batch_size: 100,
    max_retries: 10,
    filter: &[(INSERT, &[AuditLogItem::ENTITY])],
};

/// The events consumer (`notify`), with the template's two filters.
pub const NOTIFY: Subscription = Subscription {
    name: "notify",
    batch_size: 25,
    max_retries: 5,
    filter: &[
        (INSERT, &["scan", "audit_run"]),
        (
            INSERT_OR_MODIFY,
            &["repo_posture", "alert", "exception", "attestation"],
        ),
    ],
};

pub type Handler =
    Arc<dyn Fn(Event) -> Pin<Box<dyn Future<Output = DynamoDbEventResponse> + Send>> + Send + Sync>;

/// Where records that kept failing go (the template's SQS on-failure destination): one JSON
/// line each, appended to a file in the data folder.
#[derive(Clone)]
pub struct DeadLetters(pub PathBuf);

impl DeadLetters {
    fn keep(&self, subscription: &str, record: &Value) {
        use std::io::Write;
        let line = json!({"function": subscription, "record": record}).to_string() + "\n";
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.0)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            tracing::error!(error = %e, path = %self.0.display(), "could not keep a dead letter");
        }
    }
}

/// How long the deliverer claims new attempts in one round (it then looks at the queue again).
const CLAIMING: Duration = Duration::from_secs(30);

/// How long an idle consumer waits before looking at the feed again anyway.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// Feeds `handler` from the change feed, from the subscription's checkpoint on, until the
/// feed fails for good. Runs as its own task.
pub async fn consume(
    feed: Arc<dyn ChangeFeed>,
    subscription: Subscription,
    handler: Handler,
    dead_letters: DeadLetters,
) {
    let mut latest = feed.latest();
    let mut attempts = 0u32;
    loop {
        match deliver_next(
            feed.as_ref(),
            &subscription,
            &handler,
            &dead_letters,
            &mut attempts,
        )
        .await
        {
            Ok(true) => {}
            Ok(false) => {
                // Caught up: wait for the next commit (or the idle poll).
                let _ = tokio::time::timeout(IDLE_POLL, latest.changed()).await;
            }
            Err(e) => {
                tracing::error!(error = %e, subscription = subscription.name, "change feed");
                tokio::time::sleep(IDLE_POLL).await;
            }
        }
    }
}

/// Delivers the next batch after the checkpoint; `Ok(false)` when there is none.
async fn deliver_next(
    feed: &dyn ChangeFeed,
    subscription: &Subscription,
    handler: &Handler,
    dead_letters: &DeadLetters,
    attempts: &mut u32,
) -> Result<bool, StoreError> {
    let after = feed.checkpoint(subscription.name).await?;
    let changes = feed.changes_after(after, subscription.batch_size).await?;
    let Some(last) = changes.last().map(|c| c.sequence) else {
        return Ok(false);
    };
    let mut records = Vec::new();
    for change in changes.iter().filter(|c| subscription.matches(c)) {
        match stream::event_record(change) {
            Ok(record) => records.push((change.sequence, record)),
            Err(e) => {
                tracing::error!(error = %e, sequence = change.sequence, "unreadable change");
            }
        }
    }
    if records.is_empty() {
        feed.set_checkpoint(subscription.name, last).await?;
        return Ok(true);
    }
    let event = stream::event(records.iter().map(|(_, r)| r.clone()).collect())?;
    let response = handler(event).await;
    let failed = response
        .batch_item_failures
        .first()
        .and_then(|f| f.item_identifier.as_deref())
        .and_then(|id| id.parse::<u64>().ok());
    match failed {
        None => {
            *attempts = 0;
            feed.set_checkpoint(subscription.name, last).await?;
        }
        Some(sequence) => {
            // As Lambda does: the records before the failed one are done; retry from it.
            *attempts += 1;
            feed.set_checkpoint(subscription.name, sequence - 1).await?;
            if *attempts > subscription.max_retries {
                if let Some((_, record)) = records.iter().find(|(s, _)| *s == sequence) {
                    dead_letters.keep(subscription.name, record);
                }
                tracing::error!(
                    subscription = subscription.name,
                    sequence,
                    "record failed {} times: kept as a dead letter",
                    *attempts
                );
                *attempts = 0;
                feed.set_checkpoint(subscription.name, sequence).await?;
            } else {
                let backoff = Duration::from_millis(200 << (*attempts).min(5));
                tokio::time::sleep(backoff).await;
            }
        }
    }
    Ok(true)
}

/// Starts the stream functions' consumers and the feed's trimming, as the table's stream and
/// its event source mappings do in AWS, and the webhook deliverer. Must be called within a
/// Tokio runtime.
pub fn spawn_stream_functions(
    store: Arc<dyn Store>,
    feed: Arc<dyn ChangeFeed>,
    sink: Arc<dyn audit_log_export::Sink>,
    dead_letters: DeadLetters,
    clock: Arc<dyn Clock>,
    deliverer: Arc<Deliverer>,
) {
    let rescore_store = store.clone();
    let rescore: Handler = Arc::new(move |event| {
        let store = rescore_store.clone();
        Box::pin(async move { rescore::handle(store.as_ref(), event).await })
    });
    let notify_store = store.clone();
    let notify_clock = clock.clone();
    let notify: Handler = Arc::new(move |event| {
        let (store, clock) = (notify_store.clone(), notify_clock.clone());
        Box::pin(async move {
            compliance_events::handle_stream(store.as_ref(), None, event, clock.now()).await
        })
    });
    spawn_deliverer(store.clone(), feed.clone(), deliverer, clock.clone());
    let export: Handler = Arc::new(move |event| {
        let (store, sink) = (store.clone(), sink.clone());
        Box::pin(
            async move { audit_log_export::handle(store.as_ref(), sink.as_ref(), event).await },
        )
    });
    tokio::spawn(consume(
        feed.clone(),
        RESCORE,
        rescore,
        dead_letters.clone(),
    ));
    tokio::spawn(consume(feed.clone(), NOTIFY, notify, dead_letters.clone()));
    tokio::spawn(consume(feed.clone(), AUDIT_STREAM, export, dead_letters));
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(3600));
        loop {
            ticker.tick().await;
            let before = clock.now().timestamp() - RETENTION_SECONDS;
            match feed.trim(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "trimmed the change feed"),
                Err(e) => tracing::error!(error = %e, "could not trim the change feed"),
            }
        }
    });
}

/// The webhook deliverer and the reminders, as the `notify` function's schedule does in AWS,
/// but at once: it looks again after every commit (a new delivery is one) and when the earliest
/// pending attempt comes due. Its queue is in the store, so a restart resumes it.
fn spawn_deliverer(
    store: Arc<dyn Store>,
    feed: Arc<dyn ChangeFeed>,
    deliverer: Arc<Deliverer>,
    clock: Arc<dyn Clock>,
) {
    tokio::spawn(async move {
        let mut latest = feed.latest();
        loop {
            let fired = compliance_events::fire_reminders(store.as_ref(), None, clock.now()).await;
            if let Err(e) = fired {
                tracing::error!(error = %e, "reminders");
            }
            if let Err(e) = deliverer.run_due(CLAIMING).await {
                tracing::error!(error = %e, "webhook deliveries");
            }
            let wait = match deliverer.next_due().await {
                Ok(Some(at)) => (at - clock.now())
                    .to_std()
                    .unwrap_or_default()
                    .min(IDLE_POLL),
                _ => IDLE_POLL,
            };
            let _ = tokio::time::timeout(wait, latest.changed()).await;
        }
    });
}

/// Runs the daily snapshot every `every` (the first time after one interval).
pub fn spawn_snapshots(store: Arc<dyn Store>, every: Duration, clock: Arc<dyn Clock>) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let deadline = Instant::now() + Duration::from_secs(60);
            let limits = trend_snapshot::Limits::default();
            if let Err(e) = trend_snapshot::run(store.clone(), clock.now(), deadline, limits).await
            {
                tracing::error!(error = %e, "snapshot run failed");
            }
        }
    });
}
