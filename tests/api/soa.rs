//! The Statement of Applicability over HTTP, on both adapters: every control with its
//! applicability, the org's justifications (set beside `disabled`, validated, audited, kept by
//! the reference's body), the implementation across the org's repositories, JSON and CSV (RFC
//! 4180 escaping, formula cells neutralised), roles and tenancy.

use compliance_domain::plans::{Plan, Role};
use reqwest::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use test_support::{spawn_app, spawn_app_on, Backend, TestApp};

const CONTROLS: &str = "/api/compliance/frameworks/soc2/controls";
const SOA: &str = "/api/compliance/frameworks/soc2/soa";

/// A native scan that covered `secrets`, with these findings, `minutes` ago.
fn secrets_scan(findings: Value, minutes: i64) -> Vec<u8> {
    let finished = chrono::Utc::now() - chrono::Duration::minutes(minutes);
    serde_json::to_vec(&json!({
        "tool": "gitleaks",
        "started_at": (finished - chrono::Duration::minutes(1)).to_rfc3339(),
        "finished_at": finished.to_rfc3339(),
        "covered": ["secrets"],
        "findings": findings,
    }))
    .unwrap()
}

async fn repo_with_scan(app: &TestApp, name: &str, scan: Option<Vec<u8>>) -> u64 {
    let repo = app.post("/api/repos", json!({"name": name})).await;
    assert_eq!(repo.status, StatusCode::CREATED, "{:?}", repo.body);
    let id = repo.body["repo_id"].as_u64().unwrap();
    if let Some(body) = scan {
        let resp = app
            .send(
                app.request(Method::POST, &format!("/api/repos/{id}/scans"))
                    .header("X-API-Key", &app.admin_key)
                    .header("Content-Type", "application/json")
                    .body(body),
            )
            .await;
        assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    }
    id
}

fn control<'a>(soa: &'a Value, id: &str) -> &'a Value {
    soa["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {soa}"))
}

