//! The org's webhooks: where events go, which ones, and the secrets that sign them. Each change
//! is written with its audit-log entry, conditioned on the revision read, so two changes never
//! overwrite each other silently. Secrets are shown once (on creation and rotation) and never
//! answered again.

use chrono::{DateTime, Duration, Utc};
use compliance_domain::identity::ActorKind;
use compliance_domain::ids::{OrgId, WebhookId};
use compliance_services::audit_log::{self, AuditAction, AuditContext, DEFAULT_RETENTION_DAYS};
use compliance_services::paging;
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Key, Query, Store, StoreError, WriteOp};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::event::EventType;
use crate::signing;

/// Webhooks one org may have.
pub const MAX_WEBHOOKS: usize = 20;
/// How long a rotated secret keeps signing beside its successor.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;
/// How long a webhook may fail every delivery before it is disabled.
pub const FAILING_DAYS: i64 = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<EventType>,
    pub description: Option<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    #[serde(with = "compliance_domain::time::micros::option")]
    pub disabled_at: Option<DateTime<Utc>>,
    /// Since when every delivery failed (cleared by one that succeeds).
    #[serde(with = "compliance_domain::time::micros::option")]
    pub failing_since: Option<DateTime<Utc>>,
    #[serde(with = "compliance_domain::time::micros::option")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    #[serde(with = "compliance_domain::time::micros")]
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    #[serde(with = "compliance_domain::time::micros")]
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    pub fn wants(&self, event_type: EventType) -> bool {
        self.enabled && self.events.contains(&event_type)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredWebhook {
    #[serde(flatten)]
    pub(crate) webhook: Webhook,
    pub(crate) org_id: OrgId,
    /// The secret in use (no expiry), then those it replaced, each until its expiry.
    pub(crate) secrets: Vec<SigningSecret>,
    /// The last failed delivery: a streak of failures is one with no day without a failure.
    #[serde(with = "compliance_domain::time::micros::option")]
    pub(crate) last_failure_at: Option<DateTime<Utc>>,
    /// Incremented by each change; the condition of the next.
    pub(crate) revision: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SigningSecret {
    pub(crate) value: String,
    #[serde(with = "compliance_domain::time::micros::option")]
    pub(crate) expires_at: Option<DateTime<Utc>>,
}

/// Rotated secrets kept signing at once (a rotation beyond it ends the oldest early).
const MAX_SECRETS: usize = 4;
/// A gap without failures this long ends a failing streak (the retry schedule's longest
/// delays are 10 hours).
const STREAK_GAP_HOURS: i64 = 26;

impl Record for StoredWebhook {
    const ENTITY: &'static str = "webhook";

    fn key(&self) -> Key {
        keys::webhook(&self.org_id, &self.webhook.id)
    }
}

impl StoredWebhook {
    /// The secrets that sign a delivery at `now`.
    pub(crate) fn signing_secrets(&self, now: DateTime<Utc>) -> impl Iterator<Item = &str> {
        self.secrets
            .iter()
            .filter(move |s| s.expires_at.is_none_or(|at| at > now))
            .map(|s| s.value.as_str())
    }

    fn next(&self, ctx_at: DateTime<Utc>) -> StoredWebhook {
        let mut next = self.clone();
        next.revision += 1;
        next.webhook.updated_at = ctx_at;
        next
    }

    fn put_after(&self, before: &StoredWebhook) -> WriteOp {
        self.put_if(Condition::Equals("revision".into(), json!(before.revision)))
    }
}

/// A new webhook's settings (the URL already checked).
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<EventType>,
    pub description: Option<String>,
}

/// What a change sets; `None` leaves it.
#[derive(Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<EventType>>,
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("webhook not found")]
    NotFound,
    #[error("an org has at most {MAX_WEBHOOKS} webhooks; delete one first")]
    TooMany,
    #[error("the webhook changed meanwhile; read it again and retry")]
    Conflict,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for WebhookError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ConditionFailed { .. } | StoreError::Conflict => WebhookError::Conflict,
            e => WebhookError::Store(e),
        }
    }
}

fn new_id() -> WebhookId {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::thread_rng();
    let tail: String = (0..26)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    WebhookId::parse(&format!("wh_{tail}")).expect("built to the id's pattern")
}

