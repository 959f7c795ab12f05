//! The packs' data: loading, the invariants every rule keeps, and the rules the issue names.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::*;

fn rule(t: PolicyType, id: &str) -> &'static Rule {
    pack(t)
        .rule(id)
        .unwrap_or_else(|| panic!("{t} has no rule {id}"))
}

fn window(r: &Rule) -> String {
    r.time_window.map(|w| w.to_string()).unwrap_or_default()
}

fn assert_type_and_window(r: &Rule, rule_type: RuleType, time_window: &str) {
    assert_eq!(r.rule_type, rule_type, "{}", r.rule_id);
    assert_eq!(window(r), time_window, "{}", r.rule_id);
}

/// The aggregate nodes of a rule's condition.
fn aggregates(r: &Rule) -> Vec<&Condition> {
    let mut found = Vec::new();
    r.conditions.walk(&mut |c| {
        if matches!(c, Condition::Aggregate { .. }) {
            found.push(c);
        }
    });
    found
}

fn has_aggregate(r: &Rule, func: AggFn, group: &str) -> bool {
    aggregates(r).iter().any(|c| {
        matches!(c, Condition::Aggregate { func: f, group_by, .. }
            if *f == func && group_by.iter().any(|g| g == group))
    })
}

#[test]
fn every_pack_loads_in_order() {
    let types: Vec<PolicyType> = packs().iter().map(|p| p.policy_type).collect();
    assert_eq!(types, PolicyType::ALL);
    for t in PolicyType::ALL {
        assert_eq!(pack(t).policy_type, t);
        assert_eq!(t.pack(), pack(t));
        assert!(!pack(t).name.is_empty() && !pack(t).version.is_empty());
    }
}

#[test]
fn every_pack_has_enough_rules_and_categories() {
    for p in packs() {
        assert!(
            p.rules.len() >= 12,
            "{}: {} rules",
            p.policy_type,
            p.rules.len()
        );
        let categories = p.categories();
        assert!(categories.len() >= 3, "{}: {categories:?}", p.policy_type);
        let distinct: HashSet<&String> = categories.iter().collect();
        assert_eq!(distinct.len(), categories.len());
        for c in &categories {
            assert!(!p.rules_in(&[c]).is_empty());
        }
        let covered: usize = categories.iter().map(|c| p.rules_in(&[c]).len()).sum();
        assert_eq!(covered, p.rules.len());
        assert_eq!(
            p.categories()[0],
            p.rules[0].category,
            "first-appearance order"
        );
    }
}

#[test]
fn rule_ids_are_unique_across_packs_and_follow_the_scheme() {
    let mut seen = HashSet::new();
    for p in packs() {
        for r in &p.rules {
            assert!(seen.insert(r.rule_id.as_str()), "duplicate {}", r.rule_id);
            let (prefix, _, number) = rule::split_rule_id(&r.rule_id).unwrap();
            assert_eq!(prefix, p.policy_type.as_str());
            assert!(number >= 1);
        }
    }
}

#[test]
fn every_rule_is_valid_and_round_trips() {
    for p in packs() {
        for r in &p.rules {
            let id = &r.rule_id;
            r.validate().unwrap_or_else(|e| panic!("{id}: {e}"));
            let json = r.conditions.to_json();
            assert_eq!(Condition::parse(&json).as_ref(), Ok(&r.conditions), "{id}");
            let text = serde_json::to_string(r).unwrap();
            assert_eq!(&serde_json::from_str::<Rule>(&text).unwrap(), r, "{id}");
            for text in [
                &r.policy_excerpt,
                &r.policy_section,
                &r.historical_context,
                &r.description,
            ] {
                assert!(!text.trim().is_empty(), "{id}");
            }
            assert!(!r.conditions.fields().is_empty(), "{id} reads no field");
        }
    }
}

#[test]
fn data_files_are_canonical() {
    // What the API serves is exactly what the data files say.
    for (&(file, text), p) in SOURCES.iter().zip(packs()) {
        let raw: Value = serde_json::from_str(text).unwrap();
        for (raw_rule, r) in raw["rules"].as_array().unwrap().iter().zip(&p.rules) {
            assert_eq!(
                &serde_json::to_value(r).unwrap(),
                raw_rule,
                "{file}: {}",
                r.rule_id
            );
        }
    }
}

