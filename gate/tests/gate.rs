//! The gate binary end to end against the real local server (the test harness's `spawn_app`:
//! the local server's router over a fresh embedded store, on a loopback port): exit 0 on a
//! score at the bar, 1 below it or with a newly failing control, 2 on every kind of error.

use std::path::PathBuf;
use std::process::{Command, Output};

use compliance_domain::plans::Role;
use serde_json::{json, Value};
use test_support::{spawn_app, TestApp};

const NO_SECRETS: &str = "gitleaks/gitleaks-8_edd-core_noresults.sarif";
const THREE_SECRETS: &str = "gitleaks/gitleaks-8_provenancepass_3results.sarif";
const SEMGREP: &str = "semgrep/semgrep_dataflow_traces.sarif";

fn sample(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/sarif-samples")
        .join(path);
    assert!(full.exists(), "{}", full.display());
    full.to_string_lossy().into_owned()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the gate's output when it differs.
    fn expect(&self, code: i32) {
        assert_eq!(self.code, code, "{}{}", self.stdout, self.stderr);
    }
}

/// Runs the built binary with the app's URL and key (overridable by `env`), off the runtime's
/// threads so the server keeps serving.
async fn gate_with(app: &TestApp, args: &[&str], env: &[(&str, Option<&str>)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_compliance-gate"));
    cmd.args(args)
        .env("COMPLIANCE_API_URL", &app.base)
        .env("COMPLIANCE_API_KEY", &app.admin_key)
        .env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out: Output = tokio::task::spawn_blocking(move || cmd.output().expect("run the gate"))
        .await
        .unwrap();
    Run {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// `--repo <repo> --sarif <reports…> --min-score <min>`, then `extra`.
fn upload<'a>(repo: &'a str, reports: &[&'a str], min: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--repo", repo, "--sarif"];
    v.extend_from_slice(reports);
    v.extend_from_slice(&["--min-score", min]);
    v.extend_from_slice(extra);
    v
}

async fn gate(app: &TestApp, args: &[&str]) -> Run {
    gate_with(app, args, &[]).await
}

async fn new_repo(app: &TestApp, name: &str) -> u64 {
    let resp = app.post("/api/repos", json!({ "name": name })).await;
    assert_eq!(resp.status.as_u16(), 201, "{}", resp.body);
    resp.body["repo_id"].as_u64().unwrap()
}

async fn score(app: &TestApp, repo: u64) -> Value {
    let resp = app.get(&format!("/api/compliance/score/{repo}")).await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.body);
    resp.body
}

async fn scan_count(app: &TestApp, repo: u64) -> usize {
    let resp = app.get(&format!("/api/repos/{repo}/scans")).await;
    resp.body["scans"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_at_the_bar_and_fails_below_it() {
    let app = spawn_app().await;
    let id = new_repo(&app, "acme/web-app").await;
    let dir = tempfile::tempdir().unwrap();
    let step_summary = dir.path().join("summary.md");
    let summary_env = step_summary.to_string_lossy().into_owned();
    let no_secrets = sample(NO_SECRETS);

    // By name (any case), at a bar of 0: the upload is stored and scored.
    let run = gate_with(
        &app,
        &upload("ACME/Web-App", &[&no_secrets], "0", &[]),
        &[("GITHUB_STEP_SUMMARY", Some(&summary_env))],
    )
    .await;
    run.expect(0);
    assert_eq!(scan_count(&app, id).await, 1);
    let s = score(&app, id).await;
    let overall = s["executive_summary"]["overall_score"].as_u64().unwrap();
    assert!(overall < 100, "only secrets are covered: {overall}");
    assert!(
        run.stdout.contains(&format!("overall score {overall} (")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("PASS"), "{}", run.stdout);
    let markdown = std::fs::read_to_string(&step_summary).unwrap();
    assert!(markdown.contains("✅"), "{markdown}");
    assert!(
        markdown.contains("| framework | score | pass | partial | fail | no evidence |"),
        "{markdown}"
    );
    assert!(markdown.contains("| soc2 (SOC 2 Type II) |"), "{markdown}");

    // Exactly at the bar passes; one above fails with 1 (by id this time).
    let id_text = id.to_string();
    let at = overall.to_string();
    let above = (overall + 1).to_string();
    gate(&app, &upload(&id_text, &[&no_secrets], &at, &[]))
        .await
        .expect(0);
    let run = gate_with(
        &app,
        &upload(&id_text, &[&no_secrets], &above, &[]),
        &[("GITHUB_STEP_SUMMARY", Some(&summary_env))],
    )
    .await;
    run.expect(1);
    assert!(
        run.stdout
            .contains(&format!("FAIL: overall score {overall} is below {above}")),
        "{}",
        run.stdout
    );
    assert!(std::fs::read_to_string(&step_summary)
        .unwrap()
        .contains("❌"));

    // One framework's score instead of the overall one.
    let soc2 = s["frameworks"]["soc2"]["score"].as_u64().unwrap();
    let (soc2_at, soc2_above) = (soc2.to_string(), (soc2 + 1).to_string());
    let soc2_only = ["--framework", "soc2"];
    gate(
        &app,
        &upload(&id_text, &[&no_secrets], &soc2_at, &soc2_only),
    )
    .await
    .expect(0);
    let run = gate(
        &app,
        &upload(&id_text, &[&no_secrets], &soc2_above, &soc2_only),
    )
    .await;
    run.expect(1);
    assert!(
        run.stdout.contains("framework soc2 score"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_reports_make_one_scan_and_new_failures_fail() {
    let app = spawn_app().await;
    let id = new_repo(&app, "payments").await;
    let (no_secrets, three, semgrep) = (sample(NO_SECRETS), sample(THREE_SECRETS), sample(SEMGREP));

    // Two tools' reports: one scan with both tools' runs.
    let strict = ["--no-new-failures"];
    gate(
        &app,
        &upload("payments", &[&no_secrets, &semgrep], "0", &strict),
    )
    .await
    .expect(0);
    let scans = app.get(&format!("/api/repos/{id}/scans")).await.body;
    assert_eq!(scans["scans"].as_array().unwrap().len(), 1);
    let tools: Vec<&str> = scans["scans"][0]["summary"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tool"].as_str().unwrap())
        .collect();
    assert_eq!(tools.len(), 2, "{tools:?}");

    let before = score(&app, id).await;
    // Leaked secrets now: controls that passed fail, whatever the bar.
    let run = gate(&app, &upload("payments", &[&three, &semgrep], "0", &strict)).await;
    run.expect(1);
    assert!(
        run.stdout
            .contains("Newly failing since the previous scan:"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("pass -> fail"), "{}", run.stdout);
    // Each reported control really was passing and now fails.
    let after = score(&app, id).await;
    let status = |s: &Value, fw: &str, control: &str| -> String {
        s["frameworks"][fw]["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == control)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    let regressions: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("  ") && l.ends_with("pass -> fail"))
        .collect();
    assert!(!regressions.is_empty());
    for line in regressions {
        let mut parts = line.split_whitespace();
        let (fw, control) = (parts.next().unwrap(), parts.next().unwrap());
        assert_eq!(status(&before, fw, control), "pass", "{line}");
        assert_eq!(status(&after, fw, control), "fail", "{line}");
    }

    // The same change without --no-new-failures passes a bar of 0.
    let other = new_repo(&app, "payments-2").await;
    let other_text = other.to_string();
    for file in [&no_secrets, &three] {
        gate(&app, &upload(&other_text, &[file], "0", &[]))
            .await
            .expect(0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_exits_2() {
    let app = spawn_app().await;
    let id = new_repo(&app, "svc").await;
    let id_text = id.to_string();
    let no_secrets = sample(NO_SECRETS);
    let ok = ["--sarif", no_secrets.as_str(), "--min-score", "0"];
    let with = |extra: &[&'static str]| -> Vec<String> {
        extra
            .iter()
            .map(|s| s.to_string())
            .chain(ok.iter().map(|s| s.to_string()))
            .collect()
    };
    let expect_2 = |run: Run, needle: &str| {
        assert_eq!(run.code, 2, "{needle}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.to_lowercase().contains(&needle.to_lowercase()),
            "{needle}: {}",
            run.stderr
        );
    };

    // Unknown repository, by name and by id.
    let v = with(&["--repo", "nope"]);
    expect_2(gate(&app, &args(&v)).await, "unknown repository 'nope'");
    let v = with(&["--repo", "424242"]);
    expect_2(gate(&app, &args(&v)).await, "unknown repository id 424242");

    let v = with(&["--repo", "svc"]);
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    for (env, needle) in [
        // A refused key.
        (
            ("COMPLIANCE_API_KEY", Some("csk_not_a_real_key")),
            "HTTP 401",
        ),
        // A viewer key cannot upload: an error, never a pass.
        (("COMPLIANCE_API_KEY", Some(viewer.as_str())), "HTTP 403"),
        // API unreachable (nothing listens on port 1).
        (
            ("COMPLIANCE_API_URL", Some("http://127.0.0.1:1")),
            "unreachable",
        ),
        (
            ("COMPLIANCE_API_URL", Some("ftp://x")),
            "must be an http(s) URL",
        ),
    ] {
        expect_2(gate_with(&app, &args(&v), &[env]).await, needle);
    }
    // Not configured.
    let run = gate_with(&app, &args(&v), &[("COMPLIANCE_API_URL", None)]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--api-url"), "{}", run.stderr);

    // An API that accepts connections and never answers: the overall timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming() {
            held.push(conn);
        }
    });
    let mut t = v.clone();
    t.extend(["--timeout".to_string(), "2".to_string()]);
    let run = gate_with(
        &app,
        &args(&t),
        &[("COMPLIANCE_API_URL", Some(&silent_url))],
    )
    .await;
    expect_2(run, "timed out after 2s");

    // An unknown framework, and one the org has not enabled.
    let mut f = v.clone();
    f.extend(["--framework".to_string(), "iso9001".to_string()]);
    expect_2(gate(&app, &args(&f)).await, "Unknown framework: iso9001");
    let resp = app
        .put(
            "/api/compliance/frameworks/enabled",
            json!({"keys": ["soc2"]}),
        )
        .await;
    assert_eq!(resp.status.as_u16(), 200);
    let mut f = v.clone();
    f.extend(["--framework".to_string(), "owasp".to_string()]);
    expect_2(gate(&app, &args(&f)).await, "not enabled");

    // Reports: missing, not SARIF.
    let run = gate(
        &app,
        &upload("svc", &["/nonexistent/report.sarif"], "0", &[]),
    )
    .await;
    expect_2(run, "cannot read /nonexistent/report.sarif");
    let not_sarif = sample("invalid/sdk_Invalid_not_sarif.sarif");
    let run = gate(&app, &upload(&id_text, &[&not_sarif], "0", &[])).await;
    expect_2(run, "HTTP 400");
    let run = gate(
        &app,
        &upload(&id_text, &[&no_secrets, &not_sarif], "0", &[]),
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);

    // Bad arguments: clap's usage errors exit 2 too.
    for bad in [
        vec!["--repo", "svc", "--sarif", no_secrets.as_str()],
        vec!["--repo", "svc", "--min-score", "50"],
        upload("svc", &[&no_secrets], "101", &[]),
        upload("svc", &[&no_secrets], "-1", &[]),
        vec!["--sarif", no_secrets.as_str(), "--min-score", "50"],
        upload("svc", &[&no_secrets], "5", &["--bogus"]),
    ] {
        let run = gate(&app, &bad).await;
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
    }

    // None of the failed runs stored a scan: they fail before or at the upload.
    assert_eq!(scan_count(&app, id).await, 0);

    // The error reaches the job summary too.
    let dir = tempfile::tempdir().unwrap();
    let step_summary = dir.path().join("summary.md");
    let v = with(&["--repo", "nope"]);
    let run = gate_with(
        &app,
        &args(&v),
        &[(
            "GITHUB_STEP_SUMMARY",
            Some(step_summary.to_string_lossy().as_ref()),
        )],
    )
    .await;
    assert_eq!(run.code, 2);
    let markdown = std::fs::read_to_string(&step_summary).unwrap();
    assert!(markdown.contains("Compliance gate: error"), "{markdown}");
}
