#!/usr/bin/env bash
# HTTP ingest of a large SARIF report beside `sarif summary` of sarif-tools (PyPI) on the same
# file, and the server's peak memory against the report's size (issue 13):
#  1. builds the release local server (unless BENCH_NO_BUILD=1) and writes the ~50 MiB
#     synthetic report of the ingest benchmark (scripts/make-large-sarif.py; BENCH_SARIF=<file>
#     reuses one) and its gzip;
#  2. installs sarif-tools into .tools/venv when missing (pinned: SARIF_TOOLS_VERSION);
#  3. starts the server under `/usr/bin/time -v` on a free loopback port over a fresh data
#     folder in /tmp, snapshots off, creates repositories and POSTs the gzip to
#     `/api/repos/{id}/scans` (Content-Encoding: gzip; parse, store, audit, rescore) BENCH_RUNS
#     times (default 3, a new repository each time, so none is a duplicate), keeping the best
#     wall time as curl measures it;
#  4. times `sarif summary` on the decompressed report (best of BENCH_PEER_RUNS, default 1);
#  5. stops the server (its own PID) and reads its maximum resident set size from time -v.
# Prints `key=value` lines: http_ingest_seconds, sarif_summary_seconds, speedup (peer / ours),
# decompressed_bytes, gzip_bytes, peak_rss_bytes, idle_rss_bytes (before the first POST) and
# rss_ratio (peak RSS / decompressed size). Needs curl, python3 and GNU time (/usr/bin/time).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

runs="${BENCH_RUNS:-3}"
peer_runs="${BENCH_PEER_RUNS:-1}"
sarif_tools_version="${SARIF_TOOLS_VERSION:-3.0.5}"

for tool in curl python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || {
    echo "$tool is required (GNU time: apt-get install time)" >&2
    exit 1
  }
done

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  echo "== cargo build --release -p compliance-local" >&2
  cargo build --release --quiet -p compliance-local
fi
target_dir="${CARGO_TARGET_DIR:-$root/target}"
server="$target_dir/release/compliance-local"
[ -x "$server" ] || {
  echo "no server binary at $server" >&2
  exit 1
}

venv="$root/.tools/venv"
if [ ! -x "$venv/bin/sarif" ]; then
  echo "== pip install sarif-tools==$sarif_tools_version (into .tools/venv)" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "sarif-tools==$sarif_tools_version" >&2
fi

tmp="$(mktemp -d /tmp/bench-ingest-http.XXXXXX)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

report="$tmp/report.sarif"
if [ -n "${BENCH_SARIF:-}" ]; then
  cp "$BENCH_SARIF" "$report"
  python3 -c "import gzip, shutil, sys; shutil.copyfileobj(open(sys.argv[1], 'rb'), gzip.open(sys.argv[2], 'wb', 6))" \
    "$report" "$report.gz"
else
  echo "== scripts/make-large-sarif.py" >&2
  python3 scripts/make-large-sarif.py "$report" --gzip "$report.gz"
fi
decompressed="$(wc -c <"$report" | tr -d ' ')"
compressed="$(wc -c <"$report.gz" | tr -d ' ')"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"

# time -v runs the server as its child; the server's own PID is what is stopped at the end.
COMPLIANCE_DATA_DIR="$tmp/data" COMPLIANCE_ADDR="127.0.0.1:$port" \
  COMPLIANCE_SNAPSHOT_INTERVAL_SECONDS=0 COMPLIANCE_STORE=embedded \
  /usr/bin/time -v -o "$tmp/time.txt" "$server" >"$tmp/server.log" 2>&1 &
time_pid=$!
for _ in $(seq 1 400); do
  grep -q "Listening on" "$tmp/server.log" && break
  kill -0 "$time_pid" 2>/dev/null || {
    cat "$tmp/server.log" >&2
    exit 1
  }
  sleep 0.05
done
grep -q "Listening on" "$tmp/server.log" || {
  echo "the server did not start" >&2
  cat "$tmp/server.log" >&2
  exit 1
}
pid="$(cat /proc/"$time_pid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -m1 . || true)"
[ -n "$pid" ] || {
  echo "no server process under time" >&2
  exit 1
}
key="$(grep -o 'csk_[A-Za-z0-9_-]*' "$tmp/server.log" | head -n 1)"
[ -n "$key" ] || {
  echo "no admin key in the server's output" >&2
  exit 1
}
idle_rss_kb="$(awk '/^VmHWM/ {print $2}' /proc/"$pid"/status)"

json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

best=""
for i in $(seq 1 "$runs"); do
  repo="$(curl -sf -X POST -H "X-API-Key: $key" -H "Content-Type: application/json" \
    -d "{\"name\": \"bench-ingest-$i\"}" "$base/api/repos" | json '["repo_id"]')"
  seconds="$(curl -sf -o "$tmp/scan.json" -w '%{time_total}' -X POST \
    -H "X-API-Key: $key" -H "Content-Type: application/sarif+json" \
    -H "Content-Encoding: gzip" --data-binary @"$report.gz" "$base/api/repos/$repo/scans")"
  findings="$(json '["summary"]["totals"]["findings"]' <"$tmp/scan.json")"
  echo "ingest $i: ${seconds}s, $findings findings" >&2
  best="$(python3 -c "print(min(float(x) for x in '$best $seconds'.split()))")"
done

peer_best=""
for _ in $(seq 1 "$peer_runs"); do
  start="$(date +%s.%N)"
  "$venv/bin/sarif" summary "$report" >"$tmp/peer.txt"
  end="$(date +%s.%N)"
  s="$(python3 -c "print(f'{$end - $start:.3f}')")"
  echo "sarif summary: ${s}s" >&2
  peer_best="$(python3 -c "print(min(float(x) for x in '$peer_best $s'.split()))")"
done

kill -INT "$pid"
wait "$time_pid" 2>/dev/null || true
pid=""
peak_kb="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt")"
[ -n "$peak_kb" ] || {
  echo "no maximum resident set size from time -v" >&2
  cat "$tmp/time.txt" >&2
  exit 1
}

echo "http_ingest_seconds=$best"
echo "sarif_summary_seconds=$peer_best"
python3 -c "print(f'speedup={$peer_best / $best:.1f}')"
echo "decompressed_bytes=$decompressed"
echo "gzip_bytes=$compressed"
echo "idle_rss_bytes=$((idle_rss_kb * 1024))"
echo "peak_rss_bytes=$((peak_kb * 1024))"
python3 -c "print(f'rss_ratio={$peak_kb * 1024 / $decompressed:.2f}')"
