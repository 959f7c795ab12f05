#!/usr/bin/env python3
"""A minimal Lambda runtime API, to time a function's cold start: exec -> first event answered.

    scripts/runtime_stub.py [--runs N] [--env K=V ...] NAME=BINARY:EVENT_FILE [NAME=BINARY:EVENT_FILE ...]

Serves the three routes a Rust runtime uses (`GET /2018-06-01/runtime/invocation/next`,
`POST .../invocation/{id}/response` and `.../error`, plus `/runtime/init/error`) on a loopback
port. Each run spawns the binary with the environment Lambda gives a function
(`AWS_LAMBDA_RUNTIME_API`, the function's name, version and memory, and the region and
credentials when the caller's environment has none), hands it EVENT_FILE
on its first `next`, and stops the clock when its answer arrives (the response POST read whole);
the process is then killed. Two times are kept per run: `ready` (spawn to the first `next`:
configuration, logging, clients, router) and `answered` (spawn to the response: the first
event included). The binaries are run in turn, run after run, so that they share the machine's
state; medians (and minimums) are printed as one JSON object per binary:

    {"name": "admin-api", "runs": 20, "ready_ms": 3.1, "answered_ms": 3.6, "min_answered_ms": 3.2, "status": 200}

`status` is the HTTP status of an HTTP function's first answer (`statusCode`), absent for other
events. An error reported by the function (an init or invocation error), or no answer within
10 s, fails the run with the function's stderr.

Nothing but the standard library: the stub itself adds no start-up of its own to the figure
(unlike `cargo lambda watch`, whose emulator starts the binary itself).
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class Stub:
    """The state of the run in progress: one event, one expected answer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.event = b"{}"
        self.request_id = ""
        self.served = False
        self.ready_at = None
        self.answered_at = None
        self.answer = None
        self.error = None
        self.done = threading.Event()
        self.stop_waiting = threading.Event()
        self.generation = 0

    def arm(self, event, request_id):
        with self.lock:
            self.generation += 1
            self.event, self.request_id = event, request_id
            self.served, self.ready_at, self.answered_at = False, None, None
            self.answer, self.error = None, None
            self.done.clear()
            self.stop_waiting.clear()


STUB = Stub()


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A killed function drops its waiting `next` connection: expected, not worth a trace.
        pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def stale(self):
        """A request of an earlier run's (killed) process, served late."""
        if self.server.generation != STUB.generation:
            self.close_connection = True
            return True
        return False

    def do_GET(self):
        if self.stale():
            return
        if self.path != f"{PREFIX}/invocation/next":
            return self.reply(404)
        now = time.perf_counter()
        with STUB.lock:
            first = not STUB.served
            STUB.served = True
            if first:
                STUB.ready_at = now
            event, request_id = STUB.event, STUB.request_id
        if not first:
            # The runtime asks for its second event: none comes; the process is killed.
            STUB.stop_waiting.wait(30)
            self.close_connection = True
            return
        deadline = int((time.time() + 900) * 1000)
        self.reply(200, event, [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", request_id),
            ("Lambda-Runtime-Deadline-Ms", str(deadline)),
            ("Lambda-Runtime-Invoked-Function-Arn",
             "arn:aws:lambda:us-east-1:123456789012:function:bench"),
            ("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0"),
        ])

    def do_POST(self):
        if self.stale():
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        now = time.perf_counter()
        path = self.path
        with STUB.lock:
            if path == f"{PREFIX}/invocation/{STUB.request_id}/response":
                STUB.answered_at, STUB.answer = now, body
            elif path.endswith("/error"):
                STUB.error = f"{path}: {body.decode(errors='replace')}"
            else:
                return self.reply(404)
        self.reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
        STUB.done.set()


def run_once(name, binary, event, env, run):
    # A server of its own per run: a killed process's last `next` cannot reach the next run.
    server = Server(("127.0.0.1", 0), Handler)
    server.generation = STUB.generation + 1  # the generation run_on arms
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        return run_on(port, name, binary, event, env, run)
    finally:
        server.shutdown()
        server.server_close()


def run_on(port, name, binary, event, env, run):
    STUB.arm(event, f"bench-{name}-{run}")
    fn_env = dict(env)
    fn_env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
    })
    # Lambda always sets the region and the role's credentials.
    for k, v in (("AWS_REGION", "us-east-1"), ("AWS_DEFAULT_REGION", "us-east-1"),
                 ("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench"),
                 ("AWS_SESSION_TOKEN", "bench")):
        fn_env.setdefault(k, v)
    started = time.perf_counter()
    proc = subprocess.Popen([binary], env=fn_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    answered = STUB.done.wait(10)
    STUB.stop_waiting.set()
    proc.send_signal(signal.SIGKILL)
    _, stderr = proc.communicate()
    if not answered or STUB.error or STUB.answered_at is None:
        reason = STUB.error or "no answer within 10 s"
        raise SystemExit(f"{name}: {reason}\n{stderr.decode(errors='replace')[-4000:]}")
    status = None
    try:
        answer = json.loads(STUB.answer)
        if isinstance(answer, dict):
            status = answer.get("statusCode")
    except ValueError:
        pass
    return (STUB.ready_at - started) * 1000, (STUB.answered_at - started) * 1000, status


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2,
                        help="runs per binary not counted (page cache, first exec)")
    parser.add_argument("--env", action="append", default=[], metavar="K=V")
    parser.add_argument("targets", nargs="+", metavar="NAME=BINARY:EVENT_FILE")
    args = parser.parse_args()
    targets = []
    for t in args.targets:
        name, _, rest = t.partition("=")
        binary, _, event_file = rest.rpartition(":")
        if not (name and binary and event_file):
            parser.error(f"{t}: expected NAME=BINARY:EVENT_FILE")
        with open(event_file, "rb") as f:
            targets.append((name, os.path.abspath(binary), f.read()))
    env = dict(os.environ)
    env.setdefault("RUST_LOG", "warn")
    for kv in args.env:
        k, _, v = kv.partition("=")
        env[k] = v

    times = {name: [] for name, _, _ in targets}
    statuses = {}
    for run in range(args.warmup + args.runs):
        for name, binary, event in targets:
            ready, answered, status = run_once(name, binary, event, env, run)
            statuses[name] = status
            if run >= args.warmup:
                times[name].append((ready, answered))
    for name, _, _ in targets:
        ready = [r for r, _ in times[name]]
        answered = [a for _, a in times[name]]
        out = {
            "name": name,
            "runs": len(answered),
            "ready_ms": round(statistics.median(ready), 2),
            "answered_ms": round(statistics.median(answered), 2),
            "min_answered_ms": round(min(answered), 2),
        }
        if statuses.get(name) is not None:
            out["status"] = statuses[name]
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    sys.exit(main())
