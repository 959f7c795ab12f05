//! SOC 2: user accounts, login events, systems (servers, databases, endpoints), changes,
//! vulnerabilities, alerts, and services' downtime.
//!
//! Background records comply: a user's login sessions are at least an hour apart with at most
//! three failures each; a service has at most three incidents a calendar month of at most 12
//! minutes each (36 < 43.2); deadlines are met with hours to spare or are still open within
//! their window.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::{at, days, hours, obj, secs, ts, Builder, Case};

const TEAMS: &[&str] = &["payments", "platform", "data", "support", "identity"];

pub(super) fn generate(b: &mut Builder, size: usize) {
    background(b, size);
    planted(b);
}

fn with(mut r: Map<String, Value>, pairs: &[(&str, Value)]) -> Map<String, Value> {
    for (k, v) in pairs {
        r.insert((*k).into(), v.clone());
    }
    r
}

/// A compliant, active, non-privileged account.
fn account(b: &mut Builder, user: &str) -> Map<String, Value> {
    let now = b.now;
    let rng = &mut b.rng;
    obj(json!({
        "user_id": user,
        "email": format!("{user}@example.com"),
        "team": *rng.pick(TEAMS),
        "mfa_enabled": true,
        "privileged": false,
        "shared_account": false,
        "employment_status": "active",
        "status": "active",
        "last_login_at": ts(now - secs(rng.range(60, 80 * 86_400))),
        "last_access_review_at": ts(now - secs(rng.range(86_400, 85 * 86_400))),
    }))
}

/// A compliant production system (encryption, logging, backups, restores).
fn system(b: &mut Builder) -> Map<String, Value> {
    let now = b.now;
    let rng = &mut b.rng;
    obj(json!({
        "system_id": format!("sys-{:04}", rng.below(10_000)),
        "system_type": "server",
        "encryption_enabled": true,
        "algorithm": "AES-256",
        "tls_enabled": true,
        "tls_min_version": *rng.pick(&["1.2", "1.3"]),
        "key_last_rotated_at": ts(now - days(rng.range(1, 360))),
        "audit_logging_enabled": true,
        "logs_centralised": true,
        "log_retention_days": *rng.pick(&[365, 400, 730, 2_555]),
        "last_successful_backup_at": ts(now - secs(rng.range(60, 23 * 3_600))),
        "last_restore_test_at": ts(now - days(rng.range(1, 360))),
    }))
}

fn database(b: &mut Builder) -> Map<String, Value> {
    let zones = b.rng.range(2, 3);
    with(
        system(b),
        &[
            ("system_type", json!("database")),
            ("availability_zones", json!(zones)),
        ],
    )
}

fn endpoint(b: &mut Builder) -> Map<String, Value> {
    let rng = &mut b.rng;
    obj(json!({
        "device_id": format!("LAPTOP-{:05}", rng.below(100_000)),
        "os": *rng.pick(&["macOS 15", "Windows 11", "Ubuntu 24.04"]),
        "anti_malware_installed": true,
        "definitions_current": true,
    }))
}

fn change(b: &mut Builder, deployed: DateTime<Utc>) -> Map<String, Value> {
    let rng = &mut b.rng;
    obj(json!({
        "change_id": format!("CHG-{:06}", rng.below(1_000_000)),
        "change_type": *rng.pick(&["standard", "normal"]),
        "approvals": rng.range(1, 3),
        "self_approved": false,
        "tests_passed": true,
        "deployed_at": ts(deployed),
    }))
}

fn emergency(
    b: &mut Builder,
    deployed: DateTime<Utc>,
    approved: Option<DateTime<Utc>>,
) -> Map<String, Value> {
    let mut r = with(
        change(b, deployed),
        &[("change_type", json!("emergency")), ("approvals", json!(0))],
    );
    if let Some(t) = approved {
        r.insert("retro_approved_at".into(), ts(t));
    }
    r
}

