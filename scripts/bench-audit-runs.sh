#!/usr/bin/env bash
# Audit-run figures, the engine beside DuckDB (loopback only: nothing is fetched but the pinned
# Python packages of scripts/python-tools.sh):
#  1. writes the benchmark's 1,000,000 synthetic AML transactions (≈ 250 MB of NDJSON, seed 2025)
#     to a temporary folder (examples/write_aml_bench_data.rs);
#  2. runs the criterion benchmark (benches/audit_run.rs): the whole AML pack, evaluation alone
#     and parse + evaluate on one thread, peak heap, and the velocity rule aml-tm-001 alone;
#  3. runs the velocity rule as a DuckDB window query over the same file, on one thread and on as
#     many as the benchmark's parallel figures use (scripts/bench_duckdb_velocity.py), checks that
#     the finding counts agree and prints the engine's rate over DuckDB's at each thread count;
#  4. streams the same file through the spilled path (`engine::evaluate_spilled`: partition files
#     on disk, evaluated a few at a time, merged; examples/spill_run.rs) under /usr/bin/time,
#     checks that its aml-tm-001 findings are the benchmark's and prints its rate and peak RSS.
#     SPILL_COUNTS="4000000 8000000" also writes feeds of those many transactions (≈ 1 and 2 GB;
#     the disk needs room for the feed and about 0.7 × it in partition files) and runs them too.
# Takes a few minutes on 2 cores. Exits non-zero when two paths disagree. The rates are wall-clock:
# on a shared machine, compare with the load average printed beside them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
data="$tmp/aml_transactions.ndjson"

echo "== writing the feed"
cargo run --release --quiet -p compliance-packs --features synthetic \
  --example write_aml_bench_data -- "$data" 1000000 2025

echo "== cargo bench (audit_run)"
cargo bench -p compliance-packs --features synthetic --bench audit_run 2>&1 | tee "$tmp/bench.log"

line="$(grep '^audit_run:' "$tmp/bench.log" | tail -n 1)"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
bytes="$(field bytes)"
size="$(wc -c <"$data" | tr -d ' ')"
if [ "$bytes" != "$size" ]; then
  echo "the benchmark read $bytes bytes but the file has $size: not the same feed" >&2
  exit 1
fi

echo "== DuckDB"
tools_bin="$(scripts/python-tools.sh)"
"$tools_bin/python" scripts/bench_duckdb_velocity.py "$data" \
  --engine-findings "$(field tm001_findings)" \
  --engine-parse-s "$(field tm001_parse_s)" \
  --engine-eval-s "$(field tm001_eval_s)" \
  --engine-threads "$(field threads)" \
  --engine-parallel-parse-s "$(field tm001_parallel_parse_s)" \
  --engine-parallel-eval-s "$(field tm001_parallel_eval_s)"

echo "== spilled path (evaluate_spilled)"
cargo build --release --quiet -p compliance-packs --example spill_run
spill_run() {
  local feed="$1" log="$tmp/spill.log"
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v target/release/examples/spill_run "$feed" aml "$(nproc)" "$tmp" >"$log" 2>"$log.time"
  else
    target/release/examples/spill_run "$feed" aml "$(nproc)" "$tmp" >"$log"
    echo "Maximum resident set size (kbytes): unknown" >"$log.time"
  fi
  grep '^spill_run:' "$log" >&2
  echo "  peak RSS: $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log.time") KiB; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  sed -n 's/^ *aml-tm-001 .* findings *\([0-9]*\) .*/\1/p' "$log"
}
spilled_tm001="$(spill_run "$data")"
if [ "$spilled_tm001" != "$(field tm001_findings)" ]; then
  echo "the spilled path found $spilled_tm001 aml-tm-001 findings, the benchmark $(field tm001_findings)" >&2
  exit 1
fi
for count in ${SPILL_COUNTS:-}; do
  big="$tmp/aml_$count.ndjson"
  cargo run --release --quiet -p compliance-packs --features synthetic \
    --example write_aml_bench_data -- "$big" "$count" 2025
  spill_run "$big" >/dev/null
  rm -f "$big"
done
