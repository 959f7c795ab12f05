//! What one org sees of the catalog: the built-in frameworks and its own, with its plan and
//! settings, and the rules that combine them (plan locks, enabled state).

use crate::catalog::{builtin, Framework};
use crate::custom_frameworks;
use crate::orgs;
use crate::plans::Plan;
use crate::settings::{self, OrgSettings};
use crate::store::{Store, StoreError};

pub struct OrgView {
    pub plan: Plan,
    pub settings: OrgSettings,
    /// Built-ins first (catalog order), then the org's custom frameworks (key order).
    pub frameworks: Vec<Framework>,
}

impl OrgView {
    /// Three reads of the org's own partition, concurrently.
    pub async fn load(store: &dyn Store, org_id: &str) -> Result<OrgView, StoreError> {
        let (org, settings, custom) = tokio::try_join!(
            orgs::get(store, org_id),
            settings::load(store, org_id),
            custom_frameworks::list(store, org_id),
        )?;
        let plan = org
            .ok_or_else(|| StoreError::Backend(format!("org {org_id} has no profile")))?
            .plan;
        let mut frameworks = builtin().to_vec();
        frameworks.extend(custom.iter().map(|c| c.to_framework()));
        Ok(OrgView {
            plan,
            settings,
            frameworks,
        })
    }

    pub fn find(&self, key: &str) -> Option<&Framework> {
        self.frameworks.iter().find(|f| f.key == key)
    }

    pub fn plan_locked(&self, framework: &Framework) -> bool {
        !self.plan.allows(framework.requires_plan)
    }

    /// Scored for this org: selected (explicitly or by default) and allowed by the plan.
    pub fn enabled(&self, framework: &Framework) -> bool {
        self.settings.selects(&framework.key) && !self.plan_locked(framework)
    }
}
