//! Tests of the catalog: the built-in data and the pass-condition vocabulary.

use std::collections::HashSet;

use super::builtin::parse_framework;
use super::*;
use crate::plans::Plan;

#[test]
fn framework_keys_are_the_builtin_keys_in_order() {
    let keys: Vec<&str> = builtin().iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, BUILTIN_KEYS);
    let unique: HashSet<&str> = keys.iter().copied().collect();
    assert_eq!(unique.len(), keys.len());
    for key in BUILTIN_KEYS {
        assert_eq!(builtin_framework(key).map(|f| f.key.as_str()), Some(key));
    }
    assert!(builtin_framework("SOC2").is_none());
    assert!(builtin_framework("internal_sec").is_none());
}

#[test]
fn framework_names_and_descriptions_match_the_reference() {
    let expect = [
        (
            "soc2",
            "SOC 2 Type II",
            Some("Service Organization Controls"),
        ),
        ("iso27001", "ISO 27001", None),
        ("owasp", "OWASP Top 10", None),
        ("pcidss", "PCI DSS v4.0", None),
        (
            "hipaa",
            "HIPAA Security Rule",
            Some("Health Information Privacy"),
        ),
        ("nist_csf", "NIST CSF", None),
    ];
    for (key, name, description) in expect {
        let f = builtin_framework(key).unwrap();
        assert_eq!(f.name, name);
        assert!(!f.custom, "{key}");
        assert!(!f.description.is_empty() && !f.description.contains('\n'));
        if let Some(d) = description {
            assert_eq!(f.description, d);
        }
    }
}

#[test]
fn only_hipaa_requires_a_plan_and_it_is_enterprise() {
    for f in builtin() {
        let expected = (f.key == "hipaa").then_some(Plan::Enterprise);
        assert_eq!(f.requires_plan, expected, "{}", f.key);
    }
}

#[test]
fn control_counts_meet_the_reference_minimums() {
    let minimums = [
        ("soc2", 15),
        ("iso27001", 4),
        ("owasp", 10),
        ("pcidss", 5),
        ("hipaa", 6),
        ("nist_csf", 7),
    ];
    for (key, min) in minimums {
        let n = builtin_framework(key).unwrap().controls.len();
        assert!(n >= min, "{key} has {n} controls, fewer than {min}");
    }
    assert_eq!(builtin_framework("owasp").unwrap().controls.len(), 10);
}

#[test]
fn control_ids_are_unique_within_each_framework() {
    for f in builtin() {
        let ids: HashSet<&str> = f.controls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), f.controls.len(), "{}", f.key);
    }
}

#[test]
fn every_control_is_complete_and_one_line() {
    for f in builtin() {
        for c in &f.controls {
            let texts = [
                &c.id,
                &c.name,
                &c.category,
                &c.description,
                &c.recommendation_reason,
            ];
            for t in texts {
                assert!(!t.trim().is_empty(), "{} {}", f.key, c.id);
                assert!(
                    !t.contains('\n') && t.trim() == t.as_str(),
                    "{} {}",
                    f.key,
                    c.id
                );
            }
        }
    }
}

#[test]
fn every_pass_condition_round_trips_and_fits_its_check_type() {
    for f in builtin() {
        for c in &f.controls {
            let text = c.pass_condition.as_string();
            assert_eq!(
                PassCondition::parse(c.check_type, &text),
                Ok(c.pass_condition),
                "{} {}",
                f.key,
                c.id
            );
            assert!(
                c.pass_condition.applies_to(c.check_type),
                "{} {}",
                f.key,
                c.id
            );
        }
    }
}

#[test]
fn cc6_1_matches_the_reference() {
    let c = builtin_framework("soc2").unwrap().control("CC6.1").unwrap();
    assert_eq!(c.id, "CC6.1");
    assert_eq!(c.name, "Logical & Physical Access Controls");
    assert_eq!(c.category, "Access");
    assert_eq!(
        c.description,
        "Ensure no hardcoded credentials or API keys in code"
    );
    assert_eq!(c.check_type, CheckType::Secrets);
    assert_eq!(c.recommendation, Recommendation::Required);
    assert_eq!(
        c.recommendation_reason,
        "Credential leakage is a baseline control for any codebase."
    );
    assert_eq!(c.domain, Domain::Credentials);
}

