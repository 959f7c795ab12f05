"""The read path on DynamoDB: `GET /api/compliance/score/{id}` (and the trend and the org-wide
summary) beside `GET /api/repos/{id}`, on the release local server over DynamoDB Local, all on
loopback.

1. DynamoDB Local: the one named by DYNAMODB_ENDPOINT, or our own (scripts/dynamodb-local.sh,
   stopped after); a fresh table (snapshot-bench --create-table);
2. the local server (BENCH_SERVER, default target/release/compliance-local) on it, on a free
   port; a repository with one report of six real scanners (scripts/bench_report.py);
3. after a warm-up, BENCH_SEQUENTIAL (400) requests per endpoint one after the other on one
   keep-alive connection, the endpoints taking turns (p50, p99 in ms); then per endpoint
   `ab -k -c 16` (BENCH_REQUESTS, 4000): req/s;
4. prints `key=value` lines, the last `score_p50_ratio` (score's p50 over the repository's).

Needs ab (Debian: apache2-utils), Java 17 (DynamoDB Local) and the release binaries.
"""
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_report import combined_report  # noqa: E402
from local_server import Api, free_port, start_server  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
SAMPLES = os.environ.get("SARIF_SAMPLES", os.path.join(ROOT, "..", "shared", "sarif-samples"))
SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "400"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "4000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))


def start_dynamodb():
    """DynamoDB Local's endpoint, and whether we started it."""
    if os.environ.get("DYNAMODB_ENDPOINT"):
        return os.environ["DYNAMODB_ENDPOINT"], False
    out = subprocess.run([os.path.join(ROOT, "scripts", "dynamodb-local.sh"), "start"],
                         check=True, capture_output=True, text=True).stdout
    return re.search(r"DYNAMODB_ENDPOINT=(\S+)", out).group(1), True


def fetch(conn, path, key):
    """A GET whose body is read, not parsed (the client's own time stays out of the figure)."""
    conn.request("GET", path, headers={"X-API-Key": key})
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        raise SystemExit(f"GET {path}: {resp.status} {body[:300]!r}")
    return len(body)


def sequential(port, paths, key):
    """p50 and p99 in ms of each path's requests, one after the other on one connection, the
    paths taking turns (so that each meets the same moments of a busy machine)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = {name: [] for name in paths}
    for round in range(SEQUENTIAL + SEQUENTIAL // 8):
        for name, path in paths.items():
            start = time.perf_counter()
            fetch(conn, path, key)
            if round >= SEQUENTIAL // 8:
                times[name].append((time.perf_counter() - start) * 1000)
    conn.close()
    figures = {}
    for name, t in times.items():
        t.sort()
        figures[name] = (statistics.median(t), t[int(len(t) * 0.99) - 1])
    return figures


def rate(port, path, key):
    """Requests per second with CONCURRENCY keep-alive clients (ab)."""
    url = f"http://127.0.0.1:{port}{path}"
    args = ["ab", "-q", "-k", "-c", str(CONCURRENCY), "-H", f"X-API-Key: {key}"]
    subprocess.run(args + ["-n", str(REQUESTS // 10), url], check=True, capture_output=True)
    out = subprocess.run(args + ["-n", str(REQUESTS), url], check=True,
                         capture_output=True, text=True).stdout
    if "Non-2xx responses" in out:
        raise SystemExit(f"{path}: non-2xx answers\n{out}")
    return float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))


def main():
    endpoint, ours = start_dynamodb()
    tmp = tempfile.mkdtemp(prefix="bench-dynamodb-reads.")
    table = f"bench-reads-{os.getpid()}"
    env = dict(os.environ, DYNAMODB_ENDPOINT=endpoint, AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1",
               AWS_EC2_METADATA_DISABLED="true", RUST_LOG="warn")
    proc = None
    try:
        subprocess.run([os.path.join(TARGET, "release", "snapshot-bench"), "--create-table", table],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        env.update(COMPLIANCE_STORE="dynamodb", COMPLIANCE_TABLE=table,
                   COMPLIANCE_ADDR=f"127.0.0.1:{port}", COMPLIANCE_DATA_DIR=os.path.join(tmp, "data"),
                   COMPLIANCE_SNAPSHOT_INTERVAL_SECONDS="0", RUST_LOG="info")
        server = os.environ.get("BENCH_SERVER", os.path.join(TARGET, "release", "compliance-local"))
        proc, key = start_server(server, env, os.path.join(tmp, "server.log"))
        api = Api(port, key)
        repo = api.call("POST", "/api/repos", {"name": "bench-repo", "languages": ["python"]})
        repo = repo["repo_id"]
        report = json.dumps(combined_report(SAMPLES)).encode()
        api.call("POST", f"/api/repos/{repo}/scans", report, "application/sarif+json")
        paths = {
            "repo": f"/api/repos/{repo}",
            "score": f"/api/compliance/score/{repo}",
            "trend": f"/api/compliance/trend/{repo}",
            "summary": "/api/compliance/summary",
        }
        figures = sequential(port, paths, key)
        for name, path in paths.items():
            p50, p99 = figures[name]
            print(f"dynamodb_{name}_p50_ms={p50:.2f}")
            print(f"dynamodb_{name}_p99_ms={p99:.2f}")
            print(f"dynamodb_{name}_rps={rate(port, path, key):.0f}")
        print(f"score_p50_ratio={figures['score'][0] / figures['repo'][0]:.2f}")
    finally:
        if proc:
            proc.terminate()
            proc.wait()
        if ours:
            subprocess.run([os.path.join(ROOT, "scripts", "dynamodb-local.sh"), "stop"],
                           capture_output=True)
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
