//! Orgs: the tenant. Created by the operator CLI (or the local server's first start).

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use compliance_domain::plans::Plan;
use compliance_store::keys;
use compliance_store::{Item, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub id: String,
    pub name: String,
    pub plan: Plan,
    pub created_at: String,
}

impl Org {
    pub fn new(name: &str, plan: Plan) -> Self {
        Org {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_string(),
            plan,
            created_at: compliance_domain::time::now_rfc3339(),
        }
    }

    pub fn to_item(&self) -> Item {
        let key = keys::org_profile(&self.id);
        let Value::Object(item) = json!({
            "PK": key.pk, "SK": key.sk, keys::ENTITY: "org",
            "org_id": self.id, "name": self.name, "plan": self.plan,
            "created_at": self.created_at, "updated_at": Utc::now().to_rfc3339(),
        }) else {
            unreachable!("json! object literal")
        };
        item
    }

    pub fn from_item(item: Item) -> Result<Self, StoreError> {
        serde_json::from_value(json!({
            "id": item.get("org_id"), "name": item.get("name"),
            "plan": item.get("plan"), "created_at": item.get("created_at"),
        }))
        .map_err(|e| StoreError::Backend(format!("malformed org item: {e}")))
    }
}

pub async fn get(store: &dyn Store, org_id: &str) -> Result<Option<Org>, StoreError> {
    store
        .get(&keys::org_profile(org_id))
        .await?
        .map(Org::from_item)
        .transpose()
}

/// Creates the org; `marker` makes the creation happen once (the local server's demo org).
pub async fn create(
    store: &dyn Store,
    org: &Org,
    ctx_actor: (compliance_domain::identity::ActorKind, &str),
    retention_days: i64,
    marker: Option<compliance_store::Key>,
) -> Result<(), StoreError> {
    use crate::audit_log::{actions, commit, AuditContext};
    use compliance_store::{Condition, WriteOp};
    let mut ops = vec![WriteOp::put_if(org.to_item(), Condition::NotExists)];
    if let Some(marker) = marker {
        let mut item = Item::new();
        item.insert("PK".into(), marker.pk.into());
        item.insert("SK".into(), marker.sk.into());
        item.insert("org_id".into(), json!(org.id));
        ops.push(WriteOp::put_if(item, Condition::NotExists));
    }
    let ctx = AuditContext::system(&org.id, ctx_actor.0, ctx_actor.1, retention_days);
    let metadata = json!({"after": {"name": org.name, "plan": org.plan}});
    commit(store, ops, &ctx, actions::ORG_CREATED, metadata).await?;
    Ok(())
}

/// Changes the org's plan (operator only), audited with before and after.
pub async fn set_plan(
    store: &dyn Store,
    org_id: &str,
    plan: Plan,
    ctx: &crate::audit_log::AuditContext,
) -> Result<Option<Org>, StoreError> {
    use crate::audit_log::{actions, commit};
    use compliance_store::{Condition, WriteOp};
    let Some(before) = get(store, org_id).await? else {
        return Ok(None);
    };
    let after = Org {
        plan,
        ..before.clone()
    };
    let ops = vec![WriteOp::put_if(
        after.to_item(),
        Condition::Equals("plan".into(), json!(before.plan)),
    )];
    let metadata = json!({"before": {"plan": before.plan}, "after": {"plan": plan}});
    commit(store, ops, ctx, actions::ORG_PLAN_CHANGED, metadata).await?;
    Ok(Some(after))
}
