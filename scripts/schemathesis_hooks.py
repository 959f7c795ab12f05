"""schemathesis hooks (loaded through SCHEMATHESIS_HOOKS by scripts/schemathesis.py): how to send
a media type it does not know. NDJSON bodies are text documented as strings; they are sent as
their UTF-8 bytes, as text/plain is."""
import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