/// The CSV answer (checked against the document like every answer): status, content type,
/// disposition and body (JSON text when the answer is JSON).
async fn csv(
    app: &TestApp,
    path: &str,
    key: &str,
    accept: &str,
) -> (StatusCode, String, String, String) {
    let resp = app
        .send(
            app.request(Method::GET, path)
                .header("X-API-Key", key)
                .header(ACCEPT, accept),
        )
        .await;
    let header = |name| {
        resp.headers
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (content_type, disposition) = (header(CONTENT_TYPE), header(CONTENT_DISPOSITION));
    let body = match resp.body {
        Value::String(text) => text,
        json => json.to_string(),
    };
    (resp.status, content_type, disposition, body)
}

/// A minimal RFC 4180 reader: rows of cells (quoted cells may hold commas, quotes, line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

async fn statement_of_applicability(backend: Backend) {
    let app = spawn_app_on(backend).await;
    let tricky = "=HYPERLINK(\"http://evil.test\",\"click\"), then \"quotes\"";
    let put = app
        .put(
            CONTROLS,
            json!({"disabled": ["CC8.1"], "justifications": {
                "CC8.1": "No physical premises",
                "CC6.1": tricky,
            }}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    assert_eq!(put.body["disabled"], json!(["CC8.1"]));
    assert_eq!(
        put.body["justifications"],
        json!({"CC8.1": "No physical premises", "CC6.1": tricky})
    );

    // Three repositories: clean, one secret, never scanned.
    repo_with_scan(&app, "clean", Some(secrets_scan(json!([]), 30))).await;
    repo_with_scan(
        &app,
        "leaky",
        Some(secrets_scan(
            json!([{"check_type": "secrets", "severity": "high", "rule_id": "aws-key", "message": "key"}]),
            10,
        )),
    )
    .await;
    repo_with_scan(&app, "unscanned", None).await;

    let soa = app.get(SOA).await;
    assert_eq!(soa.status, StatusCode::OK, "{:?}", soa.body);
    let soa = soa.body;
    assert_eq!(soa["framework_key"], "soc2");
    assert_eq!(soa["enabled"], true);
    assert_eq!(soa["repositories"], 3);
    let total = soa["controls"].as_array().unwrap().len();
    assert_eq!(total, 16, "every control of the framework");
    assert_eq!(soa["applicable"], 15);
    assert_eq!(soa["not_applicable"], 1);
    let excluded = control(&soa, "CC8.1");
    assert_eq!(excluded["applicable"], false);
    assert_eq!(excluded["justification"], "No physical premises");
    assert_eq!(excluded["implementation"], Value::Null);
    // CC6.1 (secrets): clean passes, one secret is partial, the unscanned has no evidence.
    let secrets = control(&soa, "CC6.1");
    assert_eq!(secrets["applicable"], true);
    assert_eq!(secrets["justification"], tricky);
    let imp = &secrets["implementation"];
    assert_eq!(
        (
            &imp["pass"],
            &imp["partial"],
            &imp["fail"],
            &imp["no_evidence"]
        ),
        (&json!(1), &json!(1), &json!(0), &json!(1)),
        "{imp}"
    );
    let latest = imp["latest_evidence_at"].as_str().unwrap();
    let latest = chrono::DateTime::parse_from_rfc3339(latest).unwrap();
    let age = chrono::Utc::now() - latest.with_timezone(&chrono::Utc);
    assert!(
        age > chrono::Duration::minutes(9) && age < chrono::Duration::minutes(12),
        "the newer scan's time: {age}"
    );
    // Every applicable control accounts for every repository.
    for c in soa["controls"].as_array().unwrap() {
        if c["applicable"] == true {
            let i = &c["implementation"];
            let sum: u64 = ["pass", "partial", "fail", "no_evidence"]
                .iter()
                .map(|k| i[k].as_u64().unwrap())
                .sum();
            assert_eq!(sum, 3, "{c}");
        }
    }

    // The same as CSV: one row per control, escaped, formulas neutralised.
    let (status, content_type, disposition, body) =
        csv(&app, SOA, &app.admin_key, "text/csv").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/csv; charset=utf-8");
    assert_eq!(disposition, "attachment; filename=\"soa-soc2.csv\"");
    assert!(body.ends_with("\r\n"));
    let rows = parse_csv(&body);
    assert_eq!(rows.len(), 1 + total);
    assert_eq!(
        rows[0],
        [
            "framework_key",
            "control_id",
            "name",
            "category",
            "check_type",
            "applicable",
            "justification",
            "pass",
            "partial",
            "fail",
            "no_evidence",
            "repositories",
            "latest_evidence_at",
            "excepted_findings",
            "exceptions_expire_at",
            "passed_by_attestation",
            "attestation_owner",
            "attestation_state",
            "attestation_due_at"
        ]
    );
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{rows:?}");
    let row = |id: &str| rows.iter().find(|r| r[1] == id).unwrap().clone();
    let cc81 = row("CC8.1");
    assert_eq!(&cc81[5..8], ["no", "No physical premises", ""]);
    let cc61 = row("CC6.1");
    assert_eq!(cc61[5], "yes");
    assert_eq!(
        cc61[6],
        format!("'{tricky}"),
        "a formula never starts a cell"
    );
    assert_eq!(&cc61[7..12], ["1", "1", "0", "1", "3"]);
    assert!(
        body.contains(
            "\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"click\"\"), then \"\"quotes\"\"\""
        ),
        "RFC 4180 quoting: {body}"
    );
    // JSON unless CSV ranks higher.
    let (status, content_type, _, body) = csv(
        &app,
        SOA,
        &app.admin_key,
        "application/json, text/csv;q=0.5",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["framework_key"],
        "soc2"
    );
    let (_, content_type, _, _) = csv(&app, SOA, &app.admin_key, "text/html, text/csv").await;
    assert_eq!(content_type, "text/csv; charset=utf-8");

    // Any role reads it, CSV included; only admins set justifications.
    let viewer = app.key_for(&app.org_id, Role::Viewer).await;
    let read = app.call(Method::GET, SOA, Some(&viewer), None).await;
    assert_eq!(read.status, StatusCode::OK);
    let (status, _, _, _) = csv(&app, SOA, &viewer, "text/csv").await;
    assert_eq!(status, StatusCode::OK);
    let member = app.key_for(&app.org_id, Role::Member).await;
    let denied = app
        .call(
            Method::PUT,
            CONTROLS,
            Some(&member),
            Some(json!({"disabled": [], "justifications": {}})),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.body["detail"], "Org admin role required");
    let unauthenticated = app.call(Method::GET, SOA, None, None).await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);

    // Tenancy: another org sees its own statement (its settings, none of these repositories).
    let (_, other) = app.new_org(Plan::Enterprise).await;
    let theirs = app.call(Method::GET, SOA, Some(&other), None).await.body;
    assert_eq!(theirs["repositories"], 0);
    assert_eq!(control(&theirs, "CC8.1")["applicable"], true);
    assert_eq!(control(&theirs, "CC8.1")["justification"], Value::Null);
    assert_eq!(control(&theirs, "CC6.1")["implementation"]["pass"], 0);
    let (status, _, _, body) = csv(&app, SOA, &other, "text/csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("No physical premises"));

    // The reference's body keeps the justifications; `{}` clears them; both are audited.
    let kept = app
        .put(CONTROLS, json!({"disabled": ["CC8.1", "CC2.1"]}))
        .await;
    assert_eq!(kept.status, StatusCode::OK);
    assert_eq!(
        kept.body,
        json!({"message": "Control selection updated", "framework_key": "soc2", "disabled": ["CC8.1", "CC2.1"]}),
        "the reference's body gets the reference's answer"
    );
    let listing = app.get(CONTROLS).await.body;
    let cc81 = listing["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "CC8.1")
        .unwrap();
    assert_eq!(cc81["justification"], "No physical premises");
    let cleared = app
        .put(
            CONTROLS,
            json!({"disabled": ["CC8.1"], "justifications": {}}),
        )
        .await;
    assert_eq!(cleared.body["justifications"], json!({}));
    let after = app.get(SOA).await.body;
    assert_eq!(control(&after, "CC8.1")["justification"], Value::Null);
    assert_eq!(control(&after, "CC2.1")["applicable"], true);
    let log = app
        .get("/api/audit-logs?action=COMPLIANCE_CONTROLS_UPDATED")
        .await
        .body;
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{entries:#?}");
    assert_eq!(entries[0]["metadata"]["after"]["justifications"], json!({}));
    assert_eq!(
        entries[0]["metadata"]["before"]["justifications"]["CC8.1"],
        "No physical premises"
    );
    assert_eq!(
        entries[2]["metadata"]["after"]["justifications"]["CC6.1"],
        tricky
    );
    // Justifications alone, with nothing disabled, are stored too (and read back).
    let alone = app
        .put(
            CONTROLS,
            json!({"disabled": [], "justifications": {"CC6.1": "In scope: we hold customer credentials"}}),
        )
        .await;
    assert_eq!(alone.status, StatusCode::OK);
    let soa = app.get(SOA).await.body;
    assert_eq!(soa["not_applicable"], 0);
    assert_eq!(
        control(&soa, "CC6.1")["justification"],
        "In scope: we hold customer credentials"
    );
}

#[tokio::test]
async fn statement_of_applicability_on_the_embedded_store() {
    statement_of_applicability(Backend::Embedded).await;
}

#[tokio::test]
async fn statement_of_applicability_on_dynamodb() {
    statement_of_applicability(Backend::Dynamo).await;
}

#[tokio::test]
async fn justifications_are_validated() {
    let app = spawn_app().await;
    for (body, expect) in [
        (json!({"CC99.9": "why"}), "Unknown control: CC99.9"),
        (json!({"CC8.1": ""}), "justifications"),
        (json!({"CC8.1": "   "}), "justifications"),
        (json!({"CC8.1": 5}), "justifications"),
        (json!({"CC8.1": "two\nlines"}), "justifications"),
        (json!({"CC8.1": "x".repeat(1001)}), "justifications"),
    ] {
        let resp = app
            .put(
                CONTROLS,
                json!({"disabled": ["CC8.1"], "justifications": body}),
            )
            .await;
        assert_eq!(
            resp.status,
            StatusCode::BAD_REQUEST,
            "{body}: {:?}",
            resp.body
        );
        assert!(
            resp.body["detail"].as_str().unwrap().contains(expect),
            "{body}: {:?}",
            resp.body
        );
        assert_eq!(
            resp.body["errors"][0]["path"][0], "justifications",
            "{:?}",
            resp.body
        );
    }
    let resp = app
        .put(
            CONTROLS,
            json!({"disabled": [], "justifications": ["CC8.1"]}),
        )
        .await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    // Nothing was stored by any of them.
    let soa = app.get(SOA).await.body;
    assert!(soa["controls"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["justification"].is_null() && c["applicable"] == true));
    let log = app
        .get("/api/audit-logs?action=COMPLIANCE_CONTROLS_UPDATED")
        .await
        .body;
    assert_eq!(log["entries"], json!([]));
    // At most 1000 characters is fine.
    let ok = app
        .put(
            CONTROLS,
            json!({"disabled": [], "justifications": {"CC8.1": "x".repeat(1000)}}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    // Unknown frameworks are a 404, unknown query parameters a 400.
    let resp = app.get("/api/compliance/frameworks/nope/soa").await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    assert_eq!(resp.body["detail"], "Unknown framework: nope");
    let resp = app.get(&format!("{SOA}?format=csv")).await;
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn custom_frameworks_have_a_statement_and_drop_removed_controls_justifications() {
    let app = spawn_app().await;
    let framework = |ids: &[&str]| {
        json!({"key": "internal_sec", "name": "Internal Security Policy", "controls": ids.iter().map(|id| json!({
            "id": id, "name": format!("Control {id}"), "check_type": "secrets"
        })).collect::<Vec<_>>()})
    };
    let saved = app
        .post(
            "/api/compliance/custom-frameworks",
            framework(&["IS-1", "IS-2"]),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
    let controls = "/api/compliance/frameworks/internal_sec/controls";
    let put = app
        .put(
            controls,
            json!({"disabled": ["IS-2"], "justifications": {"IS-1": "Core", "IS-2": "Retired"}}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    let soa = app
        .get("/api/compliance/frameworks/internal_sec/soa")
        .await
        .body;
    assert_eq!(soa["custom"], true);
    assert_eq!(control(&soa, "IS-2")["justification"], "Retired");
    // IS-2 leaves the framework: its mark and its justification go with it.
    let saved = app
        .post("/api/compliance/custom-frameworks", framework(&["IS-1"]))
        .await;
    assert_eq!(saved.status, StatusCode::OK);
    let listing = app.get(controls).await.body;
    assert_eq!(listing["disabled_count"], 0);
    let soa = app
        .get("/api/compliance/frameworks/internal_sec/soa")
        .await
        .body;
    assert_eq!(soa["controls"].as_array().unwrap().len(), 1);
    assert_eq!(control(&soa, "IS-1")["justification"], "Core");
    let put = app.put(controls, json!({"disabled": []})).await;
    assert_eq!(put.body.get("justifications"), None);
    let listing = app.get(controls).await.body;
    assert_eq!(listing["controls"][0]["justification"], "Core");
    // Deleting the framework forgets them all.
    let gone = app
        .delete("/api/compliance/custom-frameworks/internal_sec")
        .await;
    assert!(gone.status.is_success());
    let resp = app.get("/api/compliance/frameworks/internal_sec/soa").await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND);
    let saved = app
        .post("/api/compliance/custom-frameworks", framework(&["IS-1"]))
        .await;
    assert_eq!(saved.status, StatusCode::OK);
    let soa = app
        .get("/api/compliance/frameworks/internal_sec/soa")
        .await
        .body;
    assert_eq!(control(&soa, "IS-1")["justification"], Value::Null);
}

/// Reads a CSV body the way a spreadsheet splitting on `,` and one splitting on `;` would (with
/// Python's `csv` module, whose quoting rules are those of the common spreadsheets), and answers
/// the cells read with `,`, after checking that no cell read either way starts, after NFKC and
/// leading blanks and quotes, with a formula character.
fn read_as_spreadsheets(body: &str) -> Vec<Vec<String>> {
    const CHECK: &str = r#"
import csv, io, json, sys, unicodedata
text = sys.stdin.buffer.read().decode("utf-8")
formula = []
for delimiter in (",", ";"):
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        for cell in row:
            # Blanks a spreadsheet may trim; tab and CR are triggers themselves.
            start = unicodedata.normalize("NFKC", cell).lstrip(' "\n\u00a0\u3000')
            if start[:1] in ("=", "+", "-", "@", "\t", "\r"):
                formula.append([delimiter, cell])
if formula:
    sys.exit("formula cells: " + json.dumps(formula, ensure_ascii=False))
json.dump(list(csv.reader(io.StringIO(text, newline=""))), sys.stdout)
"#;
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut python = Command::new("python3")
        .args(["-c", CHECK])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs the spreadsheet check");
    python
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn no_csv_cell_is_a_formula_in_a_comma_or_semicolon_spreadsheet() {
    let app = spawn_app().await;
    // Names and categories as an org admin may write them (newlines are allowed there), each
    // one a formula somewhere: at the start after compatibility normalisation, or after a `;`
    // or a line break, where a spreadsheet splitting on `;` (or on lines, out of step with the
    // quoting) starts a new cell.
    let hostile = [
        "x;=HYPERLINK(\"http://evil\",\"c\")",
        "=1+1",
        "\u{ff1d}1+1",
        "@SUM(A1:A2)",
        "-2+3",
        "+1",
        "a;\"=2",
        "a; \u{ff0b}1",
        "first line\n=1+1",
        "a, -b, \"quoted\"",
    ];
    let controls: Vec<Value> = hostile
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({"id": format!("H-{i}"), "name": name, "category": name, "check_type": "secrets"})
        })
        .collect();
    let saved = app
        .post(
            "/api/compliance/custom-frameworks",
            json!({"key": "hostile", "name": "Hostile names", "controls": controls}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
    let justifications: serde_json::Map<String, Value> = hostile
        .iter()
        .enumerate()
        .filter(|(_, j)| !j.contains('\n'))
        .map(|(i, j)| (format!("H-{i}"), json!(j)))
        .collect();
    let put = app
        .put(
            "/api/compliance/frameworks/hostile/controls",
            json!({"disabled": ["H-1"], "justifications": justifications}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    repo_with_scan(&app, "scanned", Some(secrets_scan(json!([]), 5))).await;

    let (status, _, _, body) = csv(
        &app,
        "/api/compliance/frameworks/hostile/soa",
        &app.admin_key,
        "text/csv",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let rows = read_as_spreadsheets(&body);
    assert_eq!(rows.len(), 1 + hostile.len(), "{rows:?}");
    // Read with `,`, each cell is the text with a `'` before every formula, nothing else changed.
    let neutralised = [
        "x;'=HYPERLINK(\"http://evil\",\"c\")",
        "'=1+1",
        "'\u{ff1d}1+1",
        "'@SUM(A1:A2)",
        "'-2+3",
        "'+1",
        "a;'\"=2",
        "a;' \u{ff0b}1",
        "first line\n'=1+1",
        "a, -b, \"quoted\"",
    ];
    for (i, expected) in neutralised.iter().enumerate() {
        let row = rows
            .iter()
            .find(|r| r[1] == format!("H-{i}"))
            .unwrap_or_else(|| panic!("H-{i} in {rows:?}"));
        assert_eq!(
            (&row[2], &row[3]),
            (&expected.to_string(), &expected.to_string())
        );
        if i != 8 {
            assert_eq!(row[6], *expected);
        }
        // Counts stay numbers a spreadsheet sums (the not-applicable H-1 has none).
        if i == 1 {
            assert_eq!(&row[7..12], ["", "", "", "", ""]);
        } else {
            assert_eq!(&row[7..12], ["1", "0", "0", "0", "1"]);
        }
    }
    let counts = body
        .lines()
        .find(|l| l.contains("H-0"))
        .and_then(|l| l.split(',').rev().nth(7).map(str::to_string));
    assert_eq!(
        counts.as_deref(),
        Some("1"),
        "a count is a bare number: {body}"
    );
}
