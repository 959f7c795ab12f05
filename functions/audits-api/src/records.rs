//! Audits, policies and rules as stored. Everything a principal creates lives in its own
//! partition (`ORG#{org}#OWNER#{owner}`), so "visible only to its creator" (the reference's
//! `user_id = auth.uid()`) holds by construction: no request can name another owner.
//!
//! | item | PK | SK |
//! |---|---|---|
//! | audit session | `ORG#{org}#OWNER#{owner}` | `AUDIT#{audit_id}` |
//! | audit listing entry | `ORG#{org}#OWNER#{owner}` | `AUDITAT#{created_at}#{audit_id}` |
//! | policy | `ORG#{org}#OWNER#{owner}` | `POLICY#{policy_id}` |
//! | rule | `ORG#{org}#OWNER#{owner}#POLICY#{policy_id}` | `RULE#{nnn}#{rule_id}` |

use compliance_domain::identity::Principal;
use compliance_services::audit_log::{self, AuditContext};
use compliance_store::{
    Condition, Cursor, Item, Key, Query, SortKeyRange, Store, StoreError, WriteOp,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use compliance_packs::{PolicyType, Rule};

pub const AUDIT_CREATED: &str = "AUDIT_CREATED";

/// The creator, as a key segment: the credential kind and its subject.
pub fn owner(principal: &Principal) -> String {
    let kind = serde_json::to_value(principal.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    // Subjects of identity providers may contain anything: hex keeps the key syntax intact.
    format!("{kind}:{}", hex_of(&principal.actor_id))
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn owner_pk(org: &str, owner: &str) -> String {
    format!("ORG#{org}#OWNER#{owner}")
}

fn rules_pk(org: &str, owner: &str, policy_id: &str) -> String {
    format!("{}#POLICY#{policy_id}", owner_pk(org, owner))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub audit_id: String,
    pub policy_id: String,
    pub name: String,
    pub policy_type: PolicyType,
    pub selected_categories: Option<Vec<String>>,
    pub rule_count: usize,
    pub status: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRecord {
    pub policy_id: String,
    pub audit_id: String,
    pub name: String,
    pub policy_type: PolicyType,
    /// `prebuilt`: loaded from a pack (other kinds come from PDF ingestion, elsewhere).
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub rule_count: usize,
    pub created_at: String,
}

fn item(key: Key, entity: &str, body: Value) -> Item {
    let mut item = match body {
        Value::Object(m) => m,
        _ => Item::new(),
    };
    item.insert("PK".into(), key.pk.into());
    item.insert("SK".into(), key.sk.into());
    item.insert("entity".into(), json!(entity));
    item
}

fn parse<T: for<'de> Deserialize<'de>>(item: Item, what: &str) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(item))
        .map_err(|e| StoreError::Backend(format!("malformed {what} item: {e}")))
}

pub struct NewAudit<'a> {
    pub org: &'a str,
    pub owner: &'a str,
    pub audit: AuditRecord,
    pub policy: PolicyRecord,
    pub rules: &'a [&'a Rule],
}

/// The audit session, its listing entry, the policy and every rule, with the audit-log entry,
/// in one all-or-nothing write.
pub async fn create(
    store: &dyn Store,
    ctx: &AuditContext,
    new: NewAudit<'_>,
) -> Result<(), StoreError> {
    let pk = owner_pk(new.org, new.owner);
    let a = &new.audit;
    let mut ops = vec![
        WriteOp::put_if(
            item(
                Key::new(&pk, format!("AUDIT#{}", a.audit_id)),
                "audit_session",
                json!(a),
            ),
            Condition::NotExists,
        ),
        WriteOp::put_if(
            item(
                Key::new(&pk, format!("AUDITAT#{}#{}", a.created_at, a.audit_id)),
                "audit_listing",
                json!(a),
            ),
            Condition::NotExists,
        ),
        WriteOp::put_if(
            item(
                Key::new(&pk, format!("POLICY#{}", new.policy.policy_id)),
                "policy",
                json!(new.policy),
            ),
            Condition::NotExists,
        ),
    ];
    let rpk = rules_pk(new.org, new.owner, &new.policy.policy_id);
    for (i, rule) in new.rules.iter().enumerate() {
        let mut body = json!(rule);
        body["is_active"] = json!(true);
        body["policy_id"] = json!(new.policy.policy_id);
        body["position"] = json!(i);
        ops.push(WriteOp::put_if(
            item(
                Key::new(&rpk, format!("RULE#{i:03}#{}", rule.rule_id)),
                "rule",
                body,
            ),
            Condition::NotExists,
        ));
    }
    let metadata = json!({
        "audit_id": a.audit_id, "policy_id": new.policy.policy_id,
        "after": {"name": a.name, "policy_type": a.policy_type, "selected_categories": a.selected_categories, "rule_count": a.rule_count},
    });
    audit_log::commit(store, ops, ctx, AUDIT_CREATED, metadata).await?;
    Ok(())
}

pub async fn get_audit(
    store: &dyn Store,
    org: &str,
    owner: &str,
    audit_id: &str,
) -> Result<Option<AuditRecord>, StoreError> {
    let key = Key::new(owner_pk(org, owner), format!("AUDIT#{audit_id}"));
    store
        .get(&key)
        .await?
        .map(|i| parse(i, "audit"))
        .transpose()
}

pub async fn get_policy(
    store: &dyn Store,
    org: &str,
    owner: &str,
    policy_id: &str,
) -> Result<Option<PolicyRecord>, StoreError> {
    let key = Key::new(owner_pk(org, owner), format!("POLICY#{policy_id}"));
    store
        .get(&key)
        .await?
        .map(|i| parse(i, "policy"))
        .transpose()
}

/// Newest first.
pub async fn list_audits(
    store: &dyn Store,
    org: &str,
    owner: &str,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<AuditRecord>, Option<Cursor>), StoreError> {
    let query = Query::new(
        owner_pk(org, owner),
        SortKeyRange::Prefix("AUDITAT#".into()),
    )
    .backward()
    .limit(limit)
    .after(cursor);
    let page = store.query(&query).await?;
    let audits = page
        .items
        .into_iter()
        .map(|i| parse(i, "audit"))
        .collect::<Result<_, _>>()?;
    Ok((audits, page.next))
}

/// A policy's rules in pack order (a policy holds at most a pack's worth).
pub async fn rules(
    store: &dyn Store,
    org: &str,
    owner: &str,
    policy_id: &str,
) -> Result<Vec<Value>, StoreError> {
    let query = Query::new(
        rules_pk(org, owner, policy_id),
        SortKeyRange::Prefix("RULE#".into()),
    )
    .limit(100);
    let page = store.query(&query).await?;
    Ok(page
        .items
        .into_iter()
        .map(|mut item| {
            for internal in ["PK", "SK", "entity", "position"] {
                item.remove(internal);
            }
            Value::Object(item)
        })
        .collect())
}
