#!/usr/bin/env python3
"""Writes the API Gateway HTTP API (payload 2.0) sample events of every HTTP function.

Run from anywhere: python3 events/generate.py. The events are what API Gateway delivers for the
main endpoints (request context with sourceIp, user agent, request id; path parameters; body).
Tests replace the placeholder credential (REPLACED_BY_TESTS) with a real key or token.
"""
import base64
import gzip
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "abc123xyz0.execute-api.eu-west-1.amazonaws.com"


def event(method, path, route, body=None, query=None, path_params=None, auth="x-api-key",
          content_type="application/json", request_id="Jd8Qbg3SjoEEMpw=", gzipped=False):
    headers = {
        "accept": "application/json",
        "content-length": str(len(body)) if body else "0",
        "host": HOST,
        "user-agent": "curl/8.5.0",
        "x-amzn-trace-id": "Root=1-67f0c2d1-3b1c2a6f5d4e7a8b9c0d1e2f",
        "x-forwarded-for": "203.0.113.24",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    if auth == "x-api-key":
        headers["x-api-key"] = "REPLACED_BY_TESTS"
    elif auth == "bearer":
        headers["authorization"] = "Bearer REPLACED_BY_TESTS"
    if body:
        headers["content-type"] = content_type
    if gzipped:
        # API Gateway hands a binary body to Lambda base64-encoded.
        body = base64.b64encode(gzip.compress(body.encode("utf-8"), mtime=0)).decode("ascii")
        headers["content-encoding"] = "gzip"
        headers["content-length"] = str(len(base64.b64decode(body)))
    e = {
        "version": "2.0",
        "routeKey": f"{method} {route}",
        "rawPath": path,
        "rawQueryString": query or "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123xyz0",
            "domainName": HOST,
            "domainPrefix": "abc123xyz0",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.24", "userAgent": "curl/8.5.0"},
            "requestId": request_id,
            "routeKey": f"{method} {route}",
            "stage": "$default",
            "time": "23/Nov/2026:09:15:02 +0000",
            "timeEpoch": 1795425302000,
        },
        "isBase64Encoded": gzipped,
    }
    if query:
        e["queryStringParameters"] = dict(kv.split("=", 1) for kv in query.split("&"))
    if path_params:
        e["pathParameters"] = path_params
    if body:
        e["body"] = body
    return e


def j(value):
    return json.dumps(value)


SARIF = open(os.path.join(HERE, "..", "..", "shared", "sarif-samples", "gitleaks",
                          "gitleaks-8_sarif_simple.sarif"), encoding="utf-8").read() \
    if os.path.exists(os.path.join(HERE, "..", "..", "shared")) else None

AML_RECORDS = [
    {"id": "t1", "timestamp": "2025-03-05T09:00:00Z", "customer_id": "C1", "account_id": "A1",
     "direction": "in", "instrument": "cash", "amount_usd": 6000},
    {"id": "t2", "timestamp": "2025-03-05T15:00:00Z", "customer_id": "C1", "account_id": "A1",
     "direction": "in", "instrument": "cash", "amount_usd": 5000},
]
AML_NDJSON = "".join(j(r) + "\n" for r in AML_RECORDS)
AML_CSV = "id,timestamp,customer_id,account_id,direction,instrument,amount_usd\n" + "".join(
    f"{r['id']},{r['timestamp']},{r['customer_id']},{r['account_id']},{r['direction']},"
    f"{r['instrument']},{r['amount_usd']}\n" for r in AML_RECORDS)

# A webhook's URL: a literal public address (TEST-NET-3, documentation only: nothing answers
# there), so that its checks resolve no name and an attempt reaches nobody.
WEBHOOK_URL = "https://203.0.113.10/hooks/compliance"

