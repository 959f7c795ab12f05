use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use compliance_domain::ids::{OrgId, RepoId};
use compliance_http::ids::{repo_in_path, repo_not_found};
use compliance_http::{
    page_args, ApiError, AppState, Caller, Contributor, FieldError, JsonBody, Meta, PageParams,
    Params,
};
use compliance_services::repos::{self, Created, Repo};
use serde::{Deserialize, Serialize};
use serde_json::json;

const MAX_NAME: usize = 200;
const MAX_LANGUAGES: usize = 50;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRepo {
    name: String,
    default_branch: Option<String>,
    #[serde(default)]
    languages: Vec<String>,
}

/// Repository names as hosts spell their paths (GitHub, GitLab and Bitbucket paths are ASCII):
/// `checkout-service`, `acme/checkout.v2`.
fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/-".contains(&b))
}

fn valid_token(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/+#-".contains(&b))
}

/// The caller's repository, or 404 (whether absent or another org's).
pub async fn owned(state: &AppState, org_id: &OrgId, id: &str) -> Result<Repo, ApiError> {
    let id = repo_in_path(id)?;
    repos::get(state.store.as_ref(), org_id, id)
        .await?
        .ok_or_else(repo_not_found)
}

/// A repository as the API shows it.
#[derive(Serialize)]
pub struct RepoView {
    pub repo_id: RepoId,
    pub name: String,
    pub default_branch: Option<String>,
    pub languages: Vec<String>,
    #[serde(with = "compliance_domain::time::micros")]
    pub created_at: DateTime<Utc>,
}

impl From<Repo> for RepoView {
    fn from(r: Repo) -> Self {
        RepoView {
            repo_id: r.repo_id,
            name: r.name,
            default_branch: r.default_branch,
            languages: r.languages,
            created_at: r.created_at,
        }
    }
}

#[derive(Serialize)]
pub struct RepoList {
    pub repos: Vec<RepoView>,
    pub next_cursor: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    Contributor(principal): Contributor,
    Meta(meta): Meta,
    JsonBody(body): JsonBody<CreateRepo>,
) -> Result<(StatusCode, Json<RepoView>), ApiError> {
    let mut errors = Vec::new();
    let name = body.name.trim().to_string();
    if !valid_name(&name) {
        errors.push(FieldError::at(
            "name",
            format!("1 to {MAX_NAME} characters: ASCII letters, digits and . _ / - (as hosts spell repository paths)"),
        ));
    }
    if let Some(b) = &body.default_branch {
        if !valid_token(b, 255) {
            errors.push(FieldError::at("default_branch", "not a valid branch name"));
        }
    }
    if body.languages.len() > MAX_LANGUAGES {
        errors.push(FieldError::at(
            "languages",
            format!("at most {MAX_LANGUAGES}"),
        ));
    }
    for (i, l) in body.languages.iter().enumerate() {
        if !valid_token(l, 64) {
            errors.push(FieldError::new(
                vec![json!("languages"), json!(i)],
                "not a valid language name",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut languages: Vec<String> = Vec::new();
    for l in &body.languages {
        let l = l.to_ascii_lowercase();
        if !languages.contains(&l) {
            languages.push(l);
        }
    }
    let ctx = state.audit(&principal, meta);
    match repos::create(
        state.store.as_ref(),
        &ctx,
        &name,
        body.default_branch,
        languages,
    )
    .await?
    {
        Created::Repo(repo) => Ok((StatusCode::CREATED, Json(repo.into()))),
        Created::NameTaken => Err(ApiError::Conflict(format!(
            "A repository named '{name}' already exists"
        ))),
    }
}

pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Params(page): Params<PageParams>,
) -> Result<Json<RepoList>, ApiError> {
    let (limit, cursor) = page_args(page.limit, page.cursor.as_deref())?;
    let (repos, next) = repos::list(state.store.as_ref(), &principal.org_id, limit, cursor).await?;
    Ok(Json(RepoList {
        repos: repos.into_iter().map(RepoView::from).collect(),
        next_cursor: next.map(|c| c.encode()),
    }))
}

pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> Result<Json<RepoView>, ApiError> {
    Ok(Json(owned(&state, &principal.org_id, &id).await?.into()))
}
