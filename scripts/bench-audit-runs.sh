#!/usr/bin/env bash
# Audit-run figures, the engine beside DuckDB (loopback only: nothing is fetched but the pinned
# Python packages of scripts/python-tools.sh):
#  1. writes the benchmark's 1,000,000 synthetic AML transactions (≈ 250 MB of NDJSON, seed 2025)
#     to a temporary folder (examples/write_aml_bench_data.rs);
#  2. runs the criterion benchmark (benches/audit_run.rs): the whole AML pack, evaluation alone
#     and parse + evaluate on one thread, peak heap, and the velocity rule aml-tm-001 alone;
#  3. runs the velocity rule as a DuckDB window query over the same file, one thread and every
#     core (scripts/bench_duckdb_velocity.py), checks that the finding counts agree and prints the
#     engine's rate over DuckDB's.
# Takes a few minutes on 2 cores. Exits non-zero when the two disagree.
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
  --engine-eval-s "$(field tm001_eval_s)"
