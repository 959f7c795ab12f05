"""What the scripts that start a server on loopback share (imported by browser_test.py,
lambda-runtime.py, schemathesis.py and the benchmarks, which run with scripts/ on sys.path)."""
import http.client
import json
import re
import socket
import subprocess
import threading
import time


def free_port():
    """A loopback TCP port that was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(binary, env, log_path):
    """The local server `binary` started with `env`, its output in `log_path`: the process and
    the admin key its first start printed, once it listens."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT)
    for _ in range(400):
        with open(log_path) as f:
            text = f.read()
        if "Listening on" in text:
            key = re.search(r"csk_[A-Za-z0-9_-]+", text)
            if not key:
                raise SystemExit("no admin key in the server's output")
            return proc, key.group(0)
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped:\n{text}")
        time.sleep(0.05)
    raise SystemExit("the server did not start")


class Api:
    def __init__(self, port, key):
        self.port, self.key = port, key
        self.local = threading.local()

    def call(self, method, path, body=None, content_type="application/json"):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        data = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else None)
        headers = {"X-API-Key": self.key}
        if data is not None:
            headers["Content-Type"] = content_type
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read()
        if resp.status >= 300:
            raise SystemExit(f"{method} {path}: {resp.status} {text[:300]!r}")
        return json.loads(text) if text else None
