#!/usr/bin/env bash
# Webhooks on the release local server (scripts/bench_webhooks.py): commit-to-receipt latency of
# score.changed (p50, p99), deliveries per second to loopback receivers with none lost or
# doubled, and a kill -9 with deliveries pending. Prints `name=value` lines.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  echo "== cargo build --release -p compliance-local" >&2
  cargo build --release --quiet -p compliance-local
fi
server="${CARGO_TARGET_DIR:-$root/target}/release/compliance-local"
[ -x "$server" ] || { echo "no server binary at $server" >&2; exit 1; }
exec python3 scripts/bench_webhooks.py "$server"
