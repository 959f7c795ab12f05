#!/usr/bin/env python3
"""Webhooks measured from the outside, on the release local server (embedded store, loopback):

1. latency: a receiver subscribed to `score.changed`; 60 scans, alternately clean and with a
   critical secret, one at a time; for each, the time from sending the upload to the first
   `score.changed` of that scan at the receiver (an upper bound of commit-to-receipt: the
   commit happens while the upload is answered). p50 and p99.
2. throughput: 5 webhooks, 2,000 events by 8 clients: 10,000 deliveries, twice. First
   exception requests (`exception.requested`; nothing else runs for them: the deliverer's own
   pace), then distinct scans (`scan.ingested`; each scan is also rescored on the same two cores:
   the whole path). Deliveries per second at the receiver (first to last), and every
   (webhook, webhook-id) checked: none lost, none doubled, every signature valid.
3. kill -9: deliveries pending to a receiver that is down; the server killed (SIGKILL) and
   started again on the same data folder, the receiver up: every event delivered, none twice.
   (A kill between a receiver's 2xx and its record would send that one again after restart:
   deliveries are at least once, receivers deduplicate on `webhook-id`.)

Prints `name=value` lines (scripts/bench.sh makes them rows). Usage:
    bench_webhooks.py <server binary>
"""
import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from local_server import Api, free_port  # noqa: E402

LATENCY_SCANS = int(os.environ.get("BENCH_WEBHOOK_SCANS", "60"))
THROUGHPUT_SCANS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "2000"))
WEBHOOKS = 5


RECEIVER = r"""
import asyncio, json, sys, time

got = open(sys.argv[2], "w", buffering=1)

async def serve(reader, writer):
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        got.write(json.dumps([time.time(), path, headers, body.decode()]) + "\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()

async def serve_safe(reader, writer):
    try:
        await serve(reader, writer)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()

async def start():
    server = await asyncio.start_server(serve_safe, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(start())
"""


class Receiver:
    """A loopback receiver in a process of its own (asyncio, so that it is not what is
    measured): records (time, path, headers, body) of every request and answers 200."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.file = tempfile.NamedTemporaryFile(prefix="bench-webhooks-got-", suffix=".jsonl", delete=False).name
        self.proc = subprocess.Popen([sys.executable, "-c", RECEIVER, str(self.port), self.file],
                                     stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit(f"the receiver did not start on port {self.port}")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        os.unlink(self.file)

    def snapshot(self):
        """Every request so far: (time, path, headers, body bytes)."""
        out = []
        with open(self.file) as f:
            for line in f:
                if line.endswith("\n"):
                    t, path, headers, body = json.loads(line)
                    out.append((t, path, headers, body.encode()))
        return out


def verify(secret, headers, body):
    """Standard Webhooks: v1 = base64(HMAC-SHA256(key, id.timestamp.body))."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(s.split(",", 1)[1] == expected for s in headers["webhook-signature"].split(" "))


def native_scan(i, leak):
    finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    findings = [{"check_type": "secrets", "severity": "critical", "rule_id": "aws-key",
                 "message": f"AKIA... #{i}"}] if leak else []
    return json.dumps({
        "tool": f"ci-bundle-{i}", "started_at": finished, "finished_at": finished,
        "covered": ["secrets", "sast_security", "sast_crypto", "sast_auth", "sca_vulns",
                    "iac_issues", "code_quality"],
        "findings": findings,
        "signals": {"quality_gate": "passed", "pull_requests": {"merged": 20, "reviewed": 20}},
    }).encode()


