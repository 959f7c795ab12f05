#!/usr/bin/env python3
"""Every function binary under the Lambda runtime interface, against DynamoDB Local.

cargo lambda's runtime API emulator (`cargo lambda watch --only-lambda-apis`, on loopback) plays
the Lambda service; each function's own binary (what `main.rs` wires) is started with the
environment Lambda would give it and invoked with its `events/` fixtures through
`cargo lambda invoke --data-file`. The responses are checked, and the time from the process's
start to the answer of its first event (cold start: process start, configuration, store client,
first request) is printed per function. EventBridge is a stub on loopback (PutEvents only,
each entry kept and accepted), reached through the SDK's AWS_ENDPOINT_URL_EVENTBRIDGE.

Run by scripts/test.sh (which starts DynamoDB Local and the S3 server, s3s-fs); alone, it
starts its own DynamoDB Local and needs S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY
(scripts/s3-local.sh start).
"""
import http.server
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from local_server import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.path.join(TARGET, "debug")

# (function, fixture, expected HTTP status (or a tuple of the accepted ones) or None for event
# functions)
PLAN = [
    ("admin-api", "health.json", 200),
    ("admin-api", "ready.json", 200),
    ("admin-api", "create-api-key.json", 201),
    ("admin-api", "list-api-keys.json", 200),
    ("admin-api", "revoke-api-key.json", 404),
    ("admin-api", "list-audit-logs.json", 200),
    # A webhook (to an address where nothing answers) through all its routes, its ping's
    # delivery read and redelivered (or refused, an attempt being already scheduled), then
    # deleted: notify, below, finds no webhook to call.
    ("admin-api", "create-webhook.json", 201),
    ("admin-api", "list-webhooks.json", 200),
    ("admin-api", "get-webhook.json", 200),
    ("admin-api", "update-webhook.json", 200),
    ("admin-api", "rotate-webhook-secret.json", 200),
    ("admin-api", "ping-webhook.json", 202),
    ("admin-api", "list-webhook-deliveries.json", 200),
    ("admin-api", "get-webhook-delivery.json", 200),
    ("admin-api", "redeliver-webhook-delivery.json", (202, 409)),
    ("admin-api", "delete-webhook.json", 204),
    ("frameworks-api", "list-frameworks.json", 200),
    ("frameworks-api", "set-enabled-frameworks.json", 200),
    ("frameworks-api", "list-controls.json", 200),
    ("frameworks-api", "set-disabled-controls.json", 200),
    ("custom-frameworks-api", "save-custom-framework.json", 200),
    # A control of the framework just saved, attested with a file (read back), and the org's
    # attestations listed.
    ("frameworks-api", "record-attestation.json", 200),
    ("frameworks-api", "attach-attestation-file.json", 200),
    ("frameworks-api", "get-attestation-file.json", 200),
    ("frameworks-api", "list-attestations.json", 200),
    ("custom-frameworks-api", "list-custom-frameworks.json", 200),
    ("custom-frameworks-api", "delete-custom-framework.json", 200),
    ("scans-api", "create-repo.json", 201),
    ("scans-api", "ingest-sarif.json", 201),
    ("scans-api", "list-scans.json", 200),
    # An exception requested and listed; its requester's own approval refused (four eyes).
    ("scans-api", "request-exception.json", 201),
    ("scans-api", "list-exceptions.json", 200),
    ("scans-api", "approve-exception.json", 403),
    # A report larger than a request: announced (a form signed for the S3 server), posted to the
    # S3 server as a browser posts it, its ObjectCreated event handed to process-upload, then read.
    ("scans-api", "create-upload.json", 201),
    ("process-upload", "object-created.json", None),
    ("scans-api", "get-upload.json", 200),
    ("scores-api", "get-score.json", 200),
    ("scores-api", "get-trend.json", 200),
    ("scores-api", "get-summary.json", 200),
    ("audits-api", "create-audit.json", 201),
    ("audits-api", "list-audits.json", 200),
    ("audits-api", "list-policy-packs.json", 200),
    ("audits-api", "get-policy-pack.json", 200),
    # Runs of the (SOC 2) audit created above: the AML records are not evaluable for its rules.
    ("audits-api", "run-audit.json", 201),
    ("audits-api", "run-audit-csv-gzip.json", 201),
    ("audits-api", "list-audit-runs.json", 200),
    ("audits-api", "list-alerts.json", 200),
    ("audits-api", "set-reviewers.json", 200),
    # aml-ctr-001 is not a rule of that audit's policy.
    ("audits-api", "tune-rule.json", 404),
    ("audits-api", "evaluate-pack.json", 200),
    ("dashboard", "get-index.json", 200),
    ("dashboard", "get-asset.json", 200),
    ("dashboard", "get-missing-asset.json", 404),
    ("rescore", "scan-inserted.json", None),
    # The same stream record: its scan.ingested event on the bus (the stub); then the minute's
    # schedule (due retries and reminders).
    ("notify", "scan-inserted.json", None),
    ("notify", "scheduled.json", None),
    ("audit-log-export", "audit-entries.json", None),
    ("trend-snapshot", "scheduled.json", None),
]


