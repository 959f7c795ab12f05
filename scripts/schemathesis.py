#!/usr/bin/env python3
"""Property-based API testing: schemathesis generates requests for every operation of
openapi.json and runs them, authenticated, against the local server binary (fresh data folder,
loopback port). Fixed seed, so runs are reproducible. Fails on any 5xx, any response that breaks
the documented schema, or any other failed check.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from local_server import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261123")
CHECKS = os.environ.get("SCHEMATHESIS_CHECKS", "all")
EXAMPLES = os.environ.get("SCHEMATHESIS_EXAMPLES", "60")


def main():
    tools = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".tools/venv/bin")
    subprocess.run(["cargo", "build", "--quiet", "-p", "compliance-local"], cwd=ROOT, check=True)
    data = tempfile.mkdtemp(prefix="schemathesis-")
    port = free_port()
    env = dict(os.environ, COMPLIANCE_DATA_DIR=data, COMPLIANCE_ADDR=f"127.0.0.1:{port}",
               COMPLIANCE_STORE="embedded", COMPLIANCE_SNAPSHOT_INTERVAL_SECONDS="0", RUST_LOG="warn",
               API_KEY_CACHE_SECONDS="30")
    server = subprocess.Popen([os.path.join(TARGET, "debug", "compliance-local")], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        key = None
        deadline = time.time() + 60
        while key is None and time.time() < deadline:
            line = server.stdout.readline()
            if line.strip().startswith("csk_"):
                key = line.strip()
        if key is None:
            raise SystemExit("the local server printed no admin key")
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        report = os.path.join(data, "report.json")
        cmd = [os.path.join(tools, "schemathesis"), "run", os.path.join(ROOT, "openapi.json"),
               "--url", f"http://127.0.0.1:{port}", "--header", f"X-API-Key: {key}",
               "--checks", CHECKS,
               "--seed", SEED, "--max-examples", EXAMPLES, "--workers", "2",
               "--generation-deterministic", "--no-color", "--report", "json", "--report-json-path", report]
        print("$", " ".join(c if not c.startswith("X-API-Key") else "X-API-Key: ***" for c in cmd), flush=True)
        hooks = dict(os.environ, SCHEMATHESIS_HOOKS="scripts.schemathesis_hooks")
        code = subprocess.run(cmd, cwd=ROOT, env=hooks).returncode
        raise SystemExit(code)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
