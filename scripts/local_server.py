"""What the scripts that start a server on loopback share (imported by browser_test.py,
lambda-runtime.py, schemathesis.py and the benchmarks, which run with scripts/ on sys.path)."""
import http.client
import json
import socket
import threading


def free_port():
    """A loopback TCP port that was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


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
