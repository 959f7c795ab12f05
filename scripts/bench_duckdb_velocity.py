#!/usr/bin/env python3
"""The velocity rule aml-tm-001 in DuckDB, beside the engine's figures.

    bench_duckdb_velocity.py FILE.ndjson [--engine-findings N --engine-parse-s S --engine-eval-s S]
        [--engine-threads T --engine-parallel-parse-s S --engine-parallel-eval-s S]

The rule: a customer's transactions in the rolling 24 hours ending at each transaction, the
transaction included (and every other one at the same instant), must be at most 25; more is a
finding. The engine's window is (t - 24h, t]: a transaction exactly 24 hours earlier is out, so
the frame starts 24 hours less one microsecond back (DuckDB's timestamps are in microseconds,
as the engine's are).

The file is loaded the way the engine reads it for this rule alone: only id, customer_id and
timestamp. Load and query are timed apart, with one thread and with T threads (DuckDB's default,
every core, when T is not given). With the engine's figures (scripts/bench-audit-runs.sh passes
them from the benchmark's `audit_run:` line: one thread, and parsed on T threads then evaluated
in T parts) the script checks that the finding counts agree and prints the engine's rate over
DuckDB's at the same thread count.
"""

import argparse
import os
import sys
import time

import duckdb

THRESHOLD = 25

LOAD = """
CREATE OR REPLACE TABLE tx AS
SELECT id, customer_id, "timestamp" AS ts
FROM read_ndjson({path}, columns = {{'id': 'VARCHAR', 'customer_id': 'VARCHAR', 'timestamp': 'TIMESTAMPTZ'}})
"""

VELOCITY = f"""
SELECT count(*) FROM (
  SELECT count(*) OVER (
    PARTITION BY customer_id ORDER BY ts
    RANGE BETWEEN (INTERVAL '24 hours' - INTERVAL '1 microsecond') PRECEDING AND CURRENT ROW
  ) AS n
  FROM tx
  WHERE customer_id IS NOT NULL AND ts IS NOT NULL
) WHERE n > {THRESHOLD}
"""


def quote(text):
    return "'" + text.replace("'", "''") + "'"


def run(path, threads):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if threads is not None:
        con.execute(f"SET threads = {threads}")
    used = con.execute("SELECT current_setting('threads')").fetchone()[0]
    start = time.perf_counter()
    con.execute(LOAD.format(path=quote(path)))
    loaded = time.perf_counter() - start
    rows = con.execute("SELECT count(*) FROM tx").fetchone()[0]
    start = time.perf_counter()
    findings = con.execute(VELOCITY).fetchone()[0]
    queried = time.perf_counter() - start
    con.close()
    return {"threads": used, "rows": rows, "load_s": loaded, "query_s": queried, "findings": findings}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--engine-findings", type=int, help="the engine's aml-tm-001 findings on the same file")
    parser.add_argument("--engine-parse-s", type=float, help="the engine's parse time, aml-tm-001's schema")
    parser.add_argument("--engine-eval-s", type=float, help="the engine's evaluation time, aml-tm-001 alone")
    parser.add_argument("--engine-threads", type=int, help="threads of the engine's parallel figures")
    parser.add_argument("--engine-parallel-parse-s", type=float, help="the engine's parse time on T threads")
    parser.add_argument("--engine-parallel-eval-s", type=float, help="the engine's evaluation time in T parts")
    args = parser.parse_args()

    size_mb = os.path.getsize(args.path) / 1e6
    print(f"duckdb {duckdb.__version__}, {args.path}: {size_mb:.1f} MB")
    results = [run(args.path, 1), run(args.path, args.engine_threads)]
    for r in results:
        total = r["load_s"] + r["query_s"]
        print(
            f"duckdb, {r['threads']} thread(s): load {r['load_s']:.3f} s ({size_mb / r['load_s']:.0f} MB/s), "
            f"query {r['query_s']:.3f} s ({r['rows'] / r['query_s'] / 1e6:.2f} M rows/s), "
            f"load + query {total:.3f} s ({size_mb / total:.0f} MB/s); "
            f"aml-tm-001 findings: {r['findings']} of {r['rows']} rows"
        )

    ok = True
    if args.engine_findings is not None:
        counts = {r["findings"] for r in results}
        agree = counts == {args.engine_findings}
        ok = agree
        print(
            f"engine aml-tm-001 findings: {args.engine_findings}; DuckDB: {sorted(counts)} -> "
            + ("they agree" if agree else "THEY DISAGREE")
        )
    engine = {}
    if args.engine_parse_s and args.engine_eval_s:
        engine[1] = (args.engine_parse_s, args.engine_eval_s)
    if args.engine_threads and args.engine_parallel_parse_s and args.engine_parallel_eval_s:
        engine[args.engine_threads] = (args.engine_parallel_parse_s, args.engine_parallel_eval_s)
    rows = results[0]["rows"]
    for threads, (parse_s, eval_s) in sorted(engine.items()):
        total = parse_s + eval_s
        print(
            f"engine, {threads} thread(s): parse {parse_s:.3f} s ({size_mb / parse_s:.0f} MB/s), "
            f"evaluate {eval_s:.3f} s ({rows / eval_s / 1e6:.2f} M records/s), "
            f"parse + evaluate {total:.3f} s ({size_mb / total:.0f} MB/s)"
        )
    for r in results:
        if r["threads"] not in engine:
            continue
        parse_s, eval_s = engine[r["threads"]]
        duck_total = r["load_s"] + r["query_s"]
        print(
            f"engine rate / DuckDB rate ({r['threads']} thread(s)): "
            f"load/parse {r['load_s'] / parse_s:.2f}x, "
            f"query/evaluate {r['query_s'] / eval_s:.2f}x, "
            f"end to end {duck_total / (parse_s + eval_s):.2f}x (target >= 1.5x)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