#[test]
fn windows_and_thresholds_match_the_rule_types() {
    for p in packs() {
        for r in &p.rules {
            let id = &r.rule_id;
            match r.rule_type {
                RuleType::Threshold => {
                    assert!(r.threshold.is_some_and(f64::is_finite), "{id}");
                    assert!(r.time_window.is_some(), "{id}");
                }
                RuleType::Deadline | RuleType::Pattern => assert!(r.time_window.is_some(), "{id}"),
                RuleType::Boolean => assert!(r.time_window.is_none(), "{id}"),
            }
            if let Some(w) = r.time_window {
                let text = w.to_string();
                assert_eq!(TimeWindow::parse(&text), Ok(w), "{id}");
            }
        }
    }
}

#[test]
fn every_rule_type_is_used() {
    let used: HashSet<RuleType> = packs()
        .iter()
        .flat_map(|p| &p.rules)
        .map(|r| r.rule_type)
        .collect();
    assert_eq!(used.len(), RuleType::ALL.len());
}

#[test]
fn aml_currency_transaction_report() {
    let ctr = rule(PolicyType::Aml, "aml-ctr-001");
    assert_eq!(ctr.rule_type, RuleType::Threshold);
    assert_eq!(ctr.threshold, Some(10000.0));
    assert_eq!(window(ctr), "1 business day");
    assert!(ctr.policy_section.contains("31 CFR 1010.311"));
    let [Condition::Aggregate {
        func,
        field,
        filter,
        op,
        value,
        ..
    }] = aggregates(ctr)[..]
    else {
        panic!("one aggregate expected");
    };
    assert_eq!(
        (*func, field.as_deref(), *op),
        (AggFn::Sum, Some("amount_usd"), Op::Lte)
    );
    assert_eq!(value, &Operand::Threshold { factor: 1.0 });
    assert_eq!(
        filter.as_deref().map(Condition::to_json),
        Some(json!({"field": "instrument", "op": "eq", "value": "cash"}))
    );
    assert!(has_aggregate(ctr, AggFn::Sum, "customer_id"));
}

#[test]
fn aml_ctr_filing_and_sar_deadlines() {
    let filing = rule(PolicyType::Aml, "aml-ctr-002");
    assert_type_and_window(filing, RuleType::Deadline, "15d");
    assert!(filing.policy_section.contains("1010.306"));
    let sar = rule(PolicyType::Aml, "aml-sar-001");
    assert_type_and_window(sar, RuleType::Deadline, "30d");
    assert!(sar.policy_section.contains("R.20"));
}

