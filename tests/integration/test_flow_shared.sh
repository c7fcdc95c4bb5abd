#!/usr/bin/env bash
# Issue 15, shared budgets: three gateways on one Redis against a sandbox with
# strict per-mailbox limits (4 in flight, 50 requests per 5 s sliding window,
# fractional Retry-After, 20 ms per request), each gateway configured with the
# full limits (cap 4) as in production.
#  A. 2,000 jobs over 8 mailboxes: every job gets exactly one result, never
#     more than 4 in flight per mailbox across the gateways, no request inside
#     a Retry-After window any of them received, and every lane uses >= 90 %
#     of what the sandbox's window allows between its first and last message.
#  B. 2,000 more; one gateway is killed with -9 mid-run: its leases expire,
#     its pending entries are reclaimed by the others' reapers, every job still
#     gets a result and the limits still hold.
#     The survivors, stopped, give their slots back at once.
#  C. the gateways' own message window (100 per minute, as the sandbox's):
#     150 jobs for each of 4 mailboxes; across the three gateways exactly 100
#     per mailbox go in the first minute and the sandbox never throttles.
#  D. Redis goes away: the gateways say so (log line, fallback gauge) and
#     come back to the shared budgets when it returns.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox --set graph.mailbox_concurrency=4 --set graph.mailbox_requests=50 \
  --set graph.mailbox_window_ms=5000 --set graph.retry_after_fractional=true \
  --set graph.mailbox_recipients_per_day=0 --set faults.latency_ms=20

METRICS_PORT=$(free_port)
GW_PIDS=()
# start_gw NAME [VAR=value ...]: one more gateway with its own consumer name.
start_gw() {
  local name=$1
  shift
  start_gateway SENDGATE_GATEWAY_CONSUMER="$name" SENDGATE_GRAPH_MAILBOX_CONCURRENCY=4 \
    SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0 \
    SENDGATE_GATEWAY_MAX_IN_FLIGHT=40 SENDGATE_GATEWAY_FETCH_COUNT=20 \
    SENDGATE_GATEWAY_BUDGET_LEASE_MS=2000 SENDGATE_GATEWAY_REAPER_INTERVAL_MS=1000 \
    SENDGATE_GATEWAY_REAPER_MIN_IDLE_MS=15000 \
    SENDGATE_GATEWAY_SHARED_BUDGETS="${SG_TEST_SHARED_BUDGETS:-true}" "$@"
  GW_PIDS+=("$GATEWAY_PID")
}
stop_all() {
  local p
  for p in "${GW_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${GW_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  GW_PIDS=()
}

N=2000
queue_jobs $N --senders 8 --prefix sa
t0=$(now_ms)
start_gw gw-a SENDGATE_HTTP_LISTEN="127.0.0.1:$METRICS_PORT"
start_gw gw-b
start_gw gw-c
wait_results $N 120
echo "A: $N jobs in $(( $(now_ms) - t0 )) ms by 3 gateways"
check "A: every job has a result" $N "$(summary distinct_ids)"
check "A: exactly one result per job" $N "$(rcli xlen sendgate:results)"
check "A: all SENT" $N "$(summary SENT)"
check "A: no duplicates" 0 "$(sbx_stat .duplicates)"
check "A: no request inside a Retry-After window" 0 "$(sbx_stat .retry_after_violations)"
check "A: at most 4 in flight per mailbox" "true" "$(sbx_stat '.max_inflight_per_mailbox <= 4')"
echo "A: sandbox throttled $(sbx_stat .throttled_graph) (429), max in flight per mailbox $(sbx_stat .max_inflight_per_mailbox)"
lane_report 50 5000 >"$T/lanes_a.txt"
echo "A: per lane: mailbox sent first_ms last_ms span_ms allowed pct"
sed 's/^/A:   /' "$T/lanes_a.txt"
check "A: 8 lanes" 8 "$(wc -l <"$T/lanes_a.txt")"
check_ge "A: slowest lane's share of the window budget (%)" 90 \
  "$(awk 'NR == 1 || $7 < m {m = $7} END {print m}' "$T/lanes_a.txt")"
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >"$T/metrics_a.txt"
calls=$(awk '$1 == "sendgate_budget_calls_total" {print int($2)}' "$T/metrics_a.txt")
echo "A: gateway a made ${calls:-0} shared-budget calls"
check_ge "A: the shared budgets were used" 1 "${calls:-0}"
check "A: not in fallback" 0 "$(awk '$1 == "sendgate_budget_fallback" {print int($2)}' "$T/metrics_a.txt")"
check "A: budget keys under sendgate:budget:" "true" \
  "$([ "$(rcli --scan --pattern 'sendgate:budget:*' | wc -l)" -gt 0 ] && echo true)"

