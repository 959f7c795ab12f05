//! `/api/webhooks`: the org's webhooks and their deliveries (admins only).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use compliance_domain::ids::{EventId, WebhookId};
use compliance_events::deliveries::{self, Delivery, RedeliverError};
use compliance_events::url_policy::{self, UrlPolicy};
use compliance_events::webhooks::{self, NewWebhook, Webhook, WebhookError, WebhookPatch};
use compliance_events::EventType;
use compliance_http::body::{Field, FromBody, Object, Text};
use compliance_http::{page_args, Admin, ApiError, AppState, JsonBody, Meta, PageParams, Params};
use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

const MAX_DESCRIPTION: usize = 200;

#[derive(Serialize)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// Shown this once.
    pub secret: String,
}

#[derive(Serialize)]
pub struct WebhookList {
    pub webhooks: Vec<Webhook>,
}

#[derive(Serialize)]
pub struct RotatedSecret {
    pub secret: String,
    pub previous_secret_expires_at: String,
}

#[derive(Serialize)]
pub struct DeliveryView {
    #[serde(flatten)]
    pub delivery: Delivery,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
}

#[derive(Serialize)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryView>,
    pub next_cursor: Option<String>,
}

/// `{"url", "events", "description"}`.
pub struct CreateWebhook {
    url: String,
    events: Vec<EventType>,
    description: Option<String>,
}

impl FromBody for CreateWebhook {
    fn from_body(body: &mut Object) -> Option<Self> {
        let url = body.required("url", url_text);
        let events = body.required("events", events);
        let description = body.optional("description", description);
        Some(CreateWebhook {
            url: url?,
            events: events?,
            description: description?,
        })
    }
}

/// Any of `{"url", "events", "description", "enabled"}`.
pub struct UpdateWebhook {
    url: Option<String>,
    events: Option<Vec<EventType>>,
    description: Option<Option<String>>,
    enabled: Option<bool>,
}

impl FromBody for UpdateWebhook {
    fn from_body(body: &mut Object) -> Option<Self> {
        let url = body.optional("url", url_text);
        let events = body.optional("events", events);
        let description = body.optional("description", description);
        let enabled = body.optional("enabled", |f| f.boolean());
        Some(UpdateWebhook {
            url: url?,
            events: events?,
            description: description?.map(Some),
            enabled: enabled?,
        })
    }
}

fn url_text(f: Field) -> Option<String> {
    f.text(Text::chars(1, url_policy::MAX_URL))
}

fn description(f: Field) -> Option<String> {
    f.text(Text::chars(1, MAX_DESCRIPTION))
}

/// 1 to 10 distinct subscribable event types.
fn events(f: Field) -> Option<Vec<EventType>> {
    let mut seen = BTreeSet::new();
    f.array(1, EventType::ALL.len() - 1, |item| {
        item.parsed(|s| match s.parse::<EventType>() {
            Ok(t) if !t.subscribable() => {
                Err("'ping' is sent by the ping action only; it cannot be subscribed to".into())
            }
            Ok(t) if !seen.insert(t) => Err(format!("'{t}' is listed twice")),
            Ok(t) => Ok(t),
            Err(e) => Err(e.to_string()),
        })
    })
}

fn policy(state: &AppState) -> UrlPolicy {
    UrlPolicy {
        allow_loopback: state.webhook_loopback,
    }
}

/// The URL if webhooks may send to it (its addresses resolved now); a 400 naming the rule.
async fn checked_url(state: &AppState, url: &str) -> Result<String, ApiError> {
    url_policy::check_resolved(url, policy(state))
        .await
        .map(|_| url.to_string())
        .map_err(|refusal| ApiError::field("url", refusal.to_string()))
}

fn webhook_id(raw: &str) -> Result<WebhookId, ApiError> {
    WebhookId::parse(raw).map_err(|_| not_found(raw))
}

fn not_found(raw: &str) -> ApiError {
    ApiError::NotFound(format!("No webhook with id {raw}"))
}

fn webhook_error(id: &str, e: WebhookError) -> ApiError {
    match e {
        WebhookError::NotFound => not_found(id),
        WebhookError::TooMany | WebhookError::Conflict => ApiError::Conflict(e.to_string()),
        WebhookError::Store(e) => e.into(),
    }
}

pub async fn create(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<CreateWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    let url = checked_url(&state, &body.url).await?;
    let ctx = state.audit(&principal, meta);
    let new = NewWebhook {
        url,
        events: body.events,
        description: body.description,
    };
    let (webhook, secret) = webhooks::create(state.store.as_ref(), &ctx, new)
        .await
        .map_err(|e| webhook_error("", e))?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook { webhook, secret }),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    Admin(principal): Admin,
) -> Result<Json<WebhookList>, ApiError> {
    let webhooks = webhooks::list(state.store.as_ref(), &principal.org_id).await?;
    Ok(Json(WebhookList { webhooks }))
}

