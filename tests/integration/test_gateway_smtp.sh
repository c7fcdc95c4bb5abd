#!/usr/bin/env bash
# SMTP egress end to end: `sendgate run` with accounts of type exchange_smtp
# (XOAUTH2 with the sandbox's Entra token for outlook.office365.com) and hve
# (its own password) against the sandbox's SMTP hosts, real STARTTLS with
# the test CA:
#  1. structured and MIME jobs arrive on the Exchange host (the sandbox's
#     record and saved bytes); 300 jobs of 3 mailboxes on few sessions;
#  2. an hve account pointed at the Exchange host: Basic auth 550 5.7.30 ->
#     FAILED with error_code 5.7.30; no server at all: retried, EXPIRED;
#  3. HVE: internal recipients SENT on the HVE host; an external one INVALID
#     before sending; 51 recipients INVALID;
#  4. throttling (the sandbox's 450 4.7.0 above its minute limit): the lane
#     pauses (exchange_smtp.throttle_ms) and every job is SENT in the end;
#  5. the connection dropped after the final dot: ambiguous; with
#     gateway.ambiguous = fail FAILED SENDGATE_AMBIGUOUS, with resend SENT;
#  6. the daily quota (5.2.0 SubmissionQuotaExceeded): the mailbox waits in
#     the delayed set, no result yet;
#  7. an SMTPUTF8 envelope (a non-ASCII mailbox);
#  8. a token that expired (the sandbox's smtp.expire_tokens): 535 5.7.3, a
#     new token and SENT; twice in a row FAILED 5.7.3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtp_egress_lib.sh"
mkdir -p "$T/save"
start_redis
start_sandbox --set smtp.exchange_listen=127.0.0.1:0 --set smtp.hve_listen=127.0.0.1:0 \
  --set "smtp.save_dir=$T/save" --set smtp.messages_per_minute=0
smtp_accounts "$T/gw.ini"
DOWN_PORT=$(free_port) # nothing listens there
cat >>"$T/gw.ini" <<INI

[account.down]
type = exchange_smtp
tenant_id = $SENDGATE_GRAPH_TENANT_ID
client_id = $SENDGATE_GRAPH_CLIENT_ID
login_url = $SENDGATE_LOGIN_URL
smtp_host = 127.0.0.1:$DOWN_PORT

[account.basic]
type = hve
username = mbx@contoso.com
smtp_host = $SENDGATE_SANDBOX_SMTP_EXCHANGE
accepted_domains = contoso.com, fabrikam.com
INI
MPORT=$(free_port)
metric() { curl -sf "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
GW_ENV=("${SMTP_ENV[@]}" SENDGATE_ACCOUNT_BASIC_PASSWORD=whatever
  SENDGATE_ACCOUNT_DOWN_CLIENT_SECRET="$SENDGATE_GRAPH_CLIENT_SECRET"
  SENDGATE_GATEWAY_RETRY_BASE_MS=50 SENDGATE_GATEWAY_RETRY_CAP_MS=200
  SENDGATE_EXCHANGE_SMTP_THROTTLE_MS=700 SENDGATE_EXCHANGE_SMTP_MESSAGES_PER_MINUTE=0
  SENDGATE_HTTP_LISTEN=127.0.0.1:$MPORT)
send() { "$SENDGATE" send --wait --timeout 30 "$@"; }
# field N of the --wait line of a job: "ID STATUS attempts=N http=C code=X ..."
start_gateway "${GW_ENV[@]}" --config "$T/gw.ini"

echo "# 1. Exchange: XOAUTH2, structured and MIME jobs"
send --account exch --id ex-1 --from mbx@contoso.com --to bob@fabrikam.com \
  --subject "caf$(printf '\xc3\xa9')" --text 'hello' >"$T/ex1.out" 2>&1 && rc=0 || rc=$?
check "structured job: SENT" "0" "$rc"
check "provider_request_id: the server's 250 with its queue id" 1 \
  "$(grep -c '^ex-1 SENT attempts=1 http=250 request_id=250 2.0.0 OK <[0-9a-f-]*@' "$T/ex1.out")"
check "the sandbox saved it on the Exchange host" "host exchange|mailbox mbx@contoso.com|from mbx@contoso.com" \
  "$(head -3 "$T/save/1.env" | paste -sd'|')"
check "rendered: the subject RFC 2047-encoded" 1 "$(grep -c '^Subject: =?UTF-8?B?Y2Fmw6k=?=' "$T/save/1.eml")"
printf 'From: mbx@contoso.com\r\nTo: bob@fabrikam.com\r\nSubject: mime\r\n\r\n.dot line\r\nbye\r\n' >"$T/m.eml"
send --account exch --id ex-mime --from mbx@contoso.com --to bob@fabrikam.com --mime "$T/m.eml" \
  >"$T/ex2.out" 2>&1 && rc=0 || rc=$?
check "MIME job: SENT" 0 "$rc"
check "MIME job: the bytes arrive as they are (dots unstuffed)" "" "$(cmp "$T/m.eml" "$T/save/2.eml" 2>&1)"
queue_jobs 300 --senders 3 --account exch --prefix bulk
wait_results 300 60
check "300 jobs of 3 mailboxes: SENT" 300 "$(summary SENT)"
check "the sandbox recorded 302 messages" 302 "$(ls "$T/save"/*.eml | wc -l)"
check "no duplicates" 0 "$(sbx_stat .duplicates)"
check "every message from its authenticated mailbox" 0 \
  "$(grep -h '^mailbox\|^from' "$T"/save/*.env | paste - - | awk '$2 != $4' | wc -l)"
opened=$(metric sendgate_smtp_sessions_opened_total)
check_ge "sessions reused: 302 messages on at most 3 x 3 + 1 sessions" "$opened" 10
check_ge "and at least one per mailbox" 4 "$opened"
st=$(curl -sf "http://127.0.0.1:$MPORT/status")
check "/status lists the SMTP sessions as the gauge counts them" \
  "$(metric sendgate_smtp_sessions_open)" \
  "$(jq '.connections[] | select(.kind == "smtp") | .open' <<<"$st")"
check_ge "and at least one is open" 1 "$(jq '.connections[] | select(.kind == "smtp") | .open' <<<"$st")"
check "results by backend" 302 "$(curl -sf "http://127.0.0.1:$MPORT/metrics" |
  awk '/^sendgate_results_total\{backend="smtp",status="SENT"\}/ {print $2}')"

