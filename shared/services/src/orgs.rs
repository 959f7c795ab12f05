//! Orgs: the tenant. Created by the operator CLI (or the local server's first start).

use chrono::{DateTime, Utc};
use compliance_domain::identity::ActorKind;
use compliance_domain::ids::OrgId;
use compliance_domain::plans::Plan;
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Key, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit_log::{commit, AuditAction, AuditContext};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    #[serde(rename = "org_id")]
    pub id: OrgId,
    pub name: String,
    pub plan: Plan,
    #[serde(with = "compliance_domain::time::micros")]
    pub created_at: DateTime<Utc>,
}

impl Record for Org {
    const ENTITY: &'static str = "org";

    fn key(&self) -> Key {
        keys::org_profile(&self.id)
    }
}

/// Makes a one-time creation (the local server's demo org) happen once.
#[derive(Serialize, Deserialize)]
pub struct BootstrapMarker {
    #[serde(skip)]
    pub name: &'static str,
    pub org_id: OrgId,
}

impl Record for BootstrapMarker {
    const ENTITY: &'static str = "bootstrap";

    fn key(&self) -> Key {
        keys::bootstrap_marker(self.name)
    }
}

impl Org {
    pub fn new(name: &str, plan: Plan) -> Self {
        Org {
            id: OrgId::parse(&uuid::Uuid::new_v4().to_string()).expect("a UUID is a valid org id"),
            name: name.to_string(),
            plan,
            created_at: Utc::now(),
        }
    }
}

pub async fn get(store: &dyn Store, org_id: &OrgId) -> Result<Option<Org>, StoreError> {
    store.get_record(&keys::org_profile(org_id)).await
}

/// Whether the one-time creation `name` has happened.
pub async fn bootstrapped(store: &dyn Store, name: &str) -> Result<bool, StoreError> {
    Ok(store.get(&keys::bootstrap_marker(name)).await?.is_some())
}

/// Creates the org; `once` makes the creation happen once (the local server's demo org).
pub async fn create(
    store: &dyn Store,
    org: &Org,
    actor: (ActorKind, &str),
    retention_days: i64,
    once: Option<&'static str>,
) -> Result<(), StoreError> {
    let mut ops = vec![org.put_if(Condition::NotExists)];
    if let Some(name) = once {
        let marker = BootstrapMarker {
            name,
            org_id: org.id.clone(),
        };
        ops.push(marker.put_if(Condition::NotExists));
    }
    let ctx = AuditContext::system(&org.id, actor.0, actor.1, retention_days);
    let metadata = json!({"after": {"name": org.name, "plan": org.plan}});
    commit(store, ops, &ctx, AuditAction::OrgCreated, metadata).await?;
    Ok(())
}

/// Changes the org's plan (operator only), audited with before and after.
pub async fn set_plan(
    store: &dyn Store,
    org_id: &OrgId,
    plan: Plan,
    ctx: &AuditContext,
) -> Result<Option<Org>, StoreError> {
    let Some(before) = get(store, org_id).await? else {
        return Ok(None);
    };
    let after = Org {
        plan,
        ..before.clone()
    };
    let ops = vec![after.put_if(Condition::Equals("plan".into(), json!(before.plan)))];
    let metadata = json!({"before": {"plan": before.plan}, "after": {"plan": plan}});
    commit(store, ops, ctx, AuditAction::OrgPlanChanged, metadata).await?;
    Ok(Some(after))
}
