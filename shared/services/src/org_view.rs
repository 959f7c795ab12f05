//! What one org sees of the catalog: the built-in frameworks and its own, with its plan and
//! settings, and the rules that combine them (plan locks, enabled state).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::attestations::{self, Attestation};
use crate::exceptions::Exception;
use crate::org_inputs::{self, OrgInputs, Versions};
use crate::orgs::Org;
use crate::settings::OrgSettings;
use compliance_domain::catalog::{builtin, Framework};
use compliance_domain::ids::OrgId;
use compliance_domain::plans::Plan;
use compliance_domain::scoring::AttestedControl;
use compliance_store::{Item, Key, Projection, Store, StoreError};

pub struct OrgView {
    /// The org's profile (its name, its plan).
    pub org: Arc<Org>,
    pub plan: Plan,
    pub settings: Arc<OrgSettings>,
    /// Built-ins first (catalog order), then the org's custom frameworks (key order).
    pub frameworks: Vec<Framework>,
    /// The org's attestations in force of the controls this view holds.
    pub attestations: Vec<Attestation>,
    /// The counts of the org's changes the view was made at (see [`org_inputs`]).
    pub versions: Versions,
    /// Which read of the org's inputs it was made from ([`OrgInputs::generation`]).
    pub generation: u64,
    /// The same by framework key, as scoring takes them.
    attested: HashMap<String, Vec<AttestedControl>>,
    approved: Arc<Vec<Exception>>,
}

impl OrgView {
    /// The org's versions item in one read, and what changed since the process last read it
    /// (see [`org_inputs`]).
    pub async fn load(store: &dyn Store, org_id: &OrgId) -> Result<OrgView, StoreError> {
        Ok(Self::load_with(store, org_id, &[], None).await?.0)
    }

    /// [`OrgView::load`] with the items of `also` read in the same request (in their order),
    /// with only `projection`'s attributes when given (see [`org_inputs::load`]).
    pub async fn load_with(
        store: &dyn Store,
        org_id: &OrgId,
        also: &[Key],
        projection: Option<&Projection>,
    ) -> Result<(OrgView, Vec<Option<Item>>), StoreError> {
        let (inputs, items) = org_inputs::load(store, org_id, also, projection).await?;
        Ok((OrgView::of(inputs), items))
    }

    /// The view of inputs already at hand.
    pub fn of(inputs: OrgInputs) -> OrgView {
        let mut frameworks = builtin().to_vec();
        frameworks.extend(inputs.custom.iter().map(|c| c.to_framework()));
        // An attestation of a framework or control since removed stands for nothing (and is
        // not counted as due).
        let attestations: Vec<Attestation> = inputs
            .attestations
            .iter()
            .filter(|a| {
                frameworks
                    .iter()
                    .find(|f| f.key == a.framework.as_str())
                    .is_some_and(|f| f.control(&a.control_id).is_some())
            })
            .cloned()
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
            plan: inputs.org.plan,
            org: inputs.org,
            settings: inputs.settings,
            frameworks,
            attestations,
            versions: inputs.versions,
            generation: inputs.generation,
            attested,
            approved: inputs.approved,
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

    /// Every exception of the org (its repositories' and its own) that applies at `now`, as
    /// [`crate::exceptions::applying`] reads them.
    pub fn applying(&self, now: DateTime<Utc>) -> Vec<Exception> {
        self.approved
            .iter()
            .filter(|e| e.applies_at(now))
            .cloned()
            .collect()
    }

    /// The same view holding only the framework `key` (when it exists).
    pub async fn load_one(
        store: &dyn Store,
        org_id: &OrgId,
        key: &str,
    ) -> Result<OrgView, StoreError> {
        let mut view = Self::load(store, org_id).await?;
        view.frameworks.retain(|f| f.key == key);
        Ok(view)
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