echo "# 2. Exchange refuses Basic auth"
send --account basic --id basic-1 --from mbx@contoso.com --to bob@fabrikam.com --subject b \
  --text b >"$T/b1.out" 2>&1 && rc=0 || rc=$?
check "Basic on the Exchange host: FAILED 5.7.30" "1 1" "$rc $(grep -c '^basic-1 FAILED attempts=1 http=550 error=5.7.30: AUTH: 550 5.7.30 Basic authentication is not supported' "$T/b1.out")"

echo "# 2b. no server: retried, then EXPIRED with the transport error"
send --account down --id down-1 --from mbx@contoso.com --to bob@fabrikam.com --subject d \
  --text d --max-attempts 2 >"$T/d1.out" 2>&1 && rc=0 || rc=$?
check "EXPIRED after 2 attempts, the connect error named" 1 \
  "$(grep -c '^down-1 EXPIRED attempts=2 .*error=.*CONNREFUSED.*connect' "$T/d1.out")"

echo "# 3. HVE"
send --account hve --id hve-1 --from hve@contoso.com --to all@contoso.com --cc ops@contoso.com \
  --subject notice --text notice >"$T/h1.out" 2>&1 && rc=0 || rc=$?
check "HVE, internal recipients: SENT" 0 "$rc"
last=$(ls "$T/save"/*.env | sort -V | tail -1)
check "HVE: on the HVE host, as its account" "host hve|mailbox hve@contoso.com" \
  "$(head -2 "$last" | paste -sd'|')"
n_before=$(ls "$T/save"/*.eml | wc -l)
send --account hve --id hve-ext --from hve@contoso.com --to all@contoso.com \
  --bcc someone@fabrikam.com --subject x --text x >"$T/h2.out" 2>&1 && rc=0 || rc=$?
check "HVE, an external recipient: INVALID before sending" "1 1" \
  "$rc $(grep -c '^hve-ext INVALID attempts=0 .*error=SENDGATE_RECIPIENT_NOT_ACCEPTED' "$T/h2.out")"
rc_args=()
for i in $(seq 1 51); do rc_args+=(--to "r$i@contoso.com"); done
send --account hve --id hve-51 --from hve@contoso.com "${rc_args[@]}" --subject x --text x \
  >"$T/h3.out" 2>&1 && rc=0 || rc=$?
check "HVE, 51 recipients: INVALID" 1 "$(grep -c '^hve-51 INVALID .*error=SENDGATE_TOO_MANY_RECIPIENTS' "$T/h3.out")"
check "nothing was sent for them" "$n_before" "$(ls "$T/save"/*.eml | wc -l)"

echo "# 4. throttling: 450 4.7.0 pauses the lane"
rcli del sendgate:results >/dev/null
pauses0=$(metric 'sendgate_lane_pauses_total{lane_kind="smtp"}')
sbx_config smtp.messages_per_minute=5 smtp.minute_window_ms=1000
queue_jobs 30 --senders 2 --account exch --prefix thr
wait_results 30 60
check "throttled jobs: all SENT in the end" 30 "$(summary SENT)"
check_ge "the lane paused" $((${pauses0:-0} + 1)) "$(metric 'sendgate_lane_pauses_total{lane_kind="smtp"}')"
check_ge "retried as throttled, not as failed attempts" 1 "$(metric 'sendgate_retries_total{reason="throttled"}')"
sbx_config smtp.messages_per_minute=0

echo "# 5. the connection lost after the final dot: ambiguous"
stop_gateway
sbx_config faults.rate_504=1
n_before=$(ls "$T/save"/*.eml | wc -l)
start_gateway "${GW_ENV[@]}" --config "$T/gw.ini" SENDGATE_GATEWAY_AMBIGUOUS=fail
send --account exch --id amb-1 --from mbx@contoso.com --to bob@fabrikam.com --subject a --text a \
  >"$T/a1.out" 2>&1 && rc=0 || rc=$?
check "ambiguous = fail: FAILED SENDGATE_AMBIGUOUS" 1 "$(grep -c '^amb-1 FAILED attempts=1 .*error=SENDGATE_AMBIGUOUS' "$T/a1.out")"
check "the sandbox took it once" $((n_before + 1)) "$(ls "$T/save"/*.eml | wc -l)"
stop_gateway
sbx_config faults.rate_504=0.5 faults.seed=7
start_gateway "${GW_ENV[@]}" --config "$T/gw.ini"
rcli del sendgate:results >/dev/null
queue_jobs 20 --senders 2 --account exch --prefix amb
wait_results 20 60
check "ambiguous = resend: all SENT" 20 "$(summary SENT)"
check_ge "some marked SENDGATE_AMBIGUOUS" 1 "$(summary code:SENDGATE_AMBIGUOUS)"
check_ge "counted as ambiguous" 1 "$(metric 'sendgate_ambiguous_outcomes_total{backend="smtp"}')"
sbx_config faults.rate_504=0

echo "# 6. the daily quota: 5.2.0 SubmissionQuotaExceeded parks the mailbox"
sbx_config smtp.quota_mailboxes=full@contoso.com
"$SENDGATE" send --account exch --id quota-1 --from full@contoso.com --to bob@fabrikam.com \
  --subject q --text q >/dev/null
delayed() { [ "$(rcli zcard sendgate:delayed)" -ge 1 ]; }
wait_for delayed || true
check "the job waits in the delayed set" 1 "$(rcli zcard sendgate:delayed)"
check "no result for it" "" "$(rcli xrange sendgate:results - + | grep -a quota-1 || true)"

echo "# 7. SMTPUTF8: a non-ASCII mailbox"
send --account exch --id utf-1 --from mbx@contoso.com --to "$(printf 'j\xc3\xb6rg')@fabrikam.com" \
  --subject u --text u >"$T/u1.out" 2>&1 && rc=0 || rc=$?
check "SENT" 0 "$rc"
last=$(ls "$T/save"/*.env | sort -V | tail -1)
check "MAIL FROM carried SMTPUTF8" 1 "$(grep -c '^params .*SMTPUTF8' "$last")"

echo "# 8. a token that expired: 535 5.7.3, a new token, one more try"
fetches0=$(metric 'sendgate_token_fetches_total{account="exch"}')
sbx_config smtp.expire_tokens=1
send --account exch --id tok-1 --from fresh1@contoso.com --to bob@fabrikam.com --subject t \
  --text t >"$T/t1.out" 2>&1 && rc=0 || rc=$?
check "one 535: SENT on the second attempt" "0 1" "$rc $(grep -c '^tok-1 SENT attempts=2 ' "$T/t1.out")"
check "a new token was fetched" $((fetches0 + 1)) "$(metric 'sendgate_token_fetches_total{account="exch"}')"
sbx_config smtp.expire_tokens=2
send --account exch --id tok-2 --from fresh2@contoso.com --to bob@fabrikam.com --subject t \
  --text t >"$T/t2.out" 2>&1 && rc=0 || rc=$?
check "two 535 in a row: FAILED 5.7.3" 1 \
  "$(grep -c '^tok-2 FAILED attempts=2 http=535 error=5.7.3' "$T/t2.out")"
stop_gateway
finish
