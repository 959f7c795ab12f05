//! Exceptions to findings: a request that some findings of a repository (or of every repository
//! of the org) not count against its controls, for a stated reason and, for accepted risks, until
//! a date. Requested by anyone who may scan, decided by a second person: the requester never
//! decides their own request. Every transition is written with its audit entry and kept in the
//! exception's history.
//!
//! The state stored is what someone decided; the state shown is also the clock's: an approved
//! exception past its expiry reads `expired` from that second on, with no job to move it.

use chrono::{DateTime, Duration, Utc};
use compliance_domain::identity::Principal;
use compliance_domain::ids::{OrgId, RepoId, Uuid};
use compliance_domain::ingest::FindingKey;
use compliance_domain::labels;
use compliance_domain::scoring::{Applying, Covers, Glob};
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Cursor, Key, Query, Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit_log::{self, Actor, AuditAction, AuditContext};
use crate::paging;

labels! {
    /// Why findings are excepted.
    pub enum ExceptionKind as "exception kind" {
        RiskAccepted => "risk_accepted",
        FalsePositive => "false_positive",
        WontFix => "wont_fix",
        CompensatingControl => "compensating_control",
    }
}

impl ExceptionKind {
    /// Kinds that accept a risk for a while: they must say until when.
    pub fn needs_expiry(self) -> bool {
        matches!(self, ExceptionKind::RiskAccepted | ExceptionKind::WontFix)
    }
}

labels! {
    /// Where an exception stands.
    pub enum ExceptionState as "exception state" {
        Requested => "requested",
        Approved => "approved",
        Rejected => "rejected",
        /// Approved, and past its expiry (never stored: read from the clock).
        Expired => "expired",
        Revoked => "revoked",
        /// Approved, then closed because the repository's latest scan no longer has any
        /// finding it covers: a finding that comes back counts again.
        Resolved => "resolved",
    }
}

/// Which findings an exception covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scope {
    /// These findings, by their fingerprints.
    Fingerprints { fingerprints: Vec<String> },
    /// A rule's findings, in files matching the glob when one is given.
    Rule {
        rule_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
    /// Every finding of a weakness.
    Cwe { cwe: u32 },
}

/// What an exception applies to: one repository, or every repository of the org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Repo(RepoId),
    Org,
}

impl Target {
    fn key(self, org: &OrgId, id: &Uuid) -> Key {
        match self {
            Target::Repo(repo) => keys::repo_exception(org, repo, id),
            Target::Org => keys::org_exception(org, id),
        }
    }

    fn all(self, org: &OrgId) -> (String, compliance_store::SortKeyRange) {
        match self {
            Target::Repo(repo) => keys::repo_exceptions(org, repo),
            Target::Org => keys::org_exceptions(org),
        }
    }

    fn repo_id(self) -> Option<RepoId> {
        match self {
            Target::Repo(repo) => Some(repo),
            Target::Org => None,
        }
    }
}

/// One step of an exception's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub state: ExceptionState,
    pub by: Actor,
    #[serde(with = "compliance_domain::time::micros")]
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An exception as stored, and as shown once [`Exception::as_of`] has read the clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    pub exception_id: Uuid,
    /// `null`: every repository of the org.
    pub repo_id: Option<RepoId>,
    pub scope: Scope,
    pub kind: ExceptionKind,
    pub justification: String,
    #[serde(with = "compliance_domain::time::micros::option")]
    pub expires_at: Option<DateTime<Utc>>,
    pub state: ExceptionState,
    pub requested_by: Actor,
    #[serde(with = "compliance_domain::time::micros")]
    pub requested_at: DateTime<Utc>,
    /// Who approved or rejected it, when, and why.
    pub decided_by: Option<Actor>,
    #[serde(with = "compliance_domain::time::micros::option")]
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    /// Every transition, the request first.
    pub history: Vec<Transition>,
}

impl Exception {
    /// The exception as it stands at `now`: an approved one past its expiry is `expired`.
    pub fn as_of(mut self, now: DateTime<Utc>) -> Self {
        self.state = self.state_at(now);
        self
    }

    /// Its state at `now`: an approved one past its expiry is `expired`.
    pub fn state_at(&self, now: DateTime<Utc>) -> ExceptionState {
        match self.state {
            ExceptionState::Approved if self.expires_at.is_some_and(|at| at <= now) => {
                ExceptionState::Expired
            }
            state => state,
        }
    }

    /// Whether the exception makes its findings not count at `now`.
    pub fn applies_at(&self, now: DateTime<Utc>) -> bool {
        self.state == ExceptionState::Approved && self.expires_at.is_none_or(|at| at > now)
    }

    fn requested_by_the_same(&self, actor: &Actor) -> bool {
        same_principal(&self.requested_by, actor)
    }

