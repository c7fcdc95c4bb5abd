#!/usr/bin/env bash
# Issue 5: one sender throttled hard (sandbox graph.slow_mailboxes: 2 requests
# per second) while 19 others run at 50 requests per second each. The others
# finish as fast as in a run without the slow sender; the slow one is held to
# its limit without requests inside its Retry-After windows; once its limit is
# lifted it drains, and every job is SENT.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox --set graph.mailbox_concurrency=4 --set graph.mailbox_requests=50 \
  --set graph.mailbox_window_ms=1000 --set graph.mailbox_recipients_per_day=0 \
  --set graph.slow_requests=2 --set graph.slow_window_ms=1000
GW=(SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0
    SENDGATE_GRAPH_MAILBOX_UPLOAD_BYTES_PER_5MIN=0)
N=4000 PER=200 SLOW=sender-0@contoso.com

# others_done_ms T0: waits (bounded) until the 19 other lanes hold PER messages
# each; prints the time from T0 to their last message.
others_done_ms() {
  local i
  for i in $(seq 1 600); do
    lane_report 50 1000 >"$T/lanes.txt"
    if [ "$(awk -v s=$SLOW -v p=$PER '$1 != s && $2 == p' "$T/lanes.txt" | wc -l)" -eq 19 ]; then
      awk -v s=$SLOW -v t0="$1" '$1 != s && $4 > m {m = $4} END {print m - t0}' "$T/lanes.txt"
      return 0
    fi
    sleep 0.1
  done
  echo "the other lanes did not finish" >&2
  return 1
}

# 1. Baseline: nobody slow.
queue_jobs $N --senders 20 --prefix base
t0=$(now_ms)
start_gateway "${GW[@]}"
base=$(others_done_ms "$t0")
wait_results $N 60
check "baseline: all SENT" $N "$(summary SENT)"
stop_gateway
echo "baseline: the 19 other senders finished in $base ms"

# 2. sender-0 slow.
curl -sf --cacert "$CA" -X POST "$SBX/sandbox/reset" >/dev/null
sbx_config "graph.slow_mailboxes=$SLOW"
rcli del sendgate:results >/dev/null
queue_jobs $N --senders 20 --prefix slow
t0=$(now_ms)
MPORT=$(free_port)
start_gateway "${GW[@]}" SENDGATE_HTTP_LISTEN=127.0.0.1:$MPORT
slow=$(others_done_ms "$t0")
slow_sent=$(awk -v s=$SLOW '$1 == s {print $2}' "$T/lanes.txt")
slow_sent=${slow_sent:-0}
echo "with a slow sender: the 19 others finished in $slow ms (baseline $base ms); the slow one had $slow_sent of $PER"
check "others not held up by the slow sender (<= baseline x 1.2 + 500 ms)" "true" \
  "$([ "$slow" -le $(( base * 12 / 10 + 500 )) ] && echo true)"
check "slow sender held to ~2/s" "true" "$([ "$slow_sent" -le $(( 2 * (slow / 1000 + 2) )) ] && echo true)"
check "slow sender throttled, no early retries" 0 "$(sbx_stat .retry_after_violations)"
# Lift the limit: the slow sender drains.
sbx_config "graph.slow_mailboxes="
wait_results $N 60
check "all SENT" $N "$(summary SENT)"
check "one result per job" $N "$(summary distinct_ids)"
check "no duplicates" 0 "$(sbx_stat .duplicates)"
check "no early retries" 0 "$(sbx_stat .retry_after_violations)"
check "at most 4 in flight per mailbox" "true" "$(sbx_stat '.max_inflight_per_mailbox <= 4')"
# No window of the gateway's own is on: once the jobs are done and the slow
# sender's pauses are over, its 20 lanes are freed (bounded wait).
lanes() { curl -sf "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
for _ in $(seq 1 50); do [ "$(lanes sendgate_lanes)" = 0 ] && break; sleep 0.1; done
check "idle lanes freed" 0 "$(lanes sendgate_lanes)"
check "no lane waiting" 0 "$(lanes 'sendgate_lanes_waiting{lane_kind="graph"}')"
stop_gateway
finish