#[test]
fn aml_structuring() {
    let s = rule(PolicyType::Aml, "aml-struct-001");
    assert_type_and_window(s, RuleType::Pattern, "7d");
    assert_eq!(s.threshold, Some(10000.0));
    assert!(s.policy_section.contains("31 U.S.C. 5324"));
    assert!(has_aggregate(s, AggFn::Count, "customer_id"));
    // Only cash just under the threshold counts.
    let band = s.conditions.to_json().to_string();
    assert!(
        band.contains(r#"{"field":"amount_usd","op":"lt","value":{"ref":"threshold"}}"#),
        "{band}"
    );
    let branches = rule(PolicyType::Aml, "aml-struct-002");
    assert!(has_aggregate(branches, AggFn::CountDistinct, "customer_id"));
    assert_eq!(window(branches), "1 business day");
}

#[test]
fn aml_velocity() {
    let count = rule(PolicyType::Aml, "aml-tm-001");
    assert_type_and_window(count, RuleType::Threshold, "24h");
    assert!(has_aggregate(count, AggFn::Count, "customer_id"));
    let value = rule(PolicyType::Aml, "aml-tm-002");
    assert_type_and_window(value, RuleType::Threshold, "7d");
    assert!(has_aggregate(value, AggFn::Sum, "customer_id"));
}

#[test]
fn aml_high_risk_jurisdictions_use_named_lists() {
    let call = rule(PolicyType::Aml, "aml-hrj-001");
    assert_eq!(call.severity, RuleSeverity::Critical);
    assert!(call.policy_section.contains("R.19"));
    assert_eq!(
        call.conditions.lists().into_iter().collect::<Vec<_>>(),
        ["fatf_call_for_action"]
    );
    let grey = rule(PolicyType::Aml, "aml-hrj-002");
    assert_eq!(
        grey.conditions.lists().into_iter().collect::<Vec<_>>(),
        ["fatf_increased_monitoring"]
    );
    for p in packs() {
        for r in &p.rules {
            for list in r.conditions.lists() {
                assert!(named_list(list).is_some(), "{}: {list}", r.rule_id);
            }
        }
    }
}

#[test]
fn aml_dormant_reactivation_and_in_and_out() {
    let dormant = rule(PolicyType::Aml, "aml-tm-003");
    assert_type_and_window(dormant, RuleType::Pattern, "365d");
    assert!(dormant.name.contains("Dormant"));
    assert!(has_aggregate(dormant, AggFn::Count, "account_id"));
    assert!(dormant.conditions.fields().contains("account_opened_at"));
    let in_out = rule(PolicyType::Aml, "aml-tm-004");
    assert_type_and_window(in_out, RuleType::Pattern, "48h");
    let directions: Vec<Value> = aggregates(in_out)
        .iter()
        .filter_map(|c| match c {
            Condition::Aggregate {
                filter: Some(f), ..
            } => Some(f.to_json()["value"].clone()),
            _ => None,
        })
        .collect();
    assert_eq!(directions, [json!("in"), json!("out")]);
}

#[test]
fn aml_cites_fatf_and_bsa() {
    let sections: Vec<&str> = pack(PolicyType::Aml)
        .rules
        .iter()
        .map(|r| r.policy_section.as_str())
        .collect();
    for citation in ["R.10", "R.19", "R.20", "31 CFR 1010.311", "31 U.S.C. 5324"] {
        assert!(sections.iter().any(|s| s.contains(citation)), "{citation}");
    }
}

#[test]
fn gdpr_breach_notification_within_72_hours() {
    let r = rule(PolicyType::Gdpr, "gdpr-bn-001");
    assert_type_and_window(r, RuleType::Deadline, "72h");
    assert!(r.policy_section.starts_with("Art. 33"));
    assert_eq!(r.severity, RuleSeverity::Critical);
    assert!(r.conditions.any_node(|c| c.to_json()
        == json!({"within": {"from": "became_aware_at", "to": "authority_notified_at"}})));
}

#[test]
fn gdpr_named_articles() {
    let by_section = |prefix: &str| {
        pack(PolicyType::Gdpr)
            .rules
            .iter()
            .find(|r| r.policy_section.starts_with(prefix))
            .unwrap_or_else(|| panic!("no rule for {prefix}"))
    };
    assert_eq!(by_section("Art. 30").rule_id, "gdpr-acc-001");
    assert_eq!(by_section("Art. 25").rule_id, "gdpr-dpd-001");
    assert_eq!(by_section("Art. 44").rule_id, "gdpr-xfer-001");
    let erasure = rule(PolicyType::Gdpr, "gdpr-dsr-001");
    assert_type_and_window(erasure, RuleType::Deadline, "1 month");
    assert!(
        erasure.policy_section.contains("Art. 12(3)") && erasure.policy_section.contains("Art. 17")
    );
    let transfers = rule(PolicyType::Gdpr, "gdpr-xfer-001");
    assert!(transfers.policy_section.contains("44") && transfers.policy_section.contains("46"));
    assert_eq!(
        transfers.conditions.lists().into_iter().collect::<Vec<_>>(),
        ["eea_countries", "eu_adequacy_decisions"]
    );
}

/// The rule's JSON has these values (and no threshold or time window).
fn assert_rule_json(id: &str, expected: Value) {
    let actual = serde_json::to_value(rule(PolicyType::Soc2, id)).unwrap();
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&actual[key], value, "{id}.{key}");
    }
    assert!(actual["threshold"].is_null() && actual["time_window"].is_null());
}

