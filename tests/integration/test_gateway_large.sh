#!/usr/bin/env bash
# Large Graph messages end to end (issue 14): a structured job with a 20 MB
# PDF-like attachment (random bytes) and a small one goes as a draft, an
# upload session in ranges and a send, and arrives at the sandbox's Graph
# byte-exact as one sent message; without Mail.ReadWrite it is FAILED with
# SENDGATE_GRAPH_NEEDS_MAIL_READWRITE; a gateway killed (SIGKILL) in the
# middle of an upload and restarted sends the message exactly once; over the
# account's max_send_bytes it is INVALID SENDGATE_TOO_LARGE; injected faults
# on every step still give one message; a send whose answer is lost with
# gateway.ambiguous = fail is FAILED SENDGATE_AMBIGUOUS and sent once.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox --set record.violation_grace_ms=0
export SENDGATE_GATEWAY_REAPER_MIN_IDLE_MS=600000

# A PDF-like file: a PDF header, then 20 MB of random bytes.
{ printf '%%PDF-1.7\n'; head -c 20000000 /dev/urandom; } >"$T/report.pdf"
head -c 150000 /dev/urandom >"$T/small.bin"
PDF_SHA=$(sha256sum "$T/report.pdf" | cut -d' ' -f1)
SMALL_SHA=$(sha256sum "$T/small.bin" | cut -d' ' -f1)

send() { # ID SUBJECT [extra args] -> exit code of sendgate send
  local id=$1 subject=$2
  shift 2
  "$SENDGATE" send --from big@contoso.com --to r@b.example --subject "$subject" \
    --text "see attached" --attach "$T/report.pdf:application/pdf" \
    --attach "$T/small.bin:application/octet-stream" --id "$id" "$@" >"$T/send.$id.out" 2>&1
}
# msgs_with SUBJECT: messages the sandbox recorded with that subject.
msgs_with() {
  curl -sf --cacert "$CA" "$SBX/sandbox/messages?limit=1000" |
    jq --arg s "$1" '[.[] | select(.message.subject == $s)] | length'
}
start_gateway
echo "# a 20 MB attachment and a small one, as one message"
send large-1 "scan 1" --wait --timeout 120 && rc=0 || rc=$?
check "sent" "0" "$rc"
check "one message" "1" "$(msgs_with "scan 1")"
curl -sf --cacert "$CA" "$SBX/sandbox/messages?limit=1000" |
  jq -c '[.[] | select(.message.subject == "scan 1")][0].message' >"$T/m1.json"
check "attachments" "report.pdf small.bin" "$(jq -r '[.attachments[].name] | sort | join(" ")' "$T/m1.json")"
check "pdf byte-exact" "$PDF_SHA" "$(jq -r '.attachments[] | select(.name == "report.pdf") | .sha256' "$T/m1.json")"
check "pdf size" "$(stat -c %s "$T/report.pdf")" "$(jq -r '.attachments[] | select(.name == "report.pdf") | .size' "$T/m1.json")"
check "pdf type" "application/pdf" "$(jq -r '.attachments[] | select(.name == "report.pdf") | .content_type' "$T/m1.json")"
check "small byte-exact" "$SMALL_SHA" "$(jq -r '.attachments[] | select(.name == "small.bin") | .sha256' "$T/m1.json")"
check "recipient" "r@b.example" "$(jq -r '.to[0].address' "$T/m1.json")"
check "as a draft" "1 1" "$(sbx_stat '"\(.drafts_sent) \(.uploads_completed)"')"
check_ge "in several ranges" 6 "$(sbx_stat .upload_ranges)"
check "no upload throttle" "0" "$(sbx_stat .throttled_upload)"
check "draft record kept" "1" "$(rcli --scan --pattern 'sendgate:draft:*' | wc -l)"

echo "# Mail.Send without Mail.ReadWrite"
sbx_config graph.mail_readwrite=false
send large-2 "scan 2" --wait --timeout 60 && rc=0 || rc=$?
check "not sent" "true" "$([ "$rc" -ne 0 ] && echo true)"
check "FAILED with the code" "1" "$(grep -c 'FAILED.*SENDGATE_GRAPH_NEEDS_MAIL_READWRITE' "$T/send.large-2.out" || true)"
check "says which permission" "1" "$(grep -c 'Mail.ReadWrite' "$T/send.large-2.out" || true)"
check "nothing sent" "0" "$(msgs_with "scan 2")"
sbx_config graph.mail_readwrite=true

echo "# refused for good: the draft does not stay in the mailbox"
sbx_config graph.attachment_max=10000000
deleted=$(sbx_stat .drafts_deleted)
send large-7 "scan 7" --wait --timeout 60 || true
check "FAILED with Graph's code" "1" "$(grep -c 'FAILED.*ErrorAttachmentSizeShouldNotBeMoreThanMaximumSize' "$T/send.large-7.out" || true)"
check "its draft deleted" "$((deleted + 1))" "$(sbx_stat .drafts_deleted)"
check "nothing sent" "0" "$(msgs_with "scan 7")"
sbx_config graph.attachment_max=157286400

echo "# over max_send_bytes"
stop_gateway
start_gateway SENDGATE_GRAPH_MAX_SEND_BYTES=10000000
send large-3 "scan 3" --wait --timeout 60 || true
check "INVALID too large" "1" "$(grep -c 'INVALID.*SENDGATE_TOO_LARGE' "$T/send.large-3.out" || true)"
stop_gateway

