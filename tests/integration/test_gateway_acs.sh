#!/usr/bin/env bash
# ACS Email end to end against the sandbox: 5,000 jobs -> SENT with operation
# ids (bounced domains FAILED with ACS's code), every request verifies; quota
# windows -> all sent by following Retry-After, none inside a window; a lost
# response after acceptance -> one message, one result (same Operation-Id);
# each ACS-specific invalid kind -> INVALID.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox --set acs.sends_per_minute=0 --set acs.sends_per_hour=0 \
  --set acs.status_per_minute=0 --set acs.status_per_hour=0 --set acs.op_step_ms=50
GW_ENV=(SENDGATE_DEFAULT_BACKEND=acs SENDGATE_ACS_SENDS_PER_MINUTE=0 SENDGATE_ACS_SENDS_PER_HOUR=0
  SENDGATE_ACS_POLLS_PER_MINUTE=0 SENDGATE_ACS_POLLS_PER_HOUR=0)

echo "# 5,000 ACS jobs"
queue_jobs 5000 --senders 10 --backend acs --bounce-every 50 --prefix acs
start_gateway "${GW_ENV[@]}"
wait_results 5000 180
check "results" 5000 "$(summary results)"
check "SENT" 4900 "$(summary SENT)"
check "bounced FAILED with ACS's code" 100 "$(summary code:EmailDropped)"
check "every result has its operation id" 5000 "$(summary with_operation_id)"
check "sandbox: one operation per job" 5000 "$(sbx_stat .acs_accepted)"
check "every request verified" 0 "$(sbx_stat .auth_failures)"
check "no duplicates" 0 "$(sbx_stat .duplicates)"
check_ge "operations were polled" 5000 "$(sbx_stat .acs_polls)"
stop_gateway

echo "# quota windows"
rcli del sendgate:results >/dev/null
curl -sf --cacert "$CA" -X POST "$SBX/sandbox/reset" >/dev/null
sbx_config acs.sends_per_minute=40 acs.minute_window_ms=1000 record.violation_grace_ms=100
queue_jobs 200 --senders 3 --backend acs --prefix quota
start_gateway "${GW_ENV[@]}"
wait_results 200 60
check "quota: all SENT" 200 "$(summary SENT)"
check_ge "quota: the sandbox throttled" 1 "$(sbx_stat .throttled_acs)"
check "quota: no request inside a Retry-After window" 0 "$(sbx_stat .retry_after_violations)"
stop_gateway

echo "# lost response after acceptance"
rcli del sendgate:results >/dev/null
curl -sf --cacert "$CA" -X POST "$SBX/sandbox/reset" >/dev/null
sbx_config acs.sends_per_minute=0 acs.drop_first_response=true
queue_jobs 20 --senders 2 --backend acs --prefix lost
start_gateway "${GW_ENV[@]}"
wait_results 20 60
check "lost: all SENT" 20 "$(summary SENT)"
check "lost: one message per job" 20 "$(sbx_stat .acs_accepted)"
check_ge "lost: resent with the same Operation-Id" 20 "$(sbx_stat .acs_repeats)"
check "lost: no duplicates" 0 "$(sbx_stat .duplicates)"
sbx_config acs.drop_first_response=false

echo "# polling switched off: 202 -> SENT"
rcli del sendgate:results >/dev/null
stop_gateway
polls_before=$(sbx_stat .acs_polls)
queue_jobs 10 --senders 1 --backend acs --prefix nopoll
start_gateway "${GW_ENV[@]}" SENDGATE_ACS_POLL=false
wait_results 10 30
check "no polling: SENT" 10 "$(summary SENT)"
check "no polling: operation ids kept" 10 "$(summary with_operation_id)"
check "no polling: no status calls" "$polls_before" "$(sbx_stat .acs_polls)"

echo "# invalid for ACS"
S=(env SENDGATE_REDIS_URL="$SENDGATE_REDIS_URL" "$SENDGATE" send --backend acs --wait --timeout 20
  --from DoNotReply@contoso.com --to r@example.com)
inv() { "${S[@]}" "$@" 2>&1 | grep -o 'error=SENDGATE_[A-Z_]*' | head -1; }
check "no subject" "error=SENDGATE_NO_SUBJECT" "$(inv --text body)"
check "no body" "error=SENDGATE_NO_CONTENT" "$(inv --subject s)"
printf 'To: r@example.com\r\nSubject: x\r\n\r\nhello\r\n' >"$T/m.eml"
check "MIME: taken apart and SENT" SENT "$(env SENDGATE_REDIS_URL="$SENDGATE_REDIS_URL" "$SENDGATE" send --backend acs --wait --timeout 20 --from DoNotReply@contoso.com --mime "$T/m.eml" 2>&1 | awk '{print $2}')"
many=(); for i in $(seq 1 51); do many+=(--to "r$i@example.com"); done
check "51 recipients" "error=SENDGATE_TOO_MANY_RECIPIENTS" "$(inv --subject s --text b "${many[@]}")"
head -c 8000000 /dev/urandom >"$T/big.bin"
check "over 10 MB" "error=SENDGATE_TOO_LARGE" "$(inv --subject s --text b --attach "$T/big.bin")"
"${S[@]}" --subject ok --text fine >/dev/null && rc=0 || rc=$?
check "a valid one exits 0" 0 "$rc"
stop_gateway

echo "# an ACS account that authenticates with an Entra token"
cat >"$T/gw.conf" <<CONF
[account.entra_acs]
type = acs
endpoint = $SBX
tenant_id = $SENDGATE_GRAPH_TENANT_ID
client_id = $SENDGATE_GRAPH_CLIENT_ID
sends_per_minute = 0
sends_per_hour = 0
CONF
start_gateway "${GW_ENV[@]}" SENDGATE_ACCOUNT_ENTRA_ACS_CLIENT_SECRET="$SENDGATE_GRAPH_CLIENT_SECRET" \
  SENDGATE_ACS_CONNECTION_STRING= --config "$T/gw.conf"
tok_before=$(sbx_stat .tokens_issued)
out=$(env SENDGATE_REDIS_URL="$SENDGATE_REDIS_URL" "$SENDGATE" send --account entra_acs --wait \
  --timeout 20 --from DoNotReply@contoso.com --to r@example.com --subject entra --text "bearer auth")
check "Entra-authenticated ACS send" "SENT" "$(echo "$out" | awk '{print $2}')"
check "a token was fetched for ACS" "$((tok_before + 1))" "$(sbx_stat .tokens_issued)"
stop_gateway
finish
