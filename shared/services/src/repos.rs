//! Repositories: registered per org with an integer id from the org's atomic counter. Each
//! repository item in the org's partition is followed by the pointer to its latest scan
//! ([`LatestScanRecord`]), so a listing reads both in one Query.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use compliance_domain::ids::{OrgId, RepoId};
use compliance_store::record::{Record, Records, ENTITY};
use compliance_store::{
    keys, Condition, Cursor, Item, Key, Projection, Query, SortKeyRange, Store, StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit_log::{self, AuditAction, AuditContext};
use crate::latest;
use crate::org_inputs;
use crate::scans::LatestScanRecord;

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

/// The attributes of a stored repository (a projection that reads one must name them all).
pub const ATTRIBUTES: [&str; 6] = [
    "repo_id",
    "name",
    "default_branch",
    "languages",
    "created_at",
    "org_id",
];

/// What a read of the org's repositories asks of each item: the versions item's counts, the
/// repositories whole, the pointers of their latest scans' copies ([`latest`]), and what each
/// item is.
pub fn listing_projection() -> &'static Projection {
    static PROJECTION: LazyLock<Projection> = LazyLock::new(|| {
        Projection::new(
            [ENTITY]
                .into_iter()
                .chain(org_inputs::counted_attributes())
                .chain(ATTRIBUTES)
                .chain(latest::POINTER_ATTRIBUTES),
        )
    });
    &PROJECTION
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
        LatestScanRecord::empty(org, repo.repo_id).put_if(Condition::NotExists),
        crate::trends::marker(org, repo.repo_id),
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

/// The repository of its stored item (read with others, in one request).
pub fn from_item(item: compliance_store::Item) -> Result<Repo, StoreError> {
    Ok(StoredRepo::from_item(item)?.repo)
}

/// A listed repository, with the pointer to its latest scan read by the same Query.
pub struct Listed {
    pub repo: Repo,
    /// `None` when the listing holds no pointer: the repository was created before pointers
    /// were kept and has not been scanned since, so [`crate::scans::latest`] answers for it
    /// (also when its pointer fell on the next page, which only a pointer stored without its
    /// repository could cause). `Some`: which scan it names, if any ([`latest::resolve`] reads
    /// it).
    pub pointer: Option<LatestScanRecord>,
}

/// A page of the org's repositories by id (at most `limit`), each with the pointer to its
/// latest scan, and the cursor of the rest: one Query of the org's partition (`REPO#` prefix).
///
/// A repository is at most two items (itself, then its pointer), so the Query asks for `2 × limit`
/// items and the page ends after the `limit`-th repository's items, with a cursor on its last
/// item. The store's page is always as long as its limit when more items follow (DynamoDB's
/// adapter follows `LastEvaluatedKey` past each 1 MB response within the one call, and its
/// cursor is the last returned item's sort key, not DynamoDB's), so with pointers kept a page
/// holds `limit` repositories whenever more follow.
pub async fn list_with_latest(
    store: &dyn Store,
    org_id: &OrgId,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<Listed>, Option<Cursor>), StoreError> {
    let (listed, next, _) = list_from(store, org_id, keys::repos(org_id), limit, cursor).await?;
    Ok((listed, next))
}

/// The first page of [`list_with_latest`], and the org's versions item (`None`: not stored
/// yet), read by the same Query: the item sorts right before the first repository
/// ([`keys::repos_with_versions`]).
pub async fn first_page_with_versions(
    store: &dyn Store,
    org_id: &OrgId,
    limit: usize,
) -> Result<(Vec<Listed>, Option<Cursor>, Option<Item>), StoreError> {
    list_from(
        store,
        org_id,
        keys::repos_with_versions(org_id),
        limit,
        None,
    )
    .await
}

async fn list_from(
    store: &dyn Store,
    org_id: &OrgId,
    (pk, range): (String, SortKeyRange),
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<Listed>, Option<Cursor>, Option<Item>), StoreError> {
    // Two items per repository, and the versions item when the range holds it.
    let query = Query::new(pk, range)
        .limit(limit.saturating_mul(2).saturating_add(1))
        .after(cursor)
        .project(listing_projection().clone());
    let page = store.query(&query).await?;
    // Each listed repository with the sort key of its last item.
    let mut listed: Vec<(Listed, String)> = Vec::new();
    let mut versions = None;
    for item in page.items {
        let Some(sk) = Key::of(&item).map(|k| k.sk) else {
            continue;
        };
        let entity = item
            .get(ENTITY)
            .and_then(|e| e.as_str())
            .unwrap_or_default();
        if sk == keys::org_versions(org_id).sk {
            versions = Some(item);
        } else if entity == StoredRepo::ENTITY {
            let repo = StoredRepo::from_item(item)?.repo;
            listed.push((
                Listed {
                    repo,
                    pointer: None,
                },
                sk,
            ));
        } else if entity == LatestScanRecord::ENTITY {
            let pointer = LatestScanRecord::from_item(item)?;
            // A pointer belongs to the repository item right before it (a page that starts
            // with a pointer starts after its repository, which the previous page listed).
            if let Some((last, end)) = listed
                .last_mut()
                .filter(|(l, _)| l.repo.repo_id == pointer.repo_id)
            {
                last.pointer = Some(pointer);
                *end = sk;
            }
        }
    }
    let next = if listed.len() > limit {
        listed.truncate(limit);
        listed
            .last()
            .map(|(_, sk)| Cursor::from_sort_key(sk.clone()))
    } else {
        page.next
    };
    Ok((listed.into_iter().map(|(l, _)| l).collect(), next, versions))
}

/// A page of the org's repositories by id (the pointers to their latest scans, read by the same
/// Query, are dropped): see [`list_with_latest`].
pub async fn list(
    store: &dyn Store,
    org_id: &OrgId,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<Repo>, Option<Cursor>), StoreError> {
    let (listed, next) = list_with_latest(store, org_id, limit, cursor).await?;
    Ok((listed.into_iter().map(|l| l.repo).collect(), next))
}
