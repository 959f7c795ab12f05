#!/usr/bin/env bash
# The read path on DynamoDB Local: GET score, trend and summary beside GET /api/repos/{id}
# (p50/p99 one request at a time, req/s with 16 clients); see scripts/bench_dynamodb_reads.py.
# Builds the release local server and snapshot-bench unless BENCH_NO_BUILD=1.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/apt-install.sh ab=apache2-utils >&2
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  echo "== cargo build --release -p compliance-local -p snapshot-bench" >&2
  cargo build --release --quiet -p compliance-local -p snapshot-bench
fi
exec python3 scripts/bench_dynamodb_reads.py