#[test]
fn controls_the_reference_disables_exist() {
    let soc2 = builtin_framework("soc2").unwrap();
    for id in ["CC8.1", "CC2.1"] {
        assert!(soc2.control(id).is_some(), "{id}");
    }
    assert!(soc2.control("CC99.9").is_none());
    assert!(soc2.control("cc6.1").is_none());
}

#[test]
fn framework_and_control_serialise_with_string_conditions() {
    let soc2 = builtin_framework("soc2").unwrap();
    let json = serde_json::to_value(soc2.control("CC6.1").unwrap()).unwrap();
    assert_eq!(json["check_type"], "secrets");
    assert_eq!(json["pass_condition"], "no_findings");
    assert_eq!(json["recommendation"], "required");
    assert_eq!(json["domain"], "credentials");
    let hipaa = serde_json::to_value(builtin_framework("hipaa").unwrap()).unwrap();
    assert_eq!(hipaa["requires_plan"], "enterprise");
    assert_eq!(hipaa["custom"], false);
    assert_eq!(
        serde_json::to_value(soc2).unwrap()["requires_plan"],
        serde_json::Value::Null
    );
}

#[test]
fn labels_round_trip_through_their_strings() {
    for r in Recommendation::ALL {
        assert_eq!(r.as_str().parse::<Recommendation>(), Ok(r));
        assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
    }
    for d in Domain::ALL {
        assert_eq!(d.as_str().parse::<Domain>(), Ok(d));
        assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
    }
    for n in FindingNoun::ALL {
        assert_eq!(n.as_str().parse::<FindingNoun>(), Ok(n));
        assert_eq!(serde_json::to_value(n).unwrap(), n.as_str());
    }
    let e = "mandatory".parse::<Recommendation>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown recommendation 'mandatory' (expected one of: required, recommended, optional)"
    );
    for ct in CheckType::ALL {
        assert!(Domain::ALL.contains(&Domain::for_check_type(ct)));
    }
}

// ---- pass conditions ----

fn parse(ct: CheckType, text: &str) -> Result<PassCondition, String> {
    PassCondition::parse(ct, text)
}

fn rejected(ct: CheckType, text: &str) -> String {
    parse(ct, text).expect_err(text)
}

#[test]
fn reference_examples_parse() {
    assert_eq!(
        parse(CheckType::Secrets, "no_critical_secrets"),
        Ok(PassCondition::SeverityCeiling {
            at_or_above: Severity::Critical,
            noun: FindingNoun::Secrets
        })
    );
    assert_eq!(
        parse(CheckType::ScanRecency, "scanned_within_7_days"),
        Ok(PassCondition::ScannedWithinDays(7))
    );
}

#[test]
fn typed_parameters_are_read() {
    use PassCondition::*;
    let cases = [
        (CheckType::SastAuth, "no_findings", NoFindings),
        (CheckType::IacIssues, "no_findings", NoFindings),
        (
            CheckType::SastCrypto,
            "no_high_findings",
            SeverityCeiling {
                at_or_above: Severity::High,
                noun: FindingNoun::Findings,
            },
        ),
        (
            CheckType::CodeQuality,
            "no_low_issues",
            SeverityCeiling {
                at_or_above: Severity::Low,
                noun: FindingNoun::Issues,
            },
        ),
        (
            CheckType::ScaVulns,
            "max_0_vulns",
            MaxFindings {
                max: 0,
                noun: FindingNoun::Vulns,
            },
        ),
        (
            CheckType::IacIssues,
            "max_10000_misconfigs",
            MaxFindings {
                max: 10_000,
                noun: FindingNoun::Misconfigs,
            },
        ),
        (
            CheckType::ScanRecency,
            "scanned_within_1_days",
            ScannedWithinDays(1),
        ),
        (
            CheckType::ScanRecency,
            "scanned_within_365_days",
            ScannedWithinDays(365),
        ),
        (
            CheckType::QualityGates,
            "quality_gate_passed",
            QualityGatePassed,
        ),
        (
            CheckType::PrReviews,
            "pr_review_rate_at_least_1",
            ReviewRateAtLeast(1),
        ),
        (
            CheckType::PrReviews,
            "pr_review_rate_at_least_100",
            ReviewRateAtLeast(100),
        ),
        (CheckType::PrReviews, "min_approvals_2", MinApprovals(2)),
    ];
    for (ct, text, expected) in cases {
        assert_eq!(parse(ct, text), Ok(expected), "{text}");
        assert_eq!(expected.to_string(), text);
    }
}

