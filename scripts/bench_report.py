"""The benchmarks' report: one SARIF document made of the runs of six real scanners' samples
(../shared/sarif-samples/: CodeQL, Snyk, Trivy, Semgrep, gitleaks, bandit), so a score has
findings of several check types to judge.

    python3 scripts/bench_report.py SAMPLES_DIR OUT.sarif
"""
import json
import sys

SOURCES = [
    "codeql/codeql-2.20.4_javascript_smithy.sarif",
    "snyk/snyk-container-1.1292.1_reloader.sarif",
    "trivy/trivy-0.69_config_misconfig_terraform.sarif",
    "semgrep/semgrep_dataflow_traces.sarif",
    "gitleaks/gitleaks-8_provenancepass_3results.sarif",
    "bandit/bandit-1.8.6_open-hostfactory.sarif",
]


def combined_report(samples):
    runs = []
    for path in SOURCES:
        with open(f"{samples}/{path}") as f:
            runs.extend(json.load(f)["runs"])
    return {"version": "2.1.0", "runs": runs}


if __name__ == "__main__":
    with open(sys.argv[2], "w") as out:
        json.dump(combined_report(sys.argv[1]), out)
