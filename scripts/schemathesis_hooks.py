"""schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by scripts/schemathesis.py): how to send
a media type it does not know. NDJSON bodies are text documented as strings; they are sent as
their UTF-8 bytes, as text/plain is."""
import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")

# Two threads parsing at once (schemathesis' two workers, each asking hypothesis to describe a
# lambda from its source) have failed here with CPython 3.11's "SystemError: AST constructor
# recursion depth mismatch": the conversion of a parsed tree keeps its depth in state the threads
# share. Parsing is rare and quick: one at a time.
import ast
import threading

_parse_lock = threading.Lock()
_parse = ast.parse


def _parse_one_at_a_time(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _parse_one_at_a_time
