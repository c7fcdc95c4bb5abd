#!/usr/bin/env bash
# The gateway under provider faults and short-lived tokens: 503s (with and
# without Retry-After), 504s, stream resets, GOAWAY every 200 requests and a
# 3-second token lifetime -> every job still ends SENT, no request lands
# inside a Retry-After window, few tokens are fetched, and no message is sent
# twice (none of these faults lets the sandbox accept a message the gateway
# does not hear about). A dropped connection with requests in flight is
# ambiguous; that case is in test_gateway_ambiguous.sh.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox --set entra.token_lifetime_s=3 --set faults.rate_503=0.05 \
  --set faults.rate_503_no_retry_after=0.02 --set faults.rate_504=0.01 \
  --set faults.rate_reset=0.01 --set faults.goaway_every=200 \
  --set faults.retry_after_s=0.2 --set graph.retry_after_fractional=true \
  --set faults.latency_ms=20

N=3000
queue_jobs $N --senders 6 --prefix flt
start_gateway SENDGATE_GATEWAY_RETRY_BASE_MS=20 SENDGATE_GATEWAY_RETRY_CAP_MS=500 \
  SENDGATE_GATEWAY_MAX_ATTEMPTS=20
wait_results $N 180
check "results" $N "$(summary results)"
check "all SENT" $N "$(summary SENT)"
check "no FAILED" 0 "$(summary FAILED)"
check "no EXPIRED" 0 "$(summary EXPIRED)"
check "one result per job" $N "$(summary distinct_ids)"
check "no request inside a Retry-After window" 0 "$(sbx_stat .retry_after_violations)"
check_ge "503s were injected" 50 "$(sbx_stat '.faults["503"]')"
check_ge "resets were injected" 5 "$(sbx_stat .faults.reset)"
check_ge "GOAWAYs were sent" 5 "$(sbx_stat .faults.goaway)"
check_ge "tokens refreshed during the run" 2 "$(sbx_stat .tokens_issued)"
secs=$(( $(date +%s) - $(stat -c %Y "$T/sandbox.env") + 1 ))
check "few token requests (at most one per second of run + 2)" "true" \
  "$([ "$(sbx_stat .token_requests)" -le $((secs + 2)) ] && echo true || echo "$(sbx_stat .token_requests) in ${secs}s")"
check "at most 4 in flight per mailbox" "true" "$(sbx_stat '.max_inflight_per_mailbox <= 4')"
check "sandbox accepted every job once" $N "$(sbx_stat .distinct_messages)"
check "no duplicates" 0 "$(sbx_stat .duplicates)"
stop_gateway
finish
