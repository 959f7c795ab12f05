//! What a committed change means to subscribers: the events a stream record tells, and the
//! reminders it schedules. Pure: the same record always tells the same events (ids included),
//! so a record read twice is told twice the same and its deliveries are made once.

use chrono::{DateTime, Duration, Utc};
use compliance_domain::ids::{OrgId, RepoId, Uuid};
use compliance_domain::scoring::Attested;
use compliance_domain::time::rfc3339;
use compliance_services::attestations::Attestation;
use compliance_services::exceptions::{Exception, ExceptionState};
use compliance_services::posture::{RepoPosture, Side};
use compliance_services::scans::ScanRecord;
use compliance_store::record::ENTITY;
use compliance_store::stream::EventRecord;
use compliance_store::{Item, Key, StoreError};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::event::{Event, EventType};
use crate::reminders::{Expect, Reminder};

/// Days before an approved exception's expiry that `exception.expiring` is sent.
pub const EXPIRING_DAYS: [i64; 2] = [14, 1];

#[derive(Debug, Default)]
pub struct Told {
    pub events: Vec<Event>,
    pub reminders: Vec<Reminder>,
}

/// The entities whose changes tell events (the consumer's filter, here and in the template).
pub const ENTITIES: &[&str] = &[
    "scan",
    "repo_posture",
    "audit_run",
    "alert",
    "exception",
    "attestation",
];

/// The events and reminders of one stream record.
pub fn tell(record: &EventRecord) -> Result<Told, StoreError> {
    let new = image(&record.change.new_image)?;
    let old = image(&record.change.old_image)?;
    let Some(current) = new.as_ref() else {
        return Ok(Told::default());
    };
    let change = Change {
        at: record.change.approximate_creation_date_time,
        key: Key::of(current).unwrap_or_else(|| Key::new("", "")),
        new: current,
        old: old.as_ref(),
    };
    let mut told = Told::default();
    match current.get(ENTITY).and_then(Value::as_str) {
        Some("scan") if change.old.is_none() => scan(&change, &mut told)?,
        Some("repo_posture") => posture(&change, &mut told)?,
        Some("audit_run") if change.old.is_none() => audit_run(&change, &mut told)?,
        Some("alert") => alert(&change, &mut told)?,
        Some("exception") => exception(&change, &mut told)?,
        Some("attestation") => attestation(&change, &mut told)?,
        _ => {}
    }
    Ok(told)
}

fn image(image: &serde_dynamo::Item) -> Result<Option<Item>, StoreError> {
    if image.is_empty() {
        return Ok(None);
    }
    serde_dynamo::from_item(image.clone())
        .map(Some)
        .map_err(|e| StoreError::Backend(format!("unreadable stream image: {e}")))
}

struct Change<'a> {
    at: DateTime<Utc>,
    key: Key,
    new: &'a Item,
    old: Option<&'a Item>,
}

impl Change<'_> {
    fn new_as<T: DeserializeOwned>(&self) -> Result<T, StoreError> {
        decode(self.new)
    }

    fn old_as<T: DeserializeOwned>(&self) -> Result<Option<T>, StoreError> {
        self.old.map(decode).transpose()
    }

    /// An event about this change; `what` tells apart the events of one change.
    fn event(&self, event_type: EventType, org: &OrgId, what: &str, data: Value) -> Event {
        let subject = format!("{}|{}|{what}", self.key.pk, self.key.sk);
        Event::new(event_type, org, self.at, &subject, data)
    }

    /// A reminder about this change's item, due at `at`.
    fn reminder(
        &self,
        event_type: EventType,
        org: &OrgId,
        at: DateTime<Utc>,
        what: &str,
        data: Value,
        expect: Vec<Expect>,
    ) -> Reminder {
        let subject = format!("{}|{}|{what}", self.key.pk, self.key.sk);
        Reminder {
            event: Event::new(event_type, org, at, &subject, data),
            subject: self.key.clone(),
            expect,
        }
    }

    fn attr(&self, name: &str) -> Value {
        self.new.get(name).cloned().unwrap_or(Value::Null)
    }
}

fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(item.clone()))
        .map_err(|e| StoreError::Backend(format!("unreadable stream image: {e}")))
}

