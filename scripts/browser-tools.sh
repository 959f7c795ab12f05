#!/usr/bin/env bash
# What scripts/browser_test.py needs besides selenium (scripts/python-tools.sh): Debian's
# chromium and chromium-driver (apt, installed when missing: as root, or with password-less
# sudo) and axe-core from npm into .tools/axe-core (pinned; injected into the pages by the test,
# never served by the app). Prints the path of axe.min.js. Also Debian's curl and jq, the same
# way: the reference's CI snippet (local/tests/binary/ci_snippet.rs) runs in a shell with them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
axe_version=4.11.0

"$root/scripts/apt-install.sh" chromium chromedriver=chromium-driver curl jq

tools="$root/.tools/axe-core"
axe="$tools/node_modules/axe-core/axe.min.js"
if [ ! -f "$axe" ] || ! grep -q "\"version\": \"$axe_version\"" "$tools/node_modules/axe-core/package.json"; then
  mkdir -p "$tools"
  (cd "$tools" && npm init -y >/dev/null 2>&1 && npm install --no-audit --no-fund --silent "axe-core@$axe_version" >&2)
fi
echo "$axe"
