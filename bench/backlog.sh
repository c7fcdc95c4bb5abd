#!/usr/bin/env bash
# Memory with a backlog of large jobs (issue 12): N jobs with one attachment of
# SIZE bytes each (default 400 x 2.5 MB = 1 GB) are queued on a private
# redis-server BEFORE the gateway starts; then `sendgate run` (default
# settings: gateway.max_held_bytes 64 MiB) sends them all through the sandbox
# (limits off, no latency). Reports the gateway's peak RSS (VmHWM), the time
# and the results by status. The shipped Kubernetes manifest limits the pod
# to 512 MiB.
# With --latency-ms the sandbox answers that late, so jobs pile up in the
# gateway as they do behind a slow or throttling provider.
#   bench/backlog.sh [--build DIR] [--count N] [--size BYTES] [--latency-ms MS]
#                    [GATEWAY_VAR=value ...]
# Loopback only; every wait is bounded; stops everything it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${SG_BUILD_DIR:-$here/../build}
N=400 SIZE=2500000 LAT=0 ENVS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --count) N=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --latency-ms) LAT=$2; shift 2 ;;
    *=*) ENVS+=("$1"); shift ;;
    *) echo "usage: bench/backlog.sh [--build DIR] [--count N] [--size BYTES] [--latency-ms MS] [VAR=value ...]" >&2; exit 2 ;;
  esac
done
. "$here/lib.sh"
bench_init backlog

bench_redis
bench_sandbox --set faults.latency_ms="$LAT"

# Queue everything first (the loadgen then waits for the results).
"$LOADGEN" --count "$N" --senders 20 --attachments 1 --attachment-size "$SIZE" --size 256 \
  --producers 2 --pipeline 8 --timeout 900 --interval 0 --json >"$D/loadgen.json" \
  2>"$D/loadgen.log" &
LG=$!
PIDS+=($LG)
queued() { [ "$(redis-cli -p "$RP" xlen sendgate:jobs)" -ge "$N" ]; }
wait_until 600 queued
used=$(redis-cli -p "$RP" info memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)/\1/p')
echo "queued $N jobs of $SIZE bytes: Redis holds $((used / 1048576)) MiB"

t0=$(date +%s%N)
env SENDGATE_HTTP_LISTEN= SENDGATE_GATEWAY_CONSUMER=backlog SENDGATE_LOG_LEVEL=warn \
  SENDGATE_GRAPH_MAILBOX_CONCURRENCY=0 SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 \
  SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0 "${ENVS[@]}" \
  "$SENDGATE" run >"$D/gateway.out" 2>"$D/gateway.log" &
GW=$!
PIDS+=($GW)
done_all() { [ "$(redis-cli -p "$RP" xlen sendgate:results)" -ge "$N" ]; }
peak=0
end=$((SECONDS + 900))
while ! done_all; do
  [ "$SECONDS" -lt "$end" ] || { echo "timed out waiting for results" >&2; exit 1; }
  kill -0 "$GW" 2>/dev/null || { echo "gateway exited (see $D/gateway.log)" >&2; exit 1; }
  sleep 0.2
done
t1=$(date +%s%N)
peak=$(awk '/^VmHWM:/ {print $2}' "/proc/$GW/status")
kill -TERM "$GW"
wait "$GW" || true
wait "$LG" || true
echo "sent in $(((t1 - t0) / 1000000)) ms; gateway peak RSS $((peak / 1024)) MiB (VmHWM)"
jq -c '{by_status, missing: .jobs.missing, duplicates: .jobs.duplicates}' "$D/loadgen.json" 2>/dev/null ||
  tail -3 "$D/loadgen.log"
