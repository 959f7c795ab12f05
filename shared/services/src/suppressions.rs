//! What an accepted SARIF suppression (`// nosemgrep`, `# nosec`, a triage outside the code)
//! does in the org: by default (`require_approval`) the result counts like any other and its
//! suppression becomes a requested exception, asked by whoever sent the report, for someone else
//! to decide; with `honour` the result is excluded as the tool asked (counted as `suppressed`).

use compliance_domain::ids::{OrgId, RepoId};
use compliance_domain::ingest::{SuppressionRequest, Suppressions};
use std::collections::HashSet;

use compliance_store::{Store, StoreError};

use crate::audit_log::AuditContext;
use crate::exceptions::{self, ExceptionKind, NewException, Scope, Target};

/// Turns the scan's reported suppressions into requested exceptions (by fingerprint), asked by
/// the sender of the report, each with its audit entry; a finding some exception of the
/// repository already names (whatever its state: a rejected one is not asked again) is skipped.
/// How many were requested.
pub async fn request_approvals(
    store: &dyn Store,
    ctx: &AuditContext,
    repo: RepoId,
    suppressions: &Suppressions,
) -> Result<usize, StoreError> {
    if suppressions.found.is_empty() {
        return Ok(0);
    }
    let named = named_fingerprints(store, &ctx.org_id, repo).await?;
    let mut requested = 0;
    for s in suppressions
        .found
        .iter()
        .filter(|s| !named.contains(&s.key.fingerprint))
    {
        let new = NewException {
            scope: Scope::Fingerprints {
                fingerprints: vec![s.key.fingerprint.clone()],
            },
            kind: ExceptionKind::FalsePositive,
            justification: justification(s),
            expires_at: None,
        };
        exceptions::request(store, ctx, Target::Repo(repo), new).await?;
        requested += 1;
    }
    Ok(requested)
}

/// What the request says: where the suppression was, and its own justification.
fn justification(s: &SuppressionRequest) -> String {
    let place = s.key.path.as_deref().unwrap_or("(no location)");
    let why = s
        .justification
        .as_deref()
        .filter(|j| !j.trim().is_empty())
        .unwrap_or("no justification given");
    format!(
        "Suppressed by {} ({}) for {} in {place}: {why}",
        s.tool, s.kind, s.key.rule_id
    )
}

/// Every fingerprint an exception of the repository names.
async fn named_fingerprints(
    store: &dyn Store,
    org: &OrgId,
    repo: RepoId,
) -> Result<HashSet<String>, StoreError> {
    let scopes = exceptions::repo_scopes(store, org, repo).await?;
    Ok(scopes
        .into_iter()
        .flat_map(|scope| match scope {
            Scope::Fingerprints { fingerprints } => fingerprints,
            _ => Vec::new(),
        })
        .collect())
}
