#!/usr/bin/env bash
# Job sizes (issue 12): an entry larger than gateway.max_job_bytes is refused
# as INVALID SENDGATE_TOO_LARGE with a dead letter, without its payload ever
# reaching the gateway, and the jobs around it go out; with a small byte
# budget (gateway.max_held_bytes) a backlog of large jobs still all goes out.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox
queue_jobs 5 --prefix before
# 3 MB of bytes that are not even a job: it must not be read to find that out.
head -c 3000000 /dev/zero | tr '\0' 'x' | rcli -x XADD sendgate:jobs '*' job >/dev/null
queue_jobs 5 --prefix after
start_gateway SENDGATE_GATEWAY_MAX_JOB_BYTES=1048576 SENDGATE_GATEWAY_MAX_HELD_BYTES=1048576
wait_results 11 60
check "sent around it" 10 "$(summary SENT)"
check "refused" 1 "$(summary INVALID)"
check "refused as too large" 1 "$(summary code:SENDGATE_TOO_LARGE)"
check "dead letter" 1 "$(rcli XLEN sendgate:dead)"
check "dead letter says why" 1 "$(rcli XRANGE sendgate:dead - + | grep -c '^SENDGATE_TOO_LARGE$')"
check "no connection dropped" 0 "$(grep -c 'connection lost' "$T/gateway.log" || true)"
check "nothing pending" 0 "$(rcli xpending sendgate:jobs sendgate | head -1)"
stop_gateway
finish
