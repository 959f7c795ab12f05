#!/usr/bin/env bash
# Node tools the suite uses besides DynamoDB Local (scripts/dynamodb-local.sh) and axe-core
# (scripts/browser-tools.sh): asl-validator, which checks statemachine/*.asl.json against the
# Amazon States Language schema. Installed from npm into .tools/asl-validator at a pinned
# version (idempotent; no global install). Prints the path of its command.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
asl_validator_version=4.0.0

tools="$root/.tools/asl-validator"
bin="$tools/node_modules/.bin/asl-validator"
if [ ! -x "$bin" ] || ! grep -q "\"version\": \"$asl_validator_version\"" "$tools/node_modules/asl-validator/package.json"; then
  mkdir -p "$tools"
  (cd "$tools" && npm init -y >/dev/null 2>&1 && npm install --no-audit --no-fund --silent "asl-validator@$asl_validator_version" >&2)
fi
echo "$bin"
