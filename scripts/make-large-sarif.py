#!/usr/bin/env python3
"""Writes the synthetic large SARIF report of the ingest benchmark to a file.

The same construction as `large_report()` in shared/domain/benches/ingest_and_score.rs: the
runs of six real samples (../shared/sarif-samples), each run's results repeated until the log
is at least 50 MiB; each copy gets its own line numbers and partial fingerprints. Keys are
written sorted and without spaces, as serde_json writes a `Value`.

usage: scripts/make-large-sarif.py OUT.sarif [--target-bytes N] [--gzip OUT.sarif.gz]
"""

import argparse
import copy
import gzip
import json
import os
import sys

from bench_report import SOURCES  # noqa: E402  (scripts/ is on sys.path when run)


def samples_dir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "shared", "sarif-samples"))


def report_with(runs, rounds):
    grown_runs = []
    for run in runs:
        run = dict(run)
        results = run.get("results")
        if isinstance(results, list):
            grown = []
            for rnd in range(rounds):
                for r in results:
                    r = copy.deepcopy(r)
                    try:
                        region = r["locations"][0]["physicalLocation"]["region"]
                        if "startLine" in region:
                            line = region["startLine"]
                            line = line if isinstance(line, int) and line >= 0 else 1
                            region["startLine"] = line + rnd * 10_000
                    except (KeyError, IndexError, TypeError):
                        pass
                    if "partialFingerprints" in r:
                        r["partialFingerprints"] = {"round": str(rnd)}
                    grown.append(r)
            run["results"] = grown
        grown_runs.append(run)
    log = {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": grown_runs,
    }
    return json.dumps(log, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--target-bytes", type=int, default=50 * 1024 * 1024)
    p.add_argument("--gzip", help="also write a gzip of the report here")
    args = p.parse_args()

    runs = []
    for rel in SOURCES:
        with open(os.path.join(samples_dir(), rel), encoding="utf-8-sig") as f:
            runs.extend(json.load(f).get("runs") or [])
    rounds = 16
    while True:
        data = report_with(runs, rounds)
        if len(data) >= args.target_bytes:
            break
        rounds = rounds * args.target_bytes // len(data) + 1
    with open(args.out, "wb") as f:
        f.write(data)
    if args.gzip:
        with gzip.open(args.gzip, "wb", compresslevel=6) as f:
            f.write(data)
    print(f"{args.out}: {len(data)} bytes, {rounds} rounds", file=sys.stderr)


if __name__ == "__main__":
    main()
