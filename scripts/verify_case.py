#!/usr/bin/env python3
"""Verifies an alert's case file (GET /api/audits/{audit_id}/alerts/{alert_id}/case) with the
document alone: every trail entry's prev_sha256 is the previous entry's sha256 (64 zeros for the
first), its sha256 is SHA-256 over prev_sha256 followed by its payload (UTF-8, lowercase hex), its
seq counts from 1, and the last sha256 is the document's trail_sha256.

Usage: python3 scripts/verify_case.py case.json   (or - for stdin). Exit 0 when the chain holds.
"""
import hashlib
import json
import sys


def verify(case):
    prev = "0" * 64
    for i, entry in enumerate(case["trail"], start=1):
        if entry["seq"] != i:
            return f"entry {i}: seq {entry['seq']}, expected {i} (an entry was removed or moved)"
        if entry["prev_sha256"] != prev:
            return f"entry {i}: prev_sha256 is not the previous entry's sha256"
        digest = hashlib.sha256((prev + entry["payload"]).encode("utf-8")).hexdigest()
        if digest != entry["sha256"]:
            return f"entry {i}: sha256 does not match its payload (the entry was edited)"
        if json.loads(entry["payload"]).get("seq") != i:
            return f"entry {i}: the payload's seq is not {i}"
        prev = digest
    if prev != case["trail_sha256"]:
        return "the last entry is not the document's trail_sha256 (entries were removed at the end)"
    return None


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "-"
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    problem = verify(json.loads(text))
    if problem:
        print(f"case file does NOT verify: {problem}")
        sys.exit(1)
    print("case file verifies")


if __name__ == "__main__":
    main()
