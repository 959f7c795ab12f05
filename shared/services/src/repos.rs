//! Repositories: registered per org with an integer id from the org's atomic counter.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::audit_log::{self, AuditContext};
use compliance_store::keys;
use compliance_store::{Condition, Cursor, Item, Query, Store, StoreError, WriteOp};

pub const REPO_CREATED: &str = "REPO_CREATED";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repo {
    pub repo_id: u64,
    pub name: String,
    pub default_branch: Option<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    pub created_at: String,
}

impl Repo {
    fn to_item(&self, org_id: &str) -> Item {
        let key = keys::repo(org_id, self.repo_id);
        let mut item = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => unreachable!("Repo serialises to an object"),
        };
        item.insert("PK".into(), key.pk.into());
        item.insert("SK".into(), key.sk.into());
        item.insert(keys::ENTITY.into(), json!("repo"));
        item.insert("org_id".into(), json!(org_id));
        item
    }

    fn from_item(item: Item) -> Result<Repo, StoreError> {
        serde_json::from_value(Value::Object(item))
            .map_err(|e| StoreError::Backend(format!("malformed repo item: {e}")))
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
    let lower = name.to_ascii_lowercase();
    if store
        .get(&keys::repo_name(&ctx.org_id, &lower))
        .await?
        .is_some()
    {
        return Ok(Created::NameTaken);
    }
    let id = store
        .increment(&keys::counter(&ctx.org_id, "REPO"), "value", 1)
        .await?;
    let repo = Repo {
        repo_id: id as u64,
        name: name.to_string(),
        default_branch,
        languages,
        created_at: compliance_domain::time::rfc3339(ctx.at),
    };
    let guard_key = keys::repo_name(&ctx.org_id, &lower);
    let mut guard = Item::new();
    guard.insert("PK".into(), guard_key.pk.into());
    guard.insert("SK".into(), guard_key.sk.into());
    guard.insert("repo_id".into(), json!(repo.repo_id));
    // The snapshot's index of every repository, sharded so it can be walked in parallel.
    let index_key = keys::repo_index_entry(&ctx.org_id, repo.repo_id);
    let mut index = Item::new();
    index.insert("PK".into(), index_key.pk.into());
    index.insert("SK".into(), index_key.sk.into());
    index.insert(keys::ENTITY.into(), json!("repo_index"));
    index.insert("org_id".into(), json!(ctx.org_id));
    index.insert("repo_id".into(), json!(repo.repo_id));
    let ops = vec![
        WriteOp::put_if(guard, Condition::NotExists),
        WriteOp::put_if(repo.to_item(&ctx.org_id), Condition::NotExists),
        WriteOp::put_if(index, Condition::NotExists),
    ];
    let metadata = json!({"repo_id": repo.repo_id, "after": {"name": repo.name, "default_branch": repo.default_branch, "languages": repo.languages}});
    match audit_log::commit(store, ops, ctx, REPO_CREATED, metadata).await {
        Ok(_) => Ok(Created::Repo(repo)),
        Err(StoreError::ConditionFailed { index: 0, .. }) => Ok(Created::NameTaken),
        Err(e) => Err(e),
    }
}

pub async fn get(
    store: &dyn Store,
    org_id: &str,
    repo_id: u64,
) -> Result<Option<Repo>, StoreError> {
    store
        .get(&keys::repo(org_id, repo_id))
        .await?
        .map(Repo::from_item)
        .transpose()
}

pub async fn list(
    store: &dyn Store,
    org_id: &str,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<Repo>, Option<Cursor>), StoreError> {
    let (pk, range) = keys::repos(org_id);
    let page = store
        .query(&Query::new(pk, range).limit(limit).after(cursor))
        .await?;
    let repos = page
        .items
        .into_iter()
        .map(Repo::from_item)
        .collect::<Result<_, _>>()?;
    Ok((repos, page.next))
}
