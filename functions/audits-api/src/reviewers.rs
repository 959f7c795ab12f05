//! Who besides its creator sees an audit's runs, alerts and case files: the reviewers its
//! creator names (`PUT /api/audits/{audit_id}/reviewers`). The list lives in the audit's
//! partition; each reviewer gets a grant in its own partition (the only one its requests can
//! name), holding the audit's owner. Nobody else in the org sees the audit (404, as before).

use axum::extract::{Path, State};
use axum::Json;
use compliance_domain::identity::{ActorKind, Principal};
use compliance_domain::ids::{KeyId, OrgId, Uuid};
use compliance_http::body::{FromBody, Object};
use compliance_http::{ApiError, AppState, Caller, Contributor, FieldError, JsonBody, Meta};
use compliance_services::api_keys;
use compliance_services::audit_log::{self, AuditAction};
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Key, Store, StoreError, WriteOp};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::alerts::store::AuditHome;
use crate::records::{self, owner, AuditSession};

/// Reviewers of one audit, at most (each change is one write).
pub const MAX_REVIEWERS: usize = 20;
const MAX_PRINCIPAL: usize = 200;

/// A reviewer: an API key's id (`key_…`) or a token's subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reviewer {
    pub principal: String,
    pub kind: ActorKind,
}

impl Reviewer {
    fn owner(&self) -> String {
        keys::owner_segment(self.kind, &self.principal)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReviewersItem {
    audit_id: Uuid,
    org_id: OrgId,
    owner: String,
    reviewers: Vec<Reviewer>,
    version: u32,
}

impl Record for ReviewersItem {
    const ENTITY: &'static str = "audit_reviewers";

    fn key(&self) -> Key {
        keys::audit_reviewers(&self.org_id, &self.owner, &self.audit_id)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct GrantItem {
    audit_id: Uuid,
    org_id: OrgId,
    /// The reviewer's own partition segment.
    reviewer: String,
    /// The audit's owner: where its items are.
    owner: String,
}

impl Record for GrantItem {
    const ENTITY: &'static str = "audit_review_grant";

    fn key(&self) -> Key {
        keys::audit_review_grant(&self.org_id, &self.reviewer, &self.audit_id)
    }
}

/// The caller's way into an audit: as its creator, or as one of its reviewers.
#[derive(Debug, Clone)]
pub struct AuditAccess {
    pub audit: AuditSession,
    pub home: AuditHome,
    pub creator: bool,
}

pub(crate) fn audit_not_found() -> ApiError {
    ApiError::NotFound("Audit not found".into())
}

/// The audit, when the caller created it or reviews it (anyone else's is a 404, as is a
/// malformed id).
pub async fn access(
    state: &AppState,
    principal: &Principal,
    audit_id: &str,
) -> Result<AuditAccess, ApiError> {
    let audit_id = Uuid::parse(audit_id).map_err(|_| audit_not_found())?;
    let store = state.store.as_ref();
    let org = &principal.org_id;
    let me = owner(principal);
    let (owner, creator) = match records::get_audit(store, org, &me, &audit_id).await? {
        Some(audit) => {
            return Ok(AuditAccess {
                home: AuditHome {
                    org: org.clone(),
                    owner: me,
                    audit_id,
                },
                audit,
                creator: true,
            })
        }
        None => {
            let grant: Option<GrantItem> = store
                .get_record(&keys::audit_review_grant(org, &me, &audit_id))
                .await?;
            (grant.ok_or_else(audit_not_found)?.owner, false)
        }
    };
    let audit = records::get_audit(store, org, &owner, &audit_id)
        .await?
        .ok_or_else(audit_not_found)?;
    Ok(AuditAccess {
        audit,
        home: AuditHome {
            org: org.clone(),
            owner,
            audit_id,
        },
        creator,
    })
}

/// `{"reviewers": ["key_…", "<a token's subject>"]}`.
pub struct SetReviewers {
    reviewers: Vec<String>,
}

impl FromBody for SetReviewers {
    fn from_body(body: &mut Object) -> Option<Self> {
        let reviewers = body.required("reviewers", |f| {
            f.array(0, MAX_REVIEWERS, |item| {
                item.text(compliance_http::body::Text::chars(1, MAX_PRINCIPAL))
            })
        });
        Some(SetReviewers {
            reviewers: reviewers?,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct ReviewerList {
    pub audit_id: Uuid,
    pub reviewers: Vec<Reviewer>,
}

async fn stored(store: &dyn Store, home: &AuditHome) -> Result<Option<ReviewersItem>, StoreError> {
    store
        .get_record(&keys::audit_reviewers(
            &home.org,
            &home.owner,
            &home.audit_id,
        ))
        .await
}

/// `GET /api/audits/{audit_id}/reviewers`: the creator and the reviewers.
pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(audit_id): Path<String>,
) -> Result<Json<ReviewerList>, ApiError> {
    let access = access(&state, &principal, &audit_id).await?;
    let item = stored(state.store.as_ref(), &access.home).await?;
    Ok(Json(ReviewerList {
        audit_id: access.home.audit_id,
        reviewers: item.map(|i| i.reviewers).unwrap_or_default(),
    }))
}

/// Names each reviewer as a principal of the caller's org: an active API key's id, or else a
/// token's subject.
async fn resolve(
    store: &dyn Store,
    principal: &Principal,
    names: Vec<String>,
) -> Result<Vec<Reviewer>, ApiError> {
    let mut out: Vec<Reviewer> = Vec::with_capacity(names.len());
    let mut errors = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        let at = |message: &str| FieldError::new(vec![json!("reviewers"), json!(i)], message);
        let key = match KeyId::parse(&name) {
            Ok(id) if name.starts_with("key_") => {
                api_keys::get(store, &principal.org_id, &id).await?
            }
            _ => None,
        };
        let kind = if key.is_some() {
            ActorKind::ApiKey
        } else if name.starts_with("key_") {
            errors.push(at("no active API key of this org has this id"));
            continue;
        } else {
            ActorKind::User
        };
        if kind == principal.kind && name == principal.actor_id {
            errors.push(at("the audit's creator sees it already"));
            continue;
        }
        if out.iter().any(|r| r.principal == name) {
            errors.push(at("named twice"));
            continue;
        }
        out.push(Reviewer {
            principal: name,
            kind,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// `PUT /api/audits/{audit_id}/reviewers` (the creator, member and above): replaces the list;
/// grants come and go with it, in one write with `AUDIT_REVIEWERS_UPDATED`.
pub async fn set(
    State(state): State<AppState>,
    Contributor(principal): Contributor,
    Meta(meta): Meta,
    Path(audit_id): Path<String>,
    JsonBody(body): JsonBody<SetReviewers>,
) -> Result<Json<ReviewerList>, ApiError> {
    let access = access(&state, &principal, &audit_id).await?;
    if !access.creator {
        return Err(ApiError::Forbidden(
            "Only the audit's creator names its reviewers".into(),
        ));
    }
    let store = state.store.as_ref();
    let home = &access.home;
    let reviewers = resolve(store, &principal, body.reviewers).await?;
    let before = stored(store, home).await?;
    let before_list = before
        .as_ref()
        .map(|b| b.reviewers.clone())
        .unwrap_or_default();
    let item = ReviewersItem {
        audit_id: home.audit_id.clone(),
        org_id: home.org.clone(),
        owner: home.owner.clone(),
        reviewers: reviewers.clone(),
        version: before.as_ref().map_or(1, |b| b.version + 1),
    };
    let mut ops = vec![item.put_if(match &before {
        None => Condition::NotExists,
        Some(b) => Condition::Equals("version".into(), json!(b.version)),
    })];
    for gone in before_list.iter().filter(|r| !reviewers.contains(r)) {
        ops.push(WriteOp::delete(keys::audit_review_grant(
            &home.org,
            &gone.owner(),
            &home.audit_id,
        )));
    }
    for added in reviewers.iter().filter(|r| !before_list.contains(r)) {
        let grant = GrantItem {
            audit_id: home.audit_id.clone(),
            org_id: home.org.clone(),
            reviewer: added.owner(),
            owner: home.owner.clone(),
        };
        ops.push(grant.put());
    }
    let metadata = json!({
        "audit_id": home.audit_id,
        "before": before_list,
        "after": reviewers,
    });
    let ctx = state.audit(&principal, meta);
    match audit_log::commit(
        store,
        ops,
        &ctx,
        AuditAction::AuditReviewersUpdated,
        metadata,
    )
    .await
    {
        Ok(_) => Ok(Json(ReviewerList {
            audit_id: home.audit_id.clone(),
            reviewers,
        })),
        Err(StoreError::ConditionFailed { .. }) => Err(ApiError::Conflict(
            "The reviewers changed meanwhile: read them and try again".into(),
        )),
        Err(e) => Err(e.into()),
    }
}
