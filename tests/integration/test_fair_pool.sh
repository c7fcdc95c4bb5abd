#!/usr/bin/env bash
# Sender pools (issue 15): 2,000 jobs to "pool:news", a pool of 5 mailboxes
# whose lanes admit 4 requests at a time each (the sandbox answers after
# 50 ms), against the same 2,000 jobs for one mailbox:
#  - every job SENT exactly once (results and sandbox), each result names the
#    member that sent it, every member sent some (the sandbox saw them);
#  - the pool's run takes at most half the single mailbox's time (5 lanes);
#  - at most 4 in flight per mailbox;
#  - weights: with room on every member (no caps, no sandbox latency), a
#    member of weight 3 sends at least twice as many as one of weight 1;
#  - a job to an unknown pool is INVALID SENDGATE_UNKNOWN_POOL.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox --set faults.latency_ms=50 --set graph.mailbox_concurrency=4 \
  --set graph.mailbox_requests=0 --set graph.mailbox_recipients_per_day=0
cat >"$T/gw.conf" <<'CONF'
[pool.news]
members = n1@contoso.com, n2@contoso.com, n3@contoso.com, n4@contoso.com, n5@contoso.com
[pool.heavy]
members = h1@contoso.com, h2@contoso.com, h3@contoso.com
weights = 3, 1, 1
CONF
GW_ENV=(SENDGATE_GRAPH_MAILBOX_CONCURRENCY=4 SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0
  SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0)
start_gateway "${GW_ENV[@]}" --config "$T/gw.conf"
N=2000

# One mailbox first: the yardstick.
t0=$(now_ms)
"$TOOLS/sg_testjobs" gen $N --sender single@contoso.com --prefix one |
  redis-cli -p "$REDIS_PORT" --pipe >/dev/null
wait_results $N 120
single=$(($(now_ms) - t0))
echo "one mailbox: $N jobs in $single ms"
check "one mailbox: all SENT" $N "$(summary SENT)"

rcli del sendgate:results >/dev/null
t0=$(now_ms)
"$TOOLS/sg_testjobs" gen $N --sender pool:news --prefix pool |
  redis-cli -p "$REDIS_PORT" --pipe >/dev/null
wait_results $N 120
pooled=$(($(now_ms) - t0))
echo "pool of 5: $N jobs in $pooled ms"
check "pool: all SENT" $N "$(summary SENT)"
check "pool: each job once" $N "$(summary distinct_ids)"
grep '^sender:' "$T/summary.txt" | sed 's/^/pool:   /'
check "pool: every result names one of the 5 members" $N \
  "$(awk '$1 ~ /^sender:n[1-5]@contoso.com$/ {n += $2} END {print n + 0}' "$T/summary.txt")"
check "pool: all 5 members sent" 5 "$(grep -c '^sender:n[1-5]@' "$T/summary.txt")"
check_ge "pool: the least used member sent at least 10 %" $((N / 10)) \
  "$(awk '$1 ~ /^sender:n/ {if (m == "" || $2 < m) m = $2} END {print m + 0}' "$T/summary.txt")"
check "pool: at most half the single mailbox's time" true "$([ $((pooled * 2)) -le "$single" ] && echo true)"
check "sandbox: no duplicates" 0 "$(sbx_stat .duplicates)"
check "sandbox: accepted each job once" $((2 * N)) "$(sbx_stat .graph_accepted)"
check "sandbox: at most 4 in flight per mailbox" true "$(sbx_stat '.max_inflight_per_mailbox <= 4')"
lane_report 0 1000 >"$T/lanes.txt"
check "sandbox: the pool's jobs came from its 5 mailboxes" $N \
  "$(awk '$1 ~ /^n[1-5]@contoso.com$/ {n += $2} END {print n + 0}' "$T/lanes.txt")"

# Weights 3, 1, 1, with room on every member: no in-flight caps on either side
# (a saturated pool sends at each member's own budget instead), so the choice
# is by load per weight alone, however fast this machine is.
stop_gateway
sbx_config faults.latency_ms=0 graph.mailbox_concurrency=0
start_gateway SENDGATE_GRAPH_MAILBOX_CONCURRENCY=0 SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 \
  SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0 --config "$T/gw.conf"
rcli del sendgate:results >/dev/null
"$TOOLS/sg_testjobs" gen 1000 --sender pool:heavy --prefix heavy |
  redis-cli -p "$REDIS_PORT" --pipe >/dev/null
wait_results 1000 120
check "weighted: all SENT" 1000 "$(summary SENT)"
grep '^sender:' "$T/summary.txt" | sed 's/^/weighted:   /'
h1=$(awk '$1 == "sender:h1@contoso.com" {print $2}' "$T/summary.txt")
h2=$(awk '$1 == "sender:h2@contoso.com" {print $2}' "$T/summary.txt")
check_ge "weighted: h1 (weight 3) sent at least twice as many as h2 (weight 1)" $((2 * ${h2:-1})) "${h1:-0}"

# An unknown pool.
rcli del sendgate:results >/dev/null
"$TOOLS/sg_testjobs" gen 1 --sender pool:nosuch --prefix bad | redis-cli -p "$REDIS_PORT" --pipe >/dev/null
wait_results 1 30
check "unknown pool: INVALID" 1 "$(summary INVALID)"
check "unknown pool: its code" 1 "$(summary code:SENDGATE_UNKNOWN_POOL)"
stop_gateway
check "exit 0 on SIGTERM" 0 $?
finish
