use axum::extract::State;
use axum::Json;
use compliance_domain::time::{parse_instant, rfc3339};
use compliance_http::{page_args, paged, Admin, ApiError, AppState, FieldError, Params};
use compliance_services::audit_log::AuditEntry;
use compliance_store::keys;
use compliance_store::{Cursor, Key, Query};
use serde::Deserialize;
use serde_json::Value;

/// With an action filter, one request reads at most this many entries before it answers with
/// what it found and a cursor to continue.
const MAX_SCANNED: usize = 2_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

fn instant(field: &str, value: Option<&str>, default: &str) -> Result<String, ApiError> {
    match value {
        None => Ok(default.to_string()),
        Some(text) => parse_instant(text).map(rfc3339).ok_or_else(|| {
            ApiError::InvalidQuery(vec![FieldError::at(
                field,
                "must be an RFC 3339 timestamp such as 2026-04-26T00:00:00Z",
            )])
        }),
    }
}

fn valid_action(action: &str) -> bool {
    !action.is_empty()
        && action.len() <= 64
        && action
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Newest first; filters by action and time range; cursor pagination; the caller's org only.
pub async fn list(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Params(q): Params<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let (limit, mut cursor) = page_args(q.limit, q.cursor.as_deref())?;
    let from = instant("from", q.from.as_deref(), "0000-01-01T00:00:00.000000Z")?;
    let to = instant("to", q.to.as_deref(), "9999-12-31T23:59:59.999999Z")?;
    if from > to {
        return Err(ApiError::InvalidQuery(vec![FieldError::at(
            "from",
            "must not be after 'to'",
        )]));
    }
    if let Some(action) = &q.action {
        if !valid_action(action) {
            return Err(ApiError::InvalidQuery(vec![FieldError::at(
                "action",
                "must be an action code such as API_KEY_CREATED",
            )]));
        }
    }
    let range = keys::audit_range(&from, &to);
    let mut entries = Vec::new();
    let mut scanned = 0;
    let next = loop {
        let query = Query::new(keys::audit_pk(&principal.org_id), range.clone())
            .backward()
            .limit(limit)
            .after(cursor.take());
        let page = state.store.query(&query).await?;
        let count = page.items.len();
        let mut stopped_at = None;
        for (i, item) in page.items.into_iter().enumerate() {
            let sk = Key::of(&item).map(|k| k.sk);
            let entry = AuditEntry::from_item(item)?;
            if q.action.as_deref().is_none_or(|a| a == entry.action) {
                entries.push(entry);
            }
            if entries.len() == limit {
                if i + 1 < count || page.next.is_some() {
                    stopped_at = sk.map(Cursor::from_sort_key);
                }
                break;
            }
        }
        scanned += count;
        if entries.len() == limit {
            break stopped_at;
        }
        match page.next {
            Some(c) if scanned < MAX_SCANNED => cursor = Some(c),
            other => break other,
        }
    };
    Ok(paged("entries", &entries, next))
}
