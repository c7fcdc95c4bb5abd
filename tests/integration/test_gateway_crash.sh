#!/usr/bin/env bash
# kill -9 of the gateway in the middle of a run, then a restart with the same
# consumer name: every job ends with a terminal result. Then SIGTERM mid-run:
# exit 0 within the grace time, and a restart finishes the rest.
. "$(dirname "$0")/lib.sh"
REDIS_AOF=yes start_redis
start_sandbox --set faults.latency_ms=50

N=4000
queue_jobs $N --senders 4 --prefix crash
start_gateway
for i in $(seq 1 200); do [ "$(rcli xlen sendgate:results)" -ge 500 ] && break; sleep 0.05; done
kill -9 "$GATEWAY_PID"
wait "$GATEWAY_PID" 2>/dev/null || true
before=$(rcli xlen sendgate:results)
echo "killed with $before results published"
check "killed mid-run" "true" "$([ "$before" -lt $N ] && echo true)"
start_gateway
wait_results $N 120
check "every job has a result" $N "$(summary distinct_ids)"
check "all SENT" $N "$(summary SENT)"
check "nothing left pending" 0 "$(rcli xpending sendgate:jobs sendgate | head -1)"
echo "sandbox duplicates after kill -9: $(sbx_stat .duplicates) (in flight at the kill)"
check "duplicates at most the jobs in flight (4 lanes x 4)" "true" "$(sbx_stat '.duplicates <= 16')"
stop_gateway

# SIGTERM while jobs are in flight.
rcli del sendgate:results >/dev/null
queue_jobs 2000 --senders 8 --prefix term
start_gateway SENDGATE_GATEWAY_GRACE_MS=5000
for i in $(seq 1 200); do [ "$(rcli xlen sendgate:results)" -ge 200 ] && break; sleep 0.05; done
t0=$(date +%s%N)
stop_gateway && rc=0 || rc=$?
t1=$(date +%s%N)
check "SIGTERM: exit 0" 0 "$rc"
check "SIGTERM: exited within the grace time" "true" "$([ $(( (t1 - t0) / 1000000 )) -lt 6000 ] && echo true)"
check "SIGTERM: some jobs left for later" "true" "$([ "$(rcli xlen sendgate:results)" -lt 2000 ] && echo true)"
start_gateway
wait_results 2000 120
check "after restart every job has a result" 2000 "$(summary distinct_ids)"
check "after restart all SENT" 2000 "$(summary SENT)"
stop_gateway
finish
