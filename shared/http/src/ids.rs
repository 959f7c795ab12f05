//! Ids from paths and query strings, parsed once (see `compliance_domain::ids`). An id in a
//! path that does not parse names nothing: 404, as an unknown one. An id in a query string that
//! does not parse is a bad parameter: 400 naming it.

use compliance_domain::ids::RepoId;

use crate::error::ApiError;

pub fn repo_not_found() -> ApiError {
    ApiError::NotFound("Repository not found".into())
}

/// `{repo_id}` of a path.
pub fn repo_in_path(text: &str) -> Result<RepoId, ApiError> {
    text.parse().map_err(|_| repo_not_found())
}

/// `?repo_id=` of a query string.
pub fn repo_in_query(text: &str) -> Result<RepoId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::query("repo_id", "must be a positive integer"))
}

/// A text echoed in a message only as far as it could be an id (never control characters).
pub fn shown(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_-.:()/".contains(*c))
        .take(64)
        .collect()
}