pub async fn get(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Path(id): Path<String>,
) -> Result<Json<Webhook>, ApiError> {
    let webhook_id = webhook_id(&id)?;
    webhooks::get(state.store.as_ref(), &principal.org_id, &webhook_id)
        .await?
        .map(Json)
        .ok_or_else(|| not_found(&id))
}

pub async fn update(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateWebhook>,
) -> Result<Json<Webhook>, ApiError> {
    let webhook_id = webhook_id(&id)?;
    if body.url.is_none()
        && body.events.is_none()
        && body.description.is_none()
        && body.enabled.is_none()
    {
        return Err(ApiError::BadRequest(
            "Give at least one of url, events, description, enabled".into(),
        ));
    }
    let url = match &body.url {
        Some(url) => Some(checked_url(&state, url).await?),
        None => None,
    };
    let ctx = state.audit(&principal, meta);
    let patch = WebhookPatch {
        url,
        events: body.events,
        description: body.description,
        enabled: body.enabled,
    };
    webhooks::update(state.store.as_ref(), &ctx, &webhook_id, patch)
        .await
        .map(Json)
        .map_err(|e| webhook_error(&id, e))
}

pub async fn delete(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let webhook_id = webhook_id(&id)?;
    let ctx = state.audit(&principal, meta);
    webhooks::delete(state.store.as_ref(), &ctx, &webhook_id)
        .await
        .map_err(|e| webhook_error(&id, e))?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn rotate_secret(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> Result<Json<RotatedSecret>, ApiError> {
    let webhook_id = webhook_id(&id)?;
    let ctx = state.audit(&principal, meta);
    let (secret, expires) = webhooks::rotate_secret(state.store.as_ref(), &ctx, &webhook_id)
        .await
        .map_err(|e| webhook_error(&id, e))?;
    Ok(Json(RotatedSecret {
        secret,
        previous_secret_expires_at: compliance_domain::time::rfc3339(expires),
    }))
}

pub async fn ping(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<DeliveryView>), ApiError> {
    let webhook_id = webhook_id(&id)?;
    let ctx = state.audit(&principal, meta);
    let (delivery, payload) = deliveries::ping(state.store.as_ref(), &ctx, &webhook_id)
        .await
        .map_err(|e| webhook_error(&id, e))?;
    let view = DeliveryView {
        delivery,
        payload: Some(payload),
    };
    Ok((StatusCode::ACCEPTED, Json(view)))
}

pub async fn list_deliveries(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Path(id): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Json<DeliveryList>, ApiError> {
    let webhook_id = webhook_id(&id)?;
    let (limit, cursor) = page_args(page.limit, page.cursor.as_deref())?;
    let (store, org) = (state.store.as_ref(), &principal.org_id);
    // The webhook and its deliveries read at once (its deliveries alone would outlive it).
    let (webhook, (page, next)) = tokio::try_join!(
        webhooks::get(store, org, &webhook_id),
        deliveries::list(store, org, &webhook_id, limit, cursor),
    )?;
    webhook.ok_or_else(|| not_found(&id))?;
    Ok(Json(DeliveryList {
        deliveries: page
            .into_iter()
            .map(|delivery| DeliveryView {
                delivery,
                payload: None,
            })
            .collect(),
        next_cursor: next.map(|c| c.encode()),
    }))
}

fn delivery_not_found(raw: &str) -> ApiError {
    ApiError::NotFound(format!("No delivery with id {raw}"))
}

pub async fn get_delivery(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Json<DeliveryView>, ApiError> {
    let webhook_id = webhook_id(&id)?;
    let event_id = EventId::parse(&delivery_id).map_err(|_| delivery_not_found(&delivery_id))?;
    let (store, org) = (state.store.as_ref(), &principal.org_id);
    let (webhook, delivery) = tokio::try_join!(
        webhooks::get(store, org, &webhook_id),
        deliveries::get(store, org, &webhook_id, &event_id),
    )?;
    webhook.ok_or_else(|| not_found(&id))?;
    let (delivery, payload) = delivery.ok_or_else(|| delivery_not_found(&delivery_id))?;
    Ok(Json(DeliveryView {
        delivery,
        payload: Some(payload),
    }))
}

pub async fn redeliver(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<DeliveryView>), ApiError> {
    let webhook_id = webhook_id(&id)?;
    let event_id = EventId::parse(&delivery_id).map_err(|_| delivery_not_found(&delivery_id))?;
    let ctx = state.audit(&principal, meta);
    let (delivery, payload) =
        deliveries::redeliver(state.store.as_ref(), &ctx, &webhook_id, &event_id)
            .await
            .map_err(|e| match e {
                RedeliverError::NotFound => delivery_not_found(&delivery_id),
                RedeliverError::Pending => ApiError::Conflict(e.to_string()),
                RedeliverError::Webhook(e) => webhook_error(&id, e),
            })?;
    let view = DeliveryView {
        delivery,
        payload: Some(payload),
    };
    Ok((StatusCode::ACCEPTED, Json(view)))
}
