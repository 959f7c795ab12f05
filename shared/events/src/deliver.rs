//! The deliverer: claims due attempts, sends them (signed, 10-second timeout, no redirects,
//! only to allowed addresses), records each attempt on its delivery and schedules the next
//! one by the retry schedule. At least once: a deliverer that dies between sending and
//! recording leaves its claim to expire, and the attempt is made again with the same
//! `webhook-id` (receivers deduplicate on it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use compliance_domain::time::Clock;
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Query, Store, StoreError, WriteOp};
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, USER_AGENT};
use tokio::sync::{mpsc, Semaphore};

use crate::batch::{write_groups, Written};

use crate::deliveries::{millis, Attempt, DeliveryStatus, Due, Outcome, StoredDelivery};
use crate::schedule::RetrySchedule;
use crate::url_policy::{self, GuardedResolver, Refusal, UrlPolicy};
use crate::webhooks::{self, StoredWebhook};

/// How long a receiver has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed attempt stays claimed: past it, another deliverer makes it. Well above an
/// attempt's longest (resolving, 5 s, and the answer, 10 s).
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// Due attempts read from each queue partition per round.
const ROUND: usize = 200;
/// Claims written at once (at most as many as sending slots are free).
const CLAIM_CHUNK: usize = 40;
/// Attempts recorded at once.
const RECORD_CHUNK: usize = 30;

pub struct Deliverer {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// For `https` URLs.
    client: reqwest::Client,
    /// For plain `http` (loopback receivers, when the policy allows them).
    loopback_client: reqwest::Client,
    policy: UrlPolicy,
    schedule: RetrySchedule,
    sending: Arc<Semaphore>,
    /// Rounds made: where the next one starts.
    rounds: std::sync::atomic::AtomicUsize,
}

/// An attempt made (or a claim with nothing left to send): the writes that record it.
struct Made {
    ops: Vec<WriteOp>,
    outcome: Option<AttemptOutcome>,
}

struct AttemptOutcome {
    delivery: String,
    webhook: StoredWebhook,
    delivered: bool,
    manual: bool,
    at: DateTime<Utc>,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub attempted: usize,
    pub delivered: usize,
}

