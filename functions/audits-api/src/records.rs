//! Audit sessions, policies and their rules as stored. Everything a principal creates lives in
//! its own partition (see `compliance_store::keys`), so "visible only to its creator" (the
//! reference's `user_id = auth.uid()`) holds by construction: no request can name another
//! owner.

use chrono::{DateTime, Utc};
use compliance_domain::identity::Principal;
use compliance_domain::ids::{OrgId, Uuid};
use compliance_packs::{PolicyType, Rule};
use compliance_services::audit_log::{self, AuditAction, AuditContext};
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Cursor, Key, Query, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The creator, as its partition names it: the credential kind and its subject.
pub fn owner(principal: &Principal) -> String {
    keys::owner_segment(principal.kind, &principal.actor_id)
}

/// An audit session: the reference's audit created from a pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditSession {
    pub audit_id: Uuid,
    pub policy_id: Uuid,
    pub name: String,
    pub policy_type: PolicyType,
    pub selected_categories: Option<Vec<String>>,
    pub rule_count: usize,
    pub status: String,
    #[serde(with = "compliance_domain::time::micros")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub policy_id: Uuid,
    pub audit_id: Uuid,
    pub name: String,
    pub policy_type: PolicyType,
    /// `prebuilt`: loaded from a pack (other kinds come from PDF ingestion, elsewhere).
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub rule_count: usize,
    #[serde(with = "compliance_domain::time::micros")]
    pub created_at: DateTime<Utc>,
}

/// A rule of a policy: the pack's rule as adopted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRule {
    #[serde(flatten)]
    pub rule: Rule,
    pub is_active: bool,
    pub policy_id: Uuid,
}

/// Where a record of the owner's partition is: the org and the owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Owned<T> {
    #[serde(flatten)]
    pub(crate) record: T,
    pub(crate) org_id: OrgId,
    pub(crate) owner: String,
}

impl Record for Owned<AuditSession> {
    const ENTITY: &'static str = "audit_session";

    fn key(&self) -> Key {
        keys::audit_session(&self.org_id, &self.owner, &self.record.audit_id)
    }
}

/// The listing entry of an audit session (newest first by its sort key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Listed(Owned<AuditSession>);

impl Record for Listed {
    const ENTITY: &'static str = "audit_listing";

    fn key(&self) -> Key {
        let s = &self.0;
        keys::audit_session_listing(
            &s.org_id,
            &s.owner,
            &compliance_domain::time::rfc3339(s.record.created_at),
            &s.record.audit_id,
        )
    }
}

impl Record for Owned<Policy> {
    const ENTITY: &'static str = "policy";

    fn key(&self) -> Key {
        keys::policy(&self.org_id, &self.owner, &self.record.policy_id)
    }
}

/// A rule as stored: in its policy's partition, in pack order. `version` counts its changes
/// (optimistic writes); rules stored before it existed have none, which counts as 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredRule {
    #[serde(flatten)]
    owned: Owned<PolicyRule>,
    position: usize,
    version: Option<u64>,
}

impl StoredRule {
    pub(crate) fn rule(&self) -> &PolicyRule {
        &self.owned.record
    }
}

impl Record for StoredRule {
    const ENTITY: &'static str = "rule";

    fn key(&self) -> Key {
        let o = &self.owned;
        keys::policy_rule(
            &o.org_id,
            &o.owner,
            &o.record.policy_id,
            self.position,
            &o.record.rule.rule_id,
        )
    }
}

pub struct NewAudit<'a> {
    pub org: &'a OrgId,
    pub owner: &'a str,
    pub audit: AuditSession,
    pub policy: Policy,
    pub rules: &'a [&'a Rule],
}

pub(crate) fn owned<T>(record: T, org: &OrgId, owner: &str) -> Owned<T> {
    Owned {
        record,
        org_id: org.clone(),
        owner: owner.to_string(),
    }
}

