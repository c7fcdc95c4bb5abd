#!/usr/bin/env bash
# Head-of-line parking with shared budgets (issue 15): two gateways on one
# Redis share a campaign of 6,000 bulk jobs for one mailbox whose lane admits
# 4 requests at a time (the sandbox answers after 50 ms: about 80 messages a
# second for the lane, about 40 for each gateway). Each gateway keeps in memory
# only what its part of the lane can start within gateway.hol_horizon_ms (1 s):
# about 2 slots + 40, not the 84 the whole lane could (the estimate of a
# gateway alone); the rest waits in the delayed set. Checked from each
# gateway's /status while both run (once the first estimates, made before
# the lane's first answer, have drained):
#  - the lane's queue never holds more than 60 jobs on either gateway,
#  - the lane keeps running at its budget meanwhile (>= 75 % of ~240 in 3 s),
#  - never more than 4 in flight for the mailbox across the gateways.
# With the estimate of a gateway alone (the share ignored) the queues reach
# about 84 and the first check fails.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox --set faults.latency_ms=50 --set graph.mailbox_concurrency=4 \
  --set graph.mailbox_requests=0 --set graph.mailbox_recipients_per_day=0

NC=6000
MIN_RATE=180
[ "${SG_SANITIZE:-OFF}" = ON ] && MIN_RATE=120
"$TOOLS/sg_testjobs" gen $NC --senders 1 --sender-prefix campaign --campaign big --prefix camp |
  redis-cli -p "$REDIS_PORT" --pipe >/dev/null
P1=$(free_port)
P2=$(free_port)
GW_PIDS=()
for gw in 1 2; do
  port=P$gw
  start_gateway SENDGATE_GATEWAY_CONSUMER="gw-$gw" SENDGATE_HTTP_LISTEN="127.0.0.1:${!port}" \
    SENDGATE_GRAPH_MAILBOX_CONCURRENCY=4 SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 \
    SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0 SENDGATE_GATEWAY_MAX_IN_FLIGHT=1000 \
    SENDGATE_GATEWAY_SHARED_BUDGETS=true
  GW_PIDS+=("$GATEWAY_PID")
done
# Both under way and past their first estimate: before its lane has answered
# a request a gateway assumes 20 ms (optimistic) and no company, and takes up
# to 204 jobs; those drain at the lane's pace in about 5 s.
wait_results 800 60
# lane_queued PORT: the campaign lane's queue on that gateway (0 when it has none).
lane_queued() {
  curl -sf "http://127.0.0.1:$1/status" | jq '[.lanes.list[] | select(.mailbox | startswith("campaign")) | .queued] | max // 0'
}
max1=0
max2=0
c1=$(rcli xlen sendgate:results)
t0=$(now_ms)
for i in $(seq 1 30); do # 3 s, bounded by the count
  q=$(lane_queued "$P1") && [ "$q" -gt "$max1" ] && max1=$q
  q=$(lane_queued "$P2") && [ "$q" -gt "$max2" ] && max2=$q
  sleep 0.1
  [ $(($(now_ms) - t0)) -ge 3000 ] && break
done
sleep_left=$((3000 - ($(now_ms) - t0)))
[ "$sleep_left" -gt 0 ] && sleep "0.$(printf '%03d' "$sleep_left")"
c2=$(rcli xlen sendgate:results)
echo "campaign lane queue at most $max1 (gw-1), $max2 (gw-2); $((c2 - c1)) results in 3 s"
echo "parked: $(rcli zcard sendgate:delayed:bulk) in sendgate:delayed:bulk"
check_ge "both gateways hold part of the campaign" 1 "$(( max1 < max2 ? max1 : max2 ))"
check "gw-1: the lane holds at most its part of the horizon (<= 60)" true "$([ "$max1" -le 60 ] && echo true || echo false)"
check "gw-2: the lane holds at most its part of the horizon (<= 60)" true "$([ "$max2" -le 60 ] && echo true || echo false)"
check_ge "the lane at its budget meanwhile (4 in flight at 50 ms allow ~240 in 3 s)" "$MIN_RATE" $((c2 - c1))
check "at most 4 in flight for the mailbox" true "$(sbx_stat '.max_inflight_per_mailbox <= 4')"
for p in "${GW_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${GW_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
check "no duplicates at the sandbox" 0 "$(sbx_stat .duplicates)"
finish
