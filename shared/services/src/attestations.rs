//! Attestations: the org's statement that a control holds where no scanner can prove it (a
//! policy reviewed, an access review done), by an owner, true from `effective_at` and due for
//! review after its interval. One per control of a framework, for every repository of the org;
//! each change is kept as a version beside it and written with its audit entry.
//!
//! The state shown is the clock's ([`Attested::state_at`]): `current`, `due_soon`, `overdue`.

use chrono::{DateTime, Utc};
use compliance_domain::ids::{FrameworkKey, OrgId};
use compliance_domain::scoring::{AttestationState, Attested, AttestedControl, ReviewInterval};
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Key, Query, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit_log::{self, Actor, AuditAction, AuditContext};
use crate::paging;

/// A file kept as the attestation's evidence: what it is and its SHA-256, so that the copy an
/// auditor is shown can be checked against what was attested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceFile {
    pub name: String,
    pub content_type: String,
    pub bytes: u64,
    pub sha256: String,
}

/// An attestation as recorded (one version of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// `framework_key` on the wire and in the item, as every other framework reference.
    #[serde(rename = "framework_key")]
    pub framework: FrameworkKey,
    pub control_id: String,
    pub statement: String,
    /// Who answers for it (a person or a team, as the org names them).
    pub owner: String,
    /// When its evidence became true (not when it was recorded).
    #[serde(with = "compliance_domain::time::micros")]
    pub effective_at: DateTime<Utc>,
    pub review_interval: ReviewInterval,
    #[serde(with = "compliance_domain::time::micros")]
    pub due_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<EvidenceFile>,
    pub recorded_by: Actor,
    #[serde(with = "compliance_domain::time::micros")]
    pub recorded_at: DateTime<Utc>,
    /// 1 for the first; each change adds one.
    pub version: u32,
    /// Set on the version that withdrew the attestation (the control is then unattested).
    #[serde(default, skip_serializing_if = "is_false")]
    pub withdrawn: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

impl Attestation {
    pub fn attested(&self) -> Attested {
        Attested {
            effective_at: self.effective_at,
            due_at: self.due_at,
        }
    }

    pub fn state_at(&self, now: DateTime<Utc>) -> AttestationState {
        self.attested().state_at(now)
    }
}

/// The control's attestation in force.
#[derive(Serialize, Deserialize)]
struct Current {
    #[serde(flatten)]
    attestation: Attestation,
    org_id: OrgId,
}

impl Record for Current {
    const ENTITY: &'static str = "attestation";

    fn key(&self) -> Key {
        let a = &self.attestation;
        keys::attestation(&self.org_id, &a.framework, &a.control_id)
    }
}

/// One version of the control's attestation, kept for its history.
#[derive(Serialize, Deserialize)]
struct Version {
    #[serde(flatten)]
    attestation: Attestation,
    org_id: OrgId,
}

impl Record for Version {
    const ENTITY: &'static str = "attestation_version";

    fn key(&self) -> Key {
        let a = &self.attestation;
        keys::attestation_version(&self.org_id, &a.framework, &a.control_id, a.version)
    }
}

/// What a caller asks to record (checked by the HTTP layer).
#[derive(Debug, Clone)]
pub struct NewAttestation {
    pub statement: String,
    pub owner: String,
    pub effective_at: DateTime<Utc>,
    pub review_interval: ReviewInterval,
}

/// The control's attestation in force, if any.
pub async fn get(
    store: &dyn Store,
    org: &OrgId,
    framework: &FrameworkKey,
    control_id: &str,
) -> Result<Option<Attestation>, StoreError> {
    let current: Option<Current> = store
        .get_record(&keys::attestation(org, framework, control_id))
        .await?;
    Ok(current.map(|c| c.attestation))
}

