#!/usr/bin/env python3
"""What the local S3 (scripts/s3-local.sh, s3s-fs) enforces of a presigned POST, shown case by case.

The uploads endpoints answer a presigned S3 POST whose policy pins the key, the content type and a
content-length range, valid 15 minutes. This posts to the local server with boto3's
generate_presigned_post (the same policy shape) and checks each rule is enforced:

  valid post                        -> 204, the object is stored
  body over the content-length-range -> EntityTooLarge
  body under it                     -> EntityTooSmall
  another content type              -> refused
  a key outside the policy          -> refused
  an expired policy                 -> AccessDenied
  a forged signature                -> refused
  a policy edited after signing     -> refused
  and only the valid object stored.

A documented tool, not part of scripts/test.sh:

  scripts/s3-local.sh install
  .tools/venv/bin/python scripts/s3_policy_check.py     # starts and stops its own server, or
  eval "$(scripts/s3-local.sh start)" && .tools/venv/bin/python scripts/s3_policy_check.py

Uses boto3 and requests from the tools venv (scripts/python-tools.sh; both come with
aws-sam-cli). Exits non-zero when any case is not as expected.
"""

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import requests
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "uploads-policy-check"
CONTENT_TYPE = "application/x-ndjson"
MIN_BYTES, MAX_BYTES = 1, 1024


def server_env():
    """The running server's variables, or a server of our own (stopped at the end)."""
    if os.environ.get("S3_ENDPOINT"):
        return False
    out = subprocess.run(
        [str(ROOT / "scripts/s3-local.sh"), "start"], check=True, capture_output=True, text=True
    ).stdout
    for word in out.split():
        if "=" in word:
            name, value = word.split("=", 1)
            os.environ[name] = value
    return True


def client():
    return boto3.client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT"],
        aws_access_key_id=os.environ["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["S3_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def presign(s3, key, expires_in=900):
    return s3.generate_presigned_post(
        Bucket=BUCKET,
        Key=key,
        Fields={"Content-Type": CONTENT_TYPE},
        Conditions=[
            {"Content-Type": CONTENT_TYPE},
            ["content-length-range", MIN_BYTES, MAX_BYTES],
        ],
        ExpiresIn=expires_in,
    )


def post(presigned, body, **overrides):
    fields = dict(presigned["fields"])
    fields.update(overrides)
    resp = requests.post(
        presigned["url"], data=fields, files={"file": ("records.ndjson", body)}, timeout=10
    )
    code = ""
    if resp.content:
        start, end = resp.text.find("<Code>"), resp.text.find("</Code>")
        if start >= 0 and end > start:
            code = resp.text[start + len("<Code>") : end]
    return resp.status_code, code


def main():
    own = server_env()
    failures = 0
    try:
        s3 = client()
        s3.create_bucket(Bucket=BUCKET)
        upload_id = uuid.uuid4()
        key = f"uploads/org-1/audit-1/{upload_id}.ndjson"
        good = b'{"id":"t1","amount":10}\n'

        def check(name, got, ok):
            nonlocal failures
            status, code = got
            verdict = "ok" if ok(status, code) else "UNEXPECTED"
            if verdict != "ok":
                failures += 1
            print(f"{verdict:10} {name:42} -> {status} {code}")

        p = presign(s3, key)
        print("policy:", json.dumps(json.loads(base64.b64decode(p["fields"]["policy"]))))
        check("valid post", post(p, good), lambda s, c: s == 204)
        head = s3.head_object(Bucket=BUCKET, Key=key)
        print(f"{'ok' if head['ContentLength'] == len(good) else 'UNEXPECTED':10} stored: {key} "
              f"({head['ContentLength']} bytes, {head.get('ContentType')})")

        big = presign(s3, f"uploads/org-1/audit-1/{uuid.uuid4()}.ndjson")
        check("body over content-length-range", post(big, b"x" * (MAX_BYTES + 1)),
              lambda s, c: s == 400 and c == "EntityTooLarge")
        small = presign(s3, f"uploads/org-1/audit-1/{uuid.uuid4()}.ndjson")
        check("empty body (under the range)", post(small, b""),
              lambda s, c: s == 400 and c == "EntityTooSmall")

        ct = presign(s3, f"uploads/org-1/audit-1/{uuid.uuid4()}.ndjson")
        check("another content type", post(ct, good, **{"Content-Type": "text/html"}),
              lambda s, c: s in (400, 403))

        other = presign(s3, f"uploads/org-1/audit-1/{uuid.uuid4()}.ndjson")
        check("key outside the policy", post(other, good, key="partitions/evil/0.ndjson"),
              lambda s, c: s in (400, 403))

        expired = presign(s3, f"uploads/org-1/audit-1/{uuid.uuid4()}.ndjson", expires_in=-60)
        check("expired policy", post(expired, good), lambda s, c: s == 403 and c == "AccessDenied")

        forged = presign(s3, f"uploads/org-1/audit-1/{uuid.uuid4()}.ndjson")
        sig = forged["fields"]["x-amz-signature"]
        bad_sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        check("forged signature", post(forged, good, **{"x-amz-signature": bad_sig}),
              lambda s, c: s == 403)

        edited = presign(s3, f"uploads/org-1/audit-1/{uuid.uuid4()}.ndjson")
        policy = json.loads(base64.b64decode(edited["fields"]["policy"]))
        for cond in policy["conditions"]:
            if isinstance(cond, list) and cond[0] == "content-length-range":
                cond[2] = 10 * MAX_BYTES
        edited_policy = base64.b64encode(json.dumps(policy).encode()).decode()
        check("policy widened after signing", post(edited, b"x" * (MAX_BYTES + 1), policy=edited_policy),
              lambda s, c: s == 403)

        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        only = keys == [key]
        if not only:
            failures += 1
        print(f"{'ok' if only else 'UNEXPECTED':10} objects in the bucket: {keys}")
    finally:
        if own:
            subprocess.run([str(ROOT / "scripts/s3-local.sh"), "stop"], check=False)
    print("all cases as expected" if failures == 0 else f"{failures} case(s) not as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
