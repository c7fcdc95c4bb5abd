#!/usr/bin/env bash
# The gateway end to end on Graph against a real redis-server and the sandbox:
# 10,000 jobs queued before the first start -> 10,000 results, the sandbox
# holds the right messages, every invalid kind gets its INVALID code, and
# entries that are not jobs get an INVALID result and a dead letter.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox --set graph.mailbox_concurrency=4

queue_jobs 10000 --senders 20 --invalid-every 100 --prefix e2e
rcli xadd sendgate:jobs '*' job 'this is not protobuf' >/dev/null
rcli xadd sendgate:jobs '*' payload nothing >/dev/null
MPORT=$(free_port)
start_gateway SENDGATE_HTTP_LISTEN=127.0.0.1:$MPORT SENDGATE_GRAPH_ALLOWED_SENDERS="ops@fabrikam.com, @contoso.com"
wait_results 10002 120
check "results" 10002 "$(summary results)"
check "one result per job" 10001 "$(summary distinct_ids)" # the two non-jobs share job_id ""
check "SENT" 9900 "$(summary SENT)"
check "INVALID" 102 "$(summary INVALID)"
check "FAILED" 0 "$(summary FAILED)"
for code in NO_RECIPIENTS BAD_ADDRESS CRLF BAD_HEADER TOO_MANY_HEADERS UNKNOWN_ACCOUNT MIME_AND_CONTENT; do
  check_ge "INVALID $code" 14 "$(summary "code:SENDGATE_$code")"
done
check "undecodable entry" 1 "$(summary code:SENDGATE_UNDECODABLE)"
check "entry without job field" 1 "$(summary code:SENDGATE_NO_JOB_FIELD)"
check "dead letters" 2 "$(rcli xlen sendgate:dead)"
check "dead letter reasons" "1 1" "$(rcli xrange sendgate:dead - + | grep -c "^SENDGATE_UNDECODABLE$") $(rcli xrange sendgate:dead - + | grep -c "^SENDGATE_NO_JOB_FIELD$")"
check "jobs stream drained (trimmed)" 0 "$(jobs_drained)"
check "nothing pending" 0 "$(rcli xpending sendgate:jobs sendgate | head -1)"
check "sandbox accepted" 9900 "$(sbx_stat .graph_accepted)"
check "no duplicates" 0 "$(sbx_stat .duplicates)"
check "no early retries" 0 "$(sbx_stat .retry_after_violations)"
check "at most 4 in flight per mailbox" "true" "$(sbx_stat '.max_inflight_per_mailbox <= 4')"
check "one token" 1 "$(sbx_stat .tokens_issued)"
# Content: the message of job e2e-3 (cc, html, custom header, display name).
curl -s --cacert "$CA" "$SBX/sandbox/messages?limit=100000" >"$T/messages.json"
jq -c '[.[] | .message | select(.subject == "Order e2e-3 confirmed ✓")][0]' "$T/messages.json" >"$T/m3.json"
check "mailbox" "sender-3@contoso.com" "$(jq -r .mailbox "$T/m3.json")"
check "to" "r-3@example.com Réceiver" "$(jq -r '.to[0].address + " " + .to[0].name' "$T/m3.json")"
check "cc" "c-3@example.com" "$(jq -r '.cc[0].address' "$T/m3.json")"
check "html body" "html" "$(jq -r .body_kind "$T/m3.json")"
check "custom header" "X-Order=e2e-3" "$(jq -r '.headers[0].name + "=" + .headers[0].value' "$T/m3.json")"
check "text body kept escapes" "text" "$(jq -r '[.[] | .message | select(.subject == "Order e2e-4 confirmed ✓")][0].body_kind' "$T/messages.json")"
# Metrics and health.
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$T/metrics.txt"
metric() { awk -v m="$1" '$1 == m {print $2}' "$T/metrics.txt"; }
check "metric SENT" 9900 "$(metric 'sendgate_results_total{backend="graph",status="SENT"}')"
check "metric INVALID" 102 "$(metric 'sendgate_results_total{backend="graph",status="INVALID"}')"
# Jobs their lane could not start within gateway.hol_horizon_ms went to the
# delayed set and were fetched again once due: one more fetch per such park.
parked=$(awk '$1 ~ /^sendgate_hol_parked_total/ {n += $2} END {print n + 0}' "$T/metrics.txt")
echo "jobs parked while their lane was busy: $parked"
check "metric fetched (each job once, plus once per park)" 10002 "$(($(metric sendgate_jobs_fetched_total) - parked))"
check "metric dead letters" 2 "$(metric sendgate_dead_letters_total)"
check "metric HTTP 202" 9900 "$(metric 'sendgate_http_requests_total{origin="graph",code="202"}')"
check "metric in flight" 0 "$(metric sendgate_jobs_in_flight)"
# One lane per sender, kept: their windows still count today's messages.
check "metric lanes" 20 "$(metric sendgate_lanes)"
check "metric lanes waiting" 0 "$(metric 'sendgate_lanes_waiting{lane_kind="graph"}')"
check "healthz" "ok" "$(curl -sf "http://127.0.0.1:$MPORT/healthz")"
check "readyz" "200" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/readyz")"
# A job whose Graph request would exceed 4 MB (3.2 MB attachment, base64)
# goes as a draft with an upload session (issue 14), as one message; over
# graph.max_send_bytes it is refused (test_gateway_large.sh).
head -c 3200000 /dev/urandom >"$T/big.bin"
accepted=$(sbx_stat .graph_accepted)
check "over 4 MB: as a draft" "SENT" "$(env SENDGATE_REDIS_URL="$SENDGATE_REDIS_URL" \
  "$SENDGATE" send --wait --timeout 20 --from sender-1@contoso.com --to r@example.com \
  --subject big --text b --attach "$T/big.bin" 2>&1 | grep -o ' SENT ' | tr -d ' ' | head -1)"
