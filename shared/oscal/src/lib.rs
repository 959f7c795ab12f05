//! OSCAL 1.1.3 assessment results (NIST's Open Security Controls Assessment Language) built
//! from what the API judged: a repository's latest evaluation against the org's enabled
//! frameworks ([`scores`]) and an audit run of a policy pack ([`runs`]).
//!
//! Pure: the callers read the store and pass everything in, including the time. The same
//! evaluation always gives the same UUIDs (UUID v5 of stable names, [`text::stable_uuid`]), so
//! a GRC tool that imports the document twice sees the same results, observations and findings.
//!
//! One document holds one `result`:
//! - `reviewed-controls`: one control selection per catalog (framework or pack) with the
//!   controls it judged, and one per control left out (marked Not Applicable by the org, or a
//!   rule not active in the run), whose description says why;
//! - an `observation` per evidence item (a tool of the scan, the scan's own signals, a rule's
//!   evaluation over the records), method `TEST`, with the time it was collected;
//! - a `finding` per judged control, whose `target.status.state` is `satisfied` only when the
//!   control passed: partial, failing and evidence-less controls are `not-satisfied` (no
//!   evidence is never satisfied), with the reason in the status remarks.
//!
//! Control ids become OSCAL tokens with [`text::control_token`] (`owasp.A01_3a_2021`); the
//! original id is kept in the finding's `control-id` property.

pub mod model;
pub mod runs;
pub mod scores;
pub mod text;

use chrono::{DateTime, Utc};

use model::*;
use text::{single_line, stable_uuid, timestamp, PROP_NS};

/// The OSCAL version the documents conform to (checked in the test suite against NIST's
/// published JSON schema for it, and with compliance-trestle's models of it).
pub const OSCAL_VERSION: &str = "1.1.3";

/// The org the document is about.
#[derive(Debug, Clone, Copy)]
pub struct Org<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

/// A property, when its value has any text.
fn prop(name: &'static str, value: impl AsRef<str>) -> Option<Property> {
    single_line(value.as_ref()).map(|value| Property {
        name,
        ns: PROP_NS,
        value,
    })
}

/// Text for a field that must not be empty.
fn text_or(text: &str, fallback: &str) -> String {
    single_line(text).unwrap_or_else(|| fallback.to_string())
}

/// How a control was judged, in OSCAL's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Partial,
    Fail,
    /// Nothing to judge it on: never satisfied.
    NoEvidence,
}

impl Verdict {
    fn status(self, remarks: Option<String>) -> ObjectiveStatus {
        let (state, reason) = match self {
            Verdict::Pass => ("satisfied", "pass"),
            Verdict::Fail => ("not-satisfied", "fail"),
            Verdict::Partial | Verdict::NoEvidence => ("not-satisfied", "other"),
        };
        ObjectiveStatus {
            state,
            reason,
            remarks,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Partial => "partial",
            Verdict::Fail => "fail",
            Verdict::NoEvidence => "no_evidence",
        }
    }
}

/// One catalog's controls as reviewed.
struct Selection<'a> {
    catalog: &'a str,
    title: String,
    included: Vec<&'a str>,
    /// Control id and why it was left out.
    excluded: Vec<(&'a str, String)>,
}

struct ObservationInput {
    /// Stable within the document (the UUID is made from it).
    key: String,
    title: String,
    description: String,
    props: Vec<Option<Property>>,
    /// How it was gathered: `TEST` (a scan ran), `EXAMINE` (someone reviewed and attested).
    method: &'static str,
    collected: DateTime<Utc>,
}

struct FindingInput<'a> {
    catalog: &'a str,
    control_id: &'a str,
    title: String,
    description: String,
    verdict: Verdict,
    remarks: Option<String>,
    props: Vec<Option<Property>>,
    /// Keys of the observations it was judged on.
    observations: Vec<String>,
    /// Keys of the risks (approved exceptions) that set some of its findings aside.
    risks: Vec<String>,
}

/// An approved exception as an OSCAL risk.
struct RiskInput {
    /// Stable within the document (the UUID is made from it).
    key: String,
    title: String,
    description: String,
    statement: String,
    props: Vec<Option<Property>>,
    log: Vec<RiskLogInput>,
}

struct RiskLogInput {
    title: String,
    description: String,
    at: DateTime<Utc>,
    status_change: Option<&'static str>,
}

/// Everything one document says.
struct Assessment<'a> {
    /// The stable name the document's UUIDs derive from (the evaluation's identity).
    name: String,
    title: String,
    version: String,
    org: Org<'a>,
    generated_at: DateTime<Utc>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    result_title: String,
    result_description: String,
    result_props: Vec<Option<Property>>,
    selections: Vec<Selection<'a>>,
    observations: Vec<ObservationInput>,
    findings: Vec<FindingInput<'a>>,
    risks: Vec<RiskInput>,
}

/// The href of the org's assessment plan: the same for every document of the org.
pub fn assessment_plan_href(org_id: &str) -> String {
    format!("urn:compliance-api:org:{org_id}:assessment-plan")
}

