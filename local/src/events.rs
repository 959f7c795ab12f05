//! The local stand-in for DynamoDB Streams and EventBridge: the same handlers as in AWS, fed
//! with the same event shapes, in process. Every item a write puts becomes a stream record
//! (`INSERT`/`MODIFY` with its new image, in DynamoDB JSON) handed to the rescoring function's
//! handler; a timer runs the daily snapshot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::Event;
use compliance_core::store::{Condition, Item, Key, Page, Query, Store, StoreError, WriteOp};
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// A store that reports its committed puts as stream records.
pub struct StreamingStore {
    inner: Arc<dyn Store>,
    records: mpsc::UnboundedSender<Vec<Value>>,
    sequence: AtomicU64,
}

fn record(item: &Item, event_name: &str, sequence: u64) -> Option<Value> {
    let key = Key::of(item)?;
    let image: serde_dynamo::Item = serde_dynamo::to_item(item).ok()?;
    let keys: serde_dynamo::Item =
        serde_dynamo::to_item(json!({"PK": key.pk, "SK": key.sk})).ok()?;
    Some(json!({
        "eventID": format!("local-{sequence}"),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "local",
        "eventSourceARN": "arn:aws:dynamodb:local:000000000000:table/compliance/stream/local",
        "dynamodb": {
            "ApproximateCreationDateTime": chrono::Utc::now().timestamp(),
            "Keys": keys,
            "NewImage": image,
            "SequenceNumber": format!("{sequence:021}"),
            "SizeBytes": compliance_core::store::item_size(item),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
    }))
}

#[async_trait]
impl Store for StreamingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let puts: Vec<(Item, &'static str)> = ops
            .iter()
            .filter_map(|op| match op {
                WriteOp::Put { item, condition } => Some((
                    item.clone(),
                    if condition == &Some(Condition::NotExists) {
                        "INSERT"
                    } else {
                        "MODIFY"
                    },
                )),
                _ => None,
            })
            .collect();
        self.inner.write(ops).await?;
        let records: Vec<Value> = puts
            .iter()
            .filter_map(|(item, name)| {
                record(item, name, self.sequence.fetch_add(1, Ordering::Relaxed))
            })
            .collect();
        if !records.is_empty() {
            // The consumer lives as long as the server; a closed channel only means shutdown.
            let _ = self.records.send(records);
        }
        Ok(())
    }

    async fn increment(&self, key: &Key, attr: &str, by: i64) -> Result<i64, StoreError> {
        self.inner.increment(key, attr, by).await
    }
}

/// Wraps `store` so that its writes drive the stream functions (`rescore`, and `audit-stream`
/// exporting to `sink`), as the table's stream does in AWS. Must be called within a Tokio
/// runtime (it spawns the consumer).
pub fn with_stream(store: Arc<dyn Store>, sink: Arc<dyn audit_stream::Sink>) -> Arc<dyn Store> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<Value>>();
    let handler_store = store.clone();
    tokio::spawn(async move {
        while let Some(records) = rx.recv().await {
            let event: Event = match serde_json::from_value(json!({"Records": records})) {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, "could not build a stream event");
                    continue;
                }
            };
            // In AWS each function has its own filtered subscription; both handlers skip
            // records that are not theirs, so feeding both the whole batch is the same.
            let rescored = rescore::handle(handler_store.as_ref(), event.clone()).await;
            if !rescored.batch_item_failures.is_empty() {
                tracing::error!(?rescored.batch_item_failures, "rescoring reported failures");
            }
            let exported = audit_stream::handle(handler_store.as_ref(), sink.as_ref(), event).await;
            if !exported.batch_item_failures.is_empty() {
                tracing::error!(?exported.batch_item_failures, "audit export reported failures");
            }
        }
    });
    Arc::new(StreamingStore {
        inner: store,
        records: tx,
        sequence: AtomicU64::new(1),
    })
}

/// Runs the daily snapshot every `every` (the first time after one interval).
pub fn spawn_snapshots(store: Arc<dyn Store>, every: Duration) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let deadline = Instant::now() + Duration::from_secs(60);
            let limits = trend_snapshot::Limits::default();
            if let Err(e) =
                trend_snapshot::run(store.clone(), chrono::Utc::now(), deadline, limits).await
            {
                tracing::error!(error = %e, "snapshot run failed");
            }
        }
    });
}
