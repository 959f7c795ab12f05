//! GDPR: processing activities (the record of processing), systems, data subject requests,
//! breaches, international transfers and the controller entities.
//!
//! A rule about one kind of record is scoped to a field that records of that kind carry
//! (`gdpr-acc-001` to `in_ropa`, `gdpr-bn-003` to `risk_to_individuals`, `gdpr-dpd-003` to
//! `records_past_retention`), so a record of another kind is not evaluable for it even where the
//! rule's `exists` tests would fail: a data subject request has no `facts` but is no finding of
//! the breach documentation rule.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::{at, days, hours, obj, secs, ts, Builder, Case};

const LAWFUL_BASES: &[&str] = &[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
];
const ART9_CONDITIONS: &[&str] = &[
    "explicit_consent",
    "employment_law",
    "vital_interests",
    "health_care",
];
const PURPOSES: &[&str] = &[
    "billing",
    "customer_support",
    "fraud_prevention",
    "marketing",
    "payroll",
    "analytics",
];
const SUBJECTS: &[&str] = &[
    "customers",
    "employees",
    "prospects",
    "suppliers",
    "website_visitors",
];
const DATA: &[&str] = &[
    "contact_details",
    "payment_data",
    "usage_data",
    "identity_documents",
    "health_data",
];
const RECIPIENTS: &[&str] = &[
    "payment_processor",
    "cloud_host",
    "tax_authority",
    "crm_vendor",
];
const EEA: &[&str] = &["DE", "FR", "IE", "NL", "SE", "PL", "ES", "IT"];
const ADEQUATE: &[&str] = &["US", "GB", "CH", "JP", "CA", "KR"];
const THIRD: &[&str] = &["IN", "CN", "BR", "PH", "MX", "ZA"];

/// The fields that scope a rule to one kind of record, with the kinds (id prefixes) that carry
/// them. The ground truth counts on records of the other kinds lacking the field.
const SCOPES: &[(&str, &[&str])] = &[
    ("in_ropa", &["pa"]),
    ("risk_to_individuals", &["breach"]),
    ("records_past_retention", &["pa", "sys"]),
];

pub(super) fn generate(b: &mut Builder, size: usize) {
    background(b, size);
    planted(b);
    for (id, record) in b.ids() {
        let kind = id.split('-').next().unwrap_or_default();
        for (field, kinds) in SCOPES {
            assert!(
                kinds.contains(&kind) || record.get(*field).is_none_or(Value::is_null),
                "{id} carries {field}, the scope of another kind of record"
            );
        }
    }
}

fn some<'a>(b: &mut Builder, items: &[&'a str]) -> Vec<&'a str> {
    let n = 1 + b.rng.below(items.len().min(3) as u64) as usize;
    let mut picked: Vec<&str> = Vec::with_capacity(n);
    while picked.len() < n {
        let item = *b.rng.pick(items);
        if !picked.contains(&item) {
            picked.push(item);
        }
    }
    picked
}

/// A compliant processing activity.
fn activity(b: &mut Builder) -> Map<String, Value> {
    let purposes = some(b, PURPOSES);
    let subjects = some(b, SUBJECTS);
    let data = some(b, DATA);
    let recipients = some(b, RECIPIENTS);
    let rng = &mut b.rng;
    let lawful_basis = *rng.pick(LAWFUL_BASES);
    let mut r = obj(json!({
        "activity_id": format!("PA-{:05}", rng.below(100_000)),
        "name": format!("{} processing", purposes[0]),
        "lawful_basis": lawful_basis,
        "special_category_data": false,
        "privacy_review_completed": true,
        "data_minimisation_applied": true,
        "default_visibility": "private",
        "likely_high_risk": false,
        "retention_period": *rng.pick(&["P1Y", "P3Y", "P6Y", "P10Y"]),
        "records_past_retention": 0,
        "in_ropa": true,
        "purposes": purposes,
        "data_subject_categories": subjects,
        "personal_data_categories": data,
        "recipient_categories": recipients,
        "processor_involved": false,
    }));
    if lawful_basis == "consent" {
        r.insert(
            "consent_record_id".into(),
            json!(format!("CONSENT-{:06}", rng.below(1_000_000))),
        );
        r.insert("consent_withdrawn".into(), json!(false));
    }
    if rng.chance(0.1) {
        r.insert("special_category_data".into(), json!(true));
        r.insert("art9_condition".into(), json!(*rng.pick(ART9_CONDITIONS)));
    }
    if rng.chance(0.15) {
        r.insert("likely_high_risk".into(), json!(true));
        r.insert("dpia_completed".into(), json!(true));
    } else if rng.chance(0.3) {
        r.insert("dpia_completed".into(), json!(false));
    }
    if rng.chance(0.5) {
        r.insert("processor_involved".into(), json!(true));
        r.insert("dpa_signed".into(), json!(true));
        r.insert("sub_processors_authorised".into(), json!(true));
    }
    r
}