impl Assessment<'_> {
    fn build(self) -> Document {
        let name = &self.name;
        let org_uuid = stable_uuid(&format!("org/{}", self.org.id));
        let observation_uuid = |key: &str| stable_uuid(&format!("{name}/observation/{key}"));
        let risk_uuid = |key: &str| stable_uuid(&format!("{name}/risk/{key}"));
        let control_selections = self.control_selections();
        let observations: Vec<Observation> = self
            .observations
            .iter()
            .map(|o| Observation {
                uuid: observation_uuid(&o.key),
                title: text_or(&o.title, "Observation"),
                description: text_or(&o.description, "Evidence collected by the compliance API."),
                props: o.props.iter().flatten().cloned().collect(),
                methods: vec![o.method],
                collected: timestamp(o.collected),
            })
            .collect();
        let findings = self
            .findings
            .iter()
            .map(|f| {
                let token = text::control_token(f.catalog, f.control_id);
                Finding {
                    uuid: stable_uuid(&format!("{name}/finding/{token}")),
                    title: text_or(&f.title, &token),
                    description: text_or(&f.description, f.verdict.as_str()),
                    props: f.props.iter().flatten().cloned().collect(),
                    target: FindingTarget {
                        kind: "objective-id",
                        title: text_or(&f.title, &token),
                        target_id: token,
                        status: f.verdict.status(f.remarks.as_deref().and_then(single_line)),
                    },
                    related_observations: f
                        .observations
                        .iter()
                        .map(|key| RelatedObservation {
                            observation_uuid: observation_uuid(key),
                        })
                        .collect(),
                    related_risks: f
                        .risks
                        .iter()
                        .map(|key| RelatedRisk {
                            risk_uuid: risk_uuid(key),
                        })
                        .collect(),
                }
            })
            .collect();
        let risks = self
            .risks
            .iter()
            .map(|r| Risk {
                uuid: risk_uuid(&r.key),
                title: text_or(&r.title, "Approved exception"),
                description: text_or(&r.description, "An approved exception to findings."),
                statement: text_or(&r.statement, "Findings set aside by an approved exception."),
                props: r.props.iter().flatten().cloned().collect(),
                status: "deviation-approved",
                risk_log: RiskLog {
                    entries: r
                        .log
                        .iter()
                        .enumerate()
                        .map(|(i, entry)| RiskLogEntry {
                            uuid: stable_uuid(&format!("{name}/risk/{}/log/{i}", r.key)),
                            title: text_or(&entry.title, "Exception"),
                            description: text_or(&entry.description, &entry.title),
                            start: timestamp(entry.at),
                            status_change: entry.status_change,
                        })
                        .collect(),
                },
            })
            .collect();
        Document {
            assessment_results: AssessmentResults {
                uuid: stable_uuid(name),
                metadata: Metadata {
                    title: text_or(&self.title, "Assessment results"),
                    last_modified: timestamp(self.generated_at),
                    version: text_or(&self.version, "1"),
                    oscal_version: OSCAL_VERSION,
                    props: vec![],
                    roles: vec![Role {
                        id: "system-owner",
                        title: "System Owner",
                    }],
                    parties: vec![Party {
                        uuid: org_uuid,
                        kind: "organization",
                        name: text_or(self.org.name, self.org.id),
                        props: prop("org-id", self.org.id).into_iter().collect(),
                    }],
                    responsible_parties: vec![ResponsibleParty {
                        role_id: "system-owner",
                        party_uuids: vec![org_uuid],
                    }],
                },
                import_ap: ImportAp {
                    href: assessment_plan_href(self.org.id),
                },
                results: vec![AssessmentResult {
                    uuid: stable_uuid(&format!("{name}/result")),
                    title: text_or(&self.result_title, "Assessment result"),
                    description: text_or(&self.result_description, "Assessment result"),
                    start: timestamp(self.start),
                    end: Some(timestamp(self.end.max(self.start))),
                    props: self.result_props.iter().flatten().cloned().collect(),
                    reviewed_controls: ReviewedControls {
                        description: "The controls of the enabled catalogs: those judged, and \
                                      those left out with the reason."
                            .to_string(),
                        control_selections,
                    },
                    observations,
                    findings,
                    risks,
                }],
            },
        }
    }

    fn control_selections(&self) -> Vec<ControlSelection> {
        let mut selections = Vec::new();
        for s in &self.selections {
            let catalog = prop("catalog", s.catalog);
            if !s.included.is_empty() || s.excluded.is_empty() {
                selections.push(ControlSelection {
                    description: text_or(&s.title, s.catalog),
                    props: catalog.iter().cloned().collect(),
                    include_controls: s
                        .included
                        .iter()
                        .map(|id| SelectControl {
                            control_id: text::control_token(s.catalog, id),
                        })
                        .collect(),
                    exclude_controls: vec![],
                    remarks: None,
                });
            }
            for (id, reason) in &s.excluded {
                selections.push(ControlSelection {
                    description: text_or(
                        &format!("{} {id} excluded: {reason}", s.title),
                        "Excluded",
                    ),
                    props: catalog
                        .iter()
                        .cloned()
                        .chain(prop("control-id", id))
                        .chain(prop("exclusion-reason", reason))
                        .collect(),
                    include_controls: vec![],
                    exclude_controls: vec![SelectControl {
                        control_id: text::control_token(s.catalog, id),
                    }],
                    remarks: single_line(reason),
                });
            }
        }
        if selections.is_empty() {
            // The schema wants one selection: say that nothing was in scope.
            selections.push(ControlSelection {
                description: "No catalog was in scope: nothing was assessed.".to_string(),
                props: vec![],
                include_controls: vec![],
                exclude_controls: vec![],
                remarks: None,
            });
        }
        selections
    }
}
