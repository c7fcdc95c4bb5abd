# Shared helpers for the integration tests (sourced). Each test starts its own
# private services on free loopback ports in a temp dir and stops them on exit.
# Every wait is bounded.
set -euo pipefail

SG_BIN_DIR=${SG_BIN_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build/gateway" && pwd)}
SG_SOURCE_DIR=${SG_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SANDBOX="$SG_BIN_DIR/sendgate-sandbox"
SENDGATE="$SG_BIN_DIR/sendgate"
T=$(mktemp -d /tmp/sg-test.XXXXXX)
PIDS=()
FAILS=0
CHECKS=0

cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ] || [ "$FAILS" -ne 0 ]; then
    echo "--- logs kept in $T" >&2
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
  else
    rm -rf "$T"
  fi
}
trap cleanup EXIT

# wait_for CMD...: retries CMD every 0.05 s for up to 20 s.
wait_for() {
  local i
  for i in $(seq 1 400); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "timed out waiting for: $*" >&2
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_sandbox [--set k=v ...]: starts the sandbox, sources its env lines.
start_sandbox() {
  "$SANDBOX" --listen 127.0.0.1:0 --state-dir "$T/sandbox" --env-file "$T/sandbox.env" \
    --set record.memory=100000 "$@" >"$T/sandbox.out" 2>"$T/sandbox.log" &
  SANDBOX_PID=$!
  PIDS+=("$SANDBOX_PID")
  wait_for test -s "$T/sandbox.env"
  set -a
  . "$T/sandbox.env"
  set +a
  CA=$SENDGATE_TLS_CA_FILE
  SBX=$SENDGATE_SANDBOX_URL
}

# start_redis: a private redis-server; sets REDIS_PORT and SENDGATE_REDIS_URL.
start_redis() {
  REDIS_PORT=$(free_port)
  mkdir -p "$T/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T/redis" --save '' \
    --appendonly "${REDIS_AOF:-no}" --daemonize no >"$T/redis.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_for redis-cli -p "$REDIS_PORT" ping
  export SENDGATE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# sbx_config 'k=v' ...: changes sandbox settings at run time.
sbx_config() {
  printf '%s\n' "$@" | curl -sf --cacert "$CA" --data-binary @- "$SBX/sandbox/config" >/dev/null
}
sbx_stat() { curl -sf --cacert "$CA" "$SBX/sandbox/stats" | jq -r "$1"; }

check() { # check NAME EXPECTED ACTUAL
  CHECKS=$((CHECKS + 1))
  if [ "$2" = "$3" ]; then
    echo "ok   $1"
  else
    echo "FAIL $1: expected [$2], got [$3]"
    FAILS=$((FAILS + 1))
  fi
}

check_ge() { # check_ge NAME MIN ACTUAL
  CHECKS=$((CHECKS + 1))
  if [ "$3" -ge "$2" ]; then echo "ok   $1 ($3 >= $2)"; else echo "FAIL $1: $3 < $2"; FAILS=$((FAILS + 1)); fi
}

finish() {
  echo "$((CHECKS - FAILS)) passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}

TOOLS=${SG_TOOLS_DIR:-$SG_BIN_DIR/../tests}

# start_gateway [VAR=value ...] [--config FILE]: runs `sendgate run` with the
# sandbox's and Redis's settings plus the given overrides; sets GATEWAY_PID.
start_gateway() {
  local envs=() args=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --config) args+=(--config "$2"); shift 2 ;;
      *) envs+=("$1"); shift ;;
    esac
  done
  env SENDGATE_HTTP_LISTEN= SENDGATE_GATEWAY_CONSUMER=test-gw "${envs[@]}" \
    "$SENDGATE" run "${args[@]}" >>"$T/gateway.out" 2>>"$T/gateway.log" &
  GATEWAY_PID=$!
  PIDS+=("$GATEWAY_PID")
}

# stop_gateway: SIGTERM, then waits (bounded) for it to exit; returns its exit code.
stop_gateway() {
  kill -TERM "$GATEWAY_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 300); do
    kill -0 "$GATEWAY_PID" 2>/dev/null || break
    sleep 0.1
  done
  wait "$GATEWAY_PID"
}

# queue_jobs N [gen options]: N jobs on sendgate:jobs.
queue_jobs() {
  "$TOOLS/sg_testjobs" gen "$@" | redis-cli -p "$REDIS_PORT" --pipe >/dev/null
}

# wait_results N [seconds] [stream]: until the results stream holds N entries.
wait_results() {
  local n=$1 secs=${2:-60} stream=${3:-sendgate:results} i
  for i in $(seq 1 $((secs * 10))); do
    [ "$(rcli xlen "$stream")" -ge "$n" ] && return 0
    sleep 0.1
  done
  echo "only $(rcli xlen "$stream") of $n results after ${secs}s" >&2
  return 1
}

# summary KEY: a figure of the results stream (SENT, FAILED, distinct_ids, code:X ...).
summary() {
  "$TOOLS/sg_testjobs" summary "$SENDGATE_REDIS_URL" "${2:-sendgate:results}" >"$T/summary.txt"
  awk -v k="$1" '$1 == k {print $2; f=1} END {if (!f) print 0}' "$T/summary.txt"
}
