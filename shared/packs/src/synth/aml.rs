//! AML: customer profiles (KYC/CDD), SAR cases and transactions (cash, wire, ACH, card, check).
//!
//! Background records comply with every rule by construction:
//! - a customer's transactions are at least 49 hours apart, so a rolling 24h or 48h window
//!   holds one of them, a 7-day window at most four, a business day (at most 72 hours, from
//!   Saturday 00:00 to Monday) at most two;
//! - cash is at most $4,999 (two in a business day stay under $10,000 and under the
//!   structuring band), except occasional deposits over $10,000 on Tuesday to Friday (a business
//!   day of their own) that carry a CTR filed within 15 days and a verified presenter;
//! - other amounts stay under $10,000 (four outgoing in 7 days stay under $50,000, one incoming
//!   in 48 hours under the in-and-out threshold); wires of $3,000 or more carry the travel-rule
//!   fields; FATF-listed counterparties come with enhanced due diligence (and senior approval
//!   for call-for-action countries);
//! - an account's first transaction is under $5,000 when the account is over 365 days old;
//! - high-risk customers were reviewed in the last 360 days; SARs are filed within 30 days.
//!
//! Planted scenarios use their own customers and accounts (`PC…`, `PA…`), so no aggregate mixes
//! them with the background.

use chrono::{DateTime, Datelike, Utc, Weekday};
use serde_json::{json, Map, Value};

use super::{at, cents, dataset_now, days, hours, obj, secs, ts, ts_offset, Builder, Case, Rng};
use crate::named_list;

const INTERNATIONAL: &[(&str, u32)] = &[
    ("GB", 20),
    ("CA", 15),
    ("MX", 15),
    ("DE", 12),
    ("FR", 8),
    ("CN", 8),
    ("IN", 8),
    ("JP", 6),
    ("BR", 5),
    ("CH", 5),
    ("SG", 4),
    ("AE", 4),
    ("NG", 2),
    ("VN", 2),
    ("ZA", 2),
    ("KE", 1),
    ("IR", 1),
    ("MM", 1),
];

const FIRST_NAMES: &[&str] = &[
    "Maria", "James", "Aisha", "Wei", "Carlos", "Olga", "Ngozi", "Liam", "Priya", "Tomas",
];
const LAST_NAMES: &[&str] = &[
    "Garcia", "Smith", "Okafor", "Chen", "Silva", "Ivanova", "Patel", "Murphy", "Novak", "Kim",
];
const ID_TYPES: &[&str] = &["drivers_license", "passport", "state_id"];
const METHODS: &[&str] = &["documentary", "non_documentary", "both"];

pub(super) fn generate(b: &mut Builder, size: usize) {
    background(b, size);
    let mut p = Planter { n: 0 };
    p.ctr_001(b);
    p.ctr_002(b);
    p.ctr_003(b);
    p.struct_001(b);
    p.struct_002(b);
    p.tm_001(b);
    p.tm_002(b);
    p.tm_003(b);
    p.tm_004(b);
    p.hrj_001(b);
    p.hrj_002(b);
    p.cdd(b);
    p.sanc_001(b);
    p.sar_001(b);
    p.rec_001(b);
    p.rec_002(b);
}

fn listed(list: &str, country: &str) -> bool {
    named_list(list).is_some_and(|l| l.contains(country))
}

fn person(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES))
}

// ---------------------------------------------------------------------------------------------
// Background

struct Account {
    id: String,
    opened: DateTime<Utc>,
    seen: bool,
}

fn background(b: &mut Builder, size: usize) {
    if size == 0 {
        return;
    }
    let customers = (size / 10).max(1);
    let per_customer = size.saturating_sub(customers) as f64 / customers as f64;
    let start = b.now - days(90);
    for c in 1..=customers {
        let customer = format!("C{c:07}");
        customer_profile(b, &customer);
        if b.rng.chance(0.03) {
            sar_case(b, &customer);
        }
        let mut accounts: Vec<Account> = (1..=if b.rng.chance(0.25) { 2 } else { 1 })
            .map(|k| {
                let opened = if b.rng.chance(0.6) {
                    start - days(b.rng.range(400, 4000))
                } else {
                    start - days(b.rng.range(0, 300))
                };
                Account {
                    id: format!("A{c:07}{k}"),
                    opened,
                    seen: false,
                }
            })
            .collect();
        let n = 1 + b.rng.below((2.0 * per_customer).max(1.0) as u64);
        let mut t = start + secs(b.rng.range(0, 3 * 86_400));
        for _ in 0..n {
            if t >= b.now - secs(60) {
                break;
            }
            let k = b.rng.below(accounts.len() as u64) as usize;
            let record = background_tx(b, &customer, &mut accounts[k], t);
            b.add("tx", record);
            t = t + hours(49) + secs(b.rng.range(0, 6 * 86_400));
        }
    }
}

fn customer_profile(b: &mut Builder, customer: &str) {
    let rng = &mut b.rng;
    let legal = rng.chance(0.2);
    let risk = *rng.weighted(&[("low", 60), ("medium", 30), ("high", 10)]);
    let pep = !legal && rng.chance(0.03);
    let reviewed = if risk == "high" {
        b.now - days(rng.range(1, 360)) - secs(rng.range(0, 86_000))
    } else {
        b.now - days(rng.range(1, 1_000)) - secs(rng.range(0, 86_000))
    };
    let mut r = obj(json!({
        "customer_id": customer,
        "customer_type": if legal { "legal_entity" } else { "individual" },
        "name": if legal { format!("{} Holdings LLC", rng.pick(LAST_NAMES)) } else { person(rng) },
        "identity_verified": true,
        "verification_method": *rng.pick(METHODS),
        "pep": pep,
        "risk_rating": risk,
        "last_kyc_review_at": ts(reviewed),
        "retention_years": rng.range(5, 10),
    }));
    if legal {
        r.insert("beneficial_owners_verified".into(), json!(true));
        r.insert("control_person_verified".into(), json!(true));
    }
    if pep {
        r.insert("senior_management_approval".into(), json!(true));
        r.insert("source_of_wealth_verified".into(), json!(true));
        r.insert("enhanced_monitoring".into(), json!(true));
    }
    b.add("cust", r);
}

