#!/usr/bin/env bash
# Issue 5: kill -9 the gateway at 4 random points of a 20,000-job run (20
# senders), restarting it each time with the same consumer name: every job
# ends with a terminal result, nothing stays pending, and the sandbox saw at
# most as many duplicates as there were jobs in flight at the kills: jobs the
# sandbox had accepted but whose result was not yet recorded when the gateway
# died (counted after each kill, once the sandbox has answered everything).
. "$(dirname "$0")/lib.sh"
REDIS_AOF=yes start_redis
start_sandbox --set faults.latency_ms=50 --set graph.mailbox_recipients_per_day=0
N=20000 KILLS=4
queue_jobs $N --senders 20 --prefix kill
start_gateway SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0
sbx_idle() { [ "$(sbx_stat .inflight_now)" -eq 0 ]; }
inflight_at_kills=0
for k in $(seq 0 $((KILLS - 1))); do
  at=$(( k * 4500 + 500 + RANDOM % 3500 ))
  for i in $(seq 1 1200); do [ "$(rcli xlen sendgate:results)" -ge "$at" ] && break; sleep 0.025; done
  kill9_gateway
  wait_for sbx_idle
  got=$(rcli xlen sendgate:results)
  acc=$(sbx_stat .distinct_messages)
  unrec=$(( acc > got ? acc - got : 0 ))
  inflight_at_kills=$(( inflight_at_kills + unrec ))
  echo "kill $((k + 1)): at $got results (aimed at $at), sandbox accepted $acc distinct: $unrec in flight"
  check "kill $((k + 1)) mid-run" "true" "$([ "$got" -lt $N ] && echo true)"
  start_gateway SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0
done
wait_results $N 180
dups=$(sbx_stat .duplicates)
echo "after $KILLS kills: $(rcli xlen sendgate:results) results, sandbox accepted $(sbx_stat .graph_accepted), duplicates $dups"
check "every job has a terminal result" $N "$(summary distinct_ids)"
check "all SENT" $N "$(summary SENT)"
check "jobs stream drained (trimmed)" 0 "$(jobs_drained)"
check "nothing pending" 0 "$(rcli xpending sendgate:jobs sendgate | head -1)"
check "sandbox holds every message" $N "$(sbx_stat .distinct_messages)"
echo "jobs in flight at the kills: $inflight_at_kills"
check "duplicates at most the jobs in flight at the kills ($dups <= $inflight_at_kills)" "true" \
  "$([ "$dups" -le "$inflight_at_kills" ] && echo true)"
check "no early retries" 0 "$(sbx_stat .retry_after_violations)"
stop_gateway
finish
