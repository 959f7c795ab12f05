//! Tests of the native scan document ([`parse_native`]) and standalone [`parse_signals`].

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::{parse_native, parse_signals, PullRequestStats, QualityGate};
use crate::catalog::CheckType;
use crate::ingest::model::Location;
use crate::ingest::test_support::{sample, NATIVE_EXAMPLE};

use CheckType::{CodeQuality, SastAuth, SastCrypto, SastSecurity, ScaVulns, Secrets};

#[test]
fn native_example_parses() {
    let n = parse_native(NATIVE_EXAMPLE).unwrap();
    assert_eq!(n.started_at.to_rfc3339(), "2024-05-01T12:00:00+00:00");
    assert_eq!(n.finished_at.to_rfc3339(), "2024-05-01T12:04:30+00:00");
    let run = &n.scan.tools[0];
    assert_eq!(
        (run.tool.as_str(), run.version.as_deref()),
        ("acme-ci-scanner", Some("3.2.0"))
    );
    // The code_quality finding adds its check type to `covered`.
    assert_eq!(
        run.covered,
        BTreeSet::from([
            Secrets,
            SastSecurity,
            SastCrypto,
            SastAuth,
            ScaVulns,
            CodeQuality
        ])
    );
    assert_eq!(run.results_counted, 3);
    let f = &n.scan.findings;
    assert_eq!(f[0].cwe, vec![327, 328]);
    assert_eq!(f[0].fingerprint, "acme:weak-hash-md5:src/auth/hash.py:9f2c");
    assert_eq!(
        f[1].location,
        Some(Location {
            uri: "pom.xml".into(),
            start_line: None
        })
    );
    assert_eq!(f[1].fingerprint.len(), 32);
    assert_eq!(f[2].message, "unused-import");
    assert_eq!(n.signals.quality_gate, Some(QualityGate::Passed));
    assert_eq!(n.signals.languages, vec!["java", "python"]);
    assert_eq!(n.signals.files, vec!["Dockerfile", "infra/main.tf"]);
    assert_eq!(
        n.signals.pull_requests,
        Some(PullRequestStats {
            merged: 40,
            reviewed: 38,
            approvals_median: Some(1.0)
        })
    );
}

fn native_rejects(doc: Value, path: &str, message: &str) {
    let err = parse_native(&serde_json::to_vec(&doc).unwrap()).expect_err(message);
    assert_eq!(err.path, path, "{err}");
    assert!(err.message.contains(message), "{err}");
}

#[test]
fn native_validation_is_strict_with_paths() {
    let base: Value = serde_json::from_slice(NATIVE_EXAMPLE).unwrap();
    let with = |ptr: &str, v: Value| {
        let mut d = base.clone();
        *d.pointer_mut(ptr).unwrap() = v;
        d
    };
    let mut extra = base.clone();
    extra["repo"] = json!("x");
    native_rejects(extra, "repo", "unknown field `repo`");
    let mut extra = base.clone();
    extra["findings"][1]["path"] = json!("x");
    native_rejects(extra, "findings[1].path", "unknown field `path`");
    let mut extra = base.clone();
    extra["signals"]["pull_requests"]["open"] = json!(1);
    native_rejects(extra, "signals.pull_requests.open", "unknown field `open`");
    let mut missing = base.clone();
    missing.as_object_mut().unwrap().remove("covered");
    native_rejects(missing, "", "missing field `covered`");
    native_rejects(
        with("/findings/0/severity", json!("severe")),
        "findings[0].severity",
        "unknown variant `severe`",
    );
    native_rejects(
        with("/findings/0/check_type", json!("sast")),
        "findings[0].check_type",
        "unknown variant `sast`",
    );
    native_rejects(
        with("/findings/0/check_type", json!("pr_reviews")),
        "findings[0].check_type",
        "judged on signals",
    );
    native_rejects(
        with("/covered/1", json!("quality_gates")),
        "covered[1]",
        "judged on signals",
    );
    native_rejects(
        with("/findings/0/line", json!(0)),
        "findings[0].line",
        "numbered from 1",
    );
    native_rejects(
        with("/findings/0/line", json!(-3)),
        "findings[0].line",
        "invalid value",
    );
    native_rejects(
        with("/findings/0/cwe/0", json!(0)),
        "findings[0].cwe[0]",
        "CWE id",
    );
    native_rejects(
        with("/findings/0/rule_id", json!(" ")),
        "findings[0].rule_id",
        "must not be empty",
    );
    native_rejects(with("/tool", json!("")), "tool", "must not be empty");
    native_rejects(
        with("/started_at", json!("yesterday")),
        "started_at",
        "not an RFC 3339 timestamp",
    );
    native_rejects(
        with("/finished_at", json!("2024-05-01T11:00:00Z")),
        "finished_at",
        "earlier than started_at",
    );
    native_rejects(
        with("/signals/quality_gate", json!("green")),
        "signals.quality_gate",
        "unknown variant `green`",
    );
    native_rejects(
        with("/signals/pull_requests/reviewed", json!(41)),
        "signals.pull_requests.reviewed",
        "cannot exceed merged",
    );
    native_rejects(
        with("/signals/languages/0", json!("")),
        "signals.languages[0]",
        "must not be empty",
    );
    native_rejects(
        with("/signals/files", json!(vec!["f"; 101])),
        "signals.files",
        "at most 100",
    );
    native_rejects(
        with("/signals/files/0", json!("x".repeat(300))),
        "signals.files[0]",
        "longer than 200 bytes",
    );
    assert!(parse_native(b"")
        .unwrap_err()
        .message
        .contains("empty document"));
    assert!(parse_native(b"{")
        .unwrap_err()
        .message
        .contains("not valid JSON"));
    assert!(parse_native(b"[]")
        .unwrap_err()
        .message
        .contains("must be a JSON object"));
    // The bandit native JSON is not our native format either.
    let err = parse_native(&sample("bandit/bandit-1.8.6_open-hostfactory.json")).unwrap_err();
    assert!(err.message.contains("unknown field"), "{err}");
}

#[test]
fn native_minimal_document() {
    let n = parse_native(
        br#"{"tool":"gitleaks","started_at":"2024-01-01T00:00:00Z","finished_at":"2024-01-01T00:00:00Z","covered":["secrets"]}"#,
    )
    .unwrap();
    assert_eq!(n.scan.findings.len(), 0);
    assert_eq!(n.scan.covered(), BTreeSet::from([Secrets]));
    assert!(n.signals.is_empty());
}

#[test]
fn standalone_signals() {
    let s =
        parse_signals(br#"{"quality_gate":"failed","languages":[" Rust ","rust","Go"]}"#).unwrap();
    assert_eq!(s.quality_gate, Some(QualityGate::Failed));
    assert_eq!(s.languages, vec!["go", "rust"]);
    let err = parse_signals(br#"{"quality_gate":"failed","coverage":80}"#).unwrap_err();
    assert!(err.message.contains("unknown field `coverage`"), "{err}");
    let err = parse_signals(br#"{"pull_requests":{"merged":1,"reviewed":2}}"#).unwrap_err();
    assert_eq!(err.path, "pull_requests.reviewed");
    let err =
        parse_signals(br#"{"pull_requests":{"merged":1,"reviewed":1,"approvals_median":-1}}"#)
            .unwrap_err();
    assert_eq!(err.path, "pull_requests.approvals_median");
}
