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
# is bounded; stops everything it started (BENCH_KEEP=1 keeps its files).
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
. "$here/lib.sh"
bench_init shared
now_ns() { date +%s%N; }

bench_redis
RPID=$REDIS_PID
bench_sandbox --set faults.latency_ms=0

"$LOADGEN" --count "$N" --senders "$MB" --run-id shb --size 512 --producers 2 --pipeline 256 \
  --timeout 1 --allow-missing --interval 0 --quiet >/dev/null 2>"$D/loadgen.log"
rc del sendgate:results >/dev/null

HP=$(port)
r0=$(cpu_ticks "$RPID")
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
g1=$(cpu_ticks "$GW")
r1=$(cpu_ticks "$RPID")
calls=$(curl -sf "http://127.0.0.1:$HP/metrics" |
  awk '$1 == "sendgate_budget_calls_total" {print int($2)}' || true)
awk -v n="$N" -v mb="$MB" -v sh="$SHARED" -v ns=$((t1 - t0)) -v g="$g1" -v r=$((r1 - r0)) \
  -v hz="$HZ" -v calls="${calls:-n/a}" 'BEGIN {
  s = ns / 1e9;
  printf "shared=%s mailboxes=%d jobs=%d: %.0f msg/s (%.2f s), gateway CPU %.1f us/msg, redis CPU %.1f us/msg, budget calls %s\n",
    sh, mb, n, n / s, s, g * 1e6 / hz / n, r * 1e6 / hz / n, calls }'
# The script's share of Redis (EVALSHA and EVAL: calls, µs in all, µs per call).
rc info commandstats | tr -d '\r' | awk -F'[:=,]' '/^cmdstat_eval/ {
  printf "redis %s: calls %s, %s us, %s us/call\n", substr($1, 9), $3, $5, $7 }'
kill -TERM "$GW"
wait "$GW" || true