fn settings(w: &Webhook) -> serde_json::Value {
    json!({"url": w.url, "events": w.events, "description": w.description, "enabled": w.enabled})
}

pub async fn list(store: &dyn Store, org_id: &OrgId) -> Result<Vec<Webhook>, StoreError> {
    Ok(stored(store, org_id)
        .await?
        .into_iter()
        .map(|s| s.webhook)
        .collect())
}

/// Every webhook of the org, oldest first.
pub(crate) async fn stored(
    store: &dyn Store,
    org_id: &OrgId,
) -> Result<Vec<StoredWebhook>, StoreError> {
    let (pk, range) = keys::webhooks(org_id);
    let mut all: Vec<StoredWebhook> = paging::all(store, Query::new(pk, range)).await?;
    all.sort_by_key(|a| a.webhook.created_at);
    Ok(all)
}

pub(crate) async fn get_stored(
    store: &dyn Store,
    org_id: &OrgId,
    id: &WebhookId,
) -> Result<Option<StoredWebhook>, StoreError> {
    store.get_record(&keys::webhook(org_id, id)).await
}

pub async fn get(
    store: &dyn Store,
    org_id: &OrgId,
    id: &WebhookId,
) -> Result<Option<Webhook>, StoreError> {
    Ok(get_stored(store, org_id, id).await?.map(|s| s.webhook))
}

/// Creates a webhook; answers it with its secret (the only time the secret is seen).
pub async fn create(
    store: &dyn Store,
    ctx: &AuditContext,
    new: NewWebhook,
) -> Result<(Webhook, String), WebhookError> {
    if stored(store, &ctx.org_id).await?.len() >= MAX_WEBHOOKS {
        return Err(WebhookError::TooMany);
    }
    let secret = signing::new_secret();
    let webhook = Webhook {
        id: new_id(),
        url: new.url,
        events: new.events,
        description: new.description,
        enabled: true,
        disabled_reason: None,
        disabled_at: None,
        failing_since: None,
        previous_secret_expires_at: None,
        created_at: ctx.at,
        created_by: ctx.actor.id.clone(),
        updated_at: ctx.at,
    };
    let item = StoredWebhook {
        webhook: webhook.clone(),
        org_id: ctx.org_id.clone(),
        secrets: vec![SigningSecret {
            value: secret.clone(),
            expires_at: None,
        }],
        last_failure_at: None,
        revision: 1,
    };
    let metadata = json!({"webhook_id": webhook.id, "after": settings(&webhook)});
    let ops = vec![item.put_if(Condition::NotExists)];
    audit_log::commit(store, ops, ctx, AuditAction::WebhookCreated, metadata).await?;
    Ok((webhook, secret))
}

pub async fn update(
    store: &dyn Store,
    ctx: &AuditContext,
    id: &WebhookId,
    patch: WebhookPatch,
) -> Result<Webhook, WebhookError> {
    let before = get_stored(store, &ctx.org_id, id)
        .await?
        .ok_or(WebhookError::NotFound)?;
    let mut after = before.next(ctx.at);
    let w = &mut after.webhook;
    if let Some(url) = patch.url {
        // Another endpoint: the old one's failures are not its own.
        if url != w.url {
            w.failing_since = None;
            after.last_failure_at = None;
        }
        w.url = url;
    }
    if let Some(events) = patch.events {
        w.events = events;
    }
    if let Some(description) = patch.description {
        w.description = description;
    }
    match patch.enabled {
        Some(true) if !w.enabled => {
            w.enabled = true;
            w.disabled_reason = None;
            w.disabled_at = None;
            w.failing_since = None;
        }
        Some(false) if w.enabled => {
            w.enabled = false;
            w.disabled_reason = Some(format!("disabled by {}", ctx.actor.id));
            w.disabled_at = Some(ctx.at);
        }
        _ => {}
    }
    let metadata = json!({
        "webhook_id": id,
        "before": settings(&before.webhook),
        "after": settings(&after.webhook),
    });
    let ops = vec![after.put_after(&before)];
    audit_log::commit(store, ops, ctx, AuditAction::WebhookUpdated, metadata).await?;
    Ok(after.webhook)
}