class EventBridgeStub:
    """EventBridge's PutEvents (AWS JSON 1.1, what the SDK posts): every entry kept, each one
    accepted."""

    def __init__(self):
        self.entries = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("x-amz-target") != "AWSEvents.PutEvents":
                    return self.answer(400, {"__type": "UnknownOperationException"})
                entries = json.loads(body or b"{}").get("Entries", [])
                stub.entries.extend(entries)
                self.answer(200, {"FailedEntryCount": 0,
                                  "Entries": [{"EventId": str(uuid.uuid4())} for _ in entries]})

            def answer(self, status, doc):
                data = json.dumps(doc).encode("utf-8")
                self.send_response(status)
                self.send_header("content-type", "application/x-amz-json-1.1")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def scan_ingested_on_the_bus(entries, bus, org_id):
    """The failures, if any, of the scan.ingested event of events/notify/scan-inserted.json."""
    found = [e for e in entries if e.get("DetailType") == "scan.ingested"]
    if not found:
        return [f"notify: no scan.ingested event put on the bus: {entries}"]
    entry = found[0]
    detail = json.loads(entry.get("Detail") or "null")
    data = (detail or {}).get("data") or {}
    problems = []
    if entry.get("Source") != "compliance-api":
        problems.append(f"Source {entry.get('Source')!r}")
    if entry.get("EventBusName") != bus:
        problems.append(f"EventBusName {entry.get('EventBusName')!r}, expected {bus!r}")
    if not isinstance(detail, dict) or detail.get("type") != "scan.ingested":
        problems.append(f"detail type {(detail or {}).get('type')!r}")
    elif not re.fullmatch(r"evt_[0-9a-f]{26}", str(detail.get("id"))):
        problems.append(f"event id {detail.get('id')!r}")
    if (detail or {}).get("org_id") != org_id:
        problems.append(f"org_id {(detail or {}).get('org_id')!r}")
    if (data.get("repo_id"), data.get("scan_id"), data.get("findings")) != (1, "0019a6f0c1e2f3a4b5c6d", 3):
        problems.append(f"data {data}")
    return [f"notify: scan.ingested on the bus: {p}: {entry}" for p in problems]


