#!/usr/bin/env bash
# checkov (PyPI), the infrastructure scanner, in a virtualenv of its own under .tools/ (its pinned
# boto3 conflicts with aws-sam-cli's, so it cannot share scripts/python-tools.sh's); installed
# when missing or at another version. Prints the checkov binary's path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version=3.3.30
venv="$root/.tools/checkov-venv"
if [ "$("$venv/bin/checkov" --version 2>/dev/null)" != "$version" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$version" >&2
fi
echo "$venv/bin/checkov"
