#!/usr/bin/env bash
# The Python tools the suite uses, in a project-local virtualenv (.tools/venv), installed once.
# Prints the venv's bin folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.tools/venv"
wanted=(cfn-lint aws-sam-cli cargo-lambda schemathesis)
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
missing=()
for pkg in "${wanted[@]}"; do
  "$venv/bin/python" -m pip show --quiet "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${missing[@]}" >&2
fi
echo "$venv/bin"