def wait_port(port, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def run(args, env, **kw):
    out = subprocess.run(args, env=env, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{out.stderr}")
    return out.stdout


def post_form(form, path):
    """Posts the file to the signed form as a browser does (curl -F); the failures, if any."""
    args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"]
    for name, value in form["fields"].items():
        args += ["-F", f"{name}={value}"]
    args += ["-F", f"file=@{path}", form["url"]]
    code = subprocess.run(args, capture_output=True, text=True).stdout
    return [] if code == "204" else [f"posting the upload to {form['url']}: {code}"]


def main():
    env = dict(os.environ)
    started_ddb = False
    if not env.get("DYNAMODB_ENDPOINT"):
        line = run([os.path.join(ROOT, "scripts/dynamodb-local.sh"), "start"], env)
        env["DYNAMODB_ENDPOINT"] = line.strip().split("=", 1)[1]
        started_ddb = True
    env.update({
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true", "COMPLIANCE_STORE": "dynamodb",
        "COMPLIANCE_TABLE": f"runtime-{os.getpid()}", "JWT_HS256_SECRET": "runtime-test-secret",
        "RUST_LOG": "warn",
    })
    # The S3 server takes its own credentials only; DynamoDB Local takes any, so the functions
    # sign everything with the S3 server's.
    bucket = f"runtime-{os.getpid()}"
    env.update({
        "AWS_ACCESS_KEY_ID": os.environ["S3_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": os.environ["S3_SECRET_ACCESS_KEY"],
        "UPLOADS_BUCKET": bucket,
    })
    emulator = None
    bridge = EventBridgeStub()
    bus = f"runtime-{os.getpid()}-events"
    env.update({"EVENT_BUS_NAME": bus, "AWS_ENDPOINT_URL_EVENTBRIDGE": bridge.url})
    try:
        packages = sorted({f for f, _, _ in PLAN}) + ["compliance-cli"]
        run(["cargo", "build", "--quiet"] + [a for p in packages for a in ("-p", p)], env, cwd=ROOT)
        cli = os.path.join(BIN, "compliance-cli")
        run([cli, "create-table"], env)
        org = json.loads(run([cli, "create-org", "--name", "Runtime", "--plan", "enterprise", "--owner-key"], env))
        org_id, key = org["org"]["id"], org["owner_key"]["key"]
        token = run([cli, "mint-jwt", "--org", org_id, "--sub", "runtime-user", "--role", "member"], env).strip()

        port = free_port()
        emulator = subprocess.Popen(
            ["cargo", "lambda", "watch", "--only-lambda-apis", "--timeout", "300", "-A", "127.0.0.1", "-P", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        wait_port(port)
        import boto3
        boto3.client("s3", endpoint_url=env["S3_ENDPOINT"], region_name="us-east-1",
                     aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                     aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]).create_bucket(Bucket=bucket)
        fn_env = dict(env, AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{port}/.rt",
                      AWS_LAMBDA_FUNCTION_NAME="_", AWS_LAMBDA_FUNCTION_VERSION="1",
                      AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256")
        results, failures = [], []
        created = {}
        tmp = tempfile.mkdtemp()
        # Each run of consecutive invocations of one function is one process (its cold start
        # first); a function may come back later in the plan.
        for function, steps in itertools.groupby(PLAN, key=lambda step: step[0]):
            steps = list(steps)
            started = time.monotonic()
            proc = subprocess.Popen([os.path.join(BIN, function)], env=fn_env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            first = None
            try:
                for _, fixture, expected in steps:
                    src = os.path.join(ROOT, "events", function, fixture)
                    text = open(src, encoding="utf-8").read()
                    credential = token if function == "audits-api" else key
                    text = text.replace("REPLACED_BY_TESTS", credential).replace("ORG_ID_PLACEHOLDER", org_id)
                    for placeholder, value in created.items():
                        text = text.replace(placeholder, value)
                    data = os.path.join(tmp, f"{function}-{fixture}")
                    open(data, "w", encoding="utf-8").write(text)
                    out = subprocess.run(
                        ["cargo", "lambda", "invoke", "_", "--data-file", data,
                         "-A", "127.0.0.1", "-P", str(port), "--output-format", "json"],
                        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
                    if first is None:
                        first = time.monotonic() - started
                    if out.returncode != 0:
                        failures.append(f"{function}/{fixture}: invoke failed: {out.stderr.strip()}")
                        continue
                    answer = json.loads(out.stdout)
                    if not isinstance(answer, dict):
                        failures.append(f"{function}/{fixture}: not a JSON object: {answer}")
                        continue
                    if fixture == "create-audit.json" and answer.get("statusCode") == 201:
                        body = json.loads(answer["body"])
                        created.update({"AUDIT_ID": body["audit_id"], "POLICY_ID": body["policy_id"]})
                    if fixture == "create-webhook.json" and answer.get("statusCode") == 201:
                        hook = json.loads(answer["body"])
                        created["WEBHOOK_ID"] = hook["id"]
                        if not re.fullmatch(r"wh_[0-9a-z]{26}", hook["id"]) or not str(hook.get("secret")).startswith("whsec_"):
                            failures.append(f"{function}/{fixture}: id or secret: {hook}")
                    if fixture == "ping-webhook.json" and answer.get("statusCode") == 202:
                        created["DELIVERY_ID"] = json.loads(answer["body"])["id"]
                        if not re.fullmatch(r"evt_[0-9a-f]{26}", created["DELIVERY_ID"]):
                            failures.append(f"{function}/{fixture}: delivery id {created['DELIVERY_ID']}")
                    if fixture == "request-exception.json" and answer.get("statusCode") == 201:
                        created["EXCEPTION_ID"] = json.loads(answer["body"])["exception_id"]
                    if fixture == "create-upload.json" and answer.get("statusCode") == 201:
                        form = json.loads(answer["body"])
                        failures.extend(post_form(form, os.path.join(ROOT, "local/demo/latest.sarif")))
                        created.update({"UPLOAD_ID": form["upload_id"], "BUCKET_PLACEHOLDER": bucket,
                                        "OBJECT_KEY_PLACEHOLDER": form["fields"]["key"]})
                    if function == "process-upload" and answer.get("processed") != 1:
                        failures.append(f"{function}/{fixture}: not processed: {answer}")
                    if fixture == "get-upload.json" and answer.get("statusCode") == 200:
                        upload = json.loads(answer["body"])
                        if upload.get("status") != "complete" or not upload.get("scan_id"):
                            failures.append(f"{function}/{fixture}: upload not complete: {upload}")
                    accepted = expected if isinstance(expected, tuple) else (expected,)
                    if expected is not None and answer.get("statusCode") not in accepted:
                        failures.append(f"{function}/{fixture}: status {answer.get('statusCode')}, expected {expected}: {answer.get('body')}")
                    # notify: the stream batch wholly processed, its scan.ingested event on the
                    # bus; the schedule answers an object of counts ({"delivered": n, ...}).
                    if function == "notify" and fixture == "scan-inserted.json":
                        if answer.get("batchItemFailures") != []:
                            failures.append(f"{function}/{fixture}: expected {{\"batchItemFailures\": []}}, got {answer}")
                        failures.extend(scan_ingested_on_the_bus(bridge.entries, bus, org_id))
                    if function == "notify" and "delivered" in answer:
                        n = answer["delivered"]
                        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                            failures.append(f"{function}/{fixture}: delivered is not a count: {answer}")
                    if expected is None and answer.get("batchItemFailures"):
                        failures.append(f"{function}/{fixture}: batch item failures {answer['batchItemFailures']}")
                    if function == "trend-snapshot" and not answer.get("complete"):
                        failures.append(f"{function}/{fixture}: snapshot not complete: {answer}")
            finally:
                proc.terminate()
                _, err = proc.communicate(timeout=10)
            results.append((function, first))
        print("function               first event after process start")
        cold = {}
        for function, first in results:
            cold.setdefault(function, first)
        for function, first in cold.items():
            print(f"{function:<22} {first * 1000:8.0f} ms")
        print(f"{len(set(f for f, _ in results))} functions, {len(PLAN)} invocations under the runtime emulator")
        if failures:
            print("\n".join(failures), file=sys.stderr)
        print(f"runtime: {len(PLAN) - len(failures)} passed, {len(failures)} failed")
        if failures:
            raise SystemExit(1)
    finally:
        if emulator is not None:
            os.killpg(emulator.pid, 15)
            emulator.wait(timeout=10)
        bridge.close()
        if started_ddb:
            subprocess.run([os.path.join(ROOT, "scripts/dynamodb-local.sh"), "stop"])


if __name__ == "__main__":
    main()