    /// Whether `principal` may approve or reject it now: still requested, admin and above, and
    /// not its requester.
    pub fn decidable_by(&self, principal: &Principal) -> bool {
        self.state == ExceptionState::Requested
            && principal.is_admin()
            && !(self.requested_by.kind == principal.kind
                && self.requested_by.id == principal.actor_id)
    }
}

/// The same credential: its kind and its subject (an e-mail can change hands).
fn same_principal(a: &Actor, b: &Actor) -> bool {
    a.kind == b.kind && a.id == b.id
}

/// The exception in its partition, with the org it belongs to.
#[derive(Serialize, Deserialize)]
struct StoredException {
    #[serde(flatten)]
    exception: Exception,
    org_id: OrgId,
}

impl Record for StoredException {
    const ENTITY: &'static str = "exception";

    fn key(&self) -> Key {
        let target = match self.exception.repo_id {
            Some(repo) => Target::Repo(repo),
            None => Target::Org,
        };
        target.key(&self.org_id, &self.exception.exception_id)
    }
}

/// A request, checked by the caller (the HTTP layer says what is wrong with a body).
#[derive(Debug, Clone)]
pub struct NewException {
    pub scope: Scope,
    pub kind: ExceptionKind,
    pub justification: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why an expiry cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpiryProblem {
    /// The kind accepts a risk for a while and must say until when.
    Required(ExceptionKind),
    NotInFuture,
    /// Later than the org's maximum allows (the latest accepted instant).
    BeyondMaximum(DateTime<Utc>),
}

/// Checks `expires_at` against the kind and the org's maximum, counted from `now`.
pub fn check_expiry(
    kind: ExceptionKind,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    max_days: i64,
) -> Result<(), ExpiryProblem> {
    match expires_at {
        None if kind.needs_expiry() => Err(ExpiryProblem::Required(kind)),
        None => Ok(()),
        Some(at) if at <= now => Err(ExpiryProblem::NotInFuture),
        Some(at) if at > now + Duration::days(max_days) => {
            Err(ExpiryProblem::BeyondMaximum(now + Duration::days(max_days)))
        }
        Some(_) => Ok(()),
    }
}

/// Records the request (state `requested`), with its audit entry.
pub async fn request(
    store: &dyn Store,
    ctx: &AuditContext,
    target: Target,
    new: NewException,
) -> Result<Exception, StoreError> {
    let exception = Exception {
        exception_id: new_exception_id(),
        repo_id: target.repo_id(),
        scope: new.scope,
        kind: new.kind,
        justification: new.justification,
        expires_at: new.expires_at,
        state: ExceptionState::Requested,
        requested_by: ctx.actor.clone(),
        requested_at: ctx.at,
        decided_by: None,
        decided_at: None,
        reason: None,
        history: vec![Transition {
            state: ExceptionState::Requested,
            by: ctx.actor.clone(),
            at: ctx.at,
            reason: None,
        }],
    };
    let stored = StoredException {
        exception: exception.clone(),
        org_id: ctx.org_id.clone(),
    };
    let metadata = json!({
        "exception_id": exception.exception_id,
        "repo_id": exception.repo_id,
        "after": {
            "state": exception.state,
            "kind": exception.kind,
            "scope": exception.scope,
            "expires_at": exception.expires_at.map(compliance_domain::time::rfc3339),
        },
    });
    let ops = vec![stored.put_if(Condition::NotExists)];
    audit_log::commit(store, ops, ctx, AuditAction::ExceptionRequested, metadata).await?;
    Ok(exception)
}

fn new_exception_id() -> Uuid {
    Uuid::parse(&uuid::Uuid::now_v7().to_string()).expect("a UUID")
}

/// The exception, as it stands at `now`.
pub async fn get(
    store: &dyn Store,
    org: &OrgId,
    target: Target,
    id: &Uuid,
    now: DateTime<Utc>,
) -> Result<Option<Exception>, StoreError> {
    let stored: Option<StoredException> = store.get_record(&target.key(org, id)).await?;
    Ok(stored.map(|s| s.exception.as_of(now)))
}

/// What a listing keeps.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<ExceptionState>,
    pub kind: Option<ExceptionKind>,
    pub rule_id: Option<String>,
}

impl Filter {
    /// Whether the filter keeps `e` as it stands at `now`.
    fn keeps(&self, e: &Exception, now: DateTime<Utc>) -> bool {
        let rule = match &e.scope {
            Scope::Rule { rule_id, .. } => Some(rule_id.as_str()),
            _ => None,
        };
        self.state.is_none_or(|s| s == e.state_at(now))
            && self.kind.is_none_or(|k| k == e.kind)
            && self.rule_id.as_deref().is_none_or(|r| Some(r) == rule)
    }
}