fn sar_case(b: &mut Builder, customer: &str) {
    let rng = &mut b.rng;
    let decision = *rng.weighted(&[("file", 40), ("no_file", 40), ("pending", 20)]);
    let detected = b.now - days(rng.range(1, 200)) - secs(rng.range(0, 86_000));
    let mut r = obj(json!({
        "case_id": format!("SAR-{:06}", rng.below(1_000_000)),
        "customer_id": customer,
        "initial_detection_at": ts(detected),
        "sar_decision": decision,
        "retention_years": 5,
    }));
    if decision == "file" {
        let filed = detected + days(rng.range(1, 29)) + secs(rng.range(0, 86_000));
        if filed <= b.now {
            r.insert("sar_filed_at".into(), ts(filed));
        }
    }
    b.add("sar", r);
}

fn background_tx(
    b: &mut Builder,
    customer: &str,
    account: &mut Account,
    t: DateTime<Utc>,
) -> Map<String, Value> {
    let now = b.now;
    let rng = &mut b.rng;
    let first = !account.seen;
    account.seen = true;
    // The dormant-account rule: an old account's first transaction stays under $5,000.
    let dormant_risk = first && t > account.opened + days(365);
    let instrument = *rng.weighted(&[
        ("card", 34),
        ("ach", 24),
        ("cash", 18),
        ("wire", 12),
        ("check", 12),
    ]);
    let direction = match instrument {
        "card" if rng.chance(0.92) => "out",
        "card" => "in",
        "cash" if rng.chance(0.6) => "in",
        _ if rng.chance(0.5) => "in",
        _ => "out",
    };
    let mut amount = match instrument {
        "card" => rng.log_normal(3.8, 1.1).clamp(1.0, 4_999.0),
        "cash" => rng.log_normal(5.6, 1.0).clamp(20.0, 4_999.0),
        "wire" => rng.log_normal(7.6, 0.9).clamp(100.0, 9_999.0),
        _ => rng.log_normal(6.6, 1.1).clamp(10.0, 9_999.0),
    };
    let weekday = t.weekday();
    let large_cash = instrument == "cash"
        && direction == "in"
        && matches!(
            weekday,
            Weekday::Tue | Weekday::Wed | Weekday::Thu | Weekday::Fri
        )
        && !dormant_risk
        && rng.chance(0.1);
    if large_cash {
        amount = rng.range(10_001, 20_000) as f64 + rng.below(100) as f64 / 100.0;
    }
    if dormant_risk {
        amount = amount.min(4_999.0);
    }
    let amount = cents(amount);
    let time = if rng.chance(0.1) {
        ts_offset(t, -5)
    } else {
        ts(t)
    };
    let mut r = obj(json!({
        "timestamp": time,
        "customer_id": customer,
        "account_id": account.id,
        "account_opened_at": ts(account.opened),
        "direction": direction,
        "instrument": instrument,
        "amount_usd": amount,
        "currency": "USD",
        "counterparty_country": "US",
        "status": if rng.chance(0.97) { "completed" } else { "pending" },
    }));
    if rng.chance(0.8) {
        r.insert("retention_years".into(), json!(rng.range(5, 10)));
    }
    match instrument {
        "cash" | "check" => {
            r.insert(
                "branch_id".into(),
                json!(format!("BR-{:03}", rng.range(1, 60))),
            );
        }
        "ach" if rng.chance(0.05) => {
            r.insert(
                "counterparty_country".into(),
                json!(*rng.pick(&["CA", "MX"])),
            );
        }
        _ => {}
    }
    if instrument == "cash" {
        r.insert("ctr_required".into(), json!(large_cash));
    }
    if large_cash {
        r.insert(
            "ctr_id".into(),
            json!(format!("CTR-{:08}", rng.below(100_000_000))),
        );
        let filed = t + secs(rng.range(3_600, 14 * 86_400));
        if filed <= now {
            r.insert("ctr_filed_at".into(), ts(filed));
        }
        r.insert("presenter_id_verified".into(), json!(true));
        r.insert("presenter_id_type".into(), json!(*rng.pick(ID_TYPES)));
        r.insert(
            "presenter_id_number".into(),
            json!(format!("D{:08}", rng.below(100_000_000))),
        );
    }
    if instrument == "wire" {
        let country = if rng.chance(0.45) {
            *rng.weighted(INTERNATIONAL)
        } else {
            "US"
        };
        r.insert("counterparty_country".into(), json!(country));
        let full = amount >= 3_000.0 || rng.chance(0.7);
        wire_info(&mut r, rng, full);
        let matched = rng.chance(0.01);
        r.insert("sanctions_screened".into(), json!(true));
        r.insert("sanctions_match".into(), json!(matched));
        if matched {
            r.insert("status".into(), json!(*rng.pick(&["blocked", "rejected"])));
        }
        let cfa = listed("fatf_call_for_action", country);
        let increased = listed("fatf_increased_monitoring", country);
        r.insert("edd_completed".into(), json!(cfa || increased));
        if cfa {
            r.insert("senior_management_approval".into(), json!(true));
        }
    }
    r
}

