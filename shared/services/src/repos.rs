//! Repositories: registered per org with an integer id from the org's atomic counter.

use chrono::{DateTime, Utc};
use compliance_domain::ids::{OrgId, RepoId};
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Cursor, Key, Query, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit_log::{self, AuditAction, AuditContext};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repo {
    pub repo_id: RepoId,
    pub name: String,
    pub default_branch: Option<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(with = "compliance_domain::time::micros")]
    pub created_at: DateTime<Utc>,
}

/// A repository as stored in its org.
#[derive(Serialize, Deserialize)]
struct StoredRepo {
    #[serde(flatten)]
    repo: Repo,
    org_id: OrgId,
}

impl Record for StoredRepo {
    const ENTITY: &'static str = "repo";

    fn key(&self) -> Key {
        keys::repo(&self.org_id, self.repo.repo_id)
    }
}

/// Create-once guard of a name within the org (names are unique ignoring case).
#[derive(Serialize, Deserialize)]
struct NameGuard {
    org_id: OrgId,
    lowercase_name: String,
    repo_id: RepoId,
}

impl Record for NameGuard {
    const ENTITY: &'static str = "repo_name";

    fn key(&self) -> Key {
        keys::repo_name(&self.org_id, &self.lowercase_name)
    }
}

/// The entry of the repository index the daily snapshot walks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexEntry {
    pub org_id: OrgId,
    pub repo_id: RepoId,
}

impl Record for IndexEntry {
    const ENTITY: &'static str = "repo_index";

    fn key(&self) -> Key {
        keys::repo_index_entry(&self.org_id, self.repo_id)
    }
}

pub enum Created {
    Repo(Repo),
    NameTaken,
}

pub async fn create(
    store: &dyn Store,
    ctx: &AuditContext,
    name: &str,
    default_branch: Option<String>,
    languages: Vec<String>,
) -> Result<Created, StoreError> {
    let org = &ctx.org_id;
    let lowercase_name = name.to_lowercase();
    if store
        .get(&keys::repo_name(org, &lowercase_name))
        .await?
        .is_some()
    {
        return Ok(Created::NameTaken);
    }
    let id = store
        .increment(&keys::repo_counter(org), "value", 1)
        .await?;
    let repo = Repo {
        repo_id: RepoId::new(id as u64).map_err(|e| StoreError::Invalid(e.to_string()))?,
        name: name.to_string(),
        default_branch,
        languages,
        created_at: ctx.at,
    };
    let guard = NameGuard {
        org_id: org.clone(),
        lowercase_name,
        repo_id: repo.repo_id,
    };
    let index = IndexEntry {
        org_id: org.clone(),
        repo_id: repo.repo_id,
    };
    let stored = StoredRepo {
        repo: repo.clone(),
        org_id: org.clone(),
    };
    let ops = vec![
        guard.put_if(Condition::NotExists),
        stored.put_if(Condition::NotExists),
        index.put_if(Condition::NotExists),
    ];
    let metadata = json!({"repo_id": repo.repo_id, "after": {"name": repo.name, "default_branch": repo.default_branch, "languages": repo.languages}});
    match audit_log::commit(store, ops, ctx, AuditAction::RepoCreated, metadata).await {
        Ok(_) => Ok(Created::Repo(repo)),
        Err(StoreError::ConditionFailed { index: 0, .. }) => Ok(Created::NameTaken),
        Err(e) => Err(e),
    }
}

pub async fn get(
    store: &dyn Store,
    org_id: &OrgId,
    repo_id: RepoId,
) -> Result<Option<Repo>, StoreError> {
    let stored: Option<StoredRepo> = store.get_record(&keys::repo(org_id, repo_id)).await?;
    Ok(stored.map(|s| s.repo))
}

pub async fn list(
    store: &dyn Store,
    org_id: &OrgId,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<Repo>, Option<Cursor>), StoreError> {
    let (pk, range) = keys::repos(org_id);
    let query = Query::new(pk, range).limit(limit).after(cursor);
    let (stored, next): (Vec<StoredRepo>, _) = store.query_records(&query).await?;
    Ok((stored.into_iter().map(|s| s.repo).collect(), next))
}