/// A compliant system holding personal data.
fn system(b: &mut Builder) -> Map<String, Value> {
    let now = b.now;
    let rng = &mut b.rng;
    obj(json!({
        "system_id": format!("SYS-{:04}", rng.below(10_000)),
        "name": *rng.pick(&["crm", "billing", "hr-portal", "data-warehouse", "support-desk"]),
        "hosting_country": *rng.pick(EEA),
        "encrypted_at_rest": true,
        "encrypted_in_transit": true,
        "last_security_test_at": ts(now - days(rng.range(1, 360))),
        "retention_period": "P3Y",
        "records_past_retention": 0,
    }))
}

/// A compliant breach: authority told within 72 hours unless unlikely to be a risk, data
/// subjects told of a high-risk one.
fn breach(b: &mut Builder, aware: DateTime<Utc>, risk: &str) -> Map<String, Value> {
    let rng = &mut b.rng;
    let mut r = obj(json!({
        "breach_id": format!("BR-{:05}", rng.below(100_000)),
        "became_aware_at": ts(aware),
        "risk_to_individuals": risk,
        "records_affected": rng.range(1, 50_000),
        "facts": "Misdirected export of a customer list",
        "effects": "Names and e-mail addresses disclosed to one recipient",
        "remedial_actions": "Recipient confirmed deletion; export permissions tightened",
    }));
    if risk != "unlikely" {
        r.insert(
            "authority_notified_at".into(),
            ts(aware + secs(rng.range(3_600, 70 * 3_600))),
        );
    }
    if risk == "high" {
        r.insert("data_subjects_notified".into(), json!(true));
    }
    r
}

fn background(b: &mut Builder, size: usize) {
    let now = b.now;
    let entities = (size / 200).max(usize::from(size > 0));
    for _ in 0..entities {
        let required = b.rng.chance(0.6);
        let mut r = obj(json!({
            "entity_id": format!("ENT-{:03}", b.rng.below(1_000)),
            "name": "Example Controller GmbH",
            "dpo_required": required,
        }));
        if required {
            r.insert("dpo_designated".into(), json!(true));
            r.insert("dpo_contact_published".into(), json!(true));
        }
        b.add("org", r);
    }
    for _ in entities..size {
        let kind = *b.rng.weighted(&[
            ("activity", 25),
            ("system", 15),
            ("dsr", 40),
            ("breach", 5),
            ("transfer", 15),
        ]);
        match kind {
            "activity" => {
                let r = activity(b);
                b.add("pa", r);
            }
            "system" => {
                let r = system(b);
                b.add("sys", r);
            }
            "dsr" => {
                let r = request(b);
                b.add("dsr", r);
            }
            "breach" => {
                let aware = now - days(b.rng.range(4, 300)) - secs(b.rng.range(0, 86_000));
                let risk = *b
                    .rng
                    .weighted(&[("unlikely", 50), ("risk", 35), ("high", 15)]);
                let mut r = breach(b, aware, risk);
                if risk == "high" && b.rng.chance(0.3) {
                    r.insert("data_subjects_notified".into(), json!(false));
                    r.insert("art34_exemption".into(), json!("data_unintelligible"));
                }
                b.add("breach", r);
            }
            _ => {
                let r = transfer(b);
                b.add("xfer", r);
            }
        }
    }
}