# B: one gateway killed mid-run.
curl -sf --cacert "$CA" -X POST "$SBX/sandbox/reset" >/dev/null
rcli del sendgate:results >/dev/null
queue_jobs $N --senders 8 --prefix sb
for i in $(seq 1 1200); do [ "$(rcli xlen sendgate:results)" -ge 500 ] && break; sleep 0.025; done
kill -9 "${GW_PIDS[1]}" 2>/dev/null || true
wait "${GW_PIDS[1]}" 2>/dev/null || true
echo "B: gateway b killed at $(rcli xlen sendgate:results) results"
wait_results $N 180
check "B: every job has a result" $N "$(summary distinct_ids)"
check "B: all SENT" $N "$(summary SENT)"
check "B: nothing pending" 0 "$(rcli xpending sendgate:jobs sendgate | head -1)"
check "B: no request inside a Retry-After window" 0 "$(sbx_stat .retry_after_violations)"
check "B: at most 4 in flight per mailbox" "true" "$(sbx_stat '.max_inflight_per_mailbox <= 4')"
# A gateway's id is its consumer name, '/', a random number.
check "B: the dead gateway's leases are gone" "0" \
  "$(for k in $(rcli --scan --pattern 'sendgate:budget:*}:s'); do rcli hkeys "$k"; done | grep -c '^gw-b/' || true)"
echo "B: duplicates (jobs in flight at the kill): $(sbx_stat .duplicates)"
stop_all
# A gateway that stops gives its slots back at once (not after budget_lease_ms).
check "B: no slot held after a clean stop" "0" \
  "$(for k in $(rcli --scan --pattern 'sendgate:budget:*}:s'); do rcli hlen "$k"; done | awk '{n += $1} END {print n + 0}')"

# C: windows shared. A gateway alone would send 100 per mailbox in the first
# minute; three of them on their own would send all 150 and be throttled.
curl -sf --cacert "$CA" -X POST "$SBX/sandbox/reset" >/dev/null
sbx_config graph.mailbox_requests=0 graph.mailbox_messages_per_minute=100 \
  graph.minute_window_ms=60000
rcli del sendgate:results >/dev/null
queue_jobs 600 --senders 4 --prefix sc
start_gw gw-a SENDGATE_GRAPH_MAILBOX_MESSAGES_PER_MINUTE=100 SENDGATE_HTTP_LISTEN="127.0.0.1:$METRICS_PORT"
start_gw gw-b SENDGATE_GRAPH_MAILBOX_MESSAGES_PER_MINUTE=100
start_gw gw-c SENDGATE_GRAPH_MAILBOX_MESSAGES_PER_MINUTE=100
wait_results 400 60
# A bounded look for more than the window allows (there must be none).
for i in $(seq 1 30); do [ "$(rcli xlen sendgate:results)" -gt 400 ] && break; sleep 0.1; done
check "C: 100 per mailbox in the first minute across 3 gateways" 400 "$(rcli xlen sendgate:results)"
check "C: never throttled" 0 "$(sbx_stat .throttled_graph)"
check "C: no request inside a Retry-After window" 0 "$(sbx_stat .retry_after_violations)"

# D: Redis stops and comes back.
fallback() { curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | awk '$1 == "sendgate_budget_fallback" {print int($2)}'; }
fallback_is() { [ "$(fallback)" = "$1" ]; }
logged() { grep -q "$1" "$T/gateway.log" && echo true || echo false; }
stop_redis
wait_for fallback_is 1 || true
check "D: fallback gauge without Redis" 1 "$(fallback)"
check "D: a log line says so" true "$(logged 'shared budgets unavailable')"
restart_redis
wait_for fallback_is 0 || true
check "D: back on the shared budgets" 0 "$(fallback)"
check "D: resynchronised" true "$(logged 'shared budgets resynchronised')"
stop_all

finish