impl Deliverer {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        policy: UrlPolicy,
        schedule: RetrySchedule,
        concurrency: usize,
    ) -> Deliverer {
        let client = |loopback_only| {
            reqwest::Client::builder()
                .timeout(TIMEOUT)
                .connect_timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                // A proxy would connect on our behalf to whatever the name resolves to there.
                .no_proxy()
                .dns_resolver(Arc::new(GuardedResolver {
                    policy,
                    loopback_only,
                }))
                .pool_max_idle_per_host(concurrency)
                .build()
                .expect("the HTTP client's settings are valid")
        };
        Deliverer {
            store,
            clock,
            client: client(false),
            loopback_client: client(true),
            policy,
            schedule,
            sending: Arc::new(Semaphore::new(concurrency.max(1))),
            rounds: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Makes the attempts due (at most a round's worth per queue partition), claiming new ones
    /// for `claiming` at most; then waits for every attempt it started and its record, so none
    /// is cut off between its answer and its record. What it did.
    pub async fn run_due(self: &Arc<Self>, claiming: Duration) -> Result<Round, StoreError> {
        let stop = Instant::now() + claiming;
        let (made, attempts) = mpsc::unbounded_channel();
        let recorder = {
            let this = self.clone();
            compliance_services::tasks::spawn(async move { this.record(attempts).await })
        };
        let mut tasks = tokio::task::JoinSet::new();
        let claimed = self.claim_due(stop, &mut tasks, &made).await;
        drop(made);
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "webhook delivery task failed");
            }
        }
        let round = recorder.await.unwrap_or_default();
        claimed.map(|()| round)
    }

    /// Claims due attempts until `stop`, as many at a time (in one write) as sending slots are
    /// free, at least one (so that a lease starts when its attempt can, and one slow receiver
    /// holds one slot, not the others), and starts them. Each round starts at another queue
    /// partition, so none waits behind the others.
    async fn claim_due(
        self: &Arc<Self>,
        stop: Instant,
        tasks: &mut tokio::task::JoinSet<()>,
        made: &mpsc::UnboundedSender<Made>,
    ) -> Result<(), StoreError> {
        let first = self
            .rounds
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        for n in 0..keys::DUE_SHARDS {
            let shard = (first as u32 + n) % keys::DUE_SHARDS;
            let (pk, range) = keys::webhook_due_by(shard, millis(self.clock.now()));
            let query = Query::new(pk, range).limit(ROUND);
            let (due, _): (Vec<Due>, _) = self.store.query_records(&query).await?;
            let mut due = due.as_slice();
            while !due.is_empty() {
                if Instant::now() >= stop {
                    return Ok(());
                }
                let mut permits = vec![self.sending.clone().acquire_owned().await];
                while permits.len() < due.len().min(CLAIM_CHUNK) {
                    match self.sending.clone().try_acquire_owned() {
                        Ok(permit) => permits.push(Ok(permit)),
                        Err(_) => break,
                    }
                }
                let (chunk, rest) = due.split_at(permits.len());
                due = rest;
                let now = self.clock.now();
                let leases: Vec<Due> = chunk.iter().map(|e| e.at(now + LEASE)).collect();
                let claims: Vec<Vec<WriteOp>> = chunk
                    .iter()
                    .zip(&leases)
                    .map(|(entry, lease)| {
                        vec![
                            WriteOp::delete_if(entry.key(), Condition::Exists),
                            lease.put(),
                        ]
                    })
                    .collect();
                // An entry another deliverer moved first is a claim whose condition fails.
                let claimed = write_groups(self.store.as_ref(), &claims).await;
                for ((lease, permit), claim) in leases.into_iter().zip(permits).zip(claimed) {
                    match claim {
                        Written::Yes => {}
                        Written::Refused => continue,
                        Written::Failed(e) => {
                            tracing::error!(error = %e, "webhook attempt not claimed");
                            continue;
                        }
                    }
                    let (this, made) = (self.clone(), made.clone());
                    tasks.spawn(compliance_services::tasks::carried(async move {
                        let attempt = this.attempt(lease).await;
                        drop(permit);
                        match attempt {
                            Ok(attempt) => {
                                let _ = made.send(attempt);
                            }
                            Err(e) => tracing::error!(error = %e, "webhook delivery not made"),
                        }
                    }));
                }
            }
        }
        Ok(())
    }

    /// Records attempts as they are made, as many at once as are ready (one write each batch).
    async fn record(&self, mut attempts: mpsc::UnboundedReceiver<Made>) -> Round {
        let mut round = Round::default();
        while let Some(first) = attempts.recv().await {
            let mut batch = vec![first];
            while batch.len() < RECORD_CHUNK {
                match attempts.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let groups: Vec<Vec<WriteOp>> = batch.iter().map(|m| m.ops.clone()).collect();
            let written = write_groups(self.store.as_ref(), &groups).await;
            for (made, written) in batch.into_iter().zip(written) {
                let Some(outcome) = made.outcome else {
                    continue;
                };
                match written {
                    Written::Yes => {}
                    Written::Refused => {
                        tracing::warn!(delivery = %outcome.delivery, "attempt taken over; not recorded");
                        continue;
                    }
                    Written::Failed(e) => {
                        // Made again once its claim expires.
                        tracing::error!(error = %e, delivery = %outcome.delivery, "attempt not recorded");
                        continue;
                    }
                }
                round.attempted += 1;
                round.delivered += usize::from(outcome.delivered);
                if !outcome.manual || outcome.delivered {
                    let noted = webhooks::note_outcome(
                        self.store.as_ref(),
                        &outcome.webhook,
                        outcome.delivered,
                        outcome.at,
                    )
                    .await;
                    if let Err(e) = noted {
                        tracing::error!(error = %e, "webhook outcome not noted");
                    }
                }
            }
        }
        round
    }

    /// When the earliest pending attempt is due (`None`: none is).
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut earliest: Option<u64> = None;
        for shard in 0..keys::DUE_SHARDS {
            let (pk, range) = keys::webhook_due_by(shard, u64::MAX / 2);
            let (first, _): (Vec<Due>, _) = self
                .store
                .query_records(&Query::new(pk, range).limit(1))
                .await?;
            if let Some(d) = first.first() {
                earliest = Some(earliest.map_or(d.due_ms, |e| e.min(d.due_ms)));
            }
        }
        Ok(earliest.and_then(|ms| DateTime::from_timestamp_millis(ms as i64)))
    }

    /// Makes the claimed attempt: the writes that record it (or only release the claim, when
    /// there is nothing to send any more).
    async fn attempt(&self, lease: Due) -> Result<Made, StoreError> {
        let store = self.store.as_ref();
        let delivery_key =
            keys::webhook_delivery(&lease.org_id, &lease.webhook_id, &lease.event_id);
        let (delivery, webhook) = tokio::try_join!(
            store.get_record::<StoredDelivery>(&delivery_key),
            webhooks::get_stored(store, &lease.org_id, &lease.webhook_id),
        )?;
        let release = Made {
            ops: vec![WriteOp::delete(lease.key())],
            outcome: None,
        };
        let (Some(delivery), Some(webhook)) = (delivery, webhook) else {
            // The webhook (and with it its deliveries) is gone.
            return Ok(release);
        };
        if delivery.delivery.status != DeliveryStatus::Pending {
            return Ok(release);
        }
        let now = self.clock.now();
        let attempt_no = delivery.attempts_made + 1;
        let attempt = if webhook.webhook.enabled || lease.manual {
            self.send(&webhook, &delivery, attempt_no, now).await
        } else {
            Attempt {
                attempt: attempt_no,
                at: now,
                status_code: None,
                latency_ms: 0,
                outcome: Outcome::Refused,
                error: Some("the webhook is disabled".into()),
            }
        };
        let delivered = attempt.outcome == Outcome::Delivered;
        let retrying = !delivered && !lease.manual && webhook.webhook.enabled;
        let next = retrying
            .then(|| self.schedule.delay(delivery.retries_used))
            .flatten()
            .map(|delay| now + chrono::Duration::from_std(delay).unwrap_or(LEASE));
        let mut after = delivery.clone().with_attempt(attempt);
        after.delivery.next_attempt_at = next;
        after.delivery.status = match (delivered, next) {
            (true, _) => DeliveryStatus::Delivered,
            (false, Some(_)) => DeliveryStatus::Pending,
            (false, None) => DeliveryStatus::Failed,
        };
        if next.is_some() {
            after.retries_used += 1;
        }
        // Only while the claim holds: a deliverer that took over an expired lease records its
        // own attempt, not this one as well.
        let mut ops = vec![
            WriteOp::delete_if(lease.key(), Condition::Exists),
            after.put_if(Condition::Equals(
                "attempts_made".into(),
                serde_json::json!(delivery.attempts_made),
            )),
        ];
        if let Some(at) = next {
            ops.push(lease.at(at).put());
        }
        Ok(Made {
            ops,
            outcome: Some(AttemptOutcome {
                delivery: delivery.delivery.id.to_string(),
                webhook,
                delivered,
                manual: lease.manual,
                at: now,
            }),
        })
    }

    async fn send(
        &self,
        webhook: &StoredWebhook,
        delivery: &StoredDelivery,
        attempt: u32,
        now: DateTime<Utc>,
    ) -> Attempt {
        let started = Instant::now();
        let result = self.post(webhook, delivery, now).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        let (status_code, outcome, error) = match result {
            Ok(status) if status.is_success() => (Some(status.as_u16()), Outcome::Delivered, None),
            Ok(status) if status.is_redirection() => (
                Some(status.as_u16()),
                Outcome::Failed,
                Some("redirects are not followed".to_string()),
            ),
            Ok(status) => (Some(status.as_u16()), Outcome::Failed, None),
            Err(Failure::Refused(r)) => (None, Outcome::Refused, Some(r.to_string())),
            Err(Failure::Timeout) => (
                None,
                Outcome::Timeout,
                Some(format!("no answer within {} s", TIMEOUT.as_secs())),
            ),
            Err(Failure::Other(e)) => (None, Outcome::Failed, Some(e)),
        };
        Attempt {
            attempt,
            at: now,
            status_code,
            latency_ms,
            outcome,
            error,
        }
    }

    async fn post(
        &self,
        webhook: &StoredWebhook,
        delivery: &StoredDelivery,
        now: DateTime<Utc>,
    ) -> Result<reqwest::StatusCode, Failure> {
        let url = url_policy::check_resolved(&webhook.webhook.url, self.policy)
            .await
            .map_err(Failure::Refused)?;
        let id = delivery.delivery.id.as_str();
        let timestamp = now.timestamp();
        let signatures: Vec<String> = webhook
            .signing_secrets(now)
            .map(|s| crate::signing::signature(s, id, timestamp, &delivery.payload))
            .collect();
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static("compliance-api-webhooks/1"),
        );
        let text = |s: &str| HeaderValue::from_str(s).map_err(|e| Failure::Other(e.to_string()));
        headers.insert("webhook-id", text(id)?);
        headers.insert("webhook-timestamp", text(&timestamp.to_string())?);
        headers.insert("webhook-signature", text(&signatures.join(" "))?);
        let client = match url.scheme() {
            "http" => &self.loopback_client,
            _ => &self.client,
        };
        let response = client
            .post(url)
            .headers(headers)
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(Failure::of)?;
        Ok(response.status())
    }
}

enum Failure {
    Refused(Refusal),
    Timeout,
    Other(String),
}

impl Failure {
    fn of(error: reqwest::Error) -> Failure {
        if error.is_timeout() {
            return Failure::Timeout;
        }
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        let mut innermost = error.to_string();
        while let Some(e) = source {
            if let Some(refusal) = e.downcast_ref::<Refusal>() {
                return Failure::Refused(refusal.clone());
            }
            innermost = e.to_string();
            source = e.source();
        }
        Failure::Other(innermost)
    }
}