/// A data subject request answered in time (or still within its month).
fn request(b: &mut Builder) -> Map<String, Value> {
    let now = b.now;
    let rng = &mut b.rng;
    let kind = *rng.weighted(&[
        ("access", 40),
        ("erasure", 25),
        ("rectification", 15),
        ("portability", 5),
        ("objection", 15),
    ]);
    let received = now - days(rng.range(1, 200)) - secs(rng.range(0, 86_000));
    let mut r = obj(json!({
        "request_id": format!("DSR-{:06}", rng.below(1_000_000)),
        "data_subject_id": format!("DS-{:07}", rng.below(10_000_000)),
        "request_type": kind,
        "received_at": ts(received),
        "channel": *rng.pick(&["email", "web_form", "letter"]),
    }));
    // A month is at least 28 days: 27 days and some hours is always in time.
    let answer = if rng.chance(0.15) {
        // Extended within the month, answered later.
        r.insert(
            "extension_notified_at".into(),
            ts(received + days(rng.range(5, 27))),
        );
        received + days(rng.range(35, 85))
    } else {
        received + days(rng.range(0, 26)) + secs(rng.range(60, 86_000))
    };
    if answer <= now {
        r.insert("responded_at".into(), ts(answer));
        r.insert("status".into(), json!("completed"));
        if kind == "erasure" {
            r.insert("recipients_notified".into(), json!(true));
        }
    } else {
        r.insert("status".into(), json!(*rng.pick(&["open", "in_progress"])));
    }
    if kind == "objection" {
        r.insert("objected_to_direct_marketing".into(), json!(true));
        r.insert("direct_marketing_active".into(), json!(false));
    } else if rng.chance(0.2) {
        r.insert("objected_to_direct_marketing".into(), json!(false));
        r.insert("direct_marketing_active".into(), json!(true));
    }
    r
}

fn transfer(b: &mut Builder) -> Map<String, Value> {
    let rng = &mut b.rng;
    let region = *rng.weighted(&[("eea", 40), ("adequate", 35), ("third", 25)]);
    let mut r = obj(json!({
        "transfer_id": format!("XF-{:05}", rng.below(100_000)),
        "data_category": *rng.pick(DATA),
    }));
    match region {
        "eea" => {
            r.insert("destination_country".into(), json!(*rng.pick(EEA)));
        }
        "adequate" => {
            r.insert("destination_country".into(), json!(*rng.pick(ADEQUATE)));
        }
        _ => {
            r.insert("destination_country".into(), json!(*rng.pick(THIRD)));
            let mechanism = *rng.weighted(&[
                ("standard_contractual_clauses", 70),
                ("binding_corporate_rules", 20),
                ("art49_derogation", 10),
            ]);
            r.insert("transfer_mechanism".into(), json!(mechanism));
            if mechanism != "art49_derogation" {
                r.insert("transfer_impact_assessment_completed".into(), json!(true));
            }
        }
    }
    r
}

fn with(mut r: Map<String, Value>, pairs: &[(&str, Value)]) -> Map<String, Value> {
    for (k, v) in pairs {
        r.insert((*k).into(), v.clone());
    }
    r
}

fn without(mut r: Map<String, Value>, fields: &[&str]) -> Map<String, Value> {
    for f in fields {
        r.remove(*f);
    }
    r
}

/// A compliant processing activity without consent, special categories, high risk or a
/// processor.
fn plain_activity(b: &mut Builder) -> Map<String, Value> {
    let base = without(
        activity(b),
        &[
            "consent_record_id",
            "consent_withdrawn",
            "art9_condition",
            "dpia_completed",
            "dpa_signed",
            "sub_processors_authorised",
        ],
    );
    with(
        base,
        &[
            ("lawful_basis", json!("contract")),
            ("special_category_data", json!(false)),
            ("likely_high_risk", json!(false)),
            ("processor_involved", json!(false)),
        ],
    )
}