check "over 4 MB: one message" "$((accepted + 1)) 1" "$(sbx_stat '"\(.graph_accepted) \(.drafts_sent)"')"
accepted=$(sbx_stat .graph_accepted)
# Senders outside the account's allowed_senders are refused before anything is sent.
check "sender not allowed" "error=SENDGATE_SENDER_NOT_ALLOWED" "$(env SENDGATE_REDIS_URL="$SENDGATE_REDIS_URL" \
  "$SENDGATE" send --wait --timeout 20 --from ceo@fabrikam.com --to r@example.com \
  --subject s --text b 2>&1 | grep -o 'error=SENDGATE_[A-Z_]*' | head -1)"
check "sender not allowed: nothing sent" "$accepted" "$(sbx_stat .graph_accepted)"
check "allowed address" "SENT" "$(env SENDGATE_REDIS_URL="$SENDGATE_REDIS_URL" \
  "$SENDGATE" send --wait --timeout 20 --from OPS@fabrikam.com --to r@example.com \
  --subject s --text b 2>&1 | grep -o ' SENT ' | tr -d ' ' | head -1)"
# A producer clock near the end of time: the deadline saturates instead of
# overflowing (UBSan in the sanitizer run), and the jobs are sent.
before=$(rcli xlen sendgate:results)
queue_jobs 3 --prefix far --created 9223372036854775000
wait_results $((before + 3)) 30
check "created near INT64_MAX: sent" 9903 "$(summary SENT)" # sendgate send answers on its own stream
# A reply stream outside gateway.reply_stream_prefix (here the job stream
# itself) is refused; the INVALID result goes to the default stream.
queue_jobs 1 --prefix evil --reply-stream sendgate:jobs
queue_jobs 1 --prefix mine --reply-stream sendgate:results:app1
wait_results $((before + 4)) 30
check "reply stream outside the prefix" 1 "$(summary code:SENDGATE_REPLY_STREAM_NOT_ALLOWED)"
check "reply stream under the prefix" 1 "$(rcli xlen sendgate:results:app1)"
stop_gateway && rc=0 || rc=$?
check "SIGTERM exit code" 0 "$rc"
finish