/// Deletes the webhook; its pending deliveries are dropped when they come due.
pub async fn delete(
    store: &dyn Store,
    ctx: &AuditContext,
    id: &WebhookId,
) -> Result<(), WebhookError> {
    let before = get_stored(store, &ctx.org_id, id)
        .await?
        .ok_or(WebhookError::NotFound)?;
    let ops = vec![WriteOp::delete_if(
        before.key(),
        Condition::Equals("revision".into(), json!(before.revision)),
    )];
    let metadata = json!({"webhook_id": id, "before": settings(&before.webhook)});
    audit_log::commit(store, ops, ctx, AuditAction::WebhookDeleted, metadata).await?;
    Ok(())
}

/// A new secret; the one it replaces signs too until the answered time.
pub async fn rotate_secret(
    store: &dyn Store,
    ctx: &AuditContext,
    id: &WebhookId,
) -> Result<(String, DateTime<Utc>), WebhookError> {
    let before = get_stored(store, &ctx.org_id, id)
        .await?
        .ok_or(WebhookError::NotFound)?;
    let secret = signing::new_secret();
    let expires = ctx.at + Duration::hours(ROTATION_OVERLAP_HOURS);
    let mut after = before.next(ctx.at);
    // The one in use signs for a day more; those it replaced keep their own expiry.
    let previous = before.secrets.iter().filter_map(|s| {
        let until = s.expires_at.unwrap_or(expires);
        (until > ctx.at).then(|| SigningSecret {
            value: s.value.clone(),
            expires_at: Some(until),
        })
    });
    after.secrets = std::iter::once(SigningSecret {
        value: secret.clone(),
        expires_at: None,
    })
    .chain(previous)
    .take(MAX_SECRETS)
    .collect();
    after.webhook.previous_secret_expires_at =
        after.secrets.iter().filter_map(|s| s.expires_at).max();
    let metadata = json!({
        "webhook_id": id,
        "after": {"previous_secret_expires_at": compliance_domain::time::rfc3339(expires)},
    });
    let ops = vec![after.put_after(&before)];
    audit_log::commit(store, ops, ctx, AuditAction::WebhookSecretRotated, metadata).await?;
    Ok((secret, expires))
}

/// Records a delivery's outcome on its webhook: a success ends a failing streak, a failure
/// starts one, and a streak of [`FAILING_DAYS`] disables the webhook (with an audit entry).
/// Only writes when something changes; a concurrent change wins (the next outcome tries again).
pub(crate) async fn note_outcome(
    store: &dyn Store,
    webhook: &StoredWebhook,
    delivered: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let w = &webhook.webhook;
    let mut after = webhook.next(now);
    let disabling = if delivered {
        if w.failing_since.is_none() {
            return Ok(());
        }
        after.webhook.failing_since = None;
        after.last_failure_at = None;
        false
    } else {
        if !w.enabled {
            return Ok(());
        }
        let streak_since = match (w.failing_since, webhook.last_failure_at) {
            (Some(since), Some(last)) if now - last <= Duration::hours(STREAK_GAP_HOURS) => since,
            _ => now,
        };
        if now - streak_since >= Duration::days(FAILING_DAYS) {
            after.webhook.enabled = false;
            after.webhook.disabled_at = Some(now);
            after.webhook.disabled_reason = Some(format!(
                "every delivery failed for {FAILING_DAYS} days (since {})",
                compliance_domain::time::rfc3339(streak_since)
            ));
            true
        } else {
            // Written when the streak starts, and then at most hourly.
            let noted = webhook
                .last_failure_at
                .is_some_and(|l| now - l < Duration::hours(1));
            if w.failing_since == Some(streak_since) && noted {
                return Ok(());
            }
            after.webhook.failing_since = Some(streak_since);
            after.last_failure_at = Some(now);
            false
        }
    };
    let ops = vec![after.put_after(webhook)];
    let written = if disabling {
        let ctx = AuditContext::system(
            &webhook.org_id,
            ActorKind::System,
            "webhooks",
            DEFAULT_RETENTION_DAYS,
        );
        let ctx = AuditContext { at: now, ..ctx };
        let metadata = json!({
            "webhook_id": w.id,
            "reason": after.webhook.disabled_reason,
        });
        audit_log::commit(store, ops, &ctx, AuditAction::WebhookDisabled, metadata)
            .await
            .map(|_| ())
    } else {
        store.write(ops).await
    };
    match written {
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => Ok(()),
        other => other,
    }
}
