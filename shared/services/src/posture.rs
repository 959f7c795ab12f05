//! A repository's posture as its latest scored scan left it: the overall score and posture,
//! and each framework's score and control statuses. The rescoring function replaces it with
//! each newer scan; the table's stream (or the local change feed) carries its previous and new
//! images, and the events consumer tells `score.changed` from the two. One item per
//! repository, in the repository's partition.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use compliance_domain::ids::{OrgId, RepoId, ScanId};
use compliance_domain::scoring::{ControlStatus, Posture, Report};
use compliance_store::record::{Record, Records};
use compliance_store::{keys, Condition, Key, Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::scans::is_newer;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepoPosture {
    pub org_id: OrgId,
    pub repo_id: RepoId,
    pub scan_id: ScanId,
    #[serde(with = "compliance_domain::time::micros")]
    pub scanned_at: DateTime<Utc>,
    pub overall_score: u32,
    pub posture: Posture,
    /// By framework key.
    pub frameworks: BTreeMap<String, FrameworkPosture>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkPosture {
    pub name: String,
    pub score: Option<u32>,
    /// Control id → its name and status, in id order.
    pub controls: BTreeMap<String, ControlPosture>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlPosture {
    pub name: String,
    pub status: ControlStatus,
}

impl Record for RepoPosture {
    const ENTITY: &'static str = "repo_posture";

    fn key(&self) -> Key {
        keys::repo_posture(&self.org_id, self.repo_id)
    }
}

impl RepoPosture {
    pub fn from_report(
        org_id: &OrgId,
        repo_id: RepoId,
        scan_id: &ScanId,
        scanned_at: DateTime<Utc>,
        report: &Report,
    ) -> Self {
        let frameworks = report
            .frameworks
            .iter()
            .map(|(key, f)| {
                let controls = f
                    .controls
                    .iter()
                    .map(|c| {
                        let control = ControlPosture {
                            name: c.name.clone(),
                            status: c.status,
                        };
                        (c.id.clone(), control)
                    })
                    .collect();
                let framework = FrameworkPosture {
                    name: f.name.clone(),
                    score: f.score,
                    controls,
                };
                (key.clone(), framework)
            })
            .collect();
        RepoPosture {
            org_id: org_id.clone(),
            repo_id,
            scan_id: scan_id.clone(),
            scanned_at,
            overall_score: report.executive_summary.overall_score,
            posture: report.executive_summary.posture,
            frameworks,
        }
    }
}

/// Replaces the repository's posture with `new` unless it already holds this scan or a newer
/// one; whether it did. Conditioned on the scan it read, so two scans scored at once never move
/// it back (the loser fails and its record is retried by the stream).
pub async fn replace(store: &dyn Store, new: &RepoPosture) -> Result<bool, StoreError> {
    let current: Option<RepoPosture> = store.get_record(&new.key()).await?;
    let condition = match &current {
        Some(c) if c.scan_id == new.scan_id || is_newer(&c.scan_id, &new.scan_id) => {
            return Ok(false)
        }
        Some(c) => Condition::Equals("scan_id".into(), serde_json::json!(c.scan_id)),
        None => Condition::NotExists,
    };
    store.write(vec![new.put_if(condition)]).await?;
    Ok(true)
}