/// The travel-rule fields of a wire (all of them, or some left out when `full` is false).
fn wire_info(r: &mut Map<String, Value>, rng: &mut Rng, full: bool) {
    r.insert("originator_name".into(), json!(person(rng)));
    r.insert(
        "originator_account".into(),
        json!(format!("{:012}", rng.below(1_000_000_000_000))),
    );
    if full || rng.chance(0.5) {
        r.insert(
            "originator_address".into(),
            json!(format!("{} Main St, Springfield", rng.range(1, 999))),
        );
    }
    r.insert("beneficiary_name".into(), json!(person(rng)));
    if full {
        r.insert(
            "beneficiary_account".into(),
            json!(format!("{:012}", rng.below(1_000_000_000_000))),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Planted violations and near misses

struct Party {
    customer: String,
    account: String,
}

struct Planter {
    n: u32,
}

impl Planter {
    fn party(&mut self) -> Party {
        self.n += 1;
        Party {
            customer: format!("PC{:04}", self.n),
            account: format!("PA{:04}", self.n),
        }
    }

    /// A compliant transaction of `p`; cash gets a branch and `ctr_required: false`, wires the
    /// travel-rule fields and a clean sanctions screening.
    fn tx(
        &self,
        b: &mut Builder,
        p: &Party,
        t: DateTime<Utc>,
        direction: &str,
        instrument: &str,
        amount: f64,
    ) -> Map<String, Value> {
        let mut r = obj(json!({
            "timestamp": ts(t),
            "customer_id": p.customer,
            "account_id": p.account,
            "direction": direction,
            "instrument": instrument,
            "amount_usd": amount,
            "counterparty_country": "US",
            "status": "completed",
            "retention_years": 5,
        }));
        if instrument == "cash" {
            r.insert("branch_id".into(), json!("BR-001"));
            r.insert("ctr_required".into(), json!(false));
        }
        if instrument == "wire" {
            wire_info(&mut r, &mut b.rng, true);
            r.insert("sanctions_screened".into(), json!(true));
            r.insert("sanctions_match".into(), json!(false));
            r.insert("edd_completed".into(), json!(false));
        }
        r
    }

    /// A cash deposit over $10,000 with its CTR filed `filed_after` later (not yet filed when
    /// `None`) and a verified presenter.
    fn ctr_deposit(
        &self,
        b: &mut Builder,
        p: &Party,
        t: DateTime<Utc>,
        amount: f64,
        filed_after: Option<chrono::Duration>,
    ) -> Map<String, Value> {
        let mut r = self.tx(b, p, t, "in", "cash", amount);
        r.insert("ctr_required".into(), json!(true));
        r.insert("ctr_id".into(), json!(format!("CTR-P-{}", p.customer)));
        if let Some(d) = filed_after {
            r.insert("ctr_filed_at".into(), ts(t + d));
        }
        r.insert("presenter_id_verified".into(), json!(true));
        r.insert("presenter_id_type".into(), json!("passport"));
        r.insert("presenter_id_number".into(), json!("X1234567"));
        r
    }

    fn add(&self, b: &mut Builder, r: Map<String, Value>) -> String {
        b.add("tx", r)
    }

    fn ctr_001(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-ctr-001";
        // Two deposits on a Tuesday: $6,000 then $5,000.
        let p = self.party();
        let w = b.weeks_back();
        let tue = b.weekday(w, Weekday::Tue);
        let r = self.tx(b, &p, tue + hours(9), "in", "cash", 6_000.0);
        self.add(b, r);
        let r = self.tx(b, &p, tue + hours(15), "in", "cash", 5_000.0);
        b.add_planted(RULE, "tx", r);
        // The weekend folds into Monday's business day: Sunday $7,000, Monday $4,000.
        let p = self.party();
        let w = b.weeks_back();
        let r = self.tx(
            b,
            &p,
            b.weekday(w, Weekday::Sun) + hours(10),
            "in",
            "cash",
            7_000.0,
        );
        self.add(b, r);
        let r = self.tx(
            b,
            &p,
            b.weekday(w - 1, Weekday::Mon) + hours(9),
            "in",
            "cash",
            4_000.0,
        );
        b.add_planted(RULE, "tx", r);
        // Withdrawals: every one after the sum passes $10,000 is a finding.
        let p = self.party();
        let wed = b.past_weekday(0, Weekday::Wed);
        for (h, amount, planted) in [(9, 4_000.0, false), (11, 7_000.0, true), (12, 100.0, true)] {
            let r = self.tx(b, &p, wed + hours(h), "out", "cash", amount);
            let id = self.add(b, r);
            if planted {
                b.plant(RULE, &id);
            }
        }
        // Near misses.
        let thu = b.past_weekday(0, Weekday::Thu);
        let p = self.party(); // exactly the threshold
        for (h, amount) in [(9, 6_000.0), (10, 4_000.0)] {
            let r = self.tx(b, &p, thu + hours(h), "in", "cash", amount);
            self.add(b, r);
        }
        let p = self.party(); // Friday night and Saturday morning: two business days
        let w = b.weeks_back();
        let r = self.tx(
            b,
            &p,
            b.weekday(w, Weekday::Fri) + hours(23),
            "in",
            "cash",
            6_000.0,
        );
        self.add(b, r);
        let r = self.tx(
            b,
            &p,
            b.weekday(w, Weekday::Sat) + hours(1),
            "in",
            "cash",
            5_000.0,
        );
        self.add(b, r);
        let p = self.party(); // two directions
        let r = self.tx(b, &p, thu + hours(9), "in", "cash", 6_000.0);
        self.add(b, r);
        let r = self.tx(b, &p, thu + hours(12), "out", "cash", 5_000.0);
        self.add(b, r);
        let p = self.party(); // the second deposit is covered by a CTR
        let r = self.tx(b, &p, thu + hours(9), "in", "cash", 6_000.0);
        self.add(b, r);
        let r = self.ctr_deposit(b, &p, thu + hours(12), 5_000.0, Some(days(3)));
        self.add(b, r);
        let p = self.party(); // a check is not cash
        let r = self.tx(b, &p, thu + hours(9), "in", "cash", 6_000.0);
        self.add(b, r);
        let r = self.tx(b, &p, thu + hours(10), "in", "check", 5_000.0);
        self.add(b, r);
        let p = self.party(); // one second apart, across midnight Monday to Tuesday
        let tue = b.past_weekday(0, Weekday::Tue);
        let r = self.tx(b, &p, tue - secs(1), "in", "cash", 6_000.0);
        self.add(b, r);
        let r = self.tx(b, &p, tue, "in", "cash", 5_000.0);
        self.add(b, r);
    }

    fn ctr_002(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-ctr-002";
        let now = b.now;
        let tue = b.past_weekday(3, Weekday::Tue) + hours(10);
        let p = self.party(); // filed a second late
        let r = self.ctr_deposit(b, &p, tue, 12_000.0, Some(days(15) + secs(1)));
        b.add_planted(RULE, "tx", r);
        let p = self.party(); // not filed, and the 15 days ran out a second ago
        let r = self.ctr_deposit(b, &p, now - days(15) - secs(1), 12_500.0, None);
        b.add_planted(RULE, "tx", r);
        let p = self.party(); // filed on the last second
        let r = self.ctr_deposit(b, &p, tue, 14_000.0, Some(days(15)));
        self.add(b, r);
        let p = self.party(); // not filed, due right now
        let r = self.ctr_deposit(b, &p, now - days(15), 11_000.0, None);
        self.add(b, r);
    }

    fn ctr_003(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-ctr-003";
        let wed = b.past_weekday(0, Weekday::Wed) + hours(10);
        let p = self.party();
        let mut r = self.ctr_deposit(b, &p, wed, 15_000.0, Some(days(2)));
        r.insert("presenter_id_verified".into(), json!(false));
        b.add_planted(RULE, "tx", r);
        let p = self.party();
        let mut r = self.ctr_deposit(b, &p, wed, 16_000.0, Some(days(2)));
        r.remove("presenter_id_number");
        b.add_planted(RULE, "tx", r);
        let p = self.party(); // null is missing
        let mut r = self.ctr_deposit(b, &p, wed, 17_000.0, Some(days(2)));
        r.insert("presenter_id_type".into(), Value::Null);
        b.add_planted(RULE, "tx", r);
        let p = self.party(); // no CTR required, no presenter fields
        let r = self.tx(b, &p, wed, "in", "cash", 3_000.0);
        self.add(b, r);
    }

    fn struct_001(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-struct-001";
        let w = b.weeks_back();
        let p = self.party();
        let r = self.tx(
            b,
            &p,
            b.weekday(w, Weekday::Tue) + hours(10),
            "in",
            "cash",
            9_000.0,
        );
        self.add(b, r);
        let r = self.tx(
            b,
            &p,
            b.weekday(w, Weekday::Fri) + hours(10),
            "in",
            "cash",
            9_500.0,
        );
        b.add_planted(RULE, "tx", r);
        // Exactly 80% and just under 100%, one second inside the 7 days.
        let p = self.party();
        let wed = b.past_weekday(1, Weekday::Wed) + hours(10);
        let r = self.tx(b, &p, wed, "in", "cash", 8_000.0);
        self.add(b, r);
        let r = self.tx(b, &p, wed + days(7) - secs(1), "in", "cash", 9_999.99);
        b.add_planted(RULE, "tx", r);
        // Near misses: exactly 7 days apart; 7,999.99; exactly the threshold.
        let tue = b.past_weekday(1, Weekday::Tue) + hours(10);
        let p = self.party();
        for t in [tue, tue + days(7)] {
            let r = self.tx(b, &p, t, "in", "cash", 9_000.0);
            self.add(b, r);
        }
        for first in [7_999.99, 10_000.0] {
            let p = self.party();
            let r = self.tx(b, &p, tue, "in", "cash", first);
            self.add(b, r);
            let r = self.tx(b, &p, tue + days(2), "in", "cash", 9_000.0);
            self.add(b, r);
        }
    }

    fn struct_002(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-struct-002";
        let branch = |mut r: Map<String, Value>, id: &str| {
            r.insert("branch_id".into(), json!(id));
            r
        };
        let tue = b.past_weekday(0, Weekday::Tue);
        let p = self.party();
        let r = self.tx(b, &p, tue + hours(10), "in", "cash", 6_000.0);
        self.add(b, branch(r, "BR-001"));
        let r = self.tx(b, &p, tue + hours(14), "out", "cash", 5_000.0);
        b.add_planted(RULE, "tx", branch(r, "BR-002"));
        // Saturday's deposit and Monday's withdrawal share Monday's business day.
        let w = b.weeks_back();
        let p = self.party();
        let r = self.tx(
            b,
            &p,
            b.weekday(w, Weekday::Sat) + hours(11),
            "in",
            "cash",
            6_000.0,
        );
        self.add(b, branch(r, "BR-001"));
        let r = self.tx(
            b,
            &p,
            b.weekday(w - 1, Weekday::Mon) + hours(9),
            "out",
            "cash",
            4_500.0,
        );
        b.add_planted(RULE, "tx", branch(r, "BR-002"));
        // Near misses: Friday and Saturday are two business days; exactly the threshold.
        let w = b.weeks_back();
        let p = self.party();
        let r = self.tx(
            b,
            &p,
            b.weekday(w, Weekday::Fri) + hours(22),
            "in",
            "cash",
            6_000.0,
        );
        self.add(b, branch(r, "BR-001"));
        let r = self.tx(
            b,
            &p,
            b.weekday(w, Weekday::Sat) + hours(2),
            "out",
            "cash",
            5_000.0,
        );
        self.add(b, branch(r, "BR-002"));
        let p = self.party();
        let r = self.tx(b, &p, tue + hours(10), "in", "cash", 6_000.0);
        self.add(b, branch(r, "BR-001"));
        let r = self.tx(b, &p, tue + hours(14), "out", "cash", 4_000.0);
        self.add(b, branch(r, "BR-002"));
    }

    fn tm_001(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-tm-001";
        let base = b.past_weekday(0, Weekday::Tue) + hours(8);
        // 27 card payments, one every 20 minutes: the 26th and 27th.
        let p = self.party();
        for k in 0..27 {
            let amount = cents(20.0 + b.rng.unit() * 60.0);
            let r = self.tx(b, &p, base + secs(k * 1_200), "out", "card", amount);
            let id = self.add(b, r);
            if k >= 25 {
                b.plant(RULE, &id);
            }
        }
        // 24 then two at the same second: both count 26.
        let p = self.party();
        for k in 0..24 {
            let r = self.tx(b, &p, base + secs(k * 1_800), "out", "card", 35.0);
            self.add(b, r);
        }
        for _ in 0..2 {
            let r = self.tx(b, &p, base + hours(12), "out", "card", 12.5);
            b.add_planted(RULE, "tx", r);
        }
        // 26 where the first is exactly 24 hours before the last: 25 in the window.
        let p = self.party();
        let mut times = vec![base];
        times.extend((0..24).map(|k| base + hours(1) + secs(k * 1_800)));
        times.push(base + hours(24));
        for t in times {
            let r = self.tx(b, &p, t, "out", "card", 42.0);
            self.add(b, r);
        }
    }

    fn tm_002(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-tm-002";
        let w = b.weeks_back();
        let tue = b.weekday(w, Weekday::Tue) + hours(10);
        let p = self.party();
        let r = self.tx(b, &p, tue, "out", "ach", 30_000.0);
        self.add(b, r);
        let r = self.tx(b, &p, tue + days(2), "out", "ach", 25_000.0);
        b.add_planted(RULE, "tx", r);
        let r = self.tx(b, &p, tue + days(3), "out", "ach", 100.0);
        b.add_planted(RULE, "tx", r);
        // Near misses: exactly $50,000; exactly 7 days apart.
        let p = self.party();
        let r = self.tx(b, &p, tue, "out", "ach", 30_000.0);
        self.add(b, r);
        let r = self.tx(b, &p, tue + days(2), "out", "ach", 20_000.0);
        self.add(b, r);
        let tue = b.weekday(w + 1, Weekday::Tue) + hours(10);
        let p = self.party();
        let r = self.tx(b, &p, tue, "out", "ach", 30_000.0);
        self.add(b, r);
        let r = self.tx(b, &p, tue + days(7), "out", "ach", 25_000.0);
        self.add(b, r);
    }

    fn tm_003(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-tm-003";
        let t = b.past_weekday(0, Weekday::Wed) + hours(10);
        let opened = |mut r: Map<String, Value>, when: DateTime<Utc>| {
            r.insert("account_opened_at".into(), ts(when));
            r
        };
        let p = self.party(); // an account from 2020, its only transaction in a year
        let r = self.tx(b, &p, t, "in", "ach", 8_000.0);
        b.add_planted(RULE, "tx", opened(r, at(2020, 1, 15, 9, 0, 0)));
        let p = self.party(); // exactly $5,000
        let r = self.tx(b, &p, t, "in", "ach", 5_000.0);
        b.add_planted(RULE, "tx", opened(r, at(2023, 6, 1, 9, 0, 0)));
        let p = self.party(); // the previous transaction exactly 365 days before: outside
        let r = self.tx(b, &p, t - days(365), "in", "ach", 100.0);
        self.add(b, opened(r, at(2019, 5, 1, 9, 0, 0)));
        let r = self.tx(b, &p, t, "in", "ach", 6_000.0);
        b.add_planted(RULE, "tx", opened(r, at(2019, 5, 1, 9, 0, 0)));
        // Near misses: opened exactly 365 days before; active 300 days before; $4,999.99; two
        // transactions at the same second.
        let p = self.party();
        let r = self.tx(b, &p, t, "in", "ach", 9_000.0);
        self.add(b, opened(r, t - days(365)));
        let p = self.party();
        let r = self.tx(b, &p, t - days(300), "in", "ach", 100.0);
        self.add(b, opened(r, at(2019, 5, 1, 9, 0, 0)));
        let r = self.tx(b, &p, t, "in", "ach", 9_000.0);
        self.add(b, opened(r, at(2019, 5, 1, 9, 0, 0)));
        let p = self.party();
        let r = self.tx(b, &p, t, "in", "ach", 4_999.99);
        self.add(b, opened(r, at(2019, 5, 1, 9, 0, 0)));
        let p = self.party();
        for _ in 0..2 {
            let r = self.tx(b, &p, t, "in", "ach", 6_000.0);
            self.add(b, opened(r, at(2019, 5, 1, 9, 0, 0)));
        }
    }

    fn tm_004(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-tm-004";
        let t0 = b.past_weekday(0, Weekday::Tue) + hours(9);
        let p = self.party();
        let r = self.tx(b, &p, t0, "in", "ach", 12_000.0);
        self.add(b, r);
        let r = self.tx(b, &p, t0 + hours(20), "out", "ach", 9_500.0);
        b.add_planted(RULE, "tx", r);
        let r = self.tx(b, &p, t0 + hours(30), "out", "ach", 200.0);
        b.add_planted(RULE, "tx", r);
        // Near misses: exactly 48 hours later; out just under 90%; in just under the threshold.
        for (inflow, outflow, later) in [
            (12_000.0, 9_500.0, hours(48)),
            (12_000.0, 8_999.99, hours(5)),
            (9_999.99, 9_500.0, hours(5)),
        ] {
            let p = self.party();
            let r = self.tx(b, &p, t0, "in", "ach", inflow);
            self.add(b, r);
            let r = self.tx(b, &p, t0 + later, "out", "ach", outflow);
            self.add(b, r);
        }
    }

    fn hrj_001(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-hrj-001";
        let t = b.past_weekday(0, Weekday::Thu) + hours(15);
        let p = self.party();
        let mut r = self.tx(b, &p, t, "out", "wire", 2_000.0);
        r.insert("counterparty_country".into(), json!("IR"));
        r.insert("sanctions_match".into(), json!(true));
        r.insert("status".into(), json!("blocked"));
        r.insert("senior_management_approval".into(), json!(false));
        b.add_planted(RULE, "tx", r);
        let p = self.party();
        let mut r = self.tx(b, &p, t, "out", "ach", 500.0);
        r.insert("counterparty_country".into(), json!("KP"));
        r.insert("edd_completed".into(), json!(true));
        r.insert("senior_management_approval".into(), json!(false));
        b.add_planted(RULE, "tx", r);
        let p = self.party(); // both done
        let mut r = self.tx(b, &p, t, "out", "wire", 2_500.0);
        r.insert("counterparty_country".into(), json!("MM"));
        r.insert("edd_completed".into(), json!(true));
        r.insert("senior_management_approval".into(), json!(true));
        self.add(b, r);
    }

    fn hrj_002(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-hrj-002";
        let t = b.past_weekday(5, Weekday::Tue) + hours(10);
        let wire =
            |this: &Self, b: &mut Builder, p: &Party, t, amount, country: &str, edd: bool| {
                let mut r = this.tx(b, p, t, "out", "wire", amount);
                r.insert("counterparty_country".into(), json!(country));
                r.insert("edd_completed".into(), json!(edd));
                r
            };
        let p = self.party();
        let r = wire(self, b, &p, t, 6_000.0, "NG", false);
        self.add(b, r);
        let r = wire(self, b, &p, t + days(4), 5_000.0, "VN", false);
        b.add_planted(RULE, "tx", r);
        let r = wire(self, b, &p, t + days(10), 100.0, "NG", false);
        b.add_planted(RULE, "tx", r);
        // Near misses: exactly $10,000; the second with EDD; exactly 30 days apart.
        let p = self.party();
        let r = wire(self, b, &p, t, 6_000.0, "NG", false);
        self.add(b, r);
        let r = wire(self, b, &p, t + days(1), 4_000.0, "NG", false);
        self.add(b, r);
        let p = self.party();
        let r = wire(self, b, &p, t, 6_000.0, "NG", false);
        self.add(b, r);
        let r = wire(self, b, &p, t + days(1), 5_000.0, "NG", true);
        self.add(b, r);
        let p = self.party();
        let r = wire(self, b, &p, t, 6_000.0, "ZA", false);
        self.add(b, r);
        let r = wire(self, b, &p, t + days(30), 5_000.0, "ZA", false);
        self.add(b, r);
    }

    fn customer(
        &mut self,
        b: &mut Builder,
        edit: impl FnOnce(&mut Map<String, Value>),
    ) -> Map<String, Value> {
        let p = self.party();
        let mut r = obj(json!({
            "customer_id": p.customer,
            "customer_type": "individual",
            "name": person(&mut b.rng),
            "identity_verified": true,
            "verification_method": "documentary",
            "pep": false,
            "risk_rating": "low",
            "last_kyc_review_at": ts(b.now - days(100)),
            "retention_years": 5,
        }));
        edit(&mut r);
        r
    }

    fn cdd(&mut self, b: &mut Builder) {
        let set = |r: &mut Map<String, Value>, pairs: &[(&str, Value)]| {
            for (k, v) in pairs {
                r.insert((*k).into(), v.clone());
            }
        };
        let legal = |bo: bool, cp: bool| {
            vec![
                ("customer_type", json!("legal_entity")),
                ("beneficial_owners_verified", json!(bo)),
                ("control_person_verified", json!(cp)),
            ]
        };
        let pep = |sow: bool, em: bool| {
            vec![
                ("pep", json!(true)),
                ("senior_management_approval", json!(true)),
                ("source_of_wealth_verified", json!(sow)),
                ("enhanced_monitoring", json!(em)),
            ]
        };
        let high = |reviewed: DateTime<Utc>| {
            vec![
                ("risk_rating", json!("high")),
                ("last_kyc_review_at", ts(reviewed)),
            ]
        };
        let cases: Vec<Case> = vec![
            (
                Some("aml-cdd-001"),
                vec![("identity_verified", json!(false))],
            ),
            (
                Some("aml-cdd-001"),
                vec![("verification_method", json!("self_declared"))],
            ),
            (None, vec![("verification_method", json!("both"))]),
            (Some("aml-cdd-002"), legal(false, true)),
            (Some("aml-cdd-002"), legal(true, false)),
            (None, legal(true, true)),
            (Some("aml-cdd-003"), pep(true, false)),
            (Some("aml-cdd-003"), pep(false, true)),
            (None, pep(true, true)),
            // A year after 29 February 2024 is 28 February 2025.
            (Some("aml-cdd-004"), high(at(2024, 2, 29, 12, 0, 0))),
            (Some("aml-cdd-004"), high(at(2024, 3, 1, 11, 59, 59))),
            (None, high(at(2024, 3, 1, 12, 0, 0))),
            (
                None,
                vec![
                    ("risk_rating", json!("medium")),
                    ("last_kyc_review_at", ts(at(2021, 1, 4, 9, 0, 0))),
                ],
            ),
        ];
        for (rule, pairs) in cases {
            let r = self.customer(b, |r| set(r, &pairs));
            let id = b.add("cust", r);
            if let Some(rule) = rule {
                b.plant(rule, &id);
            }
        }
    }

    fn sanc_001(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-sanc-001";
        let t = b.past_weekday(0, Weekday::Mon) + hours(16);
        for (screened, matched, status, planted) in [
            (false, false, "completed", true),
            (true, true, "completed", true),
            (true, true, "rejected", false),
            (true, true, "blocked", false),
        ] {
            let p = self.party();
            let mut r = self.tx(b, &p, t, "out", "wire", 1_500.0);
            r.insert("counterparty_country".into(), json!("GB"));
            r.insert("sanctions_screened".into(), json!(screened));
            r.insert("sanctions_match".into(), json!(matched));
            r.insert("status".into(), json!(status));
            let id = self.add(b, r);
            if planted {
                b.plant(RULE, &id);
            }
        }
    }

    fn sar_001(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-sar-001";
        let now = b.now;
        let detected = at(2025, 1, 10, 9, 0, 0);
        for (detected, filed, decision, planted) in [
            (detected, Some(detected + days(30) + secs(1)), "file", true),
            (now - days(30) - secs(1), None, "file", true),
            (detected, Some(detected + days(30)), "file", false),
            (now - days(30), None, "file", false),
            (at(2024, 6, 3, 9, 0, 0), None, "no_file", false),
        ] {
            let p = self.party();
            let mut r = obj(json!({
                "case_id": format!("SAR-{}", p.customer),
                "customer_id": p.customer,
                "initial_detection_at": ts(detected),
                "sar_decision": decision,
                "retention_years": 5,
            }));
            if let Some(filed) = filed {
                r.insert("sar_filed_at".into(), ts(filed));
            }
            let id = b.add("sar", r);
            if planted {
                b.plant(RULE, &id);
            }
        }
    }

    fn rec_001(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-rec-001";
        let t = b.past_weekday(0, Weekday::Thu) + hours(11);
        let p = self.party(); // exactly $3,000 without the originator's address
        let mut r = self.tx(b, &p, t, "in", "wire", 3_000.0);
        r.remove("originator_address");
        b.add_planted(RULE, "tx", r);
        let p = self.party();
        let mut r = self.tx(b, &p, t, "out", "wire", 15_000.0);
        r.remove("beneficiary_account");
        b.add_planted(RULE, "tx", r);
        let p = self.party();
        let mut r = self.tx(b, &p, t, "in", "wire", 4_200.0);
        r.insert("originator_name".into(), Value::Null);
        b.add_planted(RULE, "tx", r);
        // Near misses: $2,999.99 with none of the fields; $3,000 with all of them.
        let p = self.party();
        let mut r = self.tx(b, &p, t, "in", "wire", 2_999.99);
        for f in [
            "originator_name",
            "originator_account",
            "originator_address",
            "beneficiary_name",
            "beneficiary_account",
        ] {
            r.remove(f);
        }
        self.add(b, r);
        let p = self.party();
        let r = self.tx(b, &p, t, "in", "wire", 3_000.0);
        self.add(b, r);
    }

    fn rec_002(&mut self, b: &mut Builder) {
        const RULE: &str = "aml-rec-002";
        let t = b.past_weekday(0, Weekday::Fri) + hours(11);
        let p = self.party();
        let mut r = self.tx(b, &p, t, "in", "ach", 250.0);
        r.insert("retention_years".into(), json!(3));
        b.add_planted(RULE, "tx", r);
        let r = self.customer(b, |r| {
            r.insert("retention_years".into(), json!(4.99));
        });
        b.add_planted(RULE, "cust", r);
        let p = self.party();
        let r = self.tx(b, &p, t, "in", "ach", 250.0);
        self.add(b, r);
    }
}

// ---------------------------------------------------------------------------------------------
// The benchmark's feed

/// `count` transaction lines (~200–250 bytes each) over the quarter before [`dataset_now`],
/// written straight into bytes. Customers and accounts number in the thousands to hundreds of
/// thousands (one customer per 20 transactions, activity skewed towards a few), instruments,
/// directions, branches and counterparty countries are mixed as a retail bank's are, amounts are
/// log-normal, and violations happen as they would: bursts of card payments, structured cash
/// deposits across branches, funds passing straight through an account, late or missing CTRs,
/// wires without travel-rule data, FATF-listed counterparties without enhanced due diligence.
pub fn aml_transactions_ndjson(seed: u64, count: usize) -> Vec<u8> {
    let mut g = Feed {
        rng: Rng::new(seed ^ 0xA3C5_9AC3_F00D_F00D),
        out: Vec::with_capacity(count * 256),
        written: 0,
        end: dataset_now().timestamp(),
    };
    let span = 90 * 86_400;
    let start = g.end - span;
    let customers = (count / 20).max(100) as u64;
    let mean_gap = span as f64 / count.max(1) as f64;
    let burst_chance = 60.0 / count.max(1) as f64;
    let mut t = start as f64;
    while g.written < count {
        t += g.rng.exponential(mean_gap);
        let now = (t as i64).min(g.end - 1);
        // Activity is skewed: a few customers make many of the transactions.
        let customer = (customers as f64 * g.rng.unit().powf(1.5)) as u64;
        if g.rng.chance(burst_chance) {
            g.burst(customer, now, count);
        } else {
            g.ordinary(customer, now);
        }
    }
    g.out.shrink_to_fit();
    g.out
}

struct Feed {
    rng: Rng,
    out: Vec<u8>,
    written: usize,
    end: i64,
}

/// One line's values.
struct Line<'a> {
    t: i64,
    customer: u64,
    account: u64,
    direction: &'a str,
    instrument: &'a str,
    cents: u64,
    branch: Option<u64>,
    country: &'a str,
}

impl Feed {
    fn ordinary(&mut self, customer: u64, t: i64) {
        let rng = &mut self.rng;
        let account = customer * 3
            + if customer.is_multiple_of(3) {
                rng.below(2)
            } else {
                0
            };
        let instrument = *rng.weighted(&[
            ("card", 36),
            ("ach", 22),
            ("cash", 18),
            ("wire", 12),
            ("check", 12),
        ]);
        let direction = match instrument {
            "card" if rng.chance(0.93) => "out",
            "card" => "in",
            "cash" if rng.chance(0.62) => "in",
            _ if rng.chance(0.5) => "in",
            _ => "out",
        };
        let amount = match instrument {
            "card" => rng.log_normal(3.8, 1.1),
            "cash" => rng.log_normal(5.6, 1.1),
            "wire" => rng.log_normal(8.3, 1.4),
            _ => rng.log_normal(6.8, 1.3),
        };
        let cents = ((amount * 100.0) as u64).max(100);
        let branch = matches!(instrument, "cash" | "check").then(|| rng.below(250));
        let country = match instrument {
            "wire" if rng.chance(0.4) => *rng.weighted(INTERNATIONAL),
            "ach" if rng.chance(0.04) => *rng.pick(&["CA", "MX"]),
            _ => "US",
        };
        let line = Line {
            t,
            customer,
            account,
            direction,
            instrument,
            cents,
            branch,
            country,
        };
        self.write(&line);
    }

    /// A run of related transactions by one customer, on its own clock starting at `t`.
    fn burst(&mut self, customer: u64, t: i64, count: usize) {
        let account = customer * 3;
        let kind =
            *self
                .rng
                .weighted(&[("velocity", 60), ("structuring", 25), ("pass_through", 15)]);
        let mut t = t;
        match kind {
            "velocity" => {
                let n = self.rng.range(15, 60);
                for _ in 0..n {
                    if self.written >= count {
                        return;
                    }
                    t += self.rng.range(30, 1_500);
                    let cents = self.rng.range(100, 9_000) as u64;
                    self.write(&Line {
                        t: t.min(self.end - 1),
                        customer,
                        account,
                        direction: "out",
                        instrument: "card",
                        cents,
                        branch: None,
                        country: "US",
                    });
                }
            }
            "structuring" => {
                let n = self.rng.range(2, 6);
                for _ in 0..n {
                    if self.written >= count {
                        return;
                    }
                    t += self.rng.range(1_800, 40_000);
                    let cents = self.rng.range(800_000, 990_000) as u64;
                    let branch = Some(self.rng.below(250));
                    self.write(&Line {
                        t: t.min(self.end - 1),
                        customer,
                        account,
                        direction: "in",
                        instrument: "cash",
                        cents,
                        branch,
                        country: "US",
                    });
                }
            }
            _ => {
                let inflow = self.rng.range(1_500_000, 6_000_000) as u64;
                self.write(&Line {
                    t,
                    customer,
                    account,
                    direction: "in",
                    instrument: "ach",
                    cents: inflow,
                    branch: None,
                    country: "US",
                });
                if self.written >= count {
                    return;
                }
                t += self.rng.range(600, 86_400);
                let share = 0.9 + self.rng.unit() * 0.08;
                let country = *self.rng.weighted(INTERNATIONAL);
                self.write(&Line {
                    t: t.min(self.end - 1),
                    customer,
                    account,
                    direction: "out",
                    instrument: "wire",
                    cents: (inflow as f64 * share) as u64,
                    branch: None,
                    country,
                });
            }
        }
    }

    fn write(&mut self, l: &Line) {
        self.written += 1;
        let n = self.written as u64;
        let o = &mut self.out;
        o.extend_from_slice(b"{\"id\":\"TX");
        push_padded(o, n, 10);
        o.extend_from_slice(b"\",\"timestamp\":\"");
        push_timestamp(o, l.t);
        o.extend_from_slice(b"\",\"customer_id\":\"C");
        push_padded(o, l.customer, 7);
        o.extend_from_slice(b"\",\"account_id\":\"A");
        push_padded(o, l.account, 8);
        o.extend_from_slice(b"\",\"direction\":\"");
        o.extend_from_slice(l.direction.as_bytes());
        o.extend_from_slice(b"\",\"instrument\":\"");
        o.extend_from_slice(l.instrument.as_bytes());
        o.extend_from_slice(b"\",\"amount_usd\":");
        push_amount(o, l.cents);
        if let Some(branch) = l.branch {
            o.extend_from_slice(b",\"branch_id\":\"BR-");
            push_padded(o, branch, 3);
            o.push(b'"');
        }
        o.extend_from_slice(b",\"counterparty_country\":\"");
        o.extend_from_slice(l.country.as_bytes());
        o.push(b'"');
        let rng = &mut self.rng;
        let mut status = "completed";
        if l.instrument == "cash" {
            let large = l.cents > 1_000_000;
            o.extend_from_slice(if large {
                b",\"ctr_required\":true"
            } else {
                b",\"ctr_required\":false"
            });
            if large {
                if rng.chance(0.95) {
                    o.extend_from_slice(b",\"ctr_id\":\"CTR");
                    push_padded(o, n, 10);
                    o.push(b'"');
                }
                let days = if rng.chance(0.96) {
                    rng.range(1, 14)
                } else {
                    rng.range(16, 40)
                };
                let filed = l.t + days * 86_400 + rng.range(0, 86_399);
                if filed < self.end {
                    o.extend_from_slice(b",\"ctr_filed_at\":\"");
                    push_timestamp(o, filed);
                    o.push(b'"');
                }
                o.extend_from_slice(if rng.chance(0.98) {
                    b",\"presenter_id_verified\":true,\"presenter_id_type\":\"drivers_license\""
                } else {
                    b",\"presenter_id_verified\":false"
                });
                if rng.chance(0.98) {
                    o.extend_from_slice(b",\"presenter_id_number\":\"D");
                    push_padded(o, rng.below(100_000_000), 8);
                    o.push(b'"');
                }
            }
        }
        if l.instrument == "wire" {
            let full = l.cents >= 300_000 && rng.chance(0.98) || rng.chance(0.6);
            o.extend_from_slice(b",\"originator_name\":\"");
            o.extend_from_slice(rng.pick(LAST_NAMES).as_bytes());
            o.extend_from_slice(b"\",\"originator_account\":\"");
            push_padded(o, l.account, 12);
            o.push(b'"');
            if full {
                o.extend_from_slice(b",\"originator_address\":\"");
                push_padded(o, rng.range(1, 999) as u64, 1);
                o.extend_from_slice(b" Main St\"");
            }
            o.extend_from_slice(b",\"beneficiary_name\":\"");
            o.extend_from_slice(rng.pick(LAST_NAMES).as_bytes());
            o.extend_from_slice(b"\",\"beneficiary_account\":\"");
            push_padded(o, rng.below(1_000_000_000_000), 12);
            o.push(b'"');
            let screened = rng.chance(0.995);
            let matched = screened && rng.chance(0.003);
            o.extend_from_slice(if screened {
                b",\"sanctions_screened\":true"
            } else {
                b",\"sanctions_screened\":false"
            });
            o.extend_from_slice(if matched {
                b",\"sanctions_match\":true"
            } else {
                b",\"sanctions_match\":false"
            });
            if matched && rng.chance(0.9) {
                status = "blocked";
            }
            let cfa = listed("fatf_call_for_action", l.country);
            let increased = listed("fatf_increased_monitoring", l.country);
            if cfa || increased {
                let edd = rng.chance(0.9);
                o.extend_from_slice(if edd {
                    b",\"edd_completed\":true"
                } else {
                    b",\"edd_completed\":false"
                });
                if cfa {
                    let approved = rng.chance(0.85);
                    o.extend_from_slice(if approved {
                        b",\"senior_management_approval\":true"
                    } else {
                        b",\"senior_management_approval\":false"
                    });
                }
            }
        }
        if rng.chance(0.02) {
            // Some sources enrich transactions with the account's opening date.
            let opened = l.t - rng.range(30, 3_000) * 86_400;
            o.extend_from_slice(b",\"account_opened_at\":\"");
            push_timestamp(o, opened);
            o.push(b'"');
        }
        o.extend_from_slice(b",\"status\":\"");
        o.extend_from_slice(status.as_bytes());
        o.extend_from_slice(b"\"}\n");
    }
}

/// `v` in decimal, zero-padded to at least `width` digits.
fn push_padded(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for _ in (buf.len() - i)..width {
        out.push(b'0');
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_amount(out: &mut Vec<u8>, cents: u64) {
    push_padded(out, cents / 100, 1);
    out.push(b'.');
    push_padded(out, cents % 100, 2);
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
fn push_timestamp(out: &mut Vec<u8>, t: i64) {
    let (day, second) = (t.div_euclid(86_400), t.rem_euclid(86_400) as u64);
    let (y, m, d) = civil_from_days(day);
    push_padded(out, y as u64, 4);
    out.push(b'-');
    push_padded(out, u64::from(m), 2);
    out.push(b'-');
    push_padded(out, u64::from(d), 2);
    out.push(b'T');
    push_padded(out, second / 3_600, 2);
    out.push(b':');
    push_padded(out, second / 60 % 60, 2);
    out.push(b':');
    push_padded(out, second % 60, 2);
    out.push(b'Z');
}

/// The date of a day number since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_chrono_does() {
        for t in [
            0i64,
            951_782_400,
            1_740_830_400,
            1_709_208_000,
            4_102_444_799,
        ] {
            let mut out = Vec::new();
            push_timestamp(&mut out, t);
            let expected = chrono::DateTime::from_timestamp(t, 0)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
        let mut out = Vec::new();
        push_amount(&mut out, 1_234_507);
        assert_eq!(out, b"12345.07");
    }

    #[test]
    fn the_feed_is_valid_json_of_about_200_bytes_a_line() {
        let bytes = aml_transactions_ndjson(3, 20_000);
        let lines: Vec<&[u8]> = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len(), 20_000);
        for line in &lines {
            let v: Value = serde_json::from_slice(line).unwrap();
            assert!(
                v["customer_id"].is_string() && v["timestamp"].is_string(),
                "{v}"
            );
        }
        let average = bytes.len() / lines.len();
        assert!((170..=280).contains(&average), "{average} bytes a line");
        assert_eq!(bytes, aml_transactions_ndjson(3, 20_000), "seeded");
    }
}