#[test]
fn soc2_reference_rules_are_exact() {
    assert_rule_json(
        "soc2-ac-001",
        json!({
            "name": "Multi-Factor Authentication Required",
            "type": "boolean",
            "description": "All user accounts must have MFA enabled",
            "severity": "high",
            "category": "Access Control",
            "policy_excerpt": "The organization shall require multi-factor authentication for all system access.",
            "policy_section": "CC6.1",
            "conditions": {"field": "mfa_enabled", "op": "eq", "value": true}
        }),
    );
    assert_rule_json(
        "soc2-enc-001",
        json!({
            "name": "Data Encryption at Rest",
            "type": "boolean",
            "description": "All sensitive data must be encrypted at rest",
            "severity": "critical",
            "category": "Encryption",
            "policy_excerpt": "Sensitive data shall be encrypted using industry-standard algorithms.",
            "policy_section": "CC6.7",
            "conditions": {"all": [
                {"field": "encryption_enabled", "op": "eq", "value": true},
                {"field": "algorithm", "op": "eq", "value": "AES-256"}
            ]}
        }),
    );
}

#[test]
fn soc2_reference_category_filter() {
    let soc2 = pack(PolicyType::Soc2);
    let selected = soc2.rules_in(&["Access Control", "Encryption"]);
    assert!(selected
        .iter()
        .all(|r| r.category == "Access Control" || r.category == "Encryption"));
    assert_eq!(
        selected.len(),
        soc2.rules
            .iter()
            .filter(|r| r.category == "Access Control" || r.category == "Encryption")
            .count()
    );
    let ids: Vec<&str> = selected.iter().map(|r| r.rule_id.as_str()).collect();
    assert_eq!(ids[0], "soc2-ac-001");
    assert!(ids.contains(&"soc2-enc-001"));
    assert!(soc2.rules_in::<&str>(&[]).is_empty());
    assert!(
        soc2.rules_in(&["access control"]).is_empty(),
        "matching is exact"
    );
}

#[test]
fn soc2_covers_the_named_controls() {
    let soc2 = pack(PolicyType::Soc2);
    for (id, category, section) in [
        ("soc2-ac-001", "Access Control", "CC6.1"), // MFA
        ("soc2-ac-002", "Access Control", "CC6.3"), // least privilege
        ("soc2-ac-004", "Access Control", "CC6.2"), // deprovisioning leavers
        ("soc2-enc-002", "Encryption", "CC6.7"),    // encryption in transit
        ("soc2-log-001", "Logging & Monitoring", "CC7.2"),
        ("soc2-log-002", "Logging & Monitoring", "CC7.2"), // retention
        ("soc2-chg-001", "Change Management", "CC8.1"),
        ("soc2-avl-001", "Availability", "A1.2"),
    ] {
        let r = soc2.rule(id).unwrap_or_else(|| panic!("{id}"));
        assert_eq!(r.category, category, "{id}");
        assert!(r.policy_section.contains(section), "{id}");
    }
    let leavers = rule(PolicyType::Soc2, "soc2-ac-004");
    assert_type_and_window(leavers, RuleType::Deadline, "24h");
    let retention = rule(PolicyType::Soc2, "soc2-log-002");
    assert_eq!(
        retention.conditions.to_json(),
        json!({"field": "log_retention_days", "op": "gte", "value": 365})
    );
    let sla = rule(PolicyType::Soc2, "soc2-avl-003");
    assert_eq!(
        (sla.threshold, window(sla).as_str()),
        (Some(43.2), "1 month")
    );
}

