#!/usr/bin/env bash
# Issue 5: kill -9 the gateway at 4 random points of a 20,000-job run (20
# senders), restarting it each time with the same consumer name: every job
# ends with a terminal result, nothing stays pending, and the sandbox saw at
# most as many duplicates as jobs can be in flight at the kills (20 lanes x 4
# per kill).
. "$(dirname "$0")/lib.sh"
REDIS_AOF=yes start_redis
start_sandbox --set faults.latency_ms=50 --set graph.mailbox_recipients_per_day=0
N=20000 KILLS=4
queue_jobs $N --senders 20 --prefix kill
start_gateway SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0
for k in $(seq 0 $((KILLS - 1))); do
  at=$(( k * 4500 + 500 + RANDOM % 3500 ))
  for i in $(seq 1 1200); do [ "$(rcli xlen sendgate:results)" -ge "$at" ] && break; sleep 0.025; done
  kill9_gateway
  got=$(rcli xlen sendgate:results)
  echo "kill $((k + 1)): at $got results (aimed at $at), sandbox accepted $(sbx_stat .graph_accepted)"
  check "kill $((k + 1)) mid-run" "true" "$([ "$got" -lt $N ] && echo true)"
  start_gateway SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0
done
wait_results $N 180
dups=$(sbx_stat .duplicates)
echo "after $KILLS kills: $(rcli xlen sendgate:results) results, sandbox accepted $(sbx_stat .graph_accepted), duplicates $dups"
check "every job has a terminal result" $N "$(summary distinct_ids)"
check "all SENT" $N "$(summary SENT)"
check "jobs stream drained" 0 "$(rcli xlen sendgate:jobs)"
check "nothing pending" 0 "$(rcli xpending sendgate:jobs sendgate | head -1)"
check "sandbox holds every message" $N "$(sbx_stat .distinct_messages)"
check "duplicates at most the jobs in flight at the kills ($KILLS x 20 x 4)" "true" \
  "$([ "$dups" -le $((KILLS * 80)) ] && echo true)"
check "no early retries" 0 "$(sbx_stat .retry_after_violations)"
stop_gateway
finish
