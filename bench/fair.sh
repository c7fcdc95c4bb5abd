#!/usr/bin/env bash
# Fair intake (issue 15): transactional jobs behind a campaign.
# A campaign of N jobs for ONE mailbox is queued (on the bulk stream
# sendgate:jobs:bulk by default, as campaign producers should, or on the job
# stream with --main) BEFORE the gateway starts; then a trickle of
# transactional jobs from 20 other senders is sent at --tx-rate for
# --tx-seconds while the campaign runs. The sandbox answers after
# --latency-ms and admits --concurrency requests per mailbox, and the gateway
# is held to the same cap (Outlook's 4 in flight), so the campaign's budget is
# concurrency / latency messages per second.
# Reports: the transactional jobs' queue-to-result latency (created_unix_ms to
# the result read back, by sendgate-loadgen: p50, p99, max), the campaign's
# achieved rate during that window against its budget, and where the rest of
# the campaign waits (bulk stream, delayed sets), and the gateway's peak RSS.
#   bench/fair.sh [--build DIR] [--campaign N] [--main] [--tx-rate R]
#                 [--tx-seconds S] [--latency-ms MS] [--concurrency C] [VAR=value ...]
# Defaults: N 100000, R 20, S 30, MS 50, C 4. Loopback only; every wait is
# bounded; stops everything it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${SG_BUILD_DIR:-$here/../build}
N=100000 STREAM=sendgate:jobs:bulk RATE=20 SECS=30 LAT=50 CONC=4 ENVS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --campaign) N=$2; shift 2 ;;
    --main) STREAM=sendgate:jobs; shift ;;
    --tx-rate) RATE=$2; shift 2 ;;
    --tx-seconds) SECS=$2; shift 2 ;;
    --latency-ms) LAT=$2; shift 2 ;;
    --concurrency) CONC=$2; shift 2 ;;
    *=*) ENVS+=("$1"); shift ;;
    *) echo "usage: bench/fair.sh [--build DIR] [--campaign N] [--main] [--tx-rate R] [--tx-seconds S] [--latency-ms MS] [--concurrency C] [VAR=value ...]" >&2; exit 2 ;;
  esac
done
. "$here/lib.sh"
bench_init fair

bench_redis
bench_sandbox --set graph.mailbox_concurrency="$CONC" --set faults.latency_ms="$LAT"

# The campaign, queued before the gateway starts (its results are not waited for).
t0=$(date +%s%N)
"$LOADGEN" --count "$N" --priority bulk --sender campaign@example.com --jobs-stream "$STREAM" \
  --run-id campaign --size 512 --producers 2 --pipeline 256 --timeout 1 --allow-missing \
  --interval 0 --quiet >/dev/null 2>"$D/campaign.log"
echo "campaign: $N jobs for one mailbox queued on $STREAM in $((($(date +%s%N) - t0) / 1000000)) ms"

env SENDGATE_HTTP_LISTEN=127.0.0.1:0 SENDGATE_GATEWAY_CONSUMER=fair SENDGATE_LOG_LEVEL=warn \
  SENDGATE_GRAPH_MAILBOX_CONCURRENCY="$CONC" SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 \
  SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0 "${ENVS[@]}" \
  "$SENDGATE" run >"$D/gateway.out" 2>"$D/gateway.log" &
GW=$!
PIDS+=($GW)
started() { [ "$(rc xlen sendgate:results)" -ge 20 ]; }
wait_until 120 started

# The transactional trickle, measured by the load generator on its own reply stream.
c0=$(rc xlen sendgate:results)
t0=$(date +%s%N)
"$LOADGEN" --rate "$RATE" --duration "$SECS" --senders 20 --domain example.org \
  --priority transactional --reply-stream sendgate:results:tx --run-id tx --size 512 \
  --producers 1 --timeout 30 --interval 0 --json >"$D/tx.json" 2>"$D/tx.log" || true
t1=$(date +%s%N)
c1=$(rc xlen sendgate:results)
peak=$(awk '/^VmHWM:/ {print $2}' "/proc/$GW/status")
ms=$(((t1 - t0) / 1000000))
jq -r '"transactional: \(.jobs.queued) jobs at '"$RATE"'/s from 20 senders: latency p50 \(.latency_ms.p50) ms, p99 \(.latency_ms.p99) ms, max \(.latency_ms.max) ms; missing \(.jobs.missing)"' "$D/tx.json" ||
  tail -3 "$D/tx.log"
sent=$((c1 - c0))
awk -v s="$sent" -v ms="$ms" -v c="$CONC" -v lat="$LAT" 'BEGIN {
  r = s * 1000 / ms; b = c * 1000 / lat;
  printf "campaign: %d sent in the same %.1f s: %.1f/s; budget %d in flight at %d ms = %.1f/s (%.0f %%)\n", s, ms / 1000, r, c, lat, b, 100 * r / b }'
echo "campaign waiting: bulk stream $(rc xlen sendgate:jobs:bulk), job stream $(rc xlen sendgate:jobs), delayed $(rc zcard sendgate:delayed), delayed bulk $(rc zcard sendgate:delayed:bulk)"
echo "gateway peak RSS $((peak / 1024)) MiB (VmHWM)"
kill -TERM "$GW"
wait "$GW" || true