#[test]
fn policy_type_keywords() {
    assert_eq!(
        PolicyType::ALL,
        [PolicyType::Aml, PolicyType::Gdpr, PolicyType::Soc2]
    );
    assert_eq!("gdpr".parse::<PolicyType>(), Ok(PolicyType::Gdpr));
    let err = "SOC2".parse::<PolicyType>().unwrap_err();
    // The contract's wording ("Invalid enum value. Expected 'aml' | 'gdpr' | 'soc2'") is the
    // Audits family's rendering of this error (see the HTTP tests).
    assert_eq!(err.expected_quoted(), "'aml' | 'gdpr' | 'soc2'");
    assert_eq!(err.received, "SOC2");
    assert_eq!(PolicyType::Soc2.as_str(), "soc2");
    assert_eq!(PolicyType::Aml.display_name(), "Anti-Money Laundering");
    assert_eq!(
        PolicyType::Gdpr.display_name(),
        "General Data Protection Regulation"
    );
    assert_eq!(PolicyType::Soc2.display_name(), "SOC 2");
    assert_eq!(serde_json::to_value(PolicyType::Aml).unwrap(), json!("aml"));
    assert_eq!(
        serde_json::from_value::<PolicyType>(json!("soc2")).unwrap(),
        PolicyType::Soc2
    );
    assert!(serde_json::from_value::<PolicyType>(json!("hipaa")).is_err());
    assert!(RuleSeverity::Low < RuleSeverity::Critical);
}

/// A one-rule pack file whose rule has the given conditions.
fn pack_text(conditions: Value) -> String {
    let mut file: Value = serde_json::from_str(SOURCES[2].1).unwrap();
    let mut first = file["rules"][0].clone();
    first["conditions"] = conditions;
    file["rules"] = json!([first]);
    file.to_string()
}

/// The one-rule pack whose condition has the unknown operator `equals` at `all[1].op`.
fn pack_with_bad_operator() -> String {
    pack_text(json!({"all": [
        {"field": "mfa_enabled", "op": "eq", "value": true},
        {"field": "mfa_type", "op": "equals", "value": "totp"}
    ]}))
}

/// A valid one-rule pack (`soc2-ac-001`).
fn pack_with_mfa_rule() -> String {
    pack_text(json!({"field": "mfa_enabled", "op": "eq", "value": true}))
}

/// `text` with a copy of its first rule appended under `rule_id`.
fn with_copy_of_first_rule(text: &str, rule_id: &str) -> String {
    let mut file: Value = serde_json::from_str(text).unwrap();
    let mut copy = file["rules"][0].clone();
    copy["rule_id"] = json!(rule_id);
    file["rules"].as_array_mut().unwrap().push(copy);
    file.to_string()
}

#[test]
fn bad_data_names_the_rule_and_the_path() {
    let load = |t, text: String| load_pack(t, &text).unwrap_err();
    assert_eq!(
        load(PolicyType::Soc2, pack_with_bad_operator()),
        "rule soc2-ac-001: conditions.all[1].op: unknown operator 'equals'"
    );
    assert_eq!(
        load(PolicyType::Aml, pack_with_mfa_rule()),
        "policy_type: 'soc2' in the file of pack 'aml'"
    );
    assert_eq!(
        load(
            PolicyType::Soc2,
            with_copy_of_first_rule(&pack_with_mfa_rule(), "soc2-ac-001")
        ),
        "rule soc2-ac-001: rule_id: used twice in this pack"
    );
    assert_eq!(
        load(PolicyType::Soc2, with_copy_of_first_rule(&pack_with_mfa_rule(), "soc2-acc-002")),
        "rule soc2-acc-002: rule_id: category 'Access Control' uses the abbreviation 'ac', not 'acc'"
    );
    assert_eq!(
        load(
            PolicyType::Soc2,
            with_copy_of_first_rule(&pack_with_mfa_rule(), "gdpr-ac-002")
        ),
        "rule gdpr-ac-002: rule_id: must start with 'soc2-' in the soc2 pack, found 'gdpr-'"
    );
}

#[test]
#[should_panic(
    expected = "packs/data/bad.json: rule soc2-ac-001: conditions.all[1].op: unknown operator 'equals'"
)]
fn bad_data_panics_with_file_and_rule() {
    load_all(
        &[PolicyType::Soc2],
        &[("packs/data/bad.json", &pack_with_bad_operator())],
    );
}

#[test]
#[should_panic(
    expected = "packs/data/b.json: rule soc2-ac-001: id already used in packs/data/a.json"
)]
fn ids_are_unique_across_files() {
    let text = pack_with_mfa_rule();
    load_all(
        &[PolicyType::Soc2, PolicyType::Soc2],
        &[("packs/data/a.json", &text), ("packs/data/b.json", &text)],
    );
}
