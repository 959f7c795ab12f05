#!/usr/bin/env bash
# Installs Debian packages for commands that are missing: `scripts/apt-install.sh chromium
# chromedriver=chromium-driver ab=apache2-utils` (a command, or command=package). As root, or
# with password-less sudo; otherwise says what to install and fails.
set -euo pipefail
missing=()
for wanted in "$@"; do
  command="${wanted%%=*}"
  package="${wanted#*=}"
  command -v "$command" >/dev/null 2>&1 || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  sudo=()
elif sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "${missing[*]} missing; install them (apt-get install ${missing[*]}) as root" >&2
  exit 1
fi
"${sudo[@]}" apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2
