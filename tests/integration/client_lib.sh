# Shared by tests/integration/test_client_{python,node,c}.sh (sourced after
# lib.sh): the gateway and sandbox every client library runs against, and the
# assertions on what a client's driver printed (one JSON line per case, the
# same cases and names in every language) and on what the sandbox received.

# start_client_env: Redis, the sandbox (ACS operations step fast) and a
# gateway with a named ACS account "transactional" beside the default Graph one.
start_client_env() {
  start_redis
  start_sandbox --set acs.op_step_ms=50
  printf '[account.transactional]\ntype = acs\n' >"$T/gateway.conf"
  start_gateway SENDGATE_GATEWAY_RETRY_BASE_MS=10 \
    SENDGATE_ACCOUNT_TRANSACTIONAL_CONNECTION_STRING="$SENDGATE_ACS_CONNECTION_STRING" \
    --config "$T/gateway.conf"
}

# line CASE: the driver's JSON line for CASE.
line() { jq -c --arg c "$1" 'select(.case == $c)' "$OUT"; }
field() { line "$1" | jq -r "$2"; }

# client_checks L: asserts the driver output in $OUT (job ids prefixed L).
client_checks() {
  local l=$1
  check "plain: SENT" SENT "$(field plain .status)"
  check "plain: job id as given" "$l-plain" "$(field plain .job_id)"
  check "plain: metadata echoed" "42 $l" "$(field plain '.metadata.order + " " + .metadata.lang')"
  check "plain: graph" GRAPH "$(field plain .backend)"
  check "plain: the result names the sender" "sender-1@contoso.com" "$(field plain .sender)"
  check "html: SENT" SENT "$(field html .status)"
  check "attachments: SENT" SENT "$(field attach .status)"
  check "mime: SENT" SENT "$(field mime .status)"
  check "acs: SENT by ACS" "SENT ACS" "$(field acs '.status + " " + .backend')"
  check "acs: operation id" true "$(field acs '.operation_id != ""')"
  check "named account: SENT by its ACS resource" "SENT ACS $l-named" "$(field named '.status + " " + .backend + " " + .job_id')"
  check "bounce: Failed" "Failed FAILED" "$(field failed '.error + " " + .status')"
  check "invalid: InvalidJob" "InvalidJob INVALID SENDGATE_BAD_ADDRESS $l-invalid" \
    "$(field invalid '.error + " " + .status + " " + .code + " " + .job_id')"
  check "unknown account" "UnknownAccount INVALID SENDGATE_UNKNOWN_ACCOUNT" \
    "$(field account '.error + " " + .status + " " + .code')"
  check "deadline passed: Expired" "Expired EXPIRED SENDGATE_DEADLINE" \
    "$(field expired '.error + " " + .status + " " + .code')"
  check "generated ids: distinct, echoed, SENT" "true true SENT" \
    "$(field generated '"\(.distinct) \(.same) \(.status)"')"
  check "reply stream: results read back" "$l-reply-0 $l-reply-1 $l-reply-2" "$(field reply '.ids | join(" ")')"
  check "reply stream: all SENT, metadata" "SENT 0 1 2 true" \
    "$(field reply '"\(.statuses | join(" ")) \(.metadata | join(" ")) \(.cursor)"')"
  check "same id again on the shared reply stream: not sent twice" "SENT SENDGATE_DUPLICATE $l-plain true" \
    "$(field duplicate '"\(.status) \(.code) \(.job_id) \(.dup)"')"
  check "timeout: Timeout" Timeout "$(field timeout .error)"
  check "bad id: refused locally" JobError "$(field local .error)"
  check "reply stream outside the prefix: refused locally" JobError "$(field reply_prefix .error)"
  sandbox_checks "$l"
}

# sandbox_checks L: what the sandbox received from the L driver.
sandbox_checks() {
  local l=$1 m
  curl -sf --cacert "$CA" "$SBX/sandbox/messages?limit=1000" >"$T/messages.json"
  m() { jq -c --arg s "$1" '[.[] | .message | select(.subject == $s)][0]' "$T/messages.json"; }
  check "sandbox: plain" "sender-1@contoso.com r@example.com text" \
    "$(m "$l plain" | jq -r '.mailbox + " " + .to[0].address + " " + .body_kind')"
  check "sandbox: html, cc, reply-to, header" "html c@example.com help@contoso.com X-Client=$l" \
    "$(m "$l html" | jq -r '.body_kind + " " + .cc[0].address + " " + .reply_to[0].address + " " + .headers[0].name + "=" + .headers[0].value')"
  check "sandbox: attachments" "logo.png report.csv" \
    "$(m "$l attach" | jq -r '[.attachments[].name] | sort | join(" ")')"
  check "sandbox: mime" "mime" "$(m "$l mime" | jq -r .body_kind)"
  check "sandbox: nothing for refused jobs" 0 \
    "$(jq '[.[] | select((.message.subject // "") == "s")] | length' "$T/messages.json")"
  check "sandbox: reply-stream jobs" 3 \
    "$(jq --arg s "$l reply" '[.[] | select(.message.subject == $s)] | length' "$T/messages.json")"
}
