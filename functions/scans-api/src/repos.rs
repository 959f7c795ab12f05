use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use compliance_domain::ids::{OrgId, RepoId};
use compliance_http::body::{FromBody, Object};
use compliance_http::ids::{repo_in_path, repo_not_found};
use compliance_http::{
    page_args, ApiError, AppState, Caller, Contributor, JsonBody, Meta, PageParams, Params,
};
use compliance_services::repos::{self, Created, Repo};
use serde::Serialize;

const MAX_NAME: usize = 200;
const MAX_LANGUAGES: usize = 50;

/// `{"name", "default_branch"?, "languages"?}`.
pub struct CreateRepo {
    name: String,
    default_branch: Option<String>,
    /// Lower-cased, each once.
    languages: Vec<String>,
}

impl FromBody for CreateRepo {
    fn from_body(body: &mut Object) -> Option<Self> {
        let name = body.required("name", |f| {
            let name = f.value().as_str().map(str::trim).filter(|n| valid_name(n));
            match name {
                Some(n) => Some(n.to_string()),
                None => f.invalid(format!(
                    "1 to {MAX_NAME} characters: ASCII letters, digits and . _ / - (as hosts spell repository paths)"
                )),
            }
        });
        let default_branch = body.optional("default_branch", |f| match f.value().as_str() {
            Some(b) if valid_token(b, 255) => Some(b.to_string()),
            _ => f.invalid("not a valid branch name"),
        });
        let languages = body.optional("languages", |f| {
            f.array(0, MAX_LANGUAGES, |l| match l.value().as_str() {
                Some(l) if valid_token(l, 64) => Some(l.to_ascii_lowercase()),
                _ => l.invalid("not a valid language name"),
            })
        });
        let mut unique: Vec<String> = Vec::new();
        for l in languages?.unwrap_or_default() {
            if !unique.contains(&l) {
                unique.push(l);
            }
        }
        Some(CreateRepo {
            name: name?,
            default_branch: default_branch?,
            languages: unique,
        })
    }
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
    let name = body.name;
    let ctx = state.audit(&principal, meta);
    match repos::create(
        state.store.as_ref(),
        &ctx,
        &name,
        body.default_branch,
        body.languages,
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
