#!/usr/bin/env bash
# A local S3 for the tests: s3s-fs (the s3s project's file-system backed S3 server, built from
# crates.io with cargo; 0.14.1 because later releases need a newer rustc), run on a free loopback
# port over a fresh temporary folder, with fixed test credentials (it checks SigV4 signatures,
# presigned POST policies included: scripts/s3_policy_check.py shows what it enforces), stopped
# by its own PID.
#   scripts/s3-local.sh install   # cargo install into .tools/s3s-fs/ (idempotent; about 2-3 min once)
#   scripts/s3-local.sh start     # prints export S3_ENDPOINT=... S3_ACCESS_KEY_ID=... S3_SECRET_ACCESS_KEY=...
#   scripts/s3-local.sh stop      # kills it and removes its folder
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version=0.14.1
tools="$root/.tools/s3s-fs"
bin="$tools/bin/s3s-fs"
state="$root/.tools/s3-local.state"
log="$root/.tools/s3-local.log"
# Test-only credentials: the server accepts requests signed with these and no others. Letters and
# digits only, which DynamoDB Local also accepts (scripts/lambda-runtime.py signs both with them).
access_key=s3localtestkey
secret_key=s3localtestsecret

install() {
  if [ ! -x "$bin" ] || [ "$("$bin" --version 2>/dev/null)" != "s3s-fs $version" ]; then
    mkdir -p "$tools"
    cargo install s3s-fs --version "$version" --features binary --locked --root "$tools" >&2
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Any HTTP answer (an unsigned request gets 403) means it is serving.
answers() {
  python3 - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=1)
except urllib.error.HTTPError:
    pass
except Exception:
    sys.exit(1)
EOF
}

start() {
  local dir port pid
  install
  stop
  dir="$(mktemp -d "${TMPDIR:-/tmp}/s3-local.XXXXXX")"
  port="$(free_port)"
  "$bin" --host 127.0.0.1 --port "$port" --access-key "$access_key" --secret-key "$secret_key" \
    "$dir" >"$log" 2>&1 &
  pid=$!
  echo "$pid $port $dir" >"$state"
  local deadline=$((SECONDS + 30))
  while (( SECONDS < deadline )); do
    if answers "$port"; then
      echo "export S3_ENDPOINT=http://127.0.0.1:$port S3_ACCESS_KEY_ID=$access_key S3_SECRET_ACCESS_KEY=$secret_key"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "s3s-fs exited; log:" >&2; cat "$log" >&2; stop; return 1
    fi
    sleep 0.2
  done
  echo "s3s-fs did not answer on port $port within 30 s" >&2
  stop
  return 1
}

stop() {
  [ -f "$state" ] || return 0
  local pid dir
  read -r pid _ dir <"$state"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
  case "$dir" in
    "${TMPDIR:-/tmp}"/s3-local.*) rm -rf "$dir" ;;
  esac
  rm -f "$state"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