#[test]
fn every_form_parses_back_for_every_check_type_it_claims() {
    let mut samples = vec![
        PassCondition::NoFindings,
        PassCondition::ScannedWithinDays(30),
        PassCondition::QualityGatePassed,
        PassCondition::ReviewRateAtLeast(90),
        PassCondition::MinApprovals(1),
    ];
    for noun in FindingNoun::ALL {
        samples.push(PassCondition::MaxFindings { max: 3, noun });
        for at_or_above in Severity::ALL.into_iter().filter(|&s| s != Severity::Info) {
            samples.push(PassCondition::SeverityCeiling { at_or_above, noun });
        }
    }
    for condition in samples {
        let text = condition.as_string();
        for ct in CheckType::ALL {
            let parsed = parse(ct, &text);
            if condition.check_types().contains(&ct) {
                assert_eq!(parsed, Ok(condition), "{text} for {ct}");
            } else {
                assert!(parsed.is_err(), "{text} accepted for {ct}");
            }
        }
    }
}

#[test]
fn default_conditions_fit_their_check_type() {
    for ct in CheckType::ALL {
        let d = PassCondition::default_for(ct);
        assert!(d.applies_to(ct), "{ct}");
        assert_eq!(parse(ct, &d.as_string()), Ok(d));
        assert_eq!(
            FindingNoun::for_check_type(ct).is_some(),
            ct.is_finding_based()
        );
    }
    assert_eq!(
        PassCondition::default_for(CheckType::Secrets),
        PassCondition::NoFindings
    );
    assert_eq!(
        PassCondition::default_for(CheckType::ScanRecency).as_string(),
        "scanned_within_7_days"
    );
}

#[test]
fn wrong_check_type_is_rejected_with_the_valid_list() {
    let e = rejected(CheckType::ScaVulns, "no_critical_secrets");
    assert!(
        e.contains("'no_critical_secrets'") && e.contains("'secrets'"),
        "{e}"
    );
    assert!(
        e.contains("valid for sca_vulns") && e.contains("no_<critical|high|medium|low>_vulns"),
        "{e}"
    );
    let e = rejected(CheckType::Secrets, "scanned_within_7_days");
    assert!(
        e.contains("'scan_recency'") && e.contains("max_<N>_secrets"),
        "{e}"
    );
    let e = rejected(CheckType::ScanRecency, "no_findings");
    assert!(e.contains("scanned_within_<N>_days (N 1-365)"), "{e}");
    let e = rejected(CheckType::Secrets, "max_2_findings");
    assert!(
        e.contains("'sast_security', 'sast_crypto', 'sast_auth'"),
        "{e}"
    );
    let e = rejected(CheckType::QualityGates, "min_approvals_2");
    assert!(
        e.contains("valid for quality_gates: quality_gate_passed"),
        "{e}"
    );
    // A wrong check type is reported before an out-of-range parameter.
    let e = rejected(CheckType::Secrets, "scanned_within_0_days");
    assert!(e.contains("is for check_type 'scan_recency'"), "{e}");
}

