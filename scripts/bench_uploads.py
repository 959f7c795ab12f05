#!/usr/bin/env python3
"""Uploads at ½, 1 and 2 times a size, through the local server's upload path as a client sends
them (announce, `curl -F` the file to the form, poll the status), with the server's peak memory
(VmHWM of its process, a fresh server per file) beside a peer on the same file:

- records: synthetic AML transactions (planted violations; examples/write_aml_bench_data.rs) as
  an audit run, beside DuckDB (read_json + the velocity rule aml-tm-001, same findings checked);
- reports: the ingest benchmark's SARIF construction (scripts/make-large-sarif.py) grown to the
  size, as a scan, beside `sarif summary` (sarif-tools).

Loopback only. Run by scripts/bench-uploads.sh, which builds the binaries; the files are written
to a temporary folder and removed.

usage: bench_uploads.py SERVER WRITE_AML TMPDIR [--records-mb 1024] [--sarif-mb 512]
                        [--skip records|sarif]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

from local_server import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
BYTES_PER_TRANSACTION = 249  # the synthetic feed's mean NDJSON line


def call(base, method, path, key, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("X-API-Key", key)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


class Server:
    def __init__(self, binary, tmp):
        self.data = os.path.join(tmp, f"data-{time.time_ns()}")
        self.port = free_port()
        env = dict(os.environ, COMPLIANCE_DATA_DIR=self.data, COMPLIANCE_ADDR=f"127.0.0.1:{self.port}",
                   COMPLIANCE_SNAPSHOT_INTERVAL_SECONDS="0", RUST_LOG="warn")
        self.proc = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        self.key = None
        for line in self.proc.stdout:
            m = re.search(r"\b(csk_[A-Za-z0-9_-]+)", line)
            if m:
                self.key = m.group(1)
            if line.startswith("Listening on"):
                break
        if not self.key:
            raise SystemExit("the server printed no key")
        self.base = f"http://127.0.0.1:{self.port}"

    def peak_rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def upload(server, path, content_type, file):
    form = call(server.base, "POST", path, server.key, {"content_type": content_type})
    args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"]
    for k, v in form["fields"].items():
        args += ["-F", f"{k}={v}"]
    args += ["-F", f"file=@{file}", form["url"]]
    start = time.perf_counter()
    code = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    if code != "204":
        raise SystemExit(f"the form was refused: {code}")
    while True:
        status = call(server.base, "GET", form["status_url"], server.key)
        if status["status"] in ("complete", "failed"):
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    if status["status"] != "complete":
        raise SystemExit(f"the upload failed: {status}")
    return status, elapsed


def bench_records(args, sizes):
    rows = []
    for mb in sizes:
        n = max(1, int(mb * 1e6 / BYTES_PER_TRANSACTION))
        path = os.path.join(args.tmp, f"aml-{n}.ndjson")
        subprocess.run([args.write_aml, path, str(n), "2025"], check=True)
        size_mb = os.path.getsize(path) / 1e6
        server = Server(args.server, args.tmp)
        try:
            audit = call(server.base, "POST", "/api/audits", server.key,
                         {"name": "bench", "policy_type": "aml"})
            status, elapsed = upload(server, f"/api/audits/{audit['audit_id']}/uploads",
                                     "application/x-ndjson", path)
            run = call(server.base, "GET", f"/api/audits/{audit['audit_id']}/runs/{status['run_id']}", server.key)
            rss = server.peak_rss_mb()
        finally:
            server.stop()
        tm001 = next(r["findings"] for r in run["rules"] if r["rule_id"] == "aml-tm-001")
        print(f"records {size_mb:.0f} MB ({run['records']} transactions): upload to run stored {elapsed:.2f} s "
              f"({size_mb / elapsed:.0f} MB/s), server peak RSS {rss:.0f} MB, findings {run['findings_total']} "
              f"(aml-tm-001: {tm001})", flush=True)
        duck = subprocess.run([sys.executable, os.path.join(HERE, "bench_duckdb_velocity.py"), path,
                               "--engine-findings", str(tm001)], capture_output=True, text=True)
        print(duck.stdout.strip(), flush=True)
        if duck.returncode != 0:
            raise SystemExit("DuckDB and the engine disagree on aml-tm-001")
        rows.append((size_mb, elapsed, rss))
        os.remove(path)
    return rows


def bench_sarif(args, sizes):
    rows = []
    for mb in sizes:
        path = os.path.join(args.tmp, f"report-{mb}.sarif")
        subprocess.run([sys.executable, os.path.join(HERE, "make-large-sarif.py"), path,
                        "--target-bytes", str(int(mb * 1e6))], check=True, stdout=subprocess.DEVNULL)
        size_mb = os.path.getsize(path) / 1e6
        server = Server(args.server, args.tmp)
        try:
            repo = call(server.base, "POST", "/api/repos", server.key, {"name": f"bench-{mb}"})
            status, elapsed = upload(server, f"/api/repos/{repo['repo_id']}/uploads",
                                     "application/sarif+json", path)
            scan = call(server.base, "GET", f"/api/repos/{repo['repo_id']}/scans/{status['scan_id']}", server.key)
            rss = server.peak_rss_mb()
        finally:
            server.stop()
        findings = scan["summary"]["totals"]["findings"]
        print(f"sarif {size_mb:.0f} MB: upload to scan stored {elapsed:.2f} s ({size_mb / elapsed:.0f} MB/s), "
              f"server peak RSS {rss:.0f} MB, findings {findings}", flush=True)
        sarif_bin = os.path.join(os.path.dirname(sys.executable), "sarif")
        start = time.perf_counter()
        peer = subprocess.run(["/usr/bin/time", "-f", "%M", sarif_bin, "summary", path],
                              capture_output=True, text=True)
        peer_s = time.perf_counter() - start
        peer_rss = peer.stderr.strip().splitlines()[-1] if peer.stderr.strip() else "?"
        print(f"sarif-tools `sarif summary` on the same file: {peer_s:.2f} s ({size_mb / peer_s:.0f} MB/s), "
              f"peak RSS {int(peer_rss) / 1024 if peer_rss.isdigit() else peer_rss} MB, exit {peer.returncode}",
              flush=True)
        rows.append((size_mb, elapsed, rss))
        os.remove(path)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("server")
    p.add_argument("write_aml")
    p.add_argument("tmp")
    p.add_argument("--records-mb", type=float, default=1024)
    p.add_argument("--sarif-mb", type=float, default=512)
    p.add_argument("--skip", action="append", default=[])
    args = p.parse_args()
    if "records" not in args.skip:
        base = args.records_mb
        bench_records(args, [base / 2, base, base * 2])
    if "sarif" not in args.skip:
        base = args.sarif_mb
        bench_sarif(args, [base / 2, base, base * 2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