fn scan(change: &Change, told: &mut Told) -> Result<(), StoreError> {
    let ScanRecord { scan, org_id } = change.new_as()?;
    let summary = &scan.summary;
    let data = json!({
        "repo_id": scan.repo_id,
        "scan_id": scan.scan_id,
        "scanned_at": rfc3339(scan.scanned_at),
        "format": scan.format,
        "findings": summary.totals.findings,
        "by_severity": summary.totals.by_severity,
        "tools": summary.tools.iter().map(|t| &t.tool).collect::<Vec<_>>(),
        "failed_runs": summary.totals.failed_runs,
    });
    told.events
        .push(change.event(EventType::ScanIngested, &org_id, "ingested", data));
    for (i, failed) in summary.failed_tools.iter().enumerate() {
        let data = json!({
            "repo_id": scan.repo_id,
            "scan_id": scan.scan_id,
            "tool": failed.tool,
            "version": failed.version,
            "reason": failed.reason,
        });
        let what = format!("run_failed|{i}");
        told.events
            .push(change.event(EventType::ScanRunFailed, &org_id, &what, data));
    }
    Ok(())
}

/// `score.changed` when a framework stands otherwise on a repository's latest scan than on the
/// scan before it (both scored by the same rules at the same time).
fn posture(change: &Change, told: &mut Told) -> Result<(), StoreError> {
    let new: RepoPosture = change.new_as()?;
    let old: Option<RepoPosture> = change.old_as()?;
    if old.is_some_and(|o| o.scan_id == new.scan_id) {
        return Ok(());
    }
    let current = &new.current;
    if new.previous.as_ref().is_some_and(|p| p.same_as(current)) {
        return Ok(());
    }
    let controls: Vec<Value> = current
        .controls
        .iter()
        .filter_map(|(id, control)| {
            let previous = new
                .previous
                .as_ref()
                .and_then(|p| p.controls.get(id))
                .map(|c| c.status);
            (previous != Some(control.status)).then(|| {
                json!({
                    "id": id,
                    "name": control.name,
                    "previous_status": previous,
                    "current_status": control.status,
                })
            })
        })
        .collect();
    let side = |s: &Side| json!({"score": s.score, "overall_score": s.overall_score, "posture": s.posture});
    let data = json!({
        "repo_id": new.repo_id,
        "scan_id": new.scan_id,
        "framework": new.framework,
        "framework_name": new.framework_name,
        "previous": new.previous.as_ref().map(side),
        "current": side(current),
        "controls": controls,
    });
    let what = format!("{}|{}", new.scan_id, new.framework);
    told.events
        .push(change.event(EventType::ScoreChanged, &new.org_id, &what, data));
    Ok(())
}

#[derive(Deserialize)]
struct RunItem {
    org_id: OrgId,
    audit_id: Uuid,
    run_id: Uuid,
    policy_id: Uuid,
    policy_type: Value,
    started_at: Value,
    finished_at: Value,
    records: u64,
    findings_total: u64,
    findings_stored: u64,
    by_severity: Value,
}

fn audit_run(change: &Change, told: &mut Told) -> Result<(), StoreError> {
    let run: RunItem = change.new_as()?;
    let data = json!({
        "audit_id": run.audit_id,
        "run_id": run.run_id,
        "policy_id": run.policy_id,
        "policy_type": run.policy_type,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "records": run.records,
        "findings_total": run.findings_total,
        "findings_stored": run.findings_stored,
        "by_severity": run.by_severity,
    });
    told.events
        .push(change.event(EventType::AuditRunCompleted, &run.org_id, "completed", data));
    Ok(())
}

#[derive(Deserialize)]
struct AlertItem {
    org_id: OrgId,
    audit_id: Uuid,
    alert_id: String,
    rule_id: String,
    severity: Value,
    group_value: String,
    status: String,
    version: u32,
    recommendation: Option<RecommendationItem>,
    decision: Option<Value>,
}

#[derive(Deserialize, PartialEq)]
struct RecommendationItem {
    recommendation: String,
    #[serde(with = "compliance_domain::time::micros")]
    decision_due_at: DateTime<Utc>,
}