#[test]
fn parameters_out_of_range_are_rejected() {
    let cases = [
        (
            CheckType::ScanRecency,
            "scanned_within_0_days",
            "between 1 and 365",
        ),
        (
            CheckType::ScanRecency,
            "scanned_within_366_days",
            "between 1 and 365",
        ),
        (
            CheckType::ScanRecency,
            "scanned_within_1000000000_days",
            "between 1 and 365",
        ),
        (
            CheckType::ScanRecency,
            "scanned_within_99999999999999999999999_days",
            "between 1 and 365",
        ),
        (
            CheckType::ScanRecency,
            "scanned_within_07_days",
            "leading zeros",
        ),
        (
            CheckType::PrReviews,
            "pr_review_rate_at_least_0",
            "between 1 and 100",
        ),
        (
            CheckType::PrReviews,
            "pr_review_rate_at_least_101",
            "between 1 and 100",
        ),
        (CheckType::PrReviews, "min_approvals_0", "between 1 and 10"),
        (CheckType::PrReviews, "min_approvals_11", "between 1 and 10"),
        (
            CheckType::Secrets,
            "max_10001_secrets",
            "between 0 and 10000",
        ),
        (
            CheckType::Secrets,
            "max_1000000000_secrets",
            "between 0 and 10000",
        ),
    ];
    for (ct, text, why) in cases {
        let e = rejected(ct, text);
        assert!(e.contains(why) && e.contains("valid for"), "{text}: {e}");
    }
}

#[test]
fn garbage_is_rejected_with_the_valid_list() {
    let cases = [
        (CheckType::Secrets, ""),
        (CheckType::Secrets, "no critical secrets"),
        (CheckType::Secrets, "NO_CRITICAL_SECRETS"),
        (CheckType::Secrets, " no_findings"),
        (CheckType::Secrets, "no_findings "),
        (CheckType::Secrets, "max_-1_secrets"),
        (CheckType::Secrets, "max_+1_secrets"),
        (CheckType::Secrets, "max__secrets"),
        (CheckType::Secrets, "_secrets"),
        (CheckType::ScanRecency, "scanned_within_seven_days"),
        (CheckType::ScanRecency, "scanned_within_7_day"),
        (CheckType::PrReviews, "pr_review_rate_at_least_"),
        (CheckType::QualityGates, "quality_gate_failed"),
        (CheckType::CodeQuality, "pass"),
    ];
    for (ct, text) in cases {
        let e = rejected(ct, text);
        assert!(
            e.contains("unknown pass_condition") && e.contains(&format!("valid for {ct}:")),
            "{text:?}: {e}"
        );
    }
}

#[test]
fn near_misses_explain_themselves() {
    let e = rejected(CheckType::Secrets, "no_severe_secrets");
    assert!(e.contains("unknown severity 'severe'"), "{e}");
    let e = rejected(CheckType::Secrets, "no_info_secrets");
    assert!(e.contains("max_0_secrets"), "{e}");
    let e = rejected(CheckType::Secrets, "no_secrets");
    assert!(
        e.contains("no_findings") && e.contains("max_0_secrets"),
        "{e}"
    );
    assert!(!e.contains('\n'));
}

/// A form's pattern with its placeholders filled in for `ct`.
fn instantiate(pattern: &str, ct: CheckType) -> String {
    let noun = FindingNoun::for_check_type(ct).map_or("", FindingNoun::as_str);
    pattern
        .replace("<noun>", noun)
        .replace("<severity>", "high")
        .replace("<N>", "1")
        .replace("<P>", "50")
}

#[test]
fn vocabulary_documents_every_form_with_a_valid_example() {
    let forms = vocabulary();
    assert_eq!(forms.len(), 8);
    for form in &forms {
        assert!(!form.meaning.is_empty() && !form.parameters.is_empty());
        assert!(form
            .check_types
            .iter()
            .any(|&ct| parse(ct, form.example).is_ok()));
        for &ct in &form.check_types {
            let text = instantiate(form.pattern, ct);
            assert!(parse(ct, &text).is_ok(), "{text} for {ct}");
        }
    }
    let covered: HashSet<CheckType> = forms.iter().flat_map(|f| f.check_types.clone()).collect();
    assert_eq!(covered.len(), CheckType::ALL.len());
    for ct in CheckType::ALL {
        assert!(!patterns_for(ct).is_empty());
    }
}