/// The audit session, its listing entry, the policy and every rule, with the audit-log entry,
/// in one all-or-nothing write.
pub async fn create(
    store: &dyn Store,
    ctx: &AuditContext,
    new: NewAudit<'_>,
) -> Result<(), StoreError> {
    let (org, owner) = (new.org, new.owner);
    let session = owned(new.audit.clone(), org, owner);
    let mut ops = vec![
        session.put_if(Condition::NotExists),
        Listed(session.clone()).put_if(Condition::NotExists),
        owned(new.policy.clone(), org, owner).put_if(Condition::NotExists),
    ];
    for (position, rule) in new.rules.iter().enumerate() {
        let rule = PolicyRule {
            rule: (*rule).clone(),
            is_active: true,
            policy_id: new.policy.policy_id.clone(),
        };
        let stored = StoredRule {
            owned: owned(rule, org, owner),
            position,
            version: Some(0),
        };
        ops.push(stored.put_if(Condition::NotExists));
    }
    let a = &new.audit;
    let metadata = json!({
        "audit_id": a.audit_id, "policy_id": new.policy.policy_id,
        "after": {"name": a.name, "policy_type": a.policy_type, "selected_categories": a.selected_categories, "rule_count": a.rule_count},
    });
    audit_log::commit(store, ops, ctx, AuditAction::AuditCreated, metadata).await?;
    Ok(())
}

pub async fn get_audit(
    store: &dyn Store,
    org: &OrgId,
    owner: &str,
    audit_id: &Uuid,
) -> Result<Option<AuditSession>, StoreError> {
    let key = keys::audit_session(org, owner, audit_id);
    let found: Option<Owned<AuditSession>> = store.get_record(&key).await?;
    Ok(found.map(|o| o.record))
}

pub async fn get_policy(
    store: &dyn Store,
    org: &OrgId,
    owner: &str,
    policy_id: &Uuid,
) -> Result<Option<Policy>, StoreError> {
    let key = keys::policy(org, owner, policy_id);
    let found: Option<Owned<Policy>> = store.get_record(&key).await?;
    Ok(found.map(|o| o.record))
}

/// Newest first.
pub async fn list_audits(
    store: &dyn Store,
    org: &OrgId,
    owner: &str,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<AuditSession>, Option<Cursor>), StoreError> {
    let (pk, range) = keys::audit_session_listings(org, owner);
    let query = Query::new(pk, range).backward().limit(limit).after(cursor);
    let (listed, next): (Vec<Listed>, _) = store.query_records(&query).await?;
    Ok((listed.into_iter().map(|l| l.0.record).collect(), next))
}

/// A policy's rules in pack order (a policy holds at most a pack's worth).
pub async fn rules(
    store: &dyn Store,
    org: &OrgId,
    owner: &str,
    policy_id: &Uuid,
) -> Result<Vec<PolicyRule>, StoreError> {
    let stored = stored_rules(store, org, owner, policy_id).await?;
    Ok(stored.into_iter().map(|s| s.owned.record).collect())
}

pub(crate) async fn stored_rules(
    store: &dyn Store,
    org: &OrgId,
    owner: &str,
    policy_id: &Uuid,
) -> Result<Vec<StoredRule>, StoreError> {
    let (pk, range) = keys::policy_rules(org, owner, policy_id);
    let query = Query::new(pk, range).limit(100);
    let (stored, _): (Vec<StoredRule>, _) = store.query_records(&query).await?;
    Ok(stored)
}

/// Replaces a rule with `changed`, with the audit-log entry, unless it changed since it was read.
pub(crate) async fn update_rule(
    store: &dyn Store,
    ctx: &AuditContext,
    read: &StoredRule,
    changed: PolicyRule,
    metadata: serde_json::Value,
) -> Result<(), StoreError> {
    // A rule read without a version gets one now, under the condition that it still has none:
    // of two writers who read it so, the second is refused rather than overwriting the first.
    let condition = match read.version {
        Some(v) => Condition::Equals("version".into(), json!(v)),
        None => Condition::Missing("version".into()),
    };
    let next = StoredRule {
        owned: Owned {
            record: changed,
            ..read.owned.clone()
        },
        position: read.position,
        version: Some(read.version.unwrap_or(0) + 1),
    };
    let ops = vec![next.put_if(condition)];
    audit_log::commit(store, ops, ctx, AuditAction::PolicyRuleUpdated, metadata).await?;
    Ok(())
}