EVENTS = {
    "admin-api": {
        "health.json": event("GET", "/api/health", "/api/health", auth=None),
        "ready.json": event("GET", "/api/ready", "/api/ready", auth=None),
        "list-api-keys.json": event("GET", "/api/api-keys", "/api/api-keys", query="limit=10"),
        "create-api-key.json": event("POST", "/api/api-keys", "/api/api-keys",
                                     body=j({"name": "GitHub Actions", "role": "member"})),
        "revoke-api-key.json": event("DELETE", "/api/api-keys/key_0123456789abcdef",
                                     "/api/api-keys/{key_id}",
                                     path_params={"key_id": "key_0123456789abcdef"}),
        "list-audit-logs.json": event("GET", "/api/audit-logs", "/api/audit-logs",
                                      query="action=API_KEY_CREATED&limit=5"),
        # Webhooks. Tests put the id of the webhook they created in place of WEBHOOK_ID, and
        # the id of its ping's delivery in place of DELIVERY_ID.
        "create-webhook.json": event("POST", "/api/webhooks", "/api/webhooks",
                                     body=j({"url": WEBHOOK_URL,
                                             "events": ["score.changed", "scan.run_failed"],
                                             "description": "SIEM intake"})),
        "list-webhooks.json": event("GET", "/api/webhooks", "/api/webhooks"),
        "get-webhook.json": event("GET", "/api/webhooks/WEBHOOK_ID", "/api/webhooks/{webhook_id}",
                                  path_params={"webhook_id": "WEBHOOK_ID"}),
        "update-webhook.json": event("PATCH", "/api/webhooks/WEBHOOK_ID",
                                     "/api/webhooks/{webhook_id}",
                                     body=j({"events": ["score.changed", "scan.run_failed",
                                                        "alert.opened"],
                                             "description": "SIEM intake, alerts included"}),
                                     path_params={"webhook_id": "WEBHOOK_ID"}),
        "rotate-webhook-secret.json": event("POST", "/api/webhooks/WEBHOOK_ID/secret",
                                            "/api/webhooks/{webhook_id}/secret",
                                            path_params={"webhook_id": "WEBHOOK_ID"}),
        "ping-webhook.json": event("POST", "/api/webhooks/WEBHOOK_ID/ping",
                                   "/api/webhooks/{webhook_id}/ping",
                                   path_params={"webhook_id": "WEBHOOK_ID"}),
        "list-webhook-deliveries.json": event("GET", "/api/webhooks/WEBHOOK_ID/deliveries",
                                              "/api/webhooks/{webhook_id}/deliveries",
                                              query="limit=10",
                                              path_params={"webhook_id": "WEBHOOK_ID"}),
        "get-webhook-delivery.json": event(
            "GET", "/api/webhooks/WEBHOOK_ID/deliveries/DELIVERY_ID",
            "/api/webhooks/{webhook_id}/deliveries/{delivery_id}",
            path_params={"webhook_id": "WEBHOOK_ID", "delivery_id": "DELIVERY_ID"}),
        "redeliver-webhook-delivery.json": event(
            "POST", "/api/webhooks/WEBHOOK_ID/deliveries/DELIVERY_ID/redeliver",
            "/api/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
            path_params={"webhook_id": "WEBHOOK_ID", "delivery_id": "DELIVERY_ID"}),
        "delete-webhook.json": event("DELETE", "/api/webhooks/WEBHOOK_ID",
                                     "/api/webhooks/{webhook_id}",
                                     path_params={"webhook_id": "WEBHOOK_ID"}),
    },
    "frameworks-api": {
        "list-frameworks.json": event("GET", "/api/compliance/frameworks", "/api/compliance/frameworks"),
        "set-enabled-frameworks.json": event("PUT", "/api/compliance/frameworks/enabled",
                                             "/api/compliance/frameworks/enabled",
                                             body=j({"keys": ["soc2", "owasp"]})),
        "list-controls.json": event("GET", "/api/compliance/frameworks/soc2/controls",
                                    "/api/compliance/frameworks/{framework_key}/controls",
                                    path_params={"framework_key": "soc2"}),
        "set-disabled-controls.json": event("PUT", "/api/compliance/frameworks/soc2/controls",
                                            "/api/compliance/frameworks/{framework_key}/controls",
                                            body=j({"disabled": ["CC8.1"]}),
                                            path_params={"framework_key": "soc2"}),
        "get-soa.json": event("GET", "/api/compliance/frameworks/soc2/soa",
                              "/api/compliance/frameworks/{framework_key}/soa",
                              path_params={"framework_key": "soc2"}),
        "record-attestation.json": event(
            "PUT", "/api/compliance/frameworks/internal_sec/controls/ISP-1/attestation",
            "/api/compliance/frameworks/{framework_key}/controls/{control_id}/attestation",
            body=j({"statement": "Secrets are only in the secret manager; reviewed by security.",
                    "owner": "security@example.com", "effective_at": "2026-11-20T00:00:00Z",
                    "review_interval": "quarterly"}),
            path_params={"framework_key": "internal_sec", "control_id": "ISP-1"}),
        "attach-attestation-file.json": event(
            "PUT", "/api/compliance/frameworks/internal_sec/controls/ISP-1/attestation/file",
            "/api/compliance/frameworks/{framework_key}/controls/{control_id}/attestation/file",
            body="Secret manager access review, 2026-11-20: 14 secrets, 0 outside the manager.\n",
            content_type="text/plain", query="name=secrets-review.txt",
            path_params={"framework_key": "internal_sec", "control_id": "ISP-1"}),
        "get-attestation-file.json": event(
            "GET", "/api/compliance/frameworks/internal_sec/controls/ISP-1/attestation/file",
            "/api/compliance/frameworks/{framework_key}/controls/{control_id}/attestation/file",
            path_params={"framework_key": "internal_sec", "control_id": "ISP-1"}),
        "list-attestations.json": event("GET", "/api/compliance/attestations",
                                        "/api/compliance/attestations", query="state=current"),
    },
    "custom-frameworks-api": {
        "save-custom-framework.json": event(
            "POST", "/api/compliance/custom-frameworks", "/api/compliance/custom-frameworks",
            body=j({"name": "Internal Security Policy", "key": "internal_sec", "controls": [
                {"id": "ISP-1", "name": "No hardcoded secrets", "category": "Credentials",
                 "description": "All credentials live in the secret manager.",
                 "check_type": "secrets", "pass_condition": "no_critical_secrets"}]})),
        "list-custom-frameworks.json": event("GET", "/api/compliance/custom-frameworks",
                                             "/api/compliance/custom-frameworks"),
        "delete-custom-framework.json": event(
            "DELETE", "/api/compliance/custom-frameworks/internal_sec",
            "/api/compliance/custom-frameworks/{framework_key}",
            path_params={"framework_key": "internal_sec"}),
    },
    "scans-api": {
        "create-repo.json": event("POST", "/api/repos", "/api/repos",
                                  body=j({"name": "checkout-service", "default_branch": "main",
                                          "languages": ["python"]})),
        "list-repos.json": event("GET", "/api/repos", "/api/repos"),
        "ingest-sarif.json": event("POST", "/api/repos/1/scans", "/api/repos/{repo_id}/scans",
                                   body=SARIF, content_type="application/sarif+json",
                                   path_params={"repo_id": "1"}),
        "list-scans.json": event("GET", "/api/repos/1/scans", "/api/repos/{repo_id}/scans",
                                 path_params={"repo_id": "1"}),
        "create-upload.json": event("POST", "/api/repos/1/uploads", "/api/repos/{repo_id}/uploads",
                                    body=j({"content_type": "application/sarif+json"}),
                                    path_params={"repo_id": "1"}),
        "get-upload.json": event("GET", "/api/repos/1/uploads/UPLOAD_ID",
                                 "/api/repos/{repo_id}/uploads/{upload_id}",
                                 path_params={"repo_id": "1", "upload_id": "UPLOAD_ID"}),
    },
    "scores-api": {
        "get-score.json": event("GET", "/api/compliance/score/1", "/api/compliance/score/{repo_id}",
                                path_params={"repo_id": "1"}),
        "get-score-oscal.json": event("GET", "/api/compliance/score/1/oscal",
                                      "/api/compliance/score/{repo_id}/oscal",
                                      path_params={"repo_id": "1"}),
        "get-trend.json": event("GET", "/api/compliance/trend/1", "/api/compliance/trend/{repo_id}",
                                query="framework=soc2&days=90", path_params={"repo_id": "1"}),
        "get-summary.json": event("GET", "/api/compliance/summary", "/api/compliance/summary",
                                  query="limit=10"),
    },
    # The dashboard's files: no credential (the page signs in on its own).
    "dashboard": {
        "get-index.json": event("GET", "/", "/", auth=None),
        "get-asset.json": event("GET", "/assets/js/app.js", "/assets/{proxy+}", auth=None,
                                path_params={"proxy": "js/app.js"}),
        "get-missing-asset.json": event("GET", "/assets/nope.js", "/assets/{proxy+}", auth=None,
                                        path_params={"proxy": "nope.js"}),
    },
    "audits-api": {
        "create-audit.json": event("POST", "/api/audits", "/api/audits", auth="bearer",
                                   body=j({"name": "Q4 2024 SOC2 Compliance Audit",
                                           "policy_type": "soc2",
                                           "selected_categories": ["Access Control", "Encryption"]})),
        "list-audits.json": event("GET", "/api/audits", "/api/audits", auth="bearer"),
        "list-policy-packs.json": event("GET", "/api/policy-packs", "/api/policy-packs", auth="bearer"),
        "get-policy-pack.json": event("GET", "/api/policy-packs/aml", "/api/policy-packs/{policy_type}",
                                      auth="bearer", path_params={"policy_type": "aml"}),
        # Tests put the id of the audit they created in place of AUDIT_ID / POLICY_ID.
        "run-audit.json": event("POST", "/api/audits/AUDIT_ID/runs", "/api/audits/{audit_id}/runs",
                                auth="bearer", body=AML_NDJSON, content_type="application/x-ndjson",
                                path_params={"audit_id": "AUDIT_ID"}),
        "run-audit-csv-gzip.json": event("POST", "/api/audits/AUDIT_ID/runs",
                                         "/api/audits/{audit_id}/runs", auth="bearer", body=AML_CSV,
                                         content_type="text/csv", gzipped=True,
                                         path_params={"audit_id": "AUDIT_ID"}),
        "list-audit-runs.json": event("GET", "/api/audits/AUDIT_ID/runs", "/api/audits/{audit_id}/runs",
                                      auth="bearer", path_params={"audit_id": "AUDIT_ID"}),
        "list-alerts.json": event("GET", "/api/audits/AUDIT_ID/alerts", "/api/audits/{audit_id}/alerts",
                                  auth="bearer", query="status=open&limit=20",
                                  path_params={"audit_id": "AUDIT_ID"}),
        "set-reviewers.json": event("PUT", "/api/audits/AUDIT_ID/reviewers",
                                    "/api/audits/{audit_id}/reviewers", auth="bearer",
                                    body=j({"reviewers": ["auditor@bank.example"]}),
                                    path_params={"audit_id": "AUDIT_ID"}),
        "tune-rule.json": event("PATCH", "/api/policies/POLICY_ID/rules/aml-ctr-001",
                                "/api/policies/{policy_id}/rules/{rule_id}", auth="bearer",
                                body=j({"threshold": 5000}),
                                path_params={"policy_id": "POLICY_ID", "rule_id": "aml-ctr-001"}),
        "evaluate-pack.json": event("POST", "/api/policy-packs/aml/evaluate",
                                    "/api/policy-packs/{policy_type}/evaluate", auth="bearer",
                                    body=AML_NDJSON, content_type="application/x-ndjson",
                                    query="thresholds=aml-ctr-001:5000",
                                    path_params={"policy_type": "aml"}),
    },
}

if __name__ == "__main__":
    for function, files in EVENTS.items():
        os.makedirs(os.path.join(HERE, function), exist_ok=True)
        for name, e in files.items():
            if e.get("body") is None and "body" in e:
                raise SystemExit(f"{function}/{name}: sample missing")
            with open(os.path.join(HERE, function, name), "w", encoding="utf-8") as f:
                json.dump(e, f, indent=2)
                f.write("\n")