/// A page of the target's exceptions (oldest first), as they stand at `now`.
pub async fn list(
    store: &dyn Store,
    org: &OrgId,
    target: Target,
    filter: &Filter,
    now: DateTime<Utc>,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<Exception>, Option<Cursor>), StoreError> {
    let (pk, range) = target.all(org);
    let (page, next) = paging::filtered(
        store,
        Query::new(pk, range),
        limit,
        cursor,
        |s: &StoredException| filter.keeps(&s.exception, now),
    )
    .await?;
    Ok((
        page.into_iter().map(|s| s.exception.as_of(now)).collect(),
        next,
    ))
}

/// The scopes of every exception of the repository, whatever their state.
pub async fn repo_scopes(
    store: &dyn Store,
    org: &OrgId,
    repo: RepoId,
) -> Result<Vec<Scope>, StoreError> {
    let (pk, range) = keys::repo_exceptions(org, repo);
    let all: Vec<StoredException> = paging::all(store, Query::new(pk, range)).await?;
    Ok(all.into_iter().map(|s| s.exception.scope).collect())
}

/// Every exception of the org (its repositories' and its own) that applies at `now`: what
/// scoring reads, in one Query.
pub async fn applying(
    store: &dyn Store,
    org: &OrgId,
    now: DateTime<Utc>,
) -> Result<Vec<Exception>, StoreError> {
    let (pk, range) = keys::all_exceptions(org);
    let all: Vec<StoredException> = paging::all(store, Query::new(pk, range)).await?;
    Ok(all
        .into_iter()
        .map(|s| s.exception)
        .filter(|e| e.applies_at(now))
        .collect())
}

/// Every approved exception of the org (its repositories' and its own), whether or not it has
/// expired: what [`crate::org_inputs`] keeps, in one Query.
pub async fn approved(store: &dyn Store, org: &OrgId) -> Result<Vec<Exception>, StoreError> {
    let (pk, range) = keys::all_exceptions(org);
    let all: Vec<StoredException> = paging::all(store, Query::new(pk, range)).await?;
    Ok(all
        .into_iter()
        .map(|s| s.exception)
        .filter(|e| e.state == ExceptionState::Approved)
        .collect())
}

/// Of the org's applying exceptions, those for `repo` (its own and the org's), as scoring
/// takes them.
pub fn for_repo(exceptions: &[Exception], repo: RepoId) -> Vec<Applying> {
    exceptions
        .iter()
        .filter(|e| e.repo_id.is_none_or(|r| r == repo))
        .map(|e| Applying {
            covers: e.scope.covers(),
            expires_at: e.expires_at,
        })
        .collect()
}

impl Scope {
    /// The scope as the scoring engine matches it.
    pub fn covers(&self) -> Covers {
        match self {
            Scope::Fingerprints { fingerprints } => {
                Covers::Fingerprints(fingerprints.iter().cloned().collect())
            }
            Scope::Rule { rule_id, path } => Covers::Rule {
                rule_id: rule_id.clone(),
                path: path.as_deref().map(Glob::new),
            },
            Scope::Cwe { cwe } => Covers::Cwe(*cwe),
        }
    }
}