/// Every version of the control's attestation, oldest first (withdrawals included).
pub async fn history(
    store: &dyn Store,
    org: &OrgId,
    framework: &FrameworkKey,
    control_id: &str,
) -> Result<Vec<Attestation>, StoreError> {
    let (pk, range) = keys::attestation_versions(org, framework, control_id);
    let all: Vec<Version> = paging::all(store, Query::new(pk, range)).await?;
    Ok(all.into_iter().map(|v| v.attestation).collect())
}

/// Every attestation in force in the org, by framework then control id: what scoring reads,
/// in one Query.
pub async fn all(store: &dyn Store, org: &OrgId) -> Result<Vec<Attestation>, StoreError> {
    let (pk, range) = keys::attestations(org);
    let all: Vec<Current> = paging::all(store, Query::new(pk, range)).await?;
    Ok(all.into_iter().map(|c| c.attestation).collect())
}

/// The attestations of `framework` among `all`, as its scoring takes them (sorted by control
/// id).
pub fn of_framework(all: &[Attestation], framework: &str) -> Vec<AttestedControl> {
    let mut of: Vec<AttestedControl> = all
        .iter()
        .filter(|a| a.framework.as_str() == framework)
        .map(|a| AttestedControl {
            control_id: a.control_id.clone(),
            attested: a.attested(),
        })
        .collect();
    of.sort_by(|a, b| a.control_id.cmp(&b.control_id));
    of
}

/// How many of the org's attestations are in each state, and when the soonest in force is due.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub current: u32,
    pub due_soon: u32,
    pub overdue: u32,
    /// The soonest review date of those not yet overdue (absent when none).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "compliance_domain::time::micros::option::serialize"
    )]
    pub next_due_at: Option<DateTime<Utc>>,
}

impl StateCounts {
    pub fn add(&mut self, a: &Attestation, now: DateTime<Utc>) {
        match a.state_at(now) {
            AttestationState::Current => self.current += 1,
            AttestationState::DueSoon => self.due_soon += 1,
            AttestationState::Overdue => return self.overdue += 1,
        }
        self.next_due_at = Some(self.next_due_at.map_or(a.due_at, |d| d.min(a.due_at)));
    }

    pub fn of(all: &[Attestation], now: DateTime<Utc>) -> StateCounts {
        let mut counts = StateCounts::default();
        all.iter().for_each(|a| counts.add(a, now));
        counts
    }
}

/// The next time after `now` that one of `all` changes state (a score made at `now` holds
/// until then).
pub fn next_change(all: &[Attestation], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    all.iter()
        .filter_map(|a| a.attested().next_change(now))
        .min()
}

