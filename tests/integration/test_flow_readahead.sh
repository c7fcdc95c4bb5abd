#!/usr/bin/env bash
# Read-ahead under a saturated transport: with the request cap reached
# (gateway.max_requests 8, the sandbox answering after 50 ms) and the lanes
# already holding as many jobs again, the gateway stops reading: of 400 jobs
# queued before the start it holds about cap + cap + one read (16) in memory,
# not all 400 that max_in_flight (10,000) would allow. Every job is SENT once.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox --set graph.mailbox_concurrency=0 --set graph.mailbox_requests=0 \
  --set graph.mailbox_recipients_per_day=0 --set faults.latency_ms=50
N=400
queue_jobs $N --senders 40 --prefix ra
MPORT=$(free_port)
start_gateway SENDGATE_HTTP_LISTEN=127.0.0.1:$MPORT SENDGATE_GATEWAY_MAX_REQUESTS=8 \
  SENDGATE_GATEWAY_FETCH_COUNT=16 SENDGATE_GATEWAY_MAX_IN_FLIGHT=10000 \
  SENDGATE_GRAPH_MAILBOX_CONCURRENCY=0 SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 \
  SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0 SENDGATE_GRAPH_MAILBOX_UPLOAD_BYTES_PER_5MIN=0

# Samples sendgate_jobs_in_flight every 50 ms until every result is in
# (bounded: 60 s): the largest value seen, and the largest after the first
# half second (until the first jobs are through their ledger lookups no
# request is out, so the gate stays open and a few more reads go out).
in_flight() { curl -sf "http://127.0.0.1:$MPORT/metrics" | awk '$1 == "sendgate_jobs_in_flight" {print $2}'; }
peak=0 steady=0 samples=0
for _ in $(seq 1 1200); do
  v=$(in_flight || true)
  if [ -n "$v" ]; then
    samples=$((samples + 1))
    v=${v%.*}
    [ "$v" -gt "$peak" ] && peak=$v
    [ "$samples" -gt 10 ] && [ "$v" -gt "$steady" ] && steady=$v
  fi
  [ "$(rcli xlen sendgate:results)" -ge $N ] && break
  sleep 0.05
done
echo "jobs in flight: at most $peak in $samples samples, $steady after the first 10"
wait_results $N 60
check "all SENT" $N "$(summary SENT)"
check "one result per job" $N "$(summary distinct_ids)"
check "no duplicates" 0 "$(sbx_stat .duplicates)"
check_ge "sampled while sending (>= 30 samples)" 30 "$samples"
check_ge "jobs read ahead of the requests (>= 12 in flight at some point)" 12 "$peak"
check "held in steady state: cap + cap + one read + slack (<= 40)" "true" \
  "$([ "$steady" -le 40 ] && echo true)"
check "held from the start: cap + cap + six reads (<= 112, not 400)" "true" \
  "$([ "$peak" -le 112 ] && echo true)"
stop_gateway
finish