#[test]
fn condition_serialises_as_its_canonical_string() {
    let c = PassCondition::parse(CheckType::Secrets, "no_critical_secrets").unwrap();
    assert_eq!(
        serde_json::to_string(&c).unwrap(),
        "\"no_critical_secrets\""
    );
}

// ---- the data-file reader ----

const HEADER: &str = "framework x | X | One line | requires_plan: none\n";

fn read(body: &str) -> Result<Framework, String> {
    parse_framework(&format!("{HEADER}{body}"))
}

#[test]
fn reader_accepts_a_well_formed_file() {
    let f = read(
        "# comment\n\nA-1 | Name | Cat | auth\n    sast_auth: no_high_findings\n    Does things\n    optional: Niche.\n",
    )
    .unwrap();
    assert_eq!(f.key, "x");
    assert_eq!(f.requires_plan, None);
    let c = f.control("A-1").unwrap();
    assert_eq!(c.check_type, CheckType::SastAuth);
    assert_eq!(c.recommendation, Recommendation::Optional);
    assert_eq!(c.recommendation_reason, "Niche.");
}

/// Asserts the reader rejects `body` (after the header line) with an error starting `expected`.
fn assert_unreadable(body: &str, expected: &str) {
    let e = read(body).expect_err(body);
    assert!(e.starts_with(expected), "{body}: {e}");
}

#[test]
fn reader_rejects_bad_data_with_its_line() {
    let good =
        "A-1 | Name | Cat | auth\n    secrets: no_findings\n    Does things\n    optional: x\n";
    assert!(read(good).is_ok());
    let edits = [
        (
            "secrets: no_findings",
            "secrets: max_0_vulns",
            "3: pass_condition 'max_0_vulns' is for",
        ),
        (
            "secrets: no_findings",
            "secret: no_findings",
            "3: unknown check_type 'secret'",
        ),
        (
            "secrets: no_findings",
            "secrets no_findings",
            "3: expected '<check_type>: ",
        ),
        ("| auth", "| web", "2: unknown domain 'web'"),
        ("optional: x", "must: x", "5: unknown recommendation 'must'"),
        ("Cat | auth", "auth", "2: control line"),
        (
            "    Does things\n",
            "",
            "2: control 'A-1 | Name | Cat | auth' needs three indented lines",
        ),
    ];
    for (from, to, expected) in edits {
        assert_unreadable(&good.replacen(from, to, 1), expected);
    }
    assert_unreadable(&good.repeat(2), "6: duplicate control id 'A-1'");
    assert_unreadable(
        &format!("    Does things\n{good}"),
        "2: indented line outside",
    );
    let e = parse_framework("framework x | X | Y | requires_plan: gold\n").unwrap_err();
    assert!(e.starts_with("1: unknown plan 'gold'"), "{e}");
    assert!(parse_framework("x | X | Y | requires_plan: none\n").is_err());
    assert!(parse_framework("framework x | X | Y\n").is_err());
    assert!(parse_framework("# only a comment\n").is_err());
}

// ---- weakness (CWE) mappings ----

const CWE_GOOD: &str = "A-1 | Name | Cat | auth\n    sast_auth: no_findings\n    Does things\n    optional: x\n    cwe: 863, 22, 1275 | source: Somewhere \"List\" (example.org/x), CC BY-SA 4.0\n";

