#!/usr/bin/env bash
# Delivery status notifications (issue 13): a message smtpd accepted that the
# provider then refuses comes back to its envelope sender as an RFC 3464 DSN,
# sent through the gateway (the sandbox's Graph) from smtp.bounce_sender; a
# message sent fine, one from a mailer-daemon path, one that is a notification
# itself and one refused at MAIL FROM:<> get none; with bounce_sender unset
# nothing is sent (and a result that came meanwhile is done once it is set).
# The sandbox refuses address literals as recipients (ErrorInvalidRecipients),
# which the gateway and smtpd accept.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtpd_lib.sh"
start_redis
start_sandbox --set record.memory=1000
make_certs
smtp_ports
add_user scanner 'correct horse battery' scanner@contoso.com MAILER-DAEMON@contoso.com
# The watcher's group, as smtpd makes it at its first start with a bounce
# sender (at `$`): results that come while it is off are done when it is back.
rcli XGROUP CREATE sendgate:results sendgate-smtpd '$' MKSTREAM >/dev/null
start_smtpd SENDGATE_SMTP_LISTEN_RELAY=off
start_gateway

BAD='bob@[192.0.2.1]'
# send FROM TO SUBJECT [EXTRA HEADER LINE]: submits one message; prints the queue id.
send() {
  {
    printf 'From: Scanner <%s>\nTo: %s\nSubject: %s\nMessage-ID: <%s@contoso.com>\n' \
      "$1" "$2" "$3" "$(echo "$3" | tr ' ' '-')"
    [ -n "${4:-}" ] && printf '%s\n' "$4"
    printf '\nthe scan\n'
  } >"$T/msg.eml"
  swaks --server 127.0.0.1 --port "$SUB_PORT" --tls --tls-verify --tls-ca-path "$T/ca" \
    --auth PLAIN --auth-user scanner --auth-password 'correct horse battery' \
    --from "$1" --to "$2" --data "$T/msg.eml" >"$T/swaks.log" 2>&1 || true
  sed -n 's/.*250 2.0.0 Ok: queued as \(smtp-[0-9a-f]*\).*/\1/p' "$T/swaks.log"
}
has_result() { rcli XRANGE sendgate:results - + | grep -qa -- "$1"; }
group_field() { # the result watcher's consumer group: pending, lag, ...
  rcli XINFO GROUPS sendgate:results | awk -v k="$1" 'p == k {print; exit} {p = $0}'
}
caught_up() { [ "$(group_field pending)" = 0 ] && [ "$(group_field lag)" = 0 ]; }
msgs() { curl -sf --cacert "$CA" "$SBX/sandbox/messages?limit=100" | jq -c '(if type == "array" then . else .messages end) | map(.message)'; }
# dsn_jobs: the notification jobs now in the jobs stream (the gateway deletes
# the jobs it has done, so this sees them only while it is stopped).
dsn_jobs() { dump_jobs >/dev/null; cat "$T"/jobs/*.meta 2>/dev/null | grep -c '^id dsn-' || true; }

# bounce_sender unset: a refused recipient FAILs and nothing is sent; the
# result stays unread by the watcher's group.
A=$(send scanner@contoso.com "$BAD" "dsn please")
check "refused recipient: 250 with a job id" 1 "$([ -n "$A" ] && echo 1 || echo 0)"
wait_for has_result "$A"
check "the original FAILED" 1 "$(summary FAILED)"
stop_gateway
stop_smtpd
check "no bounce sender: its result unread" 1 "$(group_field lag)"
check "no bounce sender: nothing at the sandbox" 0 "$(msgs | jq -r '[.[] | select(.mailbox == "postmaster@contoso.com")] | length')"
check "no bounce sender: no notification job" 0 "$(dsn_jobs)"

# With the bounce sender (the gateway still stopped, so the job stays in the
# stream to be read here): the DSN job for the refused recipient.
start_smtpd SENDGATE_SMTP_LISTEN_RELAY=off SENDGATE_SMTP_BOUNCE_SENDER=postmaster@contoso.com
wait_for caught_up
check "one notification job" 1 "$(dsn_jobs)"
check "metric: one notification" 1 "$(metric sendgate_smtp_dsn_sent_total)"
META=$(grep -l "^id dsn-$A\$" "$T"/jobs/*.meta)
MIME=${META%.meta}.mime
check "job from the bounce sender" "sender postmaster@contoso.com" "$(grep '^sender ' "$META")"
check "job to the envelope sender" "to scanner@contoso.com" "$(grep '^to ' "$META")"
has() { grep -qF -- "$1" "$MIME" && echo yes || echo "no: $1"; }
check "multipart/report" yes "$(has 'Content-Type: multipart/report; report-type=delivery-status;')"
check "a message/delivery-status part" yes "$(has 'Content-Type: message/delivery-status')"
check "Reporting-MTA" yes "$(has 'Reporting-MTA: dns; smtp.test')"
check "Arrival-Date" yes "$(has 'Arrival-Date: ')"
check "Final-Recipient" yes "$(has "Final-Recipient: rfc822; $BAD")"
check "Action" yes "$(has 'Action: failed')"
check "Status 5.0.0" yes "$(has 'Status: 5.0.0')"
check "the provider's code" yes "$(has 'Diagnostic-Code: X-Sendgate; ErrorInvalidRecipients (HTTP 400)')"
check "marked auto-replied" yes "$(has 'Auto-Submitted: auto-replied')"
check "the original's headers" yes "$(has 'Content-Type: text/rfc822-headers')"
check "the original's Subject" yes "$(has 'Subject: dsn please')"
check "the original's Message-ID" yes "$(has 'Message-ID: <dsn-please@contoso.com>')"
check "the original's Received: with its queue id" yes "$(has "with ESMTPSA id $A;")"
check "CRLF line ends only" 0 "$(grep -cv $'\r$' "$MIME" || true)"

# The gateway sends it through the sandbox's Graph.
start_gateway
wait_for has_result "dsn-$A"
check "the notification SENT" 1 "$(summary SENT)"
M=$(msgs | jq -c '[.[] | select(.mailbox == "postmaster@contoso.com")]')
check "one notification at the sandbox" 1 "$(jq -r length <<<"$M")"
check "to the envelope sender only" scanner@contoso.com "$(jq -r '[.[0] | .to[].address, .cc[].address, .bcc[].address] | join(",")' <<<"$M")"
check "its subject" "Undelivered Mail Returned to Sender: dsn please" "$(jq -r '.[0].subject' <<<"$M")"
check "sent as MIME" mime "$(jq -r '.[0].body_kind' <<<"$M")"

# Sent fine, a mailer-daemon path, a notification itself: none.
B=$(send scanner@contoso.com alice@fabrikam.example "all good")
C=$(send MAILER-DAEMON@contoso.com "$BAD" "from a daemon")
D=$(send scanner@contoso.com "$BAD" "a bounce itself" "Auto-Submitted: auto-replied")
check "three more queued" 3 "$(printf '%s\n' "$B" "$C" "$D" | grep -c '^smtp-')"
wait_for has_result "$B"
wait_for has_result "$C"
wait_for has_result "$D"
wait_for caught_up # the watcher has read (and acked) every result: XADD comes before XACK
check "SENT: the message and the notification" 2 "$(summary SENT)"
check "FAILED: three" 3 "$(summary FAILED)"
check "no notification for them" 0 "$(rcli XRANGE sendgate:results - + | grep -ac -e "dsn-$B" -e "dsn-$C" -e "dsn-$D" || true)"
check "still one at the sandbox" 1 "$(msgs | jq -r '[.[] | select(.mailbox == "postmaster@contoso.com")] | length')"
check "metric: still one" 1 "$(metric sendgate_smtp_dsn_sent_total)"

# The null sender is refused before DATA: no job, so nothing to bounce.
swaks --server 127.0.0.1 --port "$SUB_PORT" --tls --tls-verify --tls-ca-path "$T/ca" \
  --auth PLAIN --auth-user scanner --auth-password 'correct horse battery' \
  --from '<>' --to "$BAD" --body x >"$T/swaks-null.log" 2>&1 || true
check "MAIL FROM:<> refused" 1 "$(grep -c '^<~\*\? *550 ' "$T/swaks-null.log")"

# Redis restarts empty: the watcher reconnects, makes its group again (at `$`)
# and goes on.
stop_redis
restart_redis
group_exists() { rcli XINFO GROUPS sendgate:results | grep -qx sendgate-smtpd; }
wait_for group_exists
wait_for curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz"
F=$(send scanner@contoso.com "$BAD" "after a restart")
check "after a restart: queued" 1 "$([ -n "$F" ] && echo 1 || echo 0)"
wait_for has_result "dsn-$F"
check "after a restart: the notification SENT" 1 "$(summary SENT)"
check "after a restart: two at the sandbox" 2 "$(msgs | jq -r '[.[] | select(.mailbox == "postmaster@contoso.com")] | length')"
check "metric: two" 2 "$(metric sendgate_smtp_dsn_sent_total)"

stop_gateway
stop_smtpd

# A bounce sender that is not an address: smtpd refuses to start.
env SENDGATE_SMTP_LISTEN=off SENDGATE_SMTP_LISTEN_RELAY="127.0.0.1:$RELAY_PORT" \
  SENDGATE_SMTP_RELAY_NETWORKS=127.0.0.1/32 SENDGATE_SMTP_RELAY_SENDERS=@contoso.com \
  SENDGATE_SMTP_BOUNCE_SENDER='postmaster' SENDGATE_HTTP_LISTEN="127.0.0.1:$ADMIN_PORT" \
  timeout 10 "$SENDGATE" smtpd >/dev/null 2>"$T/bad-bounce.log" && rc=0 || rc=$?
check "a bad bounce sender: smtpd does not start" yes \
  "$([ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q SENDGATE_SMTP_BOUNCE_SENDER "$T/bad-bounce.log" && echo yes)"
finish