/// Closes the repository's approved exceptions among `exceptions` (the org's, as read by
/// [`applying`]) that cover none of the counted findings of its latest scan (`keys`, which must
/// be all of them: with keys left out, nothing can be told and nothing is closed), so that a
/// finding that comes back counts again. Org-wide exceptions stay: other repositories may still
/// have their findings. Each closure is conditioned on the state read and written with its
/// audit entry (`EXCEPTION_RESOLVED`); the ids closed.
pub async fn resolve_absent(
    store: &dyn Store,
    ctx: &AuditContext,
    repo: RepoId,
    exceptions: &[Exception],
    keys: &[FindingKey],
) -> Result<Vec<Uuid>, StoreError> {
    let mut closed = Vec::new();
    for e in exceptions.iter().filter(|e| e.repo_id == Some(repo)) {
        let covers = e.scope.covers();
        if !e.applies_at(ctx.at) || keys.iter().any(|k| covers.covers(k)) {
            continue;
        }
        let mut after = e.clone();
        after.state = ExceptionState::Resolved;
        after.history.push(Transition {
            state: ExceptionState::Resolved,
            by: ctx.actor.clone(),
            at: ctx.at,
            reason: Some("no finding it covers in the repository's latest scan".into()),
        });
        let op = StoredException {
            exception: after,
            org_id: ctx.org_id.clone(),
        }
        .put_if(Condition::Equals(
            "state".into(),
            json!(ExceptionState::Approved),
        ));
        let metadata = json!({
            "exception_id": e.exception_id,
            "repo_id": repo,
            "before": {"state": ExceptionState::Approved},
            "after": {"state": ExceptionState::Resolved},
        });
        let action = AuditAction::ExceptionResolved;
        match audit_log::commit(store, vec![op], ctx, action, metadata).await {
            Ok(_) => closed.push(e.exception_id.clone()),
            // Decided meanwhile (revoked, or resolved by a redelivery): nothing to do.
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(closed)
}

/// A decision on an exception.
#[derive(Debug, Clone)]
pub enum Decision {
    Approve,
    Reject {
        reason: String,
    },
    /// Ends a request or an approval before its time.
    Revoke {
        reason: Option<String>,
    },
}

impl Decision {
    fn to(&self) -> ExceptionState {
        match self {
            Decision::Approve => ExceptionState::Approved,
            Decision::Reject { .. } => ExceptionState::Rejected,
            Decision::Revoke { .. } => ExceptionState::Revoked,
        }
    }

    fn reason(&self) -> Option<String> {
        match self {
            Decision::Approve => None,
            Decision::Reject { reason } => Some(reason.clone()),
            Decision::Revoke { reason } => reason.clone(),
        }
    }

    /// The states it may be taken from.
    fn from(&self) -> &'static [ExceptionState] {
        match self {
            Decision::Approve | Decision::Reject { .. } => &[ExceptionState::Requested],
            Decision::Revoke { .. } => &[ExceptionState::Requested, ExceptionState::Approved],
        }
    }

    fn action(&self) -> AuditAction {
        match self {
            Decision::Approve => AuditAction::ExceptionApproved,
            Decision::Reject { .. } => AuditAction::ExceptionRejected,
            Decision::Revoke { .. } => AuditAction::ExceptionRevoked,
        }
    }

    /// Approving and rejecting are the second pair of eyes; revoking is not.
    fn is_review(&self) -> bool {
        !matches!(self, Decision::Revoke { .. })
    }
}

/// How a decision went.
#[derive(Debug)]
pub enum Decided {
    Done(Box<Exception>),
    NotFound,
    /// The requester reviewing their own request: refused whatever their role.
    OwnRequest,
    /// The exception is not in a state the decision may be taken from (its state now).
    NotAllowed(ExceptionState),
}

/// Takes `decision` on the exception, conditioned on the state it was read in, with its entry.
pub async fn decide(
    store: &dyn Store,
    ctx: &AuditContext,
    target: Target,
    id: &Uuid,
    decision: Decision,
) -> Result<Decided, StoreError> {
    let key = target.key(&ctx.org_id, id);
    let Some(stored) = store.get_record::<StoredException>(&key).await? else {
        return Ok(Decided::NotFound);
    };
    let before = stored.exception;
    if decision.is_review() && before.requested_by_the_same(&ctx.actor) {
        return Ok(Decided::OwnRequest);
    }
    let now_state = before.state_at(ctx.at);
    if !decision.from().contains(&now_state) {
        return Ok(Decided::NotAllowed(now_state));
    }
    let to = decision.to();
    let reason = decision.reason();
    let mut after = before.clone();
    after.state = to;
    after.history.push(Transition {
        state: to,
        by: ctx.actor.clone(),
        at: ctx.at,
        reason: reason.clone(),
    });
    if decision.is_review() {
        after.decided_by = Some(ctx.actor.clone());
        after.decided_at = Some(ctx.at);
        after.reason = reason.clone();
    }
    let op = StoredException {
        exception: after.clone(),
        org_id: ctx.org_id.clone(),
    }
    // A concurrent decision changed the state: this one is refused, not applied twice.
    .put_if(Condition::Equals("state".into(), json!(before.state)));
    let metadata = json!({
        "exception_id": id,
        "repo_id": before.repo_id,
        "before": {"state": now_state},
        "after": {"state": to, "reason": reason},
    });
    match audit_log::commit(store, vec![op], ctx, decision.action(), metadata).await {
        Ok(_) => Ok(Decided::Done(Box::new(after))),
        Err(StoreError::ConditionFailed { .. }) => {
            let current = get(store, &ctx.org_id, target, id, ctx.at).await?;
            Ok(current.map_or(Decided::NotFound, |e| Decided::NotAllowed(e.state)))
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn expiry_is_required_for_risks_and_bounded_by_the_maximum() {
        let now = at(0);
        let kind = ExceptionKind::RiskAccepted;
        assert_eq!(
            check_expiry(kind, None, now, 365),
            Err(ExpiryProblem::Required(kind))
        );
        assert_eq!(
            check_expiry(ExceptionKind::FalsePositive, None, now, 365),
            Ok(())
        );
        assert_eq!(
            check_expiry(kind, Some(now), now, 365),
            Err(ExpiryProblem::NotInFuture)
        );
        let max = now + Duration::days(365);
        assert_eq!(check_expiry(kind, Some(max), now, 365), Ok(()));
        assert_eq!(
            check_expiry(kind, Some(max + Duration::seconds(1)), now, 365),
            Err(ExpiryProblem::BeyondMaximum(max))
        );
    }
}
