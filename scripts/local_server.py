"""What the scripts that start a server on loopback share (imported by browser_test.py,
lambda-runtime.py and schemathesis.py, which run with scripts/ on sys.path)."""
import socket


def free_port():
    """A loopback TCP port that was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
