#!/usr/bin/env bash
# The Python tools the suite uses, in a project-local virtualenv (.tools/venv), installed once,
# at pinned versions (schemathesis and hypothesis generate differently from one release to
# the next; a pinned pair keeps the suite's runs reproducible). duckdb is for the side-by-side
# of scripts/bench-audit-runs.sh; compliance-trestle and check-jsonschema are the two independent
# OSCAL validators of scripts/oscal_validate.py; selenium drives chromium in scripts/browser_test.py,
# whose webhook check verifies the deliveries' signatures with standardwebhooks (the reference library).
# Prints the venv's bin folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.tools/venv"
wanted=(cfn-lint==1.58.0 aws-sam-cli==1.170.0 cargo-lambda==1.9.2 schemathesis==4.32.5 hypothesis==6.170.17 duckdb==1.5.6 sarif-tools==3.0.5 compliance-trestle==3.12.4 check-jsonschema==0.38.0 selenium==4.50.0 standardwebhooks==1.1.0)
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
installed="$("$venv/bin/python" -m pip freeze 2>/dev/null | tr 'A-Z_' 'a-z-')"
missing=()
for pkg in "${wanted[@]}"; do
  grep -qx "$pkg" <<<"$installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${missing[@]}" >&2
fi
echo "$venv/bin"
