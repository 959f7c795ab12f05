//! Org-defined frameworks as stored: one item per framework under the org's partition. Input
//! validation happens at the HTTP edge; what is stored here has already been parsed.

use chrono::{DateTime, Utc};
use compliance_domain::catalog::{
    CheckType, Control, Domain, Framework, PassCondition, Recommendation, WeaknessMapping,
};
use compliance_domain::ids::{FrameworkKey, OrgId};
use compliance_domain::time::rfc3339;
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Key, Query, Store, StoreError, WriteOp};
use serde::{Deserialize, Serialize};
use serde_json::json;

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
    /// The CWE ids the control covers (ascending, unique): findings that carry CWE ids count
    /// against it only when they meet. Empty: judged by its check type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwe: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomFramework {
    pub id: i64,
    pub key: FrameworkKey,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub controls: Vec<CustomControl>,
    #[serde(with = "compliance_domain::time::micros")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "compliance_domain::time::micros")]
    pub updated_at: DateTime<Utc>,
}

pub const MAX_PER_ORG: usize = 50;

/// The `source` of a custom control's weakness mapping: the org's own.
pub const CUSTOM_SOURCE: &str = "custom";

/// A framework as stored in its org.
#[derive(Serialize, Deserialize)]
struct StoredFramework {
    #[serde(flatten)]
    framework: CustomFramework,
    org_id: OrgId,
}

impl Record for StoredFramework {
    const ENTITY: &'static str = "custom_framework";

    fn key(&self) -> Key {
        keys::custom_framework(&self.org_id, &self.framework.key)
    }
}

impl CustomFramework {
    /// The write of this framework: a create must not find one, an update must find the very
    /// version it read.
    pub fn write_op(&self, org_id: &OrgId, previous: Option<&CustomFramework>) -> WriteOp {
        let condition = match previous {
            None => Condition::NotExists,
            Some(p) => Condition::Equals("updated_at".into(), json!(rfc3339(p.updated_at))),
        };
        let stored = StoredFramework {
            framework: self.clone(),
            org_id: org_id.clone(),
        };
        stored.put_if(condition)
    }

    /// The deletion of this framework, valid only if it is still the version read.
    pub fn delete_op(&self, org_id: &OrgId) -> WriteOp {
        WriteOp::delete_if(
            keys::custom_framework(org_id, &self.key),
            Condition::Equals("updated_at".into(), json!(rfc3339(self.updated_at))),
        )
    }

    /// As a catalog framework, so that listing, selection and scoring treat it like a built-in.
    pub fn to_framework(&self) -> Framework {
        Framework {
            key: self.key.to_string(),
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
                    weaknesses: (!c.cwe.is_empty()).then(|| WeaknessMapping {
                        cwe: c.cwe.clone(),
                        source: CUSTOM_SOURCE.to_string(),
                    }),
                })
                .collect(),
        }
    }
}

pub async fn get(
    store: &dyn Store,
    org_id: &OrgId,
    key: &FrameworkKey,
) -> Result<Option<CustomFramework>, StoreError> {
    let stored: Option<StoredFramework> = store
        .get_record(&keys::custom_framework(org_id, key))
        .await?;
    Ok(stored.map(|s| s.framework))
}

/// All of the org's custom frameworks, in key order (bounded by [`MAX_PER_ORG`]).
pub async fn list(store: &dyn Store, org_id: &OrgId) -> Result<Vec<CustomFramework>, StoreError> {
    let (pk, range) = keys::custom_frameworks(org_id);
    let query = Query::new(pk, range).limit(MAX_PER_ORG + 1);
    let (stored, _): (Vec<StoredFramework>, _) = store.query_records(&query).await?;
    Ok(stored.into_iter().map(|s| s.framework).collect())
}