/// Records `new` as the control's attestation (a new version of it), with its audit entry
/// (`ATTESTATION_RECORDED`). `Ok(None)`: another change was recorded meanwhile (nothing written).
pub async fn record(
    store: &dyn Store,
    ctx: &AuditContext,
    framework: &FrameworkKey,
    control_id: &str,
    new: NewAttestation,
) -> Result<Option<Attestation>, StoreError> {
    let org = &ctx.org_id;
    let before = get(store, org, framework, control_id).await?;
    let last = last_version(store, org, framework, control_id).await?;
    let attestation = Attestation {
        framework: framework.clone(),
        control_id: control_id.to_string(),
        statement: new.statement,
        owner: new.owner,
        effective_at: new.effective_at,
        review_interval: new.review_interval,
        due_at: new.review_interval.due_after(new.effective_at),
        // A renewal is new evidence: it starts without a file (`attach` adds one).
        file: None,
        recorded_by: ctx.actor.clone(),
        recorded_at: ctx.at,
        version: last + 1,
        withdrawn: false,
    };
    let current = Current {
        attestation: attestation.clone(),
        org_id: org.clone(),
    };
    let version = Version {
        attestation: attestation.clone(),
        org_id: org.clone(),
    };
    let current_op = match &before {
        None => current.put_if(Condition::NotExists),
        Some(b) => current.put_if(Condition::Equals("version".into(), json!(b.version))),
    };
    // The version's key is taken once: a concurrent change with the same number fails here.
    let ops = vec![current_op, version.put_if(Condition::NotExists)];
    let metadata = json!({
        "framework": framework,
        "control_id": control_id,
        "before": before.as_ref().map(summary),
        "after": summary(&attestation),
    });
    let action = AuditAction::AttestationRecorded;
    match audit_log::commit(store, ops, ctx, action, metadata).await {
        Ok(_) => Ok(Some(attestation)),
        Err(StoreError::ConditionFailed { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// How a withdrawal went.
#[derive(Debug)]
pub enum Withdrawn {
    Done(Box<Attestation>),
    /// The control has no attestation in force.
    NotFound,
    /// Another change was recorded meanwhile (nothing written).
    Conflict,
}

/// Withdraws the control's attestation (the control is judged without it from now on), keeping
/// a version that says so, with its audit entry (`ATTESTATION_WITHDRAWN`).
pub async fn withdraw(
    store: &dyn Store,
    ctx: &AuditContext,
    framework: &FrameworkKey,
    control_id: &str,
) -> Result<Withdrawn, StoreError> {
    let org = &ctx.org_id;
    let Some(before) = get(store, org, framework, control_id).await? else {
        return Ok(Withdrawn::NotFound);
    };
    let last = last_version(store, org, framework, control_id).await?;
    let mut after = before.clone();
    after.version = last + 1;
    after.withdrawn = true;
    // The file stays with the version that attached it (its parts are stored under it).
    after.file = None;
    after.recorded_by = ctx.actor.clone();
    after.recorded_at = ctx.at;
    let key = keys::attestation(org, framework, control_id);
    let version = Version {
        attestation: after.clone(),
        org_id: org.clone(),
    };
    let ops = vec![
        compliance_store::WriteOp::delete_if(
            key,
            Condition::Equals("version".into(), json!(before.version)),
        ),
        version.put_if(Condition::NotExists),
    ];
    let metadata = json!({
        "framework": framework,
        "control_id": control_id,
        "before": summary(&before),
    });
    let action = AuditAction::AttestationWithdrawn;
    match audit_log::commit(store, ops, ctx, action, metadata).await {
        Ok(_) => Ok(Withdrawn::Done(Box::new(after))),
        Err(StoreError::ConditionFailed { .. }) => Ok(Withdrawn::Conflict),
        Err(e) => Err(e),
    }
}

/// The largest file an attestation keeps (in the table, beside its version).
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// A part's bytes stay under this, so its item (base64) stays under DynamoDB's 400 KB.
const FILE_PART_BYTES: usize = 256 * 1024;

/// A part of the file kept with a version of an attestation.
#[derive(Serialize, Deserialize)]
struct FilePart {
    org_id: OrgId,
    framework: FrameworkKey,
    control_id: String,
    version: u32,
    part: u32,
    /// The part's bytes, base64.
    data: String,
}

impl Record for FilePart {
    const ENTITY: &'static str = "attestation_file_part";

    fn key(&self) -> Key {
        keys::attestation_file_part(
            &self.org_id,
            &self.framework,
            &self.control_id,
            self.version,
            self.part,
        )
    }
}

/// A file to attach (checked by the HTTP layer: its type, at most [`MAX_FILE_BYTES`]).
pub struct NewFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// How attaching a file went.
#[derive(Debug)]
pub enum Attached {
    Done(Box<Attestation>),
    /// The control has no attestation in force.
    NotFound,
    /// Another change was recorded meanwhile (nothing written).
    Conflict,
}

/// Attaches `file` to the control's attestation in force as its evidence: a new version that
/// carries the file's name, type, size and SHA-256, written with the file's parts and its audit
/// entry (`ATTESTATION_RECORDED`) in one transaction.
pub async fn attach(
    store: &dyn Store,
    ctx: &AuditContext,
    framework: &FrameworkKey,
    control_id: &str,
    file: NewFile,
) -> Result<Attached, StoreError> {
    use sha2::{Digest, Sha256};
    let org = &ctx.org_id;
    let Some(before) = get(store, org, framework, control_id).await? else {
        return Ok(Attached::NotFound);
    };
    let last = last_version(store, org, framework, control_id).await?;
    let mut after = before.clone();
    after.version = last + 1;
    after.recorded_by = ctx.actor.clone();
    after.recorded_at = ctx.at;
    after.file = Some(EvidenceFile {
        name: file.name,
        content_type: file.content_type,
        bytes: file.bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&file.bytes)),
    });
    let current = Current {
        attestation: after.clone(),
        org_id: org.clone(),
    };
    let version = Version {
        attestation: after.clone(),
        org_id: org.clone(),
    };
    let mut ops = vec![
        current.put_if(Condition::Equals("version".into(), json!(before.version))),
        version.put_if(Condition::NotExists),
    ];
    for (part, bytes) in file.bytes.chunks(FILE_PART_BYTES).enumerate() {
        let part = FilePart {
            org_id: org.clone(),
            framework: framework.clone(),
            control_id: control_id.to_string(),
            version: after.version,
            part: part as u32,
            data: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes),
        };
        ops.push(part.put_if(Condition::NotExists));
    }
    let metadata = json!({
        "framework": framework,
        "control_id": control_id,
        "before": summary(&before),
        "after": summary(&after),
    });
    let action = AuditAction::AttestationRecorded;
    match audit_log::commit(store, ops, ctx, action, metadata).await {
        Ok(_) => Ok(Attached::Done(Box::new(after))),
        Err(StoreError::ConditionFailed { .. }) => Ok(Attached::Conflict),
        Err(e) => Err(e),
    }
}

/// The file kept with `version` of the control's attestation (the one in force when `None`),
/// with what the version says of it; `None` when that version has no file. Its bytes are
/// checked against the recorded SHA-256 before they are answered.
pub async fn file(
    store: &dyn Store,
    org: &OrgId,
    framework: &FrameworkKey,
    control_id: &str,
    version: Option<u32>,
) -> Result<Option<(EvidenceFile, Vec<u8>)>, StoreError> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let attestation = match version {
        None => get(store, org, framework, control_id).await?,
        Some(v) => store
            .get_record::<Version>(&keys::attestation_version(org, framework, control_id, v))
            .await?
            .map(|v| v.attestation),
    };
    let Some(meta) = attestation.and_then(|a| a.file.map(|f| (a.version, f))) else {
        return Ok(None);
    };
    let (version, meta) = meta;
    let (pk, range) = keys::attestation_file_parts(org, framework, control_id, version);
    let parts: Vec<FilePart> = paging::all(store, Query::new(pk, range)).await?;
    let mut bytes = Vec::with_capacity(meta.bytes as usize);
    for part in parts {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&part.data)
            .map_err(|e| StoreError::Backend(format!("malformed attestation file part: {e}")))?;
        bytes.extend_from_slice(&decoded);
    }
    if hex::encode(Sha256::digest(&bytes)) != meta.sha256 {
        return Err(StoreError::Backend(format!(
            "the file of attestation {framework}/{control_id} version {version} does not match \
             its SHA-256"
        )));
    }
    Ok(Some((meta, bytes)))
}

/// The number of the control's latest version (0 without any).
async fn last_version(
    store: &dyn Store,
    org: &OrgId,
    framework: &FrameworkKey,
    control_id: &str,
) -> Result<u32, StoreError> {
    let (pk, range) = keys::attestation_versions(org, framework, control_id);
    let (page, _) = store
        .query_records::<Version>(&Query::new(pk, range).backward().limit(1))
        .await?;
    Ok(page.first().map_or(0, |v| v.attestation.version))
}

/// What an audit entry says of a version.
fn summary(a: &Attestation) -> serde_json::Value {
    json!({
        "version": a.version,
        "owner": a.owner,
        "effective_at": compliance_domain::time::rfc3339(a.effective_at),
        "review_interval": a.review_interval,
        "due_at": compliance_domain::time::rfc3339(a.due_at),
        "file_sha256": a.file.as_ref().map(|f| &f.sha256),
    })
}
