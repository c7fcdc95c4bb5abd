#!/usr/bin/env bash
# SMTP in, Graph out (issue 13): a device submits over STARTTLS with AUTH to
# `sendgate smtpd`, the gateway sends the MIME through the sandbox's Graph to
# exactly the envelope: the Bcc recipient (in RCPT TO only) gets it, a header
# recipient outside the envelope does not; the result names the job id of the
# 250 reply. `sendgate sendmail -t` goes the same way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtpd_lib.sh"
start_redis
start_sandbox --set record.memory=1000
make_certs
smtp_ports
add_user scanner 'correct horse battery' scanner@contoso.com
start_smtpd SENDGATE_SMTP_LISTEN_RELAY=off
start_gateway

cat >"$T/msg.eml" <<'MSG'
From: Scanner <scanner@contoso.com>
To: alice@fabrikam.example
Cc: list@fabrikam.example
Subject: scan to email

the scan
MSG
swaks --server 127.0.0.1 --port "$SUB_PORT" --tls --tls-verify --tls-ca-path "$T/ca" \
  --auth PLAIN --auth-user scanner --auth-password 'correct horse battery' \
  --from scanner@contoso.com --to alice@fabrikam.example,bob@fabrikam.example \
  --data "$T/msg.eml" >"$T/swaks.log" 2>&1 || true
ID=$(sed -n 's/.*250 2.0.0 Ok: queued as \(smtp-[0-9a-f]*\).*/\1/p' "$T/swaks.log")
check "250 with a job id" 1 "$([ -n "$ID" ] && echo 1 || echo 0)"
wait_results 1 30
check "SENT" 1 "$(summary SENT)"
check "the result is the 250's job" 1 "$("$TOOLS/sg_testjobs" summary "$SENDGATE_REDIS_URL" sendgate:results >/dev/null; rcli --no-raw XRANGE sendgate:results - + | grep -c "$ID")"
msgs() { curl -sf --cacert "$CA" "$SBX/sandbox/messages?limit=10" | jq -c '(if type == "array" then . else .messages end) | map(.message)'; }
M=$(msgs | jq -c '[.[] | select(.subject == "scan to email")][0]')
check "sent as MIME" mime "$(jq -r .body_kind <<<"$M")"
check "from the user's mailbox" scanner@contoso.com "$(jq -r .mailbox <<<"$M")"
check "To kept" alice@fabrikam.example "$(jq -r '[.to[].address] | join(",")' <<<"$M")"
check "the envelope-only recipient as Bcc" bob@fabrikam.example "$(jq -r '[.bcc[].address] | join(",")' <<<"$M")"
check "no Cc outside the envelope" 0 "$(jq -r '.cc | length' <<<"$M")"
check "two recipients in all" 2 "$(jq -r .recipients <<<"$M")"

# sendmail -t: recipients from the headers, Bcc removed from the bytes and kept in the envelope.
printf 'From: cron@contoso.com\nTo: ops@fabrikam.example\nBcc: audit@fabrikam.example\nSubject: nightly\n\nall good\n' |
  SENDGATE_SENDMAIL_SENDER=cron@contoso.com "$SENDGATE" sendmail -t
wait_results 2 30
check "sendmail: SENT" 2 "$(summary SENT)"
M=$(msgs | jq -c '[.[] | select(.subject == "nightly")][0]')
check "sendmail: To" ops@fabrikam.example "$(jq -r '[.to[].address] | join(",")' <<<"$M")"
check "sendmail: Bcc" audit@fabrikam.example "$(jq -r '[.bcc[].address] | join(",")' <<<"$M")"
stop_gateway
stop_smtpd
finish
