#!/usr/bin/env bash
# A newcomer's first command, proven: the README's run command exactly as written (only the
# listen address moved to a free loopback port), from a checkout with no data folder; then
# GET /api/health and the printed admin key on GET /api/api-keys. Run from the project root.
# In CI's fresh clone it runs in place; where a .data folder exists (a developer's checkout),
# it runs in a fresh clone of HEAD instead, sharing the build.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
work="$root"; tmp=""; pid=""; created=""
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [[ -n $tmp ]] && rm -rf "$tmp"
  # The folder this check's own start created in place goes with it.
  [[ -n $created ]] && rm -rf "$created"
  return 0
}
trap cleanup EXIT
if [[ -e "$root/.data" ]]; then
  tmp="$(mktemp -d)"
  git clone -q "$root" "$tmp/clone"
  work="$tmp/clone"
fi
cd "$work"
[[ ! -e .data ]] || { echo "newcomer: a .data folder is present" >&2; exit 1; }
[[ -z $tmp ]] && created="$work/.data"
# One awk, no pipe: a reader that stops at the first match (grep -m1) would leave the writer to
# die of SIGPIPE under pipefail once the README's code blocks outgrow a pipe write.
cmd="$(awk '/^```/{inb=!inb; next} inb && /^[[:space:]]*(\$ )?cargo run/ {sub(/^[[:space:]]*\$ /, ""); sub(/^[[:space:]]+/, ""); print; exit}' README.md)"
[[ -n $cmd ]] || { echo "newcomer: no 'cargo run' line in a README code block" >&2; exit 1; }
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
log="$(mktemp)"
echo "newcomer: $cmd   (COMPLIANCE_ADDR=127.0.0.1:$port)"
# A newcomer's environment: nothing the README does not ask for (the suite's own variables,
# DynamoDB Local's endpoint among them, are left out).
env -i HOME="$HOME" PATH="$PATH" ${CARGO_HOME:+CARGO_HOME="$CARGO_HOME"} \
  ${RUSTUP_HOME:+RUSTUP_HOME="$RUSTUP_HOME"} CARGO_TARGET_DIR="$CARGO_TARGET_DIR" \
  COMPLIANCE_ADDR="127.0.0.1:$port" bash -c "exec $cmd" >"$log" 2>&1 &
pid=$!
deadline=$((SECONDS + 900))
until curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1; do
  if ! kill -0 "$pid" 2>/dev/null; then echo "newcomer: the server exited:" >&2; tail -20 "$log" >&2; exit 1; fi
  if (( SECONDS > deadline )); then echo "newcomer: no answer on /api/health" >&2; exit 1; fi
  sleep 1
done
key="$(grep -oE 'csk_[A-Za-z0-9_-]{16,}' "$log" | head -1 || true)"
[[ -n $key ]] || { echo "newcomer: no admin key printed on the first start" >&2; tail -20 "$log" >&2; exit 1; }
grep -q "embedded store in " "$log" || { echo "newcomer: the data folder is not logged" >&2; exit 1; }
code="$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $key" "http://127.0.0.1:$port/api/api-keys")"
[[ $code == 200 ]] || { echo "newcomer: the printed key gets $code on /api/api-keys" >&2; exit 1; }
[[ -f .data/compliance.redb ]] || { echo "newcomer: no .data/compliance.redb" >&2; exit 1; }
rm -f "$log"
echo "newcomer: fresh start created .data, printed a working admin key"
