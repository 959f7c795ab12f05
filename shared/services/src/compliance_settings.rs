//! The org's compliance settings beyond its framework selection: what accepted SARIF
//! suppressions do, how long an exception may run, and when an alert's decision is due. One small item, read where it applies
//! (ingest, exception requests); absent, the defaults.

use compliance_domain::ids::OrgId;
use compliance_domain::ingest::SuppressionPolicy;
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Key, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit_log::{self, AuditAction, AuditContext};

/// The longest an exception may run unless the org sets otherwise.
pub const DEFAULT_EXCEPTION_MAX_DAYS: u32 = 365;
/// The longest an org may let exceptions run.
pub const MAX_EXCEPTION_MAX_DAYS: u32 = 1_095;
/// How long after an alert's recommendation its decision is due, unless the org sets otherwise.
pub const DEFAULT_ALERT_DECISION_DAYS: u32 = 30;
/// The longest an org may give a decision.
pub const MAX_ALERT_DECISION_DAYS: u32 = 365;

fn default_alert_decision_days() -> u32 {
    DEFAULT_ALERT_DECISION_DAYS
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceSettings {
    /// `require_approval` (the default): a suppressed result counts and its suppression is a
    /// requested exception; `honour`: it is excluded, as the tool asked.
    pub suppressions: SuppressionPolicy,
    /// The longest an exception may run from its request, in days (365 by default).
    pub exception_max_days: u32,
    /// Days from an alert's recommendation to its decision's due date (30 by default).
    #[serde(default = "default_alert_decision_days")]
    pub alert_decision_days: u32,
}

impl Default for ComplianceSettings {
    fn default() -> Self {
        ComplianceSettings {
            suppressions: SuppressionPolicy::RequireApproval,
            exception_max_days: DEFAULT_EXCEPTION_MAX_DAYS,
            alert_decision_days: DEFAULT_ALERT_DECISION_DAYS,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct StoredSettings {
    org_id: OrgId,
    #[serde(flatten)]
    settings: ComplianceSettings,
}

impl Record for StoredSettings {
    const ENTITY: &'static str = "compliance_settings";

    fn key(&self) -> Key {
        keys::compliance_settings(&self.org_id)
    }
}

/// The org's settings, the defaults where it chose nothing.
pub async fn get(store: &dyn Store, org: &OrgId) -> Result<ComplianceSettings, StoreError> {
    let stored: Option<StoredSettings> = store.get_record(&keys::compliance_settings(org)).await?;
    Ok(stored.map(|s| s.settings).unwrap_or_default())
}

/// Replaces the org's settings, with the audit entry (`COMPLIANCE_SETTINGS_UPDATED`, before and
/// after).
pub async fn set(
    store: &dyn Store,
    ctx: &AuditContext,
    to: ComplianceSettings,
) -> Result<(), StoreError> {
    let before = get(store, &ctx.org_id).await?;
    let op = StoredSettings {
        org_id: ctx.org_id.clone(),
        settings: to,
    }
    .put();
    let metadata = json!({"before": before, "after": to});
    let action = AuditAction::ComplianceSettingsUpdated;
    audit_log::commit(store, vec![op], ctx, action, metadata).await?;
    Ok(())
}
