//! The reference's CI/CD integration pattern, run as a pipeline would (curl and jq in a shell)
//! against the local server binary: the score gate reads an integer and fails below 70.

use std::process::Command;

const SNIPPET: &str = r#"
SCORE=$(curl -s -H "X-API-Key: $CODESTAX_API_KEY" \
  "$BASE/api/compliance/score/$REPO_ID" \
  | jq '.executive_summary.overall_score')
if [ "$SCORE" -lt 70 ]; then
  echo "Compliance score $SCORE below threshold 70"
  exit 1
fi
"#;

/// The snippet's tools are part of the suite (scripts/test.sh installs them with apt when
/// missing): without them the gate would go untested, so their absence is a failure.
fn require(tool: &str) {
    assert!(
        Command::new(tool).arg("--version").output().is_ok(),
        "{tool} is missing: the reference's CI snippet needs it (scripts/browser-tools.sh, run \
         by scripts/test.sh, installs it with apt)"
    );
}

#[test]
fn the_score_gate_of_the_reference_runs_verbatim() {
    require("curl");
    require("jq");
    let dir = tempfile::tempdir().unwrap();
    let srv = crate::server::start(dir.path());
    let key = srv.admin_key.clone();
    let base = format!("http://127.0.0.1:{}", srv.port);
    let client = reqwest::blocking::Client::new();
    let repo: serde_json::Value = client
        .post(format!("{base}/api/repos"))
        .header("X-API-Key", &key)
        .json(&serde_json::json!({"name": "checkout-service"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let repo_id = repo["repo_id"].to_string();
    // Never scanned: every control lacks evidence, the score is 0, and the gate fails the build.
    let out = Command::new("sh")
        .arg("-c")
        .arg(SNIPPET)
        .env("CODESTAX_API_KEY", &key)
        .env("REPO_ID", &repo_id)
        .env("BASE", &base)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Compliance score 0 below threshold 70"
    );
}