class Server:
    def __init__(self, binary, data, port, retry_schedule=None):
        self.binary, self.data, self.port = binary, data, port
        self.env = dict(os.environ, COMPLIANCE_DATA_DIR=data, COMPLIANCE_ADDR=f"127.0.0.1:{port}",
                        COMPLIANCE_STORE="embedded", COMPLIANCE_SNAPSHOT_INTERVAL_SECONDS="0",
                        RUST_LOG="warn", COMPLIANCE_WEBHOOK_ALLOW_LOOPBACK="1")
        if retry_schedule:
            self.env["COMPLIANCE_WEBHOOK_RETRY_SCHEDULE"] = retry_schedule
        self.proc = None

    def start(self):
        """Starts it again on its data folder (the admin key is printed on the first start only)."""
        self.proc = subprocess.Popen([self.binary], env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._drain, daemon=True).start()
        self._wait_healthy()

    def first_start(self):
        self.proc = subprocess.Popen([self.binary], env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 60
        key = None
        while key is None and time.time() < deadline:
            line = self.proc.stdout.readline()
            if line.strip().startswith("csk_"):
                key = line.strip()
        if key is None:
            raise SystemExit("the local server printed no admin key")
        threading.Thread(target=self._drain, daemon=True).start()
        self._wait_healthy()
        return key

    def _wait_healthy(self):
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/api/health")
                c.getresponse().read()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("the local server did not answer")

    def _drain(self):
        for _ in self.proc.stdout:
            pass

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def latency(api, receiver):
    hook = api.call("POST", "/api/webhooks", {"url": receiver.url("/latency"), "events": ["score.changed"]})
    repo = api.call("POST", "/api/repos", {"name": "latency"})["repo_id"]
    samples = []
    for i in range(LATENCY_SCANS):
        sent = time.time()
        scan = api.call("POST", f"/api/repos/{repo}/scans", native_scan(i, leak=i % 2 == 1))
        scan_id = scan["scan_id"]
        deadline = time.time() + 30
        while time.time() < deadline:
            hit = [t for (t, path, _, body) in receiver.snapshot()
                   if path == "/latency" and json.loads(body)["data"]["scan_id"] == scan_id]
            if hit:
                samples.append((min(hit) - sent) * 1000)
                break
            time.sleep(0.002)
        else:
            raise SystemExit(f"no score.changed for scan {scan_id}")
    bad = [r for r in receiver.snapshot() if not verify(hook["secret"], r[2], r[3])]
    if bad:
        raise SystemExit(f"{len(bad)} latency deliveries failed verification")
    return samples


def throughput(api, receiver, source):
    """`source`: "scans" (uploads, each rescored: the whole path) or "exceptions" (exception
    requests, which tell `exception.requested` and nothing else: the deliverer's own pace)."""
    event_type = {"scans": "scan.ingested", "exceptions": "exception.requested"}[source]
    hooks = {}
    for w in range(WEBHOOKS):
        path = f"/{source}{w}"
        hooks[path] = api.call("POST", "/api/webhooks",
                               {"url": receiver.url(path), "events": [event_type]})["secret"]
    repo = api.call("POST", "/api/repos", {"name": f"throughput-{source}"})["repo_id"]
    if source == "scans":
        caller = api
        make = lambda i: caller.call("POST", f"/api/repos/{repo}/scans", native_scan(100_000 + i, leak=False))
    else:
        member = Api(api.port, api.call("POST", "/api/api-keys", {"name": "bench", "role": "member"})["key"])
        caller = member
        body = lambda i: {"scope": {"rule_id": f"rule-{i}"}, "kind": "false_positive",
                          "justification": f"Bench request {i}"}
        make = lambda i: caller.call("POST", f"/api/repos/{repo}/exceptions", body(i))
    before = len(receiver.snapshot())
    started = time.time()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(make, range(THROUGHPUT_SCANS)))
    posted = time.time()
    expected = THROUGHPUT_SCANS * WEBHOOKS
    deadline = time.time() + 300
    while time.time() < deadline:
        got = [r for r in receiver.snapshot()[before:] if r[1] in hooks]
        if len(got) >= expected:
            break
        time.sleep(0.2)
    time.sleep(1.0)  # anything doubled arrives too
    got = [r for r in receiver.snapshot()[before:] if r[1] in hooks]
    pairs = [(path, headers["webhook-id"]) for (_, path, headers, _) in got]
    unique = set(pairs)
    invalid = sum(1 for (_, path, headers, body) in got if not verify(hooks[path], headers, body))
    first, last = min(r[0] for r in got), max(r[0] for r in got)
    # Every webhook gets every event: the same ids on each path, as many as were sent.
    ids = {path: {i for (p, i) in unique if p == path} for path in hooks}
    every = set.union(*ids.values())
    lost = sum(len(every - got_ids) for got_ids in ids.values()) + WEBHOOKS * max(0, THROUGHPUT_SCANS - len(every))
    return {
        f"webhook_{source}_deliveries": expected,
        f"webhook_{source}_posted_per_s": round(THROUGHPUT_SCANS / (posted - started)),
        f"webhook_{source}_deliveries_per_s": round(len(got) / max(last - first, 1e-9)),
        f"webhook_{source}_lost": lost,
        f"webhook_{source}_doubled": len(pairs) - len(unique),
        f"webhook_{source}_bad_signatures": invalid,
    }


def kill9(binary):
    """Deliveries pending to a receiver that is down, the server killed, both started again."""
    data = tempfile.mkdtemp(prefix="bench-webhooks-kill-")
    port = free_port()
    hook_port = free_port()
    server = Server(binary, data, port, retry_schedule="2s,2s,2s,2s,2s,2s,2s,2s,2s,2s")
    try:
        api = Api(port, server.first_start())
        api.call("POST", "/api/webhooks", {"url": f"http://127.0.0.1:{hook_port}/k", "events": ["scan.ingested"]})
        repo = api.call("POST", "/api/repos", {"name": "kill"})["repo_id"]
        n = 50
        for i in range(n):
            api.call("POST", f"/api/repos/{repo}/scans", native_scan(200_000 + i, leak=False))
        time.sleep(1.0)  # first attempts made and failed: all pending, some in flight
        server.kill9()
        receiver = Receiver(hook_port)
        server.start()
        deadline = time.time() + 120
        while time.time() < deadline and len({r[2]["webhook-id"] for r in receiver.snapshot()}) < n:
            time.sleep(0.1)
        time.sleep(3.0)  # a retry would come within 2 s
        ids = [r[2]["webhook-id"] for r in receiver.snapshot()]
        receiver.stop()
        return {"kill9_events": n, "kill9_delivered": len(set(ids)), "kill9_lost": n - len(set(ids)),
                "kill9_doubled": len(ids) - len(set(ids))}
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def main():
    binary = sys.argv[1]
    data = tempfile.mkdtemp(prefix="bench-webhooks-")
    port = free_port()
    server = Server(binary, data, port)
    receiver = Receiver()
    try:
        api = Api(port, server.first_start())
        samples = latency(api, receiver)
        print(f"webhook_latency_p50_ms={statistics.median(samples):.1f}")
        print(f"webhook_latency_p99_ms={percentile(samples, 99):.1f}")
        for source in ("exceptions", "scans"):
            for key, value in throughput(api, receiver, source).items():
                print(f"{key}={value}")
    finally:
        server.stop()
        receiver.stop()
        shutil.rmtree(data, ignore_errors=True)
    for key, value in kill9(binary).items():
        print(f"{key}={value}")


if __name__ == "__main__":
    main()
