//! Alerts as stored, in the audit's partition beside its runs: the alert, one occurrence per
//! run that found it, its trail (a hash chain: each entry carries the SHA-256 of the one before),
//! a marker per run whose findings were taken in, and the snoozes. Every change of an alert is
//! one write: the alert (conditioned on the version read), its next trail entry (a key taken
//! once) and, for a person's change, the audit-log entry.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use compliance_domain::ids::{OrgId, Uuid};
use compliance_services::audit_log::{self, Actor, AuditAction, AuditContext};
use compliance_services::paging;
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Cursor, Key, Query, Store, StoreError, WriteOp};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::model::{alert_id, group_value, snooze_key, Alert, AlertStatus, Occurrence, GENESIS};
use crate::records::{owned, Owned};
use crate::runs::model::{RunSummary, StoredFinding};

/// The findings of one run that open or update alerts: the first ones, most severe first, as
/// the run stores them. Past this a run's findings stay in the run, not in the queue.
pub const MAX_ALERTS_PER_RUN: usize = 1_000;
/// Runs' findings taken in at once.
const CONCURRENCY: usize = 8;
/// Tries of one alert's update when another change lands in between.
const RETRIES: usize = 8;

/// Where an audit's items are: the org, the audit's owner (its creator) and the audit.
#[derive(Debug, Clone)]
pub struct AuditHome {
    pub org: OrgId,
    pub owner: String,
    pub audit_id: Uuid,
}

impl Record for Owned<Alert> {
    const ENTITY: &'static str = "alert";

