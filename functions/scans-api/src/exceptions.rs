//! Exceptions to findings, for one repository (`/api/repos/{repo_id}/exceptions`) or every
//! repository of the org (`/api/compliance/exceptions`, admins). Members and above request;
//! admins and above decide, never on their own request.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use compliance_domain::identity::Principal;
use compliance_domain::ids::Uuid;
use compliance_domain::time::rfc3339;
use compliance_http::body::{Field, FromBody, Object, Text};
use compliance_http::ids::{repo_in_path, repo_not_found};
use compliance_http::{
    page_args, Admin, ApiError, AppState, Caller, Contributor, JsonBody, Meta, Params, Problem,
};
use compliance_services::exceptions::{
    self, check_expiry, Decided, Decision, Exception, ExceptionKind, ExceptionState, ExpiryProblem,
    Filter, NewException, Scope, Target,
};
use compliance_services::{compliance_settings, repos};
use serde::{Deserialize, Serialize};

const MAX_JUSTIFICATION: usize = 2_000;
const MAX_REASON: usize = 1_000;
const MAX_FINGERPRINTS: usize = 1_000;
const MAX_FINGERPRINT: usize = 200;
const MAX_RULE_ID: usize = 200;
const MAX_PATH_GLOB: usize = 500;
/// CWE ids are small positive integers (the list is under 1,500 today).
const MAX_CWE: i64 = 100_000;

/// `{"scope", "kind", "justification", "expires_at"?}`.
pub struct RequestException {
    scope: Scope,
    kind: ExceptionKind,
    justification: String,
    expires_at: Option<DateTime<Utc>>,
}

impl FromBody for RequestException {
    fn from_body(body: &mut Object) -> Option<Self> {
        let scope = body.required("scope", |f| f.object(read_scope));
        let kind = body.required("kind", |f| f.label());
        let justification = body.required("justification", |f| {
            f.text(Text {
                newlines: true,
                ..Text::chars(1, MAX_JUSTIFICATION)
            })
        });
        let expires_at = body.optional("expires_at", |f| {
            f.parsed(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| "must be an RFC 3339 date-time (2027-01-31T00:00:00Z)")
            })
        });
        Some(RequestException {
            scope: scope?,
            kind: kind?,
            justification: justification?,
            expires_at: expires_at?,
        })
    }
}

/// One of `{"fingerprints": [...]}`, `{"rule_id", "path"?}`, `{"cwe"}`.
fn read_scope(o: &mut Object) -> Option<Scope> {
    let fingerprints = o.optional("fingerprints", |f| {
        f.array(1, MAX_FINGERPRINTS, |f| {
            f.text(Text::chars(1, MAX_FINGERPRINT))
        })
    })?;
    let rule_id = o.optional("rule_id", |f| f.text(Text::chars(1, MAX_RULE_ID)))?;
    let path = o.optional("path", |f| f.text(Text::chars(1, MAX_PATH_GLOB)))?;
    let cwe = o.optional("cwe", cwe)?;
    match (fingerprints, rule_id, path, cwe) {
        (Some(fingerprints), None, None, None) => Some(Scope::Fingerprints { fingerprints }),
        (None, Some(rule_id), path, None) => Some(Scope::Rule { rule_id, path }),
        (None, None, None, Some(cwe)) => Some(Scope::Cwe { cwe }),
        (None, None, Some(_), None) => {
            o.fail_at(
                "rule_id",
                Problem::Invalid("required with 'path': a path glob narrows a rule".into()),
            );
            None
        }
        _ => {
            o.fail_at("fingerprints", Problem::Invalid(SCOPE_FORMS.into()));
            None
        }
    }
}

const SCOPE_FORMS: &str = "a scope is exactly one of {\"fingerprints\": [...]}, \
                           {\"rule_id\": \"...\", \"path\": \"glob\"} (path optional) or {\"cwe\": 79}";

/// `79` or `"CWE-79"`.
fn cwe(f: Field) -> Option<u32> {
    match f.value() {
        serde_json::Value::String(_) => f.parsed(|s| {
            s.strip_prefix("CWE-")
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| (1..=MAX_CWE as u32).contains(n))
                .ok_or("must be a CWE id: 79 or \"CWE-79\"")
        }),
        _ => f.integer(1, MAX_CWE).map(|n| n as u32),
    }
}

/// `{"reason"}`, required to reject.
pub struct Reasoned {
    reason: String,
}

impl FromBody for Reasoned {
    fn from_body(body: &mut Object) -> Option<Self> {
        let reason = body.required("reason", reason_text);
        Some(Reasoned { reason: reason? })
    }
}

