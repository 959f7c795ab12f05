#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test on both storage adapters
# (DynamoDB Local is started on a free loopback port and stopped afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools the suite uses, installed when missing (a fresh machine has Rust, Java 17, Python, Node).
tools_bin="$(scripts/python-tools.sh)"
scripts/dynamodb-local.sh install
scripts/browser-tools.sh >/dev/null   # chromium, chromium-driver, curl, jq (apt, when missing), axe-core (npm)

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

"$tools_bin/cfn-lint" template.yaml
SAM_CLI_TELEMETRY=0 "$tools_bin/sam" validate --lint

eval "$(scripts/dynamodb-local.sh start)"
trap 'scripts/dynamodb-local.sh stop' EXIT
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