#[test]
fn reader_reads_a_cwe_line_sorted_with_its_source() {
    let f = read(CWE_GOOD).unwrap();
    let m = f.control("A-1").unwrap().weaknesses.clone().unwrap();
    assert_eq!(m.cwe, vec![22, 863, 1275]);
    assert_eq!(m.source, "Somewhere \"List\" (example.org/x), CC BY-SA 4.0");
    // A single id, the bounds, and a following control without a line.
    let f = read(&CWE_GOOD.replace("863, 22, 1275", "99999, 1")).unwrap();
    assert_eq!(
        f.controls[0].weaknesses.as_ref().unwrap().cwe,
        vec![1, 99999]
    );
    let two = format!(
        "{}{}",
        CWE_GOOD.replace("863, 22, 1275", "918"),
        "B-2 | Name | Cat | auth\n    sast_auth: no_findings\n    Does things\n    optional: x\n"
    );
    let f = read(&two).unwrap();
    assert_eq!(f.controls[0].weaknesses.as_ref().unwrap().cwe, vec![918]);
    assert_eq!(f.controls[1].weaknesses, None);
}

#[test]
fn reader_rejects_bad_cwe_lines_with_their_line() {
    let bad = |from: &str, to: &str, expected: &str| {
        assert_unreadable(&CWE_GOOD.replacen(from, to, 1), expected);
    };
    bad(
        "863, 22, 1275",
        "",
        "6: a cwe line lists at least one CWE id",
    );
    bad(
        "cwe: 863, 22, 1275 | ",
        "cwe: ",
        "6: expected 'cwe: <id>, <id>, … | source: <citation>'",
    );
    bad("cwe: ", "cwes: ", "6: expected 'cwe:");
    bad(" | source: ", " source: ", "6: expected 'cwe:");
    bad(
        "source: Somewhere",
        "origin: Somewhere",
        "6: expected 'cwe:",
    );
    bad(
        "source: Somewhere \"List\" (example.org/x), CC BY-SA 4.0",
        "source:  ",
        "6: expected 'cwe:",
    );
    bad("863, 22", "863, 0", "6: '0' is not a CWE id");
    bad("863, 22", "863, 100000", "6: '100000' is not a CWE id");
    bad("863, 22", "863, CWE-22", "6: 'CWE-22' is not a CWE id");
    bad("863, 22", "863, 022", "6: '022' is not a CWE id");
    bad("863, 22", "863, -22", "6: '-22' is not a CWE id");
    bad("863, 22", "863,, 22", "6: '' is not a CWE id");
    bad("863, 22", "863 22", "6: '863 22' is not a CWE id");
    bad("863, 22", "863, 22, 863", "6: CWE id 863 is listed twice");
    bad("CC BY-SA 4.0", "CC BY-SA | 4.0", "6: a source has no ' | '");
    // A fifth indented line, and a cwe line on a signal-based control.
    assert_unreadable(
        &format!("{CWE_GOOD}    more\n"),
        "2: control 'A-1 | Name | Cat | auth' needs three indented lines",
    );
    let signal = CWE_GOOD.replace("sast_auth: no_findings", "pr_reviews: min_approvals_1");
    assert_unreadable(&signal, "6: a cwe line needs a finding-based check type");
}

#[test]
fn weakness_mappings_sort_dedup_and_validate() {
    let m = WeaknessMapping::new([79, 80, 79], "custom").unwrap();
    assert_eq!(m.cwe, vec![79, 80]);
    assert!(m.contains(80) && !m.contains(81));
    assert!(m.meets(&[1, 80]) && !m.meets(&[1, 2]) && !m.meets(&[]));
    assert!(WeaknessMapping::new([], "custom").is_err());
    assert!(WeaknessMapping::new([0], "custom").is_err());
    assert!(WeaknessMapping::new([CWE_ID_MAX + 1], "custom").is_err());
    assert!(WeaknessMapping::new([79], " ").is_err());
    assert!(WeaknessMapping::new([CWE_ID_MAX], "custom").is_ok());
}

