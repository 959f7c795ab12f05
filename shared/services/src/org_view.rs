//! What one org sees of the catalog: the built-in frameworks and its own, with its plan and
//! settings, and the rules that combine them (plan locks, enabled state).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::attestations::{self, Attestation};
use crate::custom_frameworks;
use crate::orgs;
use crate::settings::{self, OrgSettings};
use compliance_domain::catalog::{builtin, Framework};
use compliance_domain::ids::{FrameworkKey, OrgId};
use compliance_domain::plans::Plan;
use compliance_domain::scoring::AttestedControl;
use compliance_store::{Store, StoreError};

pub struct OrgView {
    pub plan: Plan,
    pub settings: OrgSettings,
    /// Built-ins first (catalog order), then the org's custom frameworks (key order).
    pub frameworks: Vec<Framework>,
    /// The org's attestations in force of the controls this view holds.
    pub attestations: Vec<Attestation>,
    /// The same by framework key, as scoring takes them.
    attested: HashMap<String, Vec<AttestedControl>>,
}

impl OrgView {
    /// Four reads of the org's own partition, concurrently.
    pub async fn load(store: &dyn Store, org_id: &OrgId) -> Result<OrgView, StoreError> {
        let (org, settings, custom, attestations) = tokio::try_join!(
            orgs::get(store, org_id),
            settings::load(store, org_id),
            custom_frameworks::list(store, org_id),
            attestations::all(store, org_id),
        )?;
        let plan = org
            .ok_or_else(|| StoreError::Backend(format!("org {org_id} has no profile")))?
            .plan;
        let mut frameworks = builtin().to_vec();
        frameworks.extend(custom.iter().map(|c| c.to_framework()));
        Ok(OrgView::new(plan, settings, frameworks, attestations))
    }

    fn new(
        plan: Plan,
        settings: OrgSettings,
        frameworks: Vec<Framework>,
        attestations: Vec<Attestation>,
    ) -> OrgView {
        // An attestation of a framework or control since removed stands for nothing (and is
        // not counted as due).
        let attestations: Vec<Attestation> = attestations
            .into_iter()
            .filter(|a| {
                frameworks
                    .iter()
                    .find(|f| f.key == a.framework.as_str())
                    .is_some_and(|f| f.control(&a.control_id).is_some())
            })
            .collect();
        let attested = frameworks
            .iter()
            .map(|f| {
                (
                    f.key.clone(),
                    attestations::of_framework(&attestations, &f.key),
                )
            })
            .filter(|(_, of)| !of.is_empty())
            .collect();
        OrgView {
            plan,
            settings,
            frameworks,
            attestations,
            attested,
        }
    }

    /// The org's attestations of the framework's controls, sorted by control id.
    pub fn attested(&self, framework: &str) -> &[AttestedControl] {
        self.attested.get(framework).map_or(&[], Vec::as_slice)
    }

    /// The next time an attestation changes state after `now` (a score holds until then).
    pub fn attestations_change_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        attestations::next_change(&self.attestations, now)
    }

    /// The same view holding only the framework `key` (when it exists): what a request about
    /// one framework needs, without reading every custom framework of the org.
    pub async fn load_one(
        store: &dyn Store,
        org_id: &OrgId,
        key: &str,
    ) -> Result<OrgView, StoreError> {
        let custom = async {
            match builtin().iter().find(|f| f.key == key) {
                Some(f) => Ok(Some(f.clone())),
                None => match FrameworkKey::parse(key) {
                    // Only a well-formed key reaches a table key.
                    Err(_) => Ok(None),
                    Ok(key) => Ok(custom_frameworks::get(store, org_id, &key)
                        .await?
                        .map(|c| c.to_framework())),
                },
            }
        };
        let (org, settings, framework, attestations) = tokio::try_join!(
            orgs::get(store, org_id),
            settings::load(store, org_id),
            custom,
            attestations::all(store, org_id),
        )?;
        let plan = org
            .ok_or_else(|| StoreError::Backend(format!("org {org_id} has no profile")))?
            .plan;
        Ok(OrgView::new(
            plan,
            settings,
            framework.into_iter().collect(),
            attestations,
        ))
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
