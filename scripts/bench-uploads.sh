#!/usr/bin/env bash
# Uploads of any size, measured from the outside (scripts/bench_uploads.py): records at ½, 1 and
# 2 GB as audit runs beside DuckDB, SARIF at ¼, ½ and 1 GB as scans beside sarif-tools, each
# through the release local server's upload path with its peak memory. BENCH_RECORDS_MB (1024)
# and BENCH_SARIF_MB (512) set the middle sizes; BENCH_SKIP="records" or "sarif" skips one.
# Needs about 3 × the largest size free in TMPDIR; takes several minutes on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tools_bin="$(scripts/python-tools.sh)"
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release --quiet -p compliance-local
cargo build --release --quiet -p compliance-packs --features synthetic --example write_aml_bench_data
tmp="$(mktemp -d "${TMPDIR:-/tmp}/bench-uploads.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
skip=()
for s in ${BENCH_SKIP:-}; do skip+=(--skip "$s"); done
"$tools_bin/python" scripts/bench_uploads.py "$target/release/compliance-local" \
  "$target/release/examples/write_aml_bench_data" "$tmp" \
  --records-mb "${BENCH_RECORDS_MB:-1024}" --sarif-mb "${BENCH_SARIF_MB:-512}" "${skip[@]}"