    fn key(&self) -> Key {
        let a = &self.record;
        keys::alert(&self.org_id, &self.owner, &a.audit_id, &a.alert_id)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OccurrenceItem {
    #[serde(flatten)]
    occurrence: Occurrence,
    alert_id: String,
    audit_id: Uuid,
    org_id: OrgId,
    owner: String,
}

impl Record for OccurrenceItem {
    const ENTITY: &'static str = "alert_occurrence";

    fn key(&self) -> Key {
        keys::alert_occurrence(
            &self.org_id,
            &self.owner,
            &self.audit_id,
            &self.alert_id,
            &self.occurrence.run_id,
        )
    }
}

/// An entry of an alert's trail as the case file shows it: the payload is the entry, as text,
/// exactly as hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailEntry {
    pub seq: u32,
    pub prev_sha256: String,
    /// SHA-256 (hex) of `prev_sha256` followed by `payload`, as UTF-8.
    pub sha256: String,
    pub payload: String,
}

impl TrailEntry {
    pub fn chain(prev_sha256: &str, payload: String, seq: u32) -> TrailEntry {
        let mut h = Sha256::new();
        h.update(prev_sha256.as_bytes());
        h.update(payload.as_bytes());
        TrailEntry {
            seq,
            prev_sha256: prev_sha256.to_string(),
            sha256: hex::encode(h.finalize()),
            payload,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TrailItem {
    #[serde(flatten)]
    entry: TrailEntry,
    alert_id: String,
    audit_id: Uuid,
    org_id: OrgId,
    owner: String,
}

impl Record for TrailItem {
    const ENTITY: &'static str = "alert_trail_entry";

    fn key(&self) -> Key {
        keys::alert_trail_entry(
            &self.org_id,
            &self.owner,
            &self.audit_id,
            &self.alert_id,
            self.entry.seq,
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SyncItem {
    run_id: Uuid,
    audit_id: Uuid,
    org_id: OrgId,
    owner: String,
    alerts: usize,
}

/// An audit with alerts, indexed in the org's partition (see `keys::alert_audit`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AlertAuditItem {
    org_id: OrgId,
    audit_id: Uuid,
    owner: String,
}

impl Record for AlertAuditItem {
    const ENTITY: &'static str = "alert_audit";

    fn key(&self) -> Key {
        keys::alert_audit(&self.org_id, &self.audit_id)
    }
}

/// Where every audit of the org that has alerts is.
pub async fn audits_with_alerts(
    store: &dyn Store,
    org: &OrgId,
) -> Result<Vec<AuditHome>, StoreError> {
    let (pk, range) = keys::alert_audits(org);
    let all: Vec<AlertAuditItem> = paging::all(store, Query::new(pk, range)).await?;
    Ok(all
        .into_iter()
        .map(|a| AuditHome {
            org: a.org_id,
            owner: a.owner,
            audit_id: a.audit_id,
        })
        .collect())
}

impl Record for SyncItem {
    const ENTITY: &'static str = "alert_sync";

    fn key(&self) -> Key {
        keys::alert_sync(&self.org_id, &self.owner, &self.audit_id, &self.run_id)
    }
}

/// A (rule, group value) whose occurrences do not reopen its alerts until `until`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snooze {
    pub rule_id: String,
    pub group_value: String,
    #[serde(with = "compliance_domain::time::micros")]
    pub until: DateTime<Utc>,
    pub reason: String,
    pub by: Actor,
    #[serde(with = "compliance_domain::time::micros")]
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SnoozeItem {
    #[serde(flatten)]
    snooze: Snooze,
    audit_id: Uuid,
    org_id: OrgId,
    owner: String,
}

impl Record for SnoozeItem {
    const ENTITY: &'static str = "alert_snooze";

    fn key(&self) -> Key {
        let s = &self.snooze;
        keys::alert_snooze(
            &self.org_id,
            &self.owner,
            &self.audit_id,
            &snooze_key(&s.rule_id, &s.group_value),
        )
    }
}

/// The trail entry that follows `alert`'s head, saying `event` with `details`.
fn next_entry(
    alert: &Alert,
    at: DateTime<Utc>,
    actor: &Actor,
    event: &str,
    details: Value,
) -> TrailEntry {
    let seq = alert.trail_length + 1;
    let mut payload = json!({
        "seq": seq,
        "alert_id": alert.alert_id,
        "at": compliance_domain::time::rfc3339(at),
        "actor": {"kind": actor.kind, "id": actor.id},
        "event": event,
    });
    if let (Value::Object(p), Value::Object(d)) = (&mut payload, details) {
        p.extend(d);
    }
    let text = serde_json::to_string(&payload).expect("a trail entry serialises");
    let prev = if alert.trail_length == 0 {
        GENESIS
    } else {
        alert.trail_sha256.as_str()
    };
    TrailEntry::chain(prev, text, seq)
}

fn trail_item(home: &AuditHome, alert_id: &str, entry: TrailEntry) -> TrailItem {
    TrailItem {
        entry,
        alert_id: alert_id.to_string(),
        audit_id: home.audit_id.clone(),
        org_id: home.org.clone(),
        owner: home.owner.clone(),
    }
}

/// The writes of one step of an alert: `after` as the version following `before` (the alert as
/// read; `None`: it opens now), with the trail entry saying `event` chained to `before`'s head.
fn step_ops(
    home: &AuditHome,
    before: Option<&Alert>,
    after: &mut Alert,
    (at, actor): (DateTime<Utc>, &Actor),
    event: &str,
    details: Value,
) -> Vec<WriteOp> {
    let entry = next_entry(before.unwrap_or(after), at, actor, event, details);
    after.version = before.map_or(1, |b| b.version + 1);
    after.trail_length = entry.seq;
    after.trail_sha256 = entry.sha256.clone();
    let condition = match before {
        None => Condition::NotExists,
        Some(b) => Condition::Equals("version".into(), json!(b.version)),
    };
    vec![
        owned(after.clone(), &home.org, &home.owner).put_if(condition),
        trail_item(home, &after.alert_id, entry).put_if(Condition::NotExists),
    ]
}

pub async fn get(
    store: &dyn Store,
    home: &AuditHome,
    alert_id: &str,
) -> Result<Option<Alert>, StoreError> {
    let key = keys::alert(&home.org, &home.owner, &home.audit_id, alert_id);
    let found: Option<Owned<Alert>> = store.get_record(&key).await?;
    Ok(found.map(|o| o.record))
}

/// One page of the audit's alerts (by alert id) that `keep` accepts: a page may hold fewer than
/// `limit` when some were filtered out; `next` continues after the last one read.
pub async fn page(
    store: &dyn Store,
    home: &AuditHome,
    limit: usize,
    cursor: Option<Cursor>,
    keep: impl Fn(&Alert) -> bool,
) -> Result<(Vec<Alert>, Option<Cursor>), StoreError> {
    let (pk, range) = keys::alerts(&home.org, &home.owner, &home.audit_id);
    let query = Query::new(pk, range).limit(limit).after(cursor);
    let (page, next): (Vec<Owned<Alert>>, _) = store.query_records(&query).await?;
    Ok((
        page.into_iter()
            .map(|o| o.record)
            .filter(|a| keep(a))
            .collect(),
        next,
    ))
}

/// Every alert of the audit (the queue's counts).
pub async fn all(store: &dyn Store, home: &AuditHome) -> Result<Vec<Alert>, StoreError> {
    let (pk, range) = keys::alerts(&home.org, &home.owner, &home.audit_id);
    let all: Vec<Owned<Alert>> = paging::all(store, Query::new(pk, range)).await?;
    Ok(all.into_iter().map(|o| o.record).collect())
}

pub async fn occurrences(
    store: &dyn Store,
    home: &AuditHome,
    alert_id: &str,
) -> Result<Vec<Occurrence>, StoreError> {
    let (pk, range) = keys::alert_occurrences(&home.org, &home.owner, &home.audit_id, alert_id);
    let all: Vec<OccurrenceItem> = paging::all(store, Query::new(pk, range)).await?;
    Ok(all.into_iter().map(|o| o.occurrence).collect())
}

/// The alert's trail up to `length` entries: the alert as read says how long its chain is, so
/// a change landing between the two reads does not show a chain longer than its head.
pub async fn trail(
    store: &dyn Store,
    home: &AuditHome,
    alert_id: &str,
    length: u32,
) -> Result<Vec<TrailEntry>, StoreError> {
    let (pk, range) = keys::alert_trail(&home.org, &home.owner, &home.audit_id, alert_id);
    let all: Vec<TrailItem> = paging::all(store, Query::new(pk, range)).await?;
    Ok(all
        .into_iter()
        .map(|t| t.entry)
        .filter(|e| e.seq <= length)
        .collect())
}

/// How a person's change of an alert went.
pub enum Changed {
    Done(Box<Alert>),
    NotFound,
    /// Another change landed in between (nothing written).
    Conflict,
}

/// Applies a person's change: `change` edits the alert read and names the trail event with its
/// details (or refuses with its own error); the alert, its trail entry and the audit-log entry
/// `action` are one write.
pub async fn change<E>(
    store: &dyn Store,
    home: &AuditHome,
    ctx: &AuditContext,
    alert_id: &str,
    action: AuditAction,
    change: impl FnOnce(&mut Alert) -> Result<(&'static str, Value), E>,
) -> Result<Result<Changed, E>, StoreError> {
    let Some(before) = get(store, home, alert_id).await? else {
        return Ok(Ok(Changed::NotFound));
    };
    let mut after = before.clone();
    let (event, details) = match change(&mut after) {
        Ok(done) => done,
        Err(e) => return Ok(Err(e)),
    };
    let who = (ctx.at, &ctx.actor);
    let ops = step_ops(home, Some(&before), &mut after, who, event, details.clone());
    let mut metadata = json!({
        "audit_id": home.audit_id,
        "alert_id": alert_id,
        "rule_id": before.rule_id,
        "group_value": before.group_value,
        "event": event,
    });
    if let (Value::Object(m), Value::Object(d)) = (&mut metadata, details) {
        m.extend(d);
    }
    match audit_log::commit(store, ops, ctx, action, metadata).await {
        Ok(_) => Ok(Ok(Changed::Done(Box::new(after)))),
        Err(StoreError::ConditionFailed { .. }) => Ok(Ok(Changed::Conflict)),
        Err(e) => Err(e),
    }
}

pub async fn snoozes(store: &dyn Store, home: &AuditHome) -> Result<Vec<Snooze>, StoreError> {
    let (pk, range) = keys::alert_snoozes(&home.org, &home.owner, &home.audit_id);
    let all: Vec<SnoozeItem> = paging::all(store, Query::new(pk, range)).await?;
    Ok(all.into_iter().map(|s| s.snooze).collect())
}

/// Records (or replaces) the snooze of its (rule, group value), with the audit-log entry.
pub async fn snooze(
    store: &dyn Store,
    home: &AuditHome,
    ctx: &AuditContext,
    snooze: Snooze,
) -> Result<(), StoreError> {
    let metadata = json!({
        "audit_id": home.audit_id,
        "rule_id": snooze.rule_id,
        "group_value": snooze.group_value,
        "until": compliance_domain::time::rfc3339(snooze.until),
        "reason": snooze.reason,
    });
    let item = SnoozeItem {
        snooze,
        audit_id: home.audit_id.clone(),
        org_id: home.org.clone(),
        owner: home.owner.clone(),
    };
    audit_log::commit(
        store,
        vec![item.put()],
        ctx,
        AuditAction::AlertSnoozed,
        metadata,
    )
    .await?;
    Ok(())
}

/// A run's finding as its alert's occurrence.
fn occurrence(run: &RunSummary, f: &StoredFinding, snoozed: bool) -> Occurrence {
    Occurrence {
        run_id: run.run_id.clone(),
        finding_id: f.finding_id.clone(),
        record_ids: f.finding.record_ids.clone(),
        at: f.finding.at.clone(),
        observed: f.finding.observed.clone(),
        threshold: f.finding.threshold,
        message: f.finding.message.clone(),
        seen_at: run.finished_at,
        snoozed,
    }
}

/// Takes one finding of `run` into its alert: opens it, or adds the run's occurrence (a closed
/// alert reopens, unless its (rule, group value) is snoozed). Nothing happens twice: the
/// occurrence's key is taken once.
async fn take_in(
    store: &dyn Store,
    home: &AuditHome,
    actor: &Actor,
    run: &RunSummary,
    finding: &StoredFinding,
    snoozed: bool,
) -> Result<(), StoreError> {
    let id = alert_id(&finding.finding);
    let occurrence = occurrence(run, finding, snoozed);
    let at = run.finished_at;
    for _ in 0..RETRIES {
        let before = get(store, home, &id).await?;
        let (after, event) = match &before {
            None => {
                let f = &finding.finding;
                let opened = Alert {
                    alert_id: id.clone(),
                    audit_id: home.audit_id.clone(),
                    rule_id: f.rule_id.clone(),
                    severity: f.severity,
                    category: f.category.clone(),
                    group_value: group_value(f),
                    group: f.group.clone(),
                    window: f.window.clone(),
                    status: AlertStatus::Open,
                    outcome: None,
                    assignee: None,
                    first_seen_at: at,
                    last_seen_at: at,
                    last_run_id: run.run_id.clone(),
                    occurrences: 1,
                    snoozed_occurrences: u32::from(snoozed),
                    recommendation: None,
                    decision: None,
                    version: 0,
                    trail_length: 0,
                    trail_sha256: GENESIS.to_string(),
                };
                (opened, "opened")
            }
            Some(b) => {
                let mut a = b.clone();
                a.occurrences += 1;
                a.snoozed_occurrences += u32::from(snoozed);
                // A run taken in late (caught up after a stop) adds its occurrence, but neither
                // moves the alert back in time nor reopens what was closed after it.
                let newer = at >= a.last_seen_at;
                if newer {
                    a.last_seen_at = at;
                    a.last_run_id = run.run_id.clone();
                }
                let event = if a.status == AlertStatus::Closed && !snoozed && newer {
                    a.reopen();
                    "reopened_by_occurrence"
                } else {
                    "occurrence"
                };
                (a, event)
            }
        };
        let details = json!({
            "run_id": run.run_id,
            "finding_id": finding.finding_id,
            "record_ids": occurrence.record_ids,
            "snoozed": snoozed,
        });
        let mut after = after;
        let mut ops = step_ops(
            home,
            before.as_ref(),
            &mut after,
            (at, actor),
            event,
            details,
        );
        ops.push(
            OccurrenceItem {
                occurrence: occurrence.clone(),
                alert_id: id.clone(),
                audit_id: home.audit_id.clone(),
                org_id: home.org.clone(),
                owner: home.owner.clone(),
            }
            .put_if(Condition::NotExists),
        );
        match store.write(ops).await {
            Ok(()) => return Ok(()),
            // Another writer took the alert first (a catch-up beside the run's own take-in,
            // or DynamoDB's transaction conflict): read again, unless this occurrence is in.
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {
                let key = keys::alert_occurrence(
                    &home.org,
                    &home.owner,
                    &home.audit_id,
                    &id,
                    &run.run_id,
                );
                if store.get(&key).await?.is_some() {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Backend(format!(
        "alert {id} kept changing while run {} was taken in",
        run.run_id
    )))
}

/// Takes the run's findings into the audit's alerts (at most [`MAX_ALERTS_PER_RUN`]), then
/// marks the run as taken in. Safe to repeat: a crash in between is caught up later, and no
/// occurrence is counted twice.
pub async fn take_in_run(
    store: Arc<dyn Store>,
    home: &AuditHome,
    actor: &Actor,
    run: &RunSummary,
    findings: Vec<StoredFinding>,
) -> Result<(), StoreError> {
    let now = run.finished_at;
    let snoozed: HashSet<String> = snoozes(store.as_ref(), home)
        .await?
        .into_iter()
        .filter(|s| s.until > now)
        .map(|s| snooze_key(&s.rule_id, &s.group_value))
        .collect();
    // One occurrence per alert and run: the first (most severe) finding of each.
    let mut by_alert: BTreeMap<String, StoredFinding> = BTreeMap::new();
    for f in findings.into_iter().take(MAX_ALERTS_PER_RUN) {
        by_alert.entry(alert_id(&f.finding)).or_insert(f);
    }
    let count = by_alert.len();
    let mut pending = by_alert.into_values();
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        while tasks.len() < CONCURRENCY {
            let Some(f) = pending.next() else { break };
            let (store, home, actor, run) =
                (store.clone(), home.clone(), actor.clone(), run.clone());
            let snoozed =
                snoozed.contains(&snooze_key(&f.finding.rule_id, &group_value(&f.finding)));
            tasks.spawn(compliance_services::tasks::carried(async move {
                take_in(store.as_ref(), &home, &actor, &run, &f, snoozed).await
            }));
        }
        match tasks.join_next().await {
            None => break,
            Some(done) => done.map_err(|e| StoreError::Backend(e.to_string()))??,
        }
    }
    let marker = SyncItem {
        run_id: run.run_id.clone(),
        audit_id: home.audit_id.clone(),
        org_id: home.org.clone(),
        owner: home.owner.clone(),
        alerts: count,
    };
    let indexed = AlertAuditItem {
        org_id: home.org.clone(),
        audit_id: home.audit_id.clone(),
        owner: home.owner.clone(),
    };
    store.write(vec![marker.put(), indexed.put()]).await
}

/// The audit's runs whose findings were not taken in yet (a process stopped in between).
pub async fn pending_runs(store: &dyn Store, home: &AuditHome) -> Result<Vec<Uuid>, StoreError> {
    let (pk, range) = keys::alert_syncs(&home.org, &home.owner, &home.audit_id);
    let synced: Vec<SyncItem> = paging::all(store, Query::new(pk, range)).await?;
    let synced: HashSet<Uuid> = synced.into_iter().map(|s| s.run_id).collect();
    let runs = crate::runs::store::run_ids(store, &home.org, &home.owner, &home.audit_id).await?;
    Ok(runs.into_iter().filter(|r| !synced.contains(r)).collect())
}