fn planted(b: &mut Builder) {
    let now = b.now;
    // Processing activities: (rule or None for a near miss, changes to a compliant one).
    let consent = [
        ("lawful_basis", json!("consent")),
        ("consent_record_id", json!("CONSENT-P1")),
        ("consent_withdrawn", json!(false)),
    ];
    // (rule or None for a near miss, fields to set, fields to remove)
    type Edit<'a> = (Option<&'a str>, Vec<(&'a str, Value)>, &'a [&'a str]);
    let cases: Vec<Edit> = vec![
        (
            Some("gdpr-law-001"),
            vec![("lawful_basis", json!("business_need"))],
            &[],
        ),
        (
            Some("gdpr-law-001"),
            vec![("lawful_basis", json!("legitimate_interest"))],
            &[],
        ),
        (
            None,
            vec![("lawful_basis", json!("legitimate_interests"))],
            &[],
        ),
        (
            Some("gdpr-law-002"),
            consent.to_vec(),
            &["consent_record_id"],
        ),
        (
            Some("gdpr-law-002"),
            vec![
                ("lawful_basis", json!("consent")),
                ("consent_record_id", json!("CONSENT-P2")),
                ("consent_withdrawn", json!(true)),
            ],
            &[],
        ),
        (None, consent.to_vec(), &[]),
        (
            Some("gdpr-law-003"),
            vec![("special_category_data", json!(true))],
            &[],
        ),
        (
            Some("gdpr-law-003"),
            vec![
                ("special_category_data", json!(true)),
                ("art9_condition", Value::Null),
            ],
            &[],
        ),
        (
            None,
            vec![
                ("special_category_data", json!(true)),
                ("art9_condition", json!("explicit_consent")),
            ],
            &[],
        ),
        (
            Some("gdpr-dpd-001"),
            vec![("default_visibility", json!("public"))],
            &[],
        ),
        (
            Some("gdpr-dpd-001"),
            vec![("data_minimisation_applied", json!(false))],
            &[],
        ),
        (
            Some("gdpr-dpd-001"),
            vec![("privacy_review_completed", json!(false))],
            &[],
        ),
        (
            Some("gdpr-dpd-002"),
            vec![
                ("likely_high_risk", json!(true)),
                ("dpia_completed", json!(false)),
            ],
            &[],
        ),
        (
            Some("gdpr-dpd-002"),
            vec![
                ("likely_high_risk", json!(true)),
                ("dpia_completed", json!(false)),
                ("lawful_basis", json!("public_task")),
            ],
            &[],
        ),
        (
            None,
            vec![
                ("likely_high_risk", json!(false)),
                ("dpia_completed", json!(false)),
            ],
            &[],
        ),
        (
            Some("gdpr-dpd-003"),
            vec![("records_past_retention", json!(12))],
            &[],
        ),
        (
            Some("gdpr-dpd-003"),
            vec![("records_past_retention", json!(1))],
            &[],
        ),
        (Some("gdpr-acc-001"), vec![("in_ropa", json!(false))], &[]),
        (Some("gdpr-acc-001"), vec![], &["recipient_categories"]),
        (Some("gdpr-acc-001"), vec![("purposes", Value::Null)], &[]),
        (
            Some("gdpr-acc-001"),
            vec![("in_ropa", json!(false))],
            &["purposes", "data_subject_categories"],
        ),
        // Whether it is in the record of processing is not known: not evaluable.
        (None, vec![], &["in_ropa"]),
        (None, vec![("in_ropa", Value::Null)], &[]),
        (
            Some("gdpr-acc-002"),
            vec![
                ("processor_involved", json!(true)),
                ("dpa_signed", json!(false)),
                ("sub_processors_authorised", json!(true)),
            ],
            &[],
        ),
        (
            Some("gdpr-acc-002"),
            vec![
                ("processor_involved", json!(true)),
                ("dpa_signed", json!(true)),
                ("sub_processors_authorised", json!(false)),
            ],
            &[],
        ),
        (
            None,
            vec![
                ("processor_involved", json!(false)),
                ("dpa_signed", json!(false)),
            ],
            &[],
        ),
    ];
    for (rule, pairs, removed) in cases {
        let base = plain_activity(b);
        let r = without(with(base, &pairs), removed);
        let id = b.add("pa", r);
        if let Some(rule) = rule {
            b.plant(rule, &id);
        }
    }
    // Without a retention period an activity fails both its record of processing and storage
    // limitation.
    let r = without(plain_activity(b), &["retention_period"]);
    let id = b.add("pa", r);
    b.plant("gdpr-acc-001", &id);
    b.plant("gdpr-dpd-003", &id);

    // Systems.
    let cases: Vec<Case> = vec![
        (
            Some("gdpr-dpd-003"),
            vec![("records_past_retention", json!(340))],
        ),
        (
            Some("gdpr-dpd-003"),
            vec![("retention_period", Value::Null)],
        ),
        (
            Some("gdpr-dpd-003"),
            vec![
                ("retention_period", Value::Null),
                ("records_past_retention", json!(5)),
            ],
        ),
        // No count of records past retention: no evidence either way.
        (None, vec![("records_past_retention", Value::Null)]),
        (None, vec![("records_past_retention", json!(0.0))]),
        (
            Some("gdpr-sec-001"),
            vec![("encrypted_at_rest", json!(false))],
        ),
        (
            Some("gdpr-sec-001"),
            vec![("encrypted_in_transit", json!(false))],
        ),
        // A year after 29 February 2024 is 28 February 2025.
        (
            Some("gdpr-sec-002"),
            vec![("last_security_test_at", ts(at(2024, 2, 29, 12, 0, 0)))],
        ),
        (
            Some("gdpr-sec-002"),
            vec![("last_security_test_at", ts(at(2023, 5, 10, 9, 0, 0)))],
        ),
        (
            None,
            vec![("last_security_test_at", ts(at(2024, 3, 1, 12, 0, 0)))],
        ),
    ];
    for (rule, pairs) in cases {
        let r = with(system(b), &pairs);
        let id = b.add("sys", r);
        if let Some(rule) = rule {
            b.plant(rule, &id);
        }
    }

    // Data subject requests: (rule, type, received, responded, extension, status, recipients).
    type Request<'a> = (
        Option<&'a str>,
        &'a str,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        Option<bool>,
    );
    let cases: Vec<Request> = vec![
        // A month after 31 January is 28 February.
        (
            Some("gdpr-dsr-001"),
            "erasure",
            at(2025, 1, 31, 10, 0, 0),
            Some(at(2025, 2, 28, 10, 0, 1)),
            None,
            Some(true),
        ),
        (
            Some("gdpr-dsr-001"),
            "erasure",
            at(2025, 2, 1, 11, 59, 59),
            None,
            None,
            None,
        ),
        (
            None,
            "erasure",
            at(2025, 1, 31, 10, 0, 0),
            Some(at(2025, 2, 28, 10, 0, 0)),
            None,
            Some(true),
        ),
        (None, "erasure", at(2025, 2, 1, 12, 0, 0), None, None, None),
        (
            None,
            "erasure",
            at(2024, 12, 20, 9, 0, 0),
            Some(at(2025, 2, 27, 9, 0, 0)),
            Some(at(2025, 1, 15, 9, 0, 0)),
            Some(true),
        ),
        (
            Some("gdpr-dsr-002"),
            "access",
            at(2024, 12, 31, 9, 0, 0),
            Some(at(2025, 1, 31, 9, 0, 1)),
            None,
            None,
        ),
        (
            Some("gdpr-dsr-002"),
            "access",
            at(2024, 11, 30, 9, 0, 0),
            Some(at(2025, 2, 15, 9, 0, 0)),
            Some(at(2024, 12, 30, 9, 0, 1)),
            None,
        ),
        (
            Some("gdpr-dsr-002"),
            "access",
            at(2025, 1, 30, 9, 0, 0),
            Some(at(2025, 3, 1, 9, 0, 0)),
            None,
            None,
        ),
        (
            None,
            "access",
            at(2024, 12, 31, 9, 0, 0),
            Some(at(2025, 1, 31, 9, 0, 0)),
            None,
            Some(false),
        ),
        (
            None,
            "access",
            at(2025, 1, 30, 9, 0, 0),
            Some(at(2025, 2, 28, 9, 0, 0)),
            None,
            None,
        ),
        (
            Some("gdpr-dsr-003"),
            "erasure",
            at(2025, 1, 6, 9, 0, 0),
            Some(at(2025, 1, 20, 9, 0, 0)),
            None,
            Some(false),
        ),
        (
            Some("gdpr-dsr-003"),
            "erasure",
            at(2025, 2, 3, 9, 0, 0),
            Some(at(2025, 2, 4, 9, 0, 0)),
            None,
            Some(false),
        ),
        (None, "erasure", now - days(3), None, None, Some(false)),
    ];
    for (rule, kind, received, responded, extension, recipients) in cases {
        let mut r = obj(json!({
            "request_id": format!("DSR-P-{}", received.timestamp()),
            "data_subject_id": "DS-P",
            "request_type": kind,
            "received_at": ts(received),
            "status": if responded.is_some() { "completed" } else { "open" },
        }));
        if let Some(t) = responded {
            r.insert("responded_at".into(), ts(t));
        }
        if let Some(t) = extension {
            r.insert("extension_notified_at".into(), ts(t));
        }
        if let Some(n) = recipients {
            r.insert("recipients_notified".into(), json!(n));
        }
        let id = b.add("dsr", r);
        if let Some(rule) = rule {
            b.plant(rule, &id);
        }
    }
    for (objected, active, planted) in [
        (true, true, true),
        (true, true, true),
        (false, true, false),
        (true, false, false),
    ] {
        let r = obj(json!({
            "request_id": "DSR-P-OBJ",
            "data_subject_id": "DS-P",
            "request_type": "objection",
            "received_at": ts(now - days(40)),
            "responded_at": ts(now - days(39)),
            "status": "completed",
            "objected_to_direct_marketing": objected,
            "direct_marketing_active": active,
        }));
        let id = b.add("dsr", r);
        if planted {
            b.plant("gdpr-dsr-004", &id);
        }
    }

    // Breaches.
    let aware = at(2025, 2, 3, 8, 0, 0);
    let notified = |r: Map<String, Value>, t: Option<DateTime<Utc>>| match t {
        Some(t) => with(r, &[("authority_notified_at", ts(t))]),
        None => without(r, &["authority_notified_at"]),
    };
    let r = notified(breach(b, aware, "high"), Some(aware + hours(72) + secs(1)));
    b.add_planted("gdpr-bn-001", "breach", r);
    let late = now - hours(72) - secs(1);
    let r = notified(breach(b, late, "risk"), None);
    b.add_planted("gdpr-bn-001", "breach", r);
    let r = notified(breach(b, aware, "risk"), Some(aware + hours(72)));
    b.add("breach", r);
    let r = notified(breach(b, now - hours(72), "risk"), None);
    b.add("breach", r);
    let r = notified(breach(b, at(2024, 9, 2, 8, 0, 0), "unlikely"), None);
    b.add("breach", r);
    for (exemption, planted) in [
        (Some("none"), true),
        (Some("low_volume"), true),
        (Some("data_unintelligible"), false),
        (None, false),
    ] {
        // Without an exemption recorded the rule cannot tell: unknown, not a finding.
        let mut r = with(
            breach(b, aware, "high"),
            &[("data_subjects_notified", json!(false))],
        );
        if let Some(e) = exemption {
            r.insert("art34_exemption".into(), json!(e));
        }
        let id = b.add("breach", r);
        if planted {
            b.plant("gdpr-bn-002", &id);
        }
    }
    let r = without(breach(b, aware, "unlikely"), &["remedial_actions"]);
    b.add_planted("gdpr-bn-003", "breach", r);
    let r = with(breach(b, aware, "unlikely"), &[("effects", Value::Null)]);
    b.add_planted("gdpr-bn-003", "breach", r);
    // A breach with no documentation at all is a finding too.
    let r = without(
        breach(b, aware, "risk"),
        &["facts", "effects", "remedial_actions"],
    );
    b.add_planted("gdpr-bn-003", "breach", r);
    let r = without(breach(b, aware, "high"), &["facts"]);
    b.add_planted("gdpr-bn-003", "breach", r);
    // Any assessed risk puts a breach in scope, not only the values the other rules name.
    let r = without(breach(b, aware, "medium"), &["remedial_actions"]);
    b.add_planted("gdpr-bn-003", "breach", r);
    let r = breach(b, aware, "medium");
    b.add("breach", r);

    // Transfers: (rule, destination, mechanism, assessment).
    for (rule, country, mechanism, tia) in [
        (Some("gdpr-xfer-001"), "CN", Some("none"), None),
        (Some("gdpr-xfer-001"), "IN", Some("adequacy_assumed"), None),
        (None, "US", None, None),
        (None, "DE", None, None),
        (None, "BR", Some("standard_contractual_clauses"), Some(true)),
        // No mechanism recorded: the rule cannot tell.
        (None, "CN", None, None),
        (
            Some("gdpr-xfer-002"),
            "IN",
            Some("standard_contractual_clauses"),
            Some(false),
        ),
        (
            Some("gdpr-xfer-002"),
            "PH",
            Some("binding_corporate_rules"),
            Some(false),
        ),
        (None, "ZA", Some("art49_derogation"), None),
        (None, "MX", Some("standard_contractual_clauses"), None),
    ] {
        let mut r =
            obj(json!({"transfer_id": format!("XF-P-{country}"), "destination_country": country}));
        if let Some(m) = mechanism {
            r.insert("transfer_mechanism".into(), json!(m));
        }
        if let Some(t) = tia {
            r.insert("transfer_impact_assessment_completed".into(), json!(t));
        }
        let id = b.add("xfer", r);
        if let Some(rule) = rule {
            b.plant(rule, &id);
        }
    }

    // Controller entities.
    for (required, designated, published, planted) in [
        (true, false, true, true),
        (true, true, false, true),
        (true, true, true, false),
        (false, false, false, false),
    ] {
        let r = obj(json!({
            "entity_id": "ENT-P",
            "dpo_required": required,
            "dpo_designated": designated,
            "dpo_contact_published": published,
        }));
        let id = b.add("org", r);
        if planted {
            b.plant("gdpr-acc-003", &id);
        }
    }
}
