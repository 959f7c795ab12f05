#!/usr/bin/env bash
# Requests per second of `GET /api/compliance/score/{repo_id}` beside `GET /api/health` on the
# same release local server (issue 13: the score endpoint at ≥ 0.5× health):
#  1. builds the release local server (unless BENCH_NO_BUILD=1) and starts it on a free loopback
#     port over a fresh data folder in /tmp (the demo org on the enterprise plan: the six
#     built-in frameworks enabled), snapshots off;
#  2. creates a repository and ingests one SARIF report made of the runs of six real scanners'
#     samples (../shared/sarif-samples/: CodeQL, Snyk, Trivy, Semgrep, gitleaks, bandit), so the
#     score has findings of several check types to judge;
#  3. runs `ab -k -c 16 -n 20000` (BENCH_CONCURRENCY, BENCH_REQUESTS) on both endpoints after a
#     warm-up, and prints both rates and their ratio (last line: `score_rps_ratio=<x>`);
#  4. stops the server (its own PID) and removes the data folder.
# Needs ab (Debian: apache2-utils), curl and python3. Exits non-zero when a request fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

concurrency="${BENCH_CONCURRENCY:-16}"
requests="${BENCH_REQUESTS:-20000}"
samples="${SARIF_SAMPLES:-$root/../shared/sarif-samples}"

for tool in ab curl python3; do
  command -v "$tool" >/dev/null || {
    echo "$tool is required (ab: apt-get install apache2-utils)" >&2
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

tmp="$(mktemp -d /tmp/bench-score-rps.XXXXXX)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"

COMPLIANCE_DATA_DIR="$tmp/data" COMPLIANCE_ADDR="127.0.0.1:$port" \
  COMPLIANCE_SNAPSHOT_INTERVAL_SECONDS=0 COMPLIANCE_STORE=embedded \
  "$server" >"$tmp/server.log" 2>&1 &
pid=$!

for _ in $(seq 1 200); do
  grep -q "Listening on" "$tmp/server.log" && break
  kill -0 "$pid" 2>/dev/null || {
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
key="$(grep -o 'csk_[A-Za-z0-9_-]*' "$tmp/server.log" | head -n 1)"
[ -n "$key" ] || {
  echo "no admin key in the server's output" >&2
  exit 1
}

json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

repo="$(curl -sf -X POST -H "X-API-Key: $key" -H "Content-Type: application/json" \
  -d '{"name": "bench-repo", "languages": ["python", "javascript"]}' "$base/api/repos" |
  json '["repo_id"]')"

python3 "$root/scripts/bench_report.py" "$samples" "$tmp/report.sarif"
curl -sf -X POST -H "X-API-Key: $key" -H "Content-Type: application/sarif+json" \
  --data-binary @"$tmp/report.sarif" "$base/api/repos/$repo/scans" >"$tmp/scan.json"
score_url="$base/api/compliance/score/$repo"
curl -sf -H "X-API-Key: $key" "$score_url" >"$tmp/score.json"
bytes="$(wc -c <"$tmp/score.json" | tr -d ' ')"
controls="$(json '["executive_summary"]["total_controls"]' <"$tmp/score.json")"
echo "score response: $bytes bytes, $controls counted controls" >&2

# ab prints `Requests per second:    1234.56 [#/sec] (mean)`; a non-2xx answer fails the run.
rate() {
  local name="$1"
  shift
  ab -q -k -c "$concurrency" -n "$((requests / 10))" "$@" >/dev/null
  ab -q -k -c "$concurrency" -n "$requests" "$@" >"$tmp/$name.ab"
  if grep -q "Non-2xx responses" "$tmp/$name.ab"; then
    echo "$name: non-2xx answers" >&2
    cat "$tmp/$name.ab" >&2
    exit 1
  fi
  awk '/^Requests per second/ {print $4}' "$tmp/$name.ab"
}

health="$(rate health "$base/api/health")"
score="$(rate score -H "X-API-Key: $key" "$score_url")"
echo "health_rps=$health"
echo "score_rps=$score"
python3 -c "print(f'score_rps_ratio={$score / $health:.3f}')"
