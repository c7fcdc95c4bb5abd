#!/usr/bin/env bash
# Fair intake (issue 15).
# A. A campaign of 20,000 bulk jobs for one mailbox, whose
# lane admits 4 requests at a time (the sandbox answers after 50 ms: about 80
# messages a second), fills the job stream ahead of 200 transactional jobs from
# 20 other senders. The gateway holds at most 1,000 jobs (max_in_flight).
# Without head-of-line parking the campaign would hold all 1,000 places for
# minutes; with it the campaign's excess waits in sendgate:delayed, due as the
# lane can take it, and:
#  - all 200 transactional jobs have their results within 15 s (bounded poll),
#    and /metrics counts them in sendgate_job_latency_by_priority_seconds
#    (priority="transactional", within 30 s), the campaign's under "bulk",
#  - the campaign keeps running at its lane's budget meanwhile (never more
#    than 4 in flight for its mailbox),
#  - nothing is lost or sent twice: after a stop, every campaign job is either
#    answered once, still in the job stream, or in the delayed set.
# B. The same campaign XADDed to the bulk stream (sendgate:jobs:bulk), as
#    campaign producers should: the same checks, and it is fed into the job
#    stream and sent; parked bulk jobs wait in sendgate:delayed:bulk.
# FAIR_EXTRA_ENV adds gateway settings: SENDGATE_GATEWAY_HOL_HORIZON_MS=0
# (parking off) makes the transactional checks fail.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox --set faults.latency_ms=50 --set graph.mailbox_concurrency=4 \
  --set graph.mailbox_requests=0 --set graph.mailbox_recipients_per_day=0

NC=20000
NT=200
# 75 % of the budget; 50 % under the sanitizers (every process several times slower).
MIN_RATE=180
[ "${SG_SANITIZE:-OFF}" = ON ] && MIN_RATE=120
# run_case NAME STREAM: the campaign on STREAM, then the transactional jobs.
run_case() {
  local name=$1 stream=$2 t0 took c0 c1 c2 parked res left mport tx30 bulkn
  rcli del sendgate:results sendgate:results:tx sendgate:delayed sendgate:delayed:bulk >/dev/null
  "$TOOLS/sg_testjobs" gen $NC --senders 1 --sender-prefix "campaign-$name" --campaign big \
    --prefix "camp-$name" --stream "$stream" | redis-cli -p "$REDIS_PORT" --pipe >/dev/null
  check "$name: campaign queued" $NC "$(rcli xlen "$stream")"
  mport=$(free_port)
  start_gateway SENDGATE_GRAPH_MAILBOX_CONCURRENCY=4 SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 \
    SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0 SENDGATE_GATEWAY_MAX_IN_FLIGHT=1000 \
    SENDGATE_HTTP_LISTEN=127.0.0.1:$mport ${FAIR_EXTRA_ENV:-}
  # The campaign is under way.
  wait_results 50 60
  t0=$(now_ms)
  "$TOOLS/sg_testjobs" gen $NT --senders 20 --sender-prefix "user-$name" --campaign "" \
    --prefix "tx-$name" --reply-stream sendgate:results:tx |
    redis-cli -p "$REDIS_PORT" --pipe >/dev/null
  c0=$(rcli xlen sendgate:results)
  if wait_results $NT 15 sendgate:results:tx; then
    took=$(($(now_ms) - t0))
  else
    took=-1
  fi
  echo "$name: $NT transactional results in $took ms behind a $NC-job campaign ($stream)"
  check "$name: all transactional jobs answered within 15 s" "true" "$([ "$took" -ge 0 ] && echo true)"
  check "$name: transactional all SENT" $NT "$(summary SENT sendgate:results:tx)"
  # The latency by priority on /metrics: every transactional job within 30 s
  # of its creation, the campaign's results counted apart.
  curl -sf "http://127.0.0.1:$mport/metrics" >"$T/metrics"
  tx30=$(awk '$1 == "sendgate_job_latency_by_priority_seconds_bucket{priority=\"transactional\",le=\"30\"}" {print $2}' "$T/metrics")
  bulkn=$(awk '$1 == "sendgate_job_latency_by_priority_seconds_count{priority=\"bulk\"}" {print $2}' "$T/metrics")
  check "$name: /metrics: $NT transactional results within 30 s" $NT "${tx30:-none}"
  check_ge "$name: /metrics: campaign results counted as bulk" 50 "${bulkn:-0}"
  # The campaign's pace over the same time, then over 3 more seconds.
  c1=$(rcli xlen sendgate:results)
  sleep 3
  c2=$(rcli xlen sendgate:results)
  echo "$name: campaign $((c1 - c0)) results while the transactional jobs ran, $((c2 - c1)) in the next 3 s"
  check_ge "$name: campaign at its budget (results in 3 s; 4 in flight at 50 ms allow ~240)" \
    "$MIN_RATE" $((c2 - c1))
  check "$name: at most 4 in flight per mailbox" "true" "$(sbx_stat '.max_inflight_per_mailbox <= 4')"
  parked=$(($(rcli zcard sendgate:delayed) + $(rcli zcard sendgate:delayed:bulk)))
  echo "$name: campaign jobs waiting in the delayed sets: $parked, in the bulk stream: $(rcli xlen sendgate:jobs:bulk)"
  check_ge "$name: the campaign's excess waits in Redis" 1000 $((parked + $(rcli xlen sendgate:jobs:bulk)))
  stop_gateway
  check "$name: exit 0 on SIGTERM" 0 $?
  # Nothing lost, nothing twice.
  res=$(summary results)
  check "$name: each campaign result once" "$res" "$(summary distinct_ids)"
  check "$name: no duplicates at the sandbox" 0 "$(sbx_stat .duplicates)"
  parked=$(($(rcli zcard sendgate:delayed) + $(rcli zcard sendgate:delayed:bulk)))
  left=$(($(unacked sendgate:jobs) + $(rcli xlen sendgate:jobs:bulk) + parked))
  check "$name: every campaign job answered, queued or delayed" $NC $((res + left))
}

run_case A sendgate:jobs
# B starts from an empty job stream: what A left there is dropped.
rcli del sendgate:jobs sendgate:jobs:bulk >/dev/null
curl -sf --cacert "$CA" -X POST "$SBX/sandbox/reset" >/dev/null
run_case B sendgate:jobs:bulk
check_ge "B: bulk parks went to sendgate:delayed:bulk" 1 "$(rcli zcard sendgate:delayed:bulk)"
finish
