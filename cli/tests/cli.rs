//! The operator CLI end to end, as an operator runs it: on the embedded store, and against
//! DynamoDB Local (a table it creates itself).

use std::process::Command;

use serde_json::Value;

fn cli(envs: &[(&str, &str)], args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_compliance-cli"))
        .args(args)
        .envs(envs.iter().copied())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run compliance-cli");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "compliance-cli {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or(Value::String(stdout.trim().to_string()))
}

fn life_cycle(envs: &[(&str, &str)]) {
    let created = cli(
        envs,
        &[
            "create-org",
            "--name",
            "Acme",
            "--plan",
            "team",
            "--owner-key",
        ],
    );
    let org = created["org"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["org"]["plan"], "team");
    assert!(created["owner_key"]["key"]
        .as_str()
        .unwrap()
        .starts_with("csk_"));

    let upgraded = cli(envs, &["set-plan", "--org", &org, "--plan", "enterprise"]);
    assert_eq!(upgraded["org"]["plan"], "enterprise");
    let key = cli(
        envs,
        &[
            "create-key",
            "--org",
            &org,
            "--name",
            "ci",
            "--role",
            "member",
        ],
    );
    let key_id = key["id"].as_str().unwrap().to_string();
    let listed = cli(envs, &["list-keys", "--org", &org]);
    assert_eq!(listed["api_keys"].as_array().unwrap().len(), 2);
    assert!(!listed.to_string().contains(key["key"].as_str().unwrap()));
    let revoked = cli(envs, &["revoke-key", "--org", &org, "--key-id", &key_id]);
    assert!(revoked["revoked"]["revoked_at"].is_string());
}

#[test]
fn embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let envs = [
        ("COMPLIANCE_STORE", "embedded"),
        ("COMPLIANCE_DATA_DIR", data),
    ];
    life_cycle(&envs);
    // A development token, signed with the configured secret.
    let token = cli(
        &[
            ("JWT_HS256_SECRET", "dev-secret"),
            ("COMPLIANCE_DATA_DIR", data),
        ],
        &[
            "mint-jwt", "--org", "org-1", "--sub", "alice", "--role", "admin",
        ],
    );
    let token = token.as_str().unwrap();
    let claims = token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (claims["org_id"].as_str(), claims["role"].as_str()),
        (Some("org-1"), Some("admin"))
    );
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
}

#[test]
fn dynamodb_local() {
    let endpoint = std::env::var("DYNAMODB_ENDPOINT")
        .expect("DYNAMODB_ENDPOINT is not set: run the suite with scripts/test.sh");
    let table = format!("cli-{}", std::process::id());
    let envs = [
        ("COMPLIANCE_STORE", "dynamodb"),
        ("COMPLIANCE_TABLE", table.as_str()),
        ("DYNAMODB_ENDPOINT", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let created = cli(&envs, &["create-table"]);
    assert_eq!(created, Value::String(format!("created table {table}")));
    life_cycle(&envs);
}