fn background(b: &mut Builder, size: usize) {
    let now = b.now;
    let start = now - days(90);
    let users = (size / 12).max(usize::from(size > 0));
    let services = (size / 60).max(usize::from(size > 0));
    let mut budget = size;
    for u in 1..=users {
        let user = format!("u{u:05}");
        let mut r = account(b, &user);
        if b.rng.chance(0.1) {
            r.insert("privileged".into(), json!(true));
            r.insert(
                "business_justification".into(),
                json!("on-call database administration"),
            );
            r.insert("access_approved_by".into(), json!("u00001"));
        }
        if b.rng.chance(0.08) {
            // A leaver, deprovisioned within the day.
            let left = now - days(b.rng.range(2, 80)) - secs(b.rng.range(0, 86_000));
            r.insert("employment_status".into(), json!("terminated"));
            r.insert("terminated_at".into(), ts(left));
            r.insert(
                "access_revoked_at".into(),
                ts(left + secs(b.rng.range(60, 20 * 3_600))),
            );
            r.insert("status".into(), json!("disabled"));
            r.insert("last_login_at".into(), ts(left - days(b.rng.range(0, 200))));
        }
        b.add("acct", r);
        budget = budget.saturating_sub(1);
        // Login sessions at least an hour apart: a few failures, then a success.
        let sessions = b.rng.below(8);
        let mut t = start + secs(b.rng.range(0, 86_400));
        for _ in 0..sessions {
            if budget == 0 || t > now - hours(1) {
                break;
            }
            let failures = *b.rng.weighted(&[(0u32, 80), (1, 12), (2, 5), (3, 3)]);
            let mut s = t;
            for k in 0..=failures {
                let event = if k < failures {
                    "login_failed"
                } else {
                    "login_success"
                };
                let r = obj(json!({
                    "timestamp": ts(s),
                    "user_id": user,
                    "event": event,
                    "source_ip": format!("10.{}.{}.{}", b.rng.below(256), b.rng.below(256), b.rng.below(256)),
                    "account_locked": false,
                }));
                b.add("login", r);
                budget = budget.saturating_sub(1);
                s += secs(b.rng.range(2, 40));
            }
            t += hours(1) + secs(b.rng.range(0, 10 * 86_400));
        }
    }
    for s in 1..=services {
        let service = format!("svc-{s:03}");
        // December, January, February and the first hours of March.
        for (y, m) in [(2024, 12), (2025, 1), (2025, 2), (2025, 3)] {
            let first = at(y, m, 1, 0, 0, 0);
            let month_end = if m == 12 {
                at(y + 1, 1, 1, 0, 0, 0)
            } else {
                at(y, m + 1, 1, 0, 0, 0)
            };
            let end = month_end.min(now);
            let span = (end - first).num_seconds();
            for _ in 0..b.rng.below(4) {
                let t = first + secs(b.rng.range(0, span - 1));
                let minutes = (b.rng.range(5, 120) as f64) / 10.0;
                let r = obj(json!({
                    "timestamp": ts(t),
                    "service_id": service,
                    "downtime_minutes": minutes,
                    "cause": *b.rng.pick(&["deploy", "dependency", "network", "database"]),
                }));
                b.add("downtime", r);
                budget = budget.saturating_sub(1);
            }
        }
    }
    while budget > 0 {
        budget -= 1;
        let kind = *b.rng.weighted(&[
            ("system", 20),
            ("database", 8),
            ("endpoint", 20),
            ("change", 25),
            ("vuln", 15),
            ("alert", 12),
        ]);
        match kind {
            "system" => {
                let r = system(b);
                b.add("sys", r);
            }
            "database" => {
                let r = database(b);
                b.add("sys", r);
            }
            "endpoint" => {
                let r = endpoint(b);
                b.add("device", r);
            }
            "change" => {
                let deployed = now - secs(b.rng.range(3_600, 90 * 86_400));
                let r = if b.rng.chance(0.1) {
                    let approved = deployed + secs(b.rng.range(600, 20 * 3_600));
                    emergency(b, deployed, (approved <= now).then_some(approved))
                } else {
                    change(b, deployed)
                };
                b.add("chg", r);
            }
            "vuln" => {
                let severity =
                    *b.rng
                        .weighted(&[("low", 30), ("medium", 35), ("high", 25), ("critical", 10)]);
                let found = now - secs(b.rng.range(3_600, 120 * 86_400));
                let fixed = found + secs(b.rng.range(3_600, 29 * 86_400));
                let mut r = obj(json!({
                    "vulnerability_id": format!("CVE-2025-{:05}", b.rng.below(100_000)),
                    "cvss_severity": severity,
                    "discovered_at": ts(found),
                }));
                if fixed <= now {
                    r.insert("remediated_at".into(), ts(fixed));
                }
                b.add("vuln", r);
            }
            _ => {
                let severity =
                    *b.rng
                        .weighted(&[("low", 40), ("medium", 30), ("high", 20), ("critical", 10)]);
                let raised = now - secs(b.rng.range(600, 60 * 86_400));
                let triaged = raised + secs(b.rng.range(60, 23 * 3_600));
                let mut r = obj(json!({
                    "alert_id": format!("ALR-{:06}", b.rng.below(1_000_000)),
                    "alert_severity": severity,
                    "raised_at": ts(raised),
                }));
                if triaged <= now {
                    r.insert("triaged_at".into(), ts(triaged));
                }
                b.add("alert", r);
            }
        }
    }
}

