#!/usr/bin/env bash
# Issue 5: Redis (appendonly yes) stops for 2 s in the middle of a 10,000-job
# run and comes back on the same port with the same directory: nothing is
# lost (every job one terminal result, nothing pending), no more duplicates
# than jobs in flight, and the time to drain the backlog after Redis returns
# is printed.
. "$(dirname "$0")/lib.sh"
REDIS_AOF=yes # kept for restart_redis
start_redis
start_sandbox --set faults.latency_ms=20 --set graph.mailbox_recipients_per_day=0
N=10000
queue_jobs $N --senders 20 --prefix rds
t0=$(now_ms)
start_gateway SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0
for i in $(seq 1 1200); do [ "$(rcli xlen sendgate:results)" -ge 2000 ] && break; sleep 0.025; done
stop_redis
down=$(now_ms)
accepted_at_stop=$(sbx_stat .graph_accepted)
sleep 2 # the outage
accepted_in_outage=$(( $(sbx_stat .graph_accepted) - accepted_at_stop ))
restart_redis
back=$(now_ms)
before=$(rcli xlen sendgate:results)
echo "Redis down for $((back - down)) ms; $before results kept; sandbox accepted $accepted_in_outage during the outage"
check "gateway survived the outage" "true" "$(kill -0 "$GATEWAY_PID" 2>/dev/null && echo true)"
check "results survived the restart" "true" "$([ "$before" -ge 2000 ] && echo true)"
wait_results $N 120
done_ms=$(now_ms)
echo "drain after Redis returned: $((done_ms - back)) ms for $((N - before)) jobs (whole run $((done_ms - t0)) ms)"
check "every job has a terminal result" $N "$(summary distinct_ids)"
# A completion whose script ran but whose reply was lost with the connection is
# sent again after the reconnect; its ledger SET NX goes first and tells that it
# ran (sg_rd_stream_complete_once), so no result is written twice.
check "all results SENT" 0 "$(( $(summary FAILED) + $(summary INVALID) + $(summary EXPIRED) ))"
check "no result published twice across the outage" $N "$(summary results)"
check "jobs stream drained (trimmed)" 0 "$(jobs_drained)"
check "nothing pending" 0 "$(rcli xpending sendgate:jobs sendgate | head -1)"
check "sandbox holds every message" $N "$(sbx_stat .distinct_messages)"
dups=$(sbx_stat .duplicates)
echo "sandbox duplicates: $dups"
check "duplicates at most the jobs in flight (20 x 4)" "true" "$([ "$dups" -le 80 ] && echo true)"
stop_gateway && rc=0 || rc=$?
check "SIGTERM exit code" 0 "$rc"
finish