/// `alert.opened` when an alert is made or reopened; a reminder for the decision a
/// recommendation makes due.
fn alert(change: &Change, told: &mut Told) -> Result<(), StoreError> {
    let new: AlertItem = change.new_as()?;
    let old: Option<AlertItem> = change.old_as()?;
    let reopened = old.as_ref().is_some_and(|o| o.status == "closed") && new.status == "open";
    if old.is_none() || reopened {
        let data = json!({
            "audit_id": new.audit_id,
            "alert_id": new.alert_id,
            "rule_id": new.rule_id,
            "severity": new.severity,
            "group_value": new.group_value,
            "reopened": reopened,
        });
        let what = format!("opened|{}", new.version);
        told.events
            .push(change.event(EventType::AlertOpened, &new.org_id, &what, data));
    }
    let recommended = old.as_ref().and_then(|o| o.recommendation.as_ref());
    if let Some(rec) = &new.recommendation {
        if new.decision.is_none() && recommended != Some(rec) {
            let data = json!({
                "audit_id": new.audit_id,
                "alert_id": new.alert_id,
                "rule_id": new.rule_id,
                "recommendation": rec.recommendation,
                "decision_due_at": rfc3339(rec.decision_due_at),
            });
            let expect = vec![
                Expect::equals("recommendation", change.attr("recommendation")),
                Expect::absent("decision"),
            ];
            let what = format!("decision_due|{}", rfc3339(rec.decision_due_at));
            told.reminders.push(change.reminder(
                EventType::AlertDecisionDue,
                &new.org_id,
                rec.decision_due_at,
                &what,
                data,
                expect,
            ));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct Owned<T> {
    #[serde(flatten)]
    record: T,
    org_id: OrgId,
}

/// `exception.requested`, `exception.decided`, and the reminders of an approved exception's
/// expiry (those not already past when it was approved).
fn exception(change: &Change, told: &mut Told) -> Result<(), StoreError> {
    let Owned {
        record: new,
        org_id,
    } = change.new_as::<Owned<Exception>>()?;
    let old = change.old_as::<Owned<Exception>>()?.map(|o| o.record);
    let repo_id: Option<RepoId> = new.repo_id;
    match (old.as_ref().map(|o| o.state), new.state) {
        (None, ExceptionState::Requested) => {
            let data = json!({
                "exception_id": new.exception_id,
                "repo_id": repo_id,
                "kind": new.kind,
                "justification": new.justification,
                "expires_at": new.expires_at.map(rfc3339),
                "requested_by": new.requested_by.id,
            });
            told.events.push(change.event(
                EventType::ExceptionRequested,
                &org_id,
                "requested",
                data,
            ));
        }
        (Some(ExceptionState::Requested), ExceptionState::Approved | ExceptionState::Rejected) => {
            let data = json!({
                "exception_id": new.exception_id,
                "repo_id": repo_id,
                "decision": new.state,
                "decided_by": new.decided_by.as_ref().map(|a| &a.id),
                "reason": new.reason,
                "expires_at": new.expires_at.map(rfc3339),
            });
            told.events
                .push(change.event(EventType::ExceptionDecided, &org_id, "decided", data));
            if let (ExceptionState::Approved, Some(expires)) = (new.state, new.expires_at) {
                for days in EXPIRING_DAYS {
                    let at = expires - Duration::days(days);
                    if at <= change.at {
                        continue;
                    }
                    let data = json!({
                        "exception_id": new.exception_id,
                        "repo_id": repo_id,
                        "expires_at": rfc3339(expires),
                        "days_left": days,
                    });
                    let expect = vec![
                        Expect::equals("state", json!(ExceptionState::Approved)),
                        Expect::equals("expires_at", change.attr("expires_at")),
                    ];
                    told.reminders.push(change.reminder(
                        EventType::ExceptionExpiring,
                        &org_id,
                        at,
                        &format!("expiring|{days}"),
                        data,
                        expect,
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// For a new version of an attestation: `attestation.due` when it turns due soon and when it
/// turns overdue (at once for a milestone already past, the latest only).
fn attestation(change: &Change, told: &mut Told) -> Result<(), StoreError> {
    let Owned {
        record: new,
        org_id,
    } = change.new_as::<Owned<Attestation>>()?;
    let old = change.old_as::<Owned<Attestation>>()?.map(|o| o.record);
    if new.withdrawn || old.is_some_and(|o| o.version == new.version) {
        return Ok(());
    }
    let attested = Attested {
        effective_at: new.effective_at,
        due_at: new.due_at,
    };
    let milestones = [
        ("due_soon", attested.due_soon_from()),
        ("overdue", new.due_at),
    ];
    let past = milestones.iter().rposition(|(_, at)| *at <= change.at);
    for (i, (state, at)) in milestones.iter().enumerate() {
        if past.is_some_and(|p| i < p) {
            continue;
        }
        let data = json!({
            "framework": new.framework,
            "control_id": new.control_id,
            "state": state,
            "due_at": rfc3339(new.due_at),
            "owner": new.owner,
        });
        let expect = vec![Expect::equals("version", json!(new.version))];
        let when = (*at).max(change.at);
        let what = format!("due|{}|{state}", new.version);
        told.reminders.push(change.reminder(
            EventType::AttestationDue,
            &org_id,
            when,
            &what,
            data,
            expect,
        ));
    }
    Ok(())
}
