use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use compliance_domain::time::parse_instant;
use compliance_http::{page_args, Admin, ApiError, AppState, Params};
use compliance_services::audit_log::{self, AuditEntry};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

fn instant(
    field: &str,
    value: Option<&str>,
    default: DateTime<Utc>,
) -> Result<DateTime<Utc>, ApiError> {
    match value {
        None => Ok(default),
        Some(text) => parse_instant(text).ok_or_else(|| {
            ApiError::query(
                field,
                "must be an RFC 3339 timestamp such as 2026-04-26T00:00:00Z",
            )
        }),
    }
}

/// One page of the audit log, newest first.
#[derive(Serialize)]
pub struct AuditLogPage {
    pub entries: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
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
) -> Result<Json<AuditLogPage>, ApiError> {
    let (limit, cursor) = page_args(q.limit, q.cursor.as_deref())?;
    // The first and last instants four-digit years write: they sort as the stored format does.
    let earliest = parse_instant("0000-01-01T00:00:00Z").expect("a valid instant");
    let latest = parse_instant("9999-12-31T23:59:59.999999Z").expect("a valid instant");
    let from = instant("from", q.from.as_deref(), earliest)?;
    let to = instant("to", q.to.as_deref(), latest)?;
    if from > to {
        return Err(ApiError::query("from", "must not be after 'to'"));
    }
    if let Some(action) = &q.action {
        if !valid_action(action) {
            return Err(ApiError::query(
                "action",
                "must be an action code such as API_KEY_CREATED",
            ));
        }
    }
    let (entries, next) = audit_log::list(
        state.store.as_ref(),
        &principal.org_id,
        q.action.as_deref(),
        (from, to),
        limit,
        cursor,
    )
    .await?;
    Ok(Json(AuditLogPage {
        entries,
        next_cursor: next.map(|c| c.encode()),
    }))
}
