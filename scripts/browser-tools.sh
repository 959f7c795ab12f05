#!/usr/bin/env bash
# What scripts/browser_test.py needs besides selenium (scripts/python-tools.sh): Debian's
# chromium and chromium-driver (apt, installed when missing: as root, or with password-less
# sudo) and axe-core from npm into .tools/axe-core (pinned; injected into the pages by the test,
# never served by the app). Prints the path of axe.min.js. Also Debian's curl and jq, the same
# way: the reference's CI snippet (local/tests/binary/ci_snippet.rs) runs in a shell with them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
axe_version=4.11.0

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v jq >/dev/null 2>&1 || missing+=(jq)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    sudo=()
  elif sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "browser-tools: ${missing[*]} missing; install them (apt-get install ${missing[*]}) as root" >&2
    exit 1
  fi
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2
fi

tools="$root/.tools/axe-core"
axe="$tools/node_modules/axe-core/axe.min.js"
if [ ! -f "$axe" ] || ! grep -q "\"version\": \"$axe_version\"" "$tools/node_modules/axe-core/package.json"; then
  mkdir -p "$tools"
  (cd "$tools" && npm init -y >/dev/null 2>&1 && npm install --no-audit --no-fund --silent "axe-core@$axe_version" >&2)
fi
echo "$axe"
