//! Org-defined frameworks as stored: one item per framework under the org's partition. Input
//! validation happens at the HTTP edge; what is stored here has already been parsed.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use compliance_domain::catalog::{
    CheckType, Control, Domain, Framework, PassCondition, Recommendation,
};
use compliance_store::keys;
use compliance_store::{Condition, Item, Query, SortKeyRange, Store, StoreError, WriteOp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomControl {
    pub id: String,
    pub name: String,
    pub category: String,
    #[serde(default)]
    pub description: String,
    pub check_type: CheckType,
    /// Canonical text of a condition already validated for the check type.
    pub pass_condition: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomFramework {
    pub id: i64,
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub controls: Vec<CustomControl>,
    pub created_at: String,
    pub updated_at: String,
}

pub const MAX_PER_ORG: usize = 50;

impl CustomFramework {
    pub fn to_item(&self, org_id: &str) -> Item {
        let key = keys::custom_framework(org_id, &self.key);
        let mut item = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => unreachable!("CustomFramework serialises to an object"),
        };
        item.insert("PK".into(), key.pk.into());
        item.insert("SK".into(), key.sk.into());
        item.insert(keys::ENTITY.into(), json!("custom_framework"));
        item.insert("org_id".into(), json!(org_id));
        item
    }

    /// The write of this framework: a create must not find one, an update must find the very
    /// version it read.
    pub fn write_op(&self, org_id: &str, previous: Option<&CustomFramework>) -> WriteOp {
        let condition = match previous {
            None => Condition::NotExists,
            Some(p) => Condition::Equals("updated_at".into(), json!(p.updated_at)),
        };
        WriteOp::put_if(self.to_item(org_id), condition)
    }

    /// As a catalog framework, so that listing, selection and scoring treat it like a built-in.
    pub fn to_framework(&self) -> Framework {
        Framework {
            key: self.key.clone(),
            name: self.name.clone(),
            // The stored description, empty or not: one value everywhere it is shown.
            description: self.description.clone(),
            requires_plan: None,
            custom: true,
            controls: self
                .controls
                .iter()
                .map(|c| Control {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    category: c.category.clone(),
                    description: c.description.clone(),
                    check_type: c.check_type,
                    pass_condition: PassCondition::parse(c.check_type, &c.pass_condition)
                        .unwrap_or_else(|_| PassCondition::default_for(c.check_type)),
                    recommendation: Recommendation::Required,
                    recommendation_reason: "Defined by your organization's own framework."
                        .to_string(),
                    domain: Domain::for_check_type(c.check_type),
                })
                .collect(),
        }
    }
}

fn from_item(item: Item) -> Result<CustomFramework, StoreError> {
    serde_json::from_value(Value::Object(item))
        .map_err(|e| StoreError::Backend(format!("malformed custom framework item: {e}")))
}

pub async fn get(
    store: &dyn Store,
    org_id: &str,
    key: &str,
) -> Result<Option<CustomFramework>, StoreError> {
    store
        .get(&keys::custom_framework(org_id, key))
        .await?
        .map(from_item)
        .transpose()
}

/// All of the org's custom frameworks, in key order (bounded by [`MAX_PER_ORG`]).
pub async fn list(store: &dyn Store, org_id: &str) -> Result<Vec<CustomFramework>, StoreError> {
    let query = Query::new(
        keys::org_pk(org_id),
        SortKeyRange::Prefix(keys::CUSTOM_FRAMEWORK_PREFIX.into()),
    )
    .limit(MAX_PER_ORG + 1);
    let page = store.query(&query).await?;
    page.items.into_iter().map(from_item).collect()
}
