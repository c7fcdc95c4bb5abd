#!/usr/bin/env bash
# Shared budgets (issue 15): what they cost one gateway with many lanes.
# Starts a private redis-server and sendgate-sandbox (every limit off, no
# latency) from the build tree, queues --count jobs over --mailboxes senders
# BEFORE the gateway starts, then runs one `sendgate run` (default Graph
# limits: 4 in flight, 10,000 requests per 10 min, 10,000 recipients a day)
# with gateway.shared_budgets as given, until every job has a result.
# Prints messages/s (gateway start to the last result), gateway and
# redis-server CPU (utime+stime from /proc/PID/stat) per message in µs, and
# the shared-budget calls the gateway made (sendgate_budget_calls_total).
#   bench/shared.sh [--build DIR] [--mailboxes N] [--count N] [--shared true|false]
#                   [VAR=value ...]
# Defaults: 1000 mailboxes, 40000 jobs, shared true. Loopback only; every wait
# is bounded; stops everything it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${SG_BUILD_DIR:-$here/../build}
MB=1000 N=40000 SHARED=true ENVS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --mailboxes) MB=$2; shift 2 ;;
    --count) N=$2; shift 2 ;;
    --shared) SHARED=$2; shift 2 ;;
    *=*) ENVS+=("$1"); shift ;;
    *) echo "usage: bench/shared.sh [--build DIR] [--mailboxes N] [--count N] [--shared true|false] [VAR=value ...]" >&2; exit 2 ;;
  esac
done
SENDGATE=$BUILD/gateway/sendgate
SANDBOX=$BUILD/gateway/sendgate-sandbox
LOADGEN=$BUILD/bench/sendgate-loadgen
D=$(mktemp -d /tmp/sg-shared.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${SG_KEEP:-}" ] && echo "kept $D" || rm -rf "$D"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_until() { # wait_until SECONDS CMD...
  local end=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || { echo "timed out: $*" >&2; return 1; }
    sleep 0.1
  done
}
rc() { redis-cli -p "$RP" "$@"; }
# CPU ticks (utime + stime) of a process.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
now_ns() { date +%s%N; }

RP=$(port)
redis-server --port "$RP" --bind 127.0.0.1 --dir "$D" --save '' --appendonly no \
  >"$D/redis.log" 2>&1 &
RPID=$!
PIDS+=($RPID)
wait_until 10 rc ping
export SENDGATE_REDIS_URL="redis://127.0.0.1:$RP/0"
"$SANDBOX" --listen 127.0.0.1:0 --state-dir "$D/sandbox" --env-file "$D/sandbox.env" \
  --log-level error --set graph.mailbox_concurrency=0 --set graph.mailbox_requests=0 \
  --set graph.mailbox_recipients_per_day=0 --set record.file=off --set record.memory=0 \
  --set faults.latency_ms=0 >"$D/sandbox.out" 2>"$D/sandbox.log" &
PIDS+=($!)
wait_until 10 test -s "$D/sandbox.env"
set -a
. "$D/sandbox.env"
set +a

"$LOADGEN" --count "$N" --senders "$MB" --run-id shb --size 512 --producers 2 --pipeline 256 \
  --timeout 1 --allow-missing --interval 0 --quiet >/dev/null 2>"$D/loadgen.log"
rc del sendgate:results >/dev/null

HP=$(port)
r0=$(ticks "$RPID")
t0=$(now_ns)
env SENDGATE_HTTP_LISTEN="127.0.0.1:$HP" SENDGATE_GATEWAY_CONSUMER=shared \
  SENDGATE_LOG_LEVEL=warn SENDGATE_GATEWAY_SHARED_BUDGETS="$SHARED" "${ENVS[@]}" \
  "$SENDGATE" run >"$D/gateway.out" 2>"$D/gateway.log" &
GW=$!
PIDS+=($GW)
done_all() { [ "$(rc xlen sendgate:results)" -ge "$N" ]; }
# Bounded: 600 s at most; polled every 20 ms so the end is seen within that.
end=$((SECONDS + 600))
until done_all; do
  [ "$SECONDS" -lt "$end" ] || { echo "timed out: $(rc xlen sendgate:results) of $N results" >&2; exit 1; }
  kill -0 "$GW" 2>/dev/null || { echo "the gateway exited:" >&2; tail -5 "$D/gateway.log" >&2; exit 1; }
  sleep 0.02
done
t1=$(now_ns)
g1=$(ticks "$GW")
r1=$(ticks "$RPID")
calls=$(curl -sf "http://127.0.0.1:$HP/metrics" |
  awk '$1 == "sendgate_budget_calls_total" {print int($2)}' || true)
hz=$(getconf CLK_TCK)
awk -v n="$N" -v mb="$MB" -v sh="$SHARED" -v ns=$((t1 - t0)) -v g="$g1" -v r=$((r1 - r0)) \
  -v hz="$hz" -v calls="${calls:-n/a}" 'BEGIN {
  s = ns / 1e9;
  printf "shared=%s mailboxes=%d jobs=%d: %.0f msg/s (%.2f s), gateway CPU %.1f us/msg, redis CPU %.1f us/msg, budget calls %s\n",
    sh, mb, n, n / s, s, g * 1e6 / hz / n, r * 1e6 / hz / n, calls }'
# The script's share of Redis (EVALSHA and EVAL: calls, µs in all, µs per call).
rc info commandstats | tr -d '\r' | awk -F'[:=,]' '/^cmdstat_eval/ {
  printf "redis %s: calls %s, %s us, %s us/call\n", substr($1, 9), $3, $5, $7 }'
kill -TERM "$GW"
wait "$GW" || true