fn planted(b: &mut Builder) {
    let now = b.now;
    // Accounts: (rule or None for a near miss, changes to a compliant account).
    let left = at(2025, 2, 10, 17, 0, 0);
    let terminated = |when: DateTime<Utc>, revoked: Option<DateTime<Utc>>| {
        vec![
            ("employment_status", json!("terminated")),
            ("terminated_at", ts(when)),
            ("access_revoked_at", revoked.map_or(Value::Null, ts)),
        ]
    };
    let cases: Vec<Case> = vec![
        (Some("soc2-ac-001"), vec![("mfa_enabled", json!(false))]),
        (
            Some("soc2-ac-001"),
            vec![("mfa_enabled", json!(false)), ("team", json!("support"))],
        ),
        (
            Some("soc2-ac-002"),
            vec![
                ("privileged", json!(true)),
                ("access_approved_by", json!("u00002")),
            ],
        ),
        (
            Some("soc2-ac-002"),
            vec![
                ("privileged", json!(true)),
                ("business_justification", json!("break-glass")),
            ],
        ),
        (None, vec![("privileged", json!(false))]),
        (Some("soc2-ac-003"), vec![("shared_account", json!(true))]),
        (
            Some("soc2-ac-003"),
            vec![("shared_account", json!(true)), ("team", json!("data"))],
        ),
        (
            Some("soc2-ac-004"),
            terminated(left, Some(left + hours(24) + secs(1))),
        ),
        (
            Some("soc2-ac-004"),
            terminated(now - hours(24) - secs(1), None),
        ),
        (None, terminated(left, Some(left + hours(24)))),
        (None, terminated(now - hours(24), None)),
        (
            Some("soc2-ac-005"),
            vec![("last_access_review_at", ts(now - days(90) - secs(1)))],
        ),
        (
            Some("soc2-ac-005"),
            vec![("last_access_review_at", ts(at(2024, 6, 3, 9, 0, 0)))],
        ),
        (None, vec![("last_access_review_at", ts(now - days(90)))]),
        (
            Some("soc2-ac-006"),
            vec![("last_login_at", ts(now - days(90) - secs(1)))],
        ),
        (
            Some("soc2-ac-006"),
            vec![
                ("status", json!("locked")),
                ("last_login_at", ts(at(2024, 7, 1, 9, 0, 0))),
            ],
        ),
        (
            None,
            vec![
                ("status", json!("disabled")),
                ("last_login_at", ts(at(2023, 1, 9, 9, 0, 0))),
            ],
        ),
        (None, vec![("last_login_at", ts(now - days(90)))]),
    ];
    for (i, (rule, pairs)) in cases.into_iter().enumerate() {
        let user = format!("pu{i:03}");
        let r = with(account(b, &user), &pairs);
        let id = b.add("acct", r);
        if let Some(rule) = rule {
            b.plant(rule, &id);
        }
    }

    // Failed logins: (failures' offsets in seconds, whether the last is locked, planted from).
    let base = b.past_weekday(0, chrono::Weekday::Wed) + hours(9);
    let cases: Vec<(Vec<i64>, bool, Option<usize>)> = vec![
        // Seven failures in three minutes, never locked: the 6th and 7th.
        (vec![0, 30, 60, 90, 120, 150, 180], false, Some(5)),
        // Four, then two at the same second: both count six.
        (vec![0, 20, 40, 60, 100, 100], false, Some(4)),
        // The first exactly 15 minutes before the sixth: five in the window.
        (vec![0, 60, 120, 180, 240, 900], false, None),
        // Six in two minutes, and the account locked on the sixth.
        (vec![0, 20, 40, 60, 80, 100], true, None),
    ];
    for (i, (offsets, locked, planted_from)) in cases.into_iter().enumerate() {
        let user = format!("pl{i:03}");
        let n = offsets.len();
        for (k, offset) in offsets.into_iter().enumerate() {
            let r = obj(json!({
                "timestamp": ts(base + secs(offset)),
                "user_id": user,
                "event": "login_failed",
                "source_ip": "203.0.113.7",
                "account_locked": locked && k == n - 1,
            }));
            let id = b.add("login", r);
            if planted_from.is_some_and(|from| k >= from) {
                b.plant("soc2-ac-007", &id);
            }
        }
        let r = obj(json!({
            "timestamp": ts(base + hours(2)),
            "user_id": user,
            "event": "login_success",
            "account_locked": false,
        }));
        b.add("login", r);
    }

    // Systems.
    let cases: Vec<Case> = vec![
        (
            Some("soc2-enc-001"),
            vec![("encryption_enabled", json!(false))],
        ),
        (Some("soc2-enc-001"), vec![("algorithm", json!("AES-128"))]),
        (
            Some("soc2-enc-002"),
            vec![("tls_min_version", json!("1.0"))],
        ),
        (Some("soc2-enc-002"), vec![("tls_enabled", json!(false))]),
        (None, vec![("tls_min_version", json!("1.3"))]),
        // A year after 29 February 2024 is 28 February 2025.
        (
            Some("soc2-enc-003"),
            vec![("key_last_rotated_at", ts(at(2024, 2, 29, 12, 0, 0)))],
        ),
        (
            Some("soc2-enc-003"),
            vec![("key_last_rotated_at", ts(at(2023, 1, 2, 9, 0, 0)))],
        ),
        (
            None,
            vec![("key_last_rotated_at", ts(at(2024, 3, 1, 12, 0, 0)))],
        ),
        (
            Some("soc2-log-001"),
            vec![("audit_logging_enabled", json!(false))],
        ),
        (
            Some("soc2-log-001"),
            vec![("logs_centralised", json!(false))],
        ),
        (
            Some("soc2-log-002"),
            vec![("log_retention_days", json!(364))],
        ),
        (
            Some("soc2-log-002"),
            vec![("log_retention_days", json!(90))],
        ),
        (None, vec![("log_retention_days", json!(365))]),
        (
            Some("soc2-avl-001"),
            vec![("last_successful_backup_at", ts(now - hours(24) - secs(1)))],
        ),
        (
            Some("soc2-avl-001"),
            vec![("last_successful_backup_at", ts(now - days(3)))],
        ),
        (
            None,
            vec![("last_successful_backup_at", ts(now - hours(24)))],
        ),
        (
            Some("soc2-avl-002"),
            vec![("last_restore_test_at", ts(at(2024, 2, 29, 12, 0, 0)))],
        ),
        (
            Some("soc2-avl-002"),
            vec![("last_restore_test_at", ts(at(2022, 11, 14, 9, 0, 0)))],
        ),
        (
            None,
            vec![("last_restore_test_at", ts(at(2024, 3, 1, 12, 0, 0)))],
        ),
        (
            Some("soc2-avl-004"),
            vec![
                ("system_type", json!("database")),
                ("availability_zones", json!(1)),
            ],
        ),
        (
            Some("soc2-avl-004"),
            vec![
                ("system_type", json!("database")),
                ("availability_zones", json!(1)),
                ("log_retention_days", json!(400)),
            ],
        ),
        (
            None,
            vec![
                ("system_type", json!("database")),
                ("availability_zones", json!(2)),
            ],
        ),
    ];
    for (rule, pairs) in cases {
        let r = with(system(b), &pairs);
        let id = b.add("sys", r);
        if let Some(rule) = rule {
            b.plant(rule, &id);
        }
    }
    for (pairs, planted) in [
        (vec![("anti_malware_installed", json!(false))], true),
        (vec![("definitions_current", json!(false))], true),
    ] {
        let r = with(endpoint(b), &pairs);
        let id = b.add("device", r);
        if planted {
            b.plant("soc2-vuln-002", &id);
        }
    }

    // Changes.
    let deployed = now - days(20);
    for (rule, pairs) in [
        (Some("soc2-chg-001"), vec![("approvals", json!(0))]),
        (
            Some("soc2-chg-001"),
            vec![("approvals", json!(1)), ("self_approved", json!(true))],
        ),
        (Some("soc2-chg-002"), vec![("tests_passed", json!(false))]),
        (
            Some("soc2-chg-002"),
            vec![("tests_passed", json!(false)), ("approvals", json!(2))],
        ),
    ] {
        let r = with(change(b, deployed), &pairs);
        let id = b.add("chg", r);
        if let Some(rule) = rule {
            b.plant(rule, &id);
        }
    }
    // Emergency changes: one business day after deployment, weekends skipped.
    let thu = at(2025, 2, 27, 11, 0, 0);
    let fri = at(2025, 2, 21, 16, 0, 0);
    let mon = at(2025, 2, 24, 16, 0, 0);
    let sat = at(2025, 2, 15, 10, 0, 0);
    let sat_mon = at(2025, 2, 17, 10, 0, 0);
    for (deployed, approved, planted) in [
        (thu, None, true),
        (fri, Some(mon + secs(1)), true),
        (sat, Some(sat_mon + secs(1)), true),
        (fri, Some(mon), false),
        (sat, Some(sat_mon), false),
        (at(2025, 2, 28, 12, 0, 0), None, false),
    ] {
        let r = emergency(b, deployed, approved);
        let id = b.add("chg", r);
        if planted {
            b.plant("soc2-chg-003", &id);
        }
    }

    // Vulnerabilities: (severity, discovered, remediated, planted).
    let found = at(2025, 1, 5, 0, 0, 0);
    for (severity, discovered, remediated, planted) in [
        ("critical", found, Some(found + days(30) + secs(1)), true),
        ("critical", now - days(30) - secs(1), None, true),
        ("critical", found, Some(found + days(30)), false),
        ("critical", now - days(30), None, false),
        ("high", at(2024, 10, 1, 9, 0, 0), None, false),
    ] {
        let mut r = obj(json!({
            "vulnerability_id": "CVE-2025-P",
            "cvss_severity": severity,
            "discovered_at": ts(discovered),
        }));
        if let Some(t) = remediated {
            r.insert("remediated_at".into(), ts(t));
        }
        let id = b.add("vuln", r);
        if planted {
            b.plant("soc2-vuln-001", &id);
        }
    }

    // Alerts.
    let raised = at(2025, 2, 10, 3, 0, 0);
    for (severity, raised, triaged, planted) in [
        ("high", raised, Some(raised + hours(24) + secs(1)), true),
        ("critical", now - hours(24) - secs(1), None, true),
        ("high", raised, Some(raised + hours(24)), false),
        ("critical", now - hours(24), None, false),
        ("medium", at(2024, 12, 2, 9, 0, 0), None, false),
    ] {
        let mut r = obj(json!({
            "alert_id": "ALR-P",
            "alert_severity": severity,
            "raised_at": ts(raised),
        }));
        if let Some(t) = triaged {
            r.insert("triaged_at".into(), ts(t));
        }
        let id = b.add("alert", r);
        if planted {
            b.plant("soc2-log-003", &id);
        }
    }

    // Downtime: (service, [(time, minutes)], first planted index).
    type Outages<'a> = (&'a str, Vec<(DateTime<Utc>, f64)>, Option<usize>);
    let cases: Vec<Outages> = vec![
        (
            "svc-p01",
            vec![
                (at(2025, 2, 10, 4, 0, 0), 40.0),
                (at(2025, 2, 25, 4, 0, 0), 3.3),
            ],
            Some(1),
        ),
        (
            "svc-p02",
            vec![
                (at(2025, 1, 5, 2, 0, 0), 20.0),
                (at(2025, 1, 6, 2, 0, 0), 20.0),
                (at(2025, 1, 7, 2, 0, 0), 5.0),
                (at(2025, 1, 31, 23, 59, 59), 0.5),
            ],
            Some(2),
        ),
        // Across a month boundary: two months.
        (
            "svc-p03",
            vec![
                (at(2025, 1, 31, 23, 59, 59), 40.0),
                (at(2025, 2, 1, 0, 0, 0), 40.0),
            ],
            None,
        ),
        // Exactly 43.2 minutes.
        (
            "svc-p04",
            vec![
                (at(2025, 2, 3, 1, 0, 0), 30.0),
                (at(2025, 2, 20, 1, 0, 0), 13.2),
            ],
            None,
        ),
        // March has begun: February's minutes do not count.
        (
            "svc-p05",
            vec![
                (at(2025, 2, 27, 1, 0, 0), 40.0),
                (at(2025, 3, 1, 6, 0, 0), 40.0),
            ],
            None,
        ),
    ];
    for (service, events, planted_from) in cases {
        for (k, (t, minutes)) in events.into_iter().enumerate() {
            let r = obj(
                json!({"timestamp": ts(t), "service_id": service, "downtime_minutes": minutes}),
            );
            let id = b.add("downtime", r);
            if planted_from.is_some_and(|from| k >= from) {
                b.plant("soc2-avl-003", &id);
            }
        }
    }
}
