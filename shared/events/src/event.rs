//! An event: what happened in an org, as every subscriber receives it (the body of a webhook
//! delivery, the `detail` of an EventBridge event).

use chrono::{DateTime, Utc};
use compliance_domain::ids::{EventId, OrgId};
use compliance_domain::labels;
use compliance_domain::time::rfc3339;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

labels! {
    pub enum EventType as "event type" {
        ScoreChanged => "score.changed",
        ScanIngested => "scan.ingested",
        ScanRunFailed => "scan.run_failed",
        AuditRunCompleted => "audit_run.completed",
        AlertOpened => "alert.opened",
        AlertDecisionDue => "alert.decision_due",
        ExceptionRequested => "exception.requested",
        ExceptionDecided => "exception.decided",
        ExceptionExpiring => "exception.expiring",
        AttestationDue => "attestation.due",
        /// Sent by a webhook's test action only; nobody subscribes to it.
        Ping => "ping",
    }
}

impl EventType {
    /// The types a webhook may subscribe to.
    pub fn subscribable(self) -> bool {
        self != EventType::Ping
    }
}

/// What the EventBridge events carry as their `source`.
pub const SOURCE: &str = "compliance-api";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    #[serde(rename = "type")]
    pub event_type: EventType,
    #[serde(with = "compliance_domain::time::micros")]
    pub timestamp: DateTime<Utc>,
    pub org_id: OrgId,
    pub data: Value,
}

impl Event {
    /// An event whose id is told by what it describes: `subject` names it (the changed item's
    /// key and what changed), so the same change, however often it is read, is the same event.
    pub fn new(
        event_type: EventType,
        org_id: &OrgId,
        at: DateTime<Utc>,
        subject: &str,
        data: Value,
    ) -> Event {
        let hash = Sha256::digest(format!("{event_type}|{org_id}|{subject}").as_bytes());
        let seconds = at.timestamp().max(0) as u64;
        let id = format!("evt_{seconds:010x}{}", &hex::encode(hash)[..16]);
        Event {
            id: EventId::parse(&id).expect("built to the id's pattern"),
            event_type,
            timestamp: at,
            org_id: org_id.clone(),
            data,
        }
    }

    /// The JSON every subscriber receives, byte for byte the same at every attempt.
    pub fn payload(&self) -> String {
        json!({
            "id": self.id,
            "type": self.event_type,
            "timestamp": rfc3339(self.timestamp),
            "org_id": self.org_id,
            "data": self.data,
        })
        .to_string()
    }
}