echo "# killed in the middle of an upload"
# Every answer comes 300 ms late, so the upload takes seconds and the kill
# lands between two ranges (the test waits for the second range).
sbx_config faults.latency_ms=300
start_gateway
BASE=$(sbx_stat .upload_ranges)
uploading() { [ "$(sbx_stat .upload_ranges)" -ge $((BASE + 2)) ]; }
send large-4 "scan 4"
wait_for uploading
check_ge "upload under way" $((BASE + 2)) "$(sbx_stat .upload_ranges)"
kill -KILL "$GATEWAY_PID"
wait "$GATEWAY_PID" 2>/dev/null || true
check "not sent before the restart" "0" "$(msgs_with "scan 4")"
sbx_config faults.latency_ms=0
start_gateway
wait_results 1 60
check "sent after the restart" "1" "$(summary SENT)"
check "exactly once" "1" "$(msgs_with "scan 4")"
check "no duplicate" "0" "$(sbx_stat .duplicates)"
check_ge "the old draft deleted" 1 "$(sbx_stat .drafts_deleted)"
check "bytes of the one sent" "$PDF_SHA" "$(curl -sf --cacert "$CA" "$SBX/sandbox/messages?limit=1000" | jq -r '[.[] | select(.message.subject == "scan 4")][0].message.attachments[] | select(.name == "report.pdf") | .sha256')"

stop_gateway

echo "# stopped (SIGTERM) in the middle of an upload"
sbx_config faults.latency_ms=300
start_gateway
BASE=$(sbx_stat .upload_ranges)
send large-8 "scan 8"
wait_for uploading
stop_gateway && rc=0 || rc=$?
check "stopped cleanly" "0" "$rc"
check "not sent while stopping" "0" "$(msgs_with "scan 8")"
check "left pending" "1" "$(rcli xpending sendgate:jobs sendgate | head -1)"
sbx_config faults.latency_ms=0
start_gateway
wait_results 2 60
check "sent after the restart" "2" "$(summary SENT)"
check "exactly once" "1" "$(msgs_with "scan 8")"
check "no duplicate" "0" "$(sbx_stat .duplicates)"

echo "# faults on every step"
# Answers refused (500, 503 with Retry-After, 504) or connections dropped
# before the request is processed: each step is retried on its own.
sbx_config faults.rate_500=0.1 faults.rate_503=0.1 faults.retry_after_s=0.2 faults.rate_504=0.1 \
  faults.rate_drop=0.05 faults.seed=7
send large-5 "scan 5" --wait --timeout 120 && rc=0 || rc=$?
check "sent despite faults" "0" "$rc"
check_ge "faults were hit" 1 "$(sbx_stat '.faults["500"] + .faults["503"] + .faults["504"] + .faults.drop')"
check "one message" "1" "$(msgs_with "scan 5")"
check "no duplicate" "0" "$(sbx_stat .duplicates)"
check "bytes" "$PDF_SHA" "$(curl -sf --cacert "$CA" "$SBX/sandbox/messages?limit=1000" | jq -r '[.[] | select(.message.subject == "scan 5")][0].message.attachments[] | select(.name == "report.pdf") | .sha256')"
sbx_config faults.rate_500=0 faults.rate_503=0 faults.rate_504=0 faults.rate_drop=0
stop_gateway

echo "# the send's answer lost, gateway.ambiguous = fail"
sbx_config faults.delay_202_rate=1 faults.delay_202_ms=4000
start_gateway SENDGATE_GATEWAY_AMBIGUOUS=fail SENDGATE_GATEWAY_REQUEST_TIMEOUT_MS=2000
send large-6 "scan 6" --wait --timeout 60 || true
check "FAILED ambiguous" "1" "$(grep -c 'FAILED.*SENDGATE_AMBIGUOUS' "$T/send.large-6.out" || true)"
check "sent once" "1" "$(msgs_with "scan 6")"
sbx_config faults.delay_202_rate=0
stop_gateway

echo "# the lane counts upload bytes"
# Both sides allow 30 MB per 5 minutes: after a 20 MB message the next one is
# held by the gateway's lane (its byte window), not refused by Graph.
MPORT=$(free_port)
sbx_config graph.upload_bytes=30000000
# The uploads above are in the mailbox's shared byte window (sendgate:budget:*,
# as Graph counts them too); this part starts both windows empty.
rcli --scan --pattern 'sendgate:budget:*' | xargs -r redis-cli -p "$REDIS_PORT" del >/dev/null
start_gateway SENDGATE_GRAPH_MAILBOX_UPLOAD_BYTES_PER_5MIN=30000000 \
  SENDGATE_HTTP_LISTEN="127.0.0.1:$MPORT"
send large-9 "scan 9" --wait --timeout 120 && rc=0 || rc=$?
check "first sent" "0" "$rc"
parked0=$(rcli zcard sendgate:delayed)
send large-10 "scan 10"
lane_waits() {
  curl -sf "http://127.0.0.1:$MPORT/metrics" |
    awk '$1 == "sendgate_lanes_waiting{lane_kind=\"graph\"}" && $2 >= 1 {f = 1} END {exit !f}'
}
# Held: waiting in the lane, or (as it cannot start within gateway.hol_horizon_ms)
# parked by the lane in sendgate:delayed until its byte window frees; the
# lane parks it a moment after it starts waiting, so either counts. Seen once
# is the check: a second look can fall between the two (the lane has let the
# job go and the completion that parks it is not in Redis yet).
lane_holds() { lane_waits || [ "$(rcli zcard sendgate:delayed)" -gt "$parked0" ]; }
wait_for lane_holds && held=0 || held=1
check "held by the lane" "0" "$held"
check "not throttled by Graph" "0" "$(sbx_stat .throttled_upload)"
check "second not sent yet" "0" "$(msgs_with "scan 10")"
stop_gateway
finish