/// OWASP's "List of Mapped CWEs" per category, as transcribed: the count of each list is the
/// "CWEs Mapped" figure of its page.
#[test]
fn owasp_controls_carry_owasps_lists() {
    let owasp = builtin_framework("owasp").unwrap();
    let expected: [(&str, Option<usize>); 10] = [
        ("A01:2021", Some(34)),
        ("A02:2021", Some(29)),
        ("A03:2021", Some(33)),
        ("A04:2021", None),
        ("A05:2021", None),
        ("A06:2021", None),
        ("A07:2021", Some(22)),
        ("A08:2021", Some(10)),
        ("A09:2021", None),
        ("A10:2021", Some(1)),
    ];
    for (id, len) in expected {
        let c = owasp.control(id).unwrap();
        assert_eq!(c.weaknesses.as_ref().map(|m| m.cwe.len()), len, "{id}");
        if let Some(m) = &c.weaknesses {
            assert!(m.cwe.windows(2).all(|w| w[0] < w[1]), "{id}");
            let category = &id[..3];
            assert!(
                m.source.starts_with(&format!(
                    "OWASP Top 10:2021 {category} \"List of Mapped CWEs\" (owasp.org/Top10/{category}_2021-"
                )) && m.source.ends_with("), CC BY-SA 4.0"),
                "{id}: {}",
                m.source
            );
            assert!(c.check_type.is_finding_based(), "{id}");
        }
    }
    let ids = |id: &str| owasp.control(id).unwrap().weaknesses.clone().unwrap().cwe;
    assert_eq!(ids("A10:2021"), vec![918]);
    for (id, cwe) in [
        ("A01:2021", 22),
        ("A01:2021", 352),
        ("A01:2021", 1275),
        ("A02:2021", 327),
        ("A03:2021", 79),
        ("A03:2021", 89),
        ("A03:2021", 917),
        ("A07:2021", 295),
        ("A07:2021", 798),
        ("A08:2021", 502),
    ] {
        assert!(ids(id).contains(&cwe), "{id} CWE-{cwe}");
    }
    // OWASP files every CWE under one category at most.
    let mapped: Vec<u32> = owasp
        .controls
        .iter()
        .filter_map(|c| c.weaknesses.as_ref())
        .flat_map(|m| m.cwe.iter().copied())
        .collect();
    let unique: HashSet<u32> = mapped.iter().copied().collect();
    assert_eq!(unique.len(), mapped.len());
    assert_eq!(mapped.len(), 34 + 29 + 33 + 22 + 10 + 1);
}

#[test]
fn frameworks_without_a_public_mapping_have_none() {
    for f in builtin().iter().filter(|f| f.key != "owasp") {
        assert!(
            f.controls.iter().all(|c| c.weaknesses.is_none()),
            "{} has a CWE mapping",
            f.key
        );
    }
}

#[test]
fn controls_for_a_cwe_in_framework_then_control_order() {
    let hits = |cwe: u32| -> Vec<String> {
        controls_for_cwe(cwe, builtin())
            .into_iter()
            .map(|(f, c)| format!("{}:{}", f.key, c.id))
            .collect()
    };
    assert_eq!(hits(918), vec!["owasp:A10:2021"]);
    assert_eq!(hits(79), vec!["owasp:A03:2021"]);
    assert_eq!(hits(22), vec!["owasp:A01:2021"]);
    assert!(hits(99_999).is_empty());
    assert!(hits(0).is_empty());
    // Several frameworks and controls: framework order, then control order.
    let mut mine = builtin_framework("owasp").unwrap().clone();
    mine.key = "mine".into();
    for c in &mut mine.controls {
        c.weaknesses = Some(WeaknessMapping::new([79, 918], "custom").unwrap());
    }
    let both = [&mine, builtin_framework("owasp").unwrap()];
    let found: Vec<String> = controls_for_cwe(918, both)
        .into_iter()
        .map(|(f, c)| format!("{}:{}", f.key, c.id))
        .collect();
    let mut expected: Vec<String> = mine
        .controls
        .iter()
        .map(|c| format!("mine:{}", c.id))
        .collect();
    expected.push("owasp:A10:2021".into());
    assert_eq!(found, expected);
}
