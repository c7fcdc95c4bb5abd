#!/usr/bin/env bash
# Issue 5, flow control against the sandbox's limits (20 senders x 500 jobs):
#  A. sandbox: 4 in flight and 50 requests per 1 s sliding window per mailbox;
#     gateway: only its in-flight cap of 4, its own windows off. Every job SENT,
#     no request inside a Retry-After window, never more than 4 in flight per
#     mailbox. Each lane's share of what the window allows between its first
#     and last message is printed (~100 % idle; ~70 % under the sanitizers
#     with the other tests running). Whole-second Retry-After answers can cost
#     up to a second per window, so only a floor of 55 % is checked here; C
#     checks the 95 % on a 5 s window.
#  C. as A with a 5 s window and fractional Retry-After (20 senders x 250 jobs):
#     every lane >= 95 % of what the window allows, by following Retry-After alone.
#  B. the same limits on both sides (the gateway's 1-minute message window
#     matching the sandbox's): 20 senders x 150 jobs with 100 per minute. The
#     gateway is never throttled, and the second minute's messages start no
#     later than 5 % of the window after it reopens.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox --set graph.mailbox_concurrency=4 --set graph.mailbox_requests=50 \
  --set graph.mailbox_window_ms=1000 --set graph.mailbox_recipients_per_day=0

N=10000
queue_jobs $N --senders 20 --prefix fa
t0=$(now_ms)
start_gateway SENDGATE_GRAPH_MAILBOX_CONCURRENCY=4 SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 \
  SENDGATE_GRAPH_MAILBOX_MESSAGES_PER_MINUTE=0 SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0
wait_results $N 120
echo "A: $N jobs in $(( $(now_ms) - t0 )) ms"
check "A: every job has a result" $N "$(summary distinct_ids)"
check "A: all SENT" $N "$(summary SENT)"
check "A: sandbox accepted each once" $N "$(sbx_stat .graph_accepted)"
check "A: no duplicates" 0 "$(sbx_stat .duplicates)"
check "A: no request inside a Retry-After window" 0 "$(sbx_stat .retry_after_violations)"
check "A: at most 4 in flight per mailbox" "true" "$(sbx_stat '.max_inflight_per_mailbox <= 4')"
echo "A: sandbox throttled $(sbx_stat .throttled_graph) requests (429), max in flight $(sbx_stat .max_inflight_per_mailbox)"
lane_report 50 1000 >"$T/lanes_a.txt"
echo "A: per lane: mailbox sent first_ms last_ms span_ms allowed pct"
sed 's/^/A:   /' "$T/lanes_a.txt"
check "A: 20 lanes" 20 "$(wc -l <"$T/lanes_a.txt")"
check_ge "A: slowest lane's share of the window budget (%) (goal 95)" 55 "$(awk 'NR == 1 || $7 < m {m = $7} END {print m}' "$T/lanes_a.txt")"
stop_gateway

# C: Retry-After alone again (the gateway's windows off, its cap of 4 on), with
# a 5-second window and Retry-After in fractional seconds (as in Graph's own
# example, "2.128"): the lanes must reach 95 % of what the windows allow.
# (Whole seconds cost up to a second per window: ~94 % here on an idle
# machine, ~80 % under the sanitizer build with the other tests running.)
curl -sf --cacert "$CA" -X POST "$SBX/sandbox/reset" >/dev/null
sbx_config graph.mailbox_requests=50 graph.mailbox_window_ms=5000 graph.retry_after_fractional=true
rcli del sendgate:results >/dev/null
NC=5000
queue_jobs $NC --senders 20 --prefix fc
tc=$(now_ms)
start_gateway SENDGATE_GRAPH_MAILBOX_CONCURRENCY=4 SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 \
  SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0
wait_results $NC 120
echo "C: $NC jobs in $(( $(now_ms) - tc )) ms"
check "C: all SENT" $NC "$(summary SENT)"
check "C: no request inside a Retry-After window" 0 "$(sbx_stat .retry_after_violations)"
check "C: at most 4 in flight per mailbox" "true" "$(sbx_stat '.max_inflight_per_mailbox <= 4')"
check_ge "C: the sandbox throttled (Retry-After was followed)" 20 "$(sbx_stat .throttled_graph)"
lane_report 50 5000 >"$T/lanes_c.txt"
sed 's/^/C:   /' "$T/lanes_c.txt"
check "C: 20 lanes" 20 "$(wc -l <"$T/lanes_c.txt")"
check_ge "C: slowest lane's share of the window budget (%)" 95 "$(awk 'NR == 1 || $7 < m {m = $7} END {print m}' "$T/lanes_c.txt")"
stop_gateway
sbx_config graph.mailbox_window_ms=1000 graph.retry_after_fractional=false

# B: the gateway's windows on and matching the sandbox's (1-minute message window).
curl -sf --cacert "$CA" -X POST "$SBX/sandbox/reset" >/dev/null
sbx_config graph.mailbox_requests=0 graph.mailbox_messages_per_minute=100 \
  graph.minute_window_ms=60000
rcli del sendgate:results >/dev/null
NB=3000
start_gateway SENDGATE_GRAPH_MAILBOX_CONCURRENCY=4 SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 \
  SENDGATE_GRAPH_MAILBOX_MESSAGES_PER_MINUTE=100 SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0
# Warm-up on another mailbox: the token and the connection are ready before the
# lanes start. (A window is charged when a job is admitted; the first jobs of a
# cold gateway then wait for the token, so the sandbox's window would start up
# to that wait later than the gateway's, and the next minute's first requests
# could arrive just before the sandbox reopens it.)
check "B: warm-up sent" "SENT" "$(env SENDGATE_REDIS_URL="$SENDGATE_REDIS_URL" "$SENDGATE" send \
  --wait --timeout 30 --from warmup@contoso.com --to r@example.com --subject w --text w 2>&1 |
  grep -o SENT | head -1)"
tb=$(now_ms)
queue_jobs $NB --senders 20 --prefix fb
wait_results $NB 150
echo "B: $NB jobs in $(( $(now_ms) - tb )) ms"
check "B: every job has a result" $NB "$(summary distinct_ids)"
check "B: all SENT" $NB "$(summary SENT)"
check "B: never throttled by the sandbox" 0 "$(sbx_stat .throttled_graph)"
check "B: no request inside a Retry-After window" 0 "$(sbx_stat .retry_after_violations)"
check "B: at most 4 in flight per mailbox" "true" "$(sbx_stat '.max_inflight_per_mailbox <= 4')"
lane_report 100 60000 "$tb" >"$T/lanes_b.txt"
echo "B: per lane: mailbox sent first_ms last_ms span_ms allowed pct; delay of message 101 after the window reopened"
worst=0
while read -r mb cnt first last span allowed pct; do
  m101=$(lane_nth "$mb" 101)
  late=$(( m101 - first - 60000 ))
  echo "B:   $mb $cnt $first $last $span $allowed $pct late_ms=$late"
  [ "$late" -gt "$worst" ] && worst=$late
done <"$T/lanes_b.txt"
check "B: 20 lanes" 20 "$(wc -l <"$T/lanes_b.txt")"
check "B: second window starts within 5 % of the window after it reopens" "true" \
  "$([ "$worst" -le 3000 ] && echo true)"
stop_gateway
finish