/// `{"reason"?}`: a revocation may say why.
pub struct MaybeReasoned {
    reason: Option<String>,
}

impl FromBody for MaybeReasoned {
    fn from_body(body: &mut Object) -> Option<Self> {
        let reason = body.optional("reason", reason_text);
        Some(MaybeReasoned { reason: reason? })
    }
}

fn reason_text(f: Field) -> Option<String> {
    f.text(Text {
        newlines: true,
        ..Text::chars(1, MAX_REASON)
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionQuery {
    state: Option<ExceptionState>,
    kind: Option<ExceptionKind>,
    rule_id: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// An exception as the caller sees it.
#[derive(Serialize)]
pub struct ExceptionView {
    #[serde(flatten)]
    pub exception: Exception,
    /// Whether the caller may approve or reject it now (still requested, admin and above, not
    /// its requester): what a client shows the decision for.
    pub can_decide: bool,
}

impl ExceptionView {
    fn for_caller(exception: Exception, principal: &Principal) -> Self {
        ExceptionView {
            can_decide: exception.decidable_by(principal),
            exception,
        }
    }
}

#[derive(Serialize)]
pub struct ExceptionList {
    pub exceptions: Vec<ExceptionView>,
    pub next_cursor: Option<String>,
}

/// The repository of the path, in the caller's org (404 otherwise).
async fn repo_target(
    state: &AppState,
    principal: &Principal,
    repo: &str,
) -> Result<Target, ApiError> {
    let repo_id = repo_in_path(repo)?;
    repos::get(state.store.as_ref(), &principal.org_id, repo_id)
        .await?
        .ok_or_else(repo_not_found)?;
    Ok(Target::Repo(repo_id))
}

fn exception_not_found() -> ApiError {
    ApiError::NotFound("Exception not found".into())
}

fn exception_in_path(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse(text).map_err(|_| exception_not_found())
}

async fn request(
    state: &AppState,
    principal: &Principal,
    meta: compliance_services::audit_log::RequestMeta,
    target: Target,
    body: RequestException,
) -> Result<(StatusCode, Json<ExceptionView>), ApiError> {
    let ctx = state.audit(principal, meta);
    let max_days = compliance_settings::get(state.store.as_ref(), &principal.org_id)
        .await?
        .exception_max_days;
    if let Err(problem) = check_expiry(body.kind, body.expires_at, ctx.at, i64::from(max_days)) {
        let message = match problem {
            ExpiryProblem::Required(kind) => {
                format!("required for a {kind} exception: it accepts a risk until a date")
            }
            ExpiryProblem::NotInFuture => "must be in the future".to_string(),
            ExpiryProblem::BeyondMaximum(latest) => format!(
                "at most {max_days} days from now, the org's maximum (no later than {})",
                rfc3339(latest)
            ),
        };
        return Err(ApiError::Validation(vec![compliance_http::FieldError::at(
            "expires_at",
            message,
        )]));
    }
    let new = NewException {
        scope: body.scope,
        kind: body.kind,
        justification: body.justification,
        expires_at: body.expires_at,
    };
    let created = exceptions::request(state.store.as_ref(), &ctx, target, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(ExceptionView::for_caller(created, principal)),
    ))
}

pub async fn request_for_repo(
    State(state): State<AppState>,
    Contributor(principal): Contributor,
    Meta(meta): Meta,
    Path(repo): Path<String>,
    JsonBody(body): JsonBody<RequestException>,
) -> Result<(StatusCode, Json<ExceptionView>), ApiError> {
    let target = repo_target(&state, &principal, &repo).await?;
    request(&state, &principal, meta, target, body).await
}

pub async fn request_for_org(
    State(state): State<AppState>,
    Admin(principal): Admin,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<RequestException>,
) -> Result<(StatusCode, Json<ExceptionView>), ApiError> {
    request(&state, &principal, meta, Target::Org, body).await
}

async fn list(
    state: &AppState,
    principal: &Principal,
    target: Target,
    query: ExceptionQuery,
) -> Result<Json<ExceptionList>, ApiError> {
    let (limit, cursor) = page_args(query.limit, query.cursor.as_deref())?;
    let filter = Filter {
        state: query.state,
        kind: query.kind,
        rule_id: query.rule_id,
    };
    let (page, next) = exceptions::list(
        state.store.as_ref(),
        &principal.org_id,
        target,
        &filter,
        state.now(),
        limit,
        cursor,
    )
    .await?;
    Ok(Json(ExceptionList {
        exceptions: page
            .into_iter()
            .map(|e| ExceptionView::for_caller(e, principal))
            .collect(),
        next_cursor: next.map(|c| c.encode()),
    }))
}

pub async fn list_for_repo(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(repo): Path<String>,
    Params(query): Params<ExceptionQuery>,
) -> Result<Json<ExceptionList>, ApiError> {
    let target = repo_target(&state, &principal, &repo).await?;
    list(&state, &principal, target, query).await
}

pub async fn list_for_org(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Params(query): Params<ExceptionQuery>,
) -> Result<Json<ExceptionList>, ApiError> {
    list(&state, &principal, Target::Org, query).await
}

async fn get(
    state: &AppState,
    principal: &Principal,
    target: Target,
    id: &str,
) -> Result<Json<ExceptionView>, ApiError> {
    let id = exception_in_path(id)?;
    exceptions::get(
        state.store.as_ref(),
        &principal.org_id,
        target,
        &id,
        state.now(),
    )
    .await?
    .map(|e| Json(ExceptionView::for_caller(e, principal)))
    .ok_or_else(exception_not_found)
}

pub async fn get_for_repo(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((repo, id)): Path<(String, String)>,
) -> Result<Json<ExceptionView>, ApiError> {
    let target = repo_target(&state, &principal, &repo).await?;
    get(&state, &principal, target, &id).await
}

pub async fn get_for_org(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Result<Json<ExceptionView>, ApiError> {
    get(&state, &principal, Target::Org, &id).await
}

async fn decide(
    state: &AppState,
    principal: &Principal,
    meta: compliance_services::audit_log::RequestMeta,
    target: Target,
    id: &str,
    decision: Decision,
) -> Result<Json<ExceptionView>, ApiError> {
    let id = exception_in_path(id)?;
    let ctx = state.audit(principal, meta);
    match exceptions::decide(state.store.as_ref(), &ctx, target, &id, decision).await? {
        Decided::Done(exception) => Ok(Json(ExceptionView::for_caller(*exception, principal))),
        Decided::NotFound => Err(exception_not_found()),
        Decided::OwnRequest => Err(ApiError::Forbidden(
            "An exception is decided by someone other than its requester".into(),
        )),
        Decided::NotAllowed(now) => Err(ApiError::Conflict(format!(
            "The exception is {now}: only a requested exception can be approved or rejected, \
             and only a requested or approved one revoked"
        ))),
    }
}

/// The three decisions, for a repository's exceptions and for the org's.
macro_rules! decisions {
    ($approve:ident, $reject:ident, $revoke:ident, $path:ty, $target:expr) => {
        pub async fn $approve(
            State(state): State<AppState>,
            Admin(principal): Admin,
            Meta(meta): Meta,
            Path(path): Path<$path>,
        ) -> Result<Json<ExceptionView>, ApiError> {
            let (target, id) = $target(&state, &principal, path).await?;
            decide(&state, &principal, meta, target, &id, Decision::Approve).await
        }

        pub async fn $reject(
            State(state): State<AppState>,
            Admin(principal): Admin,
            Meta(meta): Meta,
            Path(path): Path<$path>,
            JsonBody(body): JsonBody<Reasoned>,
        ) -> Result<Json<ExceptionView>, ApiError> {
            let (target, id) = $target(&state, &principal, path).await?;
            let decision = Decision::Reject {
                reason: body.reason,
            };
            decide(&state, &principal, meta, target, &id, decision).await
        }

        pub async fn $revoke(
            State(state): State<AppState>,
            Admin(principal): Admin,
            Meta(meta): Meta,
            Path(path): Path<$path>,
            JsonBody(body): JsonBody<MaybeReasoned>,
        ) -> Result<Json<ExceptionView>, ApiError> {
            let (target, id) = $target(&state, &principal, path).await?;
            let decision = Decision::Revoke {
                reason: body.reason,
            };
            decide(&state, &principal, meta, target, &id, decision).await
        }
    };
}

async fn repo_path(
    state: &AppState,
    principal: &Principal,
    (repo, id): (String, String),
) -> Result<(Target, String), ApiError> {
    Ok((repo_target(state, principal, &repo).await?, id))
}

async fn org_path(_: &AppState, _: &Principal, id: String) -> Result<(Target, String), ApiError> {
    Ok((Target::Org, id))
}

decisions!(
    approve_for_repo,
    reject_for_repo,
    revoke_for_repo,
    (String, String),
    repo_path
);
decisions!(
    approve_for_org,
    reject_for_org,
    revoke_for_org,
    String,
    org_path
);
